"""Races an orchestrator hits: sessions deleted twice at once, input as a program exits, every
route while sessions are created, exit and are deleted. Never a 5xx."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from api_support import Api, serve
from conftest import BASH, wait_until


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        yield a


async def test_concurrent_deletes_of_a_slow_dying_session_give_one_200(
    api: Api, tmp_path: Path
) -> None:
    """The program ignores SIGHUP, so the first DELETE waits out the grace period; the others
    must be told the session is gone, not fail on the registry (was: KeyError, 500)."""
    await api.create(
        "stubborn", tmp_path, command="trap '' HUP; echo ready; while :; do sleep 0.05; done"
    )
    session = api.manager.get("stubborn")
    assert session is not None
    await wait_until(lambda: "ready" in session.capture_pane(), what="the trap to be set")
    answers = await asyncio.gather(*(api.call("DELETE", "/sessions/stubborn") for _ in range(6)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [404] * 5, answers
    assert all(data["code"] == "SESSION_NOT_FOUND" for status, data in answers if status == 404)
    assert api.manager.get("stubborn") is None and session.status.is_terminated


async def test_input_as_the_program_exits_is_a_409(api: Api, tmp_path: Path) -> None:
    """A flood then an exit: the child is gone while its output is still being parsed (the
    session still says running). Input then must be a 409, never a 500 (was: ProcessError)."""
    await api.create("flood", tmp_path, command="head -c 1500000 /dev/zero | tr '\\0' x")
    answers: list[tuple[int, str | None]] = []
    while True:
        status, data = await api.call("POST", "/sessions/flood/input", {"text": "x"})
        answers.append((status, data.get("code")))
        assert status in (200, 409), data
        if status == 409:
            assert data["code"] == "SESSION_NOT_RUNNING"
            break
    # The window was hit: the child is reaped while the session still parses its last MiB
    # (reading stops at a 1 MiB backlog, and wrapped lines take seconds to parse, far longer
    # than one request), so the session still said running when the write failed.
    session = api.manager.get("flood")
    assert session is not None and session.status.kind == "running", answers
    await wait_until(lambda: session.status.is_terminated, timeout=60)
    status, data = await api.call("POST", "/sessions/flood/input", {"text": "x"})
    assert (status, data["code"]) == (409, "SESSION_NOT_RUNNING")


_NAMES = ["r0", "r1", "r2", "r3"]
_PROGRAMS = [
    BASH,
    "echo hi; sleep 0.3",
    "trap '' HUP; sleep 1",
    "exit 3",
    "head -c 200000 /dev/zero | tr '\\0' y",
]


def _request(rng: random.Random, cwd: Path) -> tuple[str, str, Any]:
    name = rng.choice(_NAMES)
    base = f"/sessions/{name}"
    choices: list[tuple[str, str, Any]] = [
        (
            "POST",
            "/sessions",
            {"name": name, "working_directory": str(cwd), "command": rng.choice(_PROGRAMS)},
        ),
        ("DELETE", base, None),
        ("GET", base, None),
        ("GET", "/sessions", None),
        ("GET", base + "/status", None),
        ("POST", base + "/execute", {"command": "echo x", "timeout_ms": 300}),
        ("POST", base + "/input", {"text": "echo y\r"}),
        ("GET", base + "/output", None),
        ("GET", base + f"/output?since={rng.randrange(0, 300000)}", None),
        ("GET", base + "/screen?join_wrapped=1&start=-", None),
        ("POST", base + "/resize", {"columns": rng.randrange(5, 120), "lines": 10}),
        ("GET", base + "/wait?timeout=0.05", None),
        ("POST", base + "/signal", {"signal": rng.choice(["INT", "TERM", 0]), "target": "session"}),
        ("POST", base + "/respawn", {"kill": rng.random() < 0.5}),
        ("PATCH", base, {"name": rng.choice(_NAMES), "metadata": {"k": rng.random()}}),
        ("POST", base + "/token", {"read_only": True}),
        ("GET", f"/events?since={rng.randrange(0, 50)}&wait=0", None),
        ("GET", "/health", None),
        ("GET", "/openapi.json", None),
    ]
    return rng.choice(choices)


async def test_every_route_while_sessions_come_and_go_never_gives_a_5xx(
    api: Api, tmp_path: Path
) -> None:
    failures: list[tuple[str, str, Any, int, Any]] = []
    seen: set[int] = set()
    hung: list[tuple[str, str, Any]] = []

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            method, path, body = _request(rng, tmp_path)
            try:
                async with asyncio.timeout(20):
                    async with api.http.request(method, api.url(path), json=body) as r:
                        data = await r.json()
            except TimeoutError:
                hung.append((method, path, body))
                continue
            seen.add(r.status)
            if r.status >= 500 or (r.status >= 400 and not data.get("code")):
                failures.append((method, path, body, r.status, data))
            if rng.random() < 0.05:  # a stream opened and dropped mid-way
                name = rng.choice(_NAMES)
                try:
                    async with api.http.ws_connect(
                        api.url(f"/sessions/{name}/stream?since=0")
                    ) as ws:
                        await ws.receive(timeout=0.2)
                except (aiohttp.WSServerHandshakeError, TimeoutError):
                    pass

    await asyncio.gather(*(worker(seed) for seed in range(8)))
    assert not hung, hung
    assert not failures, failures[:5]
    assert 200 in seen and 404 in seen and 409 in seen  # the races were really run
    status, _data = await api.call("GET", "/health")
    assert status == 200
