"""The agents' verbs run where agents run them: inside real panes (bash on a real PTY) whose
AI_SESSION_SOCKET points at a real server of this instance, three scripted agents talking,
sharing a task, logging a decision, tokens and spans."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import bash_config

from engine import Session, SessionManager
from engine.events import Event
from engine.server import Server, create_app

REPO = Path(__file__).resolve().parents[1]
AI = str(Path(sys.executable).parent / "ai-session")


class Panes:
    """Three agents' panes of one instance, and every event it reported."""

    def __init__(self, manager: SessionManager, sessions: dict[str, Session]) -> None:
        self.manager = manager
        self.sessions = sessions
        self.events: list[Event] = []
        manager.events.subscribe(self.events.append)

    async def run(self, agent: str, command: str) -> tuple[int | None, str]:
        """`command` typed at `agent`'s prompt: its exit status and output."""
        result = await self.sessions[agent].execute(command, timeout=60)
        assert not result.timed_out, (command, result.output)
        return result.exit_code, result.output.strip()

    async def ok(self, agent: str, command: str) -> str:
        code, output = await self.run(agent, command)
        assert code == 0, (command, output)
        return output


@pytest.fixture
async def panes() -> AsyncIterator[Panes]:
    run = Path(tempfile.mkdtemp(prefix="ais-coord-"))  # short: a socket path has 108 bytes
    socket = run / "control.sock"
    env = {
        "PYTHONPATH": str(REPO),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_RUNTIME_DIR": str(run),
    }
    async with SessionManager() as manager:
        manager.socket_path = str(socket)
        server = Server(create_app(manager))
        await server.start(socket)
        sessions = {}
        for name in ("alice", "bob", "carol"):
            config = bash_config(name=name, environment=env)
            session = await manager.create_session_with_config(config)
            await session.start()
            sessions[name] = session
        try:
            yield Panes(manager, sessions)
        finally:
            await server.close()
    shutil.rmtree(run, ignore_errors=True)


