"""The parser's token loop and the screen's run drawing must be invisible: a terminal using
them ends with the same cells, cursor, wrapped marks and history as one parsing token by
token through `_call` and drawing character by character (the general path)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest import MonkeyPatch

from engine import terminal
from engine.terminal import Terminal

pytestmark = pytest.mark.usefixtures("cell_loop")  # the C loop and the Python loop

_CHARS = st.sampled_from(
    [
        *"abcXYZ 09~",
        "é",
        "ß",
        "ÿ",
        "Ω",
        "ж",
        "─",
        "日",
        "本",
        "語",
        "😀",
        "\u0301",
        "\u200b",
        "\u200d",
    ]
)
_TEXT = st.lists(_CHARS, min_size=1, max_size=40).map("".join)
_RUN = st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "日", "Z", "é"]), st.integers(1, 70))
_N = st.sampled_from(["", "0", "1", "2", "3", "7", "40", "99999"])
_SGR = st.sampled_from(
    [
        "",
        "0",
        "1",
        "2;31",
        "22",
        "1;3;4",
        "7",
        "27",
        "38;5;200",
        "48;5;9",
        "38;2;1;2;3",
        "48:2::10:20:30",
        "38:5:100",
        "4:3",
        "4:0",
        "4:7",
        "58:5:3",
        ";1",
        "38;5",
        "39;49",
        "8",
        "53",
    ]
).map(lambda p: f"\x1b[{p}m")
_CSI = st.builds(
    lambda n, m, final: f"\x1b[{n}{m}{final}",
    _N,
    st.sampled_from(["", ";", ";1", ";5", ";30", ";2;3"]),
    st.sampled_from(list("HfABCDEFG`adeJKXPL@MSTbr")),
)
_CUP = st.builds(lambda y, x: f"\x1b[{y};{x}H", st.integers(0, 10), st.integers(0, 32))
_OTHER = st.sampled_from(
    [
        "\r",
        "\n",
        "\x08",
        "\t",
        "\x07",
        "\x0e",
        "\x0f",
        "\x85",
        "\x1b7",
        "\x1b8",
        "\x1bM",
        "\x1bE",
        "\x1bD",
        "\x1b#8",
        "\x1b(0",
        "\x1b(B",
        "\x1b)0",
        "\x1b[4h",
        "\x1b[4l",
        "\x1b[?7l",
        "\x1b[?7h",
        "\x1b[?6h",
        "\x1b[?6l",
        "\x1b[?5h",
        "\x1b[?5l",
        "\x1b[?1049h",
        "\x1b[?1049l",
        "\x1b[?25l",
        "\x1b[2;5r",
        "\x1b[20h",
        "\x1b[20l",
        "\x1b[0K",
        "\x1b[3X",
        "\x1b[?2026h",
        "\x1b[?2026l",
        "\x1b[r",
        "\x1b[s",
        "\x1b[u",
        "\x1b[3 q",
        "\x1b[!p",
        "\x1b]0;title\x07",
        "\x1b[1$$x",
        "\x1b",
        "\x1b[5;",
    ]
)
_STREAM = st.lists(
    st.one_of(_TEXT, _RUN, _SGR, _CSI, _CUP, _OTHER, _TEXT.map(lambda s: s + "\r\n")),
    max_size=60,
).map("".join)


def _general(t: Terminal) -> Terminal:
    t.parser.tokens = False
    t.screen.bulk_draw = False
    return t


def _state(t: Terminal) -> tuple[object, ...]:
    return (
        [t.cell(x, y) for y in range(t.lines) for x in range(t.columns)],
        list(t.scrollback),
        [t.row_wrapped(y) for y in range(t.lines)],
        # a wrapped row a wide character left early (its last cell is no text of the line)
        [
            t.row_wrapped(y) and getattr(t.screen.buffer.get(y), "gap", False)
            for y in range(t.lines)
        ],
        t.display,
        t.cursor,
        t.screen.cursor.attrs,
        t.screen.mode,
        t.capture(ansi=True, start="-"),
        t.parser.errors,
        t.screen.fast_errors,
    )


def _feed(t: Terminal, data: bytes, chunk: int) -> Terminal:
    for i in range(0, len(data), chunk):
        t.feed(data[i : i + chunk])
    return t


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STREAM, st.integers(1, 30), st.integers(1, 8), st.integers(1, 300), st.integers(1, 300))
def test_token_loop_and_run_drawing_match_the_general_path(
    stream: str, columns: int, lines: int, chunk: int, general_chunk: int
) -> None:
    data = stream.encode()
    fast = _feed(Terminal(columns, lines, scrollback=50), data, chunk)
    slow = _feed(_general(Terminal(columns, lines, scrollback=50)), data, general_chunk)
    assert _state(fast) == _state(slow)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STREAM, st.integers(1, 30), st.integers(1, 8), st.booleans(), st.booleans(), st.booleans())
def test_each_fast_part_alone_matches_the_general_path(
    stream: str, columns: int, lines: int, tokens: bool, cells: bool, bulk: bool
) -> None:
    """The token loop with and without the cell fast path, over per-character or run
    drawing, and run drawing under the general loop."""
    data = stream.encode()
    one = Terminal(columns, lines, scrollback=50)
    one.parser.tokens, one.screen.bulk_draw = tokens, bulk
    if not cells:
        one.parser.cells = None
    other = _general(Terminal(columns, lines, scrollback=50))
    assert _state(_feed(one, data, 64)) == _state(_feed(other, data, 64))


def test_the_token_loop_runs_and_keeps_going_after_a_failing_handler() -> None:
    t = Terminal(20, 3)
    t.parser.cells = None  # the parser's own token loop (the cell fast path erases by itself)
    calls: list[str] = []
    general = t.parser._csi
    t.parser._csi = lambda *a: calls.append("csi") or general(*a)  # type: ignore[method-assign]

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in one handler")

    t.screen.erase_in_line = broken  # type: ignore[method-assign]
    t.feed("ab\x1b[Kcd\x1b[2;3Hx\x1b[1;5Hé".encode())
    assert t.parser.errors == 1
    assert t.display[0].rstrip() == "abcdé" and t.display[1] == "  x" + " " * 17
    assert calls == []  # plain CSIs never went through the general dispatch


def test_a_failing_draw_of_text_the_fast_path_leaves_is_counted_and_the_feed_goes_on() -> None:
    """A zero-width character is the screen's to draw (the C loop hands it over, the Python
    loop stops there): a bug in drawing it is counted, never raised out of feed()."""
    t = Terminal(20, 3)
    general = t.screen.draw

    def broken(text: str) -> None:
        if "\u0301" in text:
            raise RuntimeError("a bug in drawing")
        general(text)

    t.screen.draw = broken  # type: ignore[method-assign]
    t.feed("ab\u0301cd\r\nef".encode())
    assert t.parser.errors + t.screen.fast_errors == 1
    # the text drawn with it is lost ("cd" too where the parser drew the whole run), no more
    assert t.display[0].startswith("ab") and t.display[1].rstrip() == "ef"


def test_synchronized_output_is_timed_and_ended_by_the_fast_path() -> None:
    """`CSI ? 2026 h` between redraw tokens sets the mode and says when the update began (the
    pane waits for its end, but not for ever); `l` ends it."""
    t = Terminal(10, 3)
    before = time.monotonic()
    t.feed(b"\x1b[Hab\x1b[?2026h\x1b[2;1Hcd")
    assert (2026 << 5) in t.screen.mode and t.synchronized_since >= before
    t.feed(b"\x1b[3;1Hef\x1b[?2026l\x1b[1;1Hx")
    assert (2026 << 5) not in t.screen.mode
    assert t.display == ["xb        ", "cd        ", "ef        "]


def test_overwriting_half_of_a_wide_character_blanks_the_other_half() -> None:
    for data, row in [
        ("日本\x1b[1;2Hx", " x本"),  # the right half: the left one goes
        ("日本\x1b[1;3Hx", "日x"),  # the left half: the stub goes
        ("日本\x1b[1;3Hxy", "日xy"),  # both halves
        ("日本語\x1b[1;2Hxyz", " xyz語"),
        ("ab\x1b[1;2H日", "a日"),
        ("日\x1b[1;1H\x1b[X\x1b[1;1Hab", "ab"),  # a stub left alone by ECH is just drawn over
    ]:
        for t in (Terminal(10, 2), _general(Terminal(10, 2))):
            t.feed(data.encode())
            assert t.display[0].rstrip() == row, (data, t.parser.tokens)


def test_a_vim_like_redraw_matches_the_general_path() -> None:
    """The cell path's own tokens in the runs a vim redraw makes: SGRs in a row (styles known
    and not yet known), `ESC ( B` before them, moves with text, EL, ECH, CR LF inside and at
    the bottom of a scroll region, with and without LNM, synchronized output around it all."""
    frame = (
        "\x1b[?2026h\x1b(B\x1b[m\x1b[30m\x1b[101m2\x1b[3;5H\x1b[9;29H\x1b(B\x1b[m\x1b[97m~@k"
        "\x1b[2;3H\x1b(B\x1b[0;1m\x1b[34m\x1b[40mp\x1b[4;1H日本語\x1b[4;2Hxy\x1b[4;6H│ \x1b[5X"
        "\x1b(B\x1b[m\x1b[36m</\x1b[K\r\r\nab\x1b[0K\r\ncd\x1b[2;4r\x1b[3;1Hef\r\ngh\r\nij\r\n"
        "\x1b[r\x1b[7;1H\x1b[20hkl\nmn\x1b[20l\r\n\x1b[99;999Hz\x1b[H\x1b[;5H\x1b[?2026l"
        "\x1b[2;8r\x1b[5;3H\x1b[M\x1b[2M\x1b[L\x1b[0;0r\x1b[3;2Hab\x1b[2L\x1b(B\x1b[?2026h"
        "\x1b[4;1H\x1b[44m\x1b[3L\x1b[9M\x1b[9;1Hx\x1b[;r\x1b[5;9r\x1b[3;4r\x1b[8;8H~@k"
    )
    data = (frame * 3).encode()
    for chunk in (1, 7, len(data)):
        fast = _feed(Terminal(30, 9, scrollback=50), data, chunk)
        slow = _feed(_general(Terminal(30, 9, scrollback=50)), data, len(data))
        assert _state(fast) == _state(slow), chunk


def test_a_redraw_scrolling_its_region_on_the_alternate_screen_matches_the_general_path() -> None:
    """A redraw scrolling its region (LF at the bottom, before sequences and text) between the
    fast paths and the general one: rows made and not, wrapped rows, a coloured background
    (its new rows are filled), LNM, a region of one row and the whole screen, on the
    alternate screen and the main one (its lines go to the history)."""
    frame = (
        "\x1b[2;5r\x1b[5;1Hab\n\x1b[1mcd\n\x1b[m\n\x1b[K\x1b[3;7Hwxyz12345\n\x1b[Hq"
        "\x1b[5;3H\n\x1b[44m\n\x1b[m\x1b[20h\n\x1b[20l\x1b[4;4r\x1b[4;1Hz\n\x1b[Ky"
        "\x1b[r\x1b[7;1Hlast\n\x1b[1;1Hfirst\x1b[7;9H\n\x1b[7;1H\x1b[K\n\x1b[m."
    )
    for screen in ("\x1b[?1049h", ""):
        data = (screen + frame * 3).encode()
        for chunk in (1, 9, len(data)):
            fast = _feed(Terminal(10, 7, scrollback=50), data, chunk)
            slow = _feed(_general(Terminal(10, 7, scrollback=50)), data, len(data))
            assert _state(fast) == _state(slow), (screen, chunk)


def test_long_text_wraps_and_scrolls_as_the_general_path_draws_it() -> None:
    """Text longer than the row (one- and two-column, zero-width, ZWJ sequences, past the BMP)
    wraps onto the next rows and scrolls the region at its bottom: on the alternate screen and
    the main one (its lines go to the history), in a region and below it, without autowrap,
    under LNM, over a coloured background, from the pending-wrap column."""
    texts = [
        "a" * 23,
        "x" * 7 + "日本語" * 9 + "é" * 5,
        "─" * 30 + "│\u0301" + "b" * 12,
        "ab\u200dcd" + "👍\u200d🔥" * 3 + "é\u200dé" + "日\u200d本" * 4 + "zz",
        "\U0001d400" * 12 + "q" * 9,
        "日" * 20 + "a",
    ]
    setups = [
        "",
        "\x1b[?1049h",
        "\x1b[?1049h\x1b[2;4r",
        "\x1b[2;4r",
        "\x1b[?1049h\x1b[1;3r\x1b[5;1H",
        "\x1b[?7l",
        "\x1b[20h\x1b[?1049h",
        "\x1b[?1049h\x1b[44m",
        "\x1b[?1049h\x1b[4;1H" + "c" * 9,
    ]
    for setup in setups:
        for text in texts:
            data = f"{setup}\x1b[4;3H{text}\x1b[m\x1b[1;1Hend{text}\x1b[3;4H{text}".encode()
            fast = _feed(Terminal(9, 6, scrollback=50), data, 4096)
            slow = _feed(_general(Terminal(9, 6, scrollback=50)), data, 4096)
            assert _state(fast) == _state(slow), (setup, text)
            assert [fast.row_wrapped(y) for y in range(6)] == [
                slow.row_wrapped(y) for y in range(6)
            ]


def test_glyphs_stay_within_their_budget_and_draw_the_same(monkeypatch: MonkeyPatch) -> None:
    """A stream of more distinct characters (in more styles) than the screen keeps cells for
    forgets them and goes on drawing what the general path draws."""
    monkeypatch.setattr(terminal, "GLYPH_CELLS", 50)
    text = "".join(
        map(chr, [*range(0xA1, 0x1A1), *range(0x4E00, 0x4F00), *range(0x1F600, 0x1F640)])
    )
    data = "".join(f"\x1b[3{i % 8}m{text[i : i + 37]}\r\n" for i in range(0, len(text), 37))
    fast = _feed(Terminal(30, 6, scrollback=50), data.encode(), 100)
    slow = _feed(_general(Terminal(30, 6, scrollback=50)), data.encode(), 100)
    assert _state(fast) == _state(slow)
    assert sum(map(len, fast.screen._cells.values())) <= 50


def test_remembered_runs_draw_what_the_general_path_draws(monkeypatch: MonkeyPatch) -> None:
    """Text the cell path puts where it has put it before (in this style and others, over
    wide characters, on rows the line fast path made) comes from the runs it remembered,
    which stay within their budget: the same screen as drawing it anew."""
    monkeypatch.setattr(terminal, "RUN_CELLS", 12)
    lines = "".join(f"row {i} of plain text\r\n" for i in range(12))
    frame = "".join(
        f"\x1b[{y};3H\x1b[3{y % 3}mabc\x1b[{y};9Hdefgh\x1b[m\x1b[{y};1H{'xy' * 10}"
        for y in range(1, 6)
    )
    data = (lines + (frame + "\x1b[2;5H日本\x1b[1;1H") * 4 + "\x1b[6;1H" + lines).encode()
    fast = _feed(Terminal(20, 6, scrollback=50), data, 4096)
    slow = _feed(_general(Terminal(20, 6, scrollback=50)), data, 4096)
    assert _state(fast) == _state(slow)
    styles = fast.screen._cells
    assert sum(len(cells) for glyphs in styles.values() for cells in glyphs.runs.values()) <= 12


def test_runs_of_many_rows_scroll_in_as_row_by_row_drawing_does() -> None:
    """A run filling many rows at the region's bottom scrolls once (rows leaving the
    alternate screen at once are not drawn): same rows, marks and history."""
    for setup in [
        "",
        "\x1b[?1049h",
        "\x1b[2;4r\x1b[4;1H",
        "\x1b[?1049h\x1b[2;4r\x1b[4;1H",
        "\x1b[44m",
    ]:
        for text in ["日" * 95, "é" * 130, "x" * 7 + "😀" * 61 + "ab"]:
            data = f"\x1b[6;3H{setup}{text}\r\nnext".encode()
            fast = _feed(Terminal(9, 6, scrollback=50), data, 4096)
            slow = _feed(_general(Terminal(9, 6, scrollback=50)), data, 4096)
            assert _state(fast) == _state(slow), (setup, text)


def test_runs_of_moves_and_erasing_to_the_end_draw_what_the_general_path_draws() -> None:
    """Runs of a move and one character (over either half of a wide character, off the
    screen's edge, in styles set between them), then EL to the row's end over rows the line
    fast path made and rows drawn cell by cell, from near the start and near the end."""
    lines = "".join(f"row {i} of plain text here\r\n" for i in range(8))
    frame = (
        "\x1b[4;3H日本語\x1b[2;3H1\x1b[3;3H2\x1b[4;3H3\x1b[4;4H4\x1b[4;6H5\x1b[99;99H5"
        "\x1b[6;1H6\x1b(B\x1b[3{}m\x1b[7;2Hx\x1b[8;2Hy\x1b[m\x1b[1;1Hz\x1b[2;1H\x1b[K"
        "\x1b[7;9H\x1b[K\x1b[8;20H\x1b[0K\x1b[1;5H\x1b[41m\x1b[K\x1b[m\x1b[4;4H\x1b[K"
        "\x1b[3;2Hab\x1b[5;23H\x1b[K\x1b[24;1H"
    )
    data = (lines + "".join(frame.format(i) for i in range(6)) + lines).encode()
    for chunk in (5, 4096):
        fast = _feed(Terminal(24, 8, scrollback=50), data, chunk)
        slow = _feed(_general(Terminal(24, 8, scrollback=50)), data, chunk)
        assert _state(fast) == _state(slow), chunk


def test_the_c_loop_is_built_and_current_where_a_compiler_is() -> None:
    """pip builds engine/_cells.c where a C compiler is at hand (engine/_build_hook.py): a
    build that failed, or one older than its source (edited since: `pip install -e .` again),
    would leave every screen on the slower loop or on old code."""
    spec = importlib.util.find_spec("engine._cells")
    source = Path(terminal.__file__).with_name("_cells.c")
    if spec is None or spec.origin is None:
        compiler = os.environ.get("CC") or "cc"
        assert shutil.which(compiler.split()[0]) is None, "a C compiler is here, the C loop not"
        pytest.skip("no C compiler: the Python loop does it all")
    built = Path(spec.origin)
    if built.parent == source.parent:
        assert built.stat().st_mtime >= source.stat().st_mtime, "rebuild: pip install -e ."
