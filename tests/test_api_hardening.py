"""Bad input, secrets, audit and rate limits, against a real server with real sessions."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from api_support import Api, serve
from conftest import BASH, wait_until

from engine import SessionManager
from engine.config import SessionConfig
from engine.security import AuditLog, RateLimit, SecurityPolicy
from engine.server import Server, create_app

README = Path(__file__).parent.parent / "README.md"
AI = str(Path(sys.executable).parent / "ai-session")


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        yield a


async def test_dot_names_are_refused(api: Api, tmp_path: Path) -> None:
    for name in (".", ".."):
        status, data = await api.call(
            "POST", "/sessions", {"name": name, "working_directory": str(tmp_path)}
        )
        assert (status, data["code"]) == (400, "INVALID_REQUEST"), data
        assert "'.'" in data["error"]
    await api.create("ok.1", tmp_path)
    status, data = await api.call("PATCH", "/sessions/ok.1", {"name": ".."})
    assert (status, data["code"]) == (400, "INVALID_REQUEST")
    assert api.manager.get("ok.1") is not None and len(api.manager.sessions) == 1


async def test_unknown_fields_are_refused_by_name(api: Api, tmp_path: Path) -> None:
    status, data = await api.call(
        "POST", "/sessions", {"name": "typo", "working_dir": str(tmp_path)}
    )
    assert (status, data["code"], data["field"]) == (400, "INVALID_REQUEST", "working_dir")
    assert "'working_dir'" in data["error"] and "working_directory" in data["error"]
    assert api.manager.sessions == []  # not created in the default directory
    await api.create("t", tmp_path)
    for path, body, bad in [
        ("/sessions/t/execute", {"command": "true", "timeout": 5}, "timeout"),
        ("/sessions/t/input", {"text": "x", "key": ["Enter"]}, "key"),
        ("/sessions/t/resize", {"columns": 10, "lines": 5, "rows": 5}, "rows"),
        ("/sessions/t/signal", {"signal": "INT", "to": "session"}, "to"),
        ("/sessions/t/respawn", {"force": True}, "force"),
        ("/sessions/t/token", {"readonly": True}, "readonly"),
    ]:
        status, data = await api.call("POST", path, body)
        assert (status, data.get("field")) == (400, bad), (path, data)
    status, data = await api.call("PATCH", "/sessions/t", {"labels": {}})
    assert (status, data["field"]) == (400, "labels")


async def test_status_is_spelled_one_way(api: Api, tmp_path: Path) -> None:
    created = await api.create("s", tmp_path, command="sleep 0.2")
    assert created["status"] == "running"
    _status, data = await api.call("GET", "/sessions/s/wait?timeout=10")
    assert data["status"] == "exited" and data["exited"] is True and data["exit_code"] == 0
    _, listed = await api.call("GET", "/sessions")
    assert [s["status"] for s in listed["sessions"]] == ["exited"]


def _raw_request(port: int, request: bytes) -> tuple[int, dict[str, object], str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return int(lines[0].split()[1]), json.loads(body), "\n".join(lines[1:])


async def test_oversized_url_and_headers_get_json_errors_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's parser refuses them before any middleware runs; the server still answers in
    JSON and logs no traceback for a client's mistake."""
    manager = SessionManager()
    server = Server(create_app(manager))
    await server.start(host="127.0.0.1", port=0)
    assert server.tcp_address is not None
    port = server.tcp_address[1]
    caplog.set_level(logging.DEBUG)
    try:
        cases = [
            b"GET /sessions/" + b"x" * 20000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"y" * 20000 + b"\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: localhost\r\n" + b"X-H: 1\r\n" * 40000 + b"\r\n",
            b"NOT HTTP AT ALL\r\n\r\n",
        ]
        for raw in cases:
            status, data, headers = await asyncio.to_thread(_raw_request, port, raw)
            assert 400 <= status < 500, (status, data)
            assert data["code"] == "INVALID_REQUEST" and data["error"]
            assert "application/json" in headers
        statuses = [(await asyncio.to_thread(_raw_request, port, raw))[0] for raw in cases[:2]]
        assert statuses == [431, 431]
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as r,
        ):
            assert r.status == 200  # still serving
    finally:
        await server.close()
        await manager.close()
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]


