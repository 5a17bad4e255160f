"""Copy mode over a real terminal: vi moves, paging, search, selection, and a view that stays
put while output goes on."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tmux_oracle import TMUX

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
    assert mode.column == len("line 46 alpha beta")  # from the end of a line, to line ends
    mode.key("0")
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
    """As tmux: a page is the height less two lines (kept for context), half a page half."""
    mode = CopyMode(_term(), height=5)
    mode.key("ctrl+u")
    assert mode.position == (2, 46)
    mode.key("pageup")
    assert mode.position == (5, 46)
    mode.key("ctrl+d")
    assert mode.position == (3, 46)


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
    assert mode.selected_text() == "abcdefghijKLM\nsecond\n"  # V takes the whole line, as tmux
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


# -- vi motions, checked against tmux 3.3a ----------------------------------------------------

TEXT = [
    "foo.bar baz,qux  end",
    "",
    "  (a [b] {c})  x",
    "call(f(x), [1, 2]) ;",
    "a-very-long-line-that-wraps-around-the-edge of the pane",
    "   leading  blanks   ",
    "path/to/file.py:12: error",
    "{ open",
    "  nested ( deep ) }",
    "x y z",
    "tail words here",
]
COLUMNS, LINES = 24, 6
DATA = ("\r\n".join(TEXT) + "\r\n").encode()


def _motion_term() -> Terminal:
    t = Terminal(COLUMNS, LINES)
    t.feed(DATA)
    return t


def _at(mode: CopyMode, row: int, column: int) -> None:
    """From the top of the history, `row` rows down and `column` right (as tmux is put there)."""
    mode.key("g")
    for _ in range(row):
        mode.key("j")
    for _ in range(column):
        mode.key("l")


def _here(mode: CopyMode) -> tuple[int, int, int]:
    """Where tmux's formats say the cursor is: copy_cursor_x, copy_cursor_y, scroll_position."""
    return mode.column, mode.line - mode.top, mode.position[0]


def test_e_and_E_go_to_word_ends_w_and_W_to_starts() -> None:
    mode = CopyMode(_motion_term(), height=LINES)
    _at(mode, 0, 0)
    ends = []
    for _ in range(5):
        mode.key("e")
        ends.append(mode.text(mode.line)[mode.column])
    assert ends == ["o", ".", "r", "z", ","]  # separators are words of their own
    _at(mode, 0, 0)
    mode.key("E")
    assert mode.column == len("foo.bar") - 1
    mode.key("W")
    assert mode.column == len("foo.bar ")
    mode.key("B")
    mode.key("B")
    assert mode.column == 0


def test_f_t_jump_to_a_character_and_semicolon_comma_repeat() -> None:
    mode = CopyMode(_motion_term(), height=LINES)
    _at(mode, 0, 0)
    assert mode.key("f") is None and mode.pending_jump == "f"
    mode.key("a")  # the key after f is the character, not a command
    assert mode.column == 5 and mode.pending_jump is None
    mode.key("semicolon", ";")
    assert mode.column == 9
    mode.key("comma", ",")
    assert mode.column == 5
    mode.key("t")
    mode.key("comma", ",")
    assert mode.column == 10  # just before the comma in "baz,qux"
    mode.key("T")
    mode.key("f")
    assert mode.column == 1  # just after the f of "foo"
    mode.key("F")
    mode.key("escape")  # cancels the jump, and stays in copy mode
    assert mode.column == 1 and mode.pending_jump is None


def test_percent_goes_to_the_matching_bracket() -> None:
    mode = CopyMode(_motion_term(), height=LINES)
    _at(mode, 3, 0)  # "call(f(x), [1, 2]) ;": not on a bracket: the first one after
    mode.key("percent_sign", "%")
    assert mode.column == len("call(f(x), [1, 2])") - 1
    mode.key("percent_sign", "%")
    assert mode.column == 4


