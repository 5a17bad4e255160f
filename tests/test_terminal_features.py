"""xterm features beyond pyte's, each as a program uses it: concealed text, underline styles
and colours, overline, DECALN, DECRC leaving autowrap alone, and the answers programs ask for
(XTVERSION, the window size, DECRQM, OSC 10/11/12 colours, DECRQCRA checksums).

tmux 3.3a is the oracle where it implements the feature; where it does not (DECRQM, `CSI 14 t`,
DECRQCRA), xterm's documented behaviour and newer tmux's source are.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tmux_oracle import TMUX, tmux_replies, tmux_view, trim
from wcwidth import wcswidth

from engine import Session
from engine.ansi import strip_ansi
from engine.cells import DEFAULT_CELL
from engine.terminal import VERSION, Terminal
from widgets.terminal_pane import cell_style

needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def term(data: bytes | str, columns: int = 80, lines: int = 24) -> Terminal:
    t = Terminal(columns, lines)
    t.feed(data)
    assert t.parser.errors == 0
    return t


def answer(t: Terminal, query: bytes | str) -> bytes:
    t.take_responses()
    t.feed(query)
    return t.take_responses()


def same_as_tmux(data: bytes, columns: int = 80, lines: int = 24) -> Terminal:
    """Feed `data` to tmux and to us: the text with history, the cursor and every cell tmux
    printed (its `capture-pane -e` replayed into a fresh terminal) must agree."""
    view = tmux_view(data, columns, lines)
    ours = term(data, columns, lines)
    assert trim(ours.capture(start="-")) == trim(view.text)
    assert (ours.cursor.x, ours.cursor.y) == (min(view.cursor[0], columns - 1), view.cursor[1])
    rows = view.ansi.rstrip("\n").split("\n")
    replay = term("\r\n".join(rows), columns, lines)
    mismatched = [
        (x, y, ours.cell(x, y), replay.cell(x, y))
        for y, row in enumerate(rows)
        for x in range(min(wcswidth(strip_ansi(row)), columns))
        if ours.cell(x, y) != replay.cell(x, y)
    ]
    assert mismatched == [], mismatched[:3]
    return ours


# -- DECALN and DECRC ----------------------------------------------------------------------------


@needs_tmux
@pytest.mark.parametrize(
    "data",
    [
        # Margins 5-10, red text: DECALN homes the cursor, its E's are in the default style,
        # and a line feed at the bottom then scrolls the whole screen.
        b"\x1b[5;10r\x1b[1;31m\x1b[8;8Hxy\x1b#8X\x1b[24;1H\n\nY",
        b"\x1b[5;10r\x1b[?6h\x1b[3;3H\x1b#8Z\x1b[?6l",  # origin mode: home is the top left
        b"\x1b[?5h\x1b#8\x1b[?5l",  # reverse screen
    ],
    ids=["margins", "origin-mode", "reverse-screen"],
)
def test_decaln_homes_the_cursor_and_resets_the_margins(data: bytes) -> None:
    t = same_as_tmux(data)
    assert t.screen.margins is None


def test_decaln_fills_every_cell_with_a_default_e() -> None:
    t = term(b"\x1b[44m\x1b[2J\x1b[4;6r\x1b[3;3H\x1b#8", columns=5, lines=3)
    assert t.capture() == "EEEEE\nEEEEE\nEEEEE"
    assert {t.cell(x, y) for x in range(5) for y in range(3)} == {DEFAULT_CELL._replace(data="E")}
    assert (t.cursor.x, t.cursor.y) == (0, 0)


@needs_tmux
@pytest.mark.parametrize(
    "data",
    [
        b"\x1b[?7l\x1b7\x1b[?7h\x1b8" + b"x" * 100,  # saved off, now on: it still wraps
        b"\x1b7\x1b[?7l\x1b8" + b"y" * 100 + b"\x1b[?7h",  # saved on, now off: it does not
        b"\x1b[?7l\x1b[s\x1b[?7h\x1b[u" + b"z" * 100,  # SCOSC / SCORC alike
        b"\x1b[?7l\x1b8" + b"w" * 100 + b"\x1b[?7h",  # nothing saved
    ],
    ids=["saved-off", "saved-on", "csi-s-u", "nothing-saved"],
)
def test_restoring_the_cursor_leaves_autowrap_as_it_is(data: bytes) -> None:
    same_as_tmux(data)


# -- SGR: conceal, underline styles and colour, overline ---------------------------------------

ATTRIBUTES = (
    b"\x1b[8mhid\x1b[28mshow \x1b[4:2mdbl\x1b[4:3mcurl\x1b[4:4mdot\x1b[4:5mdash\x1b[4:0m "
    b"\x1b[21md21\x1b[24m \x1b[4;58;5;1mus1\x1b[58;2;10;20;30mrgb\x1b[58:2::1:2:3mcolon"
    b"\x1b[58:5:9mc9\x1b[59mnone\x1b[4:7mkept\x1b[4:1msingle\x1b[0m end\r\n"
    b"\x1b[1;31;8mbold red hidden\x1b[0m \x1b[4:3;58:2:200:100:0;44mcurly orange\x1b[0m"
)


def test_new_attributes_are_set_and_reset() -> None:
    t = term(b"\x1b[8;53;4:3;58;5;1ma\x1b[28;55;59mb\x1b[24mc\x1b[21md\x1b[4me\x1b[0mf")
    a, b, c, d, e, f = (t.cell(x, 0) for x in range(6))
    assert (a.concealed, a.overline, a.underscore, a.underline_style) == (True, True, True, 3)
    assert a.underline_color == "red"
    assert (b.concealed, b.overline, b.underline_color) == (False, False, "default")
    assert b.underscore and b.underline_style == 3
    assert not c.underscore and c[1:] == DEFAULT_CELL[1:]  # no underline: like any plain cell
    assert (d.underscore, d.underline_style) == (True, 2)  # 21: double underline (xterm, tmux)
    assert (e.underscore, e.underline_style) == (True, 1)
    assert f == DEFAULT_CELL._replace(data="f")


@needs_tmux
def test_attributes_read_as_tmux_reads_them() -> None:
    same_as_tmux(ATTRIBUTES)


@needs_tmux
def test_capture_e_writes_them_so_that_tmux_reads_back_the_same_cells() -> None:
    """Our `capture -e`, shown in tmux, gives tmux's own capture of the original stream (and
    our own parser reads it back to the same cells). Overline included: tmux 3.3a reads 53
    but writes it as `5:3`, so it is checked this way round only."""
    data = ATTRIBUTES + b"\r\n\x1b[53;32mover\x1b[55m not"
    ours = term(data)
    captured = ours.capture(ansi=True)
    assert "\x1b[0;53;32mover" in captured and "\x1b[0;4:3;44;58;2;200;100;0mcurly" in captured
    assert tmux_view(captured.replace("\n", "\r\n").encode()).ansi == tmux_view(data).ansi
    again = term(captured.replace("\n", "\r\n"))
    assert [again.row_cells(y) for y in range(3)] == [ours.row_cells(y) for y in range(3)]


def test_new_attributes_survive_history_and_coming_back() -> None:
    def styles(y: int) -> list[tuple[str, tuple[object, ...]]]:
        """Each cell's text and attributes, without the default blanks at the end."""
        cells = [(data, attrs[1:]) for data, attrs in t.row_cells(y)]
        while cells and cells[-1] == (" ", DEFAULT_CELL[1:]):
            cells.pop()
        return cells

    t = term(ATTRIBUTES, columns=80, lines=4)
    before = [styles(y) for y in range(2)]
    t.feed(b"\r\n" * 10)  # both lines scroll into the history (8 lines of it)
    assert t.history_size == 8
    assert [styles(y) for y in (-8, -7)] == before
    assert t.capture(ansi=True, start=-8, end=-7) == term(ATTRIBUTES).capture(ansi=True, end=1)
    t.resize(80, 14)  # taller: the history comes back down
    assert [styles(y) for y in range(2)] == before


