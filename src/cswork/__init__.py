"""cswork: customer-service SOPs as state machines.

Process owners write each SOP as a YAML workflow; the ``Engine`` loads them,
allows only the declared transitions, checks roles and data, runs deadlines
in working or wall-clock time, and keeps every case and its history in a
``Store``.

The names below are imported on first use, so that ``import cswork`` (and
every ``cswork`` command) starts in milliseconds and loads the engine, the
definition models and the calendars only when they are needed.

cswork is a library: it logs to the ``cswork`` logger hierarchy and
configures no logging. A ``NullHandler`` on ``cswork`` keeps a program that
configures none from printing cswork's warnings to stderr through Python's
last-resort handler.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING, Any

logging.getLogger("cswork").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from cswork.aio import AsyncEngine, AsyncNotifier
    from cswork.calendar import WorkingCalendar
    from cswork.clock import Clock, SystemClock, VirtualClock
    from cswork.engine import (
        CaseView,
        Engine,
        HookCall,
        Hooks,
        LoggingNotifier,
        Notice,
        Notifier,
    )
    from cswork.engine.bus import Subscription
    from cswork.engine.customer import (
        CaseLink,
        CustomerCase,
        CustomerFile,
        OpenDeadline,
    )
    from cswork.engine.events import CaseEvent, DeadlineEvent, StepEvent
    from cswork.errors import (
        CaseNotFoundError,
        ClockError,
        ConditionNotMetError,
        ConflictError,
        CsworkError,
        DefinitionChangedError,
        DefinitionError,
        IllegalEventError,
        InvalidArgumentError,
        InvalidDataError,
        PermissionDeniedError,
        Problem,
        RejectedError,
        StorageError,
        StoredFormatError,
        UnknownWorkflowError,
        UnregisteredHookError,
    )
    from cswork.records import (
        SYSTEM_ACTOR,
        Actor,
        Case,
        CaseChange,
        CaseQuery,
        HistoryEntry,
        OutboxItem,
        Timer,
    )
    from cswork.retries import retry, retry_async, retrying
    from cswork.shipped import shipped_workflows

__version__ = "0.1.0"

#: Public name → the module that defines it.
_WHERE = {
    "AsyncEngine": "cswork.aio",
    "AsyncNotifier": "cswork.aio",
    "WorkingCalendar": "cswork.calendar",
    **dict.fromkeys(("Clock", "SystemClock", "VirtualClock"), "cswork.clock"),
    **dict.fromkeys(
        (
            "CaseView",
            "Engine",
            "HookCall",
            "Hooks",
            "LoggingNotifier",
            "Notice",
            "Notifier",
        ),
        "cswork.engine",
    ),
    **dict.fromkeys(
        ("CaseEvent", "DeadlineEvent", "StepEvent"), "cswork.engine.events"
    ),
    "Subscription": "cswork.engine.bus",
    **dict.fromkeys(
        ("CaseLink", "CustomerCase", "CustomerFile", "OpenDeadline"),
        "cswork.engine.customer",
    ),
    **dict.fromkeys(
        (
            "CaseNotFoundError",
            "ClockError",
            "ConditionNotMetError",
            "ConflictError",
            "CsworkError",
            "DefinitionChangedError",
            "DefinitionError",
            "IllegalEventError",
            "InvalidArgumentError",
            "InvalidDataError",
            "PermissionDeniedError",
            "Problem",
            "RejectedError",
            "StorageError",
            "StoredFormatError",
            "UnknownWorkflowError",
            "UnregisteredHookError",
        ),
        "cswork.errors",
    ),
    **dict.fromkeys(
        (
            "SYSTEM_ACTOR",
            "Actor",
            "Case",
            "CaseChange",
            "CaseQuery",
            "HistoryEntry",
            "OutboxItem",
            "Timer",
        ),
        "cswork.records",
    ),
    **dict.fromkeys(("retry", "retry_async", "retrying"), "cswork.retries"),
    "shipped_workflows": "cswork.shipped",
}

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "AsyncEngine",
    "AsyncNotifier",
    "Case",
    "CaseChange",
    "CaseEvent",
    "CaseLink",
    "CaseNotFoundError",
    "CaseQuery",
    "CaseView",
    "Clock",
    "ClockError",
    "ConditionNotMetError",
    "ConflictError",
    "CsworkError",
    "CustomerCase",
    "CustomerFile",
    "DeadlineEvent",
    "DefinitionChangedError",
    "DefinitionError",
    "Engine",
    "HistoryEntry",
    "HookCall",
    "Hooks",
    "IllegalEventError",
    "InvalidArgumentError",
    "InvalidDataError",
    "LoggingNotifier",
    "Notice",
    "Notifier",
    "OpenDeadline",
    "OutboxItem",
    "PermissionDeniedError",
    "Problem",
    "RejectedError",
    "StepEvent",
    "StorageError",
    "StoredFormatError",
    "Subscription",
    "SystemClock",
    "Timer",
    "UnknownWorkflowError",
    "UnregisteredHookError",
    "VirtualClock",
    "WorkingCalendar",
    "__version__",
    "retry",
    "retry_async",
    "retrying",
    "shipped_workflows",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cswork' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
