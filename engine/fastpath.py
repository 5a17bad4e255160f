"""The line fast path: a flood of plain lines scrolling at the bottom of the scroll region.

`cat bigfile` and build logs are whole lines of printable text and SGR colours, each ending in
CR LF, written while the cursor sits at column 0 of the bottom row; a pager, a progress bar or a
nested multiplexer does the same at the bottom of a scroll region (DECSTBM), often on the
alternate screen. Drawing them cell by cell only to scroll them away is where a pyte screen
spends its time. Here a batch of such lines is found with one regex match; the lines that scroll
straight off the region's top go to the history as they are (`RawLines`, decoded only when
someone looks; on the main screen only, as the general path does), only the lines that stay in
the region become cells. The result is identical to the general path (differential tests hold it
to that).
"""

from __future__ import annotations

import re
from typing import Any

from pyte import charsets
from pyte import modes as mo
from pyte.screens import StaticDefaultDict

from engine.cells import DEFAULT_CELL, Cell, HistoryLine, RawLines, apply_sgr
from engine.vt import parse_sgr

# Whole lines: printable ASCII and SGR sequences, each ending in CR LF. Possessive
# quantifiers: the alternatives never start alike, and without them a long line that fails
# to match would backtrack exponentially.
_LINES = re.compile(r"(?:(?:[\x20-\x7e]++|\x1b\[[0-9;]*+m)*+\r\n)*+")
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
# SGRs with a parameter that may set a background colour (40-48, 100-107; it may also be a
# colour index, as in 38;5;41, which `_sets_bg` tells apart).
_BG = re.compile(r"\x1b\[((?:[0-9]*;)*(?:4[0-8]|10[0-7])(?:;[0-9]*)*)m")
_BG_CACHE: dict[str, bool] = {}
MIN_BATCH = 2  # fewer lines than this are not worth leaving the general parser for
_SGR_CACHE: dict[tuple[Cell, str], Cell] = {}  # (attrs, SGR params) -> attrs, DECSCNM off
_EMPTY: dict[Cell, Cell] = {}  # attrs -> the same with empty data (how history runs keep it)


class FastRow(StaticDefaultDict):  # type: ignore[type-arg]
    """A screen row made by the fast path, carrying the history line it will become.

    Any change to a cell drops that cached line, so it is only used while it is still true.
    """

    wrapped = False  # the row continues on the next one (set per row, as on the screen's rows)

    def __init__(self, default: Any, hist: HistoryLine) -> None:
        super().__init__(default)
        self.hist: HistoryLine | None = hist

    def __setitem__(self, key: int, value: Any) -> None:
        self.hist = None
        super().__setitem__(key, value)

    def __delitem__(self, key: int) -> None:
        self.hist = None
        super().__delitem__(key)

    def pop(self, *args: Any) -> Any:
        self.hist = None
        return super().pop(*args)


def cached_history_line(row: Any) -> HistoryLine | None:
    """The history line a fast-path row still stands for, if it is unchanged."""
    hist: HistoryLine | None = getattr(row, "hist", None)
    if hist is not None and hist.wrapped == getattr(row, "wrapped", False):
        return hist
    return None


def _region(screen: Any) -> tuple[int, int]:
    """The scroll region's top and bottom rows."""
    margins = screen.margins
    return (0, screen.lines - 1) if margins is None else (margins.top, margins.bottom)


def eligible(screen: Any) -> bool:
    """The state in which a plain line scrolls the region by exactly one row."""
    cursor = screen.cursor
    return (
        cursor.x == 0
        and cursor.y == _region(screen)[1]
        and not screen.charset
        and screen.g0_charset is charsets.LAT1_MAP
        and mo.DECAWM in screen.mode
        and mo.IRM not in screen.mode
        and mo.LNM not in screen.mode
        and mo.DECSCNM not in screen.mode
        and not screen._buffer.get(cursor.y)
    )


