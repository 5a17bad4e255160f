"""Helpers for the API tests: a real aiohttp server on 127.0.0.1 over a real manager."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import BASH

from engine import SessionManager
from engine.security import AuditLog
from engine.server import create_app
from engine.snapshots import Snapshotter
from engine.store import Store

ENV = {"PS1": "$ ", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class Api:
    """A real server over a manager, and a client session pointed at it."""

    def __init__(
        self,
        server: TestServer,
        http: aiohttp.ClientSession,
        manager: SessionManager,
        audit: AuditLog,
    ) -> None:
        self.server = server
        self.http = http
        self.manager = manager
        self.audit = audit

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.url(path), json=body, **kw) as r:
            return r.status, await r.json()

    async def create(
        self, name: str, cwd: Path, headers: dict[str, str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        extra.setdefault("command", BASH)
        extra["environment"] = {**ENV, **extra.get("environment", {})}
        status, data = await self.call(
            "POST",
            "/sessions",
            {"name": name, "working_directory": str(cwd), **extra},
            headers=headers,
        )
        assert status == 201, data
        return data


async def serve(tmp_path: Path, **options: Any) -> AsyncIterator[Api]:
    """A server over a real manager, with snapshots kept in a real SQLite file in `tmp_path`
    (`snapshots=None` for an instance without a database)."""
    manager = options.pop("manager", None) or SessionManager()
    audit = options.pop("audit", None) or AuditLog(tmp_path / "audit.jsonl")
    if "snapshots" not in options:
        store = await Store.open(tmp_path / "api-data" / "ai-session.db")
        options["snapshots"] = Snapshotter(manager, store, instance="api-test")
        options.setdefault("on_created", options["snapshots"].watch)
    snapshots = options["snapshots"]
    app = create_app(manager, audit=audit, **options)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Api(server, http, manager, audit)
    await server.close()
    if snapshots is not None:
        await snapshots.close(final=False)
    await manager.close()


async def serve_socket(tmp_path: Path, **options: Any) -> AsyncIterator[tuple[Api, str]]:
    """`serve()`, its API also on a unix socket as an instance's control socket is: panes get
    it as $AI_SESSION_SOCKET, so programs inside them (the CLI, hooks) reach this server."""
    folder = tempfile.mkdtemp(prefix="ais-")  # short: a socket path holds ~100 bytes
    path = os.path.join(folder, "instance.sock")
    try:
        async for api in serve(tmp_path, **options):
            runner = api.server.runner
            assert runner is not None
            site = web.UnixSite(runner, path)
            await site.start()
            api.manager.socket_path = path
            yield api, path
            await site.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
