"""The runtime: the only place where workflow rules are enforced."""

from __future__ import annotations

from cswork.engine.engine import Engine
from cswork.engine.hooks import (
    CaseView,
    HookCall,
    Hooks,
    LoggingNotifier,
    Notice,
    Notifier,
)

__all__ = [
    "CaseView",
    "Engine",
    "HookCall",
    "Hooks",
    "LoggingNotifier",
    "Notice",
    "Notifier",
]
