"""The line fast path must be invisible: same screen, history and cells as the general path."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.terminal import Terminal

_SGR = st.sampled_from(
    [
        "\x1b[0m",
        "\x1b[1m",
        "\x1b[2;31m",
        "\x1b[38;5;200m",
        "\x1b[48;2;1;2;3m",
        "\x1b[m",
        "\x1b[7m",
        "\x1b[22;39m",
        "\x1b[4m   ",
    ]
)
_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=50)
_LINE = st.lists(st.one_of(_TEXT, _SGR), max_size=8).map("".join)
# Mostly plain lines, sometimes something the fast path must leave alone.
_ODD = st.sampled_from(
    [
        "\x1b[5;10r",
        "\x1b[r",
        "\x1b[?1049h",
        "\x1b[?1049l",
        "\x1b[4h",
        "\x1b[4l",
        "日本",
        "\r",
        "\n",
        "\x1b[H",
        "\x1b[2J",
        "\x1b[3A",
        "\x1b(0",
        "\x1b(B",
        "\x1b[?7l",
        "\x1b[?7h",
        "\x1b[?5h",
        "\x1b[?5l",
        "\t",
    ]
)
_STREAM = st.lists(
    st.one_of(_LINE.map(lambda s: s + "\r\n"), _LINE.map(lambda s: s + "\r\n"), _ODD), max_size=80
).map("".join)


def _state(t: Terminal) -> tuple[object, ...]:
    cells = [t.cell(x, y) for y in range(t.lines) for x in range(t.columns)]
    history = list(t.scrollback)
    wrapped = [t.row_wrapped(y) for y in range(t.lines)]
    return (
        cells,
        history,
        wrapped,
        t.cursor,
        t.screen.cursor.attrs,
        t.capture(ansi=True, start="-"),
    )


def _both(
    data: bytes, columns: int, lines: int, chunk: int, peek: int = 0, blocks: bool = False
) -> tuple[Terminal, Terminal]:
    """The same bytes through the fast and the general path. `peek`: look at the fast one's
    screen after every peek-th chunk (drawing what it deferred); `blocks`: tiny scrollback
    blocks, so raw lines are compressed and decoded again."""
    fast, slow = Terminal(columns, lines, scrollback=100), Terminal(columns, lines, scrollback=100)
    slow.parser.fast = None
    for t in (fast, slow):
        if blocks:
            t._scrollback.HOT, t._scrollback.BLOCK = 6, 4
        for n, i in enumerate(range(0, len(data), chunk)):
            t.feed(data[i : i + chunk])
            if t is fast and peek and n % peek == 0:
                t.cursor  # noqa: B018  # reading anything settles the screen
    return fast, slow


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _STREAM,
    st.integers(1, 30),
    st.integers(1, 8),
    st.integers(1, 200),
    st.integers(0, 3),
    st.booleans(),
)
def test_fast_path_matches_the_general_path(
    stream: str, columns: int, lines: int, chunk: int, peek: int, blocks: bool
) -> None:
    fast, slow = _both(stream.encode(), columns, lines, chunk, peek, blocks)
    assert _state(fast) == _state(slow)
    assert fast.parser.errors == slow.parser.errors == 0


def test_fast_path_is_taken_for_a_flood_of_lines() -> None:
    data = b"".join(b"\x1b[32mok\x1b[0m line %d\r\n" % i for i in range(500))
    t = Terminal(20, 5)
    t.feed(data)
    # It really ran: lines went to history unparsed, the last ones wait to be drawn.
    assert any(type(e).__name__ == "RawLines" for e in t._scrollback._hot)
    assert t.screen._deferred is not None
    assert t.capture().splitlines()[-1] == "ok line 499"
    fast, slow = _both(data, 20, 5, 4096)
    assert _state(fast) == _state(slow)
    assert type(fast.screen.buffer[0]).__name__ == "FastRow"


def test_a_line_cut_between_feeds_is_held_until_looked_at() -> None:
    t = Terminal(20, 5)
    t.feed(b"".join(b"line %d\r\n" % i for i in range(10)) + b"\x1b[31mpart")
    assert t.parser._held  # the unfinished line waits for the rest
    assert t.cursor.x == 4  # ...unless someone looks: then it is drawn
    assert t.capture().splitlines()[-1] == "part"
    t.feed(b"ial\r\n")
    assert t.capture().splitlines()[-1] == "partial"
    assert t.cursor.x == 0 and t.cursor.y == 4
    assert t.screen.cursor.attrs.fg == "red"


def test_a_flood_into_a_small_scrollback_keeps_the_newest_lines() -> None:
    t = Terminal(30, 5, scrollback=50)
    for n in range(20):
        t.feed(b"".join(b"\x1b[1mrow\x1b[0m %d\r\n" % (n * 100 + i) for i in range(100)))
    history = [line.text for line in t.scrollback]
    assert len(history) == 50
    assert history[-1] == "row 1995" and history[0] == "row 1946"


def test_a_fast_row_written_over_is_not_taken_from_its_cache() -> None:
    data = b"".join(b"row %d\r\n" % i for i in range(10))
    fast, slow = _both(data + b"\x1b[2;1HXY\x1b[5;1H" + b"\r\n" * 5, 20, 5, 64)
    assert _state(fast) == _state(slow)
    assert any(line.text.startswith("XY") for line in fast.scrollback)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _STREAM,
    _STREAM,
    st.integers(2, 30),
    st.integers(2, 8),
    st.integers(1, 30),
    st.integers(1, 8),
)
def test_a_resize_between_floods_matches_the_general_path(
    before: str, after: str, columns: int, lines: int, new_columns: int, new_lines: int
) -> None:
    """Deferred lines and a held partial line are drawn before a resize, not after it."""
    fast, slow = Terminal(columns, lines, scrollback=100), Terminal(columns, lines, scrollback=100)
    slow.parser.fast = None
    for t in (fast, slow):
        t.feed(before.encode())
        t.resize(new_columns, new_lines)
        t.feed(after.encode())
    assert _state(fast) == _state(slow)


@pytest.mark.parametrize("columns", [7, 30])
def test_a_flood_past_the_scrollback_is_dropped_unkept_as_eviction_would(columns: int) -> None:
    """A batch longer than the history keeps: its oldest lines go at once, never stored."""
    data = b"top\r\n" * 3 + b"".join(
        b"\x1b[3%dmline %d\x1b[0m %s\r\n" % (i % 8, i, b"w" * (i % 23)) for i in range(3000)
    )
    fast, slow = Terminal(columns, 5, scrollback=40), Terminal(columns, 5, scrollback=40)
    slow.parser.fast = None
    for t in (fast, slow):
        t.feed(data[:40])
        t.cursor  # noqa: B018  # the first rows drawn: the batch then scrolls them off
        t.feed(data[40:])
    assert _state(fast) == _state(slow)
    assert fast.scrollback.dropped == slow.scrollback.dropped > 0
    history = fast._scrollback  # what it stores, evicted lines skipped inside it included
    assert history._hot_lines + sum(block.count for block in history._cold) < 100
