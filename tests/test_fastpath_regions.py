"""Scroll regions and the alternate screen on the line fast path: invisible, like the rest of it.

A flood of plain lines at the bottom of a scroll region (DECSTBM), on the main or the alternate
screen, must leave the same screen, cells, cursor, history and wrapped marks as the general path
(`parser.fast = None`), however the stream is cut into reads; and the screens must be tmux's.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tmux_oracle import TMUX, tmux_view, trim

from engine.terminal import Terminal

_SGR = st.sampled_from(
    [
        "\x1b[0m",
        "\x1b[m",
        "\x1b[1m",
        "\x1b[2;31m",
        "\x1b[38;5;200m",
        "\x1b[7m",
        "\x1b[22;39m",
        "\x1b[44m",  # a background colour: scrolled-in rows take it (back colour erase)
        "\x1b[48;2;1;2;3m",
        "\x1b[49m",
    ]
)
_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
_LINE = st.lists(st.one_of(_TEXT, _SGR), max_size=6).map("".join)
_FLOOD = st.lists(_LINE, min_size=2, max_size=30).map(lambda ls: "".join(x + "\r\n" for x in ls))
_MARGINS = st.tuples(st.integers(1, 12), st.integers(1, 12)).map(lambda m: f"\x1b[{m[0]};{m[1]}r")
# A region with the cursor at its bottom: the next flood starts on the fast path at once.
_REGION = _MARGINS.map(lambda m: m + f"\x1b[{m[2:-1].split(';')[1]};1H")
_ROW = st.integers(1, 12).map(lambda y: f"\x1b[{y};1H")  # relative to the region in origin mode
_ODD = st.sampled_from(
    [
        "\x1b[?6h",
        "\x1b[?6l",
        "\x1b[?1049h",
        "\x1b[?1049l",
        "\x1b[?47h",
        "\x1b[?47l",
        "\x1b[r",
        "\x1b[L",
        "\x1b[2L",
        "\x1b[M",
        "\x1b[3M",
        "\x1bM",
        "\x1bD",
        "\x1bE",
        "\x1b[S",
        "\x1b[2S",
        "\x1b[T",
        "\x1b[2T",
        "\x1b[K",
        "\x1b[2K",
        "\x1b[A\x1b[2K",  # erases a row that may have wrapped: an empty wrapped row
        "\x1b[J",
        "日本語",
        "ｱ",
        "\r",
        "\n",
        "\x1b[3A",
        "\x1b[?7l",
        "\x1b[?7h",
        "\x1b[?5h",
        "\x1b[?5l",
    ]
)
_STREAM = st.lists(
    st.one_of(_FLOOD, _FLOOD, _REGION, _MARGINS, _ROW, _ODD, _LINE), max_size=40
).map("".join)


def _state(t: Terminal) -> tuple[object, ...]:
    history = len(t.scrollback)
    return (
        t.display,
        [t.cell(x, y) for y in range(t.lines) for x in range(t.columns)],
        list(t.scrollback),  # text, style runs and wrapped mark of every history line
        [t.row_wrapped(y) for y in range(-history, t.lines)],
        t.cursor,
        t.screen.cursor.attrs,
        t.alternate_screen,
        t.capture(ansi=True, start="-"),
    )


def _feed(t: Terminal, data: bytes, chunk: int, peek: int = 0) -> Terminal:
    """Feed `data` in reads of `chunk` bytes; look at the screen after every `peek`-th read
    (which draws what the fast path deferred)."""
    for n, i in enumerate(range(0, len(data), chunk)):
        t.feed(data[i : i + chunk])
        if peek and n % peek == 0:
            t.cursor  # noqa: B018  # reading anything settles the screen
    return t


def _general(columns: int, lines: int) -> Terminal:
    t = Terminal(columns, lines, scrollback=200)
    t.parser.fast = None
    return t


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _STREAM,
    st.integers(1, 30),
    st.integers(1, 12),
    st.integers(1, 300),
    st.integers(0, 3),
)
def test_region_floods_match_the_general_path(
    stream: str, columns: int, lines: int, chunk: int, peek: int
) -> None:
    data = stream.encode()
    fast = _feed(Terminal(columns, lines, scrollback=200), data, chunk, peek)
    slow = _feed(_general(columns, lines), data, len(data) or 1)
    assert _state(fast) == _state(slow)
    assert fast.parser.errors == slow.parser.errors == 0


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STREAM, st.lists(st.integers(0, 2000), max_size=8), st.integers(2, 20))
def test_region_floods_do_not_depend_on_read_boundaries(
    stream: str, cuts: list[int], columns: int
) -> None:
    data = stream.encode()
    whole = _feed(Terminal(columns, 6, scrollback=200), data, len(data) or 1)
    pieces = Terminal(columns, 6, scrollback=200)
    start = 0
    for cut in sorted({min(c, len(data)) for c in cuts}):
        pieces.feed(data[start:cut])
        start = cut
    pieces.feed(data[start:])
    assert _state(pieces) == _state(whole)


def test_an_empty_wrapped_row_keeps_its_mark_however_the_stream_is_split() -> None:
    """A row that wrapped and was then erased still continues on the next one, on screen and
    in the history, whether the lines after it took the fast path or not."""
    data = (
        b"a\r\nb\r\n"
        + b"x" * 12  # wraps at 10 columns
        + b"\x1b[A\x1b[2K\x1b[B\r\n"  # erase the row that wrapped
        + b"".join(b"line %d\r\n" % i for i in range(6))
    )
    for lines in (5, 8, 12):  # the empty row in the history, on screen
        whole = _feed(Terminal(10, lines), data, len(data))
        reference = _state(whole)
        assert True in reference[3]  # the erased row is still marked as wrapped
        for k in range(len(data) + 1):
            split = Terminal(10, lines)
            split.feed(data[:k])
            split.feed(data[k:])
            assert _state(split) == reference, k
        assert _state(_feed(_general(10, lines), data, len(data))) == reference


def test_a_flood_in_a_region_takes_the_fast_path_and_leaves_the_rest_alone() -> None:
    setup = b"\x1b[?1049h" + b"".join(b"\x1b[%d;1Hrow %d" % (y, y) for y in range(1, 11))
    flood = b"".join(b"\x1b[32mline\x1b[0m %d\r\n" % i for i in range(500))
    data = setup + b"\x1b[3;8r\x1b[8;1H" + flood
    t = Terminal(20, 10)
    t.feed(setup)
    before, _ = t.display, t.take_dirty()
    t.feed(data[len(setup) :])
    assert t.screen._deferred is not None  # it really ran: the region's rows wait to be drawn
    changed = {y for y, (a, b) in enumerate(zip(before, t.display, strict=True)) if a != b}
    assert changed <= t.take_dirty()  # the pane repaints them
    rows = t.capture().split("\n")
    assert rows[:2] == ["row 1", "row 2"] and rows[8:] == ["row 9", "row 10"]
    assert rows[2:7] == [f"line {i}" for i in range(495, 500)] and rows[7] == ""
    assert len(t.scrollback) == 0  # the alternate screen keeps no history
    assert _state(t) == _state(_feed(_general(20, 10), data, len(data)))


def test_a_new_region_between_reads_does_not_take_the_lines_deferred_in_the_old_one() -> None:
    flood = b"".join(b"f%d\r\n" % i for i in range(30))
    reads = [b"\x1b[2;5r\x1b[5;1H" + flood, b"\x1b[4;8r\x1b[8;1H", flood, b"\x1b[r\x1b[9;1H", flood]
    for alternate in (b"", b"\x1b[?1049h"):
        fast, slow = Terminal(10, 9), _general(10, 9)
        for t in (fast, slow):
            for data in [alternate, *reads]:
                t.feed(data)
        assert _state(fast) == _state(slow)


def test_a_flood_in_a_main_screen_region_keeps_what_leaves_its_top() -> None:
    """tmux keeps the lines leaving a region's top in the history on the main screen."""
    data = b"\x1b[2;5r\x1b[5;1H" + b"".join(b"n%d\r\n" % i for i in range(100))
    t = Terminal(10, 6)
    t.feed(data)
    assert [line.text for line in t.scrollback][-3:] == ["n94", "n95", "n96"]
    assert t.capture().split("\n")[1:5] == ["n97", "n98", "n99", ""]
    assert _state(t) == _state(_feed(_general(10, 6), data, len(data)))


