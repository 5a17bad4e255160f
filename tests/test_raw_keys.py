"""Keys reach the programs in panes byte-exact, as tmux hands them on (issue 9).

The parser (app/input.py) is tested on its own, then the real app runs in a pseudo-terminal
this test owns, the way a terminal emulator hosts it, with real programs in its pane: a
Python program that logs every byte it reads, bash (M-.) and vim (Esc in a burst). The
expected bytes are what tmux 3.3a hands the same program for the same input.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BASH, wait_until
from textual import events

from app.input import InputParser, RawKey
from app.main import AiSessionApp
from engine import SessionConfig
from engine.terminal import Terminal

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, LINES = 100, 30

# -- the parser ---------------------------------------------------------------------------------


class Clock:
    """A clock the test moves: the escape delay passes without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def keys(events_: list[object]) -> list[tuple[str, str]]:
    return [(e.key, e.raw) for e in events_ if isinstance(e, RawKey)]


def parse(*chunks: str) -> list[object]:
    """Feed `chunks` one after another, then let the escape delay pass."""
    clock = Clock()
    parser = InputParser(escape_delay=0.1, clock=clock)
    out: list[object] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    clock.now += 1.0
    return out + parser.tick()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("\x1b1", [("alt+1", "\x1b1")]),  # Textual: "¡"
        ("\x1b-", [("alt+minus", "\x1b-")]),  # Textual: "–"
        ("\x1b:", [("alt+colon", "\x1b:")]),  # Textual: ":"
        ("\x1b.", [("alt+full_stop", "\x1b.")]),
        ("\x1b\x01", [("alt+ctrl+a", "\x1b\x01")]),  # Textual: ctrl+a
        ("\x1b\t", [("alt+tab", "\x1b\t")]),  # Textual: shift+tab
        ("\x1b\r", [("alt+enter", "\x1b\r")]),
        ("\x1b\x7f", [("alt+backspace", "\x1b\x7f")]),
        ("\x1bX", [("alt+shift+x", "\x1bX")]),
        ("\x1b", [("escape", "\x1b")]),
        ("\x1b\x1b", [("alt+escape", "\x1b\x1b")]),
        ("\x1b[1;3A", [("alt+up", "\x1b[1;3A")]),  # Textual: escape, then up
        ("\x1b\x1b[A", [("alt+up", "\x1b\x1b[A")]),
        ("\x1b[3;3~", [("alt+delete", "\x1b[3;3~")]),
        ("\x1b[1;5D", [("ctrl+left", "\x1b[1;5D")]),
        ("\x1b[15;5~", [("ctrl+f5", "\x1b[15;5~")]),
        ("\x1bOP", [("f1", "\x1bOP")]),
        ("\x1b[Z", [("shift+tab", "\x1b[Z")]),
        ("\x02", [("ctrl+b", "\x02")]),
        ("\x08", [("ctrl+h", "\x08")]),
        ("\x00", [("ctrl+@", "\x00")]),
        (" ", [("space", " ")]),
        ("é", [("é", "é")]),
        ("\x1b[", [("alt+left_square_bracket", "\x1b[")]),  # cut off: Alt-[ after the delay
        ("\x1b[99~", [("unknown", "\x1b[99~")]),  # still handed on whole
        (
            "ihi\x1b:wq\r",
            [(c, c) for c in "ihi"]
            + [("alt+colon", "\x1b:"), ("w", "w"), ("q", "q"), ("enter", "\r")],
        ),
    ],
)
def test_keys_carry_the_exact_text_and_a_name(typed: str, expected: list[tuple[str, str]]) -> None:
    assert keys(parse(typed)) == expected


BURST = "a\x1b1\x1b[1;3A\x02\x1b\x01\x1b[<0;5;6M\x1b[200~p\x1b[Aste\x1b[201~\x1bOP\x1b\x1b[Béz\x1b"


@pytest.mark.parametrize("cut", range(1, len(BURST)))
def test_input_cut_anywhere_gives_the_same_events(cut: int) -> None:
    """A read can end anywhere: the start of a sequence waits for the rest."""
    whole, split = parse(BURST), parse(BURST[:cut], BURST[cut:])
    assert [repr(e) for e in split] == [repr(e) for e in whole]
    assert keys(split) == keys(whole)