async def test_bearer_is_accepted_in_any_case(tmp_path: Path) -> None:
    async for api in serve(tmp_path, token="s3cret"):
        for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
            status, _ = await api.call(
                "GET", "/sessions", headers={"Authorization": f"{scheme} s3cret"}
            )
            assert status == 200, scheme
        for header in ("Basic s3cret", "Bearer", "Bearer s3cre", "s3cret"):
            status, data = await api.call("GET", "/sessions", headers={"Authorization": header})
            assert (status, data["code"]) == (401, "UNAUTHORIZED"), header


def _readme_security_toml() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), re.DOTALL)
    (block,) = [b for b in blocks if "[security]" in b]
    return block


def test_the_readmes_security_example_loads(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(_readme_security_toml())
    policy = SecurityPolicy.load(config)
    assert policy.allow_input is False and policy.denied_commands
    with pytest.raises(ValueError, match="allow_input must be true or false"):
        SecurityPolicy.from_dict({"allow_input": "no"})


def test_a_config_the_policy_cannot_be_read_from_is_refused(tmp_path: Path) -> None:
    """A misspelt table, or a --config file that is not there, would leave the policy it
    meant off: the server refuses to start instead."""
    config = tmp_path / "config.toml"
    config.write_text("[securty]\nallow_input = false\n")
    with pytest.raises(
        ValueError, match=r"unknown table or key 'securty' \(did you mean \[security\]"
    ):
        SecurityPolicy.load(config)
    assert SecurityPolicy.load(tmp_path / "absent.toml").allow_input  # the default file: optional
    with pytest.raises(ValueError, match=r"absent\.toml"):
        SecurityPolicy.load(tmp_path / "absent.toml", required=True)
    env = {k: v for k, v in os.environ.items() if k != "AI_SESSION_TOKEN"}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"))
    env.update(XDG_DATA_HOME=str(tmp_path / "data"))
    for bad in (config, tmp_path / "absent.toml"):
        started = subprocess.run(
            [AI, "server", "--port", "0", "--config", str(bad)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert started.returncode == 2 and str(bad) in started.stderr, started.stderr


async def test_the_api_token_never_reaches_a_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_SESSION_TOKEN", "s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    async for api in serve(tmp_path, token="s3cret"):
        assert "AI_SESSION_TOKEN" not in os.environ  # the server took it out of its own
        monkeypatch.setenv("AI_SESSION_TOKEN", "again")  # set once more: still not inherited
        status, data = await api.call(
            "POST",
            "/sessions",
            {
                "name": "env",
                "working_directory": str(tmp_path),
                "command": BASH,
                "environment": {"PS1": "$ "},
            },
            headers=auth,
        )
        assert status == 201, data
        env = api.manager.get("env")
        assert env is not None
        await wait_until(lambda s=env: "$" in s.capture_pane())
        status, data = await api.call(
            "POST",
            "/sessions/env/execute",
            {"command": "echo ${AI_SESSION_TOKEN-unset}"},
            headers=auth,
        )
        assert (status, data["output"]) == (200, "unset\n"), data


async def test_audit_keeps_whole_commands_or_their_hash_and_the_client(
    api: Api, tmp_path: Path
) -> None:
    await api.create("a", tmp_path)
    short = "echo " + "s" * 4000
    long = "echo " + "l" * 5000
    for command in (short, long):
        status, _ = await api.call("POST", "/sessions/a/execute", {"command": command})
        assert status == 200
    records = {
        r.detail[:6] + str(r.truncated): r for r in api.audit.records if r.action == "execute"
    }
    whole = records["echo sFalse"]
    assert whole.detail == short and whole.sha256 is None and whole.client == "127.0.0.1"
    cut = records["echo lTrue"]
    assert cut.detail == long[:4096] and cut.length == len(long)
    assert cut.sha256 == hashlib.sha256(long.encode()).hexdigest()
    lines = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    (logged,) = [x for x in lines if x.get("truncated")]
    assert logged["length"] == len(long) and logged["sha256"] == cut.sha256
    assert all("truncated" not in x for x in lines if x is not logged)


async def test_failed_authentication_is_audited_but_cannot_flood_the_log(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl", failures=2.0)
    async for api in serve(
        tmp_path, token="s3cret", audit=audit, auth_rate_limit=RateLimit(1000, 2000)
    ):
        answers = await asyncio.gather(
            *(
                api.call("GET", "/sessions", headers={"Authorization": "Bearer wrong"})
                for _ in range(200)
            )
        )
        assert {status for status, _ in answers} == {401}
    failures = [r for r in audit.records if r.action == "auth"]
    assert 1 <= len(failures) <= 20 and not failures[0].allowed
    assert failures[0].client == "127.0.0.1" and "wrong token" in failures[0].detail
    assert audit.unrecorded_failures >= 180
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == len(failures)


async def test_a_wrong_token_flood_does_not_lock_out_the_right_client(tmp_path: Path) -> None:
    async for api in serve(
        tmp_path,
        token="s3cret",
        rate_limit=RateLimit(rate=0.1, burst=5),
        auth_rate_limit=RateLimit(rate=0.1, burst=3),
    ):
        wrong = [
            (await api.call("GET", "/health", headers={"Authorization": "Bearer nope"}))[0]
            for _ in range(10)
        ]
        assert wrong == [401] * 3 + [429] * 7
        right = [
            (await api.call("GET", "/health", headers={"Authorization": "bearer s3cret"}))[0]
            for _ in range(6)
        ]
        assert right == [200] * 5 + [429]  # its own allowance, untouched by the flood


def test_default_rate_limit_suits_an_orchestrator() -> None:
    limit = RateLimit()
    assert limit.rate >= 1000 and limit.burst >= 2000
    assert all(limit.take(f"poller-{i % 20}") == 0 for i in range(2000))


async def test_the_control_socket_is_not_throttled_by_default(tmp_path: Path) -> None:
    manager = SessionManager()
    server = Server(create_app(manager, rate_limit=RateLimit(rate=0.1, burst=2)))
    path = tmp_path / "control.sock"
    await server.start(path)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(path))) as http:
            for _ in range(30):
                async with http.get("http://x/health") as r:
                    assert r.status == 200
    finally:
        await server.close()
        await manager.close()


async def test_the_rate_limit_follows_the_token_not_the_address(tmp_path: Path) -> None:
    """The processes of one orchestrator share one allowance whatever address they come from;
    without a token each address has its own."""
    for token in ("s3cret", None):
        async for api in serve(tmp_path, token=token, rate_limit=RateLimit(rate=0.1, burst=4)):
            headers = {"Authorization": "Bearer s3cret"} if token else {}
            statuses = []
            for source in ("127.0.0.1", "127.0.0.2") * 3:
                connector = aiohttp.TCPConnector(local_addr=(source, 0))
                async with (
                    aiohttp.ClientSession(connector=connector) as http,
                    http.get(api.url("/health"), headers=headers) as r,
                ):
                    statuses.append(r.status)
            assert statuses == ([200] * 4 + [429] * 2 if token else [200] * 6), token


async def test_a_scoped_token_narrows_a_socket_client(tmp_path: Path) -> None:
    manager = SessionManager()
    server = Server(create_app(manager, token="s3cret"))
    path = tmp_path / "control.sock"
    await server.start(path)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(path))) as http:
            for name in ("a", "b"):
                body = {"name": name, "working_directory": str(tmp_path), "command": BASH}
                async with http.post("http://x/sessions", json=body) as r:
                    assert r.status == 201  # no token needed on the socket
            async with http.post("http://x/sessions/a/token", json={"read_only": True}) as r:
                token = (await r.json())["token"]
            scoped = {"Authorization": f"Bearer {token}"}
            async with http.get("http://x/sessions", headers=scoped) as r:
                assert [s["name"] for s in (await r.json())["sessions"]] == ["a"]
            async with http.delete("http://x/sessions/a", headers=scoped) as r:
                assert r.status == 403
            message = {"from": "b", "to": "a", "type": "question", "payload": "kept?"}
            async with http.post("http://x/messages", json=message) as r:
                assert r.status == 201
            async with http.get("http://x/agents/a/inbox", headers=scoped) as r:
                assert r.status == 403  # taking messages is a change
            async with http.get("http://x/messages?agent=a", headers=scoped) as r:
                assert [m["payload"] for m in (await r.json())["messages"]] == ["kept?"]
            async with http.get("http://x/agents/a/inbox") as r:
                assert [m["payload"] for m in (await r.json())["messages"]] == ["kept?"]
            async with http.get("http://x/sessions", headers={"Authorization": "Bearer x"}) as r:
                assert (await r.json())["total"] == 2  # not a scoped token: the socket's admin
    finally:
        await server.close()
        await manager.close()


