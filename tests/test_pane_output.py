"""What panes send to the outer terminal: your own 16 colours, the program's cursor shape,
which signal killed it, and rows exactly as wide as the pane whatever characters they hold.

The first tests run ai-session itself in a real PTY (an engine session is the outer terminal)
and read back what it wrote; the others drive the app with Textual's pilot.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import BASH, bash_config, split, wait_for_screen, wait_until
from rich.cells import cell_len
from rich.color import ColorSystem, ColorType
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Static

from app.main import AiSessionApp
from engine import Session, SessionConfig, SessionManager
from engine.session import describe_exit
from engine.terminal import CursorState
from widgets.status_line import StatusLine
from widgets.terminal_pane import TerminalPane

ROOT = Path(__file__).resolve().parents[1]
RED = "printf '\\e[31mred\\e[91mbri\\e[0m\\n'\r"


# -- ai-session in a real terminal -----------------------------------------------------------


async def _outer(manager: SessionManager, *args: str) -> tuple[Session, bytearray]:
    """ai-session running bash in a 40x10 PTY we own; returns it and every byte it wrote."""
    command = shlex.join([sys.executable, "-m", "app", "--no-hints", *args, *BASH.split()])
    config = bash_config(
        pty_size=(10, 40),
        working_directory=ROOT,
        environment={"TERM": "xterm-256color", "COLORTERM": "truecolor"},
    )
    config.shell_command = command
    outer = await manager.create_session_with_config(config)
    written = bytearray()
    outer.subscribe(lambda event: written.extend(getattr(event, "data", b"")))
    await outer.start()
    await wait_until(lambda: outer.terminal.display[0].startswith("$ "), 30, "the pane's prompt")
    return outer, written


def _cells(outer: Session, text: str) -> list[tuple[str, str]]:
    """(character, foreground) of the outer terminal's cells where `text` is shown."""
    for y, line in enumerate(outer.terminal.display):
        if text in line:
            row = outer.terminal.screen.buffer[y]
            start = line.index(text)
            return [(row[x].data, row[x].fg) for x in range(start, start + len(text))]
    raise AssertionError(f"{text!r} not on the outer screen")


async def test_default_theme_sends_the_16_colours_as_sgr_not_rgb(
    manager: SessionManager,
) -> None:
    outer, written = await _outer(manager)
    await outer.send_input(RED.encode())
    await wait_for_screen(outer, "redbri", 30)
    assert _cells(outer, "redbri") == [(c, "red") for c in "red"] + [
        (c, "brightred") for c in "bri"
    ]
    assert b"\x1b[31mred" in written and b"\x1b[91mbri" in written
    assert b"38;2;" not in written[written.index(b"\x1b[31mred") - 20 :]


async def test_other_themes_keep_their_palette(manager: SessionManager) -> None:
    outer, written = await _outer(manager, "--theme", "ai-session-dark")
    await outer.send_input(RED.encode())
    await wait_for_screen(outer, "redbri", 30)
    assert _cells(outer, "redbri") == [(c, "f7768e") for c in "red"] + [
        (c, "ff899d") for c in "bri"
    ]
    assert b"\x1b[38;2;247;118;142mred" in written


async def test_the_outer_cursor_takes_the_programs_shape_and_place(
    manager: SessionManager,
) -> None:
    outer, _ = await _outer(manager)
    await wait_until(lambda: not outer.terminal.cursor.hidden, 30, "the outer cursor shown")
    assert (outer.terminal.cursor.x, outer.terminal.cursor.y) == (2, 0)  # after `$ `
    await outer.send_input(b"abc\x1b[D")  # the cursor moves back over the `c`, nothing else
    await wait_until(lambda: outer.terminal.cursor.x == 4, 30, "the cursor on the `c`")
    await outer.send_input(b"\x05\x15")  # C-e C-u: the line erased
    await outer.send_input(b"printf '\\e[5 q'\r")  # vim's insert mode: a bar
    await wait_until(
        lambda: outer.terminal.cursor == CursorState(2, 1, False, 5),
        30,
        lambda: f"a bar cursor after the next prompt, not {outer.terminal.cursor}",
    )
    row = outer.terminal.screen.buffer[1]
    assert not row[2].reverse  # the pane draws no block of its own under it

    await outer.send_input(b"printf '\\e[?25l'\r")  # the program hides its cursor
    await wait_until(lambda: outer.terminal.cursor.hidden, 30, "the cursor hidden")
    await outer.send_input(b"printf '\\e[?25h\\e[4 q'\r")
    await wait_until(
        lambda: outer.terminal.cursor.style == 4 and not outer.terminal.cursor.hidden,
        30,
        "an underline cursor, shown",
    )

    await outer.send_input(b"exit\r")  # the last pane: ai-session quits
    await wait_until(lambda: outer.status.is_terminated, 30, "ai-session to quit")
    assert outer.terminal.cursor.style == 0  # the terminal's own shape is back
    assert not outer.terminal.cursor.hidden


