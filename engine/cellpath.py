"""The cell fast path: the tokens a full-screen redraw is made of, applied in one loop.

vim, htop, btop and the Ink or Textual UIs of agent CLIs repaint with cursor positions, SGR
colours and short runs of text, tens of thousands of each per screen. Through the parser's
token loop each one is a method call with its own attribute lookups; here the cursor, the
style and the row live in local variables while a run of such tokens lasts, and any other
token ends the run (the parser goes on with it, then comes back). The screen ends as the
general path leaves it: a differential test holds the two equal.
"""

from __future__ import annotations

import logging
import re
from itertools import repeat
from typing import Any

from pyte import charsets
from pyte import modes as mo

from engine.fastpath import FastRow

log = logging.getLogger(__name__)

# Modes under which a token here would mean something else: insert (text pushes cells
# right), origin (rows count from the margin), reverse screen (SGR 0 restores reverse).
_OTHER_MEANING = frozenset({mo.IRM, mo.DECOM, mo.DECSCNM})


def hot_tokens(narrow_run: str) -> re.Pattern[str]:
    """The tokens taken here, by group: text matching `narrow_run` (a pattern for a run of
    one-column printable characters) (1); SGRs with plain parameters, one or more in a row
    (2: their parameters joined by `m ESC [`), and the text after them (3); CUP/HVP with at
    most two parameters of at most four digits (4) and the text after it (5); EL to the end
    of the row (6); ECH (7); `ESC ( B` (8); CR (9); LF (10); synchronized output's
    start and end, `CSI ? 2026 h` and `l` (11: the final).
    A sequence and its text are one match, and `ESC ( B` before a CSI is taken with it: a vim
    or TUI redraw is mostly such runs (`ESC ( B ESC [ m ESC [ 30 m ESC [ 101 m text`). The
    SGR alternative comes first and takes its digits possessively: a CUP fails it without
    backtracking."""
    # ASCII first, and a control character fails before the long class is scanned for it:
    # 2-3 times faster matching, the same runs.
    run = f"(?:[ -~]++|(?![\\x00-\\x1f\\x7f])(?:{narrow_run}))++"
    text = f"({run})?+"
    return re.compile(
        f"({run})"
        r"|\x1b(?:(?:\(B\x1b)?+\[(?:((?:[0-9;:]*+m\x1b\[)*[0-9;:]*+)m"
        + text
        + r"|([0-9]{0,4}(?:;[0-9]{0,4})?+)[Hf]"
        + text
        + r"|(0?)K|([0-9]{0,4})X)|(\(B))"
        r"|(\r)|(\n)|\x1b\[\?2026([hl])"
    )