async def test_an_environment_name_exec_refuses_is_a_400_not_a_forked_server(
    api: Api, tmp_path: Path
) -> None:
    """execve refuses a variable name with '=' (or empty) with a ValueError in the forked
    child, which then ran on as a copy of the server; the API refuses such names first."""
    for key in ("A=B", ""):
        status, data = await api.call(
            "POST",
            "/sessions",
            {"name": "env", "working_directory": str(tmp_path), "environment": {key: "x"}},
        )
        assert (status, data["code"]) == (400, "INVALID_REQUEST"), data
        assert "environment" in data["error"]
    assert api.manager.sessions == []


async def test_a_name_cannot_take_another_sessions_id(api: Api, tmp_path: Path) -> None:
    """Names win over ids in a path: a session renamed (or created) with another session's id
    as its name would receive the requests meant for that session (a scoped client could
    capture an orchestrator's DELETE or execute by id)."""
    victim = await api.create("victim", tmp_path)
    await api.create("mine", tmp_path)
    status, data = await api.call("PATCH", "/sessions/mine", {"name": victim["id"]})
    assert (status, data["code"]) == (409, "SESSION_EXISTS"), data
    status, data = await api.call(
        "POST", "/sessions", {"name": victim["id"], "working_directory": str(tmp_path)}
    )
    assert (status, data["code"]) == (409, "SESSION_EXISTS"), data
    status, data = await api.call("GET", f"/sessions/{victim['id']}")
    assert (status, data["name"]) == (200, "victim")


