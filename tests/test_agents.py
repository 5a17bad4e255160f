"""Agent state from real panes: scripts that ask `(y/n)` and wait, a stand-in agent CLI named
`claude` that shows the screens the real one showed (tests/fixtures/agents), explicit reports,
Claude Code hook payloads, exits; each change is an `agent` event on the manager's log."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import bash_config, wait_for_screen, wait_until

from engine import Session, SessionManager
from engine.agents import AgentState, AgentStatus
from engine.claude import project_name
from engine.config import SessionConfig

FIXTURES = Path(__file__).parent / "fixtures"

# A stand-in for an agent CLI: shows one recorded screen after another (the next on each line
# typed), then exits with $FAKE_EXIT. Installed as `claude` so the monitor knows it by name.
FAKE_AGENT = f"""#!{sys.executable}
import os, sys
screens = {str(FIXTURES / "agents")!r}
for name in sys.argv[1:]:
    text = open(os.path.join(screens, name + ".txt")).read().rstrip("\\n")
    sys.stdout.write("\\x1b[H\\x1b[2J" + text.replace("\\n", "\\r\\n"))
    sys.stdout.flush()
    sys.stdin.readline()
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def fake_agent(tmp_path: Path, name: str = "claude") -> Path:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(FAKE_AGENT)
    path.chmod(0o755)
    return path


def state(manager: SessionManager, name: str) -> AgentStatus:
    status = manager.agents.status(name)
    assert status is not None, f"no agent status for {name}"
    return status


async def reaches(
    manager: SessionManager, name: str, want: AgentState, timeout: float = 10.0
) -> AgentStatus:
    def now() -> bool:
        status = manager.agents.status(name)
        return status is not None and status.state == want

    await wait_until(now, timeout, lambda: f"{name} {want}; it is {manager.agents.status(name)}")
    return state(manager, name)


def agent_events(manager: SessionManager, name: str) -> list[dict[str, Any]]:
    events, _ = manager.events.since(0)
    return [e.data for e in events if e.type == "agent" and e.session == name]


async def started(manager: SessionManager, config: SessionConfig) -> Session:
    session = await manager.create_session_with_config(config)
    await session.start()
    return session


async def at_prompt(manager: SessionManager, name: str) -> Session:
    """A bash session named `name`, at its `$ ` prompt."""
    session = await started(manager, bash_config(name=name))
    await wait_for_screen(session, "$ ")
    return session


async def test_a_script_asking_y_n_waits_with_its_question(
    manager: SessionManager, tmp_path: Path
) -> None:
    session = await at_prompt(manager, "deploy")
    await reaches(manager, "deploy", AgentState.IDLE)
    script = tmp_path / "deploy.sh"
    script.write_text(
        'echo building; read -p "Deploy to production? (y/n) " answer; echo "$answer"\n'
    )
    await session.send_input(f"bash {script}\r")
    status = await reaches(manager, "deploy", AgentState.WAITING)
    assert (status.reason, status.question, status.source) == (
        "confirm",
        "Deploy to production? (y/n)",
        "screen",
    )
    assert status.command == "bash"
    await session.send_input("y\r")
    await reaches(manager, "deploy", AgentState.IDLE)
    seen = agent_events(manager, "deploy")
    waiting = [e for e in seen if e["state"] == "waiting"]
    assert waiting and waiting[0]["question"] == "Deploy to production? (y/n)"
    assert set(waiting[0]) == {"state", "reason", "question", "kind", "command", "source"}
    assert seen[-1]["state"] == "idle"


async def test_a_program_in_the_foreground_asking_y_n(manager: SessionManager) -> None:
    session = await at_prompt(manager, "py")
    await session.send_input("python3 -c \"input('Overwrite notes.txt? [Y/n] ')\"\r")
    status = await reaches(manager, "py", AgentState.WAITING)
    assert (status.reason, status.question) == ("confirm", "Overwrite notes.txt? [Y/n]")
    assert status.command == "python3"
    await session.send_input("\r")
    await reaches(manager, "py", AgentState.IDLE)


