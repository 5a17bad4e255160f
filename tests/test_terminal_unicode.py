"""Widths and clusters as tmux shows them: the one width table (engine/width.py) probed
against a real tmux, text of every Unicode class drawn side by side with tmux, and the code
points a program sent kept as sent, on the screen and through the history."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from gen_width_table import tmux_widths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tmux_oracle import TMUX, tmux_view, trim

from engine.cells import DEFAULT_CELL
from engine.terminal import Terminal, split_cells
from engine.width import _STARTS, NARROW_RUN, WIDE_RUN, char_width

needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

# -- the table -----------------------------------------------------------------------------------

CLASSES = [
    ("a", 1, "ASCII"),
    ("~", 1, "ASCII"),
    ("\x1b", -1, "C0 control"),
    ("\x7f", -1, "DEL"),
    ("\x85", -1, "C1 control (tmux drops it)"),
    ("\x9b", -1, "C1 control"),
    ("\xa0", 1, "Latin-1 no-break space"),
    ("\xad", 1, "soft hyphen (a cell in libc and tmux)"),
    ("\xe9", 1, "Latin-1 letter"),
    ("\u0301", 0, "Mn combining acute"),
    ("\u0947", 0, "Mn Devanagari vowel sign e"),
    ("\u094d", 0, "Mn Devanagari virama"),
    ("\u09cd", 0, "Mn Bengali virama"),
    ("\u20dd", 0, "Me enclosing circle"),
    ("\u0488", 0, "Me Cyrillic hundred thousands"),
    ("\u093e", 1, "Mc Devanagari vowel sign aa (its own cell in tmux)"),
    ("\u0940", 1, "Mc Devanagari vowel sign ii"),
    ("\u094c", 1, "Mc Devanagari vowel sign au"),
    ("\u0903", 1, "Mc Devanagari visarga"),
    ("\u09be", 1, "Mc Bengali vowel sign aa"),
    ("\u0982", 1, "Mc Bengali anusvara"),
    ("\u0bbe", 1, "Mc Tamil vowel sign aa"),
    ("\u302e", 2, "Mc Hangul tone mark (wide)"),
    ("\u200b", 0, "zero width space"),
    ("\u200c", 0, "zero width non-joiner"),
    ("\u200d", 0, "zero width joiner"),
    ("\u200e", 0, "left-to-right mark"),
    ("\u2060", 0, "word joiner"),
    ("\ufeff", 0, "zero width no-break space"),
    ("\U000e0041", 0, "tag"),
    ("\u2028", -1, "line separator (tmux drops it)"),
    ("\u2029", -1, "paragraph separator"),
    ("\ufe0e", 0, "variation selector 15"),
    ("\ufe0f", 0, "variation selector 16 (tmux 3.3a keeps the base's width)"),
    ("\U000e0100", 0, "variation selector 17"),
    ("\u231a", 2, "emoji 1.0 watch"),
    ("\u2764", 1, "heart (text presentation by default)"),
    ("\U0001f600", 2, "emoji grinning face"),
    ("\U0001f3fd", 2, "emoji skin tone modifier (a cell of its own in tmux)"),
    ("\U0001f972", 2, "emoji 13"),
    ("\U0001fae0", 2, "emoji 14"),
    ("\U0001f1fa", 1, "regional indicator (one cell in tmux, two in wcwidth)"),
    ("\u2630", 1, "trigram (one cell in tmux, wide since Unicode 16)"),
    ("\U0001fae8", 2, "emoji 15, newer than tmux's libc: wcwidth's width"),
    ("\u4e00", 2, "CJK ideograph"),
    ("\U00020000", 2, "CJK extension B"),
    ("\uff21", 2, "fullwidth Latin"),
    ("\uff76", 1, "halfwidth katakana"),
    ("\uac00", 2, "Hangul syllable"),
    ("\u1100", 2, "Hangul leading consonant"),
    ("\u1160", 0, "Hangul medial vowel filler"),
    ("\u1161", 0, "Hangul medial vowel"),
    ("\u11a8", 0, "Hangul final consonant"),
    ("\ud7b0", 0, "Hangul medial vowel, extended B"),
    ("\u3164", 2, "Hangul filler (wide in tmux, zero in wcwidth)"),
    ("\uffa0", 1, "halfwidth Hangul filler"),
    ("\u3248", 2, "circled number on black square (wide in tmux)"),
    ("\xb1", 1, "East Asian ambiguous"),
    ("\u2500", 1, "box drawing (ambiguous)"),
    ("\u2460", 1, "circled digit (ambiguous)"),
    ("\ue0a0", 1, "private use (powerline)"),
    ("\U000f0000", 1, "supplementary private use"),
    ("\U00050000", 1, "unassigned"),
    ("\ud800", -1, "surrogate"),
]


@pytest.mark.parametrize(("ch", "width"), [c[:2] for c in CLASSES], ids=[c[2] for c in CLASSES])
def test_char_width_by_class(ch: str, width: int) -> None:
    assert char_width(ch) == width


@pytest.mark.parametrize(("run", "width"), [(NARROW_RUN, 1), (WIDE_RUN, 2)], ids=["narrow", "wide"])
def test_run_matches_exactly_the_characters_of_its_width(run: re.Pattern[str], width: int) -> None:
    everything = "".join(map(chr, range(0x110000)))
    found = bytearray(len(everything))
    for m in run.finditer(everything):
        found[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    wrong = [c for c in range(0x110000) if found[c] != (char_width(chr(c)) == width)]
    assert wrong == []


@given(st.text(st.characters(codec="utf-8") | st.sampled_from("\u0301\u200d\u093e\u4e00")))
def test_runs_are_maximal(text: str) -> None:
    widths = "".join(str(max(char_width(c), 0)) for c in text)
    for run, width in ((NARROW_RUN, "1"), (WIDE_RUN, "2")):
        runs = re.findall(f"{width}+", widths)
        assert [len(m) for m in run.findall(text)] == [len(r) for r in runs]


@needs_tmux
def test_width_table_equals_tmux_at_every_run_boundary() -> None:
    """Both ends of every run of the table, drawn by tmux: what tmux shows, it shows at our
    width; what it drops and we keep is newer than its libc (see engine/width.py)."""
    ends = [s - 1 for s in _STARTS[1:]] + [0x10FFFF]
    points = {c for c in (*_STARTS, *ends) if c >= 0x80 and not 0xD800 <= c < 0xE000}
    points = sorted(points - {0x200D})  # tmux holds a ZWJ back for the next character
    shown = tmux_widths(points, f"unicode-x-{uuid.uuid4().hex[:8]}")
    differ = {hex(c): (shown[c], char_width(chr(c))) for c in points if shown[c] >= 0}
    assert {c: w for c, w in differ.items() if w[0] != w[1]} == {}
    dropped = {c for c in points if char_width(chr(c)) < 0}
    assert all(shown[c] < 0 for c in dropped)  # we drop only what tmux drops
    assert dropped == {c for c in points if c < 0xA0 or c in (0x2028, 0x2029)}


# -- text on the screen, against tmux ------------------------------------------------------------

SAMPLES = {
    "devanagari": "नमस्ते दुनिया क्षत्रिय कौन",
    "bengali": "বাংলা ভাষা আমি",
    "tamil-telugu": "தமிழ் கொ తెలుగు",
    "combining": "e\u0301 a\u0308\u0304 x\u20dd \u0488y",
    "format": "a\u200bb\u200cc\u2060d\ufeffe\u200ef\u2066g\U000e0041h",
    "zwj-indic": "क्\u200dष र\u200d\u094dय",
    "variation-selectors": "❤\ufe0f ❤\ufe0e ☺\ufe0f 1\ufe0f\u20e3 \u845b\U000e0100",
    "emoji": "😀👍🏽🇺🇸 🧑\u200d💻 👨\u200d👩\u200d👧 ⌚ 🥲 🫠",
    "family-of-four": "👨\u200d👩\u200d👧\u200d👦x",  # tmux keeps 21 bytes of a cell
    "cjk": "日本語 中文 ｶﾀｶﾅ ＡＢＣ 〈〉 \U00020000",
    "hangul": "한국어 \u1100\u1161\u11a8 \u115f\u1160 \u3164\uffa0x",
    "ambiguous": "±×÷ §¶ ─│┌ ①② ΑΒΓ \u3248",
    "private-use": "\ue0a0\uf8ff\U000f0000x",
    "latin-1": "caf\xe9 soft\xadhyphen \xa0nbsp \xff",
    "c1-controls": "a\u0085b\u009bc\u0080d",
    "separators": "a\u2028b\u2029c",
    "mark-at-column-0": "\u0301a\r\n\u200bb\r\n\u0947c",
    "mark-at-pending-wrap": "x" * 79 + "e\u0301y",
    "wide-at-margin": "x" * 79 + "日\u0301z",
    "cell-full": "a" + "\u0301" * 15 + "b",
    "mark-on-a-blank": "\x1b[5G\u0301x",
    "mark-from-right-half": "日\x1b[D\u0301\x1b[5Gx",
    "spacing-mark-after-wide": "日\u093ex",
    "mark-in-insert-mode": "abc\x1b[4h\x1b[2G\u0301X\x1b[4l",
    "attributes-kept": "\x1b[31me\x1b[1m\u0301\x1b[0mx",
    "into-history": "\r\n".join(["नमस्ते e\u0301 👨\u200d👩\u200d👧 日本 \u200b|"] * 12),
    "wrapping-into-history": "দুনিয়া e\u0301\u0302 한국어 \u200c" * 30,
}


def _compare(data: bytes, columns: int = 80, lines: int = 6) -> None:
    view = tmux_view(data, columns, lines)
    ours = Terminal(columns, lines)
    ours.feed(data)
    assert trim(ours.capture()) == trim(view.screen)
    assert trim(ours.capture(start="-")) == trim(view.text)
    assert (ours.cursor.x, ours.cursor.y) == (min(view.cursor[0], columns - 1), view.cursor[1])


@needs_tmux
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_text_of_every_class_renders_as_in_tmux(name: str) -> None:
    _compare(SAMPLES[name].encode())


# Clusters as programs send them. Left out: a ZWJ followed by ASCII or at column 0, and
# characters newer than tmux's libc (see the tests of deliberate differences below).
CLUSTERS = [
    "e\u0301",
    "a\u0308\u0304",
    "नमस्ते",
    "कौ",
    "क्\u200dष",
    "বাংলা",
    "👨\u200d👩\u200d👧",
    "🧑\u200d💻",
    "👍🏽",
    "🇺🇸",
    "❤\ufe0f",
    "日本",
    "한",
    "\u1100\u1161\u11a8",
    "ｶ",
    "±",
    "\ue0a0",
    "\xad",
    "x\u200b",
    "y\u2060",
    "z\u200c",
    "\u0301",
    "\u093e",
]
_TOKENS = st.one_of(
    st.sampled_from(CLUSTERS),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=6),
    st.sampled_from([" ", "\r\n", "\x1b[1m", "\x1b[32m", "\x1b[0m"]),
)


@needs_tmux
@settings(
    max_examples=int(os.environ.get("TMUX_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_TOKENS, max_size=60).map("".join))
def test_random_clusters_render_as_in_tmux(text: str) -> None:
    _compare(text.encode(), columns=17, lines=5)


# -- code points kept, through the history --------------------------------------------------------


def test_code_points_are_kept_as_sent() -> None:
    t = Terminal(20, 3)
    t.feed("e\u0301 \u00e9 नमस्ते\r\n")
    assert t.row_text(0) == "e\u0301 \u00e9 नमस्ते"  # not composed (NFC) nor dropped
    assert [data for data, _ in t.row_cells(0)][:8] == [
        *("e\u0301", " ", "\u00e9", " "),
        *("न", "म", "स\u094d", "त\u0947"),
    ]
    t.feed("\r\n" * 3)  # the row scrolls into the history
    assert t.history_size and t.capture(start="-").split("\n")[0] == "e\u0301 \u00e9 नमस्ते"


def _cells(t: Terminal, y: int) -> list[tuple[str, object]]:
    cells = t.row_cells(y)
    while cells and cells[-1] == (" ", DEFAULT_CELL):
        cells.pop()
    return [(data, attrs[1:]) for data, attrs in cells]


@given(st.lists(_TOKENS, max_size=40).map("".join))
def test_cells_come_back_from_the_history_as_they_were(text: str) -> None:
    """A row pushed into the history (text + style runs) is cut back into the same cells,
    on the way out (row_cells) and back onto the screen when the terminal grows."""
    t = Terminal(17, 6)
    t.feed(text)
    before = [_cells(t, y) for y in range(6)]
    t.feed("\x1b[6;1H" + "\n" * 6)
    assert [_cells(t, y) for y in range(-6, 0)] == before
    t.resize(17, 12)
    assert [_cells(t, y) for y in range(6)] == before


def test_split_cells_is_how_draw_cuts_text() -> None:
    assert split_cells("e\u0301x") == ["e\u0301", "x"]
    assert split_cells("👨\u200d👩\u200d👧!") == ["👨\u200d👩\u200d👧", "!"]
    assert split_cells("a\u200db") == ["a\u200d", "b"]  # ASCII does not join a ZWJ
    assert split_cells("का") == ["क", "ा"]  # a spacing mark takes its own cell


# -- where we differ from tmux 3.3a on purpose -----------------------------------------------------


def test_characters_newer_than_tmux_libc_are_kept() -> None:
    # tmux 3.3a drops what its libc's wcwidth() does not know (here Unicode 14's); 3.4 shows it.
    t = Terminal(20, 3)
    t.feed("\U0001fae8\U0001fae9x")
    assert t.row_text(0) == "\U0001fae8\U0001fae9x" and t.cursor.x == 5


def test_a_zwj_is_kept_even_before_ascii() -> None:
    # tmux holds a ZWJ back until the next non-ASCII character (across controls and reads)
    # and shows `ab` here; we keep it where it was sent.
    t = Terminal(20, 3)
    t.feed("a\u200db\r\n\u200d\u00e9")
    assert t.row_text(0) == "a\u200db" and t.cursor.x == 1
    assert t.row_text(1) == "\u00e9"  # nothing to join at column 0: drawn (tmux drops it)


def test_a_cell_holds_21_bytes_as_in_tmux() -> None:
    t = Terminal(20, 3)
    t.feed("a" + "\u0301" * 12)
    assert t.row_text(0) == "a" + "\u0301" * 10  # 1 + 2 * 10 bytes


def test_a_wrapped_history_row_of_spacing_marks_joins_without_padding() -> None:
    """History rows are measured by the width table (a spacing mark takes its own cell), so
    joining a wrapped one adds no blanks the program never wrote."""
    terminal = Terminal(10, 3)
    terminal.feed("কা" * 6 + "\r\n" * 4)
    assert terminal.capture(start="-", join_wrapped=True).split("\n")[0] == "কা" * 6