class Deferred:
    """Lines the fast path accepted but has not drawn: the ones that would stay on screen.

    The next flood pushes most of them off unseen, so they are drawn only when someone looks
    (the screen calls `apply_deferred` on any access to its rows or history). They belong to
    the region's rows above its bottom row; the cursor stays on that empty bottom row, so
    drawing there or moving the cursor does not need them.
    """

    __slots__ = ("attrs", "blank", "columns", "lines", "region", "rows")

    def __init__(
        self,
        lines: list[str],
        rows: list[int],
        attrs: Cell,
        columns: int,
        region: tuple[int, int],
        blank: bool,
    ) -> None:
        self.lines = lines
        self.rows = rows  # screen rows each line takes (long lines wrap)
        self.attrs = attrs  # the style before the first line
        self.columns = columns
        self.region = region  # the scroll region's top and bottom rows, where they scroll
        self.blank = blank  # the region's rows above them already left it (left blank)


def scroll_lines(screen: Any, buf: str, i: int) -> int:
    """Take as many whole plain lines from `buf[i:]` as possible; returns where to go on.

    A line wider than the screen wraps onto several rows, as autowrap would draw it.
    """
    if not eligible(screen):
        return i
    end = _LINES.match(buf, i).end()  # type: ignore[union-attr]  # it matches "" at worst
    if end == i:
        return i
    chunk = buf[i:end]
    lines = chunk.split("\r\n")
    lines.pop()  # what follows the last CR LF: nothing
    deferred: Deferred | None = screen._deferred
    if deferred is None and len(lines) < MIN_BATCH:
        return i
    cursor = screen.cursor
    if cursor.attrs.bg != "default" or any(_sets_bg(p) for p in set(_BG.findall(chunk))):
        if deferred is not None:
            screen.settle()
        return _draw_lines(screen, lines, i)

    columns, region = screen.columns, _region(screen)
    top, bottom = region
    above = bottom - top  # the region's rows above the cursor (on its bottom row)
    rows = _row_counts(chunk, lines, columns)
    if (
        deferred is not None
        and (deferred.columns, deferred.region) == (columns, region)
        # The style they end in is still the cursor's (no SGR came between two reads).
        and _fold("\r\n".join(deferred.lines), deferred.attrs) == cursor.attrs
    ):
        lines = deferred.lines + lines
        rows = deferred.rows + rows
        attrs, blank = deferred.attrs, deferred.blank
    else:
        if deferred is not None:
            screen.settle()
        attrs, blank = cursor.attrs, False
    # The tail: the last lines, just enough to fill the rows above the cursor. Everything
    # before it scrolls off, unparsed, with what is on screen now.
    t, tail_rows = len(lines), 0
    while t > 0 and tail_rows < above:
        t -= 1
        tail_rows += rows[t]
    if t > 0:
        text = "\r\n".join(lines[:t]) + "\r\n"
        head_rows = sum(rows[:t])
        lines_before, rows_before = lines[:t], rows[:t]
        lines, rows = lines[t:], rows[t:]
        buffer = screen._buffer
        if not screen.alternate:  # the alternate screen keeps no history
            history = screen._history
            leaving: list[Any] = []
            if 0 < history.max_lines < head_rows:
                # More than the history keeps: what it would evict at once is dropped now,
                # unkept (a reader would otherwise decode the whole flood to reach its tail).
                cut, left = 0, head_rows
                while left - rows_before[cut] >= history.max_lines:
                    left -= rows_before[cut]
                    cut += 1
                history.clear()  # every line it holds is older: all of it would go
                history.dropped += (0 if blank else bottom - top) + head_rows - left
                gone = "\r\n".join(lines_before[:cut]) + "\r\n" if cut else ""
                text, attrs, head_rows = text[len(gone) :], _fold(gone, attrs), left
            elif not blank:
                leaving = [screen._history_line(buffer.get(y)) for y in range(top, bottom)]
            leaving.append(RawLines(text, attrs, columns, head_rows))
            history.push_many(leaving)
        if not blank:
            for y in range(top, bottom):
                buffer.pop(y, None)
        attrs, blank = _fold(text, attrs), True
    screen._deferred = Deferred(lines, rows, attrs, columns, region, blank) if lines else None
    screen._settle_needed = True
    cursor.attrs = _fold(chunk, cursor.attrs)
    screen._last_char = ""  # the lines end in CR LF: REP has nothing to repeat
    screen.dirty.update(range(top, bottom + 1))
    return end


