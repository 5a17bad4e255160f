"""The multiplexer as a tmux user drives it: real bash in every pane, tmux's prefix keys."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from conftest import BASH, at_prompt, split, wait_for_screen, wait_until
from textual import events
from textual.pilot import Pilot

from app.main import AiSessionApp
from engine import SessionConfig
from widgets.terminal_pane import TerminalPane

SIZE = (100, 30)


def _app() -> AiSessionApp:
    return AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}))


async def _wheel(pilot: Pilot, event: type[events.MouseEvent], offset: tuple[int, int]) -> None:
    """One wheel step (Pilot has no public wheel helper)."""
    await pilot._post_mouse_events([event], offset=offset)


async def _stty(pane: TerminalPane) -> tuple[int, int]:
    rows, cols = (await pane.session.execute("stty size")).output.split()
    return int(rows), int(cols)


def _size_matches(pane: TerminalPane) -> bool:
    region = pane.region
    top = 1 if pane.show_title else 0
    return (pane.session.terminal.columns, pane.session.terminal.lines) == (
        region.width,
        region.height - top,
    )


async def test_keys_reach_the_program_and_are_not_stolen(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    session = app.pane.session  # type: ignore[union-attr]
    assert (session.terminal.columns, session.terminal.lines) == (100, 28)  # status and hint rows
    await pilot.press(*"echo hi", "ctrl+q", "tab", "enter")  # Ctrl-Q and Tab go to bash
    await wait_until(lambda: "\nhi" in session.capture_pane(), what=session.capture_pane)
    await pilot.press(*"sleep 30", "enter", "ctrl+c")
    await wait_until(lambda: "^C" in session.capture_pane(), what=session.capture_pane)
    await pilot.press(*"cat -v", "enter", "ctrl+b", "ctrl+b", "enter")  # C-b C-b sends one C-b
    await wait_until(lambda: "^B\n^B" in session.capture_pane(), what=session.capture_pane)
    await pilot.press("ctrl+c")
    assert app.is_running and len(app.windows) == 1 and len(app.window.panes) == 1


async def test_splits_place_panes_and_size_their_terminals(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    first = app.pane
    right = await split(app, pilot, "percent_sign")
    assert right.region.x > first.region.x and right.region.y == first.region.y  # type: ignore[union-attr]
    below = await split(app, pilot, "quotation_mark")
    assert below.region.x == right.region.x and below.region.y > right.region.y
    assert app.pane is below and below.has_focus
    for pane in (first, right, below):
        assert _size_matches(pane)  # type: ignore[arg-type]
    rows, cols = await _stty(below)
    assert (cols, rows + 1) == (below.region.width, below.region.height)  # one row of title


async def test_focus_moves_by_arrow_last_next_and_click(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    first = app.pane
    second = await split(app, pilot, "percent_sign")
    await pilot.press("ctrl+b", "left")
    await wait_until(lambda: app.pane is first and first.has_focus)  # type: ignore[union-attr]
    await pilot.press("ctrl+b", "semicolon")
    await wait_until(lambda: app.pane is second)
    await pilot.press("ctrl+b", "o")
    await wait_until(lambda: app.pane is first)
    await pilot.click(offset=(second.region.x + 5, second.region.y + 3))
    await wait_until(lambda: app.pane is second and second.has_focus)


async def test_zoom_gives_one_pane_the_whole_window_and_back(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await split(app, pilot, "percent_sign")
    pane = app.pane
    await pilot.press("ctrl+b", "z")
    await wait_until(lambda: pane.region.width == 100, what="zoom")  # type: ignore[union-attr]
    assert await _stty(pane) == (28, 100)  # type: ignore[arg-type]
    # The window is named after its program (automatic-rename): bash again once stty is done.
    await wait_until(lambda: "0:bash*Z" in app.query_one("#status").render().plain, what="Z flag")
    await pilot.press("ctrl+b", "z")
    await wait_until(lambda: pane.region.width < 100, what="unzoom")  # type: ignore[union-attr]


async def test_resize_by_key_repeats_without_prefix_and_by_dragging(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    left = app.pane
    right = await split(app, pilot, "percent_sign")
    width = right.region.width
    await pilot.press("ctrl+b", "ctrl+left", "ctrl+left", "ctrl+left")  # tmux's repeat: one prefix
    await wait_until(lambda: right.region.width == width + 3, what=lambda: right.region)
    await wait_until(lambda: _size_matches(right), what="the PTY to follow")
    divider_x = right.region.x - 1
    await pilot.mouse_down(offset=(divider_x, 5))
    await pilot.hover(offset=(divider_x - 4, 5))
    await pilot.mouse_up(offset=(divider_x - 4, 5))
    await wait_until(lambda: right.region.width == width + 7, what=lambda: right.region)
    assert left.region.width + right.region.width + 1 == 100  # type: ignore[union-attr]


async def test_a_message_covers_the_bottom_row_and_resizes_no_pane(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    """tmux shows a message on its status line: the panes keep their size (a row taken for
    it would send every program two SIGWINCHes and two redraws)."""
    app, pilot = running
    assert app.pane is not None
    size = (app.pane.session.terminal.lines, app.pane.region.height)
    app.show_message("nothing to do here")
    await pilot.pause()
    message = app.query_one("#message")
    assert message.display and message.region.y == app.size.height - 1
    assert "nothing to do here" in str(message.render())
    assert (app.pane.session.terminal.lines, app.pane.region.height) == size


async def test_kill_pane_asks_first(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    keep = app.pane
    doomed = await split(app, pilot, "percent_sign")
    await pilot.press("ctrl+b", "x", "n")
    await pilot.pause()
    assert doomed.pane_id in app.window.panes
    await pilot.press("ctrl+b", "x", "y")
    await wait_until(lambda: doomed.pane_id not in app.window.panes)
    assert doomed.session.status.kind == "exited"
    await wait_until(lambda: app.pane is keep and keep.has_focus)  # type: ignore[union-attr]
    assert keep.region.width == 100  # type: ignore[union-attr]


async def test_windows_create_switch_rename_and_close(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == 2 and app.current == 1)
    await at_prompt(app.pane)
    await pilot.press("ctrl+b", "comma", "ctrl+u", *"logs", "enter")
    await wait_until(lambda: app.window.window_name == "logs")
    await pilot.press("ctrl+b", "p")
    await wait_until(lambda: app.current == 0)
    status = app.query_one("#status").render().plain
    assert "0:bash*" in status and "1:logs-" in status
    await pilot.press("ctrl+b", "1")
    await wait_until(lambda: app.current == 1 and app.pane is not None and app.pane.has_focus)
    await pilot.press("ctrl+b", "ampersand", "y")
    await wait_until(lambda: len(app.windows) == 1)
    assert app.current == 0


async def test_break_pane_moves_the_running_program_to_its_own_window(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    pane = await split(app, pilot, "percent_sign")
    session = pane.session
    await pilot.press("ctrl+b", "exclamation_mark")
    await wait_until(lambda: len(app.windows) == 2)
    assert app.pane is not None and app.pane.session is session and session.status.is_running
    assert len(app.windows[0].panes) == 1


async def test_exited_pane_stays_until_respawned(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    pane = app.pane
    await pilot.press("ctrl+b", "colon", *"set remain-on-exit on", "enter")
    await wait_until(lambda: app.option("remain-on-exit", app.window))
    await pilot.press(*"exit 4", "enter")
    await wait_until(lambda: pane.exit_code == 4)  # type: ignore[union-attr]
    await pilot.pause()
    assert "[exited 4]" in pane.render_line(pane.region.height - 1).text  # type: ignore[union-attr]
    assert app.is_running
    await pilot.press("ctrl+b", "R")
    await wait_until(lambda: pane.exit_code is None and pane.session.status.is_running)  # type: ignore[union-attr]
    await at_prompt(pane)


async def test_layout_cycle_and_command_prompt(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    await split(app, pilot, "percent_sign")
    await split(app, pilot, "percent_sign")
    await pilot.press("ctrl+b", "colon", *"select-layout even-vertical", "enter")
    await wait_until(
        lambda: len({p.region.x for p in app.window.panes.values()}) == 1, what="stacked panes"
    )
    await pilot.press("ctrl+b", "space")
    await wait_until(
        lambda: len({p.region.x for p in app.window.panes.values()}) > 1, what="another layout"
    )
    assert all(_size_matches(p) for p in app.window.panes.values())


async def test_detach_asks_then_quits() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        session = app.pane.session  # type: ignore[union-attr]
        await at_prompt(app.pane)
        await pilot.press("ctrl+b", "d", "y")
        await wait_until(lambda: not app.is_running)
    assert session.status.kind == "exited"


async def test_copy_mode_select_copy_and_paste(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    pane = app.pane
    assert pane is not None
    await pilot.press(*"seq 1 200", "enter")
    await wait_until(
        lambda: "200\n$" in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    await pilot.press("ctrl+b", "left_square_bracket")
    await wait_until(lambda: pane.copy is not None)
    await pilot.press(
        "k", "k", "k", "0", "v", "j", "$", "y"
    )  # from the start of 198 to the end of 199
    await wait_until(lambda: pane.copy is None and app.paste_buffers, what="the copy")
    assert app.paste_buffers[-1] == "198\n199"
    await pilot.press(*"echo ", "ctrl+b", "right_square_bracket")
    await wait_until(
        lambda: "$ echo 198" in pane.session.capture_pane(), what=pane.session.capture_pane
    )


async def test_copy_mode_search_and_history_position(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    pane = app.pane
    assert pane is not None
    await pilot.press(*"seq 1000 1300", "enter")
    await wait_until(
        lambda: "1300\n$" in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    await pilot.press("ctrl+b", "left_square_bracket", "question_mark", *"1042", "enter")
    await wait_until(
        lambda: pane.copy is not None and pane.copy.text(pane.copy.line) == "1042", what="the match"
    )
    assert pane.copy.position[0] > 200  # the view went back into history
    row = pane.copy.line - pane.copy.top
    assert "1042" in pane.render_line(row).text
    await pilot.press("q")
    await wait_until(lambda: pane.copy is None)


async def test_wheel_scrolls_history_and_leaves_at_the_bottom(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    pane = app.pane
    assert pane is not None
    await pilot.press(*"seq 1 100", "enter")
    await wait_until(
        lambda: "100\n$" in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    await _wheel(pilot, events.MouseScrollUp, (10, 10))
    await wait_until(lambda: pane.copy is not None and pane.copy.position[0] == 3)
    await _wheel(pilot, events.MouseScrollDown, (10, 10))
    await wait_until(lambda: pane.copy is None, what="copy mode to end at the bottom")


async def test_mouse_reports_reach_programs_that_ask(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    pane = app.pane
    assert pane is not None
    await pilot.press(*"printf '\\e[?1000h\\e[?1006h'; cat -v", "enter")
    await wait_until(lambda: pane.session.terminal.mouse_tracking == "normal")
    await pilot.click(offset=(4, 6))
    await _wheel(pilot, events.MouseScrollUp, (4, 6))
    await pilot.press("enter")
    await wait_until(
        lambda: "^[[<0;5;7M^[[<0;5;7m^[[<64;5;7M" in pane.session.capture_pane(),
        what=pane.session.capture_pane,
    )
    assert pane.copy is None


async def test_window_names_with_brackets_are_shown_literally(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    await pilot.press("ctrl+b", "comma", "ctrl+u", *"[bold]x[/]", "enter")
    await wait_until(
        lambda: "0:[bold]x[/]*" in app.query_one("#status").render().plain,
        what=lambda: app.query_one("#status").render().plain,
    )


async def test_vim_and_less_in_panes(running: tuple[AiSessionApp, Pilot], tmp_path) -> None:  # type: ignore[no-untyped-def]
    app, pilot = running
    pane = app.pane
    assert pane is not None
    (tmp_path / "notes.txt").write_text("".join(f"line {i}\n" for i in range(1, 201)))
    await pilot.press(*f"cd {tmp_path}", "enter", *"vim -u NONE -i NONE notes.txt", "enter")
    await wait_until(
        lambda: "line 1\n" in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    await pilot.press(
        "down", "down", "down", "x"
    )  # arrows in vim's cursor-key mode, then delete a char
    await wait_until(
        lambda: "\nine 4\n" in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    await pilot.press("escape", *":q!", "enter")
    await wait_until(lambda: not pane.session.terminal.alternate_screen)
    await pilot.press(*"less notes.txt", "enter")
    await wait_until(
        lambda: "line 1\n" in pane.session.capture_pane(), what=pane.session.capture_pane
    )
    await _wheel(pilot, events.MouseScrollDown, (10, 10))  # arrows for less, not copy mode
    await wait_until(
        lambda: pane.session.capture_pane().startswith("line 4\n"), what=pane.session.capture_pane
    )
    assert pane.copy is None
    await pilot.press("slash", *"line 150", "enter")
    await wait_until(
        lambda: "line 150" in pane.session.capture_pane().split("\n")[0],
        what=pane.session.capture_pane,
    )
    await pilot.press("q")
    await wait_until(lambda: not pane.session.terminal.alternate_screen)


async def test_paints_wait_for_the_end_of_a_synchronized_update(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, _pilot = running
    pane = app.pane
    assert pane is not None
    terminal = pane.session.terminal
    terminal.feed(b"\x1b[?2026hhalf a frame")
    pane._pending = True
    pane._paint()
    assert pane._pending  # held: the program is mid-frame
    terminal.feed(b" and the rest\x1b[?2026l")
    pane._paint()
    assert not pane._pending
    terminal.feed(b"\x1b[?2026hnever finished")
    terminal.screen.synchronized_since -= 1.0  # a program that died mid-frame
    pane._pending = True
    pane._paint()
    assert not pane._pending


async def test_prompt_keys_typed_ahead_land_in_the_prompt(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    doomed = await split(app, pilot, "percent_sign")
    await pilot.press("ctrl+b", "x", "y")  # all three queued before the prompt opens
    await wait_until(lambda: doomed.pane_id not in app.window.panes, what="the kill")
    assert "y" not in app.pane.session.capture_pane().split("\n")[-1]  # type: ignore[union-attr]


async def test_new_window_leaves_the_current_programs_their_size(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    first = app.pane
    assert first is not None
    sizes: list[tuple[int, int]] = []
    original = first.session.set_size
    first.session.set_size = lambda *, columns, lines: (  # type: ignore[method-assign]
        sizes.append((lines, columns)),
        original(columns=columns, lines=lines),
    )[1]
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == 2 and app.pane is not first)
    await at_prompt(app.pane)
    assert all(r == 28 for r, _ in sizes), sizes  # never squeezed to half height
    new = await split(app, pilot, "percent_sign")
    assert all(
        min(r, c) > 1 for r, c in [(new.session.terminal.lines, new.session.terminal.columns)]
    )


def test_cli_rejects_a_bad_program_or_directory_before_taking_the_screen(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from app.cli import main

    assert main(["--cwd", str(tmp_path / "missing"), "true"]) == 2
    assert "missing" in capsys.readouterr().err
    assert main(["no-such-program-xyz", "--flag"]) == 2
    assert "no-such-program-xyz" in capsys.readouterr().err


async def test_programs_in_hidden_windows_follow_a_terminal_resize(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    hidden = app.pane
    assert hidden is not None
    await pilot.press("ctrl+b", "c")
    await wait_until(lambda: len(app.windows) == 2 and app.pane is not hidden)
    await pilot.resize_terminal(80, 20)
    await wait_until(
        lambda: (hidden.session.terminal.columns, hidden.session.terminal.lines) == (80, 18),
        what=lambda: str(hidden.session.config.pty_size),
    )
    assert await _stty(hidden) == (18, 80)


async def test_scripts_and_programs_in_panes_drive_this_instance(tmp_path: Path) -> None:
    """Every pane gets AI_SESSION_SOCKET: `ai-session list` inside a pane talks to
    the instance it runs in, and a script outside types into the pane the user watches."""
    bin_dir = Path(sys.executable).parent
    app = AiSessionApp(
        SessionConfig(
            shell_command=BASH,
            environment={"PS1": "$ ", "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        await at_prompt(pane)
        assert pane is not None
        socket = pane.session.config.environment["AI_SESSION_SOCKET"]
        assert stat.S_IMODE(Path(socket).stat().st_mode) == 0o600
        await pane.session.send_input("ai-session list\r")
        await wait_until(  # while it runs, the pane's foreground program is ai-session itself
            lambda: any(
                row.split()[:4] == ["0", "running", str(pane.session.pid), "ai-session"]
                for row in pane.session.capture_pane().splitlines()
            ),
            15,
            what=pane.session.capture_pane,
        )

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            env = {k: v for k, v in os.environ.items() if k != "AI_SESSION_SOCKET"}
            return subprocess.run(
                [str(bin_dir / "ai-session"), args[0], "--socket", socket, *args[1:]],
                capture_output=True,
                text=True,
                env=env,
                timeout=30,
            )

        done = await asyncio.to_thread(cli, "send-keys", "-t", "0", "echo from-a-script", "Enter")
        assert done.returncode == 0, done.stderr

        def painted() -> list[str]:  # what the pane draws, row by row
            return [pane.render_line(y).text for y in range(pane.size.height)]

        await wait_until(lambda: "from-a-script" in [r.strip() for r in painted()], what=painted)
        done = await asyncio.to_thread(cli, "create", "made-by-api", "-c", str(tmp_path))
        assert done.returncode == 0 and done.stdout.strip() == "made-by-api", done.stderr
        await wait_until(lambda: len(app.windows) == 2, what="a window for the new session")
        assert app.current == 0  # the user's view stays
        assert app.windows[1].active_pane is not None
        assert app.windows[1].active_pane.session.name == "made-by-api"
        await pilot.pause()
    assert not Path(socket).exists()  # removed on the way out


async def test_the_instance_socket_enforces_the_configured_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI's own control socket applies ~/.config/ai-session/config.toml and audits."""
    (tmp_path / "config" / "ai-session").mkdir(parents=True)
    (tmp_path / "config" / "ai-session" / "config.toml").write_text(
        '[security]\ndenied_commands = ["forbidden"]\n'
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = _app()
    async with app.run_test(size=SIZE):
        await at_prompt(app.pane)
        assert app.control is not None and app.control.socket_path is not None
        connector = aiohttp.UnixConnector(path=str(app.control.socket_path))
        async with aiohttp.ClientSession(connector=connector) as http:
            for command, status in (("echo forbidden", 403), ("echo allowed", 200)):
                async with http.post(
                    "http://localhost/sessions/0/execute", json={"command": command}
                ) as r:
                    assert r.status == status, await r.text()
    audit = (tmp_path / "state" / "ai-session" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["allowed"] for line in audit] == [False, True]


async def test_a_program_asking_for_the_background_gets_the_themes() -> None:
    """OSC 11 is how vim, bat and the agent CLIs pick a light or dark palette."""
    app = _app()
    async with app.run_test(size=SIZE):
        pane = app.pane
        assert pane is not None
        await at_prompt(pane)
        app.theme = "ai-session-light"
        await wait_until(lambda: pane.session.terminal.colors["background"] == "#fafafa")
        script = (
            "import os, sys, termios, tty; tty.setraw(0); os.write(1, b'\\x1b]11;?\\x07'); "
            "reply = os.read(0, 64); termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0)); "
            "print(); print(repr(reply))"
        )
        await pane.session.send_input(
            f'stty sane; {sys.executable} -c "{script}"; stty sane\r'.encode()
        )
        await wait_for_screen(pane.session, "rgb:fafa/fafa/fafa")


async def test_respawn_kill_of_a_running_program_keeps_the_pane(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    """`respawn-pane -k` stops the program and starts a new one in the same pane: the old
    program's exit must not close the pane (without remain-on-exit, the only pane: the app)."""
    app, pilot = running
    pane = app.pane
    assert pane is not None
    old = pane.session
    await pilot.press(*"sleep 100", "enter")
    await wait_until(lambda: pane.session.current_command == "sleep", what="sleep running")
    await pilot.press("ctrl+b", "colon", *"respawn-pane -k", "enter")
    await wait_until(lambda: pane.session is not old and pane.session.status.is_running)
    await at_prompt(pane)
    assert not old.status.is_running
    await pilot.press(*"echo again", "enter")
    await wait_until(lambda: "again" in pane.session.terminal.capture(), what="the new shell")
    assert app.is_running and app.pane is pane and len(app.window.panes) == 1


async def test_the_agents_records_are_read_back_before_the_socket_serves(tmp_path: Path) -> None:
    """A restored agent's first record must not take a stored record's id: the hub reads
    its records back before the control socket serves and sessions start."""
    from engine.hub import AgentHub
    from engine.store import Store

    path = tmp_path / "app.db"
    store = await Store.open(path)
    before = AgentHub()
    before.attach(store, "before")
    before.decisions.track("approach", ["x", "y"], "x", 0.8, agent="alice")
    await before.detach()
    await store.close()
    app = AiSessionApp(SessionConfig(shell_command=BASH), database=path)
    hub = app.manager.hub
    when_created: list[tuple[bool, int]] = []  # (socket served, decisions) as a session is made
    app.manager.events.subscribe(
        lambda event: (
            event.type == "created"
            and when_created.append((app.control is not None, len(hub.decisions)))
        )
    )
    async with app.run_test(size=SIZE):
        assert when_created[0] == (True, 1)  # the first window's session: after both
        assert hub.decisions.track("generic", ["z"], "z", 1.0).id == 2
