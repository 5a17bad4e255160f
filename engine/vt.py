"""VT/xterm escape-sequence parser: decoded text in, pyte-style screen method calls out.

pyte's own stream walks a generator per character, raises on some private sequences and draws
the body of DCS/APC strings. This parser tokenises with regular expressions (a run of printable
text is one `draw()` call), never raises, swallows DCS/APC/PM/SOS strings, and routes private
markers (`CSI ? …`, `CSI > …`), intermediates (`CSI ! p`) and colon sub-parameters
(`38:2::r:g:b`) to the right place or nowhere.

The screen never depends on how the output was split into reads: a sequence, string or partial
line cut by the end of a feed is finished by the next one. Memory stays bounded because the
parameters are bounded where they are read: values clamped to MAX_PARAM while scanning (a
parameter of 5000 digits is 9999, not a ValueError), only the first MAX_FIELDS parameters and
MAX_SUBS sub-parameters count (xterm keeps 30, tmux ignores a sequence with more than 24), so
an unfinished sequence of any length can be kept in a short form that means the same.

It speaks pyte's method vocabulary (`draw`, `linefeed`, `cursor_position`,
`select_graphic_rendition`, …), so the same parser can drive a stock `pyte.Screen` as an
oracle. Methods stock pyte lacks (`scroll_up`, `repeat_last`, `soft_reset`, `set_cwd`, …)
are called only when the screen has them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger(__name__)

ESC = "\x1b"
MAX_PARAM = 9999  # larger numeric parameters are clamped (a `CSI 999999999 b` must not hang)
MAX_FIELDS = 32  # parameters after the 32nd are dropped (xterm keeps 30; tmux ignores more than 24)
MAX_SUBS = 8  # colon sub-parameters after the 8th are dropped (`38:2:cs:r:g:b` needs 6)
MAX_SEQUENCE = 512  # an unfinished sequence longer than this is kept in a bounded form
MAX_STRING = 1 << 20  # OSC text kept; the rest of a longer string is swallowed

_TEXT = re.compile(r"[^\x00-\x1f\x7f-\x9f]+")
_CSI = re.compile(r"\x1b\[([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])")
# Out-of-order parameter and intermediate bytes: a malformed sequence, ignored whole (xterm).
_CSI_MALFORMED = re.compile(r"\x1b\[[\x20-\x3f]*[\x40-\x7e]")
# What `_broken` looks at: a sequence so far, with the C0 controls (not CAN, SUB, ESC) that
# may come inside it and run in place, as in xterm and tmux: `ESC C0* [ (C0|param|inter)*` or
# `ESC C0* (C0|inter)*`.
_C0 = r"\x00-\x17\x19\x1c-\x1f\x7f"
_CSI_MALFORMED_PREFIX = re.compile(rf"\x1b\[[{_C0}\x20-\x3f]*+")
_ESC_PREFIX = re.compile(rf"\x1b[{_C0}]*+(?:\[[{_C0}\x20-\x3f]*+|[{_C0}\x20-\x2f]*+)")
_INSIDE_C0 = re.compile(f"[{_C0}]")
_CSI_PARTS = re.compile(r"\x1b\[([<=>?]?)([\x30-\x3f]*)([\x20-\x2f]*)([\x20-\x3f]*)")
_ESC_SEQ = re.compile(r"\x1b([\x20-\x2f]*)([\x30-\x7e])")
_STRING_STOP = re.compile(r"[\x07\x18\x1a\x1b]")
# The start of a plain line (text and SGR, perhaps an SGR cut short): what a flood's last,
# unfinished line looks like at the end of a feed.
_PARTIAL_LINE = re.compile(r"(?:[\x20-\x7e]++|\x1b\[[0-9;]*+m)*+(?:\x1b(?:\[[0-9;]*+)?+)?+")
MAX_HELD = 4096
# The common tokens, for `Parser._tokens`, by group: printable text (1), a cursor position
# with at most two parameters of at most four digits (2, 3), any other CSI with plain
# parameters (4, 5) or not (6, 7, 8), an ESC sequence that is neither a CSI nor a string's start
# (9, 10), one control character (11). The rest (strings, unfinished or malformed sequences)
# is for the general loop in `feed`.
_TOKENS = re.compile(
    r"([^\x00-\x1f\x7f-\x9f]+)"
    r"|\x1b\[([0-9]{0,4})(?:;([0-9]{0,4}))?[Hf]"
    r"|\x1b\[([0-9;:]*)([\x40-\x7e])"
    r"|\x1b\[([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])"
    r"|\x1b(?![\[\]P_^X])([\x20-\x2f]*)([\x30-\x7e])"
    r"|([\x00-\x1a\x1c-\x1f\x7f-\x9f])"
)
_ARGS: dict[str, list[int]] = {}  # CSI parameter text -> parse_params(text), for `_tokens`
_STRING_STARTERS = {"]": "osc", "P": "dcs", "_": "apc", "^": "pm", "X": "sos"}

BASIC = {
    "\x07": "bell",
    "\x08": "backspace",
    "\x09": "tab",
    "\x0a": "linefeed",
    "\x0b": "linefeed",
    "\x0c": "linefeed",
    "\x0d": "carriage_return",
    "\x0e": "shift_out",
    "\x0f": "shift_in",
}

ESCAPES = {
    "c": "reset",
    "D": "index",
    "M": "reverse_index",
    "H": "set_tab_stop",
    "7": "save_cursor",
    "8": "restore_cursor",
}

CSI = {
    "@": "insert_characters",
    "A": "cursor_up",
    "B": "cursor_down",
    "C": "cursor_forward",
    "D": "cursor_back",
    "E": "cursor_down1",
    "F": "cursor_up1",
    "G": "cursor_to_column",
    "`": "cursor_to_column",
    "H": "cursor_position",
    "f": "cursor_position",
    "I": "forward_tab",
    "J": "erase_in_display",
    "K": "erase_in_line",
    "L": "insert_lines",
    "M": "delete_lines",
    "P": "delete_characters",
    "S": "scroll_up",
    "T": "scroll_down",
    "X": "erase_characters",
    "Z": "back_tab",
    "a": "cursor_forward",
    "b": "repeat_last",
    "c": "report_device_attributes",
    "d": "cursor_to_line",
    "e": "cursor_down",
    "g": "clear_tab_stop",
    "h": "set_mode",
    "l": "reset_mode",
    "m": "select_graphic_rendition",
    "n": "report_device_status",
    "r": "set_margins",
}

# CSI finals that `_csi` sends straight to their `CSI` method, with this many parameters at
# most, when there is no private marker or intermediate: `Parser._tokens` calls them directly.
PLAIN_CSI = {final: 2 if final in "Hf" else 1 for final in "@ABCDEFG`HfJKLMPXadeI"}


def _ignore(*args: Any) -> None:
    """What a screen without the method does with a sequence: nothing."""


# `4:n` as `parse_sgr` passes it on: SGR 24, SGR 4, or `-n` for the styles SGR has no number for.
_UNDERLINE_STYLES = {0: 24, 1: 4, 2: -2, 3: -3, 4: -4, 5: -5}


def _uncached(params: str, apply: Any) -> None:
    """SGR for a screen that does not remember SGR results (stock pyte)."""
    apply(params)


def _int(field: str) -> int:
    """A parameter's value: 0 unless ASCII digits, clamped to MAX_PARAM while scanning (no
    int() of a long run of digits: Python refuses more than 4300)."""
    if not (field.isdigit() and field.isascii()):
        return 0
    if len(field) > 4:
        field = field.lstrip("0")
        if len(field) > 4:
            return MAX_PARAM
    return int(field or "0")


def _sub(field: str) -> int | None:
    """A colon sub-parameter: its value, None if empty or not a number."""
    return _int(field) if field.isdigit() and field.isascii() else None


def parse_params(text: str) -> list[int]:
    """`"1;;5:3"` -> `[1, 0, 5]`: empty fields are 0, colon sub-parameters dropped, and so
    are the fields after the MAX_FIELDS-th."""
    if not text:
        return []
    return [_int(field.split(":", 1)[0]) for field in text.split(";", MAX_FIELDS)[:MAX_FIELDS]]


def parse_sgr(text: str) -> list[int]:
    """SGR parameters with colon forms turned into their semicolon equivalents.

    `38:2::r:g:b` and `38:2:r:g:b` -> `38;2;r;g;b`, `38:5:n` -> `38;5;n` (58 likewise),
    `4:0` -> `24`, `4:1` -> `4`, `4:n` (2 double, 3 curly, 4 dotted, 5 dashed underline) ->
    `-n`, which `apply_sgr` reads as that style; other colon fields keep their first number.
    Fields after the MAX_FIELDS-th and sub-parameters after the MAX_SUBS-th are dropped.
    """
    if not text:
        return []
    out: list[int] = []
    for field in text.split(";", MAX_FIELDS)[:MAX_FIELDS]:
        if ":" not in field:
            out.append(_int(field))
            continue
        subs = field.split(":", MAX_SUBS)[:MAX_SUBS]
        head = _int(subs[0])
        kind = _sub(subs[1])
        if head in (38, 48, 58):
            if kind == 5 and len(subs) > 2:
                out += [head, 5, _int(subs[2])]
            elif kind == 2:
                rgb = subs[3:6] if len(subs) >= 6 else subs[2:5]
                rgb += ["0"] * (3 - len(rgb))
                out += [head, 2, *(_int(v) for v in rgb)]
        elif head == 4:  # `4:n` other than 0-5 changes nothing (tmux); by value: `4:03` too
            if len(subs) == 2 and kind in _UNDERLINE_STYLES:
                out.append(_UNDERLINE_STYLES[kind])
        else:
            out.append(head)
    return out


def _bounded(seq: str) -> str:
    """A stand-in of bounded length for the unfinished sequence `seq` (no C0 controls in it)
    that dispatches as `seq` would whatever follows: the same private marker, the values of
    the parameters and sub-parameters `parse_params`/`parse_sgr` keep, the intermediates
    (`_csi`/`_esc` ignore more than one), malformed or not. So an overlong sequence split
    across reads gives the screen it gives in one read, and memory stays bounded."""
    if seq[1:2] != "[":
        return seq[:4]  # ESC and intermediates
    private, params, intermediates, rest = _CSI_PARTS.fullmatch(seq).groups()  # type: ignore[union-attr]
    if rest:
        return "\x1b[ 0"  # a parameter byte after an intermediate: malformed for good
    fields = params.split(";", MAX_FIELDS)
    if len(fields) > MAX_FIELDS:
        fields[MAX_FIELDS] = ""  # dropped, whatever is added to it
    kept = []
    for field in fields:
        subs = field.split(":", MAX_SUBS)
        if len(subs) > MAX_SUBS:
            subs[MAX_SUBS] = ""
        kept.append(":".join(map(_bounded_number, subs)))
    return f"\x1b[{private}{';'.join(kept)}{intermediates[:3]}"


def _bounded_number(text: str) -> str:
    """A (sub-)parameter in a form that more digits extend to the same value: leading zeros
    gone, clamped to MAX_PARAM; not a number (`1?2`) stays not one, and empty stays empty."""
    if not (text.isdigit() and text.isascii()):
        return text and "0?"
    text = text.lstrip("0") or "0"
    return text if len(text) <= 4 else str(MAX_PARAM)


class Parser:
    """Feeds decoded text to a pyte-style screen; keeps state between feeds."""

    def __init__(self, screen: Any) -> None:
        self.screen = screen
        self.errors = 0  # handler exceptions swallowed (each one is a bug worth a test)
        self._pending = ""  # an unfinished escape sequence from the previous feed
        self._string: str | None = None  # "osc", "dcs", "apc", "pm", "sos" while inside one
        self._string_parts: list[str] = []
        self._string_len = 0
        self._held = False  # `_pending` is the start of a line, held back (see `_hold`)
        # A screen may offer a fast path for whole plain lines after a line feed.
        self.fast: Any = getattr(screen, "fast_lines", None)
        # Common tokens go through `_tokens` (False: only the general loop, for tests that
        # hold the one equal to the other).
        self.tokens = True
        # A screen may take the tokens of a redraw faster itself (None: it does not, or
        # tests compare without it).
        self.cells: Any = getattr(screen, "fast_cells", None)
        self._hot: tuple[Any, ...] | None = None  # the screen's handlers `_tokens` calls
        self._handlers: dict[str, Any] = {}  # name -> the screen's bound method, or None

    def feed(self, data: str) -> None:
        """Parse `data`, calling the screen's methods; never raises."""
        buf = self._pending + data if self._pending else data
        self._pending = ""
        self._held = False
        fast = self.fast
        i = fast(buf, 0) if fast is not None and self._string is None else 0
        if i and self._hold(buf, i):
            return
        n = len(buf)
        text_match = _TEXT.match
        tokens = self.tokens
        while i < n:
            if self._string is not None:
                i = self._continue_string(buf, i)
                if i < 0:
                    return
                continue
            if tokens:
                i = self._tokens(buf, i)
                if i < 0:
                    return
                if i >= n:
                    break
            m = text_match(buf, i)
            if m is not None:
                i = m.end()
                self._call("draw", m.group())
                continue
            ch = buf[i]
            if ch != ESC:
                name = BASIC.get(ch)
                if name is not None:
                    self._call(name)
                self.screen._last_char = ""  # REP repeats only a character printed just before
                i += 1
                if ch == "\n" and fast is not None:
                    j = fast(buf, i)
                    if j != i and self._hold(buf, j):
                        return
                    i = j
                continue
            if i + 1 >= n:
                self._pending = buf[i:]
                return
            kind = buf[i + 1]
            if kind == "[":
                m = _CSI.match(buf, i)
                if m is not None:
                    i = m.end()
                    self._csi(m.group(1), m.group(2), m.group(3))
                    continue
                m = _CSI_MALFORMED.match(buf, i)
                if m is not None:
                    i = m.end()
                    continue
                buf, i, n, done = self._broken(buf, i, _CSI_MALFORMED_PREFIX)
                if done:
                    return
            elif kind in _STRING_STARTERS:
                self.screen._last_char = ""
                self._string = _STRING_STARTERS[kind]
                self._string_parts = []
                self._string_len = 0
                i += 2
            else:
                m = _ESC_SEQ.match(buf, i)
                if m is not None:
                    i = m.end()
                    self._esc(m.group(1), m.group(2))
                    continue
                buf, i, n, done = self._broken(buf, i, _ESC_PREFIX)
                if done:
                    return

    def flush(self) -> None:
        """Draw the text `_hold` kept back (someone is looking at the screen)."""
        if self._held:
            self.feed("")

    # -- pieces of feed() ------------------------------------------------------------------

    def _hold(self, buf: str, i: int) -> bool:
        """After the fast path took whole lines, keep the unfinished last one for the next
        feed, which will most likely complete it and take it the fast way too. The screen
        is told, and draws it (`flush`) if it is looked at before then."""
        if len(buf) - i > MAX_HELD or _PARTIAL_LINE.match(buf, i).end() != len(buf):  # type: ignore[union-attr]
            return False
        self._pending = buf[i:]
        self._held = bool(self._pending)
        if self._held:
            self.screen._settle_needed = True
        return True

    def _broken(self, buf: str, i: int, prefix: re.Pattern[str]) -> tuple[str, int, int, bool]:
        """An escape sequence at `i` that did not match at once: C0 controls inside it (they
        run in place), unfinished (kept for the next feed, bounded), interrupted or garbage.

        Returns the buffer, where to go on, its length, and whether the feed is over.
        """
        n = len(buf)
        j = prefix.match(buf, i).end()  # type: ignore[union-attr]
        seq = buf[i:j]
        if _INSIDE_C0.search(seq):
            for ch in _INSIDE_C0.findall(seq):
                name = BASIC.get(ch)
                if name is not None:
                    self._call(name)
            self.screen._last_char = ""
            seq = _INSIDE_C0.sub("", seq)
        if j >= n:
            self._pending = seq if len(seq) <= MAX_SEQUENCE else _bounded(seq)
            return buf, n, n, True
        ch = buf[j]
        if ch in "\x18\x1a":  # CAN/SUB cancel the sequence
            return buf, j + 1, n, False
        if seq == ESC and ch in _STRING_STARTERS:  # ESC, C0 controls, then `]`, `P`, ...
            self.screen._last_char = ""
            self._string = _STRING_STARTERS[ch]
            self._string_parts = []
            self._string_len = 0
            return buf, j + 1, n, False
        if seq[1:2] == "[":
            if "\x40" <= ch <= "\x7e":
                m = _CSI.fullmatch(seq + ch)
                if m is not None:
                    self._csi(m.group(1), m.group(2), m.group(3))
                return buf, j + 1, n, False  # malformed, or dispatched
        elif "\x30" <= ch <= "\x7e":
            self._esc(seq[1:], ch)
            return buf, j + 1, n, False
        return buf, j, n, False  # anything else aborts the sequence; go on from there

    def _continue_string(self, buf: str, i: int) -> int:
        """Inside OSC/DCS/APC/PM/SOS: collect (OSC) or skip until BEL, ST, CAN or SUB."""
        n = len(buf)
        m = _STRING_STOP.search(buf, i)
        end = m.start() if m is not None else n
        if self._string == "osc" and self._string_len < MAX_STRING:
            part = buf[i:end][: MAX_STRING - self._string_len]
            self._string_parts.append(part)
            self._string_len += len(part)
        if m is None:
            return -1
        stop = buf[end]
        if stop == ESC:
            if end + 1 >= n:
                self._pending = ESC
                return -1
            if buf[end + 1] == "\\":
                self._finish_string(dispatch=True)
                return end + 2
            self._finish_string(dispatch=True)  # ESC starts a new sequence: the string ends
            return end
        self._finish_string(dispatch=stop == "\x07", end=stop)
        return end + 1

    def _finish_string(self, dispatch: bool, end: str = "\x1b\\") -> None:
        """`end`: the string's terminator (BEL or ST), which an answer to it repeats."""
        kind, self._string = self._string, None
        text = "".join(self._string_parts)
        self._string_parts = []
        if kind == "osc" and dispatch:
            self._osc(text, end)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> None:
        handler = self._handler(name)
        if handler is None:
            return
        try:
            handler(*args, **kwargs)
        except Exception:  # one bad sequence must never take the terminal down
            self.errors += 1
            log.debug("terminal handler %s%r failed", name, args, exc_info=True)

    def _handler(self, name: str) -> Any:
        """The screen's method `name` (None if it has none), looked up once."""
        try:
            return self._handlers[name]
        except KeyError:
            handler = self._handlers[name] = getattr(self.screen, name, None)
            return handler

    # -- the common tokens -------------------------------------------------------------------

    def _tokens(self, buf: str, i: int) -> int:
        """Handle the common tokens from `i` on (text, CSI, ESC, controls) with the screen's
        handlers bound once and CSI parameters parsed once per distinct text, after the
        screen's own cell fast path (`fast_cells`) took what it could; does what the general
        loop would, faster. Returns where the first other token starts, or -1 when the feed
        is over (`_hold` kept the rest)."""
        hot = self._hot if self._hot is not None else self._bind()
        draw, cup, sgr, controls, plain = hot
        general_sgr = self._sgr
        fast, cells = self.fast, self.cells
        screen = self.screen
        args_cache = _ARGS
        n = len(buf)
        while True:
            if cells is not None:
                i = cells(buf, i)
                if i >= n:
                    return i
            m = None
            try:
                # Pattern.scanner (undocumented, in CPython for ever): successive matches,
                # each where the last ended, until one fails; one C call per token.
                scan = _TOKENS.scanner(buf, i)  # type: ignore[attr-defined]
                for m in iter(scan.match, None):
                    i = m.end()
                    k = m.lastindex
                    if k == 1:
                        draw(m.group(1))
                    elif k <= 3:  # CUP/HVP: exactly the arguments `_csi` would pass
                        line, column = m.group(2, 3)
                        if column is not None:
                            cup(int(line) if line else 0, int(column) if column else 0)
                        elif line:
                            cup(int(line))
                        else:
                            cup()
                    elif k == 5:
                        params, final = m.group(4, 5)
                        entry = plain.get(final)
                        if final == "m":
                            sgr(params, general_sgr)
                        elif entry is None:
                            self._csi(params, "", final)
                        else:
                            args = args_cache.get(params)
                            if args is None:
                                if len(args_cache) >= 1024:
                                    args_cache.clear()
                                args = args_cache[params] = parse_params(params)
                            handler, count = entry
                            if handler is not None:
                                handler(*args[:count])
                    elif k == 11:
                        ch = m.group(11)
                        handler = controls.get(ch)
                        if handler is not None:
                            handler()
                        if ch == "\n" and fast is not None:
                            j = fast(buf, i)
                            if j != i:
                                if self._hold(buf, j):
                                    return -1
                                i = j
                                break
                    elif k == 10:
                        self._esc(*m.group(9, 10))
                    else:
                        self._csi(*m.group(6, 7, 8))
                    if k != 1:  # REP repeats only a character printed just before it
                        screen._last_char = ""
                    if cells is not None:  # back to the screen's fast path
                        break
                else:
                    return i
            except Exception:  # as `_call`: the handler's token is done, go on after it
                self.errors += 1
                log.debug("terminal handler failed on %r", m and m.group(), exc_info=True)
                if m is None:
                    return i

    def _sgr(self, params: str) -> None:
        """`CSI params m` the general way (what a screen's SGR cache asks for on a miss)."""
        self._csi(params, "", "m")

    def _bind(self) -> tuple[Any, ...]:
        """The handlers `_tokens` calls: draw, CUP, SGR (cached by the screen if it can),
        control characters' and PLAIN_CSI's methods (None where the screen has none)."""
        method = self._handler
        draw = method("draw") or _ignore
        cup = method("cursor_position") or _ignore
        sgr = method("select_graphic_rendition_cached") or _uncached
        controls = {ch: method(name) for ch, name in BASIC.items()}
        plain = {final: (method(CSI[final]), count) for final, count in PLAIN_CSI.items()}
        # Not the parser's own bound methods: a parser holding itself would wait for the cycle
        # collector, and keep its screen (and session) alive until then.
        self._hot = (draw, cup, sgr, controls, plain)
        return self._hot

    # -- dispatch ----------------------------------------------------------------------------

    def _esc(self, intermediates: str, final: str) -> None:
        self.screen._last_char = ""  # no escape sequence is REP
        if not intermediates:
            if final == "E":  # NEL: new line, column 0 (pyte forgets the carriage return)
                self._call("carriage_return")
                self._call("index")
            elif final in "=>":
                self._call("set_keypad_application", final == "=")
            elif final == "Z":
                self._call("report_device_attributes")
            else:
                name = ESCAPES.get(final)
                if name is not None:
                    self._call(name)
        elif intermediates == "#" and final == "8":
            self._call("alignment_display")
        elif intermediates in ("(", ")"):
            self._call("define_charset", final, intermediates)

    def _csi(self, params: str, intermediates: str, final: str) -> None:
        """A control sequence; afterwards REP has nothing to repeat (REP itself included), as
        in tmux."""
        try:
            self._control_sequence(params, intermediates, final)
        finally:
            self.screen._last_char = ""

    def _control_sequence(self, params: str, intermediates: str, final: str) -> None:
        private = params[:1] if params[:1] in ("?", ">", "<", "=") else ""
        if private:
            params = params[1:]
        if intermediates:
            if intermediates == "!" and final == "p" and not private:
                self._call("soft_reset")
            elif intermediates == " " and final == "q" and not private:
                self._call("set_cursor_style", *parse_params(params)[:1])
            elif intermediates == "$" and final == "p" and private in ("", "?"):  # DECRQM
                self._call("report_mode", *parse_params(params)[:1], private=private == "?")
            elif intermediates == "*" and final == "y" and not private:  # DECRQCRA
                self._call("report_checksum", *parse_params(params)[:6])
            return
        if private == "?":
            if final in "hl":
                name = "set_mode" if final == "h" else "reset_mode"
                self._call(name, *parse_params(params), private=True)
            elif final in "JK":  # selective erase: erase as usual
                name = "erase_in_display" if final == "J" else "erase_in_line"
                self._call(name, *parse_params(params)[:1])
            elif final == "n":
                self._call("report_private_device_status", *parse_params(params)[:1])
            return
        if private == ">":
            if final == "c":
                self._call("report_terminal_version")
            elif final == "q" and not any(parse_params(params)):  # XTVERSION
                self._call("report_version")
            return
        if private:
            return
        if final == "m":
            sgr = parse_sgr(params)
            if sgr or not params:  # `CSI 4:7 m` is nothing, not `CSI m`
                self._call("select_graphic_rendition", *sgr)
            return
        args = parse_params(params)
        if final == "T" and len(args) > 1:  # xterm mouse highlight tracking, not scroll down
            return
        if final == "t":  # XTWINOPS: only the size reports (xterm acts on the first parameter)
            self._call("report_window", *args[:1])
            return
        if final in "su":  # SCOSC / SCORC (parameters ignored, as tmux does)
            self._call("save_cursor" if final == "s" else "restore_cursor")
            return
        if final == "r":
            top = args[0] if args else 0
            bottom = args[1] if len(args) > 1 else 0
            self._call("set_margins", top or None, bottom or None)
            return
        method = CSI.get(final)
        if method is not None:
            # Extra parameters are ignored, as terminals do: `CSI 0;0 @` is `CSI 0 @`.
            self._call(method, *(args if final in "hl" else args[: 2 if final in "Hf" else 1]))

    def _osc(self, text: str, end: str = "\x1b\\") -> None:
        code, _, rest = text.partition(";")
        if code in ("0", "1", "2"):
            rest = "".join(ch for ch in rest if ch >= " ")[:1024]
            if code in ("0", "1"):
                self._call("set_icon_name", rest)
            if code in ("0", "2"):
                self._call("set_title", rest)
        elif code == "7":
            self._call("set_cwd", rest)
        elif code in ("10", "11", "12"):
            # Each argument goes to the next colour (`OSC 10;fg;bg` sets both, as xterm):
            # "?" asks for it, anything else sets it.
            for number, spec in enumerate(rest.split(";")[:3], int(code)):
                if number > 12:
                    break
                if spec == "?":
                    self._call("report_color", number, end)
                else:
                    self._call("set_color", number, spec)
        elif code in ("110", "111", "112"):
            self._call("reset_color", int(code))
        else:
            self._call("osc", code, rest)
