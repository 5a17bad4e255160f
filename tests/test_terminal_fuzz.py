"""Property tests: no byte stream can make the terminal raise, lose its shape, or depend on
how the stream was split into reads. `tests/bench/fuzz_terminal.py` runs the same generator
for 100k cases."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from terminal_streams import random_reads, random_stream, shape_errors, state

from engine import Session
from engine.session import _ANY_D_MARK, _status
from engine.terminal import Terminal
from engine.vt import MAX_FIELDS, MAX_SEQUENCE, Parser

pytestmark = pytest.mark.usefixtures("cell_loop")  # the C loop and the Python loop

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
    assert shape_errors(t) == []


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
    assert state(pieces) == state(whole)
    assert pieces.capture(ansi=True, start="-") == whole.capture(ansi=True, start="-")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), SIZES)
def test_random_streams_split_anywhere_never_raise_and_give_the_same_screen(
    rng: random.Random, size: tuple[int, int]
) -> None:
    """Huge and malformed parameters, unfinished sequences, broken UTF-8: no exception, no
    handler error. And cut into reads anywhere (inside sequences, strings and UTF-8
    characters, after an ESC, in a held-back partial line), a stream leaves the screen it
    leaves in one read: every cell's attributes, history, wrapped marks, cursor, title, modes."""
    data = random_stream(rng)
    whole = Terminal(*size, scrollback=50)
    whole.feed(data)
    pieces = Terminal(*size, scrollback=50)
    for read in random_reads(rng, data):
        pieces.feed(read)
    _check_shape(whole)
    _check_shape(pieces)
    assert state(pieces) == state(whole)


def test_an_empty_wrapped_row_keeps_its_mark_however_the_reads_were_split() -> None:
    # A wide character that does not fit the last column leaves its row empty and wrapped;
    # three plain lines at the bottom then scroll it up (the fast path takes the last two).
    data = "\x1b[4;2H日\x1b[6;1Hy\r\nz\r\nq\r\n".encode()
    whole = Terminal(2, 6)
    whole.feed(data)
    pieces = Terminal(2, 6)
    for i in range(len(data)):
        pieces.feed(data[i : i + 1])
    assert pieces.row_wrapped(0)
    assert whole.row_wrapped(0)


@pytest.mark.parametrize("erase", ["\x1b[J", "\x1b[X", "\x1b[K"])
def test_erasing_the_right_half_of_a_wide_character_erases_it_all(erase: str) -> None:
    t = Terminal(5, 2)
    t.feed(f"語\b{erase}".encode())  # the cursor on its right half
    assert shape_errors(t) == []


# -- regressions ------------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [4301, 5000, 100_000])
def test_a_parameter_of_thousands_of_digits_is_clamped_and_the_read_goes_on(digits: int) -> None:
    t = Terminal(20, 3)
    t.feed(b"\x1b[" + b"9" * digits + b"Cx")  # as far right as it goes
    t.feed(b"\r\n\x1b[" + b"0" * digits + b"5Cy")  # leading zeros: 5
    t.feed(b"\x1b[38;5;" + b"7" * digits + b";1mz\x1b[?" + b"1" * digits + b"hw")
    t.feed(b"\r\n\x1b]133;D;" + b"1" * digits + b"\x07ab\r\x1b[" + b"2" * digits + b"@!")
    assert t.display == ["                   x", "     yzw            ", "!                   "]
    assert t.cell(6, 1).bold and t.cell(6, 1).fg == "default"  # no colour 7777...
    assert t.parser.errors == 0


def test_an_exit_status_of_thousands_of_digits_or_not_ascii_is_no_error() -> None:
    t = Terminal(20, 3)
    t.feed("\x1b]133;C\x07\x1b]133;D;²\x07\x1b]133;C\x07\x1b]133;D;7\x07".encode())
    assert t.last_exit_code == 7
    mark = _ANY_D_MARK.search(b"\x1b]133;D;" + b"0" * 5000 + b"3\x07")
    assert mark is not None and _status(mark) == 3
    assert t.parser.errors == 0


def test_a_cwd_with_a_host_urlparse_refuses_is_no_error() -> None:
    t = Terminal(20, 3)
    t.feed(b"\x1b]7;file://h/tmp\x07\x1b]7;file://[/x\x07\x1b]7;file://h]/y\x07")
    assert t.cwd == "/tmp"
    assert t.parser.errors == 0


async def test_execute_survives_a_parameter_of_thousands_of_digits(bash: Session) -> None:
    result = await bash.execute("printf '\\033[%05000dCx\\n' 3; echo after")
    assert result.exit_code == 0
    assert result.output.endswith("after\n")
    assert re.search(r"^   x$", bash.capture_pane(), re.M)
    assert bash.terminal.parser.errors == 0