async def test_output_flowing_is_work_and_the_prompt_after_it_idle(
    manager: SessionManager,
) -> None:
    session = await at_prompt(manager, "build")
    await reaches(manager, "build", AgentState.IDLE)
    await session.send_input("for i in $(seq 30); do echo step $i; sleep 0.1; done\r")
    await reaches(manager, "build", AgentState.WORKING)
    await wait_for_screen(session, "step 30")
    await reaches(manager, "build", AgentState.IDLE)


async def test_a_password_prompt(manager: SessionManager) -> None:
    session = await at_prompt(manager, "pw")
    await session.send_input("read -s -p 'Password for deploy@prod: ' pw\r")
    status = await reaches(manager, "pw", AgentState.WAITING)
    assert (status.reason, status.question) == ("password", "Password for deploy@prod:")


async def test_the_exit_is_exited_with_its_code(manager: SessionManager) -> None:
    session = await at_prompt(manager, "gone")
    await session.send_input("exit 3\r")
    status = await reaches(manager, "gone", AgentState.EXITED)
    assert (status.reason, status.source, status.command) == ("exit 3", "process", None)
    assert manager.agents.statuses()[-1].session == "gone"  # still listed until removed
    await manager.remove_session("gone")
    assert manager.agents.status("gone") is None


async def test_a_killed_agent_has_exited_not_failed(
    manager: SessionManager, tmp_path: Path
) -> None:
    claude = fake_agent(tmp_path)
    config = SessionConfig(name="k", shell_command=[str(claude), "claude_idle"], pty_size=(40, 120))
    session = await started(manager, config)
    await wait_until(lambda: state(manager, "k").kind == "claude")
    session.send_signal("KILL")
    status = await reaches(manager, "k", AgentState.EXITED)
    assert (status.reason, status.kind) == ("killed by SIGKILL", "claude")


async def test_an_agent_cli_dialog_then_its_failed_exit(
    manager: SessionManager, tmp_path: Path
) -> None:
    """The stand-in `claude` (the pane's own program) shows Claude's trust dialog, then its
    permission dialog; it exits 1: an error, with the exit status."""
    claude = fake_agent(tmp_path)
    config = SessionConfig(
        name="claude1",
        shell_command=[str(claude), "claude_trust", "claude_permission_bash"],
        environment={"FAKE_EXIT": "1"},
        pty_size=(40, 120),
    )
    session = await started(manager, config)
    status = await reaches(manager, "claude1", AgentState.WAITING)
    assert (status.kind, status.reason, status.question) == (
        "claude",
        "trust",
        "Is this a project you created or one you trust?",
    )
    await session.send_input("\r")
    await wait_until(lambda: state(manager, "claude1").reason == "permission")
    assert state(manager, "claude1").question == "Do you want to proceed?"
    await session.send_input("\r")
    status = await reaches(manager, "claude1", AgentState.ERROR)
    assert (status.reason, status.kind, status.source) == ("exit 1", "claude", "process")


async def test_an_agent_cli_that_fails_in_a_shell_stays_an_error_until_the_next_command(
    manager: SessionManager, tmp_path: Path
) -> None:
    claude = fake_agent(tmp_path)
    config = bash_config(
        name="shellagent",
        environment={"PATH": f"{claude.parent}:/usr/bin:/bin", "FAKE_EXIT": "2"},
        pty_size=(40, 120),
    )
    session = await started(manager, config)
    await wait_for_screen(session, "$ ")
    await session.send_input("claude claude_working\r")
    status = await reaches(manager, "shellagent", AgentState.WORKING)
    await wait_until(lambda: state(manager, "shellagent").kind == "claude")
    await session.send_input("\r")
    status = await reaches(manager, "shellagent", AgentState.ERROR)
    assert (status.reason, status.kind) == ("exit 2", "claude")
    await session.send_input("echo next\r")
    await reaches(manager, "shellagent", AgentState.IDLE)