def test_keys_keep_every_byte_and_the_rest_are_textual_events() -> None:
    out = parse(BURST)
    assert "".join(raw for _, raw in keys(out)) == BURST.replace("\x1b[<0;5;6M", "").replace(
        "\x1b[200~p\x1b[Aste\x1b[201~", ""
    )
    assert [type(e) for e in out if not isinstance(e, RawKey)] == [events.MouseDown, events.Paste]
    paste = next(e for e in out if isinstance(e, events.Paste))
    assert paste.text == "p\x1b[Aste"


def test_a_lone_escape_waits_for_the_escape_delay() -> None:
    clock = Clock()
    parser = InputParser(escape_delay=0.1, clock=clock)
    assert parser.feed("\x1b") == [] and parser.timeout() == pytest.approx(0.1)
    assert parser.tick() == []  # more may follow: ESC 1 is M-1, not Esc and 1
    clock.now += 0.05
    assert keys(parser.feed("1")) == [("alt+1", "\x1b1")] and parser.timeout() is None
    assert parser.feed("\x1b") == []
    clock.now += 0.1
    assert keys(parser.tick()) == [("escape", "\x1b")]
    assert parser.tick() == [] and parser.timeout() is None


def test_focus_mouse_and_replies_are_textual_events_not_keys() -> None:
    out = parse("\x1b[I", "\x1b[O", "\x1b[<64;3;4M", "\x1b[?2026;2$y")
    assert [type(e).__name__ for e in out] == [
        "AppFocus",
        "AppBlur",
        "MouseScrollUp",
        "TerminalSupportsSynchronizedOutput",
    ]


def test_a_paste_waits_for_its_end_across_reads() -> None:
    out = parse("x\x1b[200~one\x1b", "[201", "~y")
    assert [type(e) for e in out] == [RawKey, events.Paste, RawKey]
    assert out[1].text == "one"  # type: ignore[attr-defined]


# -- the real app in a terminal -----------------------------------------------------------------

SHOW_BYTES = """
import json, os, sys, tty
tty.setraw(0)
with open(sys.argv[1] + ".ready", "w") as ready:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("TEXTUAL")}, ready)
with open(sys.argv[1], "ab", buffering=0) as log:
    while data := os.read(0, 4096):
        log.write(data)
"""