async def test_non_json_numbers_are_refused(api: Api, tmp_path: Path) -> None:
    """Python's json takes NaN and Infinity, which no JSON parser reads back: stored in
    metadata they made every later answer about the session (and its events) unreadable."""
    await api.create("n", tmp_path)
    for raw in ('{"metadata": {"x": NaN}}', '{"metadata": {"x": -Infinity}}'):
        async with api.http.patch(
            api.url("/sessions/n"), data=raw, headers={"Content-Type": "application/json"}
        ) as r:
            data = await r.json()
            assert (r.status, data["code"]) == (400, "INVALID_REQUEST"), data
    async with api.http.get(api.url("/sessions/n")) as r:
        json.loads(await r.text(), parse_constant=lambda c: pytest.fail(f"{c} in an answer"))


async def test_a_long_poll_in_flight_does_not_hold_up_the_server_closing(tmp_path: Path) -> None:
    """aiohttp waits up to a minute for requests in flight when it stops: a client in
    `ai-session events` or `wait` (long polls of up to an hour) kept `ai-session server` (and
    the TUI quitting) from exiting for that minute."""
    manager = SessionManager()
    server = Server(create_app(manager, audit=AuditLog(None)))
    path = tmp_path / "s.sock"
    await server.start(path)
    # A program that prints nothing: no event can end the events long poll early.
    session = await manager.create_session_with_config(
        SessionConfig(name="w", shell_command=["sleep", "3600"])
    )
    await session.start()
    since = manager.events.last_seq
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(path))) as http:
        polls = [
            asyncio.create_task(http.get(f"http://x{p}"))
            for p in (f"/events?wait=600&since={since}", "/sessions/w/wait?timeout=3600")
        ]
        web_server = server._runner.server
        assert web_server is not None
        await wait_until(  # both requests are being answered: the long polls have begun
            lambda: sum(c._current_request is not None for c in web_server.connections) == 2
        )
        try:
            await asyncio.wait_for(server.close(), 20)  # was 60 s
        finally:
            await manager.close()
        for poll in polls:
            with contextlib.suppress(aiohttp.ClientError):
                (await poll).release()


def _long_polls() -> int:
    """Tasks of this loop inside an API long poll (/events or /sessions/{name}/wait)."""

    def awaiting(task: asyncio.Task[Any]) -> Iterator[Any]:
        coro: Any = task.get_coro()
        while coro is not None:
            code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
            if code is not None:
                yield code
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)

    return sum(
        any(
            code.co_name in ("_long_poll", "wait") and "engine/api" in code.co_filename
            for code in awaiting(task)
        )
        for task in asyncio.all_tasks()
    )