async def test_a_report_wins_until_the_screen_changes(manager: SessionManager) -> None:
    session = await at_prompt(manager, "rep")
    await session.send_input("cat\r")  # a program that prints nothing and waits
    await reaches(manager, "rep", AgentState.WORKING)
    status = manager.agents.report("rep", "waiting", question="Ship release 2.4?")
    assert (status.state, status.reason, status.question, status.source) == (
        AgentState.WAITING,
        "reported",
        "Ship release 2.4?",
        "report",
    )
    session.terminal.feed(b"")  # nothing new: the report stands through later reads
    await session.send_input("")
    assert state(manager, "rep").source == "report"
    await session.send_input("an answer\r")  # the screen changes: back to what it shows
    await wait_until(lambda: state(manager, "rep").source == "screen")
    assert state(manager, "rep").state == AgentState.WORKING
    events = agent_events(manager, "rep")
    assert any(e["source"] == "report" and e["question"] == "Ship release 2.4?" for e in events)


async def test_report_refuses_what_it_cannot_be(manager: SessionManager) -> None:
    session = await at_prompt(manager, "r2")
    with pytest.raises(KeyError):
        manager.agents.report("nobody", "idle")
    with pytest.raises(ValueError, match="unknown state"):
        manager.agents.report("r2", "sleeping")
    with pytest.raises(ValueError, match="exited"):
        manager.agents.report("r2", "exited")
    status = manager.agents.report(session.id, AgentState.IDLE, reason="done for today")
    assert (status.state, status.reason, status.question) == (
        AgentState.IDLE,
        "done for today",
        None,
    )
    long = manager.agents.report("r2", "waiting", question="x" * 10_000)
    assert long.question is not None and len(long.question) == 500


CLAUDE_HOOKS: list[tuple[dict[str, Any], AgentState, str | None, str | None]] = [
    (
        {
            "hook_event_name": "Notification",
            "notification_type": "permission_prompt",
            "message": "Claude needs your permission to use Bash",
        },
        AgentState.WAITING,
        "permission",
        "Claude needs your permission to use Bash",
    ),
    (
        {"hook_event_name": "Notification", "message": "Claude is waiting for your input"},
        AgentState.WAITING,
        "input",
        "Claude is waiting for your input",
    ),
    (
        {"hook_event_name": "UserPromptSubmit", "prompt": "fix it"},
        AgentState.WORKING,
        "prompt",
        None,
    ),
    (
        {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"}},
        AgentState.WORKING,
        "Bash",
        None,
    ),
    ({"hook_event_name": "PostToolUse", "tool_name": "Edit"}, AgentState.WORKING, "Edit", None),
    ({"hook_event_name": "Stop", "stop_hook_active": False}, AgentState.IDLE, None, None),
    (
        {"hook_event_name": "SessionEnd", "reason": "prompt_input_exit"},
        AgentState.IDLE,
        "session end: prompt_input_exit",
        None,
    ),
]


@pytest.mark.parametrize(("payload", "want", "reason", "question"), CLAUDE_HOOKS)
async def test_claude_hook_payloads(
    manager: SessionManager,
    payload: dict[str, Any],
    want: AgentState,
    reason: str | None,
    question: str | None,
) -> None:
    await at_prompt(manager, "hooked")
    base = {"session_id": "abc", "transcript_path": "/nowhere/x.jsonl", "cwd": "/tmp"}
    status = manager.agents.hook("hooked", {**base, **payload})
    assert (status.state, status.reason, status.question) == (want, reason, question)
    assert (status.kind, status.source) == ("claude", "hook")


async def test_hooks_that_say_nothing_and_bad_payloads(manager: SessionManager) -> None:
    await at_prompt(manager, "h2")
    await reaches(manager, "h2", AgentState.IDLE)
    before = state(manager, "h2")
    after = manager.agents.hook("h2", {"hook_event_name": "SubagentStop"})
    assert after.state == before.state
    after = manager.agents.hook("h2", {"hook_event_name": "Notification", "message": "Hi"})
    assert after.state == before.state
    with pytest.raises(ValueError, match="hook_event_name"):
        manager.agents.hook("h2", {"message": "no event name"})
    with pytest.raises(ValueError, match="kind"):
        manager.agents.hook("h2", {"hook_event_name": "Stop"}, kind="cursor")
    with pytest.raises(KeyError):
        manager.agents.hook("nobody", {"hook_event_name": "Stop"})


async def test_next_waiting_goes_round(manager: SessionManager) -> None:
    for name in ("a", "b", "c"):
        await at_prompt(manager, name)
    manager.agents.report("a", "waiting", question="A?")
    manager.agents.report("c", "waiting", question="C?")
    first = manager.agents.next_waiting()
    assert first is not None and first.session == "a"
    after_a = manager.agents.next_waiting("a")
    assert after_a is not None and after_a.session == "c"
    after_c = manager.agents.next_waiting("c")
    assert after_c is not None and after_c.session == "a"
    assert [s.session for s in manager.agents.statuses()] == ["a", "b", "c"]
    manager.rename_session("c", "cee")
    assert [s.session for s in manager.agents.statuses()] == ["a", "b", "cee"]
    manager.agents.report("a", "working")
    manager.agents.report("cee", "idle")
    assert manager.agents.next_waiting() is None


def _transcript_line(n: int, **usage: int) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "requestId": f"req_{n}",
            "isSidechain": False,
            "message": {"id": f"msg_{n}", "model": "claude-sonnet-4-5", "usage": usage},
        }
    )


