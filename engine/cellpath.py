"""The cell fast path: the tokens a full-screen redraw is made of, applied in one loop.

vim, htop, btop and the Ink or Textual UIs of agent CLIs repaint with cursor positions, SGR
colours and short runs of text, tens of thousands of each per screen. Through the parser's
token loop each one is a method call with its own attribute lookups; here the cursor, the
style and the row live in local variables while a run of such tokens lasts, and any other
token ends the run (the parser goes on with it, then comes back). The screen ends as the
general path leaves it: a differential test holds the two equal.

The loop is in C (`engine/_cells.c`) where a compiler was at hand at install: a regex match
and a Python branch per token cost about what tmux spends on a whole token. The Python loop
here is the same thing where it was not, and the C loop's oracle next to the general path.
"""

from __future__ import annotations

import logging
import re
from itertools import repeat
from time import monotonic
from types import ModuleType
from typing import Any

from pyte import charsets
from pyte import modes as mo

from engine.fastpath import FastRow
from engine.width import _BMP

native: ModuleType | None  # the C loop, built at install where a compiler is at hand
try:
    from engine import _cells as native
except ImportError:  # the Python loop does it all, slower
    native = None

log = logging.getLogger(__name__)

# Modes under which a token here would mean something else: insert (text pushes cells
# right), origin (rows count from the margin), reverse screen (SGR 0 restores reverse).
_OTHER_MEANING = frozenset({mo.IRM, mo.DECOM, mo.DECSCNM})
_SYNC_OUTPUT = 2026 << 5  # synchronized output, as the screen keeps it in `mode`


# A cursor position as the cell fast path takes it: at most two parameters of at most four
# digits, CUP or HVP.
_CUP = r"\x1b\[[0-9]{0,4}+(?:;[0-9]{0,4}+)?+[Hf]"
# One cursor position and the one character after it, in a run `hot_tokens` group 3 matched.
_CUP_CHAR = re.compile(r"\x1b\[([0-9;]*+)[Hf](.)", re.DOTALL)


def hot_tokens(narrow_run: str) -> re.Pattern[str]:
    """The tokens taken here, by group: SGRs with plain parameters, one or more in a row (1:
    their parameters joined by `m ESC [`), and the ASCII text after them (2); one or more
    CUP/HVP (at most two parameters of at most four digits) each followed by one ASCII
    character and then an escape sequence (3: the run from the first one's parameters, as an
    editor redraws a column of line numbers or a tree's marks, one cell at a time); CUP/HVP
    (4) and the ASCII text after it (5); EL to the end of the row (6); ECH (7); synchronized
    output's start and end, `CSI ? 2026 h` and `l` (8: the final); DECSTBM with at most two
    parameters (9); IL/DL (10: the count, 11: the final); `ESC ( B` (12); text matching
    `narrow_run` (a pattern for a run of one-column printable characters) (13); CR (14); LF
    (15).
    A sequence and its text are one match, and `ESC ( B` before a CSI is taken with it: a vim
    or TUI redraw is mostly such runs (`ESC ( B ESC [ m ESC [ 30 m ESC [ 101 m text`). The
    escape sequences come first, SGR first of them (it fails fast on a CUP's parameters, a
    CUP alternative less so on an SGR's); numbers are taken possessively (never tried again
    shorter); the text after a sequence is ASCII only (the rest of it is the next token): a
    third less matching time."""
    # ASCII first, and a control character fails before the long class is scanned for it:
    # 2-3 times faster matching, the same runs.
    run = f"(?:[ -~]++|(?![\\x00-\\x1f\\x7f])(?:{narrow_run}))++"
    text = "([ -~]++)?+"  # other text after a sequence is a token of its own (13)
    return re.compile(
        r"\x1b(?:\(B\x1b)?+\[(?:((?:[0-9;:]*+m\x1b\[)*[0-9;:]*+)m"
        + text
        + f"|([0-9]{{0,4}}+(?:;[0-9]{{0,4}}+)?+[Hf][ -~](?=\\x1b)(?:{_CUP}[ -~](?=\\x1b))*+)"
        + r"|([0-9]{0,4}+(?:;[0-9]{0,4}+)?+)[Hf]"
        + text
        + r"|(0?)K|([0-9]{0,4}+)X|\?2026([hl])|([0-9]{0,4}+(?:;[0-9]{0,4}+)?+)r"
        r"|([0-9]{0,4}+)([LM]))"
        r"|\x1b(\(B)"
        f"|({run})"
        r"|(\r)|(\n)"
    )


