"""The ai-session engine: sessions on real PTYs, a terminal model, and the records around them.

A library first: pure asyncio, no UI. Everything the app, the HTTP API and the CLI do goes
through it.
"""

from __future__ import annotations

from engine.config import ContextConfig, SessionConfig
from engine.errors import (
    PermissionDenied,
    ProcessError,
    PtyError,
    ResourceExhausted,
    SessionAlreadyExists,
    SessionError,
    SessionNotFound,
)
from engine.manager import SessionManager
from engine.session import (
    AISession,
    ExecResult,
    ExitEvent,
    OutputEvent,
    Session,
    SessionStatus,
)
from engine.terminal import Terminal

__all__ = [
    "AISession",
    "ContextConfig",
    "ExecResult",
    "ExitEvent",
    "OutputEvent",
    "PermissionDenied",
    "ProcessError",
    "PtyError",
    "ResourceExhausted",
    "Session",
    "SessionAlreadyExists",
    "SessionConfig",
    "SessionError",
    "SessionManager",
    "SessionNotFound",
    "SessionStatus",
    "Terminal",
]
