"""The line fast path: a flood of plain lines scrolling at the bottom of the main screen.

`cat bigfile` and build logs are whole lines of printable text and SGR colours, each ending in
CR LF, written while the cursor sits at column 0 of the bottom row. Drawing them cell by cell
only to scroll them away is where a pyte screen spends its time, so here a batch of such lines
is turned straight into history lines (text + style runs); only the lines that stay on screen
become cells. The result is identical to the slow path (a differential test holds it to that).
"""

from __future__ import annotations

import re
from typing import Any

from pyte import charsets
from pyte import modes as mo
from pyte.screens import StaticDefaultDict

from engine.scrollback import HistoryLine
from engine.vt import parse_sgr

# One whole line: printable ASCII and SGR sequences, then CR LF. Possessive quantifiers: the
# two alternatives never start alike, and without them a long line that fails to match
# would backtrack exponentially.
_LINE = re.compile(r"(?:[\x20-\x7e]++|\x1b\[[0-9;]*+m)*+\r\n")
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
MIN_BATCH = 2  # fewer lines than this are not worth leaving the general parser for


class FastRow(StaticDefaultDict):  # type: ignore[type-arg]
    """A screen row made by the fast path, carrying the history line it will become.

    Any change to a cell drops that cached line, so it is only used while it is still true.
    """

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
    hist = getattr(row, "hist", None)
    if hist is not None and hist.wrapped == getattr(row, "wrapped", False):
        return hist
    return None


def eligible(screen: Any) -> bool:
    """The state in which a plain line scrolls exactly one row into history."""
    cursor = screen.cursor
    return (
        cursor.x == 0
        and cursor.y == screen.lines - 1
        and screen.margins is None
        and not screen.alternate
        and not screen.charset
        and screen.g0_charset is charsets.LAT1_MAP
        and mo.DECAWM in screen.mode
        and mo.IRM not in screen.mode
        and mo.LNM not in screen.mode
        and mo.DECSCNM not in screen.mode
        and not screen.buffer.get(cursor.y)
    )


def scroll_lines(screen: Any, buf: str, i: int) -> int:
    """Apply as many whole plain lines from `buf[i:]` as possible; returns where to go on.

    A line wider than the screen wraps onto several rows, as autowrap would draw it.
    """
    if not eligible(screen):
        return i
    columns, rows = screen.columns, screen.lines
    match = _LINE.match
    split = _SGR.split
    lines: list[list[str]] = []
    starts: list[int] = []
    pos = i
    while True:
        m = match(buf, pos)
        if m is None:
            break
        starts.append(pos)
        lines.append(split(buf[pos : m.end() - 2]))
        pos = m.end()
    if len(lines) < MIN_BATCH:
        return i

    default = screen.default_char  # cursor attributes always carry data " ", like this
    attrs = screen.cursor.attrs
    sgr_cache: dict[tuple[Any, str], Any] = screen.sgr_cache
    entries: list[tuple[list[tuple[str, Any]], bool]] = []  # screen rows: pieces, wrapped
    last_char = ""
    for index, parts in enumerate(lines):
        before = attrs
        first = parts[0]
        pieces: list[tuple[str, Any]] = [(first, attrs)] if first else []
        width = len(first)
        for n in range(1, len(parts), 2):
            key = (attrs, parts[n])
            following = sgr_cache.get(key)
            if following is None:
                following = _apply_sgr(screen, attrs, parts[n])
                if len(sgr_cache) < 4096:
                    sgr_cache[key] = following
            attrs = following
            text = parts[n + 1]
            if text:
                pieces.append((text, attrs))
                width += len(text)
        if attrs.bg != "default" or (width > columns and any(a.bg != "default" for _, a in pieces)):
            # A row scrolled in under a background colour is filled with it (xterm's and
            # tmux's back colour erase): the general path does that; stop the batch here.
            attrs, pos = before, starts[index]
            break
        if pieces:
            last_char = pieces[-1][0][-1]
        if width <= columns:
            entries.append((pieces, False))
        else:
            entries += _wrap(pieces, columns)
    if not entries:
        return i

    history = screen.history
    buffer = screen.buffer
    above = rows - 1  # rows over the bottom one; C = those rows + the new entries
    k = len(entries)  # the first k rows of C leave the screen
    old = [buffer.get(y) for y in range(above)]
    leaving = [screen._history_line(old[y]) for y in range(min(k, above))]
    first_kept = max(0, k - above)  # entries before this go straight to history
    empty = screen.empty_attrs
    leaving += [
        _history(pieces, default, wrapped, empty) for pieces, wrapped in entries[:first_kept]
    ]
    history.push_many(leaving)
    new_rows = [
        _row(screen, pieces, wrapped, default, empty) for pieces, wrapped in entries[first_kept:]
    ]
    kept = old[k:] if k < above else []
    for y in range(rows):
        buffer.pop(y, None)
    for y, row in enumerate((kept + new_rows)[-above:] if above else []):
        if row:
            buffer[y] = row
    screen.cursor.attrs = attrs
    if last_char:
        screen._last_char = last_char
    screen.dirty.update(range(rows))
    return pos


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


def _row(
    screen: Any, pieces: list[tuple[str, Any]], wrapped: bool, default: Any, empty: dict[Any, Any]
) -> FastRow:
    """Cells for a row that stays on screen, remembering the history line it will become."""
    row = FastRow(default, _history(list(pieces), default, wrapped, empty))
    if wrapped:
        row.wrapped = True
    cells = screen._cells
    x = 0
    store = dict.__setitem__
    for text, a in pieces:
        by_char = cells.get(a)
        if by_char is None:
            screen._cell(a, " ")
            by_char = cells[a]
        for ch in text:
            cell = by_char.get(ch)
            if cell is None:
                cell = screen._cell(a, ch)
            store(row, x, cell)
            x += 1
    return row


def _apply_sgr(screen: Any, attrs: Any, params: str) -> Any:
    """What `CSI params m` does to `attrs`, computed by the screen's own SGR handler."""
    saved = screen.cursor.attrs
    screen.cursor.attrs = attrs
    try:
        screen.select_graphic_rendition(*parse_sgr(params))
        return screen.cursor.attrs
    finally:
        screen.cursor.attrs = saved


def _history(
    pieces: list[tuple[str, Any]], default: Any, wrapped: bool, empty: dict[Any, Any]
) -> HistoryLine:
    """Text and style runs, trailing default blanks trimmed, as `Screen._history_line` does.

    `empty` caches each attribute set as a cell with empty data (how history runs keep it).
    """
    while pieces:
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
        return HistoryLine(text, ((len(text), _empty(a, empty)),), wrapped)
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
    out = tuple((n, None if a == default else _empty(a, empty)) for n, a in runs)
    return HistoryLine(text, out, wrapped)


def _empty(attrs: Any, cache: dict[Any, Any]) -> Any:
    cell = cache.get(attrs)
    if cell is None:
        cell = cache[attrs] = attrs._replace(data="")
    return cell
