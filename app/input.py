"""Terminal input read by us, so every key reaches the program in a pane byte-exact.

Textual's parser reads keys the way an editor wants them and loses bytes a program needs:
`ESC 1` becomes `¡` (macOS option keys), `ESC C-a` loses its Alt, `ESC [1;3A` (M-Up) becomes
two keys. A multiplexer must hand the program exactly what was typed, as tmux does. So
`InputParser` cuts the raw input into tokens itself, the way tmux does: a character, ESC and
one character (Alt), a CSI or SS3 sequence, ESC ESC and a sequence (Alt), or a lone ESC once
`ESCDELAY` passes without more input. Each key becomes a `RawKey` that carries its exact text
(`raw`) and a Textual key name ("ctrl+b", "alt+up", "escape") for the prefix, the prompt, copy
mode and modal screens. Mouse reports, focus changes and terminal replies are handed whole to
Textual's own parser; bracketed pastes become `Paste` events. `RawInputDriver` is Textual's
Linux driver reading through this parser.
"""

from __future__ import annotations

import app.textual_env  # noqa: F401  (Textual's settings, before it loads)

# isort: split
import os
import re
import selectors
import time
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import constants, events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import _character_to_key

if TYPE_CHECKING:
    from textual.message import Message

ESC = "\x1b"
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"

# A character's key name where Textual's differs from what the key is: 0x08 is C-h (Textual
# calls it backspace, as some terminals send it for that key; programs still get 0x08).
_CHARACTER_NAMES = {"\x08": "ctrl+h"}
# xterm's modifier parameter (`CSI 1;3A` is M-Up): its value less one, bit by bit.
_MODIFIER_BITS = ((1, "shift"), (2, "alt"), (4, "ctrl"), (8, "meta"))
_MODIFIED = re.compile(r"\x1b\[(\d*);(\d+)([~A-Z])")
_MOUSE = re.compile(r"\x1b\[(<[\d;]+[Mm]|\d+;\d+;\d+M|M...)", re.DOTALL)
_REPORT = re.compile(r"\x1b\[(\?\d+;\d+\$y|48;[\d:;]*t|[IO])")  # mode, size, focus in/out


class RawKey(events.Key):
    """A key from the terminal, with `raw`: exactly the text the terminal sent for it."""

    __slots__ = ["raw"]

    def __init__(self, key: str, character: str | None, raw: str) -> None:
        super().__init__(key, character)
        self.raw = raw


RawKey.handler_name = "on_key"  # handled as the Key it is (the default would be on_raw_key)


def character_name(character: str) -> str:
    """Textual's name for the key that sends one character: "a", "ctrl+a", "enter", "minus"."""
    if character in _CHARACTER_NAMES:
        return _CHARACTER_NAMES[character]
    keys = ANSI_SEQUENCES_KEYS.get(character)
    if isinstance(keys, tuple) and len(keys) == 1:
        return str(keys[0].value)
    return _character_to_key(character)


def alt_name(character: str) -> str:
    """The name of ESC + `character` (Alt held): "alt+1", "alt+ctrl+a", "alt+shift+x"."""
    name = character_name(character)
    if len(name) == 1 and name.isupper():
        name = f"shift+{name.lower()}"
    return f"alt+{name}"


def sequence_name(sequence: str) -> str:
    """The name of the key a CSI or SS3 sequence stands for: "up", "alt+up", "ctrl+f5".

    Textual's table names the plain keys; a modifier parameter (`CSI 1;3A`, `CSI 15;5~`) is
    read the xterm way, as tmux does, so no key turns into two. "unknown" when neither knows.
    """
    keys = ANSI_SEQUENCES_KEYS.get(sequence)
    if isinstance(keys, tuple) and len(keys) == 1:
        return str(keys[0].value)
    if isinstance(keys, str):  # keypad keys in application mode: the character they type
        return character_name(keys)
    match = _MODIFIED.fullmatch(sequence)
    if match is None:
        return "unknown"
    number, modifier, final = match.groups()
    bases = [f"\x1b[{number}~"] if final == "~" else [f"\x1b[{final}", f"\x1bO{final}"]
    names = (sequence_name(b) for b in bases)
    base = next((name for name in names if name != "unknown"), "unknown")
    bits = int(modifier) - 1
    mods = sorted({name for bit, name in _MODIFIER_BITS if bits & bit})
    *base_mods, key = base.split("+")
    return "+".join([*sorted({*mods, *base_mods}), key])


def _sequence_end(data: str, start: int) -> int | None:
    """Where the CSI or SS3 sequence at `start` (`ESC [` or `ESC O`) ends; None if it has not
    all arrived yet; `start + 2` if it is no sequence (then `ESC [` was Alt-[)."""
    size = len(data)
    if data[start + 1] == "O":
        if start + 2 >= size:
            return None
        return start + 3 if "\x40" <= data[start + 2] <= "\x7e" else start + 2
    end = start + 2
    while end < size and "\x30" <= data[end] <= "\x3f":  # parameters
        end += 1
    while end < size and "\x20" <= data[end] <= "\x2f":  # intermediates
        end += 1
    if end >= size:
        return None
    if not "\x40" <= data[end] <= "\x7e":
        return start + 2
    if end == start + 2 and data[end] == "M":  # X10 mouse: three bytes of button, x, y
        return start + 6 if start + 6 <= size else None
    return end + 1


