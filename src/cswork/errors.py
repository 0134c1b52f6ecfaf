"""Every error cswork raises, under one root.

::

    CsworkError
    ├── DefinitionError            the YAML is wrong; .problems lists every problem found
    │   └── UnregisteredHookError      a condition or hook name nobody registered
    ├── DefinitionChangedError     a stored workflow version changed without a new version
    ├── UnknownWorkflowError       (also LookupError) no such workflow id / version
    ├── CaseNotFoundError          (also LookupError)
    ├── RejectedError              the engine said no, and nothing changed
    │   ├── IllegalEventError          event not allowed in the current state
    │   ├── PermissionDeniedError      the actor lacks a role the step needs
    │   ├── InvalidDataError           (also ValueError) missing or invalid fields
    │   └── ConditionNotMetError       a condition of the step is false
    ├── ConflictError              another writer changed the case first; safe to retry
    ├── StorageError               the backend failed; the driver error is __cause__
    │   └── StoredFormatError          data written by a newer cswork, or unreadable
    ├── InvalidArgumentError       (also TypeError, ValueError) a call's argument is unusable
    └── ClockError                 (also ValueError) naive datetime, time moved backwards

Every ``RejectedError`` guarantees that the store, the history and the timers
are exactly as they were before the call.

Every error says whether trying the same call again can help: ``retryable``
is True for ``ConflictError`` (decide again on the case as it is now) and for
a ``StorageError`` whose cause is transient (a locked SQLite file, a dropped
PostgreSQL connection, a serialization failure), False for everything else —
a refusal stays a refusal until something changes. ``cswork.retry`` retries
on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal


class CsworkError(Exception):
    """Root of every error raised by cswork.

    Attributes:
        retryable: True if the same call may succeed when simply tried again
            (a lost race, a database that was briefly unavailable); False if
            something must change first (the data, the actor, the case's
            state, the program). ``cswork.retry`` retries on it.
    """

    retryable: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a definition file.

    Attributes:
        file: path of the file as given to the loader.
        line: 1-based line, or 0 when unknown.
        column: 1-based column, or 0 when unknown.
        message: what is wrong, in one sentence.
        hint: a suggestion such as "did you mean 'cs_lead'?", or "".
        severity: ``error`` (the file cannot be used) or ``warning`` (it can,
            but a case may wait for ever or without an owner; ``cswork
            validate --strict`` refuses it too).
    """

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        what = "warning: " if self.severity == "warning" else ""
        text = f"{self.file}:{self.line}:{self.column}: {what}{self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class DefinitionError(CsworkError):
    """A workflow or calendar definition is invalid.

    Attributes:
        problems: every problem found, in file order; never empty.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = [str(p) for p in self.problems]
        head = f"{len(lines)} problem(s) in definition" if len(lines) > 1 else ""
        super().__init__("\n".join([head, *lines]) if head else lines[0])


class UnregisteredHookError(DefinitionError):
    """A definition names a condition or hook that the program did not register."""


class DefinitionChangedError(CsworkError):
    """A workflow version is stored with different content: bump its version.

    Attributes:
        workflow_id: the workflow.
        version: the version whose content differs.
    """

    def __init__(self, workflow_id: str, version: int) -> None:
        self.workflow_id = workflow_id
        self.version = version
        super().__init__(
            f"workflow {workflow_id!r} version {version} differs from the one "
            "already stored; running cases are pinned to it, so give the changed "
            "file a new 'version'"
        )


class UnknownWorkflowError(CsworkError, LookupError):
    """No workflow with this id (and version) is loaded or stored.

    Attributes:
        workflow_id: the id asked for.
        version: the version asked for, or None for "the latest".
        known: the workflow ids that are loaded.
    """

    def __init__(
        self, workflow_id: str, version: int | None = None, known: Sequence[str] = ()
    ) -> None:
        self.workflow_id = workflow_id
        self.version = version
        self.known = tuple(known)
        what = f"{workflow_id!r}" + (f" version {version}" if version else "")
        msg = f"unknown workflow {what}"
        if known:
            msg += f"; loaded: {', '.join(sorted(known))}"
        super().__init__(msg)


class CaseNotFoundError(CsworkError, LookupError):
    """No case with this id exists in the store.

    Attributes:
        case_id: the id asked for.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"no case {case_id!r}")


class RejectedError(CsworkError):
    """The engine refused a step; nothing was changed.

    Attributes:
        case_id: the case concerned ("" for a refused start).
        event: the event that was refused.
        state: the state the case is in.
        allowed: events the actor may fire from this state now.
    """

    def __init__(
        self,
        message: str,
        *,
        case_id: str = "",
        event: str = "",
        state: str = "",
        allowed: Sequence[str] = (),
    ) -> None:
        self.case_id = case_id
        self.event = event
        self.state = state
        self.allowed = tuple(allowed)
        super().__init__(message)