async def test_claude_tokens_from_its_transcript(manager: SessionManager, tmp_path: Path) -> None:
    """The stand-in claude runs in a project directory; its transcript lies where Claude Code
    keeps that project's (CLAUDE_CONFIG_DIR/projects/<cwd with '-'>): the status carries the
    totals, and follows the file as it grows."""
    claude = fake_agent(tmp_path)
    project = tmp_path / "my_project"
    project.mkdir()
    config_dir = tmp_path / "claude-config"
    folder = config_dir / "projects" / project_name(str(project))
    folder.mkdir(parents=True)
    config = SessionConfig(
        name="tok",
        shell_command=[str(claude), "claude_idle", "claude_idle", "claude_idle"],
        environment={"CLAUDE_CONFIG_DIR": str(config_dir)},
        working_directory=project,
        pty_size=(40, 120),
    )
    session = await started(manager, config)
    await wait_until(lambda: state(manager, "tok").kind == "claude")
    transcript = folder / "0d3c.jsonl"  # written by the claude running (since it started)
    transcript.write_text(
        _transcript_line(1, input_tokens=100, output_tokens=20, cache_read_input_tokens=1000) + "\n"
    )
    await session.send_input("\r")  # the next screen: output, so the monitor looks
    await wait_until(lambda: state(manager, "tok").tokens is not None, 10)
    tokens = state(manager, "tok").tokens
    assert tokens is not None
    assert (tokens.input, tokens.output, tokens.cache_read, tokens.model) == (
        100,
        20,
        1000,
        "claude-sonnet-4-5",
    )
    assert (tokens.context_used, tokens.context_window) == (1100, 200_000)
    with transcript.open("a") as f:
        f.write(_transcript_line(2, input_tokens=50, output_tokens=5) + "\n")
    await session.send_input("\r")  # the next screen: output, so the monitor looks again
    await wait_until(lambda: (state(manager, "tok").tokens or tokens).input == 150, 10)


async def test_the_hooks_a_real_claude_code_sent(manager: SessionManager) -> None:
    """The payloads Claude Code sent its hooks in one recorded session, in order."""
    await at_prompt(manager, "rec")
    lines = (FIXTURES / "claude" / "hooks.jsonl").read_text().splitlines()
    seen = []
    for line in lines:
        status = manager.agents.hook("rec", json.loads(line))
        seen.append((status.state.value, status.reason, status.question))
    assert seen == [
        ("idle", None, None),  # SessionStart
        ("working", "prompt", None),  # UserPromptSubmit
        ("idle", None, None),  # Stop
        ("working", "prompt", None),
        ("working", "Bash", None),  # PreToolUse
        ("waiting", "permission", "Allow Bash(rm -rf build && ls)?"),  # PermissionRequest
        ("waiting", "permission", "Allow Bash(rm -rf build && ls)?"),  # its Notification
        ("working", "Bash", None),  # PostToolUse
        ("idle", None, None),  # Stop
        ("waiting", "input", "Claude is waiting for your input"),  # idle_prompt
        ("idle", "session end: prompt_input_exit", None),  # SessionEnd (a shell is behind it)
    ]
    status = state(manager, "rec")
    assert status.kind == "claude"
    events = [e for e in agent_events(manager, "rec") if e["source"] == "hook"]
    assert len(events) == 10  # the repeated permission says nothing new


