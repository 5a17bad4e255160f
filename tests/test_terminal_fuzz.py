"""Property tests: no byte stream can make the terminal raise, lose its shape, or depend on
how the stream was split into reads."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.terminal import Terminal, split_cells
from engine.width import char_width

FINALS = "@ABCDEFGHIJKLMPSTXZ`abcdefghlmnqrstu"
_params = st.lists(st.integers(0, 300).map(str) | st.just(""), max_size=5).map(";".join)


@st.composite
def csi(draw: st.DrawFn) -> str:
    private = draw(st.sampled_from(["", "", "", "?", ">", "=", "<"]))
    sep_params = draw(_params)
    if draw(st.booleans()) and sep_params:
        sep_params = sep_params.replace(";", ":", 1)
    inter = draw(st.sampled_from(["", "", "", " ", "!", "$", '"']))
    return f"\x1b[{private}{sep_params}{inter}{draw(st.sampled_from(FINALS))}"


MODES = st.sampled_from(
    ["1", "6", "7", "25", "47", "1047", "1049", "2004", "1000", "1006", "2026", "3", "5", "4", "20"]
)
TOKENS = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30),
    st.sampled_from(["日本", "語", "é", "e\u0301", "✓", "─", "👍", "\u200d", "\ufe0f", "ｱ"]),
    st.sampled_from(
        ["\r\n", "\n", "\r", "\t", "\b", "\x07", "\x0e", "\x0f", "\x00", "\x7f", "\x85"]
    ),
    csi(),
    MODES.map(lambda m: f"\x1b[?{m}h"),
    MODES.map(lambda m: f"\x1b[?{m}l"),
    st.sampled_from(
        [
            "\x1b7",
            "\x1b8",
            "\x1bD",
            "\x1bE",
            "\x1bM",
            "\x1bc",
            "\x1bH",
            "\x1b#8",
            "\x1b(0",
            "\x1b(B",
            "\x1b=",
            "\x1b>",
        ]
    ),
    st.text(max_size=20).map(lambda s: f"\x1b]0;{s}\x07"),
    st.text(max_size=20).map(lambda s: f"\x1bP{s}\x1b\\"),
    st.sampled_from(["\x1b", "\x1b[", "\x1b]", "\x1bP", "\x18", "\x1a"]),
)
STREAMS = st.lists(TOKENS, max_size=60).map("".join)
SIZES = st.tuples(st.integers(1, 30), st.integers(1, 12))


def _check_shape(t: Terminal) -> None:
    assert t.parser.errors == 0
    assert 0 <= t.cursor.x < t.columns and 0 <= t.cursor.y < t.lines
    display = t.display
    assert len(display) == t.lines
    for row in display:
        # Cells as the model cuts them (a ZWJ sequence is one cell): engine/width.py's table.
        assert sum(2 if char_width(c[0]) == 2 else 1 for c in split_cells(row)) == t.columns, repr(
            row
        )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), SIZES)
def test_random_bytes_never_raise(data: bytes, size: tuple[int, int]) -> None:
    t = Terminal(*size)
    t.feed(data)
    _check_shape(t)
    t.capture(ansi=True, start="-")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STREAMS, SIZES)
def test_escape_heavy_streams_never_raise_or_break_the_screen(
    stream: str, size: tuple[int, int]
) -> None:
    t = Terminal(*size, scrollback=50)
    t.feed(stream.encode())
    _check_shape(t)
    t.resize(max(1, size[0] // 2), size[1] + 3)
    _check_shape(t)
    t.capture(ansi=True, start="-")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STREAMS, st.lists(st.integers(1, 40), min_size=1, max_size=20))
def test_result_does_not_depend_on_how_reads_were_split(stream: str, cuts: list[int]) -> None:
    data = stream.encode()
    whole = Terminal(20, 6)
    whole.feed(data)
    pieces = Terminal(20, 6)
    i = 0
    for n in cuts * (len(data) // max(1, sum(cuts)) + 1):
        pieces.feed(data[i : i + n])
        i += n
    pieces.feed(data[i:])
    assert pieces.display == whole.display
    assert pieces.cursor == whole.cursor
    assert pieces.capture(ansi=True, start="-") == whole.capture(ansi=True, start="-")
    assert pieces.title == whole.title
