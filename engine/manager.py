"""`SessionManager`: creates, finds, lists, removes and restores sessions."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import datetime
from types import TracebackType

from engine.config import SessionConfig
from engine.errors import SessionAlreadyExists, SessionNotFound
from engine.session import Session


class SessionManager:
    """The registry of sessions in this process, with the seed's verbs.

    Sessions are created stopped (call `start()`), as in the seed. Names are unique; an
    unnamed session is named like tmux does: "0", "1", ... Use as an async context manager
    to stop every session on the way out.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        # The control socket of the instance these sessions belong to: every session gets it
        # as AI_SESSION_SOCKET (like $TMUX), so programs inside can call back.
        self.socket_path: str | None = None

    async def __aenter__(self) -> SessionManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def create_session(self, name: str | None = None) -> Session:
        """A new session with the default configuration (optionally named)."""
        return await self.create_session_with_config(SessionConfig(name=name))

    async def create_session_with_config(self, config: SessionConfig) -> Session:
        config = replace(config, name=self._claim_name(config.name))
        if self.socket_path is not None:
            config.environment = {"AI_SESSION_SOCKET": self.socket_path, **config.environment}
        session = Session(config)
        self._sessions[session.id] = session
        return session

    async def restore_session(
        self, session_id: str, config: SessionConfig, created_at: datetime
    ) -> Session:
        """Re-register a session known from persistence under its old id and creation time."""
        if session_id in self._sessions:
            raise SessionAlreadyExists(f"a session with id {session_id} is already registered")
        config = replace(config, name=self._claim_name(config.name))
        session = Session(config, id=session_id, created_at=created_at)
        self._sessions[session.id] = session
        return session

    def _claim_name(self, name: str | None) -> str:
        taken = {s.name for s in self._sessions.values()}
        if name is not None:
            if not name.strip():
                raise ValueError("a session name cannot be empty")
            if name in taken:
                raise SessionAlreadyExists(
                    f"a session named {name!r} already exists; pick another name or remove it"
                )
            return name
        return next(str(i) for i in itertools.count() if str(i) not in taken)

    def get_session(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def find_session(self, name: str) -> Session | None:
        return next((s for s in self._sessions.values() if s.name == name), None)

    def list_sessions(self) -> list[str]:
        """Ids of every registered session, oldest first."""
        return list(self._sessions)

    @property
    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    async def remove_session(self, session_id: str) -> None:
        """Stop (if running) and forget a session."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"no session with id {session_id}; list_sessions() shows them")
        await session.stop()
        del self._sessions[session_id]

    async def cleanup_terminated(self) -> int:
        """Forget every exited or failed session; how many were removed."""
        dead = [sid for sid, s in self._sessions.items() if s.status.is_terminated]
        for sid in dead:
            del self._sessions[sid]
        return len(dead)

    async def close(self) -> None:
        """Stop every session (in parallel) and forget them all."""
        await asyncio.gather(*(s.stop() for s in self._sessions.values()), return_exceptions=True)
        self._sessions.clear()