async def test_a_hook_naming_a_fifo_as_transcript_blocks_nothing(
    manager: SessionManager, tmp_path: Path
) -> None:
    claude = fake_agent(tmp_path)
    config_dir = tmp_path / "claude-config"
    config = SessionConfig(
        name="ff",
        shell_command=[str(claude), "claude_idle", "claude_working"],
        environment={"CLAUDE_CONFIG_DIR": str(config_dir)},
        pty_size=(40, 120),
    )
    session = await started(manager, config)
    await wait_until(lambda: state(manager, "ff").kind == "claude")
    folder = config_dir / "projects" / "-p"
    folder.mkdir(parents=True)
    fifo = folder / "trap.jsonl"  # where a transcript may be: accepted, then refused as no file
    os.mkfifo(fifo)
    manager.agents.hook("ff", {"hook_event_name": "Stop", "transcript_path": str(fifo)})
    assert manager.agents.refused_transcript("ff") is None
    await session.send_input("\r")  # the next screen: the monitor looks (and at the transcript)
    status = await reaches(manager, "ff", AgentState.WORKING)
    assert status.tokens is None


def _claude_pane(tmp_path: Path, name: str, project: Path, config_dir: Path) -> SessionConfig:
    """The stand-in claude in `project`, showing its idle screen on each line typed."""
    return SessionConfig(
        name=name,
        shell_command=[str(fake_agent(tmp_path)), *["claude_idle"] * 20],
        environment={"CLAUDE_CONFIG_DIR": str(config_dir)},
        working_directory=project,
        pty_size=(40, 120),
    )


def _write(path: Path, n: int, input_tokens: int) -> None:
    with path.open("a") as f:
        f.write(_transcript_line(n, input_tokens=input_tokens, output_tokens=1) + "\n")


def _input(manager: SessionManager, name: str) -> int | None:
    tokens = state(manager, name).tokens
    return tokens.input if tokens is not None else None


async def test_claude_panes_in_one_project_each_show_their_own_transcript(
    manager: SessionManager, tmp_path: Path
) -> None:
    """Three claude panes in one repository: each pane's tokens are its own transcript's (the
    one written since its claude started that no other pane has), not the newest file's."""
    project = tmp_path / "repo"
    project.mkdir()
    config_dir = tmp_path / "claude-config"
    folder = config_dir / "projects" / project_name(str(project))
    folder.mkdir(parents=True)
    old = folder / "yesterday.jsonl"  # a conversation of before: nobody's now
    _write(old, 1, 999)
    os.utime(old, (1_000_000, 1_000_000))
    sessions = {}
    for name, tokens in (("one", 100), ("two", 20), ("three", 3)):
        sessions[name] = await started(manager, _claude_pane(tmp_path, name, project, config_dir))
        await wait_until(lambda n=name: state(manager, n).kind == "claude")  # type: ignore[misc]
        _write(folder / f"{name}.jsonl", 1, tokens)  # its claude writes its transcript
        await wait_until(lambda n=name, t=tokens: _input(manager, n) == t, 10)  # type: ignore[misc]
    # They write in turn, each file the newest for a moment: each pane keeps its own.
    for n, name in enumerate(("one", "two", "three", "one"), start=2):
        _write(folder / f"{name}.jsonl", n, 1)
    for session in sessions.values():
        await session.send_input("\r")  # output: each monitor looks again

    def own() -> bool:
        return [_input(manager, n) for n in sessions] == [102, 21, 4]

    await wait_until(own, 10, lambda: str([_input(manager, n) for n in sessions]))


