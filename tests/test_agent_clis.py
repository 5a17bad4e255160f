"""The real agent CLIs in real panes, where they are installed (skipped where not): what the
monitor says while Claude Code, Gemini CLI and Codex show their first-run dialogs, with a
clean HOME, dummy keys and no network (an API address nothing listens on)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from api_support import serve_socket
from conftest import wait_until
from fake_anthropic import TOOL_COMMAND, USAGE, fake_anthropic

from engine import Session, SessionManager
from engine.agents import AgentState, AgentStatus
from engine.config import SessionConfig

BIN = Path(sys.executable).parent
ROOT = Path(__file__).parent.parent
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers, nothing leaves the machine
QUIET_ENV = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "NO_BROWSER": "1",
    # A person's terminal, not CI's: with CI=true (as .ci/run has it) Gemini CLI goes
    # non-interactive and exits 41 instead of showing its dialogs.
    "CI": "0",
}


def _needs(program: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(program) is None, reason=f"{program} is not installed")


async def _start(manager: SessionManager, tmp_path: Path, name: str, **env: str) -> Session:
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir(exist_ok=True)
    project.mkdir()
    (project / "hello.py").write_text("print('hi')\n")
    (home / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True}))
    path = shutil.which(name)
    assert path is not None
    config = SessionConfig(
        name=name,
        shell_command=[name],
        working_directory=project,
        environment={"HOME": str(home), "LANG": "C.UTF-8", **QUIET_ENV, **env},
        pty_size=(40, 120),
    )
    session = await manager.create_session_with_config(config)
    await session.start()
    return session


async def _waiting(
    manager: SessionManager, name: str, reason: str, timeout: float = 60
) -> AgentStatus:
    def there() -> bool:
        status = manager.agents.status(name)
        return status is not None and (status.state, status.reason) == (AgentState.WAITING, reason)

    session = manager.get(name)
    assert session is not None
    await wait_until(
        there, timeout, lambda: f"{reason}: {manager.agents.status(name)}\n{session.capture_pane()}"
    )
    status = manager.agents.status(name)
    assert status is not None
    return status


async def _choose(session: Session, choice: str) -> None:
    """Move a dialog's selector to the choice that reads `choice`, then Enter (Claude Code's
    own default moves between versions: "1. Yes" first, or "No, exit")."""

    def rows() -> list[str]:
        return [row.strip().strip("│").strip() for row in session.terminal.display]

    def selected() -> int | None:
        return next((y for y, row in enumerate(rows()) if row.startswith(("❯", "●", ">"))), None)

    await wait_until(lambda: selected() is not None, 10, session.capture_pane)
    at = selected()
    assert at is not None
    target = next(
        (y for y in range(max(0, at - 6), at + 7) if choice in rows()[y].lstrip("❯●> ")), None
    )
    assert target is not None, f"no choice {choice!r}:\n{session.capture_pane()}"
    # A loaded machine can see Claude Code drop an arrow it got while still drawing: a person
    # presses it again.
    for attempt in range(3):
        at = selected()
        assert at is not None
        key = "\x1b[B" if target > at else "\x1b[A"
        for _ in range(abs(target - at)):
            await session.send_input(key)
        try:
            await wait_until(lambda: selected() == target, 10, session.capture_pane)
            break
        except AssertionError:
            if attempt == 2:
                raise
    await session.send_input("\r")


async def _answer(session: Session, manager: SessionManager, choice: str, then: str) -> AgentStatus:
    """`_choose`, then wait for the next question; once more if the dialog is still there. On a
    loaded machine Claude Code can draw its first dialog again after the keys were taken (its
    selector back at the default): a person would answer it again too."""
    for attempt in range(3):
        await _choose(session, choice)
        try:
            return await _waiting(manager, session.name, then, timeout=20)
        except AssertionError:
            if attempt == 2 or choice not in session.capture_pane():
                raise
    raise AssertionError("unreachable")


@_needs("claude")
async def test_claude_code_first_run(manager: SessionManager, tmp_path: Path) -> None:
    session = await _start(
        manager,
        tmp_path,
        "claude",
        ANTHROPIC_API_KEY="sk-ant-dummy-0000",
        ANTHROPIC_BASE_URL=NOWHERE,
    )
    status = await _waiting(manager, "claude", "trust")
    assert (status.kind, status.question) == (
        "claude",
        "Is this a project you created or one you trust?",
    )
    status = await _answer(session, manager, "Yes, I trust this folder", then="login")
    assert status.question == "Do you want to use this API key?"
    await _choose(session, "Yes")

    def idle() -> bool:
        status = manager.agents.status("claude")
        return status is not None and status.state == AgentState.IDLE

    await wait_until(idle, 60, session.capture_pane)
    status = manager.agents.status("claude")
    assert status is not None and (status.kind, status.source) == ("claude", "screen")


@_needs("gemini")
async def test_gemini_cli_first_run(manager: SessionManager, tmp_path: Path) -> None:
    session = await _start(
        manager,
        tmp_path,
        "gemini",
        GEMINI_API_KEY="dummy-gemini-0000",
        GOOGLE_GEMINI_BASE_URL=NOWHERE,
    )
    status = await _waiting(manager, "gemini", "trust")
    assert (status.kind, status.question) == ("gemini", "Do you trust the files in this folder?")
    await _choose(session, "Trust folder")
    status = await _waiting(manager, "gemini", "login")
    assert status.question == "How would you like to authenticate for this project?"


def _kill_left_behind(home: Path) -> None:
    """Processes started from under `home` that outlived the session: Codex starts an
    app-server daemon in its own session, which closing the pane does not reach."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(home).encode() in command:
            with contextlib.suppress(OSError):  # gone meanwhile
                os.kill(int(entry.name), signal.SIGKILL)


