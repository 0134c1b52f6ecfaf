"""cswork: customer-service SOPs as state machines.

Process owners write each SOP as a YAML workflow; the ``Engine`` loads them,
allows only the declared transitions, checks roles and data, runs deadlines
in working or wall-clock time, and keeps every case and its history in a
``Store``.
"""

from __future__ import annotations

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
from cswork.errors import (
    CaseNotFoundError,
    ClockError,
    ConditionNotMetError,
    ConflictError,
    CsworkError,
    DefinitionChangedError,
    DefinitionError,
    IllegalEventError,
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

__version__ = "0.1.0"

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "Case",
    "CaseChange",
    "CaseNotFoundError",
    "CaseQuery",
    "CaseView",
    "Clock",
    "ClockError",
    "ConditionNotMetError",
    "ConflictError",
    "CsworkError",
    "DefinitionChangedError",
    "DefinitionError",
    "Engine",
    "HistoryEntry",
    "HookCall",
    "Hooks",
    "IllegalEventError",
    "InvalidDataError",
    "LoggingNotifier",
    "Notice",
    "Notifier",
    "OutboxItem",
    "PermissionDeniedError",
    "Problem",
    "RejectedError",
    "StorageError",
    "StoredFormatError",
    "SystemClock",
    "Timer",
    "UnknownWorkflowError",
    "UnregisteredHookError",
    "VirtualClock",
    "WorkingCalendar",
    "__version__",
]