class Outer:
    """The terminal emulator's side: the app in a PTY, its output drawn on a `Terminal`."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        from ptyprocess import PtyProcess

        self.proc = PtyProcess.spawn(argv, env=env, dimensions=(LINES, COLUMNS), cwd=str(ROOT))
        self.output = bytearray()
        self._lock = threading.Lock()
        self._screen = Terminal(COLUMNS, LINES)
        self._drawn = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.proc.fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.output += data

    def screen(self) -> list[str]:
        """The rows a person would see now."""
        with self._lock:
            new, self._drawn = self.output[self._drawn :], len(self.output)
        self._screen.feed(bytes(new))
        return [row.rstrip() for row in self._screen.display]

    def type(self, data: bytes) -> None:
        self.proc.write(data)


@contextlib.contextmanager
def outer(program: list[str], home: Path) -> Iterator[Outer]:
    """`python -m app PROGRAM` in a PTY of ours, with a clean HOME (no rc files)."""
    drop = ("TMUX", "TMUX_PANE", "ESCDELAY")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TEXTUAL")}
    env.update(HOME=str(home), TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8", PS1="$ ")
    terminal = Outer([sys.executable, "-m", "app", "--no-hints", *program], env)
    try:
        yield terminal
    finally:
        terminal.proc.terminate(force=True)


# What a program reads for what the terminal sends, as checked against tmux 3.3a (an attached
# client, `escape-time` passed for a lone Esc).
TMUX_READS = [
    (b"\x1b1", b"\x1b1"),
    (b"\x1b-", b"\x1b-"),
    (b"\x1b:", b"\x1b:"),
    (b"\x1b.", b"\x1b."),
    (b"\x1b\x01", b"\x1b\x01"),
    (b"\x1b\t", b"\x1b\t"),
    (b"\x1b\r", b"\x1b\r"),
    (b"\x1b\x7f", b"\x1b\x7f"),
    (b"\x1b", b"\x1b"),
    (b"ihello\x1b:wq\r", b"ihello\x1b:wq\r"),
    (b"\x1b\x1b", b"\x1b\x1b"),
    (b"\x1b[1;3A", b"\x1b[1;3A"),
    (b"\x1b\x1b[A", b"\x1b\x1b[A"),
    (b"\x1b\xc3\xa9", b"\x1b\xc3\xa9"),
    (b"\x1bOA", b"\x1b[A"),  # arrows are written as the program asked (here: not DECCKM)
    (b"\x02\x02", b"\x02"),  # the prefix twice: one C-b for the program
]


async def test_programs_read_exactly_what_tmux_would_hand_them(tmp_path: Path) -> None:
    script, log = tmp_path / "show_bytes.py", tmp_path / "read.log"
    script.write_text(SHOW_BYTES)
    with outer(["python3", str(script), str(log)], tmp_path) as terminal:
        ready = Path(f"{log}.ready")
        await wait_until(lambda: ready.exists() and ready.read_text(), timeout=30, what="pane")
        assert json.loads(ready.read_text()) == {}  # no TEXTUAL_* setting reaches the pane
        expected = b""
        for typed, read in TMUX_READS:
            terminal.type(typed)
            expected += read
            await wait_until(
                lambda expected=expected: log.read_bytes() == expected,
                what=lambda typed=typed: f"{typed!r}: read {log.read_bytes()[-40:]!r}",
            )
        # The kitty keyboard protocol stays off (tmux 3.3a does not use it either).
        assert not re.search(rb"\x1b\[>\d+u", terminal.output)


async def test_bash_meta_dot_yanks_the_last_argument(tmp_path: Path) -> None:
    with outer(BASH.split(), tmp_path) as terminal:
        await wait_until(lambda: "$" in terminal.screen(), timeout=30, what=terminal.screen)
        terminal.type(b"echo abc\r")
        await wait_until(lambda: "abc" in terminal.screen(), what=terminal.screen)
        terminal.type(b"echo \x1b.\r")  # M-.: readline's yank-last-arg
        rows = ["$ echo abc", "abc", "$ echo abc", "abc", "$"]
        await wait_until(
            lambda: "\n".join(rows) in "\n".join(terminal.screen()), what=terminal.screen
        )


async def test_vim_takes_insert_escape_and_write_in_one_read(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    with outer(["vim", "-u", "NONE", "-i", "NONE", "-n", str(notes)], tmp_path) as terminal:
        await wait_until(
            lambda: any(row.startswith("~") for row in terminal.screen()),
            timeout=30,
            what=terminal.screen,
        )
        terminal.type(b"ihello\x1b:wq\r")
        await wait_until(
            lambda: notes.exists() and notes.read_text() == "hello\n",
            what=lambda: notes.read_text() if notes.exists() else "\n".join(terminal.screen()),
        )


# -- keys go to the active pane of the window shown ---------------------------------------------


async def test_keys_after_a_prompted_split_and_new_window_reach_the_pane_shown() -> None:
    app = AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}))
    async with app.run_test(size=(COLUMNS, LINES)) as pilot:
        first = app.pane
        assert first is not None
        await wait_until(lambda: "$" in first.session.capture_pane())
        await pilot.press("ctrl+b", "colon", *"split-window", "enter")
        await wait_until(lambda: len(app.window.panes) == 2, what="the split")
        await pilot.pause()  # the focus changes the split asked for are applied
        await pilot.press("ctrl+b", "c")
        await wait_until(lambda: len(app.windows) == 2 and app.pane is not None, what="window")
        shown = app.pane
        assert shown is not None and shown is not first
        await wait_until(lambda: "$" in shown.session.capture_pane())
        await pilot.pause()
        await pilot.press(*"echo typed-here", "enter")
        await wait_until(
            lambda: "\ntyped-here" in shown.session.capture_pane(),
            what=shown.session.capture_pane,
        )
        await wait_until(lambda: app.focused is shown, what="focus on the pane shown")
        others = [p for w in app.windows for p in w.panes.values() if p is not shown]
        assert all("typed-here" not in p.session.capture_pane() for p in others)