class IllegalEventError(RejectedError):
    """The event is not declared from the case's current state."""


class PermissionDeniedError(RejectedError):
    """The actor has none of the roles the step allows.

    Attributes:
        actor_id: who tried.
        required_roles: the roles that may take the step.
    """

    def __init__(
        self,
        message: str,
        *,
        actor_id: str,
        required_roles: Iterable[str],
        **kw: str | Sequence[str],
    ) -> None:
        self.actor_id = actor_id
        self.required_roles = tuple(sorted(required_roles))
        super().__init__(message, **kw)  # type: ignore[arg-type]


class InvalidDataError(RejectedError, ValueError):
    """The data given with a step is missing, unknown or of the wrong type.

    Attributes:
        field_errors: field name → what is wrong with it.
    """

    def __init__(
        self,
        message: str,
        *,
        field_errors: Mapping[str, str],
        **kw: str | Sequence[str],
    ) -> None:
        self.field_errors = dict(field_errors)
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ConditionNotMetError(RejectedError):
    """A condition of the step is false for this case.

    Attributes:
        condition: the condition, as written in the definition.
    """

    def __init__(self, message: str, *, condition: str, **kw: str | Sequence[str]):
        self.condition = condition
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ConflictError(CsworkError):
    """Another writer committed to the case first; nothing was written.

    Reload the case and try again (``retryable`` is True): ``cswork.retry``
    does it for a call that reads the case afresh.

    Attributes:
        case_id: the case concerned.
    """

    def __init__(self, case_id: str, detail: str = "") -> None:
        self.case_id = case_id
        msg = f"case {case_id!r} was changed by another writer"
        super().__init__(f"{msg}: {detail}" if detail else msg)

    retryable = True


# SQLite result codes (the primary code: the low byte of the extended one)
# that describe a passing condition: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR,
# SQLITE_PROTOCOL (a WAL lock race).
_SQLITE_TRANSIENT = frozenset({5, 6, 10, 15})
# SQLSTATE classes of PostgreSQL that describe a passing condition: connection
# exception, transaction rollback (serialization failure, deadlock),
# insufficient resources, operator intervention (a server restart); and
# lock_not_available.
_PG_TRANSIENT = ("08", "40", "53", "57", "55P03")
# psycopg and pool errors that carry no SQLSTATE: the connection itself failed.
_PG_CONNECTION = frozenset({"OperationalError", "InterfaceError", "PoolTimeout"})


def transient(cause: BaseException | None) -> bool:
    """Is a driver exception one that may pass when the call is tried again?

    Decided on the driver's error codes, never on message text: SQLite's
    busy, locked, I/O and WAL-protocol errors; PostgreSQL's connection,
    serialization, deadlock, resource and server-restart errors. A missing
    or corrupt file, a full disk, a closed store, a constraint or a missing
    driver are not transient.
    """
    if cause is None:
        return False
    code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_TRANSIENT
    state = getattr(cause, "sqlstate", None)
    if isinstance(state, str):
        return state.startswith(_PG_TRANSIENT)
    kind = type(cause)
    return kind.__module__.startswith("psycopg") and kind.__name__ in _PG_CONNECTION


class _ByCause:
    """``StorageError.retryable``: True on the class, decided by the cause on an error."""

    def __get__(self, obj: StorageError | None, owner: type) -> bool:
        if obj is None:
            return True
        if obj._retryable is not None:
            return obj._retryable
        return transient(obj.__cause__)


class StorageError(CsworkError):
    """The storage backend failed; the driver's exception is ``__cause__``.

    ``retryable`` (True for the class) is decided for each error by its
    cause (``transient``): a locked file or a dropped connection may pass, a
    missing file or a full disk will not. ``retryable=`` overrides it.
    """

    retryable = _ByCause()

    def __init__(self, *args: object, retryable: bool | None = None) -> None:
        super().__init__(*args)
        self._retryable = retryable


class StoredFormatError(StorageError):
    """Stored data cannot be read by this version of cswork."""

    retryable = False


class InvalidArgumentError(CsworkError, TypeError, ValueError):
    """An argument of a call is of the wrong type or out of range.

    This is a programming error of the caller (a limit of 0, an actor given as
    text), not a refusal of the workflow: nothing was read or written.
    """


class ClockError(CsworkError, ValueError):
    """A naive datetime was given, or a virtual clock was moved backwards."""
