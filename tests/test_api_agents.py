"""/agents over a real server with real sessions: list, one, reports and Claude Code hooks;
bad input is a clear 4xx (never a 5xx), and a session-scoped token sees and reports only its
own session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_support import Api, serve
from conftest import wait_until


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path, snapshots=None):
        yield a


async def known(api: Api, name: str) -> None:
    await wait_until(lambda: api.manager.agents.status(name) is not None)


async def test_list_one_and_report(api: Api, tmp_path: Path) -> None:
    for name in ("one", "two"):
        await api.create(name, tmp_path)
        await known(api, name)
    status, data = await api.call("GET", "/agents")
    assert status == 200 and data["total"] == 2
    assert [a["session"] for a in data["agents"]] == ["one", "two"]
    status, data = await api.call(
        "POST", "/agents/two/state", {"state": "waiting", "question": "Merge PR 12?"}
    )
    assert status == 200
    assert (data["state"], data["reason"], data["question"], data["source"]) == (
        "waiting",
        "reported",
        "Merge PR 12?",
        "report",
    )
    status, data = await api.call("GET", "/agents/two")
    assert (status, data["state"], data["question"]) == (200, "waiting", "Merge PR 12?")
    session = api.manager.find_session("two")
    assert session is not None
    status, data = await api.call("GET", f"/agents/{session.id}")  # by id too
    assert (status, data["session"]) == (200, "two")
    events, _ = api.manager.events.since(0)
    assert any(e.type == "agent" and e.data["question"] == "Merge PR 12?" for e in events)


async def test_a_claude_hook(api: Api, tmp_path: Path) -> None:
    await api.create("cc", tmp_path)
    await known(api, "cc")
    payload = {
        "session_id": "2f6e",
        "transcript_path": str(tmp_path / "t.jsonl"),
        "cwd": str(tmp_path),
        "hook_event_name": "Notification",
        "notification_type": "permission_prompt",
        "message": "Claude needs your permission to use Bash",
    }
    status, data = await api.call("POST", "/agents/cc/hook?kind=claude", payload)
    assert status == 200
    assert (data["state"], data["reason"], data["question"], data["kind"], data["source"]) == (
        "waiting",
        "permission",
        "Claude needs your permission to use Bash",
        "claude",
        "hook",
    )
    # t.jsonl is not under the session's Claude config's projects/: ignored, and said why
    hooks = [r.detail for r in api.audit.records if r.action == "agent-hook"]
    assert hooks[-1].startswith("claude Notification; transcript ignored: ")
    assert "is not under" in hooks[-1] and "projects" in hooks[-1]
    status, data = await api.call("POST", "/agents/cc/hook", {"hook_event_name": "Stop"})
    assert (status, data["state"]) == (200, "idle")  # kind defaults to claude
    hooks = [r.detail for r in api.audit.records if r.action == "agent-hook"]
    assert hooks[-1] == "claude Stop"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/agents/nobody", None, 404, "SESSION_NOT_FOUND"),
        ("POST", "/agents/nobody/state", {"state": "idle"}, 404, "SESSION_NOT_FOUND"),
        ("POST", "/agents/nobody/hook", {"hook_event_name": "Stop"}, 404, "SESSION_NOT_FOUND"),
        ("POST", "/agents/a/state", {"state": "sleeping"}, 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/state", {"state": "exited"}, 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/state", {"state": 3}, 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/state", {}, 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/state", {"state": "idle", "mood": "ok"}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/agents/a/state",
            {"state": "waiting", "question": "x\x00"},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/agents/a/state", [1, 2], 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/hook", [1], 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/hook", {"message": "no event"}, 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/hook", {"hook_event_name": 7}, 400, "INVALID_REQUEST"),
        ("POST", "/agents/a/hook?kind=cursor", {"hook_event_name": "Stop"}, 400, "INVALID_REQUEST"),
    ],
)
async def test_bad_input_is_a_clear_error(
    api: Api, tmp_path: Path, method: str, path: str, body: object, status: int, code: str
) -> None:
    await api.create("a", tmp_path)
    await known(api, "a")
    got, data = await api.call(method, path, body)
    assert (got, data["code"]) == (status, code), data
    assert data["error"]


@pytest.mark.parametrize("path", ["/agents/a/state", "/agents/a/hook?kind=claude"])
async def test_not_json_is_a_400(api: Api, tmp_path: Path, path: str) -> None:
    await api.create("a", tmp_path)
    await known(api, "a")
    for raw in (b"{not json", b"\xff\xfe", b'{"state": NaN}'):
        async with api.http.post(
            api.url(path), data=raw, headers={"Content-Type": "application/json"}
        ) as r:
            data = await r.json()
            assert (r.status, data["code"]) == (400, "INVALID_REQUEST"), raw
    async with api.http.post(api.url(path), data=b"x" * (2 << 20)) as r:  # too big
        assert r.status in (413, 415)  # not JSON by its type, or too large: never a 5xx


async def test_scoped_tokens_see_and_report_only_their_own(tmp_path: Path) -> None:
    admin = {"Authorization": "Bearer s3cret"}
    async for api in serve(tmp_path, token="s3cret", snapshots=None):
        for name in ("mine", "theirs"):
            await api.create(name, tmp_path, headers=admin)
            await known(api, name)
        status, made = await api.call("POST", "/sessions/mine/token", {}, headers=admin)
        mine = {"Authorization": f"Bearer {made['token']}"}
        status, data = await api.call("GET", "/agents", headers=mine)
        assert [a["session"] for a in data["agents"]] == ["mine"]
        status, data = await api.call("POST", "/agents/mine/state", {"state": "idle"}, headers=mine)
        assert (status, data["state"]) == (200, "idle")
        for method, path, body in [
            ("GET", "/agents/theirs", None),
            ("POST", "/agents/theirs/state", {"state": "working"}),
            ("POST", "/agents/theirs/hook", {"hook_event_name": "Stop"}),
        ]:
            status, data = await api.call(method, path, body, headers=mine)
            assert (status, data["code"]) == (403, "PERMISSION_DENIED"), (method, path)
        status, made = await api.call(
            "POST", "/sessions/mine/token", {"read_only": True}, headers=admin
        )
        reader = {"Authorization": f"Bearer {made['token']}"}
        assert (await api.call("GET", "/agents/mine", headers=reader))[0] == 200
        status, data = await api.call(
            "POST", "/agents/mine/state", {"state": "working"}, headers=reader
        )
        assert (status, data["code"]) == (403, "PERMISSION_DENIED")
        theirs = api.manager.agents.status("theirs")
        assert theirs is not None and theirs.source != "report"  # nothing got through