async def test_a_transcript_two_claude_panes_could_have_written_is_neither_s(
    manager: SessionManager, tmp_path: Path
) -> None:
    """Two claudes started in one project before either transcript was there: which file is
    whose is unknown, so neither pane shows tokens, until a hook names one pane's; the
    other's is then the one left. A flip back to a transcript read before reads on from
    where its reader was."""
    project = tmp_path / "repo"
    project.mkdir()
    config_dir = tmp_path / "claude-config"
    folder = config_dir / "projects" / project_name(str(project))
    folder.mkdir(parents=True)
    for name in ("left", "right"):
        await started(manager, _claude_pane(tmp_path, name, project, config_dir))
        await wait_until(lambda n=name: state(manager, n).kind == "claude")  # type: ignore[misc]
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    _write(first, 1, 500)
    _write(second, 1, 60)
    left, right = manager.agents._find("left"), manager.agents._find("right")
    assert left is not None and right is not None
    assert manager.agents.transcript_of(left) is None  # ambiguous: no tokens, not another's
    assert manager.agents.transcript_of(right) is None
    left.tokens_read = right.tokens_read = -10.0  # look now, not in TOKENS_INTERVAL
    left.refresh_tokens(0.0)
    right.refresh_tokens(0.0)
    assert _input(manager, "left") is None and _input(manager, "right") is None
    hook = {"hook_event_name": "Stop", "transcript_path": str(second)}
    manager.agents.hook("left", hook)
    await manager.get("left").send_input("\r")  # type: ignore[union-attr]
    await manager.get("right").send_input("\r")  # type: ignore[union-attr]
    await wait_until(lambda: (_input(manager, "left"), _input(manager, "right")) == (60, 500), 10)
    reader = left.readers[second.resolve()]
    manager.agents.hook("left", {**hook, "transcript_path": str(first)})  # /resume, say
    await manager.get("left").send_input("\r")  # type: ignore[union-attr]
    await wait_until(lambda: _input(manager, "left") == 500, 10)
    _write(second, 2, 7)
    manager.agents.hook("left", hook)  # and back
    await manager.get("left").send_input("\r")  # type: ignore[union-attr]
    await wait_until(lambda: _input(manager, "left") == 67, 10)
    assert left.readers[second.resolve()] is reader  # read on from its offset, not from 0


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("elsewhere/x.jsonl", "not under"),
        ("claude-config/projects/-p/../../settings.jsonl", "not under"),
        ("claude-config/projects/-p/link.jsonl", "not under"),  # a link out of projects/
        ("claude-config/projects/-p/notes.txt", "not a .jsonl"),
        ("relative.jsonl", "not an absolute path"),
    ],
)
async def test_a_hook_s_transcript_outside_the_claude_config_is_ignored(
    manager: SessionManager, tmp_path: Path, where: str, why: str
) -> None:
    """A hook is any program in the pane: the transcript it names is read only if it lies in
    the session's Claude config's projects/ (a link out of it is not followed)."""
    config_dir = tmp_path / "claude-config"
    folder = config_dir / "projects" / "-p"
    folder.mkdir(parents=True)
    secret = tmp_path / "elsewhere" / "x.jsonl"  # another user's transcript, say
    secret.parent.mkdir()
    _write(secret, 1, 4242)
    (folder / "link.jsonl").symlink_to(secret)
    config = SessionConfig(
        name="hk",
        shell_command=[str(fake_agent(tmp_path)), *["claude_idle"] * 5],
        environment={"CLAUDE_CONFIG_DIR": str(config_dir)},
        working_directory=tmp_path,
        pty_size=(40, 120),
    )
    session = await started(manager, config)
    await wait_until(lambda: state(manager, "hk").kind == "claude")
    path = where if where == "relative.jsonl" else str(tmp_path / where)
    manager.agents.hook("hk", {"hook_event_name": "Stop", "transcript_path": path})
    refused = manager.agents.refused_transcript("hk")
    assert refused is not None and why in refused
    await session.send_input("\r")
    watch = manager.agents._find("hk")
    assert watch is not None and watch.transcript is None
    watch.tokens_read = -10.0
    watch.refresh_tokens(0.0)
    assert state(manager, "hk").tokens is None
    good = folder / "mine.jsonl"
    _write(good, 1, 7)
    manager.agents.hook("hk", {"hook_event_name": "Stop", "transcript_path": str(good)})
    assert manager.agents.refused_transcript("hk") is None
    await session.send_input("\r")
    await wait_until(lambda: _input(manager, "hk") == 7, 10)
