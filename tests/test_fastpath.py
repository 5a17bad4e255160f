"""The line fast path must be invisible: same screen, history and cells as the general path."""

from __future__ import annotations

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


def _both(data: bytes, columns: int, lines: int, chunk: int) -> tuple[Terminal, Terminal]:
    fast, slow = Terminal(columns, lines, scrollback=100), Terminal(columns, lines, scrollback=100)
    slow.parser.fast = None
    for t in (fast, slow):
        for i in range(0, len(data), chunk):
            t.feed(data[i : i + chunk])
    return fast, slow


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STREAM, st.integers(1, 30), st.integers(1, 8), st.integers(1, 200))
def test_fast_path_matches_the_general_path(
    stream: str, columns: int, lines: int, chunk: int
) -> None:
    fast, slow = _both(stream.encode(), columns, lines, chunk)
    assert _state(fast) == _state(slow)
    assert fast.parser.errors == slow.parser.errors == 0


def test_fast_path_is_taken_for_a_flood_of_lines() -> None:
    data = b"".join(b"\x1b[32mok\x1b[0m line %d\r\n" % i for i in range(500))
    fast, slow = _both(data, 20, 5, 4096)
    assert _state(fast) == _state(slow)
    assert type(fast.screen.buffer[0]).__name__ == "FastRow"  # it really ran


def test_a_fast_row_written_over_is_not_taken_from_its_cache() -> None:
    data = b"".join(b"row %d\r\n" % i for i in range(10))
    fast, slow = _both(data + b"\x1b[2;1HXY\x1b[5;1H" + b"\r\n" * 5, 20, 5, 64)
    assert _state(fast) == _state(slow)
    assert any(line.text.startswith("XY") for line in fast.scrollback)
