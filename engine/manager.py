"""`SessionManager`: creates, finds, lists, renames, removes and restores sessions."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from types import TracebackType

from engine.agents import AgentMonitor
from engine.config import SessionConfig
from engine.errors import SessionAlreadyExists, SessionNotFound
from engine.events import EventLog
from engine.hub import AgentHub
from engine.session import Session

TRIM_DELAY = 0.05  # seconds: removals close together share one malloc_trim


def _load_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None (musl, macOS): nothing to call there."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def release_memory() -> bool:
    """Hand freed heap memory back to the system (glibc's `malloc_trim(0)`): a closed
    session's buffers are freed in many small pieces that glibc otherwise keeps for reuse,
    so the process's RSS would stay at its peak. True if memory was returned."""
    return bool(_malloc_trim(0)) if _malloc_trim is not None else False


def check_name(name: str) -> str:
    """`name` if it can name a session, else ValueError saying why: not empty, not `.` or
    `..`, no `/` or control characters (a name is a path segment of the API and a CLI
    target)."""
    if not name.strip():
        raise ValueError("a session name cannot be empty")
    if name in (".", ".."):
        raise ValueError(f"{name!r} cannot name a session: pick a name with a letter or digit")
    if "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"session name {name!r} holds '/' or a control character")
    return name


class SessionManager:
    """The registry of sessions in this process, with the seed's verbs.

    Sessions are created stopped (call `start()`), as in the seed. Names are unique; an
    unnamed session is named like tmux does: "0", "1", ... Every verb that takes a session
    takes its id or its name. What happens to the sessions is reported to `events`. Use as an
    async context manager to stop every session on the way out.
    """

    def __init__(self, events: EventLog | None = None) -> None:
        self._sessions: dict[str, Session] = {}
        self.events = events if events is not None else EventLog()
        self.agents = AgentMonitor(self.events)  # each session's agent state (engine/agents.py)
        # The control socket of the instance these sessions belong to: every session gets it
        # as AI_SESSION_SOCKET (like $TMUX), so programs inside can call back.
        self.socket_path: str | None = None
        self._trim: asyncio.TimerHandle | None = None
        # The agents' bus, tasks, decisions, profiler and tracer; sessions are its agents
        self.hub = AgentHub(self.events, self.get)

    async def __aenter__(self) -> SessionManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- creating ----------------------------------------------------------------------------

    async def create_session(self, name: str | None = None) -> Session:
        """A new session with the default configuration (optionally named)."""
        return await self.create_session_with_config(SessionConfig(name=name))

    async def create_session_with_config(self, config: SessionConfig) -> Session:
        """A new session (not started yet) with a copy of `config`; its name is claimed now.
        If its `start()` fails it is forgotten again, so the name is free."""
        config = replace(config, name=self._claim_name(config.name))
        if self.socket_path is not None:
            config.environment = {"AI_SESSION_SOCKET": self.socket_path, **config.environment}
        return self._register(Session(config))

    async def restore_session(
        self, session_id: str, config: SessionConfig, created_at: datetime
    ) -> Session:
        """Re-register a session known from persistence under its old id and creation time."""
        if session_id in self._sessions:
            raise SessionAlreadyExists(f"a session with id {session_id} is already registered")
        config = replace(config, name=self._claim_name(config.name))
        return self._register(Session(config, id=session_id, created_at=created_at))

    def _register(self, session: Session) -> Session:
        session.events = self.events
        session._release = self._release
        self._sessions[session.id] = session
        self.agents.watch(session)
        return session

    def _release(self, session: Session) -> None:
        """A session's start failed: forget it (no event: it never ran)."""
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]
            self.agents.forget(session)

    def _claim_name(self, name: str | None) -> str:
        taken = {s.name for s in self._sessions.values()}
        if name is not None:
            check_name(name)
            if name in taken:
                raise SessionAlreadyExists(
                    f"a session named {name!r} already exists; pick another name or remove it"
                )
            return name
        return next(str(i) for i in itertools.count() if str(i) not in taken)

    # -- finding -----------------------------------------------------------------------------

    def get(self, name_or_id: str) -> Session | None:
        """The session with this id, else with this name; None if there is none."""
        return self._sessions.get(name_or_id) or self.find_session(name_or_id)

    def _require(self, name_or_id: str) -> Session:
        session = self.get(name_or_id)
        if session is None:
            raise SessionNotFound(
                f"no session named or with id {name_or_id!r}; list_sessions() shows them"
            )
        return session

    def get_session(self, session_id: str) -> Session | None:
        """The session with this id (the seed's lookup); `get()` also takes a name."""
        return self._sessions.get(session_id)

    def find_session(self, name: str) -> Session | None:
        """The session with this name, or None."""
        return next((s for s in self._sessions.values() if s.name == name), None)

    def list_sessions(self) -> list[str]:
        """Ids of every registered session, oldest first."""
        return list(self._sessions)

    @property
    def sessions(self) -> list[Session]:
        """Every registered session, oldest first."""
        return list(self._sessions.values())

    # -- changing ----------------------------------------------------------------------------

    def rename_session(self, name_or_id: str, new_name: str) -> Session:
        """Give a session another name (tmux's rename-session); reported as `renamed`.
        SessionAlreadyExists if another session has it, ValueError if it cannot be a name."""
        session = self._require(name_or_id)
        check_name(new_name)
        if new_name == session.name:
            return session
        if self.find_session(new_name) is not None:
            raise SessionAlreadyExists(f"a session named {new_name!r} already exists")
        old, session.name = session.name, new_name
        session.config.name = new_name
        self.events.emit("renamed", session, old_name=old)
        return session

    async def remove_session(self, name_or_id: str) -> None:
        """Forget a session and stop it (if running). It leaves the registry before it is
        stopped, so of concurrent removals one succeeds and the others get SessionNotFound."""
        session = self._require(name_or_id)
        del self._sessions[session.id]
        session.removed = True
        try:
            await session.stop()
        finally:
            self._closed(session)

    def _closed(self, session: Session) -> None:
        session._release = None
        self.events.emit("closed", session)
        if session.status.is_terminated:  # else its exit is still to be reported (and then stop)
            session.events = None  # nothing about it after `closed` (a caller may still hold it)
        self._trim_soon()

    def _trim_soon(self) -> None:
        """One malloc_trim shortly after a batch of removals (not one per session)."""
        if self._trim is None and _malloc_trim is not None:
            self._trim = asyncio.get_running_loop().call_later(TRIM_DELAY, self._trim_now)

    def _trim_now(self) -> None:
        self._trim = None
        release_memory()

    async def cleanup_terminated(self) -> int:
        """Forget every exited or failed session; how many were removed."""
        dead = [s for s in self._sessions.values() if s.status.is_terminated]
        for session in dead:
            del self._sessions[session.id]
            session.removed = True
            self._closed(session)
        return len(dead)

    async def close(self) -> None:
        """Stop every session (in parallel) and forget them all."""
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            session.removed = True
        await asyncio.gather(*(s.stop() for s in sessions), return_exceptions=True)
        for session in sessions:
            self._closed(session)
        if self._trim is not None:
            self._trim.cancel()
            self._trim = None
        release_memory()