def apply_deferred(screen: Any) -> None:
    """Draw the deferred lines (someone is looking at the screen)."""
    deferred: Deferred | None = screen._deferred
    if deferred is None:
        return
    screen._deferred = None
    attrs, columns = deferred.attrs, deferred.columns
    entries: list[tuple[list[tuple[str, Any]], bool]] = []
    for line in deferred.lines:
        pieces, attrs, width = _pieces(line, attrs)
        if width <= columns:
            entries.append((pieces, False))
        else:
            entries += _wrap(pieces, columns)
    _place(screen, entries, *deferred.region, deferred.blank)


def _draw_lines(screen: Any, lines: list[str], i: int) -> int:
    """Draw lines row by row, stopping before one that ends under a background colour."""
    attrs = screen.cursor.attrs
    entries: list[tuple[list[tuple[str, Any]], bool]] = []  # screen rows: pieces, wrapped
    pos, columns = i, screen.columns
    for line in lines:
        before = attrs
        pieces, attrs, width = _pieces(line, attrs)
        if attrs.bg != "default" or (width > columns and any(a.bg != "default" for _, a in pieces)):
            # A row scrolled in under a background colour is filled with it (xterm's and
            # tmux's back colour erase): the general path does that; stop the batch here.
            attrs = before
            break
        pos += len(line) + 2
        if width <= columns:
            entries.append((pieces, False))
        else:
            entries += _wrap(pieces, columns)
    if not entries:
        return i
    top, bottom = _region(screen)
    _place(screen, entries, top, bottom, False)
    screen.cursor.attrs = attrs
    screen._last_char = ""  # as above
    screen.dirty.update(range(top, bottom + 1))
    return pos


def _place(
    screen: Any,
    entries: list[tuple[list[tuple[str, Any]], bool]],
    top: int,
    bottom: int,
    blank: bool,
) -> None:
    """Scroll rows for `entries` into the region top..bottom above its bottom (the cursor's)
    row; what leaves the region's top goes to the main screen's history (the rows now above
    go too unless `blank`: they already left)."""
    above = bottom - top
    buffer = screen._buffer
    k = len(entries)
    old = [buffer.get(y) for y in range(top, bottom)]
    first_kept = max(0, k - above)  # entries before this leave the region at once
    if not screen.alternate:  # the alternate screen keeps no history
        leaving: list[Any] = []
        if not blank:
            leaving = [screen._history_line(old[y]) for y in range(min(k, above))]
        leaving += [_history(pieces, wrapped) for pieces, wrapped in entries[:first_kept]]
        screen._history.push_many(leaving)
    rows = [_row(screen, pieces, wrapped) for pieces, wrapped in entries[first_kept:]]
    kept = old[k:] if k < above and not blank else []
    for y in range(top, bottom):
        buffer.pop(y, None)
    for y, row in enumerate((kept + rows)[-above:] if above else [], top):
        if row is not None:  # an empty row still carries its wrapped mark
            buffer[y] = row


def decode_raw(raw: RawLines) -> list[HistoryLine]:
    """The history lines `raw` stands for, as the per-line path would have made them."""
    out: list[HistoryLine] = []
    attrs, columns = raw.attrs, raw.columns
    lines = raw.text.split("\r\n")
    lines.pop()
    for line in lines:
        pieces, attrs, width = _pieces(line, attrs)
        if width <= columns:
            out.append(_history(pieces, False))
        else:
            out += [_history(p, wrapped) for p, wrapped in _wrap(pieces, columns)]
    return out


def _pieces(line: str, attrs: Cell) -> tuple[list[tuple[str, Cell]], Cell, int]:
    """A line's text runs with their attributes, the attributes after it, and its width."""
    parts = _SGR.split(line)
    first = parts[0]
    pieces = [(first, attrs)] if first else []
    width = len(first)
    cache = _SGR_CACHE
    for n in range(1, len(parts), 2):
        key = (attrs, parts[n])
        following = cache.get(key)
        if following is None:
            following = _sgr(attrs, parts[n])
        attrs = following
        text = parts[n + 1]
        if text:
            pieces.append((text, attrs))
            width += len(text)
    return pieces, attrs, width


def _sgr(attrs: Cell, params: str) -> Cell:
    """`CSI params m` applied to `attrs` (DECSCNM is off on the fast path), remembered."""
    following = apply_sgr(attrs, parse_sgr(params), DEFAULT_CELL)
    if len(_SGR_CACHE) >= 4096:
        _SGR_CACHE.clear()
    _SGR_CACHE[(attrs, params)] = following
    return following


