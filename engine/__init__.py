"""The ai-session engine: sessions on real PTYs, a terminal model, and the records around them.

A library first: pure asyncio, no UI. Everything the app, the HTTP API and the CLI do goes
through it.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `engine.paths` stays cheap

# Names load on first use (PEP 562): the CLI imports `engine.paths` for every `ai-session list`
# and must not pay for pyte and the PTY code to find a socket. Type checkers see the imports.
if TYPE_CHECKING:
    from engine.config import ContextConfig, SessionConfig
    from engine.errors import (
        IncompleteCommand,
        PermissionDenied,
        ProcessError,
        PtyError,
        ResourceExhausted,
        SessionAlreadyExists,
        SessionBusy,
        SessionError,
        SessionNotFound,
    )
    from engine.events import Event, EventLog
    from engine.history import CommandHistory, CommandRecord
    from engine.manager import SessionManager
    from engine.output import OutputParser, ParsedOutput
    from engine.session import (
        AISession,
        CommandEvent,
        ExecResult,
        ExitEvent,
        OutputEvent,
        OutputSlice,
        Session,
        SessionStatus,
        Subscription,
    )
    from engine.terminal import Terminal

_EXPORTS: dict[str, tuple[str, ...]] = {
    "engine.config": ("ContextConfig", "SessionConfig"),
    "engine.errors": (
        "IncompleteCommand",
        "PermissionDenied",
        "ProcessError",
        "PtyError",
        "ResourceExhausted",
        "SessionAlreadyExists",
        "SessionBusy",
        "SessionError",
        "SessionNotFound",
    ),
    "engine.events": ("Event", "EventLog"),
    "engine.history": ("CommandHistory", "CommandRecord"),
    "engine.manager": ("SessionManager",),
    "engine.output": ("OutputParser", "ParsedOutput"),
    "engine.session": (
        "AISession",
        "CommandEvent",
        "ExecResult",
        "ExitEvent",
        "OutputEvent",
        "OutputSlice",
        "Session",
        "SessionStatus",
        "Subscription",
    ),
    "engine.terminal": ("Terminal",),
}

__all__ = [
    "AISession",
    "CommandEvent",
    "CommandHistory",
    "CommandRecord",
    "ContextConfig",
    "Event",
    "EventLog",
    "ExecResult",
    "ExitEvent",
    "IncompleteCommand",
    "OutputEvent",
    "OutputParser",
    "OutputSlice",
    "ParsedOutput",
    "PermissionDenied",
    "ProcessError",
    "PtyError",
    "ResourceExhausted",
    "Session",
    "SessionAlreadyExists",
    "SessionBusy",
    "SessionConfig",
    "SessionError",
    "SessionManager",
    "SessionNotFound",
    "SessionStatus",
    "Subscription",
    "Terminal",
]


def __getattr__(name: str) -> object:
    for module, names in _EXPORTS.items():
        if name in names:
            value = getattr(importlib.import_module(module), name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