def draw_cells(screen: Any, tokens: re.Pattern[str], buf: str, i: int) -> int:
    """Apply the tokens of `buf[i:]` that `tokens` (see `hot_tokens`) matches, as long as each
    means here what it means to the general path; returns where the first other one starts.

    Text is stored only where it fits the row (as Screen.draw stores such a run), SGR
    only when the screen already knows what it makes of the style (`Glyphs.after_sgr`), LF
    only when it does not scroll; EL and ECH call the screen's own methods. Anything else
    ends the run, and the parser's general handlers take it from there.
    """
    if (
        screen._settle_needed
        or screen.charset
        or screen.g0_charset is not charsets.LAT1_MAP
        or not screen.bulk_draw
        or not _OTHER_MEANING.isdisjoint(screen.mode)
    ):
        return i
    cursor = screen.cursor
    x, y = cursor.x, cursor.y
    glyphs = screen._last_glyphs
    if glyphs.attrs is not cursor.attrs:
        glyphs = screen.glyphs(cursor.attrs)
    rows = screen._buffer
    columns, lines = screen.columns, screen.lines
    last_line = lines - 1
    # LF scrolls at the region's bottom (the general path does that); with LNM it is CR LF.
    bottom = -1 if mo.LNM in screen.mode else (screen.margins or (0, last_line))[1]
    zwj = screen._zwj_seen  # only draw() sets it, and text that could join goes there
    mark_dirty = screen.dirty.add
    cups = _CUPS.get((lines, columns))
    if cups is None:
        if len(_CUPS) >= 8:
            _CUPS.clear()
        cups = _CUPS[lines, columns] = {}
    put_run = screen._put_run
    line: Any = None  # row y, fetched when text is drawn (a cursor move alone makes no row)
    drawn = ""  # the last text drawn (REP repeats its last character)
    pos = i
    try:
        scan = tokens.scanner(buf, i)  # type: ignore[attr-defined]  # see Parser._tokens
        for m in iter(scan.match, None):
            k = m.lastindex
            if k == 5:  # the commonest: a move and the text there
                where, text = m.group(4, 5)
                yx = cups.get(where)
                if yx is None:
                    yx = _cursor_position(cups, where, lines, columns)
                y, x = yx
                line = None
            elif k == 1:
                text = m.group(1)
            elif k <= 3:
                params = m.group(2)
                after = glyphs.after_sgr.get(params)
                if after is None:
                    after = _after_sgrs(glyphs, params)
                    if after is None:
                        break
                glyphs = after
                if k == 2:
                    pos = m.end()
                    continue
                text = m.group(3)
            elif k == 4:
                where = m.group(4)
                yx = cups.get(where)
                if yx is None:
                    yx = _cursor_position(cups, where, lines, columns)
                y, x = yx
                line = None
                pos = m.end()
                continue
            elif k == 9:
                x = 0
                pos = m.end()
                continue
            elif k == 10:  # as Screen.linefeed, where it does not scroll
                if y == bottom or bottom < 0:
                    break
                row = rows.get(y)
                if row is not None and getattr(row, "wrapped", False):
                    row.wrapped = False
                if y < last_line:
                    y += 1
                    line = None
                pos = m.end()
                continue
            elif k <= 7:  # EL, ECH: the screen's own methods, on the state so far
                cursor.x, cursor.y = x, y
                cursor.attrs = glyphs.attrs
                if k == 6:
                    screen.erase_in_line()
                else:
                    count = m.group(7)
                    screen.erase_characters(int(count) if count else None)
                pos = m.end()
                continue
            else:  # k == 8: `ESC ( B` chooses the ASCII set for G0, which it already is
                if k == 11:  # as the parser's `_csi`; the mode changes nothing here
                    cursor.x, cursor.y = x, y
                    cursor.attrs = glyphs.attrs
                    if m.group(11) == "h":
                        screen.set_mode(2026, private=True)
                    else:
                        screen.reset_mode(2026, private=True)
                pos = m.end()
                continue
            n = len(text)
            end = m.end()
            pos = end - n  # where the text starts: the general path draws it if not here
            if x + n > columns:  # it wraps (or x is at the pending-wrap position)
                break
            if zwj and text[0] > "~":  # it may join a ZWJ cell: draw() sees
                break
            if line is None:
                line = rows[y]
            first = line.get(x)
            last = first if n == 1 else line.get(x + n - 1)
            if (first is not None and first.data == "") or (
                last is not None and last.data >= "\u1100"  # perhaps a wide character
            ):
                put_run(line, x, text, 1, glyphs)  # as Screen.draw: it looks closer
            elif n == 1:
                line[x] = glyphs[text]
            else:
                store_narrow(line, x, text, glyphs, columns)
            x += n
            mark_dirty(y)
            drawn = text
            pos = end
    except Exception:  # a bug here must not take the terminal down: the parser goes on
        screen.fast_errors += 1  # counted like the parser's `errors` (the fuzz tests read both)
        log.debug("cell fast path failed", exc_info=True)  # not the output: it may be secret
    finally:
        cursor.x, cursor.y = x, y
        cursor.attrs = glyphs.attrs
        screen._last_glyphs = glyphs
        if drawn:
            screen._last_char = drawn[-1]
    return pos


# (lines, columns) -> CUP parameter text -> (y, x) it moves the cursor to on such a screen
_CUPS: dict[tuple[int, int], dict[str, tuple[int, int]]] = {}


def _cursor_position(
    cups: dict[str, tuple[int, int]], where: str, lines: int, columns: int
) -> tuple[int, int]:
    """Where `CSI where H` puts the cursor: as Screen.cursor_position outside origin mode;
    remembered in `cups` (a redraw moves to the same few hundred places over and over)."""
    row, _, column = where.partition(";")
    y = int(row) - 1 if row else 0
    x = int(column) - 1 if column else 0
    yx = (min(max(y, 0), lines - 1), min(max(x, 0), columns - 1))
    if len(cups) >= 16384:  # every place on a 200x80 screen
        cups.clear()
    cups[where] = yx
    return yx


def _after_sgrs(glyphs: Any, params: str) -> Any:
    """The glyphs SGRs in a row (`params` joined by `m ESC [`) leave, if the screen knows what
    each makes of the style before it; remembered under the joined text (no SGR's own)."""
    if "\x1b" not in params:
        return None
    after = glyphs
    for one in params.split("m\x1b["):
        after = after.after_sgr.get(one)
        if after is None:
            return None
    if len(glyphs.after_sgr) >= 256:  # as Screen.select_graphic_rendition_cached
        glyphs.after_sgr.clear()
    glyphs.after_sgr[params] = after
    return after


_FILLS: dict[tuple[Any, int], dict[int, Any]] = {}  # (cell, width) -> a row full of it


def store_narrow(line: Any, x: int, text: str, glyphs: Any, columns: int) -> None:
    """Store `text` (one-column characters) in `line` from column `x`, where it fits and
    touches no half of a wide character: one dict update, and a copy of a ready row for a
    whole row of one character (a background fill, a rule, a frame's edge)."""
    n = len(text)
    if text.count(text[0]) != n:
        line.update(zip(range(x, x + n), map(glyphs.__getitem__, text), strict=True))
    elif n == columns:
        cell = glyphs[text[0]]
        fill = _FILLS.get((cell, n))
        if fill is None:
            if len(_FILLS) >= 16:
                _FILLS.clear()
            fill = _FILLS[cell, n] = dict.fromkeys(range(n), cell)
        line.clear()
        line.update(fill)  # into an empty dict: a copy of the table, not n insertions
    else:
        line.update(zip(range(x, x + n), repeat(glyphs[text[0]])))
    if isinstance(line, FastRow):  # dict.update skips its setter, which drops the history
        line.hist = None  # line it no longer is