def _fold(text: str, attrs: Cell) -> Cell:
    """The attributes after every SGR in `text`. SGR 0 and an empty SGR set every field, so
    only what follows the last of them counts."""
    reset = max(text.rfind("\x1b[0m"), text.rfind("\x1b[m"))
    if reset >= 0:
        text = text[reset:]
    cache = _SGR_CACHE
    for params in _SGR.findall(text):
        following = cache.get((attrs, params))
        attrs = following if following is not None else _sgr(attrs, params)
    return attrs


def _sets_bg(params: str) -> bool:
    """Whether `CSI params m` sets a background colour other than the default."""
    known = _BG_CACHE.get(params)
    if known is None:
        if len(_BG_CACHE) >= 4096:
            _BG_CACHE.clear()
        known = _BG_CACHE[params] = (
            apply_sgr(DEFAULT_CELL, parse_sgr(params), DEFAULT_CELL).bg != "default"
        )
    return known


def _row_counts(chunk: str, lines: list[str], columns: int) -> list[int]:
    """Screen rows each line of `chunk` takes at `columns` wide (long lines wrap)."""
    if max(map(len, lines), default=0) <= columns:
        return [1] * len(lines)
    visible = _SGR.sub("", chunk).split("\r\n")
    visible.pop()
    return [(len(v) - 1) // columns + 1 if v else 1 for v in visible]


def _wrap(pieces: list[tuple[str, Any]], columns: int) -> list[tuple[list[tuple[str, Any]], bool]]:
    """Cut a line's pieces into screen rows of `columns` cells; all but the last wrapped."""
    out: list[tuple[list[tuple[str, Any]], bool]] = []
    row: list[tuple[str, Any]] = []
    room = columns
    for text, a in pieces:
        while text:
            take = text[:room]
            row.append((take, a))
            text = text[room:]
            room -= len(take)
            if room == 0:
                out.append((row, True))
                row, room = [], columns
    if row:
        out.append((row, False))
    else:  # the line filled its last row exactly: that row is not wrapped
        out[-1] = (out[-1][0], False)
    return out


def _row(screen: Any, pieces: list[tuple[str, Any]], wrapped: bool) -> FastRow:
    """Cells for a row that stays on screen, remembering the history line it will become."""
    row = FastRow(DEFAULT_CELL, _history(list(pieces), wrapped))
    if wrapped:
        row.wrapped = True
    x = 0
    update = dict.update  # not FastRow's own setters: they would drop the cached line
    glyphs = screen.glyphs
    for text, a in pieces:
        update(row, enumerate(map(glyphs(a).__getitem__, text), x))
        x += len(text)
    return row


def _history(pieces: list[tuple[str, Any]], wrapped: bool) -> HistoryLine:
    """Text and style runs, trailing default blanks trimmed, as `Screen._history_line` does."""
    default = DEFAULT_CELL
    while pieces and not wrapped:  # a wrapped row's blanks are part of its line
        text, a = pieces[-1]
        if a != default:
            break
        stripped = text.rstrip(" ")
        if stripped:
            pieces[-1] = (stripped, a)
            break
        pieces.pop()
    if not pieces:
        return HistoryLine("", (), wrapped)
    if len(pieces) == 1:
        text, a = pieces[0]
        if a == default:
            return HistoryLine(text, (), wrapped)
        return HistoryLine(text, ((len(text), _empty(a)),), wrapped)
    runs: list[list[Any]] = []
    last = None
    for text, a in pieces:
        if a == last:
            runs[-1][0] += len(text)
        else:
            runs.append([len(text), a])
            last = a
    text = "".join([t for t, _ in pieces])
    if len(runs) == 1 and last == default:
        return HistoryLine(text, (), wrapped)
    out = tuple((n, None if a == default else _empty(a)) for n, a in runs)
    return HistoryLine(text, out, wrapped)


def _empty(attrs: Cell) -> Cell:
    cell = _EMPTY.get(attrs)
    if cell is None:
        if len(_EMPTY) >= 4096:
            _EMPTY.clear()
        cell = _EMPTY[attrs] = attrs._replace(data="")
    return cell