async def test_three_agents_exchange_a_message_a_task_and_a_decision(panes: Panes) -> None:
    hub = panes.manager.hub
    assert await panes.ok("bob", "ai-session task capable Rust api") == "bob: rust api"
    await panes.ok("carol", "ai-session task capable python")

    sent = await panes.ok(
        "alice", "ai-session msg --to bob --type question --priority high 'can you build the API?'"
    )
    assert sent.isdigit()
    inbox = await panes.ok("bob", "ai-session inbox")
    assert f"#{sent} " in inbox
    assert "alice → bob [question, high] can you build the API?" in inbox
    assert await panes.ok("bob", "ai-session inbox") == ""  # taken

    task_id = await panes.ok(
        "alice",
        "ai-session task submit build the auth API --require rust --require api"
        " --priority high --effort 30",
    )
    code, output = await panes.run("carol", "ai-session task take")
    assert code == 1 and "no pending task" in output  # carol lacks rust and api
    assert await panes.ok("bob", "ai-session task take") == f"{task_id}\tbuild the auth API"
    listing = await panes.ok("alice", "ai-session task list")
    assert listing.splitlines()[0].split() == [
        "ID",
        "STATUS",
        "PRIORITY",
        "AGENT",
        "NEEDS",
        "DESCRIPTION",
    ]
    row = listing.splitlines()[1].split(maxsplit=5)
    assert row == [task_id, "assigned", "high", "bob", "rust,api", "build the auth API"]

    decision = await panes.ok(
        "bob",
        "ai-session decide --option jwt --option sessions --selected jwt --confidence 0.8"
        " --why 'stateless' --type approach --context file=auth.rs",
    )
    await panes.ok("bob", f"ai-session outcome {decision} --success --note shipped")
    await panes.ok("bob", f"ai-session task done {task_id} --note shipped")
    usage = await panes.ok("bob", "ai-session tokens --input 1200 --output 300 --model m1")
    assert usage.startswith("bob: 1,200 in, 300 out, ")
    asked = await panes.ok("bob", "ai-session tokens --json")  # no counts: a question, no report
    assert '"input": 1200' in asked and '"reports": 1' in asked

    await panes.ok("bob", "ai-session msg --all --type status_update 'auth API done'")
    for agent in ("alice", "carol"):
        got = await panes.ok(agent, "ai-session inbox --json")
        assert '"to": null' in got and '"payload": "auth API done"' in got
    assert await panes.ok("bob", "ai-session inbox") == ""  # not to its sender

    root = await panes.ok("carol", "ai-session trace start review --meta file=auth.rs")
    leaf = await panes.ok("carol", f"ai-session trace start lint --parent {root}")
    await panes.ok("carol", f"ai-session trace end {leaf} --error")
    await panes.ok("carol", f"ai-session trace end {root}")
    tree = await panes.ok("carol", "ai-session trace list")
    assert tree.splitlines()[0].startswith("review [ok ")
    assert tree.splitlines()[1].startswith("  lint [error ")

    # what the panels read: the hub's records, and the events
    task = hub.tasks.get(int(task_id))
    assert (task.status, task.agent, task.note) == ("done", "bob", "shipped")
    assignment = hub.decisions.get(task.decision_id or 0)
    assert assignment.type == "task_assignment" and assignment.outcome == "success"
    mine = hub.decisions.get(int(decision))
    assert (mine.agent, mine.selected, mine.confidence, mine.outcome) == (
        "bob",
        "jwt",
        0.8,
        "success",
    )
    assert mine.context == {"file": "auth.rs"} and mine.rationale == "stateless"
    assert hub.token_usage("bob").total == 1500
    assert [s.name for s in hub.tracer.spans()] == ["review", "lint"]
    assert hub.tracer.spans()[0].agent == "carol"
    kinds = {e.type for e in panes.events}
    assert {"message", "task", "decision", "trace", "tokens"} <= kinds
    question = next(e for e in panes.events if e.type == "message")
    assert question.session == "alice"
    assert question.data["to"] == "bob" and question.data["message_type"] == "question"
    assert question.data["preview"] == "can you build the API?"


async def test_bad_input_gets_a_clear_error(panes: Panes) -> None:
    code, output = await panes.run(
        "alice", "ai-session decide --option a --option b --selected a --confidence 7"
    )
    assert code == 1 and "confidence must be a number from 0 to 1" in output
    code, output = await panes.run(
        "alice", "ai-session decide --option a --option b --selected c --confidence 0.5"
    )
    assert code == 1 and "'c' is not one of the options" in output
    code, output = await panes.run("alice", "ai-session msg --to nobody hello")
    assert code == 1 and "no session named 'nobody'" in output and "AGENT_NOT_FOUND" in output
    code, output = await panes.run("alice", "ai-session msg hello")
    assert code == 2 and "--to NAME or --all" in output
    code, output = await panes.run(
        "alice", "head -c 10000000 /dev/zero | tr '\\0' x | ai-session msg --to bob -"
    )
    assert code == 1 and "too large" in output
    code, output = await panes.run("alice", "ai-session outcome 99 --success")
    assert code == 1 and "no decision 99" in output
    code, output = await panes.run("alice", "ai-session task done 42")
    assert code == 1 and "no task 42" in output
    code, output = await panes.run("alice", "ai-session inbox --wait 0.2")
    assert code == 124 and output == ""
    assert panes.manager.hub.bus.pending("bob") == 0  # nothing half-sent


def test_outside_a_pane_or_an_instance_they_say_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_SESSION", "XDG_RUNTIME"))}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [AI, "msg", "--to", "bob", "hi"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert "no running ai-session instance" in done.stderr


async def test_outside_a_pane_an_agent_must_be_named(panes: Panes) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_SESSION")}
    env["AI_SESSION_SOCKET"] = str(panes.manager.socket_path)
    env["PYTHONPATH"] = str(REPO)
    process = await asyncio.create_subprocess_exec(
        AI, "inbox", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 2 and "give --agent NAME" in err.decode()