_SGR = st.sampled_from(
    ["8", "28", "53", "55", "21", "24", "4", "59", "58;5;1", "58;5;200", "58;2;1;2;3", "0", "31"]
)
_LINE = st.lists(
    st.one_of(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
        st.lists(_SGR, min_size=1, max_size=3).map(lambda p: f"\x1b[{';'.join(p)}m"),
    ),
    max_size=6,
).map("".join)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINE, min_size=2, max_size=40))
def test_the_line_fast_path_keeps_the_new_attributes(lines: list[str]) -> None:
    """The fast path (whole lines into history unparsed) agrees with the general path."""
    data = "\r\n".join(lines) + "\r\n"
    fast, slow = Terminal(30, 5), Terminal(30, 5)
    slow.parser.fast = None
    for t in (fast, slow):
        t.feed(data)
    assert list(fast.scrollback) == list(slow.scrollback)
    assert [fast.row_cells(y) for y in range(5)] == [slow.row_cells(y) for y in range(5)]
    assert fast.screen.cursor.attrs == slow.screen.cursor.attrs
    assert fast.capture(ansi=True, start="-") == slow.capture(ansi=True, start="-")


def test_the_pane_draws_what_rich_can() -> None:
    t = term(b"\x1b[8;31;44ma\x1b[7mb\x1b[0;8mc\x1b[0;4:2md\x1b[4:3;58;5;2me\x1b[0;53mf")
    a, b, c, d, e, f = (cell_style(t.cell(x, 0)[1:]) for x in range(6))
    assert a.conceal and a.color == a.bgcolor  # red on blue, hidden: blue on blue
    assert b.conceal and b.reverse and b.color == b.bgcolor  # reversed: red on red
    assert c.conceal  # default colours: SGR 8 hides it
    assert d.underline2 and not d.underline
    assert e.underline and not e.underline2  # curly: the nearest Rich has (no colour either)
    assert f.overline and not f.underline


