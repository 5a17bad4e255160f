"""tmux as the oracle: the same bytes shown by tmux and by our terminal must look the same.

Recordings of real programs (tests/fixtures/record.py) and short synthetic streams are fed to
a fresh tmux pane and to `Terminal`; text, history, cursor, alternate screen and each cell's
attributes (read back by replaying `capture-pane -e`) are compared.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tmux_oracle import TMUX, tmux_view, trim
from wcwidth import wcswidth

from engine.ansi import strip_ansi
from engine.terminal import Terminal

RECORDINGS = sorted((Path(__file__).parent / "fixtures" / "recordings").glob("*.bin"))

SYNTHETIC = {
    "scroll-region": b"\x1b[2J\x1b[H"
    + b"".join(b"row %d\r\n" % i for i in range(30))
    + b"\x1b[5;10r\x1b[10;1H"
    + b"in region\n" * 8
    + b"\x1b[r\x1b[24;1Hend",
    "insert-delete-lines": b"".join(b"%d\r\n" % i for i in range(20))
    + b"\x1b[5;1H\x1b[3L\x1b[10;1H\x1b[2M",
    "insert-delete-chars": b"abcdefghij\x1b[1;3H\x1b[2@XY\x1b[1;8H\x1b[3P\r\n0123456789\x1b[2;2H\x1b[4X",
    "erase-variants": b"\x1b[44m"
    + b"fill " * 100
    + b"\x1b[5;10H\x1b[1K\x1b[7;10H\x1b[0J\x1b[2;1H\x1b[2K\x1b[0m",
    "tabs": b"a\tb\tc\r\n\x1b[5G\x1bH\x1b[1G\tX\x1b[3g\r\n\tY\x1b[Z\x1b[Zz",
    "wide-at-margin": "x" * 79 + "日本語" + "\r\n" + "ab" + "語" * 40 + "\r\nend",
    "autowrap-off": b"\x1b[?7l" + b"y" * 100 + b"\x1b[?7h\r\n" + b"z" * 85,
    "origin-mode": b"\x1b[5;15r\x1b[?6h\x1b[1;1Htop of region\x1b[20;1Hclamped\x1b[?6l\x1b[r",
    "reverse-index": b"top\x1b[H\x1bM\x1bMnew first",
    "scroll-up-down": b"".join(b"%d\r\n" % i for i in range(30)) + b"\x1b[3S\x1b[2T",
    "repeat": b"ab\x1b[5b\r\n-\x1b[30b",
    "repeat_twice": b"+\x1b[1b\x1b[10b\r\n x\x1b[2b\x1b[b",  # the second repeats nothing
    "save-restore": b"\x1b[10;10Hhere\x1b[s\x1b[1;1Hthere\x1b[uback\x1b7\x1b[20;1H\x1b8again",
    "sgr-zoo": b"\x1b[1mB\x1b[2mD\x1b[3mI\x1b[4mU\x1b[5mK\x1b[7mR\x1b[9mS\x1b[0m"
    b"\x1b[31;42mc\x1b[91;102mC\x1b[38;5;33;48;5;250mx\x1b[38;2;1;2;3;48;2;250;0;10my\x1b[0m"
    b"\x1b[22;23;24;25;27;29;39;49mn",
    "cursor-moves": b"\x1b[10;10H\x1b[3A1\x1b[2B2\x1b[5C3\x1b[20D4\x1b[3E5\x1b[2F6\x1b[40G7\x1b[15d8",
    "clear-scrolls-into-history": b"".join(b"before %d\r\n" % i for i in range(5))
    + b"\x1b[H\x1b[2Jafter",
    "nel-ind-ri": b"one\x1bEtwo\x1bDthree\x1bMfour",
    # Found in review, fixed, and kept here against tmux:
    "del-inside-csi": b"abc\x1b[1\x7fAx",
    "param-after-intermediate": b"abc\x1b[1;2 3qZ",
    "ich-dch-at-margin": b"a" * 79 + b"b\x1b[1G\x1b[@\x1b[1G\x1b[P",
    "ris-keeps-history": b"one\r\ntwo\r\nthree\x1bcX",
    "decrc-outside-region": b"\x1b[3;5r\x1b[1;1H\x1b7\x1b[4;1Hxx\x1b8AB",
    "decrc-resets-origin": b"\x1b[3;5r\x1b7\x1b[?6h\x1b8\x1b[1;1HZ",
    "decrc-without-decsc": b"\x1b[1;31m\x1b[5;5H\x1b8X",
    "hts-at-pending-wrap": b"ab\tc\x1b[3g\tD\x1bH\x1b[1;1H\tE",
}


def _diff(theirs: str, ours: str) -> str:
    return "\n".join(
        difflib.unified_diff(theirs.split("\n"), ours.split("\n"), "tmux", "ours", lineterm="")
    )


def _compare(data: bytes, columns: int = 80, lines: int = 24) -> None:
    view = tmux_view(data, columns, lines)
    ours = Terminal(columns, lines)
    ours.feed(data)
    assert ours.parser.errors == 0
    assert trim(ours.capture()) == trim(view.screen), _diff(trim(view.screen), trim(ours.capture()))
    assert trim(ours.capture(start="-")) == trim(view.text), _diff(
        trim(view.text), trim(ours.capture(start="-"))
    )
    assert (ours.cursor.x, ours.cursor.y) == (min(view.cursor[0], columns - 1), view.cursor[1])
    assert ours.alternate_screen == view.alternate
    # Attributes: replay tmux's `capture-pane -e -N` into a fresh terminal. tmux prints nothing
    # for a line it cleared, so only the cells it printed are compared.
    ansi_rows = view.ansi.rstrip("\n").split("\n")
    replay = Terminal(columns, lines)
    replay.feed("\r\n".join(ansi_rows))
    mismatched = [
        (x, y, ours.cell(x, y), replay.cell(x, y))
        for y, row in enumerate(ansi_rows)
        for x in range(min(wcswidth(strip_ansi(row)), columns))
        if ours.cell(x, y) != replay.cell(x, y)
    ]
    assert mismatched == [], mismatched[:5]


pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


@pytest.mark.parametrize("recording", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_recorded_program_renders_as_in_tmux(recording: Path) -> None:
    _compare(recording.read_bytes())


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_stream_renders_as_in_tmux(name: str) -> None:
    data = SYNTHETIC[name]
    _compare(data.encode() if isinstance(data, str) else data)


def test_recordings_exist() -> None:
    names = {p.name.split(".")[0] for p in RECORDINGS}
    assert {"bash", "vim", "less", "top", "man", "textual"} <= names


# -- random streams against tmux ----------------------------------------------------------------

# Left out where tmux 3.3a and xterm differ and we follow xterm: a/e/I (tmux ignores HPR, VPR,
# CHT), b (tmux repeats only ASCII), @ (tmux's ICH leaves stale cells when the count reaches
# the right margin), 4 (IRM: at a pending wrap tmux inserts before wrapping, xterm after).
_AGREED_FINALS = "ABCDEFGHJKLMPSTXZ`dfghlmrsu"
_num = st.integers(0, 40).map(str) | st.just("")


@st.composite
def _agreed_csi(draw: st.DrawFn) -> str:
    final = draw(st.sampled_from(_AGREED_FINALS))
    if final in "hl":
        mode = draw(
            st.sampled_from(["?1", "?6", "?7", "?25", "?47", "?1047", "?1049", "?2004", "?1000"])
        )
        return f"\x1b[{mode}{final}"
    if final == "m":
        params = draw(
            st.lists(
                st.sampled_from(
                    [
                        "0",
                        "1",
                        "2",
                        "3",
                        "4",
                        "5",
                        "7",
                        "9",
                        "22",
                        "24",
                        "27",
                        "31",
                        "42",
                        "39",
                        "49",
                        "93",
                        "104",
                        "38;5;200",
                        "48;2;1;2;3",
                        "8",
                        "28",
                        "21",
                        "58;5;1",
                        "59",
                    ]
                ),
                max_size=3,
            )
        )
        return "\x1b[" + ";".join(params) + "m"
    # An explicit 0 in DECSTBM is 1 for tmux and "default" for xterm: leave it out.
    numbers = st.integers(1, 40).map(str) | st.just("") if final == "r" else _num
    params = draw(st.lists(numbers, max_size=2 if final in "Hfr" else 1))
    return "\x1b[" + ";".join(params) + final


_AGREED_TOKENS = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12),
    # No wide characters: tmux keeps a wide character whose right half was overwritten
    # (its grid goes inconsistent); we blank it as xterm does. Recordings cover wide text.
    st.sampled_from(["✓", "é", "─", "    "]),
    st.sampled_from(["\r\n", "\n", "\r", "\t", "\b", "\x1b7", "\x1b8", "\x1bD", "\x1bE", "\x1bM"]),
    st.just("\x1b#8"),
    _agreed_csi(),
)


@settings(
    max_examples=int(os.environ.get("TMUX_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_AGREED_TOKENS, max_size=80).map("".join))
def test_random_streams_render_as_in_tmux(stream: str) -> None:
    _compare(stream.encode(), columns=20, lines=8)


# REP against tmux: the tokens that make tmux forget the character (any control, SGR, a move,
# a charset, a string) and counts past the end of the row. ASCII only (tmux 3.3a repeats no
# other character; xterm does, and so do we).
_REP_TOKENS = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=6),
    st.sampled_from(["\r", "\n", "\r\n", "\b", "\t", "\x1b[1m", "\x1b[m", "\x1b[3C"]),
    st.sampled_from(["\x1b(B", "\x1b]2;t\x07", "\x1b7", "\x1b[2;15H", "\x1b[K"]),
    st.integers(0, 45).map(lambda n: f"\x1b[{n or ''}b"),
)


@settings(
    max_examples=int(os.environ.get("TMUX_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_REP_TOKENS, max_size=40).map("".join))
def test_repeat_renders_as_in_tmux(stream: str) -> None:
    _compare(stream.encode(), columns=20, lines=8)
