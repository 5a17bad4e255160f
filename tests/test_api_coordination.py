"""The agents' routes over a real server: messages and inboxes, tasks, decisions, tokens and
traces as an orchestrator or an agent calls them; bad input gets a 4xx that says why, never a
5xx; a session-scoped token acts only as its own session."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, serve
from conftest import wait_until


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async for a in serve(tmp_path):
        for name in ("alice", "bob", "carol"):
            await a.create(name, tmp_path)
        yield a


async def _ok(api: Api, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    got, data = await api.call(method, path, body)
    assert got == status, (method, path, got, data)
    return data


async def test_a_message_reaches_the_inbox_it_names(api: Api) -> None:
    sent = await _ok(
        api,
        "POST",
        "/messages",
        {"from": "alice", "to": "bob", "type": "Question", "priority": "high", "payload": "hi"},
        201,
    )
    assert (sent["from"], sent["to"], sent["type"], sent["priority"]) == (
        "alice",
        "bob",
        "question",
        "high",
    )
    inbox = await _ok(api, "GET", "/agents/bob/inbox")
    assert [m["id"] for m in inbox["messages"]] == [sent["id"]]
    assert (inbox["pending"], inbox["dropped"]) == (0, 0)
    assert (await _ok(api, "GET", "/agents/bob/inbox"))["messages"] == []
    listed = await _ok(api, "GET", "/messages?agent=carol")
    assert listed["messages"] == []  # neither from nor to carol
    everything = await _ok(api, "GET", f"/messages?since={sent['id'] - 1}")
    assert [m["payload"] for m in everything["messages"]] == ["hi"]
    page = await _ok(api, "GET", "/events?since=0")
    [told] = [e for e in page["events"] if e.get("id") == sent["id"] and "message_type" in e]
    assert (told["type"], told["message_type"], told["to"]) == ("message", "question", "bob")


async def test_an_inbox_long_poll_wakes_when_a_message_comes(api: Api) -> None:
    waiting = asyncio.create_task(api.call("GET", "/agents/carol/inbox?wait=30"))
    hub = api.manager.hub
    await wait_until(lambda: bool(hub.bus._inboxes["carol"].waiters), what="the poll to wait")
    await _ok(api, "POST", "/messages", {"from": "bob", "all": True, "payload": [1, 2]}, 201)
    status, data = await asyncio.wait_for(waiting, 10)
    assert status == 200 and [m["payload"] for m in data["messages"]] == [[1, 2]]
    assert data["messages"][0]["to"] is None


async def test_tasks_go_by_capability_and_report_what_cannot_go(api: Api) -> None:
    await _ok(api, "PUT", "/agents/bob/capabilities", {"capabilities": ["rust", "API"]})
    await _ok(api, "PUT", "/agents/carol/capabilities", {"capabilities": ["python"]})
    auth = await _ok(
        api,
        "POST",
        "/tasks",
        {
            "description": "auth",
            "requirements": ["rust", "api"],
            "priority": "high",
            "estimated_effort": 240,
            "metadata": {"auth": "JWT"},
            "from": "alice",
        },
        201,
    )
    assert (auth["status"], auth["submitted_by"], auth["estimated_effort"]) == (
        "pending",
        "alice",
        240.0,
    )
    await _ok(api, "POST", "/tasks", {"description": "gpu", "requirements": ["cuda"]}, 201)
    result = await _ok(api, "POST", "/tasks/distribute", {})
    assert [(a["task"]["id"], a["agent"]) for a in result["assigned"]] == [(auth["id"], "bob")]
    [stuck] = result["unassigned"]
    assert stuck["reason"] == "missing capability cuda: no agent has it"
    listed = await _ok(api, "GET", "/tasks?status=assigned")
    assert [t["id"] for t in listed["tasks"]] == [auth["id"]]
    assert listed["capabilities"] == {"bob": ["rust", "api"], "carol": ["python"]}
    done = await _ok(
        api, "POST", f"/tasks/{auth['id']}/done", {"agent": "bob", "success": True, "note": "ok"}
    )
    assert done["status"] == "done"
    decisions = await _ok(api, "GET", "/decisions?type=task_assignment")
    assert [(d["selected"], d["outcome"]) for d in decisions["decisions"]] == [("bob", "success")]
    # an agent takes the best it can do; none left for carol
    assert (await _ok(api, "POST", "/tasks/take", {"agent": "carol"}))["task"] is None
    status, error = await api.call("POST", f"/tasks/{auth['id']}/take", {"agent": "carol"})
    assert status == 409 and error["code"] == "CONFLICT"


async def test_decisions_outcomes_and_patterns(api: Api) -> None:
    made = await _ok(
        api,
        "POST",
        "/decisions",
        {
            "agent": "alice",
            "type": "approach",
            "options": ["jwt", "sessions"],
            "selected": "jwt",
            "confidence": 0.9,
            "rationale": "stateless",
            "context": {"service": "auth"},
        },
        201,
    )
    assert made["outcome"] is None and made["agent"] == "alice"
    after = await _ok(api, "POST", f"/decisions/{made['id']}/outcome", {"success": False})
    assert after["outcome"] == "failure"
    patterns = await _ok(api, "GET", "/decisions/patterns")
    assert patterns["total"] == 1 and patterns["by_type"]["approach"]["success_rate"] == 0.0
    assert patterns["calibration"][2] == {
        "range": "0.8-1",
        "low": 0.8,
        "high": 1.0,
        "decisions": 1,
        "mean_confidence": 0.9,
        "success_rate": 0.0,
    }
    status, error = await api.call("POST", f"/decisions/{made['id']}/outcome", {"success": True})
    assert status == 409 and "already has an outcome" in error["error"]


async def test_tokens_and_traces(api: Api) -> None:
    usage = await _ok(
        api, "POST", "/tokens", {"agent": "bob", "input": 1000, "output": 200, "model": "m"}, 201
    )
    assert (usage["total"], usage["model"], usage["burn_rate"]) == (1200, "m", 240.0)
    assert (await _ok(api, "GET", "/tokens?agent=bob"))["usage"][0]["series"][-1] == 1200
    root = await _ok(api, "POST", "/traces/spans", {"name": "review", "agent": "bob"}, 201)
    leaf = await _ok(
        api,
        "POST",
        "/traces/spans",
        {"name": "lint", "parent": root["span_id"], "metadata": {"files": 3}},
        201,
    )
    assert leaf["trace_id"] == root["trace_id"] and leaf["agent"] is None
    await _ok(api, "POST", f"/traces/spans/{leaf['span_id']}/end", {"status": "error"})
    [tree] = (await _ok(api, "GET", "/traces"))["traces"]
    assert tree["status"] == "running" and tree["children"][0]["status"] == "error"


@pytest.mark.parametrize(
    "method, path, body, status, code",
    [
        (
            "POST",
            "/messages",
            {"from": "alice", "to": "nobody", "payload": 1},
            404,
            "AGENT_NOT_FOUND",
        ),
        (
            "POST",
            "/messages",
            {"from": "nobody", "to": "bob", "payload": 1},
            404,
            "AGENT_NOT_FOUND",
        ),
        ("POST", "/messages", {"from": "alice", "payload": 1}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/messages",
            {"from": "alice", "to": "bob", "all": True, "payload": 1},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/messages", {"from": "alice", "to": "bob"}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/messages",
            {"from": "alice", "to": "bob", "payload": 1, "type": "gossip"},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/messages",
            {"from": "alice", "to": "bob", "payload": 1, "priority": 9},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/messages",
            {"from": "alice", "to": "bob", "payload": 1, "urgent": 1},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/messages", {"from": 5, "to": "bob", "payload": 1}, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/messages",
            {"from": "alice", "to": "bob", "payload": 1, "reply_to": 10**30},
            400,
            "INVALID_REQUEST",
        ),
        ("GET", "/agents/nobody/inbox", None, 404, "AGENT_NOT_FOUND"),
        ("GET", "/agents/bob/inbox?wait=9999", None, 400, "INVALID_REQUEST"),
        ("GET", "/agents/bob/inbox?wait=soon", None, 400, "INVALID_REQUEST"),
        (
            "POST",
            "/decisions",
            {"agent": "alice", "options": ["a"], "selected": "a", "confidence": 7},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/decisions",
            {"agent": "alice", "options": ["a"], "selected": "b", "confidence": 0.5},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/decisions",
            {"agent": "alice", "options": ["a"], "selected": "a"},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/decisions",
            {"agent": "alice", "options": "a", "selected": "a", "confidence": 1},
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/decisions",
            {"agent": "alice", "options": ["a"], "selected": "a", "confidence": 1, "type": "vibes"},
            400,
            "INVALID_REQUEST",
        ),
        ("POST", "/decisions/77/outcome", {"success": True}, 404, "DECISION_NOT_FOUND"),
        ("POST", "/decisions/x/outcome", {"success": True}, 400, "INVALID_REQUEST"),
        ("POST", "/tasks", {"description": " "}, 400, "INVALID_REQUEST"),
        ("POST", "/tasks", {"description": "x", "estimated_effort": -5}, 400, "INVALID_REQUEST"),
        ("POST", "/tasks", {"description": "x", "requirements": [1]}, 400, "INVALID_REQUEST"),
        ("POST", "/tasks/12/take", {"agent": "bob"}, 404, "TASK_NOT_FOUND"),
        ("POST", "/tasks/x/done", {"agent": "bob"}, 400, "INVALID_REQUEST"),
        ("POST", "/tasks/99999999999999999999999/done", {"agent": "bob"}, 400, "INVALID_REQUEST"),
        ("POST", "/tasks/take", {}, 400, "INVALID_REQUEST"),
        ("POST", "/tokens", {"agent": "bob", "input": -1}, 400, "INVALID_REQUEST"),
        ("POST", "/tokens", {"agent": "bob", "input": 1.5}, 400, "INVALID_REQUEST"),
        ("POST", "/traces/spans", {"name": "x", "parent": "nope"}, 404, "SPAN_NOT_FOUND"),
        ("POST", "/traces/spans/nope/end", {}, 404, "SPAN_NOT_FOUND"),
        ("GET", "/tasks?status=lost", None, 400, "INVALID_REQUEST"),
        ("GET", "/decisions?type=vibes", None, 400, "INVALID_REQUEST"),
        ("GET", "/messages?agent=nobody", None, 404, "AGENT_NOT_FOUND"),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    api: Api, method: str, path: str, body: Any, status: int, code: str
) -> None:
    got, data = await api.call(method, path, body)
    assert (got, data["code"]) == (status, code), data
    assert data["error"]


async def test_a_ten_megabyte_message_and_malformed_json_are_refused(api: Api) -> None:
    huge = {"from": "alice", "to": "bob", "payload": "x" * (10 << 20)}
    status, data = await api.call("POST", "/messages", huge)
    assert (status, data["code"]) == (413, "PAYLOAD_TOO_LARGE")  # the bus's answer and advice
    assert "share a file path" in data["error"] and "1,048,576" in data["error"]
    headers = {"Content-Type": "application/json"}
    async with api.http.post(api.url("/messages"), data=b"{not json", headers=headers) as r:
        assert r.status == 400 and "malformed JSON" in (await r.json())["error"]
    overflow = b'{"description": "x", "estimated_effort": 1e400}'  # inf to Python's json
    async with api.http.post(api.url("/tasks"), data=overflow, headers=headers) as r:
        assert r.status == 400 and "minutes >= 0" in (await r.json())["error"]
    near = {"from": "alice", "to": "bob", "payload": "\x01" * 200_000}  # 1.2 MB as JSON
    status, data = await api.call("POST", "/messages", near)
    assert status == 413
    assert api.manager.hub.bus.pending("bob") == 0


async def test_a_scoped_token_acts_only_as_its_own_session(api: Api) -> None:
    token = (await _ok(api, "POST", "/sessions/alice/token", {}, 201))["token"]
    scoped = {"Authorization": f"Bearer {token}"}

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await api.call(method, path, body, headers=scoped)

    status, _ = await call("POST", "/messages", {"from": "alice", "to": "bob", "payload": 1})
    assert status == 201
    status, error = await call("POST", "/messages", {"from": "bob", "to": "alice", "payload": 2})
    assert status == 403 and error["code"] == "PERMISSION_DENIED"
    assert (await call("GET", "/agents/bob/inbox"))[0] == 403
    assert (await call("GET", "/agents/alice/inbox"))[0] == 200
    assert (await call("GET", "/messages?agent=bob"))[0] == 403
    await _ok(api, "POST", "/messages", {"from": "bob", "to": "carol", "payload": "private"}, 201)
    status, mine = await call("GET", "/messages")
    assert status == 200 and [m["payload"] for m in mine["messages"]] == [1]
    bob = await _ok(
        api,
        "POST",
        "/decisions",
        {"agent": "bob", "options": ["a"], "selected": "a", "confidence": 1},
        201,
    )
    assert (await call("POST", f"/decisions/{bob['id']}/outcome", {"success": True}))[0] == 403
    status, span = await call("POST", "/traces/spans", {"name": "mine"})
    assert status == 201 and span["agent"] == "alice"  # left out: its own session
    status, task = await call("POST", "/tasks", {"description": "help"})
    assert status == 201 and task["submitted_by"] == "alice"
    assert (await call("PUT", "/agents/bob/capabilities", {"capabilities": ["x"]}))[0] == 403
    assert (await call("POST", "/tasks/distribute", {}))[0] == 403
    assert (await call("POST", "/tokens", {"agent": "bob", "input": 1}))[0] == 403
    refused = [r for r in api.audit.records if r.action == "act-as"]
    assert refused and all(not r.allowed for r in refused)
    assert {r.session for r in refused} == {"bob"}


async def test_what_the_api_records_is_in_the_database(api: Api, tmp_path: Path) -> None:
    await _ok(api, "POST", "/messages", {"from": "alice", "to": "bob", "payload": {"a": 1}}, 201)
    await _ok(
        api,
        "POST",
        "/decisions",
        {"agent": "bob", "options": ["a", "b"], "selected": "b", "confidence": 0.4},
        201,
    )
    await _ok(api, "POST", "/tokens", {"agent": "bob", "input": 3, "output": 4}, 201)
    await api.manager.hub.flush()
    db = sqlite3.connect(tmp_path / "api-data" / "ai-session.db")
    assert db.execute("SELECT sender, recipient, body FROM agent_messages").fetchall() == [
        ("alice", "bob", '{"a":1}')
    ]
    assert db.execute("SELECT agent, answer FROM decisions").fetchall() == [("bob", "b")]
    assert db.execute("SELECT agent, input, output FROM token_usage").fetchall() == [("bob", 3, 4)]


async def test_a_scoped_token_lists_only_the_tasks_it_may_act_on(api: Api) -> None:
    token = (await _ok(api, "POST", "/sessions/alice/token", {}, 201))["token"]
    scoped = {"Authorization": f"Bearer {token}"}
    await _ok(api, "PUT", "/agents/alice/capabilities", {"capabilities": ["python"]})
    await _ok(api, "PUT", "/agents/bob/capabilities", {"capabilities": ["rust", "python"]})

    async def submit(description: str, by: str, needs: list[str]) -> int:
        body = {"description": description, "from": by, "requirements": needs}
        if description == "secret":
            body["metadata"] = {"db_password": "hunter2"}
        task = await _ok(api, "POST", "/tasks", body, 201)
        return int(task["id"])

    secret = await submit("secret", "bob", ["rust"])  # not alice's to do
    doable = await submit("doable", "bob", ["python"])  # pending, alice can do it
    mine = await submit("mine", "alice", ["rust"])  # alice submitted it
    held = await submit("held", "carol", [])
    await _ok(api, "POST", f"/tasks/{held}/take", {"agent": "alice"})
    taken = await submit("taken", "carol", ["python"])
    await _ok(api, "POST", f"/tasks/{taken}/take", {"agent": "bob"})  # bob's now

    status, listed = await api.call("GET", "/tasks", headers=scoped)
    assert status == 200
    assert [t["id"] for t in listed["tasks"]] == [doable, mine, held]
    assert "hunter2" not in str(listed)
    everything = await _ok(api, "GET", "/tasks")  # an admin client sees them all
    assert [t["id"] for t in everything["tasks"]] == [secret, doable, mine, held, taken]
    status, error = await api.call("GET", "/tasks?agent=nobody")
    assert (status, error["code"]) == (404, "AGENT_NOT_FOUND")
    by_id = api.manager.find_session("bob")
    assert by_id is not None
    status, bobs = await api.call("GET", f"/tasks?agent={by_id.id}")  # an id names it too
    assert status == 200 and [t["id"] for t in bobs["tasks"]] == [taken]
    for other in ("bob", "nobody"):  # another agent's tasks, there or not: not alice's to see
        status, refused = await api.call("GET", f"/tasks?agent={other}", headers=scoped)
        assert (status, refused["code"]) == (403, "PERMISSION_DENIED"), other