# -- the app under the pilot -----------------------------------------------------------------


@pytest.fixture
async def running() -> AsyncIterator[tuple[AiSessionApp, Pilot]]:
    app = AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}))
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.pane
        assert pane is not None
        await wait_for_screen(pane.session, "$ ")
        yield app, pilot


def _row_with(pane: TerminalPane, text: str) -> Strip:
    lines = pane.session.terminal.display
    y = next(y for y, line in enumerate(lines) if text in line)
    return pane.render_line(y + pane._top)


def _as_sent(app: App[object], strip: Strip) -> str:
    """The row as the app writes it: Textual's line filters, then SGR for a truecolor terminal."""
    segments = list(strip)
    for line_filter in app.get_line_filters():
        segments = line_filter.apply(segments, app.screen.styles.background)
    return "".join(
        s.style.render(s.text, color_system=ColorSystem.TRUECOLOR) if s.style else s.text
        for s in segments
    )


async def test_the_16_colours_pass_through_and_themes_still_map_them(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    pane = app.pane
    assert pane is not None
    await pane.session.send_input(RED.encode())
    await wait_for_screen(pane.session, "redbri")
    await pilot.pause()
    # the pane paints at its own pace (60 Hz): wait for the row as drawn, not the model's
    await wait_until(lambda: any(s.text.startswith("red") for s in _row_with(pane, "redbri")))
    red = next(s for s in _row_with(pane, "redbri") if s.text.startswith("red"))
    assert red.style is not None and red.style.color is not None
    assert (red.style.color.type, red.style.color.number) == (ColorType.STANDARD, 1)
    sent = _as_sent(app, _row_with(pane, "redbri"))
    assert "\x1b[31mred" in sent and "\x1b[91mbri" in sent and "38;2" not in sent

    app.theme = "ai-session-dark"
    await pilot.pause()
    sent = _as_sent(app, _row_with(pane, "redbri"))
    assert "\x1b[38;2;247;118;142mred" in sent and "\x1b[31m" not in sent


def _cursor_style(pane: TerminalPane) -> object:
    cursor = pane.session.terminal.cursor
    strip = pane.render_line(cursor.y + pane._top)
    return next(iter(strip.crop(cursor.x, cursor.x + 1))).style


async def test_headless_panes_draw_the_shape_the_program_asked_for(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    """Without an outer terminal (the pilot, snapshots) the pane draws the cursor itself."""
    app, pilot = running
    pane = app.pane
    assert pane is not None and pane.has_focus and not pane.outer_cursor_in_use
    for code, look in ((5, {"overline", "underline"}), (4, {"underline"}), (2, {"reverse"})):
        await pane.session.send_input(f"printf '\\e[{code} q'\r".encode())
        await wait_until(lambda code=code: pane.session.terminal.cursor.style == code)
        await pilot.pause()
        style = _cursor_style(pane)
        drawn = {a for a in ("reverse", "underline", "overline") if getattr(style, a)}
        assert drawn == look, code
    app.set_focus(None)
    await pilot.pause()
    style = _cursor_style(pane)
    assert style.underline and not style.reverse and not style.overline  # type: ignore[attr-defined]


async def test_a_shell_killed_by_a_signal_says_which(running: tuple[AiSessionApp, Pilot]) -> None:
    app, pilot = running
    app.options["remain-on-exit"] = True  # tmux's `set -g remain-on-exit on`: the pane stays
    pane = app.pane
    assert pane is not None
    await pane.session.send_input(b"kill -9 $$\r")
    await wait_until(lambda: pane.exit_code == -9, what="the shell killed")
    await pilot.pause()
    assert "[killed by SIGKILL]" in pane.render_line(pane.region.height - 1).text
    app.update_status()
    assert app.query_one("#status", StatusLine).line.endswith("[killed by SIGKILL]")


def test_exit_descriptions_name_the_signal() -> None:
    assert describe_exit(0) == "exited 0"
    assert describe_exit(4) == "exited 4"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(-99) == "killed by signal 99"


# -- widths ----------------------------------------------------------------------------------

NASTY = (
    "👍🏽 thumbs 👨‍👩‍👧 family 🇺🇸🇯🇵 flags ❤️ heart ☺️ e\u0301\u0308 a\u200bb 中文字 end\r\n"
    + "🏳️‍🌈" * 12
    + "\r\n"
    + "x" * 19
    + "中\r\n"  # a wide character that does not fit in the last column
    + "\u0301 lone mark, soft\xadhyphen 🧑🏿‍🤝‍🧑🏻 ok\r\n"
)


class PaneBesideDivider(App[None]):
    """One pane, 20 columns wide, with a `#` column right of it (where a divider would be)."""

    CSS = "TerminalPane { width: 20; } #divider { width: 1; height: 1fr; }"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield TerminalPane(self.session, show_title=True)
            yield Static("#\n" * 12, id="divider")


async def test_rows_fit_the_pane_whatever_the_characters(bash: Session, tmp_path: Path) -> None:
    sample = tmp_path / "nasty.txt"
    sample.write_text("\x1b]2;🚀 build 👨‍👩‍👧 done\x07" + NASTY + "END\r\n", encoding="utf-8")
    app = PaneBesideDivider(bash)
    async with app.run_test(size=(30, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await bash.send_input(f"cat {sample}\r".encode())
        await wait_for_screen(bash, "END")
        await pilot.pause()
        for y in range(pane.size.height):
            strip = pane.render_line(y)
            assert cell_len(strip.text) == 20 == sum(cell_len(s.text) for s in strip), y
        screen = app.screen._compositor.render_strips()  # what goes to the terminal
        for y, line in enumerate(screen):
            text = "".join(s.text for s in line if not s.control)
            assert cell_len(text) == 30, y
            assert cell_len(text[: text.index("#")]) == 20, (y, text)


def test_a_segment_built_from_cells_measures_as_the_cells() -> None:
    """Cells that would fuse in Rich's measure (a joiner at a cell's end) are kept apart."""
    session = Session(SessionConfig(pty_size=(2, 12)))
    session.terminal.feed("👨‍👩‍👧🇺🇸❤️".encode())
    pane = TerminalPane(session)
    segments = pane._segments(0, -1, "")
    assert cell_len("".join(s.text for s in segments)) == 12
    assert Segment.get_line_length(segments) == 12


async def test_output_right_after_a_paint_waits_for_the_frame_but_an_echo_does_not(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    # An agent's spinner paints its pane ten times a second; a key typed into that pane must
    # not wait up to a frame (16 ms) behind it: the next paint after a key is at once.
    app, pilot = running
    pane = app.pane
    assert pane is not None and pane.has_focus
    await pane.session.send_input(b"stty -echo; cat\r")  # typed keys make no output here
    await wait_until(lambda: pane.session.current_command == "cat")
    # As if the program's output had just been painted (a minute ahead: the test's own pace
    # does not matter): more output is held until the frame interval is up.
    pane._painted = time.monotonic() + 60
    pane._request_paint()
    assert pane._paint_handle is not None and pane._pending
    await pilot.press("x")  # typed
    pane._request_paint()  # the next output (its echo, were echo on) is painted at once
    assert pane._paint_handle is None and not pane._pending


async def test_an_echo_painted_at_once_leaves_other_panes_paints_for_the_next_frame(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    # The focused pane puts its echo on screen alone; another pane's rows refreshed just
    # before must still be drawn by the next frame, not forgotten.
    app, pilot = running
    first = app.pane
    assert first is not None
    typing_into = await split(app, pilot, "percent_sign")
    screen = app.screen
    first.refresh()  # its program's output: rows to draw
    screen._dirty_widgets.add(first)  # as Textual's update message does
    typing_into._compose_now()  # an echo in the pane typed into
    assert first in screen._dirty_widgets and first._repaint_regions
    await wait_until(lambda: not first._repaint_regions, what="the other pane drawn")
