"""Session errors: one base class, specific subclasses, messages that say what to do."""

from __future__ import annotations


class SessionError(Exception):
    """Base class for everything the engine raises on purpose."""


class SessionNotFound(SessionError):
    """No session has the given id or name."""


class SessionAlreadyExists(SessionError):
    """A session with that name or id is already registered."""


class PtyError(SessionError):
    """The pseudo-terminal could not be opened, read, written or resized."""


class ProcessError(SessionError):
    """The child process is missing, could not start, or is no longer running."""


class SessionBusy(SessionError):
    """The session's shell is not at an empty prompt: a program runs in the foreground or a
    line is half typed. `command` names what runs (None when it is the shell itself)."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


class IncompleteCommand(SessionError):
    """`execute()` typed a command the shell found unfinished (an open quote, a trailing `|`
    or `\\`): it asked for more with its continuation prompt. The line was cancelled."""


class PermissionDenied(SessionError):
    """A policy or the operating system refused the operation."""


class ResourceExhausted(SessionError):
    """A buffer, queue or system resource is full."""


# The seed's short names, so `from engine.errors import NotFound` reads like its docs.
NotFound = SessionNotFound
AlreadyExists = SessionAlreadyExists


class StoreError(SessionError):
    """The database could not do what was asked: it is full, read-only, damaged, locked, from
    a newer version, or has no such record. `code` says which (one of the constants below), so
    a caller can answer 404 for NOT_FOUND and keep running without persistence otherwise."""

    NOT_FOUND = "NOT_FOUND"
    FULL = "FULL"
    READ_ONLY = "READ_ONLY"
    CORRUPT = "CORRUPT"
    NEWER = "NEWER"
    BUSY = "BUSY"
    CLOSED = "CLOSED"
    IO = "IO"

    def __init__(self, message: str, code: str = IO) -> None:
        super().__init__(message)
        self.code = code


class CoordinationError(SessionError):
    """The agent bus, the task distributor, the decision tracker or the tracer refused a
    request: an unknown agent, task, decision or span, a payload too large, a value out of
    range, or a state that does not allow it. `code` says which, so the API can answer 404,
    413, 400 or 409."""

    NOT_FOUND = "NOT_FOUND"
    TOO_LARGE = "TOO_LARGE"
    INVALID = "INVALID"
    CONFLICT = "CONFLICT"

    def __init__(self, message: str, code: str = INVALID) -> None:
        super().__init__(message)
        self.code = code
