"""Copy mode over a real terminal: vi moves, paging, search, selection, and a view that stays
put while output goes on."""

from __future__ import annotations

from engine.copymode import CopyMode
from engine.terminal import Terminal


def _term(lines: int = 50) -> Terminal:
    t = Terminal(30, 5)
    t.feed("".join(f"line {i} alpha beta\r\n" for i in range(lines)).encode())
    return t


def test_starts_at_the_cursor_and_moves_with_vi_keys() -> None:
    t = _term()
    mode = CopyMode(t, height=5)
    assert mode.row(mode.line) == t.cursor.y and mode.position == (0, 46)
    for key in "kkkk":
        mode.key(key)
    assert mode.text(mode.line) == "line 46 alpha beta"
    mode.key("w")
    assert mode.column == 5
    mode.key("$")
    assert mode.column == len("line 46 alpha beta") - 1
    mode.key("0")
    mode.key("g")
    assert mode.text(mode.line) == "line 0 alpha beta" and mode.top == mode.first
    mode.key("G")
    assert mode.line == mode.last and mode.position == (0, 46)


def test_half_pages_and_pages_scroll_the_view() -> None:
    mode = CopyMode(_term(), height=5)
    mode.key("ctrl+u")
    assert mode.position == (2, 46)
    mode.key("pageup")
    assert mode.position == (7, 46)
    mode.key("ctrl+d")
    assert mode.position == (5, 46)


def test_search_jumps_to_matches_and_wraps() -> None:
    mode = CopyMode(_term(), height=5)
    assert mode.find("LINE 12", forward=False) is False  # smart case: capitals match exactly
    assert mode.find("line 12", forward=False)
    assert mode.text(mode.line).startswith("line 12")
    assert mode.find("alpha")
    first = mode.line
    mode.key("n")
    assert mode.line == first + 1
    mode.key("N")
    assert mode.line == first
    assert not mode.find("no such text")


def test_selection_copies_text_and_joins_wrapped_rows() -> None:
    t = Terminal(10, 4)
    t.feed(b"abcdefghijKLM\r\nsecond\r\n")
    mode = CopyMode(t, height=4)
    mode.move_to(mode.line_of(0), 2)
    mode.key("v")
    mode.move_to(mode.line_of(1), 1)
    assert mode.selected_text() == "cdefghijKL"
    mode.key("V")
    mode.move_to(mode.line_of(2), 0)
    assert mode.selected_text() == "KLM\nsecond\n"
    assert mode.key("y") == "copy" and mode.key("q") == "exit"


def test_view_stays_on_the_same_text_while_output_continues() -> None:
    t = _term()
    mode = CopyMode(t, height=5)
    mode.key("pageup")
    mode.key("pageup")
    shown = [mode.text(line) for line in range(mode.top, mode.top + 5)]
    t.feed(b"more output\r\n" * 7)
    assert [mode.text(line) for line in range(mode.top, mode.top + 5)] == shown


def test_wheel_mode_exits_at_the_bottom() -> None:
    mode = CopyMode(_term(), height=5, exit_at_bottom=True)
    assert mode.scroll(-3) is None and mode.position == (3, 46)
    assert mode.scroll(3) == "exit"


def test_history_dropped_under_the_view_is_followed_not_crashed() -> None:
    t = Terminal(20, 5)
    t.scrollback.max_lines = 10
    t.feed(b"".join(b"line %d\r\n" % i for i in range(30)))
    mode = CopyMode(t, height=5)
    mode.key("g")
    t.feed(b"".join(b"more %d\r\n" % i for i in range(8)))
    mode.follow()
    assert mode.top >= mode.first and mode.line >= mode.first
    assert mode.text(mode.top) == t.row_text(-t.history_size)
    assert mode.position[0] <= t.history_size


def test_space_starts_a_selection_and_height_follows_a_resize() -> None:
    mode = CopyMode(_term(), height=5)
    mode.key("space", " ")
    assert mode.selecting
    mode.follow(height=2)
    assert mode.height == 2 and mode.top <= mode.line < mode.top + 2