def test_H_M_L_go_to_the_top_middle_and_bottom_of_the_view() -> None:
    mode = CopyMode(_motion_term(), height=LINES)
    mode.key("k")
    mode.key("H")
    assert (mode.line, mode.column) == (mode.top, 0)
    mode.key("M")
    assert mode.line == mode.top + (LINES - 1) // 2
    mode.key("L")
    assert mode.line == mode.top + LINES - 1


# Each key, or (key, character) for a jump, as the `send-keys -X` command tmux binds it to.
TMUX_COMMANDS = {
    "w": ["next-word"],
    "b": ["previous-word"],
    "e": ["next-word-end"],
    "W": ["next-space"],
    "B": ["previous-space"],
    "E": ["next-space-end"],
    "%": ["next-matching-bracket"],
    "H": ["top-line"],
    "M": ["middle-line"],
    "L": ["bottom-line"],
    ";": ["jump-again"],
    ",": ["jump-reverse"],
    "f": ["jump-forward"],
    "F": ["jump-backward"],
    "t": ["jump-to-forward"],
    "T": ["jump-to-backward"],
    "pageup": ["page-up"],
    "pagedown": ["page-down"],
    "ctrl+u": ["halfpage-up"],
    "ctrl+d": ["halfpage-down"],
    "j": ["cursor-down"],
    "k": ["cursor-up"],
}
Key = str | tuple[str, str]
SEQUENCES: list[list[Key]] = [
    ["e"] * 6,
    ["E"] * 5,
    ["w"] * 6,
    ["W"] * 5,
    ["b"] * 5,
    ["B"] * 4,
    ["%"],
    ["%", "%"],
    ["e", "%"],
    [("f", "a"), ";", ";", ","],
    [("F", "e"), ";", ","],
    [("t", "e"), ";", ";", ","],
    [("T", "a"), ";", ","],
    [("f", " "), ";"],
    [("t", "("), ","],
    ["H"],
    ["M"],
    ["L", "e"],
    ["pageup", "ctrl+d"],
    ["ctrl+u", "pagedown"],
    ["k", "k", "j", "j", "j"],
    ["e", "j", "k", "k"],
]
# (row from the top of the history, column): on text, as tmux's cursor-right wraps past it.
STARTS = [
    (0, 0),
    (0, 9),
    (2, 3),
    (3, 6),
    (4, 20),
    (6, 3),
    (7, 5),
    (8, 10),
    (10, 2),
    (11, 4),
    (13, 2),
]