def draw_cells(screen: Any, tokens: re.Pattern[str], buf: str, i: int) -> int:
    """Apply the tokens of `buf[i:]` that `tokens` (see `hot_tokens`) matches, as long as each
    means here what it means to the general path; returns where the first other one starts.

    Text is stored only where it fits the row (as Screen.draw stores such a run), SGR
    only when the screen already knows what it makes of the style (`Glyphs.after_sgr`), LF
    only when it does not scroll; synchronized output's mode is set as Screen.set_mode sets
    it, EL on an empty row only marks it; EL, ECH, DECSTBM, IL and DL call the screen's own
    methods. Anything else ends the run, and the parser's general handlers take it from there.

    The C loop (`engine/_cells.c`) takes the same tokens but text past the Basic Multilingual
    Plane (rare: the screen draws it), and more: two-column text, text that wraps (onto the
    next row, or scrolling the region at its bottom on the alternate screen), LF at the
    region's bottom on the alternate screen (unless plain lines follow: the line fast path's),
    text after a ZWJ that joins nothing. Where it was not built the Python loop
    (`draw_python`) does.
    """
    if not _fast_ok(screen):
        return i
    if native is None:
        return draw_python(screen, tokens, buf, i)
    return _draw_native(screen, buf, i)


def _fast_ok(screen: Any) -> bool:
    """Whether the tokens taken here mean what they mean to the general path right now."""
    return not (
        screen._settle_needed
        or screen.charset
        or screen.g0_charset is not charsets.LAT1_MAP
        or not screen.bulk_draw
        or not _OTHER_MEANING.isdisjoint(screen.mode)
    )


def _draw_native(screen: Any, buf: str, i: int) -> int:
    """The C loop (`engine/_cells.c`) from `i`, with the screen's state handed over and back;
    text it leaves (zero-width characters, ones past the BMP ...) is drawn here by the
    screen, and the C loop goes on after it."""
    assert native is not None  # draw_cells checked
    cursor = screen.cursor
    while True:
        glyphs = screen._last_glyphs
        if glyphs.attrs is not cursor.attrs:
            glyphs = screen.glyphs(cursor.attrs)
        top, bottom = _region(screen)
        pos, x, y, glyphs, drawn, error, refused = native.run(
            buf,
            i,
            screen._buffer,
            cursor.x,
            cursor.y,
            glyphs,
            screen.columns,
            screen.lines,
            bottom,
            screen.dirty,
            screen._put_run,
            screen._last_char,
            screen,
            screen._zwj_seen,
            top,
            screen._alternate,
            mo.DECAWM in screen.mode,
            screen.mode,
        )
        cursor.x, cursor.y = x, y
        cursor.attrs = glyphs.attrs
        screen._last_glyphs = glyphs
        if pos != i:
            screen._last_char = drawn
        if error is not None:  # as in draw_python: counted, the token is the general path's
            screen.fast_errors += 1
            log.debug("cell fast path (C) failed", exc_info=error)
            return int(pos)
        if refused == pos:
            return int(pos)
        try:
            screen.draw(buf[pos:refused])  # as the parser would draw that text
        except Exception:  # as the parser does with a failing handler: that text is done
            screen.fast_errors += 1
            log.debug("drawing text the C loop left failed", exc_info=True)
            return int(refused)
        i = refused
        if not _fast_ok(screen):
            return i


