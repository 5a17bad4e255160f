"""Talking to a running instance: its control socket, or a server URL. Used by the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp

from engine.server import runtime_dir


class ClientError(Exception):
    """The instance answered with an error, or there is no instance to talk to."""

    def __init__(self, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def find_socket(explicit: str | None = None) -> Path:
    """The control socket to use: `explicit`, else $AI_SESSION_SOCKET (set inside panes), else
    the newest live one in the runtime directory (stale ones from dead instances are removed)."""
    chosen = explicit or os.environ.get("AI_SESSION_SOCKET")
    if chosen:
        return Path(chosen)
    directory = runtime_dir()
    candidates = sorted(directory.glob("*.sock"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in candidates:
        pid = path.stem
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)  # its instance is gone
            continue
        return path
    raise ClientError(
        f"no running ai-session instance (no control socket in {directory}); start one with "
        "`ai-session` or `ai-session server`, or pass --server URL"
    )


class Client:
    """Requests to one instance; JSON in, JSON out, API errors raised as `ClientError`."""

    def __init__(
        self, server: str | None = None, socket: str | None = None, token: str | None = None
    ) -> None:
        self.base = server.rstrip("/") if server else "http://ai-session"
        self.socket = None if server else find_socket(socket)
        self.token = token or os.environ.get("AI_SESSION_TOKEN")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        connector = aiohttp.UnixConnector(path=str(self.socket)) if self.socket else None
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        # No overall timeout: `exec` waits as long as its command (the server bounds that).
        self._session = aiohttp.ClientSession(
            connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=None)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        assert self._session is not None, "use `async with Client(...)`"
        where = f"socket {self.socket}" if self.socket else self.base
        try:
            async with self._session.request(
                method, self.base + path, json=body, params=params or None
            ) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = {"error": (await response.text())[:200], "code": ""}
                if response.status >= 400:
                    error = data.get("error", response.reason) if isinstance(data, dict) else data
                    code = data.get("code", "") if isinstance(data, dict) else ""
                    raise ClientError(str(error), code, response.status)
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ClientError(
                f"cannot reach the instance at {where}: {exc or type(exc).__name__}"
            ) from None
