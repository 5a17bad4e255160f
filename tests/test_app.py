"""The app as a person drives it: keys go to the shell in the pane, C-b d quits."""

from __future__ import annotations

from conftest import BASH, wait_until

from app.main import AiSessionApp
from engine import SessionConfig
from widgets.terminal_pane import TerminalPane


def _app() -> AiSessionApp:
    return AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}))


async def test_typing_runs_commands_in_the_pane_and_keys_are_not_stolen() -> None:
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        session = pane.session
        await wait_until(lambda: "$" in session.capture_pane(), what="the prompt")
        assert (session.terminal.columns, session.terminal.lines) == (
            80,
            23,
        )  # hint bar takes one row
        await pilot.press(*"echo hi", "ctrl+q", "tab", "enter")  # ctrl+q and tab reach bash
        await wait_until(
            lambda: "\nhi" in session.capture_pane(), what=lambda: session.capture_pane()
        )
        assert app.is_running
        await pilot.press(*"sleep 30", "enter", "ctrl+c")
        await wait_until(
            lambda: "^C" in session.capture_pane(), what=lambda: session.capture_pane()
        )
        await pilot.press(*"cat -v", "enter", "ctrl+b", "ctrl+b", "enter")  # C-b C-b sends one C-b
        await wait_until(
            lambda: "^B\n^B" in session.capture_pane(), what=lambda: session.capture_pane()
        )
        await pilot.press("ctrl+c")
        await pilot.pause()
        lines = [pane.render_line(y).text for y in range(3)]
        assert lines[0].startswith("$ echo hi") and lines[1] == "hi".ljust(80)


async def test_prefix_d_quits_and_the_shell_is_stopped() -> None:
    app = _app()
    async with app.run_test(size=(60, 20)) as pilot:
        session = app.query_one(TerminalPane).session
        await wait_until(lambda: "$" in session.capture_pane(), what="the prompt")
        await pilot.press("ctrl+b", "d")
        await pilot.pause()
    assert session.status.kind == "exited"


async def test_the_app_ends_when_the_shell_exits() -> None:
    app = _app()
    async with app.run_test(size=(60, 20)) as pilot:
        session = app.query_one(TerminalPane).session
        await wait_until(lambda: "$" in session.capture_pane(), what="the prompt")
        await pilot.press(*"exit 4", "enter")
        await wait_until(lambda: not app.is_running, what="the app to exit")
    assert app.return_value == 4
