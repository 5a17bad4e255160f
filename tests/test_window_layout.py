"""The window as a tmux user sees it: display-panes numbers, the marked pane's border, focus
moves that wrap and remember, rotate — real bash in every pane, driven through the app."""

from __future__ import annotations

import pytest
from conftest import BASH, split, wait_until
from rich.style import Style
from textual.pilot import Pilot

from app.main import AiSessionApp
from engine import SessionConfig
from engine.layout import Rect
from widgets.terminal_pane import TerminalPane
from widgets.window_view import DIGITS, DividerBar, PaneNumber, WindowView

SIZE = (100, 30)


async def _three(app: AiSessionApp, pilot: Pilot) -> list[TerminalPane]:
    """a | b over c, c active: C-b % then C-b \"."""
    first = app.pane
    assert first is not None
    right = await split(app, pilot, "percent_sign")
    below = await split(app, pilot, "quotation_mark")
    return [first, right, below]


def _marks(window: WindowView) -> dict[str, list[PaneNumber]]:
    marks: dict[str, list[PaneNumber]] = {}
    for mark in window.query(PaneNumber):
        marks.setdefault(mark.pane_id, []).append(mark)
    return marks


def _inside(inner: Rect, outer: Rect) -> bool:
    return (
        outer.x <= inner.x
        and inner.right <= outer.right
        and outer.y <= inner.y
        and inner.bottom <= outer.bottom
    )


async def test_display_panes_shows_each_number_big_in_its_pane_until_time_is_up(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    panes = await _three(app, pilot)
    window = app.window
    assert [window.pane_by_index(i) for i in range(3)] == panes
    assert window.pane_by_index(3) is None
    window.show_pane_numbers(seconds=0.3)
    await pilot.pause()
    marks = _marks(window)
    for index, pane in enumerate(panes):
        big = [m for m in marks[pane.pane_id] if m.big]
        assert len(big) == 1 and big[0].rows == list(DIGITS[str(index)])
        mark = big[0]
        area = pane.region
        place = Rect(mark.region.x, mark.region.y, mark.region.width, mark.region.height)
        assert _inside(place, Rect(area.x, area.y + 1, area.width, area.height - 1))
        middle = area.x + area.width // 2
        assert place.x < middle < place.right  # in the middle, as tmux draws it
        widget, _ = app.screen.get_widget_at(place.x + 4, place.y)
        assert widget is mark  # drawn over the pane, not under it
        colour = "red" if pane is app.pane else "blue"
        assert mark.colour == Style(bgcolor=colour)
        (label,) = [m for m in marks[pane.pane_id] if not m.big]  # the pane's size, top right
        terminal = pane.session.terminal
        assert label.text == f"{terminal.columns}x{terminal.lines}"
        assert label.region.right == area.right and label.region.y == area.y + 1
    await wait_until(lambda: not window.query(PaneNumber), what="the numbers to go")
    assert not window.showing_pane_numbers


async def test_display_panes_goes_when_told_and_numbers_follow_the_layout(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    first, right, below = await _three(app, pilot)
    window = app.window
    window.show_pane_numbers()
    await pilot.pause()
    window.hide_pane_numbers()  # a key pressed meanwhile
    await pilot.pause()
    assert not window.query(PaneNumber)
    window.rotate()  # C-o: each pane one place back, the first to the end
    await pilot.pause()
    assert window.pane_ids_in_order() == [right.pane_id, below.pane_id, first.pane_id]
    assert app.pane is first  # the focus stayed in the bottom right, where `first` is now
    window.show_pane_numbers()
    await pilot.pause()
    big = {m.pane_id: m.rows for m in window.query(PaneNumber) if m.big}
    assert big[right.pane_id] == list(DIGITS["0"]) and big[first.pane_id] == list(DIGITS["2"])
    window.hide_pane_numbers()


def _reversed_cells(window: WindowView) -> set[tuple[int, int]]:
    cells = set()
    for bar in window.query(DividerBar):
        rect = bar.divider.rect
        for y in range(rect.height):
            x = rect.x
            for segment in bar.render_line(y):
                for _ in segment.text:
                    if segment.style is not None and segment.style.reverse:
                        cells.add((x, rect.y + y))
                    x += 1
    return cells


async def test_the_marked_pane_has_its_border_drawn_reversed(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    right = (await _three(app, pilot))[1]
    window = app.window
    assert _reversed_cells(window) == set()
    window.marked = right.pane_id
    window.place()
    await pilot.pause()
    rects, _ = window.splits.geometry(window.size.width, window.size.height)
    box = rects[right.pane_id]  # top right: its left border, its bottom border, the corner
    left_border = {(box.x - 1, y) for y in range(box.y, box.bottom + 1)}
    bottom_border = {(x, box.bottom) for x in range(box.x, box.right)}
    assert _reversed_cells(window) == left_border | bottom_border
    window.marked = None
    window.place()
    assert _reversed_cells(window) == set()


async def test_focus_moves_wrap_round_and_come_back_to_the_pane_used_last(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    first, right, below = await _three(app, pilot)
    window = app.window
    window.select(right.pane_id)
    window.select(first.pane_id)
    window.select_direction("right")  # b and c both touch a: b was used more recently
    assert app.window.active == right.pane_id
    window.select_direction("right")  # nothing further right: round to a
    assert window.active == first.pane_id
    window.select_direction("left")  # and round the other way, back to b
    assert window.active == right.pane_id
    window.select_direction("up")  # b is at the top: round to c at the bottom
    assert window.active == below.pane_id
    await pilot.pause()
    await wait_until(lambda: below.has_focus)


async def _bash_pane(app: AiSessionApp, pane_id: str) -> TerminalPane:
    session = await app.manager.create_session_with_config(
        SessionConfig(shell_command=BASH, environment={"PS1": "$ "})
    )
    await session.start()
    return TerminalPane(session, pane_id=pane_id)


async def test_split_sizes_detached_splits_and_no_space(
    running: tuple[AiSessionApp, Pilot],
) -> None:
    app, pilot = running
    window = app.window
    first = window.active
    assert first is not None
    narrow = await _bash_pane(app, "%90")
    await window.add_pane(narrow, beside=first, size=window.size.width - 3, detached=True)
    await pilot.pause()
    assert window.active == first  # -d: the focus stays
    assert app.window.panes[first].region.width == 2  # -l: the new pane got the rest
    refused = await _bash_pane(app, "%91")
    with pytest.raises(ValueError, match=r"^no space for new pane$"):
        await window.add_pane(refused, beside=first)
    assert "%91" not in window.panes and window.pane_ids_in_order() == [first, "%90"]
    assert refused.parent is None  # never mounted
    await app.manager.remove_session(refused.session.id)
    above = await _bash_pane(app, "%92")
    await window.add_pane(above, beside="%90", direction="column", before=True, full=True)
    await pilot.pause()
    assert above.region.width == window.size.width and above.region.y == window.region.y
    assert window.pane_ids_in_order() == ["%92", first, "%90"] and window.active == "%92"