# -- answers -------------------------------------------------------------------------------------


@needs_tmux
def test_xtversion_answers_name_and_version_as_tmux_does() -> None:
    shape = re.compile(rb"\x1bP>\|(\S+) (\S+)\x1b\\")
    theirs = tmux_replies(b"\x1b[>q", "\x1b\\")
    assert shape.fullmatch(theirs), theirs  # tmux 3.3a: "tmux 3.3a"
    ours = answer(Terminal(), b"\x1b[>q")
    assert ours == f"\x1bP>|ai-session {VERSION}\x1b\\".encode()
    assert answer(Terminal(), b"\x1b[>0q") == ours
    assert answer(Terminal(), b"\x1b[>1q") == b""  # not XTVERSION (tmux answers only 0)


def test_window_size_reports() -> None:
    """`CSI 18 t` in xterm's order, rows first (tmux 3.3a writes the columns first, which
    later tmux fixed); pixels from a cell of `cell_pixels` (tmux's defaults, 16 x 32)."""
    t = Terminal(100, 30)
    assert answer(t, b"\x1b[18t") == b"\x1b[8;30;100t"
    assert answer(t, b"\x1b[14t") == b"\x1b[4;960;1600t"
    assert answer(t, b"\x1b[16t") == b"\x1b[6;32;16t"
    t.screen.cell_pixels = (9, 18)
    assert answer(t, b"\x1b[14t") == b"\x1b[4;540;900t"
    assert answer(t, b"\x1b[22;0t\x1b[8;5;5t") == b""  # other window operations: nothing
    t.resize(90, 20)
    assert answer(t, b"\x1b[18t") == b"\x1b[8;20;90t"


@pytest.mark.parametrize(
    "mode",
    [1, 5, 6, 7, 9, 25, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 2004, 2026, 47, 1047, 1049, 12],
)
def test_decrqm_reports_private_modes_set_and_reset(mode: int) -> None:
    t = Terminal()
    t.feed(f"\x1b[?{mode}h")
    assert answer(t, f"\x1b[?{mode}$p") == f"\x1b[?{mode};1$y".encode()
    t.feed(f"\x1b[?{mode}l")
    assert answer(t, f"\x1b[?{mode}$p") == f"\x1b[?{mode};2$y".encode()


def test_decrqm_defaults_unknown_modes_and_ansi_modes() -> None:
    t = Terminal()
    assert answer(t, b"\x1b[?7$p\x1b[?25$p\x1b[?1$p") == b"\x1b[?7;1$y\x1b[?25;1$y\x1b[?1;2$y"
    assert answer(t, b"\x1b[?3$p") == b"\x1b[?3;4$y"  # DECCOLM: no 132 columns, ever
    assert answer(t, b"\x1b[?4711$p\x1b[?$p") == b"\x1b[?4711;0$y"  # mode 0: no answer
    assert answer(t, b"\x1b[4$p\x1b[20$p\x1b[2$p") == b"\x1b[4;2$y\x1b[20;2$y\x1b[2;0$y"
    assert answer(t, b"\x1b[4h\x1b[20h\x1b[4$p\x1b[20$p") == b"\x1b[4;1$y\x1b[20;1$y"
    assert answer(t, b"\x1b[3 q\x1b[?12$p") == b"\x1b[?12;1$y"  # DECSCUSR 3: blinking
    assert t.parser.errors == 0


@needs_tmux
@pytest.mark.parametrize("end", ["\x07", "\x1b\\"], ids=["bel", "st"])
def test_colour_queries_answer_as_tmux_does(end: str) -> None:
    query = f"\x1b]11;?{end}\x1b]10;?{end}".encode()
    style = 'set -g window-style "fg=#aabbcc,bg=#112233"\n'
    theirs = tmux_replies(query, end, count=2, conf=style)
    t = Terminal()
    t.colors = {"foreground": "#aabbcc", "background": "#112233"}
    assert answer(t, query) == theirs
    assert theirs == f"\x1b]11;rgb:1111/2222/3333{end}\x1b]10;rgb:aaaa/bbbb/cccc{end}".encode()


