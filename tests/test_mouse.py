"""The mouse as a tmux user (with `mouse on`) uses it: drags and motion reach programs that
asked for them (vim's split, a recording program), and elsewhere a drag selects and copies."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import BASH, wait_until
from textual import events
from textual.pilot import Pilot

from app.main import AiSessionApp
from engine import SessionConfig
from widgets.terminal_pane import TerminalPane

SIZE = (100, 30)

# Records every byte it reads (mouse reports, then "q" to stop) with 1003 + SGR turned on.
RECORDER = r"""
import os, sys, termios, tty
out = open(sys.argv[1], "wb")
old = termios.tcgetattr(0)
tty.setraw(0)
os.write(1, b"\x1b[?1003h\x1b[?1006hrecording\r\n")
try:
    while True:
        data = os.read(0, 1024)
        out.write(data)
        out.flush()
        if b"q" in data:
            break
finally:
    os.write(1, b"\x1b[?1003l\x1b[?1006l")
    termios.tcsetattr(0, termios.TCSADRAIN, old)
"""


@pytest.fixture
async def running() -> AsyncIterator[tuple[AiSessionApp, Pilot, TerminalPane]]:
    app = AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        assert pane is not None
        await wait_until(lambda: "$" in pane.session.capture_pane(), what=pane.session.capture_pane)
        yield app, pilot, pane


def _top(pane: TerminalPane) -> int:
    """Rows above the terminal in the pane (its title bar, when shown)."""
    return 1 if pane.show_title and pane.size.height > 1 else 0


def _row_of(pane: TerminalPane, text: str) -> int:
    return [line.rstrip() for line in pane.session.terminal.display].index(text)


async def _run(pilot: Pilot, pane: TerminalPane, command: str, shown: str) -> None:
    await pilot.press(*command, "enter")
    await wait_until(lambda: shown in pane.session.capture_pane(), what=pane.session.capture_pane)


async def test_vim_split_follows_a_drag_on_its_separator(
    running: tuple[AiSessionApp, Pilot, TerminalPane], tmp_path: Path
) -> None:
    """Mode 1002: vim gets the press, the drag and the release, and moves its split."""
    _app, pilot, pane = running
    await _run(pilot, pane, f"cd {tmp_path} && vim -u NONE -i NONE -N", "~")
    # vim picks the mouse protocol from the terminal's version; set it as tmux users do.
    await pilot.press(*":set mouse=a ttymouse=sgr", "enter", *":vsplit", "enter")
    terminal = pane.session.terminal
    await wait_until(lambda: terminal.mouse_tracking == "button", what="vim's mouse mode")

    def separator() -> int:
        return terminal.display[3].find("|")

    await wait_until(lambda: separator() > 0, what=lambda: "\n".join(terminal.display))
    start = separator()
    top = _top(pane)
    await pilot.mouse_down(pane, offset=(start, 3 + top))
    for x in range(start - 1, start - 11, -1):
        await pilot.hover(pane, offset=(x, 3 + top))
    await pilot.mouse_up(pane, offset=(start - 10, 3 + top))
    await wait_until(lambda: separator() == start - 10, what=lambda: f"separator at {separator()}")
    assert pane.copy is None
    await pilot.press("escape", *":qa!", "enter")
    await wait_until(lambda: not terminal.alternate_screen)


async def test_any_event_mode_gets_motion_once_a_cell_and_clamped_drags(
    running: tuple[AiSessionApp, Pilot, TerminalPane], tmp_path: Path
) -> None:
    """Mode 1003 + SGR: motion with no button (35), press, drag (32), release; motion in the
    same cell is not repeated; a drag below the pane reports its last row."""
    _app, pilot, pane = running
    script, record = tmp_path / "recorder.py", tmp_path / "record.bin"
    script.write_text(RECORDER)
    await _run(pilot, pane, f"{sys.executable} {script} {record}", "recording")
    terminal = pane.session.terminal
    await wait_until(lambda: terminal.mouse_tracking == "any")
    top = _top(pane)
    await pilot.hover(pane, offset=(4, 2 + top))
    await pilot.hover(pane, offset=(4, 2 + top))  # the same cell: no second report
    await pilot.hover(pane, offset=(5, 2 + top))
    await pilot.mouse_down(pane, offset=(5, 2 + top))
    await pilot.hover(pane, offset=(6, 2 + top))
    status_row = pane.region.bottom  # below the pane (the status line): still this pane's
    await pilot.hover(offset=(7, status_row))
    await pilot.mouse_up(offset=(7, status_row))
    await pilot.press("q")
    await wait_until(lambda: record.exists() and b"q" in record.read_bytes(), what="the record")
    last = terminal.lines  # 1-based: the bottom row of the terminal
    assert record.read_bytes() == (
        b"\x1b[<35;5;3M\x1b[<35;6;3M\x1b[<0;6;3M\x1b[<32;7;3M"
        + f"\x1b[<32;8;{last}M\x1b[<0;8;{last}mq".encode()
    )


async def test_a_drag_over_shell_output_selects_and_copies_it(
    running: tuple[AiSessionApp, Pilot, TerminalPane],
) -> None:
    """No program mouse: press, drag and release select character-wise from the press to the
    pointer, copy on release and leave copy mode, as tmux with `mouse on`."""
    app, pilot, pane = running
    await _run(pilot, pane, "seq 1 20", "20\n$")
    top = _top(pane)
    five, eight = _row_of(pane, "5") + top, _row_of(pane, "8") + top
    await pilot.click(pane, offset=(0, five))
    await pilot.pause()
    assert pane.copy is None  # a click alone does not enter copy mode
    await pilot.mouse_down(pane, offset=(0, five))
    await pilot.hover(pane, offset=(3, five + 1))
    assert pane.copy is not None and pane.copy.selecting
    await pilot.hover(pane, offset=(0, eight))
    await pilot.mouse_up(pane, offset=(0, eight))
    await wait_until(lambda: pane.copy is None and app.paste_buffers, what="the copy")
    assert app.paste_buffers[-1] == "5\n6\n7\n8"


@pytest.mark.parametrize("where", ["top row", "below the pane"])
async def test_a_drag_held_at_an_edge_scrolls_the_view_with_the_selection(
    running: tuple[AiSessionApp, Pilot, TerminalPane], where: str
) -> None:
    """As tmux: the pointer on the top row scrolls back through the history a line at a time
    while it stays there; on the bottom row (or below the pane, clamped) forward again."""
    app, pilot, pane = running
    await _run(pilot, pane, "seq 1 100", "100\n$")
    top = _top(pane)
    first = int(pane.session.terminal.display[0])  # the top visible line
    height = pane.session.terminal.lines
    if where == "top row":
        press, edge, start = (0, pane.region.y + top + 1), (0, pane.region.y + top), first + 1
    else:  # scrolled back first: the wheel, 3 lines a step
        for _ in range(3):
            await pilot._post_mouse_events([events.MouseScrollUp], offset=(5, 5))
        await wait_until(lambda: pane.copy is not None and pane.copy.position[0] == 9)
        start = int(pane.copy.text(pane.copy.top + 1))
        press, edge = (0, pane.region.y + top + 1), (0, pane.region.bottom)
    await pilot.mouse_down(offset=press)
    await pilot.hover(offset=edge)

    def scrolled() -> bool:
        assert pane.copy is not None
        back = pane.copy.position[0]
        return back >= 3 if where == "top row" else back <= 6

    await wait_until(scrolled, what="the view to scroll")
    await pilot.mouse_up(offset=edge)
    await wait_until(lambda: pane.copy is None and app.paste_buffers, what="the copy")
    copied = app.paste_buffers[-1].split("\n")
    numbers = [int(n) for n in copied[:-1]]
    if where == "top row":  # from the top of the view, back down to the press
        assert numbers[0] <= first - 3 and numbers == list(range(numbers[0], start))
        assert copied[-1] == str(start)[0]
    else:  # from the press down past the bottom of the view it started in
        assert numbers == list(range(start, start + len(numbers)))
        assert len(numbers) >= height - 2 + 3  # the view went on by 3 lines or more


async def test_double_click_copies_a_word_and_triple_click_a_line(
    running: tuple[AiSessionApp, Pilot, TerminalPane],
) -> None:
    """As tmux's DoubleClick1Pane and TripleClick1Pane: select-word (tmux's word separators),
    select-line, shown for a moment, then copied and copy mode left."""
    app, pilot, pane = running
    await _run(pilot, pane, "echo alpha beta.gamma delta", "\nalpha beta")
    top = _top(pane)
    row = _row_of(pane, "alpha beta.gamma delta") + top
    await pilot.click(pane, offset=(7, row), times=2)
    await wait_until(lambda: pane.copy is None and app.paste_buffers, what="the word")
    assert app.paste_buffers[-1] == "beta"
    await pilot.click(pane, offset=(7, row), times=3)
    await wait_until(lambda: pane.copy is None and len(app.paste_buffers) > 1, what="the line")
    assert app.paste_buffers[-1] == "alpha beta.gamma delta\n"  # as tmux's select-line


async def test_copy_mode_page_up_is_one_page_less_two_lines(
    running: tuple[AiSessionApp, Pilot, TerminalPane],
) -> None:
    """The entry point C-b PgUp calls (tmux's `copy-mode -u`)."""
    _app, pilot, pane = running
    await _run(pilot, pane, "seq 1 100", "100\n$")
    pane.copy_mode_page_up()
    assert pane.copy is not None
    assert pane.copy.position[0] == pane.copy.height - 2
    pane.copy_mode_page_up()
    assert pane.copy.position[0] == 2 * (pane.copy.height - 2)