def token_end(data: str, start: int, final: bool = False) -> int | None:
    """Where the token at `start` ends, or None when it may still grow (more input, or the
    escape delay, decides). `final`: nothing more is coming, so cut what is there."""
    if data[start] != ESC:
        return start + 1
    if start + 1 >= len(data):
        return None if not final else start + 1
    follower = data[start + 1]
    if follower in "[O":
        end = _sequence_end(data, start)
        return start + 2 if end is None and final else end
    if follower == ESC and start + 2 < len(data) and data[start + 2] in "[O":
        end = _sequence_end(data, start + 1)  # ESC ESC [A: Alt and a sequence (M-Up on some
        if end is None:  # terminals); ESC ESC and anything else is M-Escape
            return None if not final else start + 2
        return end if end > start + 3 else start + 2
    if follower == ESC and start + 2 >= len(data) and not final:
        return None  # ESC ESC [ may follow
    return start + 2


class InputParser:
    """Raw terminal input in, Textual events out; keys as `RawKey`s carrying their exact text.

    `feed` takes text as read (bytes that are not UTF-8 as surrogates, see `RawInputDriver`);
    `tick` ends a lone ESC or a cut-off sequence once `escape_delay` passes without input.
    """

    def __init__(
        self,
        escape_delay: float = constants.ESCAPE_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.escape_delay = escape_delay
        self._clock = clock
        self._pending = ""  # the start of a token still arriving, or a paste so far
        self._pending_since = 0.0
        self._in_paste = False
        self._textual = XTermParser()  # mouse, focus and replies: Textual's own events

    def timeout(self) -> float | None:
        """Seconds until `tick` has something to do, or None while nothing waits for it."""
        if not self._pending or self._in_paste:
            return None
        return max(0.0, self._pending_since + self.escape_delay - self._clock())

    def feed(self, text: str) -> list[Message]:
        """The events for `text`; the start of an unfinished token waits for more."""
        data, self._pending = self._pending + text, ""
        out: list[Message] = []
        start = 0
        while start < len(data):
            if self._in_paste:
                start = self._paste(data, start, len(data) - len(text), out)
                continue
            end = token_end(data, start)
            if end is None:
                self._pending, self._pending_since = data[start:], self._clock()
                break
            out += self._events(data[start:end])
            start = end
        return out

    def tick(self) -> list[Message]:
        """After `escape_delay` without input: what waits is a lone ESC, or keys typed."""
        timeout = self.timeout()
        if timeout is None or timeout > 0:
            return []
        data, self._pending = self._pending, ""
        out: list[Message] = []
        start = 0
        while start < len(data):
            end = token_end(data, start, final=True)
            assert end is not None
            out += self._events(data[start:end])
            start = end
        return out

    def _paste(self, data: str, start: int, seen: int, out: list[Message]) -> int:
        """Collect a bracketed paste up to its end marker; `seen`: how much was searched."""
        end = data.find(PASTE_END, max(start, seen - len(PASTE_END) + 1))
        if end < 0:
            self._pending = data[start:]
            return len(data)
        self._in_paste = False
        out.append(events.Paste(data[start:end].replace("\x00", "")))
        return end + len(PASTE_END)

    def _events(self, token: str) -> list[Message]:
        """The event(s) for one complete token."""
        if len(token) == 1:
            name = "escape" if token == ESC else character_name(token)
            return [RawKey(name, token, token)]
        if len(token) == 2:  # ESC and one character: Alt (ESC [ and ESC O too, when cut off)
            return [RawKey(alt_name(token[1]), None, token)]
        if token[1] == ESC:  # ESC ESC and a sequence: Alt and that key
            inner = token[1:]
            if inner == PASTE_START or _is_report(inner):
                return [RawKey("escape", ESC, ESC), *self._events(inner)]
            name = sequence_name(inner)
            return [RawKey(name if name.startswith("alt+") else f"alt+{name}", None, token)]
        if token == PASTE_START:
            self._in_paste = True
            return []
        if _is_report(token):
            return list(self._textual.feed(token))
        return [RawKey(sequence_name(token), None, token)]


def _is_report(sequence: str) -> bool:
    """A mouse report, focus change or reply to Textual's queries: not a key."""
    return bool(_MOUSE.fullmatch(sequence) or _REPORT.fullmatch(sequence))


class RawInputDriver(LinuxDriver):
    """Textual's Linux driver, reading the terminal through `InputParser`."""

    def start_application_mode(self) -> None:
        super().start_application_mode()
        if not constants.DISABLE_KITTY_KEY:  # Textual was imported before app/__init__.py
            self.write("\x1b[<u")  # undo its kitty-protocol request: keys must stay legacy
            self.flush()

    def run_input_thread(self) -> None:
        parser = InputParser()
        # Bytes that are not UTF-8 (an 8-bit Meta key) pass as surrogates, back to bytes later.
        decode = getincrementaldecoder("utf-8")(errors="surrogateescape").decode
        with selectors.SelectSelector() as selector:
            selector.register(self.fileno, selectors.EVENT_READ)
            while not self.exit_event.is_set():
                timeout = parser.timeout()
                if selector.select(0.1 if timeout is None else min(timeout, 0.1)):
                    data = os.read(self.fileno, 4096)
                    if not data:  # stdin closed: nothing more will come
                        break
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
