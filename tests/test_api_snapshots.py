"""/snapshots as an orchestrator uses it: take, list, show, export, restore, delete; bad input
and an instance without a database get clear 4xx answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_support import Api, serve
from conftest import wait_until


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        yield a


async def _screen(api: Api, name: str) -> str:
    status, data = await api.call("GET", f"/sessions/{name}/screen")
    assert status == 200
    return str(data["screen"])


async def test_take_show_export_restore_delete(api: Api, tmp_path: Path) -> None:
    await api.create("agent", tmp_path)
    status, _ = await api.call("POST", "/sessions/agent/execute", {"command": "echo 'step one'"})
    assert status == 200
    status, taken = await api.call("POST", "/snapshots", {"session": "agent", "note": "n1"})
    assert status == 201 and taken["kind"] == "pane" and taken["sessions"] == ["agent"]
    status, listed = await api.call("GET", "/snapshots?session=agent")
    assert [s["id"] for s in listed["snapshots"]] == [taken["id"]]
    status, shown = await api.call("GET", f"/snapshots/{taken['id']}")
    [pane] = shown["panes"]
    assert "step one" in pane["screen"] and pane["cwd"] == str(tmp_path)

    async with api.http.get(api.url(f"/snapshots/{taken['id']}/asciicast")) as r:
        assert r.status == 200
        lines = (await r.text()).splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 3 and header["term"]["cols"] > 0
    events = [json.loads(line) for line in lines[1:]]
    assert all(e[0] >= 0 for e in events)
    assert "step one" in "".join(e[2] for e in events if e[1] == "o")

    status, restored = await api.call("POST", f"/snapshots/{taken['id']}/restore", {})
    assert status == 201
    [again] = restored["sessions"]
    assert again["name"] != "agent"
    session = api.manager.find_session(again["name"])
    assert session is not None
    await wait_until(
        lambda: "step one" in session.capture_pane(start="-"),
        what=lambda: session.capture_pane(start="-"),
    )

    status, gone = await api.call("DELETE", f"/snapshots/{taken['id']}")
    assert (status, gone) == (200, {"id": taken["id"], "deleted": True})
    status, error = await api.call("GET", f"/snapshots/{taken['id']}")
    assert (status, error["code"]) == (404, "SNAPSHOT_NOT_FOUND")
    status, error = await api.call("DELETE", f"/snapshots/{taken['id']}")
    assert (status, error["code"]) == (404, "SNAPSHOT_NOT_FOUND")


async def test_bad_requests_are_4xx_with_a_reason(api: Api, tmp_path: Path) -> None:
    await api.create("one", tmp_path)
    for method, path, body, code in [
        ("GET", "/snapshots/abc", None, 400),
        ("GET", "/snapshots/99999999999999999999", None, 400),
        ("POST", "/snapshots", {"sesion": "one"}, 400),
        ("POST", "/snapshots", {"note": "x" * 1001}, 400),
        ("POST", "/snapshots", {"session": "nobody"}, 404),
        ("POST", "/snapshots/5/restore", {}, 404),
        ("GET", "/snapshots?limit=0", None, 400),
    ]:
        status, data = await api.call(method, path, body)
        assert status == code, (method, path, data)
        assert data["code"] and data["error"]
    async with api.http.post(
        api.url("/snapshots"), data=b"{not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400


async def test_an_instance_without_a_database_answers_snapshots_off(tmp_path: Path) -> None:
    async for api in serve(tmp_path, snapshots=None):
        for method, path in [
            ("GET", "/snapshots"),
            ("POST", "/snapshots"),
            ("GET", "/snapshots/1"),
        ]:
            status, data = await api.call(method, path, {} if method == "POST" else None)
            assert (status, data["code"]) == (409, "SNAPSHOTS_OFF"), (method, path)