def draw_python(screen: Any, tokens: re.Pattern[str], buf: str, i: int) -> int:
    """`draw_cells` in Python, where the caller checked `_fast_ok`."""
    cursor = screen.cursor
    x, y = cursor.x, cursor.y
    glyphs = screen._last_glyphs
    if glyphs.attrs is not cursor.attrs:
        glyphs = screen.glyphs(cursor.attrs)
    rows = screen._buffer
    columns, lines = screen.columns, screen.lines
    last_line = lines - 1
    bottom = _bottom(screen)
    zwj = screen._zwj_seen  # only draw() sets it, and text that could join goes there
    mark_dirty = screen.dirty.add
    mark_rows = screen.dirty.update
    dirty_y = -1  # the row last marked dirty (marking it again changes nothing)
    cups = _CUPS.get((lines, columns))
    if cups is None:
        if len(_CUPS) >= 8:
            _CUPS.clear()
            _PLANS.clear()
        cups = _CUPS[lines, columns] = {}
        _PLANS[lines, columns] = {}
    plans = _PLANS[lines, columns]
    put_run = screen._put_run
    erase_in_line = screen.erase_in_line
    line: Any = None  # row y, fetched when text is drawn (a cursor move alone makes no row)
    drawn = ""  # the last token's text ("" if it drew none: REP repeats its last character)
    pos = i  # where the parser goes on; set when a token is not taken, else the last end
    m: Any = None
    after_sgr = glyphs.after_sgr  # the glyphs' own, kept with them (cleared, never replaced)
    smode = screen.mode
    try:
        scan = tokens.scanner(buf, i)  # type: ignore[attr-defined]  # see Parser._tokens
        # The kinds by how often a redraw sends them: SGRs and text (2, 1), a move and text (5),
        # a move (4), synchronized output (8), CR (14), moves and a character at each (3),
        # text (13).
        for m in iter(scan.match, None):
            k = m.lastindex
            if k <= 2:  # SGRs and the text after them (2), or no text (1: rare)
                params, text = m[1], m[2]
                after = after_sgr.get(params)
                if after is None:
                    after = _after_sgrs(glyphs, params)
                    if after is None:
                        pos = m.start()
                        break
                if after is not glyphs:
                    glyphs = after
                    after_sgr = after.after_sgr
                if text is None:
                    drawn = ""  # a token that is not text: REP has nothing to repeat
                    continue
            elif k == 5:  # a move and the text there
                where, text = m[4], m[5]  # faster than m.group(4, 5)
                yx = cups.get(where)
                if yx is None:
                    yx = _cursor_position(cups, where, lines, columns)
                y, x = yx
                line = None
            elif k == 4:
                yx = cups.get(m[4])
                if yx is None:
                    yx = _cursor_position(cups, m[4], lines, columns)
                y, x = yx
                line = None
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            elif k == 8:  # as Screen.set_mode and reset_mode do with 2026 (nothing else)
                if m[8] == "h":
                    screen.synchronized_since = monotonic()
                    smode.add(_SYNC_OUTPUT)
                else:
                    smode.discard(_SYNC_OUTPUT)
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            elif k == 14:
                x = 0
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            elif k == 3:  # moves and one character at each: one C loop finds them all
                plan = plans.get(m[3])
                if plan is None:
                    plan = _plan(plans, cups, m, lines, columns)
                spots, touched = plan
                for y, x, text in spots:
                    line = rows[y]
                    old = line.get(x)
                    if old is None or " " <= old.data < "\u1100":  # as below
                        line[x] = glyphs[text]
                    else:
                        put_run(line, x, text, 1, glyphs)
                mark_rows(touched)
                dirty_y = y
                x += 1
                drawn = text
                continue
            elif k == 13:
                text = m[13]
                if zwj and text[0] > "~":  # it may join a ZWJ cell: the general path draws it
                    pos = m.start()
                    break
            elif k == 15:  # as Screen.linefeed, where it does not scroll
                if y == bottom or bottom < 0:
                    pos = m.start()
                    break
                row = rows.get(y)
                if row is not None and getattr(row, "wrapped", False):
                    row.wrapped = False
                if y < last_line:
                    y += 1
                    line = None
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            elif k == 6:  # EL, on the state so far (the erasing takes the cursor's colour)
                line = rows[y]
                if line or glyphs.attrs.bg != "default":
                    cursor.x, cursor.y = x, y
                    cursor.attrs = glyphs.attrs
                    erase_in_line()
                elif y != dirty_y:  # an empty row, erased to default blanks: no cells
                    mark_dirty(y)
                    dirty_y = y
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            elif k == 12:  # `ESC ( B` chooses the ASCII set for G0, which it already is
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            else:  # the screen's own methods, on the state so far
                cursor.x, cursor.y = x, y
                cursor.attrs = glyphs.attrs
                if k == 7:
                    _call_screen(screen, "X", m[7])
                elif k == 9:
                    _call_screen(screen, "r", m[9])
                else:
                    _call_screen(screen, m[11], m[10])
                x, y = cursor.x, cursor.y
                if glyphs.attrs is not cursor.attrs:
                    glyphs = screen.glyphs(cursor.attrs)
                    after_sgr = glyphs.after_sgr
                if k == 9:  # DECSTBM: LF scrolls at another row now
                    bottom = _bottom(screen)
                line = None
                drawn = ""  # a token that is not text: REP has nothing to repeat
                continue
            n = len(text)
            if x + n > columns:
                # It wraps (or x is at the pending-wrap position): the general path draws it.
                pos = m.end() - n
                if k != 13:  # the sequence before it was taken
                    drawn = ""
                break
            if line is None:
                line = rows[y]
            if n == 1:
                old = line.get(x)
                if old is None or " " <= old.data < "\u1100":  # not perhaps half of a wide one
                    line[x] = glyphs[text]
                else:
                    put_run(line, x, text, 1, glyphs)  # as Screen.draw: it looks closer
                x += 1
            else:
                first = line.get(x)
                last = line.get(x + n - 1)
                if (first is not None and first.data == "") or (
                    last is not None and last.data >= "\u1100"  # perhaps a wide character
                ):
                    put_run(line, x, text, 1, glyphs)
                else:  # as store_narrow stores it, from the cells remembered for it
                    cells = glyphs.runs.get((x, text))
                    if cells is None:
                        cells = _new_run(glyphs, x, text)
                    if n == columns and text.count(text[0]) == n:
                        line.clear()  # as store_narrow does for a whole row of one character
                    line.update(cells)
                    if isinstance(line, FastRow):  # dict.update skips its setter
                        line.hist = None
                x += n
            if y != dirty_y:
                mark_dirty(y)
                dirty_y = y
            drawn = text
        else:
            if m is not None:
                pos = m.end()
    except Exception:  # a bug here must not take the terminal down: the parser goes on
        screen.fast_errors += 1  # counted like the parser's `errors` (the fuzz tests read both)
        log.debug("cell fast path failed", exc_info=True)  # not the output: it may be secret
        if m is not None:
            pos = m.start()  # the general path does that token again (each is idempotent)
    finally:
        cursor.x, cursor.y = x, y
        cursor.attrs = glyphs.attrs
        screen._last_glyphs = glyphs
        if pos != i:  # REP repeats the last character only if no other token came after it
            screen._last_char = drawn[-1] if drawn else ""
    return pos


