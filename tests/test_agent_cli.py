"""`ai-session state`, `agents` and `hook claude`, run as a new process each (as a user, a
script in a pane or Claude Code's hooks run them) against a real server: from inside a real
pane through its $AI_SESSION_SOCKET, and from outside with --socket / -t."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_support import Api, serve_socket
from conftest import wait_for_screen, wait_until

from engine.agents import AgentState, AgentStatus

BIN = Path(sys.executable).parent
AI = str(BIN / "ai-session")
ROOT = Path(__file__).parent.parent


class Cli:
    """The server's API also on a unix socket, as an instance's control socket is; panes get it
    as $AI_SESSION_SOCKET."""

    def __init__(self, api: Api, socket: str) -> None:
        self.api = api
        self.socket = socket

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AI_SESSION")}
        env["PYTHONPATH"] = str(ROOT)
        env.update(extra)
        return env

    async def run(
        self, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            AI,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env if env is not None else self.env(),
        )
        out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    def status(self, name: str) -> AgentStatus | None:
        return self.api.manager.agents.status(name)

    async def pane(self, name: str) -> None:
        """A bash pane whose PATH finds `ai-session`, at its prompt."""
        await self.api.create(
            name,
            Path(self.socket).parent,
            environment={"PATH": f"{BIN}:/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        )
        session = self.api.manager.find_session(name)
        assert session is not None
        await wait_for_screen(session, "$ ")


@pytest.fixture
async def cli(tmp_path: Path) -> AsyncIterator[Cli]:
    async for api, path in serve_socket(tmp_path, snapshots=None):
        yield Cli(api, path)


async def test_a_script_in_a_pane_reports_that_it_waits(cli: Cli) -> None:
    await cli.pane("worker")
    session = cli.api.manager.find_session("worker")
    assert session is not None
    await session.send_input(
        "ai-session state waiting --question 'Deploy v2 to production?' && read answer\r"
    )
    await wait_until(lambda: (s := cli.status("worker")) is not None and s.source == "report", 30)
    status = cli.status("worker")
    assert status is not None
    assert (status.state, status.reason, status.question) == (
        AgentState.WAITING,
        "reported",
        "Deploy v2 to production?",
    )
    code, out, err = await cli.run("agents", "--socket", cli.socket)
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split()[:3] == ["NAME", "STATE", "SINCE"]
    assert row.startswith("worker") and "waiting" in row
    assert row.endswith("reported: Deploy v2 to production?")
    code, out, err = await cli.run("agents", "--json", "--socket", cli.socket)
    (agent,) = json.loads(out)["agents"]
    assert (agent["session"], agent["state"], agent["source"]) == ("worker", "waiting", "report")
    await session.send_input("yes\r")  # answered: the screen changes, the report is over
    await wait_until(lambda: (s := cli.status("worker")) is not None and s.source == "screen")


async def test_state_from_outside_with_a_target(cli: Cli) -> None:
    await cli.pane("w2")
    code, _, err = await cli.run(
        "state", "working", "--reason", "indexing", "-t", "w2", "--socket", cli.socket
    )
    assert code == 0, err
    status = cli.status("w2")
    assert status is not None and (status.state, status.reason) == (AgentState.WORKING, "indexing")


async def test_state_errors_are_clear(cli: Cli) -> None:
    await cli.pane("w3")
    code, _, err = await cli.run("state", "idle", "--socket", cli.socket)
    assert code == 2 and "-t NAME" in err  # outside a pane, no target
    code, _, err = await cli.run("state", "idle", "-t", "nobody", "--socket", cli.socket)
    assert code == 1 and "nobody" in err and "SESSION_NOT_FOUND" in err
    code, _, err = await cli.run("state", "sleeping", "-t", "w3", "--socket", cli.socket)
    assert code == 2 and "invalid choice" in err
    missing = tempfile.mkdtemp(prefix="ais-none-")
    code, _, err = await cli.run("state", "idle", "-t", "w3", env=cli.env(XDG_RUNTIME_DIR=missing))
    assert code == 1 and "no running ai-session instance" in err
    shutil.rmtree(missing, ignore_errors=True)


PERMISSION = {
    "session_id": "9a1c",
    "transcript_path": "/home/kim/.claude/projects/-home-kim-shop/9a1c.jsonl",
    "cwd": "/home/kim/shop",
    "hook_event_name": "Notification",
    "notification_type": "permission_prompt",
    "message": "Claude needs your permission to use Bash",
}


async def test_claude_code_hooks_from_inside_a_pane(cli: Cli, tmp_path: Path) -> None:
    """Claude Code runs its hooks with the pane's environment: `ai-session hook claude` finds
    the instance and the session by $AI_SESSION_SOCKET and $AI_SESSION_NAME."""
    await cli.pane("cc")
    session = cli.api.manager.find_session("cc")
    assert session is not None
    payload = tmp_path / "permission.json"
    payload.write_text(json.dumps(PERMISSION))
    # as Claude Code would: the hook's output goes nowhere on screen, and Claude sits there
    out = tmp_path / "hook.out"
    await session.send_input(f"ai-session hook claude < {payload} > {out} 2>&1; cat\r")
    await wait_until(lambda: (s := cli.status("cc")) is not None and s.source == "hook", 30)
    status = cli.status("cc")
    assert status is not None
    assert (status.state, status.reason, status.question, status.kind) == (
        AgentState.WAITING,
        "permission",
        "Claude needs your permission to use Bash",
        "claude",
    )
    await wait_until(out.exists)
    assert out.read_text() == ""  # nothing on stdout for Claude Code to take in, no note
    stop = json.dumps({"hook_event_name": "Stop", "session_id": "9a1c"}).encode()
    code, out, err = await cli.run("hook", "claude", "-t", "cc", "--socket", cli.socket, stdin=stop)
    assert (code, out, err) == (0, "", "")
    status = cli.status("cc")
    assert status is not None and (status.state, status.source) == (AgentState.IDLE, "hook")


async def test_hook_never_fails_claude_code(cli: Cli) -> None:
    await cli.pane("h")
    body = json.dumps(PERMISSION).encode()
    missing = tempfile.mkdtemp(prefix="ais-none-")
    cases = [
        # no instance reachable
        (["hook", "claude"], cli.env(XDG_RUNTIME_DIR=missing, AI_SESSION_NAME="h"), body),
        # not in a pane and no -t
        (["hook", "claude", "--socket", cli.socket], cli.env(), body),
        # not JSON, or JSON the instance refuses
        (["hook", "claude", "-t", "h", "--socket", cli.socket], cli.env(), b"{oops"),
        (["hook", "claude", "-t", "h", "--socket", cli.socket], cli.env(), b"[1, 2]"),
        (["hook", "claude", "-t", "nobody", "--socket", cli.socket], cli.env(), body),
        # a socket nobody listens on
        (["hook", "claude", "-t", "h", "--socket", missing + "/gone.sock"], cli.env(), body),
    ]
    for args, env, stdin in cases:
        code, out, err = await cli.run(*args, env=env, stdin=stdin)
        assert (code, out) == (0, ""), (args, err)
        assert err.startswith("ai-session hook: ") and err.count("\n") == 1, (args, err)
    shutil.rmtree(missing, ignore_errors=True)
    status = cli.status("h")
    assert status is not None and status.source == "screen"  # none of it got through
