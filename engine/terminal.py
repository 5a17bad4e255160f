"""The terminal model: a pyte screen with the fixes a real multiplexer needs, behind `Terminal`.

`Screen` subclasses `pyte.Screen` and keeps its method vocabulary (so stock pyte stays a usable
oracle) while fixing what tmux users would notice: a real alternate screen (vim and less leave
the shell exactly as it was), scrollback of its own, xterm SGR (dim, colon colours, 256-colour
indexes 0-15 kept as palette names, conceal, underline styles and colours, overline), scroll
up/down, repeat, save/restore cursor as a single slot, soft reset, DECALN, OSC 7 cwd, answers
to DA, DSR, DECRQM, XTVERSION, size, colour and checksum queries, wide characters at the right
margin and pending-wrap positions. `Terminal` is what the rest of the engine uses: bytes in,
screen out.
"""

from __future__ import annotations

import codecs
import importlib.metadata
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import pyte
from pyte import modes as mo
from pyte.screens import Margins, StaticDefaultDict

from engine.cellpath import draw_cells, hot_tokens, store_narrow
from engine.cells import DEFAULT_CELL, PALETTE_NAMES, Cell, HistoryLine, apply_sgr
from engine.fastpath import FastRow, apply_deferred, cached_history_line, scroll_lines
from engine.history import CommandTracker
from engine.hscroll import hscrolled_after_reflow
from engine.scrollback import Scrollback, line_width, rewrap, trimmed
from engine.termstate import TerminalImage
from engine.termstate import dump as _dump
from engine.termstate import from_image as _from_image
from engine.termstate import image as _image
from engine.termstate import load as _load
from engine.vt import Parser
from engine.width import CELL_BYTES, NARROW_RUN, WIDE_RUN, ZWJ, char_width

# Private modes, as pyte stores them (shifted left by 5 to keep them apart from ANSI modes).
DECCKM = 1 << 5
MOUSE_X10 = 9 << 5
MOUSE_NORMAL = 1000 << 5
MOUSE_BUTTON = 1002 << 5
MOUSE_ANY = 1003 << 5
FOCUS_EVENTS = 1004 << 5
MOUSE_UTF8 = 1005 << 5
MOUSE_SGR = 1006 << 5
MOUSE_URXVT = 1015 << 5
ALT_SCREEN_MODES = (47, 1047, 1049)
BRACKETED_PASTE = 2004 << 5
SYNC_OUTPUT = 2026 << 5
# Private modes DECRQM reports from the mode set: cursor keys, reverse screen, origin, autowrap,
# X10 mouse, cursor shown, the mouse modes and encodings, focus, bracketed paste, sync output.
REPORTED_MODES = frozenset(
    {1, 5, 6, 7, 9, 25, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 2004, 2026}
)
CURSOR_BLINK = 12 << 5

try:
    VERSION = importlib.metadata.version("ai-session")
except importlib.metadata.PackageNotFoundError:  # run from a source tree
    VERSION = "0"

# What OSC 10/11/12 queries are answered with until the UI says better (`Terminal.colors`):
# light grey on black, xterm's own light grey for the text and the cursor.
DEFAULT_COLORS = {"foreground": "#e5e5e5", "background": "#000000", "cursor": "#e5e5e5"}
OSC_COLORS = {10: "foreground", 11: "background", 12: "cursor"}
# A cell's size in pixels for `CSI 14 t` and `CSI 16 t`: nothing here knows the font, so
# tmux's defaults for a client that did not say.
CELL_PIXELS = (16, 32)  # width, height


_width = char_width  # one table for drawing, history and bulk runs: tmux's (engine/width.py)
_REVERSE_BLANK = DEFAULT_CELL._replace(reverse=True)  # the blank cell under DECSCNM


_HOT_TOKENS = hot_tokens(NARROW_RUN.pattern)  # what the cell fast path takes


def _narrow_end(text: str, pos: int) -> int:
    """Where the run of one-column characters at `text[pos]` ends (`pos` if there is none)."""
    m = NARROW_RUN.match(text, pos)
    return pos if m is None else m.end()


def _wide_end(text: str, pos: int) -> int:
    """Where the run of two-column characters at `text[pos]` ends (`pos` if there is none)."""
    m = WIDE_RUN.match(text, pos)
    return pos if m is None else m.end()


GLYPH_CELLS = 1 << 16  # cells a screen's glyphs hold in all (about 300 bytes each)
RUN_CELLS = 1 << 16  # cells the glyphs' remembered runs hold in all (about 40 bytes each)


class Styles(dict[Cell, "Glyphs"]):
    """A screen's glyphs by style, with what they may still hold: a stream can send every
    character there is, in every style, and a cell once made is kept until the budget runs
    out (then all are forgotten at once: cheaper than keeping an order of use)."""

    def __init__(self) -> None:
        super().__init__()
        self.left = GLYPH_CELLS
        self.run_cells = RUN_CELLS  # what `Glyphs.runs` may still hold (engine/cellpath.py)

    def forget_runs(self) -> None:
        """Drop every style's remembered runs (when they would hold more than RUN_CELLS)."""
        for glyphs in self.values():
            glyphs.runs.clear()
        self.run_cells = RUN_CELLS

    def forget(self) -> None:
        """Drop every style's cells (the styles and their SGR shortcuts stay)."""
        for glyphs in self.values():
            glyphs.clear()
        self.left = GLYPH_CELLS


class Glyphs(dict[str, Cell]):
    """Cells of one style by character, made on first use (so `map(glyphs.__getitem__, text)`
    turns a run of text into cells at C speed)."""

    def __init__(self, attrs: Cell, styles: Styles) -> None:
        super().__init__()
        self.attrs = attrs
        self._rest = tuple(attrs)[1:]  # the fields after `data`
        self._styles = weakref.ref(styles)  # no cycle: the styles hold their glyphs
        # SGR parameter text -> the glyphs of the style it makes of this one (DECSCNM off):
        # a redraw repeats the same few SGRs over and over.
        self.after_sgr: dict[str, Glyphs] = {}
        # (column, text) -> the cells the text makes there, to merge into a row at C speed:
        # a redraw puts the same text at the same column over and over (engine/cellpath.py).
        self.runs: dict[tuple[int, str], dict[int, Cell]] = {}

    def __missing__(self, ch: str) -> Cell:
        styles = self._styles()
        if styles is not None:
            styles.left -= 1
            if styles.left < 0:
                styles.forget()
        cell = self[ch] = tuple.__new__(Cell, (ch, *self._rest))  # _replace, 6 times faster
        return cell