def test_an_sgr_between_two_reads_of_plain_lines_styles_the_next_line() -> None:
    # The fast path took two empty lines (deferred: nobody looked yet), then an SGR came
    # through the general path; the next read's lines must not continue the old style.
    data = b"\x1b[5;1H\r\n\r\n\r\n\x1b[3m\x1b9b\r\n"
    for cut in range(len(data) + 1):
        t = Terminal(15, 5)
        t.feed(data[:cut])
        t.feed(data[cut:])
        assert t.cell(0, 3).italics, cut


@pytest.mark.parametrize("cut", [1, 2, 300, MAX_SEQUENCE - 1, MAX_SEQUENCE, MAX_SEQUENCE + 7, 2500])
def test_a_long_unfinished_sequence_is_finished_by_the_next_read(cut: int) -> None:
    sequences = [
        "\x1b[" + "0" * 3000 + "5C",  # digits: the value counts
        "\x1b[" + "1;" * 1000 + "m",  # too many parameters: the first MAX_FIELDS count
        "\x1b[38:2" + ":1" * 500 + ";4m",
        "\x1b[" + "1" * 700 + " q",
        "\x1b[" + "1" * 600 + "!" * 600 + "p",
    ]
    for seq in sequences:
        data = f"a{seq}b".encode()
        whole = Terminal(10, 2)
        whole.feed(data)
        pieces = Terminal(10, 2)
        pieces.feed(data[:cut])
        assert len(pieces.parser._pending) <= 4 * MAX_SEQUENCE  # bounded
        pieces.feed(data[cut:])
        assert state(pieces) == state(whole), seq[:20]
    t = Terminal(10, 2)
    t.feed(("a\x1b[" + "0" * 3000 + "5Cb").encode())
    assert t.display[0] == "a     b   "


class _Recorder:
    """A screen that records the calls the parser makes."""

    # The screen's own fast paths are left out: this compares what the parser dispatches
    # (a cached SGR is keyed by its text, but its effect is the parsed values').
    fast_lines = None
    fast_cells = None
    select_graphic_rendition_cached = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


_SEQUENCE_BYTES = st.text("0123456789;:?<=> !$", max_size=40)


@settings(deadline=None)
@given(
    st.sampled_from(["", "?", ">", "1;", "38:2:", "0" * 9]),
    st.integers(MAX_SEQUENCE, 2 * MAX_SEQUENCE),
    _SEQUENCE_BYTES,
    _SEQUENCE_BYTES,
    _SEQUENCE_BYTES,
    st.sampled_from("mhlHCqp@"),
)
def test_a_long_sequence_cut_anywhere_makes_the_same_calls(
    head: str, repeat: int, unit: str, end: str, tail: str, final: str
) -> None:
    """What `_bounded` keeps of an unfinished sequence dispatches as the whole would."""
    body = head + (unit or "1") * repeat + end
    whole, pieces = _Recorder(), _Recorder()
    Parser(whole).feed(f"\x1b[{body}{tail}{final}")
    parser = Parser(pieces)
    parser.feed(f"\x1b[{body}")
    parser.feed(f"{tail}{final}")
    assert pieces.calls == whole.calls


def test_an_endless_sequence_takes_bounded_memory() -> None:
    t = Terminal(10, 2)
    t.feed(b"\x1b[")
    for _ in range(300):
        t.feed(b"12;34:56" * 512)
        assert len(t.parser._pending) <= 4 * MAX_SEQUENCE
    t.feed(b"mx")
    assert t.display[0] == "x         "
    assert t.cell(0, 0).bold is False  # 12 and 56 are no attributes; 34 is blue
    assert t.cell(0, 0).fg == "blue"


def test_parameters_past_the_limit_are_dropped() -> None:
    """xterm keeps its first 30 parameters, tmux ignores a sequence with more than 24: we keep
    the first MAX_FIELDS, a rule a bounded prefix of the sequence can follow."""
    t = Terminal(10, 2)
    t.feed(("\x1b[" + "1;" * (MAX_FIELDS - 1) + "4;31mx").encode())
    assert t.cell(0, 0).bold and t.cell(0, 0).underscore and t.cell(0, 0).fg == "default"


def test_controls_inside_a_sequence_run_in_place() -> None:
    """As in xterm and tmux: C0 controls inside an escape sequence run, and it goes on."""
    t = Terminal(10, 3)
    t.feed(b"ab\x1b[\r2\nC!\x1b\n[1m?\x1b\r]2;title\x07")
    assert t.display == ["ab        ", "  !       ", "   ?      "]
    assert t.cell(3, 2).bold
    assert t.title == "title"