# -- tmux as the oracle ------------------------------------------------------------------------

_TMUX_SGR = st.sampled_from(["\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[44m", "\x1b[49m"])
_TMUX_LINE = st.lists(
    st.one_of(
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30), _TMUX_SGR
    ),
    max_size=4,
).map("".join)
_TMUX_FLOOD = st.lists(_TMUX_LINE, min_size=2, max_size=40).map(
    lambda ls: "".join(x + "\r\n" for x in ls)
)
# Left out where tmux 3.3a and xterm differ and we follow xterm: an explicit 0 in DECSTBM (1 for
# tmux), DECSTBM under origin mode (tmux homes to the screen's top-left, xterm to the region's),
# IL/DL with the cursor outside the region (tmux moves the rows below it, xterm does nothing).
_TMUX_STREAM = st.lists(
    st.one_of(
        _TMUX_FLOOD,
        st.tuples(st.integers(1, 8), st.integers(1, 8)).map(lambda m: f"\x1b[{m[0]};{m[1]}r"),
        st.integers(1, 8).map(lambda y: f"\x1b[{y};1H"),
        st.sampled_from(["\x1b[?1049h", "\x1b[?1049l", "\x1b[r", "\x1bM", "\x1b[S", "\x1b[2T"]),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TMUX_STREAM)
def test_region_floods_render_as_in_tmux(stream: str) -> None:
    if TMUX is None:
        return
    data = stream.encode()
    view = tmux_view(data, 20, 8)
    ours = Terminal(20, 8)
    ours.feed(data)
    assert trim(ours.capture()) == trim(view.screen)
    assert trim(ours.capture(start="-")) == trim(view.text)
    assert (ours.cursor.x, ours.cursor.y) == (min(view.cursor[0], 19), view.cursor[1])
    assert ours.alternate_screen == view.alternate
