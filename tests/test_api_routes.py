"""What an orchestrator is told instead of polling: /events, output by offset, streams that
resume, wait, signal, respawn, rename and metadata, join_wrapped, scoped tokens, SESSION_BUSY."""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from api_support import Api, serve
from conftest import bash_config, wait_for_screen, wait_until

from engine import SessionManager
from engine.api import sessions as session_routes
from engine.events import EventLog


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        yield a


async def _receive_until(ws: aiohttp.ClientWebSocketResponse, done: Any) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while not got or not done(got[-1]):
        got.append(await ws.receive_json(timeout=10))
    return got


async def test_events_stream_every_change_and_resume_after_a_drop(api: Api, tmp_path: Path) -> None:
    async with api.http.ws_connect(api.url("/events?since=0")) as ws:
        created = await api.create("ev", tmp_path, command="sleep 0.2; exit 4")
        first = await ws.receive_json(timeout=10)
        assert (first["type"], first["session"], first["seq"]) == ("created", "ev", 1)
        assert first["pid"] == created["pid"] and first["session_id"] == created["id"]
        got = await _receive_until(ws, lambda e: e["type"] == "exit")
        assert got[-1]["exit_code"] == 4 and got[-1]["signal"] is None and got[-1]["exited_at"]
        seqs = [first["seq"]] + [e["seq"] for e in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    last = got[-1]["seq"]
    await api.call("PATCH", "/sessions/ev", {"name": "ev2"})
    await api.call("DELETE", "/sessions/ev2")
    # Reconnecting with the last seq seen replays exactly what came after it.
    async with api.http.ws_connect(api.url(f"/events?since={last}")) as ws:
        got = await _receive_until(ws, lambda e: e["type"] == "closed")
        assert [(e["type"], e["session"]) for e in got][-2:] == [
            ("renamed", "ev2"),
            ("closed", "ev2"),
        ]
        assert got[-2]["old_name"] == "ev" and got[0]["seq"] == last + 1
    # The long poll: the same events, a page at a time, and a wait that ends on an event.
    status, page = await api.call("GET", "/events?since=0&limit=2")
    assert status == 200 and [e["seq"] for e in page["events"]] == [1, 2]
    assert page["last_seq"] == 2 and page["dropped"] == 0
    tail = api.manager.events.last_seq
    status, page = await api.call("GET", f"/events?since={tail}&wait=0.05")
    assert (status, page["events"], page["last_seq"]) == (200, [], tail)
    waiting = asyncio.create_task(api.call("GET", f"/events?since={tail}&wait=30"))
    await api.create("later", tmp_path)
    status, page = await waiting
    assert page["events"][0]["type"] == "created" and page["events"][0]["session"] == "later"


async def test_events_no_longer_kept_are_counted(tmp_path: Path) -> None:
    async for api in serve(tmp_path, manager=SessionManager(EventLog(keep=2))):
        for i in range(3):
            await api.create(f"k{i}", tmp_path)
        _status, page = await api.call("GET", "/events?since=0")
        last = page["last_seq"]
        assert page["dropped"] == last - 2 > 0
        assert [e["seq"] for e in page["events"]] == [last - 1, last]
        async with api.http.ws_connect(api.url("/events?since=0")) as ws:
            # The shells may have said more since (activity, cwd): count what this sees.
            dropped = await ws.receive_json(timeout=10)
            first = (await ws.receive_json(timeout=10))["seq"]
            assert dropped == {"type": "dropped", "count": first - 1} and first >= last - 1


async def test_output_since_serves_many_readers_and_counts_what_was_dropped(
    api: Api, tmp_path: Path
) -> None:
    session = await api.manager.create_session_with_config(
        bash_config(name="out", working_directory=tmp_path, output_buffer_size=4000)
    )
    await session.start()
    await wait_for_screen(session, "$ ")
    await api.call("POST", "/sessions/out/execute", {"command": "seq 1 300"})
    reads = []
    for _ in range(2):  # two readers, each with its own cursor, each gets everything
        status, data = await api.call("GET", "/sessions/out/output?since=0")
        assert status == 200 and data["offset"] == 0 and data["dropped_bytes"] == 0
        reads.append(data)
    assert reads[0]["raw_output"] == reads[1]["raw_output"] and "\n300\n" in reads[0]["output"]
    cursor = reads[0]["next"]
    assert cursor == session.output_offset
    await api.call("POST", "/sessions/out/execute", {"command": "echo after"})
    status, data = await api.call("GET", f"/sessions/out/output?since={cursor}")
    assert data["offset"] == cursor and "after" in data["output"] and "\n300" not in data["output"]
    await api.call("POST", "/sessions/out/execute", {"command": "seq 1 2000"})
    status, data = await api.call("GET", "/sessions/out/output?since=0")
    assert data["dropped_bytes"] > 0 and data["offset"] == data["dropped_bytes"]
    assert data["size_bytes"] <= 4000
    status, data = await api.call("GET", "/sessions/out/output?since=-1")
    assert (status, data["code"]) == (400, "INVALID_REQUEST")


async def test_a_slow_stream_reader_gets_every_byte_from_its_offset(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server queues at most WS_BACKLOG bytes for a reader; past that it catches the
    reader up from the session's buffer, so `?since=` streams stay lossless."""
    monkeypatch.setattr(session_routes, "WS_BACKLOG", 2000)
    await api.create("s", tmp_path)
    await api.call("POST", "/sessions/s/execute", {"command": "echo before"})
    async with api.http.ws_connect(api.url("/sessions/s/stream?since=0")) as ws:
        await api.call("POST", "/sessions/s/input", {"text": "seq 1 20000; exit\r"})
        session = api.manager.get("s")
        assert session is not None
        await wait_until(lambda: session.status.is_terminated)  # let the reader fall behind
        got = await _receive_until(ws, lambda m: m["type"] == "exit")
    outputs = [m for m in got if m["type"] == "output"]
    assert not [m for m in got if m["type"] == "dropped"]
    assert outputs[0]["offset"] == 0
    for a, b in itertools.pairwise(outputs):
        assert a["next"] == b["offset"]  # contiguous: nothing lost, nothing twice
    streamed = "".join(m["data"] for m in outputs)
    assert streamed == session.output_since(0).data.decode()
    assert "\r\n20000\r\n" in streamed and "before" in streamed


async def test_wait_signal_and_respawn(api: Api, tmp_path: Path) -> None:
    created = await api.create("w", tmp_path)
    status, data = await api.call("GET", "/sessions/w/wait?timeout=0.05")
    assert (status, data["exited"], data["status"]) == (200, False, "running")
    await api.call("POST", "/sessions/w/input", {"text": "sleep 100\r"})
    session = api.manager.get("w")
    assert session is not None
    await wait_until(lambda: session.current_command == "sleep")
    status, data = await api.call("POST", "/sessions/w/execute", {"command": "true"})
    assert (status, data["code"], data["command"]) == (409, "SESSION_BUSY", "sleep")
    status, data = await api.call("POST", "/sessions/w/signal", {"signal": "int"})
    assert (status, data["signal"], data["target"]) == (200, "SIGINT", "foreground")
    await wait_until(lambda: session.current_command == "bash")
    assert session.status.is_running  # only the job got it
    status, data = await api.call("POST", "/sessions/w/respawn", {})
    assert (status, data["code"]) == (409, "SESSION_RUNNING")
    status, data = await api.call("POST", "/sessions/w/signal", {"signal": 9, "target": "session"})
    assert status == 200 and data["signal"] == "SIGKILL"
    status, data = await api.call("GET", "/sessions/w/wait?timeout=10")
    assert data["exited"] is True and data["signal"] == "SIGKILL" and data["exited_at"]
    status, data = await api.call("POST", "/sessions/w/signal", {"signal": "INT"})
    assert (status, data["code"]) == (409, "SESSION_NOT_RUNNING")
    status, data = await api.call("POST", "/sessions/w/signal", {"signal": "NOPE"})
    assert status == 400
    status, data = await api.call("POST", "/sessions/w/respawn")
    assert status == 200 and data["status"] == "running" and data["id"] == created["id"]
    assert data["pid"] != created["pid"] and data["exited_at"] is None
    waiting = asyncio.create_task(api.call("GET", "/sessions/w/wait?timeout=20"))
    # The long poll is waiting for this run's exit (asyncio.Event keeps its waiters).
    await wait_until(lambda: bool(session._exited._waiters), what="the wait in place")  # type: ignore[attr-defined]
    status, data = await api.call("POST", "/sessions/w/respawn", {"kill": True})
    assert status == 200 and data["status"] == "running"
    status, data = await waiting  # the killed run's exit, not a timeout's "not exited"
    assert (status, data["exited"], data["signal"]) == (200, True, "SIGHUP"), data


async def test_rename_and_metadata(api: Api, tmp_path: Path) -> None:
    await api.create("old", tmp_path, metadata={"role": "builder", "task": 7})
    await api.create("other", tmp_path)
    status, data = await api.call(
        "PATCH", "/sessions/old", {"name": "new", "metadata": {"task": None, "step": "lint"}}
    )
    assert status == 200 and data["name"] == "new"
    assert data["metadata"] == {"role": "builder", "step": "lint"}
    assert (await api.call("GET", "/sessions/old"))[0] == 404
    status, data = await api.call("GET", "/sessions/new")
    assert data["metadata"] == {"role": "builder", "step": "lint"}
    status, data = await api.call("PATCH", "/sessions/new", {"name": "other"})
    assert (status, data["code"]) == (409, "SESSION_EXISTS")
    status, data = await api.call("PATCH", "/sessions/new", {"metadata": [1]})
    assert status == 400
    status, data = await api.call("PATCH", "/sessions/new", {"metadata": {"x": "y" * 70000}})
    assert status == 400
    kinds = [e.type for e in api.manager.events.since(0)[0]]
    assert "renamed" in kinds and "metadata" in kinds


async def test_screen_joins_wrapped_lines(api: Api, tmp_path: Path) -> None:
    await api.create("narrow", tmp_path, columns=20, lines=10)
    word = "abcdefghij" * 4
    await api.call("POST", "/sessions/narrow/execute", {"command": f"echo {word}"})
    _, plain = await api.call("GET", "/sessions/narrow/screen")
    _, joined = await api.call("GET", "/sessions/narrow/screen?join_wrapped=1")
    assert word not in plain["screen"].splitlines()
    assert word in joined["screen"].splitlines()


async def test_scoped_tokens(tmp_path: Path) -> None:
    admin = {"Authorization": "Bearer s3cret"}
    async for api in serve(tmp_path, token="s3cret"):
        for name in ("mine", "theirs"):
            status, _ = await api.call(
                "POST",
                "/sessions",
                {"name": name, "working_directory": str(tmp_path), "command": "bash --norc"},
                headers=admin,
            )
            assert status == 201
        status, made = await api.call("POST", "/sessions/mine/token", {}, headers=admin)
        assert status == 201 and made["read_only"] is False
        assert made["token"] not in (tmp_path / "audit.jsonl").read_text()
        mine = {"Authorization": f"Bearer {made['token']}"}
        (
            status,
            _,
        ) = await api.call("POST", "/sessions/mine/input", {"text": "echo hi\r"}, headers=mine)
        assert status == 200
        status, data = await api.call("GET", "/sessions", headers=mine)
        assert [s["name"] for s in data["sessions"]] == ["mine"]
        for method, path, body in [
            ("GET", "/sessions/theirs", None),
            ("GET", "/sessions/nobody", None),  # the same answer: no way to learn names
            ("POST", "/sessions/theirs/input", {"text": "x"}),
            ("DELETE", "/sessions/theirs", None),
            ("POST", "/sessions/mine/token", {}),
            ("POST", "/sessions", {"name": "more"}),
        ]:
            status, data = await api.call(method, path, body, headers=mine)
            assert (status, data["code"]) == (403, "PERMISSION_DENIED"), (method, path)
        status, page = await api.call("GET", "/events?since=0", headers=mine)
        assert {e["session"] for e in page["events"]} == {"mine"}
        status, made = await api.call(
            "POST", "/sessions/mine/token", {"read_only": True}, headers=admin
        )
        reader = {"Authorization": f"bearer {made['token']}"}
        assert (await api.call("GET", "/sessions/mine/screen", headers=reader))[0] == 200
        status, data = await api.call("POST", "/sessions/mine/input", {"text": "x"}, headers=reader)
        assert (status, data["code"]) == (403, "PERMISSION_DENIED")
        status, _ = await api.call("DELETE", "/sessions/mine", headers=mine)
        assert status == 200
        status, data = await api.call("GET", "/sessions", headers=mine)
        assert (status, data["code"]) == (401, "UNAUTHORIZED")  # revoked with its session


async def test_a_slow_events_reader_is_caught_up_from_the_log(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server queues at most WS_BACKLOG bytes of events for a reader; past that it sends
    the rest from the event log, in order, none twice."""
    from engine.api import events as event_routes

    monkeypatch.setattr(event_routes, "WS_BACKLOG", 500)
    await api.create("m", tmp_path)
    async with api.http.ws_connect(api.url("/events")) as ws:
        await api.call("PATCH", "/sessions/m", {"metadata": {"i": -1}})
        first = api.manager.events.last_seq
        session = api.manager.get("m")
        assert session is not None
        for i in range(200):  # a burst: emitted while the server's sender cannot run
            session.update_metadata({"i": i})
        last = api.manager.events.last_seq
        got = await _receive_until(ws, lambda e: e.get("seq") == last)
    got = [e for e in got if e["seq"] > first]
    assert [e["seq"] for e in got] == list(range(first + 1, last + 1))
    metadata = [e["metadata"]["i"] for e in got if e["type"] == "metadata"]
    assert metadata == list(range(200))


async def test_a_seq_from_before_a_restart_replays_this_instances_events(tmp_path: Path) -> None:
    """A client resuming with the seq it saw from the previous instance (seqs count from 1
    again) used to wait for that seq to be reached, missing every event until then. A seq
    beyond the newest replays from the start, and `instance` tells a restart apart even when
    the new instance has gone past the old seq."""
    instances = []
    for _round in range(2):
        async for api in serve(tmp_path):
            await api.create("r", tmp_path)
            _status, page = await api.call("GET", "/events?since=0")
            instances.append(page["instance"])
            newest = page["last_seq"]
            status, page = await api.call("GET", f"/events?since={newest + 100}&wait=5")
            assert status == 200 and page["events"][0]["seq"] == 1, page
            assert page["events"][0]["type"] == "created" and page["last_seq"] >= newest
            async with api.http.ws_connect(api.url(f"/events?since={newest + 100}")) as ws:
                assert (await ws.receive_json(timeout=10))["seq"] == 1
    assert instances[0] != instances[1] and all(instances)


async def test_command_as_a_list_is_argv_and_as_a_string_goes_to_the_shell(
    api: Api, tmp_path: Path
) -> None:
    """tmux's rule: one string is a shell command line (`&&` works), a list is the argv (a
    word with spaces or `;` stays one argument)."""
    status, data = await api.call(
        "POST",
        "/sessions",
        {"name": "s", "working_directory": str(tmp_path), "command": "true && exit 7"},
    )
    assert status == 201, data
    status, data = await api.call("GET", "/sessions/s/wait?timeout=10")
    assert data["exited"] is True and data["exit_code"] == 7
    argv = ["/bin/sh", "-c", 'printf "%s|" "$@"; exit 3', "sh", "a b", "c;d"]
    status, data = await api.call(
        "POST", "/sessions", {"name": "l", "working_directory": str(tmp_path), "command": argv}
    )
    assert status == 201, data
    status, data = await api.call("GET", "/sessions/l/wait?timeout=10")
    assert data["exit_code"] == 3
    status, data = await api.call("GET", "/sessions/l/output?since=0")
    assert data["output"] == "a b|c;d|"
    for bad in ([], [1], ""):
        status, data = await api.call(
            "POST", "/sessions", {"working_directory": str(tmp_path), "command": bad}
        )
        assert status == 400, (bad, data)


async def test_monitor_silence_is_set_at_create_and_by_patch(api: Api, tmp_path: Path) -> None:
    await api.create("quiet", tmp_path, monitor_silence=0.3)
    await wait_until(
        lambda: any(e.type == "silence" for e in api.manager.events.since(0)[0]),
        what="a silence event",
    )
    (silence,) = [e for e in api.manager.events.since(0)[0] if e.type == "silence"]
    assert silence.session == "quiet" and silence.data == {"seconds": 0.3}
    await api.create("later", tmp_path)
    status, data = await api.call("PATCH", "/sessions/later", {"monitor_silence": 0.2})
    assert status == 200, data
    await wait_until(
        lambda: any(
            e.type == "silence" and e.session == "later" for e in api.manager.events.since(0)[0]
        ),
        what="a silence event after PATCH",
    )
    for bad in (-1, "x", 10**9):
        status, data = await api.call("PATCH", "/sessions/later", {"monitor_silence": bad})
        assert status == 400, (bad, data)


async def test_output_that_is_not_text_comes_exactly_as_base64(api: Api, tmp_path: Path) -> None:
    """raw_output is UTF-8 (U+FFFD for what is not); base64=1 gives the bytes as written, over
    /output and over the stream."""
    every_byte = bytes(range(256))
    program = "import sys; sys.stdout.buffer.write(bytes(range(256))); sys.stdout.flush()"
    session = await api.manager.create_session_with_config(
        bash_config(name="bin", working_directory=tmp_path)
    )
    await session.start()
    await wait_for_screen(session, "$ ")
    start = session.output_offset
    await api.call("POST", "/sessions/bin/execute", {"command": f"python3 -c '{program}'"})
    status, data = await api.call("GET", f"/sessions/bin/output?since={start}&base64=1")
    assert status == 200
    # The tty turns LF into CR LF, as it does for tmux: the rest comes as written.
    written = every_byte.replace(b"\n", b"\r\n")
    assert written in base64.b64decode(data["raw_base64"])
    assert "\ufffd" in data["raw_output"]
    async with api.http.ws_connect(api.url(f"/sessions/bin/stream?since={start}&base64=1")) as ws:
        await api.call("POST", "/sessions/bin/input", {"text": "exit\r"})
        got = await _receive_until(ws, lambda m: m["type"] == "exit")
    streamed = b"".join(base64.b64decode(m["data_base64"]) for m in got if m["type"] == "output")
    assert written in streamed
    for query in ("base64=maybe", "base64=2"):
        status, data = await api.call("GET", f"/sessions/bin/output?since=0&{query}")
        assert (status, data["field"]) == (400, "base64"), query
    status, data = await api.call("GET", "/sessions/bin/screen?ansi=perhaps")
    assert (status, data["code"]) == (400, "INVALID_REQUEST")