def test_colour_queries_use_the_theme_and_the_terminator() -> None:
    t = Terminal()
    assert answer(t, b"\x1b]11;?\x07") == b"\x1b]11;rgb:0000/0000/0000\x07"  # the default
    t.colors = {"cursor": "#FF8000"}
    assert answer(t, b"\x1b]12;?\x1b\\") == b"\x1b]12;rgb:ffff/8080/0000\x1b\\"
    assert t.colors["background"] == "#000000"  # what was not given keeps its default
    t.feed(b"\x1b]11;?\x1b")  # the terminator split between two reads
    assert answer(t, b"\\") == b"\x1b]11;rgb:0000/0000/0000\x1b\\"
    t.colors = {"background": "not a colour"}
    assert answer(t, b"\x1b]11;?\x07\x1b]13;?\x07") == b""
    # Each further argument is the next colour (xterm): `11;?;?` asks for 11 and 12.
    assert answer(t, b"\x1b]11;?;?\x07") == b"\x1b]12;rgb:e5e5/e5e5/e5e5\x07"
    assert t.parser.errors == 0


async def test_a_program_in_a_session_gets_the_answers(bash: Session) -> None:
    """The answers reach the program through the pty, as the DSR answer does."""
    bash.terminal.colors = {"background": "#fdf6e3"}
    result = await bash.execute(
        # Echo off first: an answer landing before `read -s` turns it off would be echoed.
        "stty -echo; printf '\\033]11;?\\007'; read -rs -d $'\\a' -t 5 bg; echo \"${bg#*;}\";"
        " printf '\\033[18t'; read -rs -d t -t 5 size; echo \"${size#*[}\";"
        " printf '\\033[>q'; read -rs -d '\\' -t 5 v; echo \"${v#*|}\" | tr -d '\\033'; stty echo"
    )
    assert result.output.split("\n")[:3] == [
        "rgb:fdfd/f6f6/e3e3",
        "8;24;80",
        f"ai-session {VERSION}",
    ]


def _checksum(t: Terminal, rect: str) -> int:
    reply = answer(t, f"\x1b[7;0;{rect}*y").decode()
    m = re.fullmatch(r"\x1bP7!~([0-9A-F]{4})\x1b\\", reply)
    assert m, reply
    return int(m.group(1), 16)


def test_decrqcra_checksums_as_xterm_does() -> None:
    """esctest reads a cell as 0x10000 minus the checksum of that one cell (xterm's DEC
    checksum); a cell never written reads as a blank, as in xterm."""
    t = term(b"AB\x1b[1;4mC\x1b[0m \x1b[2;1H  x\x1b[8mh", columns=10, lines=4)
    assert [0x10000 - _checksum(t, f"1;{x};1;{x}") for x in (1, 2)] == [ord("A"), ord("B")]
    assert 0x10000 - _checksum(t, "1;3;1;3") == ord("C") + 0x80 + 0x10  # bold, underline
    assert 0x10000 - _checksum(t, "1;5;1;5") == 32  # nothing written there: a blank
    assert 0x10000 - _checksum(t, "3;1;4;10") == 32  # blanks: only the first counts
    # A rectangle: blanks count only as its first cell; defaults cover the screen.
    assert 0x10000 - _checksum(t, "2;1;2;3") == 32 + ord("x")
    whole = ord("A") + ord("B") + ord("C") + 0x90 + ord("x") + ord("h") + 8
    assert (0x10000 - _checksum(t, "")) & 0xFFFF == whole
    t.feed(b"\x1b[2;3r\x1b[?6h")  # origin mode: rows count from the top margin
    assert 0x10000 - _checksum(t, "1;3;1;3") == ord("x")
    assert t.parser.errors == 0


def test_a_program_sets_its_own_default_colours_and_resets_them() -> None:
    """OSC 10/11/12 with a colour set what later queries answer (esctest's ChangeDynamicColor,
    as xterm and tmux); OSC 110/111/112 and RIS go back to the pane's colours."""
    t = term(b"")
    t.colors = {"background": "#101010"}
    assert answer(t, "\x1b]11;#f0f0f0\x1b\\\x1b]11;?\x1b\\") == b"\x1b]11;rgb:f0f0/f0f0/f0f0\x1b\\"
    assert answer(t, "\x1b]10;rgb:f/0/80;#00ff00\x07\x1b]10;?;?\x07") == (
        b"\x1b]10;rgb:ffff/0000/8080\x07\x1b]11;rgb:0000/ffff/0000\x07"
    )
    assert answer(t, "\x1b]12;red\x07\x1b]12;?\x07") == b"\x1b]12;rgb:e5e5/e5e5/e5e5\x07"
    assert answer(t, "\x1b]111\x07\x1b]11;?\x07") == b"\x1b]11;rgb:1010/1010/1010\x07"
    t.feed("\x1b]10;#123456\x07\x1bc")
    assert answer(t, "\x1b]10;?\x07") == b"\x1b]10;rgb:e5e5/e5e5/e5e5\x07"
    assert t.parser.errors == 0