async def test_a_long_poll_ends_when_its_client_goes_away(tmp_path: Path) -> None:
    """aiohttp does not cancel a handler whose client hung up (the test server does: this
    needs `Server`): each abandoned `/events` or `/wait` long poll held its waiter for up to
    an hour, so a client that reconnects often piled them up. They now end with the client."""
    manager = SessionManager()
    server = Server(create_app(manager, audit=AuditLog(None)))
    await server.start(None, "127.0.0.1", 0)
    assert server.tcp_address is not None
    host, port = server.tcp_address
    try:
        session = await manager.create_session_with_config(
            SessionConfig(name="gone", shell_command="sleep 600")  # no output, no event
        )
        await session.start()
        for path in ("/events?wait=600", "/sessions/gone/wait?timeout=3600") * 2:
            _reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            await writer.drain()
            await wait_until(lambda: _long_polls() == 1, what=f"{path} waiting")
            writer.close()
            await wait_until(lambda: _long_polls() == 0, what=f"{path} ended with its client")
    finally:
        await server.close()
        await manager.close()


async def test_failed_authentications_refused_for_their_rate_are_counted_too(
    tmp_path: Path,
) -> None:
    """Past the failed-auth limit a wrong token gets a 429 before the audit saw it, so the
    count of failures "not recorded" left the flood out."""
    audit = AuditLog(tmp_path / "audit.jsonl", failures=1000.0)
    async for api in serve(
        tmp_path, token="s3cret", audit=audit, auth_rate_limit=RateLimit(0.001, 5)
    ):
        wrong = {"Authorization": "Bearer wrong"}
        statuses = [(await api.call("GET", "/sessions", headers=wrong))[0] for _ in range(30)]
        assert statuses.count(401) == 5 and statuses.count(429) == 25
    recorded = [r for r in audit.records if r.action == "auth"]
    assert len(recorded) + audit.unrecorded_failures == 30


async def test_half_sent_requests_cannot_use_up_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Connections that send half a request and wait: at most a cap of them are kept per
    transport, each for a bounded time; the control socket and, once they are closed, TCP
    answer again."""
    monkeypatch.setattr("engine.server.MAX_CONNECTIONS", 16)
    monkeypatch.setattr("engine.server.REQUEST_TIMEOUT", 0.5)
    manager = SessionManager()
    server = Server(create_app(manager))
    await server.start(socket_path=tmp_path / "s.sock", host="127.0.0.1", port=0)
    assert server.tcp_address is not None
    port = server.tcp_address[1]
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(40):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")  # never finished
            opened.append((reader, writer))
        # Over the cap: closed at once; the rest within the request timeout.
        closed = await asyncio.wait_for(
            asyncio.gather(*(reader.read() for reader, _ in opened)), timeout=10
        )
        assert closed == [b""] * 40
        connector = aiohttp.UnixConnector(path=str(tmp_path / "s.sock"))
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.get("http://localhost/health") as r,
        ):
            assert r.status == 200
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/health") as r,
        ):
            assert r.status == 200
            # An idle keep-alive connection is closed the same way, quietly.
            await wait_until(lambda: not server._runner.server.connections, timeout=10)  # type: ignore[union-attr]
    finally:
        for _, writer in opened:
            writer.close()
        await server.close()
        await manager.close()
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]


async def test_a_stream_outlives_the_request_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeout is for a request still arriving, not one being answered: a quiet events
    WebSocket stays open."""
    monkeypatch.setattr("engine.server.REQUEST_TIMEOUT", 0.2)
    async for api in serve(tmp_path):
        async with aiohttp.ClientSession() as http, http.ws_connect(api.url("/events")) as ws:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.receive(), timeout=1.0)
            assert not ws.closed


async def test_no_terminal_left_is_the_machines_fault_not_the_requests(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of file descriptors when a session starts: 429 RESOURCE_EXHAUSTED with a retry
    time (a 400 told the client its request was wrong); the name stays free."""

    def exhausted() -> tuple[int, int]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr("engine.pty.os.openpty", exhausted)
    body = {"name": "full", "working_directory": str(tmp_path), "command": BASH}
    status, data = await api.call("POST", "/sessions", body)
    assert (status, data["code"]) == (429, "RESOURCE_EXHAUSTED"), data
    assert "Too many open files" in data["error"]
    monkeypatch.undo()
    status, data = await api.call("POST", "/sessions", body)
    assert status == 201, data