def _new_run(glyphs: Any, x: int, text: str) -> dict[int, Any]:
    """The cells `text` (one-column characters) makes from column `x` in the style of
    `glyphs`, remembered in `glyphs.runs` within the screen's budget (Styles.run_cells)."""
    cells = dict(zip(range(x, x + len(text)), map(glyphs.__getitem__, text), strict=True))
    styles = glyphs._styles()
    if styles is not None:
        if styles.run_cells < len(text):
            styles.forget_runs()
        if styles.run_cells >= len(text):
            styles.run_cells -= len(text)
            glyphs.runs[x, text] = cells
    return cells


def _region(screen: Any) -> tuple[int, int]:
    """The scroll region's top and bottom rows, bottom -1 under LNM (see `_bottom`)."""
    top, bottom = screen.margins or (0, screen.lines - 1)
    return top, -1 if mo.LNM in screen.mode else bottom


def _bottom(screen: Any) -> int:
    """The row at which LF scrolls (the region's bottom: the general path does that), or -1
    under LNM (there LF is CR LF)."""
    return _region(screen)[1]


def _call_screen(screen: Any, final: str, params: str) -> None:
    """A rarer token (ECH, DECSTBM, IL or DL by its final), through the screen's method with
    the arguments the parser's general path passes."""
    if final == "X":
        screen.erase_characters(int(params) if params else None)
    elif final == "r":
        top, _, bottom = params.partition(";")
        screen.set_margins(int(top or 0) or None, int(bottom or 0) or None)
    else:
        method = screen.delete_lines if final == "M" else screen.insert_lines
        method(int(params) if params else None)


def _call(screen: Any, final: str, params: str, x: int, y: int, glyphs: Any) -> tuple[Any, ...]:
    """A rarer token for the C loop (EL, ECH, DECSTBM, IL, DL), as the Python loop does it;
    returns the cursor, the style and the scroll region (`_region`) after it."""
    cursor = screen.cursor
    cursor.x, cursor.y = x, y
    cursor.attrs = glyphs.attrs
    if final == "K":
        screen.erase_in_line()
    else:
        _call_screen(screen, final, params)
    if glyphs.attrs is not cursor.attrs:
        glyphs = screen.glyphs(cursor.attrs)
    return cursor.x, cursor.y, glyphs, *_region(screen)


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


# A run of moves and a character at each, as drawn: each cell's row, column and character,
# and the rows it touches.
_Plan = tuple[tuple[tuple[int, int, str], ...], frozenset[int]]

# (lines, columns) -> a run of moves and a character at each (`hot_tokens` group 3) -> its
# plan: an editor redraws the same column of line numbers over and over.
_PLANS: dict[tuple[int, int], dict[str, _Plan]] = {}


def _plan(
    plans: dict[str, _Plan],
    cups: dict[str, tuple[int, int]],
    m: re.Match[str],
    lines: int,
    columns: int,
) -> _Plan:
    """The plan of the run `m` matched (`hot_tokens` group 3), remembered in `plans` when
    the run is short (they are kept for few of them)."""
    run = m[3]
    cells = []
    for where, text in _CUP_CHAR.findall(m.string, m.start(), m.end()):  # one C loop
        y, x = cups.get(where) or _cursor_position(cups, where, lines, columns)
        cells.append((y, x, text))
    plan = (tuple(cells), frozenset(y for y, _, _ in cells))
    if len(run) <= 1024:
        if len(plans) >= 256:
            plans.clear()
        plans[run] = plan
    return plan


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


if native is not None:
    native.setup(FastRow, _call, _BMP, monotonic, _SYNC_OUTPUT)
