"""The real agent CLIs in real panes, where they are installed (skipped where not): what the
monitor says while Claude Code, Gemini CLI and Codex show their first-run dialogs, with a
clean HOME, dummy keys and no network (an API address nothing listens on)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import wait_until

from engine import Session, SessionManager
from engine.agents import AgentState, AgentStatus
from engine.config import SessionConfig

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers, nothing leaves the machine
QUIET_ENV = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "NO_BROWSER": "1",
}


def _needs(program: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(program) is None, reason=f"{program} is not installed")


async def _start(manager: SessionManager, tmp_path: Path, name: str, **env: str) -> Session:
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
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
    key = "\x1b[B" if target > at else "\x1b[A"
    for _ in range(abs(target - at)):
        await session.send_input(key)
    await wait_until(lambda: selected() == target, 10, session.capture_pane)
    await session.send_input("\r")


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
    await _choose(session, "Yes, I trust this folder")
    status = await _waiting(manager, "claude", "login")
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


@_needs("codex")
async def test_codex_first_run(manager: SessionManager, tmp_path: Path) -> None:
    await _start(manager, tmp_path, "codex", OPENAI_BASE_URL=NOWHERE)
    status = await _waiting(manager, "codex", "login")
    assert (status.kind, status.question) == ("codex", "Choose how you want to use Codex.")