class Screen(pyte.Screen):
    """pyte's screen with alternate screen, scrollback and xterm fixes. See the module doc."""

    _deferred: Any = None  # lines the fast path took but has not drawn (engine/fastpath.py)
    fast_errors = 0  # exceptions the cell fast path caught (each one a bug worth a test)
    _settle_needed = False  # deferred lines, or text the parser held back, wait to be drawn
    bulk_draw = True  # draw runs of text a row at a time (False: per character, for tests)
    flush_held: Any = None  # the parser's: draw the text it held back
    cursor: Any  # pyte's Cursor; its `attrs` hold our `Cell` (pyte types them as its Char)

    def __init__(self, columns: int, lines: int, history: Scrollback | None = None) -> None:
        self._history = history if history is not None else Scrollback()
        self.responses: list[str] = []  # replies the child asked for (DA, DSR), to be written back
        self.cwd: str | None = None
        self.bells = 0  # BEL characters received (the UI rings and flags windows)
        self.cursor_style = 0
        self.keypad_application = False
        self.synchronized_since = 0.0  # when the program last began a synchronized update
        self.osc_events: list[tuple[str, str]] = []  # OSC codes we do not handle ourselves
        self.colors = dict(DEFAULT_COLORS)  # the pane's default colours, "#rrggbb" (OSC 10-12)
        self.dynamic_colors: dict[str, str] = {}  # what the program set (OSC 10-12) over those
        self.cell_pixels = CELL_PIXELS
        # Shell integration (OSC 133, engine/shell.py): the last mark (A prompt, B input,
        # C command, D done), where B left the cursor (y, x), B's options, D's exit status.
        self.prompt_mark: str | None = None
        self.prompt_input: tuple[int, int] | None = None
        self.prompt_options: dict[str, str] = {}
        self.prompt_key = ""  # the shell's D marks carry it (engine/shell.py); "" takes any D
        self.last_exit_code: int | None = None
        # Input typed into the terminal (`Terminal.typed`), counted: how many writes there had
        # been at the last C mark and at the last B, and the history's size at that B (output
        # that scrolled since leaves `prompt_input` pointing at another row).
        self.typed = 0
        self.typed_at_command = 0
        self.typed_at_prompt = 0
        self.prompt_history = 0
        self._command_open = False  # a C mark without its D yet
        self.commands = CommandTracker()  # each command's line, output and status (history.py)
        self._alternate = False
        self._main_buffer: Any = None
        self._alt_saved: Any = None
        self._main_size = (0, 0)  # (lines, columns) of the main screen under the alternate one
        self._last_char = ""
        # tmux's `hscrolled` (what a taller pane may pull back) as the history lines that are
        # not counted in it, less those evicted since `_evicted_seen` (the history's `dropped`)
        self._unscrolled = 0
        self._evicted_seen = 0
        self._cells = Styles()
        # The last style drawn (most often the next).
        self._last_glyphs = self._cells[DEFAULT_CELL] = Glyphs(DEFAULT_CELL, self._cells)
        super().__init__(columns, lines)
        self.buffer = self._new_buffer()  # pyte's row factory would hold the screen strongly

    # -- state ------------------------------------------------------------------------------

    def bell(self, *args: Any) -> None:
        self.bells += 1

    @property
    def buffer(self) -> Any:
        """The rows, with anything the fast path deferred drawn first."""
        if self._settle_needed:
            self.settle()
        return self._buffer

    @buffer.setter
    def buffer(self, value: Any) -> None:
        if self._settle_needed:
            self.settle()
        self._buffer = value

    @property
    def history(self) -> Scrollback:
        if self._settle_needed:
            self.settle()
        return self._history

    def settle(self) -> None:
        """Draw what the fast path deferred and what the parser held back, in that order."""
        self._settle_needed = False
        apply_deferred(self)
        if self.flush_held is not None:
            flush = self.flush_held()  # a weak reference: the parser holds the screen
            if flush is not None:
                flush()

    @property
    def default_char(self) -> Cell:  # type: ignore[override]
        """The blank cell (reversed under DECSCNM): shared, not built on every call."""
        return _REVERSE_BLANK if mo.DECSCNM in getattr(self, "mode", ()) else DEFAULT_CELL

    @property
    def alternate(self) -> bool:
        """True while a full-screen program has the alternate screen."""
        return self._alternate

    def _new_buffer(self) -> Any:
        # The rows' factory holds the screen weakly: no reference cycle, so a closed session's
        # screen is freed at once, not by a later (whole-heap) cycle collection.
        screen = weakref.ref(self)

        def blank_row() -> Any:
            me = screen()
            return StaticDefaultDict(me.default_char if me is not None else DEFAULT_CELL)

        return defaultdict(blank_row)

    def reset(self) -> None:
        """RIS: like tmux, the screen's lines go to the history before it is cleared."""
        self._leave_alternate(restore_cursor=False)
        if self.buffer:
            self._clear_into_history()
        self._alt_saved = None
        self.dynamic_colors = {}
        super().reset()
        self.cursor.attrs = self.default_char
        self.savepoints = []
        self.cursor_style = 0
        self.keypad_application = False
        self._last_char = ""

    def write_process_input(self, data: str) -> None:
        self.responses.append(data)

    # -- drawing ----------------------------------------------------------------------------

    def _cell(self, attrs: Cell, ch: str) -> Cell:
        return self.glyphs(attrs)[ch]

    def glyphs(self, attrs: Cell) -> Glyphs:
        """The shared cells of one style, by character (a screen holds few distinct cells)."""
        last = self._last_glyphs
        if last.attrs is attrs:
            return last
        by_char = self._cells.get(attrs)
        if by_char is None:
            if len(self._cells) > 4096:
                for old in self._cells.values():  # no old glyphs kept alive by each other
                    old.after_sgr.clear()
                    old.runs.clear()
                self._cells.clear()
                self._cells.left = GLYPH_CELLS
                self._cells.run_cells = RUN_CELLS
            by_char = self._cells[attrs] = Glyphs(attrs, self._cells)
        self._last_glyphs = by_char
        return by_char

    def draw(self, data: str) -> None:
        """Draw text at the cursor: wide characters wrap as a whole, zero-width characters
        join the previous cell, unprintable ones are skipped (pyte stops drawing there).

        Runs of narrow (and of wide) characters are stored a row at a time; the rest, and
        everything in insert mode, goes character by character (`_draw_chars`), which the
        runs equal (a differential test holds them to it)."""
        if self.charset or self.g0_charset is not pyte.charsets.LAT1_MAP:
            data = data.translate(self.g1_charset if self.charset else self.g0_charset)
        if not self.bulk_draw or mo.IRM in self.mode:
            self._draw_chars(data)
            return
        n = len(data)
        cursor = self.cursor
        x = cursor.x
        joins = self._zwj_seen  # a ZWJ was drawn once: a character may join its cell
        if x + n <= self.columns and _narrow_end(data, 0) == n and not (joins and data[0] > "~"):
            y = cursor.y
            # Deferred lines sit above the bottom row: drawing on it does not need them yet.
            line = (self.buffer if self._settle_needed and y != self.lines - 1 else self._buffer)[y]
            glyphs = self._last_glyphs
            if glyphs.attrs is not cursor.attrs:
                glyphs = self.glyphs(cursor.attrs)
            first = line.get(x)
            last = first if n == 1 else line.get(x + n - 1)
            if (first is not None and first.data == "") or (
                last is not None and last.data >= "\u1100"  # perhaps wide: look closer
            ):
                self._put_run(line, x, data, 1, glyphs)
            elif n == 1:
                line[x] = glyphs[data]
            else:
                store_narrow(line, x, data, glyphs, self.columns)
            cursor.x = x + n
            self.dirty.add(y)
            self._last_char = data[-1]
            return
        pos = 0
        while pos < n:
            if self._zwj_seen and data[pos] > "~" and self._after_joiner(self.buffer[cursor.y]):
                self._draw_chars(data[pos])  # it goes into the ZWJ's cell (tmux)
                pos += 1
                continue
            end = _narrow_end(data, pos)
            if end > pos:
                self._draw_run(data[pos:end], 1)
                pos = end
                continue
            end = _wide_end(data, pos)
            if end > pos and self.columns > 1:
                self._draw_run(data[pos:end], 2)
            else:
                end = pos + 1
                self._draw_chars(data[pos])
            pos = end

    def _draw_run(self, text: str, width: int) -> None:
        """Draw characters that all have this `width` (1 or 2; 2 needs two columns) a row at a
        time, as `_draw_chars` would: only the cells at a run's ends can touch a wide
        character drawn before (the cells between are overwritten by the run itself)."""
        cursor = self.cursor
        columns = self.columns
        autowrap = mo.DECAWM in self.mode
        dirty = self.dirty
        glyphs = self.glyphs(cursor.attrs)
        line = (self._buffer if cursor.y == self.lines - 1 else self.buffer)[cursor.y]
        pos, n = 0, len(text)
        while pos < n:
            x = cursor.x
            if x + width > columns:
                if not autowrap:  # each one lands at the margin: the last one stays there
                    self._put_run(line, columns - width, text[-1], width, glyphs)
                    cursor.x = columns
                    break
                dirty.add(cursor.y)
                line.wrapped = True  # the row continues on the next one
                line.gap = x < columns  # a wide character left the last cell
                cursor.x = x = 0
                if n - pos > columns // width and cursor.y == self._region()[1]:
                    self._scroll_in(text[pos:], width, glyphs)
                    break
                self.index()
                line = self.buffer[cursor.y]
            chunk = text[pos : pos + (columns - x) // width]
            self._put_run(line, x, chunk, width, glyphs)
            cursor.x = x + len(chunk) * width
            pos += len(chunk)
        dirty.add(cursor.y)
        self._last_char = text[-1]

    def _scroll_in(self, text: str, width: int, glyphs: Glyphs) -> None:
        """Draw `text` (of one `width`, two rows or more) on new rows scrolled in at the
        region's bottom, where the cursor is at column 0: one scroll for all of them, as
        that many `index` calls would leave the rows and the history. Rows that would leave
        the alternate screen at once are not drawn at all."""
        cursor = self.cursor
        columns = self.columns
        per_row = columns // width
        chunks = [text[i : i + per_row] for i in range(0, len(text), per_row)]
        top, bottom = self._region()
        buffer = self.buffer
        rows = list(map(buffer.__getitem__, range(top, bottom + 1)))
        count = len(chunks)
        if self._alternate:  # rows drawn and gone at once are not drawn
            del chunks[: max(count - len(rows), 0)]
        fill = None
        if cursor.attrs.bg != "default":  # back colour erase, as `_shift_up` fills new rows
            fill = dict.fromkeys(range(columns), self._blank())
        factory = buffer.default_factory
        new = []
        for chunk in chunks:
            line = factory()
            if fill is not None:
                line.update(fill)
            self._put_run(line, 0, chunk, width, glyphs)
            new.append(line)
        gap = per_row * width < columns  # a wide character left the last cell
        for line in new[:-1]:
            line.wrapped = True  # the row continues on the next one
            line.gap = gap
        rows += new
        if not self._alternate:  # tmux keeps lines leaving any region's top
            self.history.push_many(list(map(self._history_line, rows[:count])))
        buffer.update(zip(range(top, bottom + 1), rows[top - bottom - 1 :], strict=True))
        self.dirty.update(range(top, bottom + 1))
        cursor.x = len(chunks[-1]) * width

    def _put_run(self, line: Any, x: int, chunk: str, width: int, glyphs: Glyphs) -> None:
        """Store `chunk` (characters of one `width`) from column `x`; it fits the row."""
        end = x + len(chunk) * width
        first = line.get(x)
        if first is not None and first.data == "" and x > 0:  # the right half of a wide char
            left = line.get(x - 1)
            if left is not None and _width(left.data[:1] or " ") == 2:
                line[x - 1] = self._blank_like(left)
        if width == 1:
            last = line.get(end - 1) if end - 1 != x else first
            if (
                last is not None
                and last.data >= "\u1100"  # wide characters start there
                and end < self.columns
                and _width(last.data[0]) == 2
            ):
                right = line.get(end)
                if right is not None and right.data == "":
                    line[end] = self._blank_like(right)
            if end - x == 1:
                line[x] = glyphs[chunk]
            else:
                store_narrow(line, x, chunk, glyphs, self.columns)
            return
        right = line.get(end) if end < self.columns else None
        if right is not None and right.data == "":
            line[end] = self._blank_like(right)
        line.update(zip(range(x, end, 2), map(glyphs.__getitem__, chunk), strict=True))
        line.update(zip(range(x + 1, end, 2), repeat(glyphs[""])))
        if isinstance(line, FastRow):  # dict.update does not drop its cached history line
            line.hist = None

    def _draw_chars(self, data: str) -> None:
        """Draw character by character: the general path (insert mode, zero-width characters,
        wide ones in a one-column terminal)."""
        cursor = self.cursor
        columns = self.columns
        autowrap = mo.DECAWM in self.mode
        insert = mo.IRM in self.mode
        attrs = cursor.attrs
        dirty = self.dirty
        # Deferred lines sit above the bottom row: drawing on it does not need them yet.
        line = (self._buffer if cursor.y == self.lines - 1 else self.buffer)[cursor.y]
        for ch in data:
            width = _width(ch)
            if width <= 0 or (ch > "~" and self._zwj_seen and self._after_joiner(line)):
                if width >= 0:
                    self._combine(ch)
                continue
            if width > columns:  # a wide character cannot fit a one-column terminal
                continue
            if cursor.x + width > columns:
                if autowrap:
                    dirty.add(cursor.y)
                    line.wrapped = True  # the row continues on the next one
                    line.gap = cursor.x < columns  # a wide character left the last cell
                    cursor.x = 0
                    self.index()
                    line = self.buffer[cursor.y]
                else:
                    cursor.x = columns - width
            if insert:
                self.insert_characters(width)
            x = cursor.x
            old = line.get(x)
            if old is not None:
                # Overwriting half of a wide character blanks its other half (a stub whose
                # left cell is not wide, or a wide char without its stub, is left alone).
                if old.data == "":
                    left = line.get(x - 1) if x > 0 else None
                    if left is not None and _width(left.data[:1] or " ") == 2:
                        line[x - 1] = self._blank_like(left)
                elif width == 1 and x + 1 < columns and _width(old.data[:1] or " ") == 2:
                    right = line.get(x + 1)
                    if right is not None and right.data == "":
                        line[x + 1] = self._blank_like(right)
            line[x] = self._cell(attrs, ch)
            if width == 2:
                if x + 2 < columns:
                    nxt = line.get(x + 2)
                    if nxt is not None and nxt.data == "":
                        line[x + 2] = self._blank_like(nxt)
                line[x + 1] = self._cell(attrs, "")
            cursor.x = x + width
            self._last_char = ch
        dirty.add(cursor.y)

    @staticmethod
    def _blank_like(cell: Cell) -> Cell:
        return cell._replace(data=" ")

    _zwj_seen = False  # set by the first ZWJ drawn: until then there is nothing to join

    def _after_joiner(self, line: Any) -> bool:
        """Whether the cell left of the cursor ends with a ZWJ: tmux puts the next character
        that is not plain ASCII in the same cell (an emoji ZWJ sequence is one glyph)."""
        x = min(self.cursor.x, self.columns) - 1
        cell = line.get(x) if x >= 0 else None
        if cell is not None and cell.data == "" and x > 0:
            cell = line.get(x - 1)
        return cell is not None and cell.data[-1:] == ZWJ

    def _combine(self, ch: str) -> None:
        """Add a zero-width (or ZWJ-joined) character to the cell left of the cursor, as tmux
        does: the code points are kept as sent (no NFC), nothing joins at column 0 (not even
        the end of the row above), and a cell holds at most CELL_BYTES of UTF-8."""
        x, y = min(self.cursor.x, self.columns) - 1, self.cursor.y
        if x < 0:
            return
        line = self.buffer[y]
        if line[x].data == "" and x > 0:
            x -= 1
        last = line[x]
        data = last.data + ch
        if len(data.encode()) > CELL_BYTES:
            return
        line[x] = last._replace(data=data)
        self.dirty.add(y)
        if ch == ZWJ:
            self._zwj_seen = True

    def alignment_display(self) -> None:
        """DECALN (`ESC # 8`): the screen full of E in the default style, no margins, the
        cursor home (xterm and tmux; pyte keeps the margins, the cursor and the old colours)."""
        e = self._cell(self.default_char, "E")
        for y in range(self.lines):
            line = self.buffer[y]
            for x in range(self.columns):
                line[x] = e
        self.margins = None
        self.cursor.x = self.cursor.y = 0
        self.dirty.update(range(self.lines))

    def repeat_last(self, count: int | None = None) -> None:
        """REP (`CSI n b`): draw the character printed just before `n` more times, at most to
        the end of the row (it never wraps), as tmux does. Only a character printed right
        before counts: the parser forgets it at every other token, REP included (vttest's
        REP screen; ECMA-48 repeats only the immediately preceding character)."""
        if self._last_char:
            left = self.columns - self.cursor.x
            if left > 0:
                self.draw(self._last_char * min(count or 1, left))
            self._last_char = ""

    # -- scrolling and history ----------------------------------------------------------------

    def _region(self) -> tuple[int, int]:
        return self.margins or Margins(0, self.lines - 1)

    def _to_history(self, y: int) -> None:
        self.history.push(self._history_line(self.buffer.get(y)))

    def fast_cells(self, buf: str, i: int) -> int:
        """The parser's hook for the cell fast path (engine/cellpath.py)."""
        return draw_cells(self, _HOT_TOKENS, buf, i)

    def fast_lines(self, buf: str, i: int) -> int:
        """The parser's hook for the line fast path (engine/fastpath.py)."""
        return scroll_lines(self, buf, i)

    def _history_line(self, line: Any) -> HistoryLine:
        if not line:  # an empty row keeps its wrapped mark (it was erased after wrapping)
            return HistoryLine("", (), getattr(line, "wrapped", False))
        cached = cached_history_line(line)
        if cached is not None:
            return cached
        wrapped = getattr(line, "wrapped", False)
        keep = max(line) if wrapped else -1  # a wrapped row's blanks are part of its line
        columns = self.columns
        if (
            wrapped
            and getattr(line, "gap", False)
            and line.get(columns - 1, DEFAULT_CELL).data == " "
        ):
            columns -= 1  # not written: a wide character moved on (a background may fill it)
        chars: list[str] = []
        runs: list[list[Any]] = []
        default = DEFAULT_CELL[1:]
        last_key: Any = None
        end = 0  # characters up to the last one that is not a default blank
        column = 0  # the next column to take: cells never written are default blanks
        # Only the written cells, in order: a short line on a wide screen costs its length,
        # not the width (a scroll the fast path cannot take pushes one line per row).
        for x in sorted(line):
            if x >= columns:
                break
            if x > column:
                gap = x - column
                chars += [" "] * gap
                if last_key == default:
                    runs[-1][0] += gap
                else:
                    runs.append([gap, default])
                    last_key = default
            column = x + 1
            cell = line[x]
            ch, key = cell.data, cell[1:]
            if ch == "":
                continue
            chars.append(ch)
            if key == last_key:
                runs[-1][0] += 1
            else:
                runs.append([1, key])
                last_key = key
            if ch != " " or key != default or x <= keep:
                end = len(chars)
        text = "".join(chars[:end])
        out: list[tuple[int, Any]] = []
        left = end
        for count, key in runs:
            if left <= 0:
                break
            take = min(count, left)
            left -= take
            out.append((take, None if key == default else Cell("", *key)))
        if len(out) == 1 and out[0][1] is None:
            return HistoryLine(text, (), wrapped)
        return HistoryLine(text, tuple(out), wrapped)

    def _shift_up(self, top: int, bottom: int, count: int, keep: bool = False) -> None:
        """Move rows top..bottom up by `count`, blank rows entering at the bottom.

        The rows are objects moved by re-keying them (C loops, not one dict pop per row);
        every row of the region exists afterwards, empty ones included (an empty row keeps
        its wrapped mark as it moves)."""
        count = min(count, bottom - top + 1)
        buffer = self.buffer
        rows = list(map(buffer.__getitem__, range(top, bottom + 1)))
        if keep and not self._alternate:  # tmux keeps lines leaving any region's top
            self.history.push_many(list(map(self._history_line, rows[:count])))
        new = [buffer.default_factory() for _ in range(count)]
        buffer.update(zip(range(top, bottom + 1), rows[count:] + new, strict=True))
        if self.cursor.attrs.bg != "default":
            self._fill_background(new)
        self.dirty.update(range(top, bottom + 1))

    def _shift_down(self, top: int, bottom: int, count: int) -> None:
        """Move rows top..bottom down by `count`, blank rows entering at the top."""
        count = min(count, bottom - top + 1)
        buffer = self.buffer
        rows = list(map(buffer.__getitem__, range(top, bottom + 1 - count)))
        new = [buffer.default_factory() for _ in range(count)]
        buffer.update(zip(range(top, bottom + 1), new + rows, strict=True))
        if self.cursor.attrs.bg != "default":
            self._fill_background(new)
        self.dirty.update(range(top, bottom + 1))

    def _fill_background(self, rows: list[Any]) -> None:
        """New rows scrolled in take the current background colour (back colour erase)."""
        cells = _blank_span(self._blank(), 0, self.columns)
        for line in rows:
            line.update(cells)

    def linefeed(self) -> None:
        """LF ends a row for good: it no longer counts as wrapped (as in tmux)."""
        line = self.buffer.get(self.cursor.y)
        if line is not None and getattr(line, "wrapped", False):
            line.wrapped = False
        super().linefeed()

    def index(self) -> None:
        top, bottom = self._region()
        if self.cursor.y == bottom:
            self._shift_up(top, bottom, 1, keep=True)
        elif self.cursor.y < self.lines - 1:
            self.cursor.y += 1

    def reverse_index(self) -> None:
        top, bottom = self._region()
        if self.cursor.y == top:
            self._shift_down(top, bottom, 1)
        elif self.cursor.y > 0:
            self.cursor.y -= 1

    def scroll_up(self, count: int | None = None) -> None:
        """SU (`CSI n S`): scroll the region up; the lines leaving it go to the history (tmux)."""
        top, bottom = self._region()
        self._shift_up(top, bottom, count or 1, keep=True)

    def scroll_down(self, count: int | None = None) -> None:
        """SD (`CSI n T`): scroll the region down."""
        top, bottom = self._region()
        self._shift_down(top, bottom, count or 1)

    # IL/DL leave the cursor where it is (tmux, alacritty); pyte moves it to column 0.

    def insert_lines(self, count: int | None = None) -> None:
        top, bottom = self._region()
        if top <= self.cursor.y <= bottom:
            self._shift_down(self.cursor.y, bottom, count or 1)

    def delete_lines(self, count: int | None = None) -> None:
        top, bottom = self._region()
        if top <= self.cursor.y <= bottom:
            self._shift_up(self.cursor.y, bottom, count or 1)

    # Cursor movement ends a pending wrap (x == columns) by clamping x, as tmux does;
    # LF, RI and IND keep it.

    def cursor_up(self, count: int | None = None) -> None:
        top, _ = self._region()
        floor = top if self.cursor.y >= top else 0
        self.cursor.y = max(self.cursor.y - (count or 1), floor)
        self.cursor.x = min(self.cursor.x, self.columns - 1)

    def cursor_down(self, count: int | None = None) -> None:
        _, bottom = self._region()
        ceiling = bottom if self.cursor.y <= bottom else self.lines - 1
        self.cursor.y = min(self.cursor.y + (count or 1), ceiling)
        self.cursor.x = min(self.cursor.x, self.columns - 1)

    def cursor_back(self, count: int | None = None) -> None:
        self.cursor.x = max(0, min(self.cursor.x - (count or 1), self.columns - 1))

    def backspace(self) -> None:
        """BS; at column 0 it goes back to the end of the row above if that row wrapped (tmux)."""
        cursor = self.cursor
        if cursor.x == 0 and cursor.y > 0:
            above = self.buffer.get(cursor.y - 1)
            if above is not None and getattr(above, "wrapped", False):
                cursor.y -= 1
                cursor.x = self.columns - 1
            return
        self.cursor_back()

    def cursor_position(self, line: int | None = None, column: int | None = None) -> None:
        """CUP; in origin mode rows count from the top margin and stay inside the region."""
        y = (line or 1) - 1
        margins = self.margins
        if margins is not None and mo.DECOM in self.mode:
            y = min(y + margins.top, margins.bottom)
        x = (column or 1) - 1
        cursor = self.cursor
        cursor.x = 0 if x < 0 else x if x < self.columns else self.columns - 1
        cursor.y = 0 if y < 0 else y if y < self.lines else self.lines - 1

    def cursor_to_line(self, line: int | None = None) -> None:
        """VPA keeps the column, a pending wrap included (tmux moves only the row)."""
        self.cursor.y = (line or 1) - 1
        if mo.DECOM in self.mode and self.margins is not None:
            self.cursor.y += self.margins.top
        self.ensure_vbounds()

    def set_margins(self, top: int | None = None, bottom: int | None = None) -> None:
        """DECSTBM with xterm defaults: a missing top is 1, a missing bottom the last line."""
        t = max(0, min((top or 1) - 1, self.lines - 1))
        b = max(0, min((bottom or self.lines) - 1, self.lines - 1))
        if b <= t:
            return
        self.margins = None if (t, b) == (0, self.lines - 1) else Margins(t, b)
        self.cursor_position()

    # -- erasing (erased cells take only the background colour, as in xterm and tmux) ------------

    def _blank(self) -> Cell:
        attrs = self.cursor.attrs
        if attrs.bg == "default" and not attrs.reverse:
            return self.default_char
        return self.default_char._replace(bg=attrs.bg)

    def _erase(self, y: int, start: int, stop: int) -> None:
        line = self.buffer[y]
        blank = self._blank()
        if blank == self.default_char:  # default blanks are no cells at all
            if not line:  # nothing to erase (an editor's EL on a row it just cleared)
                self.dirty.add(y)
                return
            if stop >= self.columns and 2 * start < len(line):
                # To the row's end, most cells doomed (an editor's EL after a short line):
                # keep the few before `start` and refill, C loops instead of a delete per
                # cell. Rows hold no cells past the last column (draw and resize see to it).
                kept = {x: line[x] for x in range(start) if x in line}
                if len(kept) < len(line):
                    line.clear()
                    line.update(kept)
                    if isinstance(line, FastRow):  # neither call goes through its setters
                        line.hist = None
                doomed = []
            elif len(line) < stop - start:  # fewer cells than columns to erase: visit those
                doomed = [x for x in line if start <= x < stop]
            else:
                doomed = [x for x in range(start, stop) if x in line]
            for x in doomed:
                del line[x]
        elif start < stop:
            line.update(_blank_span(blank, start, stop))
            if isinstance(line, FastRow):  # dict.update does not drop its history line
                line.hist = None
        if start < stop:  # half a wide character erased: the other half goes too (tmux)
            self._fix_wide(line, start)
            if stop < self.columns:  # else the erased last column holds no half of one
                self._fix_wide(line, stop)
        self.dirty.add(y)

    # A cursor in the pending-wrap position (x == columns) erases nothing to its right (tmux).

    def erase_characters(self, count: int | None = None) -> None:
        x = self.cursor.x
        self._erase(self.cursor.y, x, min(x + (count or 1), self.columns))

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        x = self.cursor.x
        if how == 0:  # by far the commonest: no table of spans made for it
            self._erase(self.cursor.y, x, self.columns)
            return
        spans = {1: (0, min(x, self.columns - 1) + 1), 2: (0, self.columns)}
        start, stop = spans.get(how, (0, 0))
        self._erase(self.cursor.y, start, stop)

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how == 3:  # xterm: clear the scrollback
            self.history.clear()
            return
        whole = how == 2 or (how == 0 and self.cursor.x == 0 and self.cursor.y == 0)
        if whole and not self._alternate:
            self._clear_into_history()
        rows = {
            0: range(self.cursor.y + 1, self.lines),
            1: range(self.cursor.y),
            2: range(self.lines),
        }
        for y in rows.get(how, ()):
            self._erase(y, 0, self.columns)
        if how in (0, 1):
            self.erase_in_line(how)

    def _clear_into_history(self) -> None:
        """tmux's scroll-on-clear: a full clear keeps the screen's lines in the history."""
        filled = [y for y in range(self.lines) if self.buffer.get(y)]  # rows with written cells
        for y in range(filled[-1] + 1 if filled else 0):
            self._to_history(y)
        if filled:
            self._set_hscrolled(0)  # tmux: a taller pane pulls none of it back

    # -- modes ------------------------------------------------------------------------------

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and 2026 in modes:
            self.synchronized_since = time.monotonic()
        if kwargs.get("private"):
            for mode in modes:
                if mode in ALT_SCREEN_MODES:
                    self._enter_alternate(save_cursor=mode == 1049)
            modes = self._column_mode(modes)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            for mode in modes:
                if mode in ALT_SCREEN_MODES:
                    self._leave_alternate(restore_cursor=mode == 1049)
            modes = self._column_mode(modes)
        super().reset_mode(*modes, **kwargs)

    def _column_mode(self, modes: tuple[int, ...]) -> tuple[int, ...]:
        """DECCOLM (3), set or reset: no 132-column resize, just clear and home (as tmux);
        returns the other modes for pyte."""
        if 3 not in modes:
            return modes
        self.erase_in_display(2)
        self.cursor_position()
        return tuple(m for m in modes if m != 3)

    def _enter_alternate(self, save_cursor: bool) -> None:
        if self._alternate:
            return
        if save_cursor:
            self._alt_saved = (self.cursor.x, self.cursor.y, self.cursor.attrs)
        self._main_buffer = self.buffer
        self._main_size = (self.lines, self.columns)
        self.buffer = self._new_buffer()
        self._alternate = True
        self.dirty.update(range(self.lines))

    def _leave_alternate(self, restore_cursor: bool) -> None:
        if not self._alternate:
            return
        lines, columns = self.lines, self.columns
        if (lines, columns) != self._main_size:  # the main screen has the size it had (tmux):
            self.resize(*self._main_size)  # this one goes back to it first (a cursor it keeps)
        self.buffer = self._main_buffer
        self._main_buffer = None
        self._alternate = False
        if restore_cursor and self._alt_saved is not None:
            x, y, attrs = self._alt_saved
            self.cursor.x, self.cursor.y, self.cursor.attrs = x, y, attrs
        self._history.unwrap_newest()  # tmux no longer joins the screen to its history
        if (lines, columns) != self._main_size:  # then to the size there is now, reflowed
            self._resize_main(lines, columns)
        self.cursor.x = min(self.cursor.x, self.columns - 1)
        self.cursor.y = min(self.cursor.y, self.lines - 1)
        self.dirty.update(range(self.lines))

    def set_keypad_application(self, on: bool) -> None:
        self.keypad_application = on

    def set_cursor_style(self, style: int = 0) -> None:
        """DECSCUSR: 0 the terminal's default, 1/2 block, 3/4 underline, 5/6 bar (odd blinks).
        Other values are ignored, as xterm does."""
        if style in CURSOR_SHAPES:
            self.cursor_style = style

    def save_cursor(self) -> None:
        """DECSC: one saved slot (xterm), not pyte's stack."""
        super().save_cursor()
        del self.savepoints[:-1]

    def restore_cursor(self) -> None:
        """DECRC: back to the saved slot (restoring twice gives the same place) with its origin
        mode; unlike pyte, the cursor is not pulled into the scroll region, and autowrap
        stays as it is (xterm, tmux)."""
        if (
            not self.savepoints
        ):  # nothing saved: home, default attributes and charsets (xterm, tmux)
            self.mode.discard(mo.DECOM)
            self.cursor.x = self.cursor.y = 0
            self.cursor.attrs = self.default_char
            self.charset = 0
            self.g0_charset = pyte.charsets.LAT1_MAP
            self.g1_charset = pyte.charsets.VT100_MAP
            return
        point = self.savepoints[-1]
        self.g0_charset, self.g1_charset, self.charset = (
            point.g0_charset,
            point.g1_charset,
            point.charset,
        )
        if point.origin:
            self.mode.add(mo.DECOM)
        else:
            self.mode.discard(mo.DECOM)
        self.cursor = _copy_cursor(point.cursor)
        self.cursor.x = min(self.cursor.x, self.columns - 1)
        self.cursor.y = min(self.cursor.y, self.lines - 1)

    def soft_reset(self) -> None:
        """DECSTR (`CSI ! p`): modes, margins, attributes and saved cursor to defaults; the
        screen content stays (xterm)."""
        self.mode.difference_update({mo.IRM, mo.DECOM, DECCKM})
        self.mode.update({mo.DECAWM, mo.DECTCEM})
        self.cursor.hidden = False
        self.margins = None
        self.charset = 0
        self.g0_charset = pyte.charsets.LAT1_MAP
        self.g1_charset = pyte.charsets.VT100_MAP
        self.keypad_application = False
        self.cursor.attrs = self.default_char
        self.savepoints = []

    def set_tab_stop(self) -> None:
        if self.cursor.x < self.columns:  # not at the pending-wrap position
            self.tabstops.add(self.cursor.x)

    def insert_characters(self, count: int | None = None) -> None:
        """ICH: blanks at the cursor push the rest right; what passes the margin is gone."""
        x, y = self.cursor.x, self.cursor.y
        if x >= self.columns:
            return
        count = min(count or 1, self.columns - x)
        line = self.buffer[y]
        for i in range(self.columns - 1, x + count - 1, -1):
            src = line.get(i - count)
            if src is None:
                line.pop(i, None)
            else:
                line[i] = src
        self._erase(y, x, x + count)
        self._fix_wide(line, x)
        self._fix_wide(line, x + count)
        self._fix_wide(line, self.columns)

    def delete_characters(self, count: int | None = None) -> None:
        """DCH: characters at the cursor go, the rest moves left, blanks come in at the right."""
        x, y = self.cursor.x, self.cursor.y
        if x >= self.columns:
            return
        count = min(count or 1, self.columns - x)
        line = self.buffer[y]
        for i in range(x, self.columns - count):
            src = line.get(i + count)
            if src is None:
                line.pop(i, None)
            else:
                line[i] = src
        self._erase(y, self.columns - count, self.columns)
        self._fix_wide(line, x)

    def _fix_wide(self, line: Any, x: int) -> None:
        """Blank half a wide character left alone at the boundary before column `x`."""
        left = line.get(x - 1) if x > 0 else None
        right = line.get(x) if x < self.columns else None
        if (
            left is not None
            and left.data
            and _width(left.data[0]) == 2
            and (right is None or right.data != "")
        ):
            line[x - 1] = self._blank_like(left)
        if (
            right is not None
            and right.data == ""
            and (left is None or not left.data or _width(left.data[0]) != 2)
        ):
            line[x] = self._blank_like(right)

    def forward_tab(self, count: int | None = None) -> None:
        for _ in range(min(count or 1, self.columns)):
            self.tab()

    def back_tab(self, count: int | None = None) -> None:
        for _ in range(min(count or 1, self.columns)):
            stops = [s for s in self.tabstops if s < self.cursor.x]
            self.cursor.x = max(stops) if stops else 0

    def tab(self) -> None:
        if self.cursor.x >= self.columns:
            return
        super().tab()

    # -- attributes ---------------------------------------------------------------------------

    def select_graphic_rendition(self, *attrs: int) -> None:
        """SGR as xterm and tmux read it (engine.cells.apply_sgr)."""
        self.cursor.attrs = apply_sgr(self.cursor.attrs, attrs, self.default_char)

    def select_graphic_rendition_cached(self, params: str, apply: Any) -> None:
        """SGR from its parameter text (`"1;38;5;208"`): `apply(params)` (the parser's general
        SGR) runs once per style and text, then the style it made is remembered."""
        cursor = self.cursor
        glyphs = self._last_glyphs
        if glyphs.attrs is not cursor.attrs:
            glyphs = self.glyphs(cursor.attrs)
        after = glyphs.after_sgr.get(params)
        if after is not None and mo.DECSCNM not in self.mode:
            cursor.attrs = after.attrs
            self._last_glyphs = after
            return
        apply(params)
        if mo.DECSCNM not in self.mode:  # SGR 0 means another style then: not remembered
            if len(glyphs.after_sgr) >= 256:
                glyphs.after_sgr.clear()
            glyphs.after_sgr[params] = self.glyphs(cursor.attrs)

    # -- reports -------------------------------------------------------------------------------

    def report_device_attributes(self, mode: int = 0, **kwargs: bool) -> None:
        if mode == 0 and not kwargs.get("private"):
            self.write_process_input("\x1b[?1;2c")  # VT100 with advanced video, as tmux

    def report_terminal_version(self) -> None:
        self.write_process_input("\x1b[>0;10;1c")

    def report_device_status(self, mode: int = 0) -> None:
        if mode == 5:
            self.write_process_input("\x1b[0n")
        elif mode == 6:
            y, x = self._report_position()
            self.write_process_input(f"\x1b[{y};{x}R")

    def report_version(self) -> None:
        """XTVERSION (`CSI > q`): name and version, as tmux answers `tmux 3.3a`."""
        self.write_process_input(f"\x1bP>|ai-session {VERSION}\x1b\\")

    def report_window(self, op: int = 0) -> None:
        """XTWINOPS reports: 18 the text area in cells, 14 in pixels, 16 a cell in pixels
        (`cell_pixels`)."""
        width, height = self.cell_pixels
        if op == 18:
            self.write_process_input(f"\x1b[8;{self.lines};{self.columns}t")
        elif op == 14:
            self.write_process_input(f"\x1b[4;{self.lines * height};{self.columns * width}t")
        elif op == 16:
            self.write_process_input(f"\x1b[6;{height};{width}t")

    def report_mode(self, mode: int = 0, private: bool = False) -> None:
        """DECRQM (`CSI ? Ps $ p`, `CSI Ps $ p`): 1 set, 2 reset, 4 permanently reset (DECCOLM:
        there are no 132 columns), 0 not a mode we know. Like tmux, mode 0 gets no answer."""
        if not mode:
            return
        if not private:
            state = (1 if mode in self.mode else 2) if mode in (mo.IRM, mo.LNM) else 0
            self.write_process_input(f"\x1b[{mode};{state}$y")
            return
        if mode in REPORTED_MODES:
            state = 1 if mode << 5 in self.mode else 2
        elif mode in ALT_SCREEN_MODES:
            state = 1 if self._alternate else 2
        elif mode == 12:  # a blinking cursor: asked for with ?12h or DECSCUSR 1, 3, 5
            state = 1 if CURSOR_BLINK in self.mode or self.cursor_style in (1, 3, 5) else 2
        else:
            state = 4 if mode == 3 else 0
        self.write_process_input(f"\x1b[?{mode};{state}$y")

    def set_color(self, code: int, spec: str) -> None:
        """OSC 10/11/12 with a colour (`#rgb` .. `#rrrrggggbbbb`, `rgb:r/g/b`): the program's
        own default colours, answered to later queries until OSC 110/111/112 reset them (as
        xterm and tmux do). Unknown specs (X11 colour names) are ignored."""
        key = OSC_COLORS.get(code)
        value = parse_color(spec)
        if key is not None and value is not None:
            self.dynamic_colors[key] = value

    def reset_color(self, code: int) -> None:
        """OSC 110/111/112: back to the pane's own colour."""
        self.dynamic_colors.pop(OSC_COLORS.get(code - 100, ""), None)

    def report_color(self, code: int, end: str = "\x1b\\") -> None:
        """OSC 10/11/12 `?`: the default text, background or cursor colour (`colors`), with
        the terminator the program used (tmux). Programs pick a light or dark palette by it."""
        key = OSC_COLORS.get(code, "")
        value = parse_color(self.dynamic_colors.get(key) or self.colors.get(key, ""))
        if value is None:  # not a colour: no answer, as tmux when it does not know
            return
        r, g, b = (int(value[i : i + 2], 16) for i in (1, 3, 5))
        self.write_process_input(
            f"\x1b]{code};rgb:{r:02x}{r:02x}/{g:02x}{g:02x}/{b:02x}{b:02x}{end}"
        )

    def report_checksum(
        self,
        pid: int = 0,
        page: int = 0,
        top: int = 0,
        left: int = 0,
        bottom: int = 0,
        right: int = 0,
    ) -> None:
        """DECRQCRA (`CSI Pi ; Pg ; Pt ; Pl ; Pb ; Pr * y`): a rectangle's checksum as xterm
        computes it by default: minus the sum of each written cell's first code point plus
        its attribute bits (concealed 8, underline 16, reverse 32, blink 64, bold 128);
        blanks (cells never written count as blanks) count only as the first cell. esctest
        reads screens one cell at a time so."""
        offset = self.margins.top if mo.DECOM in self.mode and self.margins else 0
        t = min(max((top or 1) + offset, 1), self.lines) - 1
        b = min(max((bottom or self.lines) + offset, 1), self.lines) - 1
        lft = min(max(left or 1, 1), self.columns) - 1
        r = min(max(right or self.columns, 1), self.columns) - 1
        screen_reverse = mo.DECSCNM in self.mode
        total, first = 0, True
        for y in range(t, b + 1):
            line = self.buffer.get(y) or {}
            for x in range(lft, r + 1):
                cell = line.get(x, DEFAULT_CELL)  # never written or erased: a blank (xterm)
                if not cell.data:  # the right half of a wide character
                    continue
                ch = ord(cell.data[0])
                ch += 8 * cell.concealed + 16 * cell.underscore + 64 * cell.blink
                ch += 32 * (cell.reverse != screen_reverse) + 128 * cell.bold
                if first or ch != 32:
                    total += ch
                first = False
        self.write_process_input(f"\x1bP{pid}!~{-total & 0xFFFF:04X}\x1b\\")

    def report_private_device_status(self, mode: int = 0) -> None:
        if mode == 6:
            y, x = self._report_position()
            self.write_process_input(f"\x1b[?{y};{x}R")

    def _report_position(self) -> tuple[int, int]:
        y = self.cursor.y + 1
        if mo.DECOM in self.mode and self.margins is not None:
            y -= self.margins.top
        return y, min(self.cursor.x, self.columns - 1) + 1

    def set_cwd(self, uri: str) -> None:
        """OSC 7: `file://host/path` (or a bare path) becomes `cwd`."""
        from urllib.parse import unquote, urlparse

        try:
            path = urlparse(uri).path if uri.startswith("file:") else uri
        except ValueError:  # a host urlparse refuses (`file://[x/`): no directory to take
            return
        self.cwd = unquote(path) or None

    def osc(self, code: str, text: str) -> None:
        """Other OSC strings (52 clipboard, …) are kept for the host to read; 133 prompt marks
        are tracked instead (`prompt_mark`)."""
        if code == "133":
            self.mark_prompt(text)
            return
        if len(self.osc_events) < 256:
            self.osc_events.append((code, text))

    def forget_prompt(self) -> None:
        """A new program starts on this screen (a respawn): no mark of its shell seen yet, and
        no command of the old one still open (its C had no D: it was killed)."""
        self.prompt_mark = None
        self.prompt_input = None
        self.prompt_options = {}
        self._command_open = False
        self.commands.forget()

    def mark_prompt(self, text: str) -> None:
        """OSC 133 `A`, `B[;key=value...]`, `C`, `D[;status]`: what the shell is doing, and
        where typed input starts (the cursor at B); `A;k=s` (PS2) is kept as mark "S". Other
        letters are ignored, and so are prompts (A, B) while a command runs (C without D
        yet): a nested shell's, not ours. `B;k=s` ends a continuation prompt: the mark stays
        "S". Each accepted mark goes to `commands` (engine/history.py) too."""
        kind, *params = text.split(";")
        if kind not in ("A", "B", "C", "D") or (self._command_open and kind in "AB"):
            return
        if kind == "D" and self.prompt_key and f"aisk={self.prompt_key}" not in params:
            return  # not our shell's: a D in some output (a recorded session being shown)
        self._command_open = kind == "C"
        self.commands.mark(self, "S" if kind == "A" and "k=s" in params else kind, params)
        if kind == "B" and "k=s" in params:
            return  # where a continuation line's input starts: still the "S" state
        if kind == "A" and "k=s" in params:
            kind = "S"  # the continuation prompt: a command line is unfinished
        self.prompt_mark = kind
        self.prompt_input = (self.cursor.y, self.cursor.x) if kind == "B" else None
        if kind == "C":
            self.typed_at_command = self.typed
        if kind == "B":
            self.typed_at_prompt = self.typed
            self.prompt_history = self.history_total()
            self.prompt_options = dict(p.partition("=")[::2] for p in params if p)
        elif kind == "D" and params and params[0].isdigit() and params[0].isascii():
            self.last_exit_code = int(params[0][-10:])  # digits a shell never sends: no ValueError

    # -- size -------------------------------------------------------------------------------

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Resize like tmux: shrinking drops blank rows below the cursor first and scrolls the
        rest into the history; growing pulls history lines back down; a new width rewraps
        soft-wrapped lines (`_reflow`). The alternate screen is cut to size (its program
        redraws it); the main screen under it is resized when it comes back (tmux)."""
        lines = lines or self.lines
        columns = columns or self.columns
        if lines == self.lines and columns == self.columns:
            return
        self.settle()
        if self._alternate:
            if lines < self.lines:
                self._shrink(self.lines - lines)
            if columns < self.columns:
                for line in self.buffer.values():
                    for x in [x for x in line if x >= columns]:
                        del line[x]
                    last = line.get(columns - 1)
                    if last is not None and _width(last.data[:1] or " ") == 2:
                        line[columns - 1] = self._blank_like(last)  # its right half is gone
            self.lines = lines
            self._set_width(columns)
            self.cursor.x = min(self.cursor.x, columns - 1)
        else:
            self._resize_main(lines, columns)
        self.cursor.y = min(self.cursor.y, lines - 1)
        self.margins = None
        self.dirty.clear()
        self.dirty.update(range(lines))

    def _set_width(self, columns: int) -> None:
        old_columns = self.columns
        self.columns = columns
        self.tabstops = {s for s in self.tabstops if s < columns}
        self.tabstops |= {s for s in range(8, columns, 8) if s >= old_columns}

    def _resize_main(self, lines: int, columns: int) -> None:
        """The main screen (with its history) from its size to `lines` x `columns`."""
        if lines < self.lines:
            self._shrink(self.lines - lines)
        elif lines > self.lines:
            self._grow(lines - self.lines)
        self.lines = lines
        if columns != self.columns:
            saved = self.commands.before_reflow(self)
            self._reflow(columns)
            self.commands.after_reflow(self, saved)

    def _shrink(self, excess: int) -> None:
        """Fewer rows: the main screen keeps what leaves the top in its history; the alternate
        screen loses it. Both keep the row their cursor is on."""
        moved = self._shrink_buffer(self.buffer, self.cursor.y, excess, keep=not self._alternate)
        self.cursor.y = max(0, self.cursor.y - moved)
        if self.prompt_input is not None and not self._alternate:
            y, x = self.prompt_input
            self.prompt_input = (y - moved, x) if y >= moved else None

    def _shrink_buffer(self, buffer: Any, cursor_y: int, excess: int, keep: bool) -> int:
        """Drop blank rows below `cursor_y` first, then scroll the rest off the top; returns
        how many rows the content moved up."""
        rows = self.lines
        blank_below = 0
        for y in range(rows - 1, cursor_y, -1):
            if any(c.data != " " for c in buffer.get(y, {}).values()):
                break
            blank_below += 1
        scroll = max(0, excess - blank_below)
        if scroll:
            if keep:
                for y in range(scroll):
                    self.history.push(self._history_line(buffer.get(y)))
            for y in range(rows):
                src = buffer.pop(y + scroll, None) if y + scroll < rows else None
                if src is None:
                    buffer.pop(y, None)
                else:
                    buffer[y] = src
        for y in range(rows - excess, rows):
            buffer.pop(y, None)
        return scroll

    def history_total(self) -> int:
        """Lines ever pushed into the history (those since dropped count too): grows by one
        each time a row scrolls off the top."""
        history = self._history
        return len(history) + history.dropped

    def _hscrolled(self) -> int:
        """tmux's `hscrolled`: how many history lines a taller pane may pull back. Lines that
        scrolled off count (so the drawing paths need not); those the history holds from a
        narrowing or a clear do not, until evictions take as many."""
        history = self._history
        unscrolled = max(0, self._unscrolled - (history.dropped - self._evicted_seen))
        return len(history) - min(unscrolled, len(history))

    def _set_hscrolled(self, hscrolled: int) -> None:
        history = self._history
        self._unscrolled = len(history) - min(max(hscrolled, 0), len(history))
        self._evicted_seen = history.dropped

    def _grow(self, extra: int) -> None:
        """More rows: the main screen pulls back its newest history lines, as many as scrolled
        off (tmux's `hscrolled`: not those a narrowing or a clear put there)."""
        hscrolled = self._hscrolled()
        pull = 0 if self._alternate else min(extra, hscrolled)
        if not pull:
            return
        buffer = self.buffer
        for y in range(self.lines - 1, -1, -1):
            src = buffer.pop(y, None)
            if src is not None:
                buffer[y + pull] = src
        for y in range(pull - 1, -1, -1):
            buffer[y] = self._line_from_history(self.history.pop_newest())
        self._set_hscrolled(hscrolled - pull)
        self.cursor.y += pull
        if self.prompt_input is not None:
            self.prompt_input = (self.prompt_input[0] + pull, self.prompt_input[1])

    def _reflow(self, columns: int) -> None:
        """A new width: soft-wrapped lines are cut again, or joined where they now fit, in the
        history and on the screen (tmux's grid_reflow); lines ended by a newline are never
        joined. The cursor and the prompt's input position stay on their characters. As in
        tmux the screen shows the last rows, so narrowing scrolls rows into the history and
        widening pulls them back; blank rows below the cursor go first if it would leave."""
        history = self._history
        buffer = self._buffer
        cursor = self.cursor
        old_columns = self.columns
        hscrolled = self._hscrolled()
        start = hscrolled  # where the line holding history row `hscrolled` begins
        while start and history[start - 1].wrapped:
            start -= 1
        region = [history[i] for i in range(start, len(history))]
        region += [self._history_line(buffer.get(y)) for y in range(self.lines)]
        marks: list[tuple[int, int] | None] = [(cursor.y, cursor.x), self.prompt_input]
        head: list[HistoryLine] = []  # the history's last line may go on onto the screen
        while len(history) and history[-1].wrapped:
            head.append(history.pop_newest())
        head.reverse()
        rows: list[Any] = []  # the new rows, then where each mark went in them
        found: list[tuple[int, int] | None] = [None, None]
        chain: list[HistoryLine] = list(head)
        at: list[tuple[int, int]] = []  # (mark, column offset in the chain)
        offset = sum(line_width(h.text) for h in head)
        for y in range(self.lines):
            row = buffer.get(y)
            wrapped = bool(row) and getattr(row, "wrapped", False)
            # A mark past the cells written on its row goes to their end (tmux)
            written = max(row) + 1 if row and not wrapped else self.columns
            on_row = [
                (i, min(m[1], written)) for i, m in enumerate(marks) if m is not None and m[0] == y
            ]
            if not chain and not wrapped:
                width = self._used(row) if row else 0
                if max([width] + [x for _, x in on_row]) <= columns:  # fits as it is
                    if row:
                        for x in [x for x in row if x >= columns]:
                            del row[x]
                    for i, x in on_row:
                        found[i] = (len(rows), x)
                    rows.append(row)
                    continue
            hist = self._history_line(row) if row else HistoryLine("", (), False)
            if not wrapped:
                hist = trimmed(hist, max([0] + [x for _, x in on_row]))
            width = line_width(hist.text)
            if not wrapped:
                pad = max([width] + [x for _, x in on_row]) - width
                if pad:  # a mark after blanks written there (a prompt's last space)
                    runs = (*hist.runs, (pad, None)) if hist.runs else ()
                    hist = HistoryLine(hist.text + " " * pad, runs, False)
                    width += pad
            for i, x in on_row:
                at.append((i, offset + x if x < width else -1))
            chain.append(hist)
            offset += width
            if wrapped:
                continue
            new = rewrap(chain, columns)
            first = len(rows)
            rows += [self._line_from_history(h) for h in new]
            for i, off in at:
                found[i] = _place(new, off, first, columns)
            chain, at, offset = [], [], 0
        if chain:  # the last row wraps (the cursor went back up)
            new = rewrap(chain, columns)
            first = len(rows)
            rows += [self._line_from_history(h) for h in new]
            for i, off in at:
                found[i] = _place(new, off, first, columns)
        self._set_width(columns)
        excess = len(rows) - self.lines
        cursor_row = found[0][0] if found[0] else len(rows) - 1
        while (
            excess > cursor_row
            and len(rows) - 1 > cursor_row
            and not (rows[-1] and self._used(rows[-1]))
        ):
            rows.pop()
            excess -= 1
        if excess > 0:  # over the line cap until more output comes (tmux): widening restores
            history.push_many([self._history_line(row) for row in rows[:excess]], False)
            del rows[:excess]
        history.reflow(columns, old_columns)
        if excess < 0:
            pull = min(-excess, len(history))
            pulled = [self._line_from_history(history.pop_newest()) for _ in range(pull)]
            rows[:0] = reversed(pulled)
            excess = -pull
        buffer.clear()
        for y, row in enumerate(rows):
            if row:
                buffer[y] = row
        total = len(history) + self.lines
        self._set_hscrolled(hscrolled_after_reflow(region, start, hscrolled, columns, total))
        places = [None if f is None else (f[0] - excess, f[1]) for f in found]
        if places[0] is None or places[0][0] < 0:
            cursor.x = cursor.y = 0  # its line went into the history (tmux)
        else:
            cursor.y, cursor.x = places[0]
        if self.prompt_input is not None:
            place = places[1]
            self.prompt_input = place if place is not None and place[0] >= 0 else None

    def _used(self, row: Any) -> int:
        """Cells a row ending a line uses: up to its last cell that is not blank (`trimmed`)."""
        x: int
        for x in sorted(row, reverse=True):
            cell: Cell = row[x]
            if cell.data != " ":
                return x + (2 if _width(cell.data[:1] or " ") == 2 else 1)
        return 0

    def _line_from_history(self, hist: HistoryLine) -> Any:
        line: Any = StaticDefaultDict(self.default_char)
        if hist.wrapped:
            line.wrapped = True
        x = 0
        for data, attrs in history_cells(hist):
            base = attrs or DEFAULT_CELL
            line[x] = base._replace(data=data)
            x += 1
            if _width(data[0]) == 2:
                line[x] = base._replace(data="")
                x += 1
        return line


# (blank cell, start, stop) -> columns start..stop-1 of it: erasing under a background colour,
# and rows scrolled in under one, fill the same few spans over and over.
_BLANK_SPANS: dict[tuple[Cell, int, int], dict[int, Cell]] = {}


def _blank_span(blank: Cell, start: int, stop: int) -> dict[int, Cell]:
    """Columns `start` to `stop - 1` of `blank`, as a table to merge into a row at C speed."""
    span = _BLANK_SPANS.get((blank, start, stop))
    if span is None:
        if len(_BLANK_SPANS) >= 256:
            _BLANK_SPANS.clear()
        span = _BLANK_SPANS[blank, start, stop] = dict.fromkeys(range(start, stop), blank)
    return span


def parse_color(spec: str) -> str | None:
    """An X11 colour spec as xterm takes it, `#rgb`, `#rrggbb`, `#rrrgggbbb`, `#rrrrggggbbbb`
    or `rgb:r/g/b` (1-4 hex digits each), as "#rrggbb"; None for anything else."""
    spec = spec.strip().lower()
    if spec.startswith("#") and len(spec) in (4, 7, 10, 13):
        n = (len(spec) - 1) // 3
        parts = [spec[1 + i * n : 1 + (i + 1) * n] for i in range(3)]
        # `#` forms keep the high bits: #fff is f0f0f0, as X11 reads it.
        scaled = [int(part.ljust(4, "0"), 16) >> 8 for part in parts if _hex(part)]
    elif spec.startswith("rgb:"):
        parts = spec[4:].split("/")
        if len(parts) != 3 or not all(1 <= len(p) <= 4 and _hex(p) for p in parts):
            return None
        # `rgb:` forms scale: rgb:f/f/f is white.
        scaled = [int(p, 16) * 255 // (16 ** len(p) - 1) for p in parts]
    else:
        return None
    if len(scaled) != 3:
        return None
    return "#" + "".join(f"{v:02x}" for v in scaled)


def _hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def _place(rows: list[HistoryLine], offset: int, first: int, columns: int) -> tuple[int, int]:
    """(row, column) of the cell `offset` columns into a line rewrapped as `rows` (numbered
    from `first`); -1, or past the end, is the end of its last row (tmux)."""
    for n, hist in enumerate(rows):
        width = line_width(hist.text)
        if 0 <= offset < width:
            return first + n, offset
        offset -= width
    return first + len(rows) - 1, min(line_width(rows[-1].text), columns)


def split_cells(text: str) -> list[str]:
    """A history line's text cut into cells as `Screen.draw` made them: zero-width characters
    stay with the cell before, and so does a character that is not plain ASCII after a ZWJ."""
    cells: list[str] = []
    for ch in text:
        if cells and (_width(ch) <= 0 or (ch > "~" and cells[-1][-1] == ZWJ)):
            cells[-1] += ch
        else:
            cells.append(ch)
    return cells


def history_cells(hist: HistoryLine) -> list[tuple[str, Cell | None]]:
    """(cell text, attributes or None for default) for each cell of a history line."""
    cells = split_cells(hist.text)
    if not hist.runs:
        return [(data, None) for data in cells]
    out: list[tuple[str, Cell | None]] = []
    pos = 0
    for count, attrs in hist.runs:
        out += [(data, attrs) for data in cells[pos : pos + count]]
        pos += count
    return out


def _copy_cursor(cursor: Any) -> Any:
    clone = pyte.screens.Cursor(cursor.x, cursor.y, cursor.attrs)
    clone.hidden = cursor.hidden
    return clone


MAX_SIZE = 10_000  # columns or lines; a PTY's window size is 16 bits, and memory is finite


def _check_size(columns: int, lines: int) -> None:
    if columns < 1 or lines < 1:
        raise ValueError(f"terminal size {columns}x{lines} is invalid: both must be >= 1")
    if columns > MAX_SIZE or lines > MAX_SIZE:
        raise ValueError(f"terminal size {columns}x{lines} is too large ({MAX_SIZE} at most)")


# DECSCUSR's values and the shape each asks for (0 is the terminal's default, a block in xterm).
CURSOR_SHAPES = dict(enumerate(["block"] * 3 + ["underline"] * 2 + ["bar"] * 2))


@dataclass(frozen=True)
class CursorState:
    """Where the cursor is, whether the program wants it shown, and its DECSCUSR `style`."""

    x: int
    y: int
    hidden: bool
    style: int

    @property
    def shape(self) -> str:
        """`block`, `underline` or `bar`: what the program asked for (vim's insert mode: bar)."""
        return CURSOR_SHAPES.get(self.style, "block")


class Terminal:
    """A terminal: feed it the bytes a program writes, read back what a person would see.

    `capture()` follows `tmux capture-pane -p [-e] [-S start] [-E end]`: row 0 is the first
    visible row, negative rows are history (-1 the newest), each row's trailing blanks trimmed.
    """

    def __init__(
        self,
        columns: int = 80,
        lines: int = 24,
        scrollback: int = 10_000,
        scrollback_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        _check_size(columns, lines)
        self._scrollback = Scrollback(scrollback, scrollback_bytes)
        self.screen = Screen(columns, lines, self._scrollback)
        self.parser = Parser(self.screen)
        self.screen.flush_held = weakref.WeakMethod(self.parser.flush)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    # -- persistence (engine/termstate.py) -----------------------------------------------------

    def image(self) -> TerminalImage:
        """The whole state, the scrollback's sealed blocks shared as they are (no recompression)."""
        return _image(self)

    @classmethod
    def from_image(cls, image: TerminalImage) -> Terminal:
        """A terminal in the state `image` holds (TerminalFormatError if it is not one)."""
        return _from_image(cls, image)

    def dump(self) -> bytes:
        """The whole state as one bytes string (`load` reads it back)."""
        return _dump(self)

    @classmethod
    def load(cls, data: bytes) -> Terminal:
        """A terminal from `dump`'s bytes (TerminalFormatError if they are not such)."""
        return _load(cls, data)

    # -- input --------------------------------------------------------------------------------

    def feed(self, data: bytes | str) -> None:
        """Feed output from the program; a UTF-8 character split across calls is kept whole."""
        if isinstance(data, bytes | bytearray | memoryview):
            data = self._decoder.decode(bytes(data))
        if data:
            self.parser.feed(data)
            if self.screen.commands.waiting:  # sh: has the typed line's Enter come?
                self.screen.commands.check_enter(self.screen)

    def take_responses(self) -> bytes:
        """Replies the program asked for (device attributes, cursor position), to write back."""
        if not self.screen.responses:
            return b""
        out = "".join(self.screen.responses).encode()
        self.screen.responses.clear()
        return out

    def take_dirty(self) -> set[int]:
        """Rows changed since the last call."""
        self.settle()
        rows = set(self.screen.dirty)
        self.screen.dirty.clear()
        return rows

    def resize(self, columns: int, lines: int) -> None:
        """Change the size, as a terminal window does (ValueError if out of range)."""
        _check_size(columns, lines)
        screen = self.screen
        self.settle()
        at_input = screen.prompt_input == (screen.cursor.y, screen.cursor.x)
        screen.resize(lines=lines, columns=columns)
        if screen.prompt_input is not None:  # an empty prompt stays one (sh does not redraw)
            screen.prompt_input = (screen.cursor.y, screen.cursor.x) if at_input else None
            screen.prompt_history = screen.history_total()

    def settle(self) -> None:
        """Bring the screen up to date with everything fed (a flood defers some drawing until
        someone looks; every reader here calls this)."""
        if self.screen._settle_needed:
            self.screen.settle()

    @property
    def scrollback(self) -> Scrollback:
        """The history: lines scrolled off the top, oldest first."""
        self.settle()
        return self._scrollback

    # -- state ----------------------------------------------------------------------------------

    @property
    def columns(self) -> int:
        """Width in character cells."""
        return self.screen.columns

    @property
    def bells(self) -> int:
        """How many bells (BEL) the program has rung. Read without settling: the UI asks on
        every output, and what waits to be drawn (plain lines, held text) holds no BEL."""
        return self.screen.bells

    @property
    def lines(self) -> int:
        """Height in rows."""
        return self.screen.lines

    @property
    def dirty(self) -> set[int]:
        """Rows changed since `take_dirty()` was last called (a live view, do not keep)."""
        return self.screen.dirty

    @property
    def display(self) -> list[str]:
        """Visible rows as strings, each `columns` cells wide (like pyte)."""
        return [self._row_text(y, trim=False) for y in range(self.lines)]

    @property
    def cursor(self) -> CursorState:
        """Where the cursor is and how it looks."""
        self.settle()
        c = self.screen.cursor
        return CursorState(min(c.x, self.columns - 1), c.y, c.hidden, self.screen.cursor_style)

    @property
    def title(self) -> str:
        """The title the program set (OSC 0/2), "" if none."""
        return self.screen.title

    @property
    def colors(self) -> dict[str, str]:
        """The pane's default colours as "#rrggbb": "foreground", "background" and "cursor",
        what OSC 10/11/12 queries are answered with. The UI sets them from its theme."""
        return self.screen.colors

    @colors.setter
    def colors(self, value: dict[str, str]) -> None:
        self.screen.colors = {**DEFAULT_COLORS, **value}

    @property
    def cwd(self) -> str | None:
        """The directory the shell reported (OSC 7), None if it never did."""
        return self.screen.cwd

    @property
    def prompt_mark(self) -> str | None:
        """The shell's last OSC 133 mark: "A" prompt drawn, "B" waiting for input, "C" a
        command runs, "D" it ended; None until a shell with integration marks its prompt."""
        return self.screen.prompt_mark

    @property
    def prompt_input(self) -> tuple[int, int] | None:
        """(row, column) where the prompt ended (mark B) while the shell waits for input."""
        return self.screen.prompt_input

    def note_typed(self) -> None:
        """Input was written to the program (keys, pastes: not the terminal's own replies)."""
        self.screen.typed += 1

    @property
    def typed_since_prompt(self) -> bool:
        """Input was written after the last B mark was read."""
        return self.screen.typed != self.screen.typed_at_prompt

    @property
    def typed_since_command(self) -> bool:
        """Input was written after the last C mark was read (since the start, if none was)."""
        return self.screen.typed != self.screen.typed_at_command

    @property
    def prompt_scrolled(self) -> bool:
        """Rows scrolled off the top since the last B mark: `prompt_input` names another row."""
        return self.screen.history_total() != self.screen.prompt_history

    @property
    def prompt_options(self) -> dict[str, str]:
        """The `key=value` options of the last B mark (`ais`: the pid of the shell)."""
        return self.screen.prompt_options

    @property
    def last_exit_code(self) -> int | None:
        """The exit status the last D mark reported."""
        return self.screen.last_exit_code

    @property
    def alternate_screen(self) -> bool:
        """A full-screen program (vim, less) is on the alternate screen."""
        return self.screen.alternate

    @property
    def cursor_keys_application(self) -> bool:
        """DECCKM: arrows send `ESC O A` instead of `ESC [ A`."""
        return DECCKM in self.screen.mode

    @property
    def keypad_application(self) -> bool:
        """DECKPAM: the keypad sends application sequences."""
        return self.screen.keypad_application

    @property
    def bracketed_paste(self) -> bool:
        """Mode 2004: pasted text is to be wrapped in ESC [200~ ... ESC [201~."""
        return BRACKETED_PASTE in self.screen.mode

    @property
    def synchronized_output(self) -> bool:
        """Mode 2026: the program asks the host to hold paints until it is done."""
        return SYNC_OUTPUT in self.screen.mode

    @property
    def synchronized_since(self) -> float:
        """`time.monotonic()` when the current synchronized update began (mode 2026)."""
        return self.screen.synchronized_since

    @property
    def focus_events(self) -> bool:
        """Mode 1004: the program wants ESC [I / ESC [O when the pane gains or loses focus."""
        return FOCUS_EVENTS in self.screen.mode

    @property
    def mouse_tracking(self) -> str | None:
        """None, or "x10", "normal", "button" or "any" (which mouse events to report)."""
        mode = self.screen.mode
        for flag, name in (
            (MOUSE_ANY, "any"),
            (MOUSE_BUTTON, "button"),
            (MOUSE_NORMAL, "normal"),
            (MOUSE_X10, "x10"),
        ):
            if flag in mode:
                return name
        return None

    @property
    def mouse_encoding(self) -> str:
        """ "sgr", "urxvt", "utf8" or "default" (X10 bytes)."""
        mode = self.screen.mode
        for flag, name in ((MOUSE_SGR, "sgr"), (MOUSE_URXVT, "urxvt"), (MOUSE_UTF8, "utf8")):
            if flag in mode:
                return name
        return "default"

    def cell(self, x: int, y: int) -> Cell:
        """The cell at column `x` of visible row `y` (a blank one where nothing was drawn)."""
        cell: Cell = self.screen.buffer[y][x]
        return cell

    # -- capture ----------------------------------------------------------------------------------

    def capture(
        self,
        ansi: bool = False,
        start: int | str | None = None,
        end: int | str | None = None,
        join_wrapped: bool = False,
    ) -> str:
        """Rows `start`..`end` (inclusive) as text, like `tmux capture-pane -p`.

        `start`/`end` default to the visible screen; `"-"` means the oldest history line
        (start) or the last visible row (end); out-of-range values are clamped.
        `join_wrapped` (tmux's -J) joins a row the output wrapped with the next one, so a long
        line comes back whole, spaces at the wrap point included; the end of each line is
        trimmed (tmux keeps spaces a program wrote there; this history does not keep them).
        """
        history = len(self.scrollback)
        first = -history if start == "-" else (0 if start is None else int(start))
        last = self.lines - 1 if end in (None, "-") else int(end)
        first = max(-history, min(first, self.lines - 1))
        last = max(-history, min(last, self.lines - 1))
        if last < first:
            first, last = last, first
        row = self._row_ansi if ansi else self._row_text
        if not join_wrapped:
            return "\n".join(row(y) for y in range(first, last + 1))
        out: list[str] = []
        for y in range(first, last + 1):
            if self.row_wrapped(y):
                out.append(self._wrapped_row(y, ansi))
            else:
                out.append(row(y))
                if y != last:
                    out.append("\n")
        return "".join(out)

    def _wrapped_row(self, y: int, ansi: bool) -> str:
        """A wrapped row up to its last used cell, blanks kept: the text goes on in the next
        row. History keeps rows trimmed, so those are padded back to the width."""
        if y < 0:
            hist = self.scrollback[len(self.scrollback) + y]
            text = self._row_ansi(y) if ansi else hist.text  # its blanks are part of the line
            width = sum(2 if _width(data[0]) == 2 else 1 for data, _ in history_cells(hist))
            return text + " " * max(self.columns - width, 0)
        line = self.screen.buffer.get(y) or {}
        used = min(max(line, default=-1) + 1, self.columns)
        if ansi:
            return self._row_ansi(y, keep=used)
        return "".join(" " if (c := line.get(x)) is None else c.data for x in range(used))

    @property
    def history_size(self) -> int:
        """Lines in the scrollback now (row -history_size is the oldest)."""
        return len(self.scrollback)

    def row_text(self, y: int) -> str:
        """Row `y` as text, trailing blanks trimmed (0 = first visible row, negative = history)."""
        return self._row_text(y)

    def row_wrapped(self, y: int) -> bool:
        """Whether row `y` continues on row `y + 1` (it was wrapped, not ended by a newline)."""
        if y < 0:
            return self.scrollback[len(self.scrollback) + y].wrapped
        return bool(getattr(self.screen.buffer.get(y), "wrapped", False))

    def row_cells(self, y: int) -> list[tuple[str, Cell]]:
        """Row `y` as (text, attributes) per character cell, wide characters once."""
        if y < 0:
            hist = self.scrollback[len(self.scrollback) + y]
            return [(data, attrs or DEFAULT_CELL) for data, attrs in history_cells(hist)]
        line = self.screen.buffer.get(y) or {}
        cells = (line.get(x, DEFAULT_CELL) for x in range(self.columns))
        return [(c.data, c) for c in cells if c.data]

    def _row_text(self, y: int, trim: bool = True) -> str:
        if y < 0:
            text = self.scrollback[len(self.scrollback) + y].text
            return text.rstrip(" ") if trim else text.ljust(self.columns)
        line = self.screen.buffer.get(y)
        if not line:
            return "" if trim else " " * self.columns
        out = []
        for x in range(self.columns):
            cell = line.get(x)
            if cell is None:
                out.append(" ")
            elif cell.data:
                out.append(cell.data)
        text = "".join(out)
        return text.rstrip(" ") if trim else text

    def _row_ansi(self, y: int, keep: int = 0) -> str:
        """Row `y` with SGR sequences; blank cells at the end are dropped, except the first
        `keep` cells of a screen row."""
        pieces: list[tuple[str, Cell | None]]
        if y < 0:
            pieces = history_cells(self.scrollback[len(self.scrollback) + y])
        else:
            line = self.screen.buffer.get(y) or {}
            cells = [line.get(x, DEFAULT_CELL) for x in range(self.columns)]
            while len(cells) > keep and cells[-1] == DEFAULT_CELL:
                cells.pop()
            pieces = [(c.data, c) for c in cells if c.data]
        out: list[str] = []
        current: tuple[Any, ...] = DEFAULT_CELL[1:]
        for text, attrs in pieces:
            key = attrs[1:] if attrs is not None else DEFAULT_CELL[1:]
            if key != current:
                out.append(sgr(Cell("", *key)))
                current = key
            out.append(text)
        if current != DEFAULT_CELL[1:]:
            out.append("\x1b[0m")
        return "".join(out)


def _color_sgr(color: str, base: int) -> str:
    """SGR parameters for a colour: `base` 30 text, 40 background, 50 underline (which has no
    16-colour form: `58;5;n`, as tmux writes it)."""
    if color == "default":
        return ""
    if color in PALETTE_NAMES:
        index = PALETTE_NAMES.index(color)
        if base == 50:
            return f"58;5;{index}"
        return str(base + index) if index < 8 else str(base + 60 + index - 8)
    try:
        r, gr, b = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return ""
    return f"{base + 8};2;{r};{gr};{b}"


def sgr(cell: Cell) -> str:
    """The SGR sequence that selects `cell`'s attributes from a reset state (underline
    styles as `4:n` and underline colours as `58;…`, as `tmux capture-pane -e` writes them)."""
    codes = ["0"]
    for flag, code in (
        ("bold", "1"),
        ("dim", "2"),
        ("italics", "3"),
        ("underscore", "4" if cell.underline_style == 1 else f"4:{cell.underline_style}"),
        ("blink", "5"),
        ("reverse", "7"),
        ("concealed", "8"),
        ("strikethrough", "9"),
        ("overline", "53"),
    ):
        if getattr(cell, flag):
            codes.append(code)
    for color, base in ((cell.fg, 30), (cell.bg, 40), (cell.underline_color, 50)):
        code = _color_sgr(color, base)
        if code:
            codes.append(code)
    return "\x1b[" + ";".join(codes) + "m"