@contextmanager
def _tmux_showing(data: bytes) -> Iterator[Callable[[list[str]], str]]:
    """A tmux 3.3a pane (vi keys) showing `data`: runs a command chain, returns its output."""
    if TMUX is None:
        pytest.skip("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        socket = f"ais-copymode-{uuid.uuid4().hex[:8]}"
        conf = Path(tmp, "tmux.conf")
        conf.write_text("set -g status off\nset -g mode-keys vi\n")
        Path(tmp, "feed.bin").write_bytes(data)
        base = [TMUX, "-L", socket, "-f", str(conf)]
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        script = f"stty -echo -opost; cat {tmp}/feed.bin; tmux wait-for -S fed; exec sleep 600"
        size = ["-x", str(COLUMNS), "-y", str(LINES)]
        socket_path = ""
        try:
            subprocess.run([*base, "new-session", "-d", *size, script], check=True, env=env)
            subprocess.run([*base, "wait-for", "fed"], check=True, env=env, timeout=20)

            def run(commands: list[str]) -> str:
                return subprocess.run(
                    [*base, *commands], check=True, env=env, capture_output=True, text=True
                ).stdout

            socket_path = run(["display", "-p", "#{socket_path}"]).strip()
            yield run
        finally:
            subprocess.run([*base, "kill-server"], env=env, capture_output=True, timeout=20)
            if socket_path:
                Path(socket_path).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def tmux_pane() -> Iterator[Callable[[list[str]], str]]:
    with _tmux_showing(DATA) as run:
        yield run


def _tmux_at(start: tuple[int, int]) -> list[str]:
    row, column = start
    chain = ["copy-mode", "-q", ";", "copy-mode", ";", "send", "-X", "history-top", ";"]
    if row:
        chain += ["send", "-X", "-N", str(row), "cursor-down", ";"]
    if column:
        chain += ["send", "-X", "-N", str(column), "cursor-right", ";"]
    return chain


def _tmux_chain(start: tuple[int, int], keys: list[Key]) -> list[str]:
    chain = _tmux_at(start)
    for key in keys:
        name, character = (key, None) if isinstance(key, str) else key
        chain += ["send", "-X", *TMUX_COMMANDS[name], *([character] if character else []), ";"]
    return [*chain, "display", "-p", "#{copy_cursor_x} #{copy_cursor_y} #{scroll_position}"]


@pytest.mark.parametrize("keys", SEQUENCES, ids=lambda keys: " ".join(map(str, keys)))
def test_motions_stop_where_tmux_stops(
    tmux_pane: Callable[[list[str]], str], keys: list[Key]
) -> None:
    mismatches = []
    for start in STARTS:
        mode = CopyMode(_motion_term(), height=LINES)
        _at(mode, *start)
        for key in keys:
            if isinstance(key, tuple):
                mode.key(key[0])
                mode.key(key[1], key[1])
            else:
                mode.key(key, key)
        expected = tuple(int(v) for v in tmux_pane(_tmux_chain(start, keys)).split())
        if _here(mode) != expected:
            mismatches.append(f"from {start}: tmux {expected}, ours {_here(mode)}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("how", ["select-word", "select-line"])
def test_double_and_triple_click_select_what_tmux_selects(
    tmux_pane: Callable[[list[str]], str], how: str
) -> None:
    """A double click selects a word (tmux's select-word), a triple click the line."""
    mismatches = []
    for start in [*STARTS, (0, 3), (0, 11), (0, 15), (2, 7), (3, 9), (5, 20), (12, 2)]:
        mode = CopyMode(_motion_term(), height=LINES)
        _at(mode, *start)
        if how == "select-word":
            mode.select_word(mode.line, mode.column)
        else:
            mode.select_line(mode.line)
        chain = [*_tmux_at(start), "send", "-X", how, ";", "send", "-X", "copy-selection"]
        expected = tmux_pane([*chain, ";", "show-buffer"])
        if mode.selected_text() != expected:
            mismatches.append(f"at {start}: tmux {expected!r}, ours {mode.selected_text()!r}")
    assert not mismatches, "\n".join(mismatches)


def test_over_a_full_screen_program_copy_mode_shows_only_its_screen() -> None:
    """Over vim or less, copy mode shows that program's screen alone ([0/0]), as issue 9 asks;
    tmux 3.3a itself still reaches the shell's history above it, which
    `history_over_full_screen=True` keeps (checked against a real tmux)."""
    data = DATA + b"\x1b[?1049h\x1b[H\x1b[2Jfull screen\r\nprogram"
    t = Terminal(COLUMNS, LINES)
    t.feed(data)
    with _tmux_showing(data) as tmux:
        chain = ["copy-mode", ";", "send", "-X", "history-top", ";", "display", "-p"]
        top = tmux([*chain, "#{scroll_position} #{history_size}"]).split()
    like_tmux = CopyMode(t, height=LINES, history_over_full_screen=True)
    assert like_tmux.text(like_tmux.line) == "program"
    like_tmux.key("g")
    assert [str(n) for n in like_tmux.position] == top
    assert like_tmux.text(like_tmux.line) == TEXT[0]

    alone = CopyMode(t, height=LINES)
    assert alone.text(alone.line) == "program"
    alone.key("g")
    assert alone.position == (0, 0) and alone.text(alone.line) == "full screen"
    alone.key("pageup")
    assert alone.text(alone.top) == "full screen" and alone.find("foo") is False