@_needs("codex")
async def test_codex_first_run(manager: SessionManager, tmp_path: Path) -> None:
    try:
        await _start(manager, tmp_path, "codex", OPENAI_BASE_URL=NOWHERE)
        status = await _waiting(manager, "codex", "login")
        assert (status.kind, status.question) == ("codex", "Choose how you want to use Codex.")
    finally:
        await manager.close()
        _kill_left_behind(tmp_path)


@_needs("claude")
async def test_claude_code_asks_permission_reports_by_hooks_and_spends_tokens(
    tmp_path: Path,
) -> None:
    """Claude Code against a local stand-in of its API: its real permission dialog reads as
    waiting, its real hooks (pointed at `ai-session hook claude`, as the README says) reach the
    instance through the pane's $AI_SESSION_SOCKET, and the transcript it writes gives the
    tokens."""
    async for base_url in fake_anthropic():
        async for api, _ in serve_socket(tmp_path, snapshots=None):
            await _permission_flow(api.manager, base_url, tmp_path)


async def _permission_flow(manager: SessionManager, base_url: str, tmp_path: Path) -> None:
    hook = {"type": "command", "command": f"{BIN / 'ai-session'} hook claude"}
    events = ("Notification", "PermissionRequest", "PreToolUse", "UserPromptSubmit", "Stop")
    settings = {
        "hooks": {event: [{"matcher": "", "hooks": [hook]}] for event in events},
        "permissions": {"defaultMode": "default"},
    }
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(json.dumps(settings))
    session = await _start(
        manager,
        tmp_path,
        "claude",
        ANTHROPIC_API_KEY="sk-ant-dummy-0000",
        ANTHROPIC_BASE_URL=base_url,
        PYTHONPATH=str(ROOT),
    )
    await _waiting(manager, "claude", "trust")
    await _choose(session, "Yes, I trust this folder")
    await _waiting(manager, "claude", "login")
    await _choose(session, "Yes")
    await _idle(manager, session)
    await session.send_input("RUNLS please")
    await wait_until(lambda: "RUNLS please" in session.capture_pane())
    await session.send_input("\r")

    def asked() -> bool:
        status = manager.agents.status("claude")
        return (
            status is not None
            and (status.state, status.reason) == (AgentState.WAITING, "permission")
            and "Do you want to proceed?" in session.capture_pane()
        )

    await wait_until(asked, 60, session.capture_pane)
    status = manager.agents.status("claude")
    assert status is not None
    # the hook said it first (before the dialog was drawn), the screen then
    assert status.question in ("Do you want to proceed?", f"Allow Bash({TOOL_COMMAND})?")
    seen = [e.data for e in manager.events.since(0)[0] if e.type == "agent"]
    hooked = [e for e in seen if e["source"] == "hook"]
    assert (hooked[0]["state"], hooked[0]["reason"]) == ("working", "prompt")
    assert any(e["question"] == f"Allow Bash({TOOL_COMMAND})?" for e in hooked)
    await _confirm(session, "Do you want to proceed?")  # 1. Yes
    await _idle(manager, session)

    def spent() -> bool:
        status = manager.agents.status("claude")
        return status is not None and status.tokens is not None and status.tokens.input >= 2400

    await wait_until(spent, 30, lambda: str(manager.agents.status("claude")))
    status = manager.agents.status("claude")
    assert status is not None and status.tokens is not None
    tokens = status.tokens
    assert tokens.input % USAGE["input_tokens"] == 0  # each message counted once
    turns = tokens.input // USAGE["input_tokens"]
    assert tokens.output == turns * USAGE["output_tokens"]
    assert tokens.cache_read == turns * USAGE["cache_read_input_tokens"]
    assert tokens.context_used == 1200 + 300 + 5000
    assert tokens.model is not None and tokens.model.startswith("claude")


async def _confirm(session: Session, dialog: str) -> None:
    """Enter until the dialog is gone: Claude Code ignores keys for a moment after it shows a
    permission dialog (so a key meant for something else does not approve it)."""
    for _ in range(10):
        await session.send_input("\r")
        try:
            await wait_until(lambda: dialog not in session.capture_pane(), 1.0)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{dialog!r} stays:\n{session.capture_pane()}")


async def _idle(manager: SessionManager, session: Session) -> None:
    def idle() -> bool:
        status = manager.agents.status("claude")
        return status is not None and status.state == AgentState.IDLE

    await wait_until(
        idle, 60, lambda: f"{manager.agents.status('claude')}\n{session.capture_pane()}"
    )
