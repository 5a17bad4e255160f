"""A terminal's whole state as bytes and back: what snapshots store and replicas start from.

`TerminalImage` is a terminal in two parts: `head`, one zstd frame holding everything but the
old history (both screens, cursor, modes, charsets, marks, the newest history lines, the
parser's unfinished sequence), and `blocks`, the scrollback's sealed zstd blocks exactly as it
holds them. Taking an image never recompresses those blocks, and a pane whose history did not
change gives the same block bytes again, so a store that keeps blocks by hash keeps them once.

The head is explicit JSON, field by field (never pickle: an image comes back from a database
and must not be able to run code). Everything is restored exactly: a loaded terminal fed the
same bytes as the original stays equal to it, cell for cell. Two things are left out on
purpose: replies waiting to be written to the program (`Terminal.take_responses`; a restored
pane has a new program that asked nothing) and the rows' "changed" marks (all rows are dirty
after a load). The parser's unfinished sequence and the decoder's partial UTF-8 character are
kept, so an image taken between two reads continues exactly as the original does.

Loading checks the framing, the format, that the head parses into the fields it needs and
that every block decompresses; it does not check each value's meaning (a store keeps blocks
by sha256, which is where tampering is caught). `dump()` is `frame(image())`: MAGIC, the
format, the part count, each part's length, then the head and the blocks.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyte
import zstandard
from pyte.screens import Margins, Savepoint, StaticDefaultDict

from engine.cells import Cell, HistoryLine, RawLines
from engine.fastpath import FastRow
from engine.history import CommandTracker
from engine.scrollback import Scrollback, _Block

if TYPE_CHECKING:
    from engine.terminal import Screen, Terminal

MAGIC = b"AIST"
FORMAT = 1  # bump on any change to the head's fields; loads refuse newer formats
_PREFIX = struct.Struct("<4sH")  # magic, format: starts both the head's content and a dump
_COUNT = struct.Struct("<I")
MAX_HEAD = 1 << 30  # a head that says it is larger is not one of ours (nor memory to give it)
# Charsets by the designator that selects them: a screen tests them by identity
# (`g0_charset is LAT1_MAP`), so they come back as the very same tables.
_CHARSETS = dict(pyte.charsets.MAPS)
_CHARSET_NAMES = {id(table): name for name, table in _CHARSETS.items()}
_ROW_WRAPPED, _ROW_GAP, _ROW_FAST = 1, 2, 4  # a row's flags


class TerminalFormatError(ValueError):
    """The bytes are not a terminal image this version can read (garbage, cut short, corrupt,
    or written by a newer ai-session)."""


@dataclass(frozen=True)
class TerminalImage:
    """A terminal's state: `head` (zstd, starts with MAGIC and the format) and the
    scrollback's sealed `blocks` as they are (store them by hash: unchanged history repeats)."""

    head: bytes
    blocks: tuple[bytes, ...]


# -- taking an image ---------------------------------------------------------------------------


class _Cells:
    """Distinct cells numbered in order of first use: a screen repeats a few styles."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.table: list[list[Any]] = []

    def ref(self, cell: Any) -> int:
        i = self.index.get(cell)
        if i is None:
            i = self.index[cell] = len(self.table)
            self.table.append(list(cell))
        return i


def image(terminal: Terminal) -> TerminalImage:
    """The terminal's image (it is settled first: deferred drawing done)."""
    terminal.settle()
    screen = terminal.screen
    history = terminal._scrollback
    cells = _Cells()
    state = {
        "screen": _screen_state(screen, cells),
        "history": _history_state(history, cells),
        "parser": _parser_state(terminal),
        "cells": cells.table,
    }
    body = json.dumps(state, ensure_ascii=False, separators=(",", ":"), check_circular=False)
    head = zstandard.ZstdCompressor(level=3).compress(
        _PREFIX.pack(MAGIC, FORMAT) + body.encode("utf-8", "surrogatepass")
    )
    return TerminalImage(head, tuple(block.data for block in history._cold))


def _charset(table: str) -> str:
    return _CHARSET_NAMES.get(id(table)) or next(
        (name for name, known in _CHARSETS.items() if known == table), "B"
    )


def _screen_state(s: Screen, cells: _Cells) -> dict[str, Any]:
    cursor = s.cursor
    return {
        "size": [s.columns, s.lines],
        "buffer": _rows(s._buffer, cells),
        "main": None if s._main_buffer is None else _rows(s._main_buffer, cells),
        "main_size": list(s._main_size),
        "alternate": s._alternate,
        "alt_saved": None
        if s._alt_saved is None
        else [*s._alt_saved[:2], cells.ref(s._alt_saved[2])],
        "cursor": [cursor.x, cursor.y, cells.ref(cursor.attrs), cursor.hidden],
        "savepoints": [_savepoint(p, cells) for p in s.savepoints],
        "mode": sorted(s.mode),
        "margins": None if s.margins is None else list(s.margins),
        "tabstops": sorted(s.tabstops),
        "charsets": [_charset(s.g0_charset), _charset(s.g1_charset), s.charset],
        "saved_columns": s.saved_columns,
        "title": s.title,
        "icon_name": s.icon_name,
        "cwd": s.cwd,
        "bells": s.bells,
        "cursor_style": s.cursor_style,
        "keypad_application": s.keypad_application,
        "synchronized_since": s.synchronized_since,
        "osc_events": s.osc_events,
        "colors": s.colors,
        "dynamic_colors": s.dynamic_colors,
        "cell_pixels": list(s.cell_pixels),
        "prompt": [
            s.prompt_mark,
            s.prompt_input and list(s.prompt_input),
            s.prompt_options,
            s.prompt_key,
            s.last_exit_code,
            s._command_open,
        ],
        # input typed (counted) and where the last prompt's line was: execute reads them
        "typed": [s.typed, s.typed_at_command, s.typed_at_prompt, s.prompt_history],
        "last_char": s._last_char,
        "commands": s.commands.state(),  # the commands' marks (engine/history.py)
        "unscrolled": [s._unscrolled, s._evicted_seen],
        "zwj_seen": s._zwj_seen,
        "fast_errors": s.fast_errors,
        "bulk_draw": s.bulk_draw,
    }


def _savepoint(p: Savepoint, cells: _Cells) -> list[Any]:
    """DECSC's slot: the cursor, the charsets and the origin and wrap modes."""
    cursor, g0, g1 = p.cursor, _charset(p.g0_charset), _charset(p.g1_charset)
    return [cursor.x, cursor.y, cells.ref(cursor.attrs), cursor.hidden, g0, g1, *p[3:]]


def _rows(buffer: Any, cells: _Cells) -> list[list[Any]]:
    """Rows in the buffer's order: [y, flags, default cell, columns, cells, fast-path line]."""
    ref, known = cells.ref, cells.index.get
    out = []
    for y, row in buffer.items():
        refs = list(map(known, row.values()))  # C speed for the cells seen before
        if None in refs:
            refs = list(map(ref, row.values()))
        flags = (
            _ROW_WRAPPED * bool(getattr(row, "wrapped", False))
            + _ROW_GAP * bool(getattr(row, "gap", False))
            + _ROW_FAST * (type(row) is FastRow)
        )
        hist = getattr(row, "hist", None)
        item = [y, flags, ref(row.default), list(row), refs]
        if hist is not None:
            item.append(_line(hist, cells))
        out.append(item)
    return out


def _line(line: HistoryLine, cells: _Cells) -> list[Any]:
    runs: list[int] = []
    for count, attrs in line.runs:
        runs += (count, -1 if attrs is None else cells.ref(attrs))
    return [line.text, runs, line.wrapped]


def _history_state(history: Scrollback, cells: _Cells) -> dict[str, Any]:
    hot = [
        [e.text, cells.ref(e.attrs), e.columns, e.count] if type(e) is RawLines else _line(e, cells)  # type: ignore[arg-type]
        for e in history._hot
    ]
    return {
        "limits": [history.max_lines, history.max_bytes],
        "nbytes": history.nbytes,
        "dropped": history.dropped,
        "skip": history._skip,
        "attrs": [cells.ref(a) for a in history._attrs],
        "blocks": [[b.count, b.widest, b.wrapped] for b in history._cold],
        "hot": hot,
    }


def _parser_state(terminal: Terminal) -> dict[str, Any]:
    parser = terminal.parser
    held, flag = terminal._decoder.getstate()
    return {
        "pending": parser._pending,
        "string": parser._string,
        "string_text": "".join(parser._string_parts),
        "string_len": parser._string_len,
        "errors": parser.errors,
        "tokens": parser.tokens,
        "utf8": [held.hex(), flag],
    }


# -- framing -----------------------------------------------------------------------------------


def dump(terminal: Terminal) -> bytes:
    """One self-contained bytes form: prefix, part count, each part's length, the parts."""
    return frame(image(terminal))


def frame(img: TerminalImage) -> bytes:
    """`img` as one bytes string (the head, then the blocks)."""
    parts = (img.head, *img.blocks)
    lengths = struct.pack(f"<{len(parts)}I", *map(len, parts))
    return b"".join((_PREFIX.pack(MAGIC, FORMAT), _COUNT.pack(len(parts)), lengths, *parts))


def unframe(data: bytes) -> TerminalImage:
    """The image `frame` made (TerminalFormatError if `data` is not one)."""
    view = memoryview(data)
    _check_prefix(bytes(view[: _PREFIX.size]), "data")
    at = _PREFIX.size
    if len(view) < at + _COUNT.size:
        raise TerminalFormatError("terminal image is cut short (no part count)")
    (count,) = _COUNT.unpack_from(view, at)
    at += _COUNT.size
    if count < 1 or len(view) < at + 4 * count:
        raise TerminalFormatError("terminal image is cut short or corrupt (part table)")
    lengths = struct.unpack_from(f"<{count}I", view, at)
    at += 4 * count
    if at + sum(lengths) != len(view):
        raise TerminalFormatError(
            f"terminal image is {len(view)} bytes, its parts say {at + sum(lengths)}"
        )
    parts = []
    for n in lengths:
        parts.append(bytes(view[at : at + n]))
        at += n
    return TerminalImage(parts[0], tuple(parts[1:]))


def _check_prefix(prefix: bytes, what: str) -> None:
    if len(prefix) < _PREFIX.size or prefix[:4] != MAGIC:
        raise TerminalFormatError(f"not an ai-session terminal image ({what} lacks {MAGIC!r})")
    _, version = _PREFIX.unpack(prefix)
    if version > FORMAT:
        raise TerminalFormatError(
            f"terminal image format {version} was made by a newer ai-session "
            f"(this one reads format {FORMAT}): upgrade to load it"
        )
    if version != FORMAT:
        raise TerminalFormatError(f"unknown terminal image format {version}")


# -- loading -----------------------------------------------------------------------------------


def load(cls: type[Terminal], data: bytes) -> Terminal:
    """A terminal of class `cls` from `dump`'s bytes."""
    return from_image(cls, unframe(data))


def from_image(cls: type[Terminal], img: TerminalImage) -> Terminal:
    """A terminal of class `cls` in the state `img` holds (TerminalFormatError if corrupt)."""
    try:
        if zstandard.get_frame_parameters(img.head).content_size > MAX_HEAD:
            raise TerminalFormatError("terminal image head says it is larger than any terminal")
        raw = zstandard.ZstdDecompressor().decompress(img.head)
    except zstandard.ZstdError as error:
        raise TerminalFormatError(f"terminal image head is corrupt: {error}") from None
    _check_prefix(raw[: _PREFIX.size], "head")
    try:
        state = json.loads(raw[_PREFIX.size :].decode("utf-8", "surrogatepass"))
        return _restore(cls, state, img.blocks)
    except TerminalFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise TerminalFormatError(f"terminal image is corrupt: {error!r}") from None


def _restore(cls: type[Terminal], state: dict[str, Any], blocks: tuple[bytes, ...]) -> Terminal:
    table = [_cell(fields) for fields in state["cells"]]
    s = state["screen"]
    h = state["history"]
    columns, lines = s["size"]
    max_lines, max_bytes = h["limits"]
    terminal = cls(columns, lines, max_lines, max_bytes)
    _restore_history(terminal._scrollback, h, blocks, table)
    _restore_screen(terminal.screen, s, table)
    p = state["parser"]
    parser = terminal.parser
    parser._pending = _str(p["pending"])
    parser._string = p["string"]
    parser._string_parts = [p["string_text"]] if p["string_text"] else []
    parser._string_len = int(p["string_len"])
    parser.errors = int(p["errors"])
    parser.tokens = bool(p["tokens"])
    held, flag = p["utf8"]
    terminal._decoder.setstate((bytes.fromhex(held), int(flag)))
    return terminal


def _cell(fields: list[Any]) -> Any:
    if len(fields) == len(Cell._fields):
        return tuple.__new__(Cell, fields)
    if len(fields) == len(pyte.screens.Char._fields):  # a cell stock pyte made
        return tuple.__new__(pyte.screens.Char, fields)
    raise TerminalFormatError(f"a cell has {len(fields)} fields")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TerminalFormatError(f"expected text, found {type(value).__name__}")
    return value


def _restore_screen(screen: Screen, s: dict[str, Any], table: list[Any]) -> None:
    screen._buffer = _restore_rows(screen._new_buffer(), s["buffer"], table)
    if s["main"] is not None:
        screen._main_buffer = _restore_rows(screen._new_buffer(), s["main"], table)
    screen._main_size = (int(s["main_size"][0]), int(s["main_size"][1]))
    screen._alternate = bool(s["alternate"])
    alt = s["alt_saved"]
    screen._alt_saved = None if alt is None else (alt[0], alt[1], table[alt[2]])
    x, y, attrs, hidden = s["cursor"]
    screen.cursor = _cursor(x, y, table[attrs], hidden)
    screen.savepoints = [
        Savepoint(_cursor(x, y, table[a], hid), _CHARSETS[g0], _CHARSETS[g1], cs, origin, wrap)
        for x, y, a, hid, g0, g1, cs, origin, wrap in s["savepoints"]
    ]
    screen.mode = set(s["mode"])
    screen.margins = None if s["margins"] is None else Margins(*s["margins"])
    screen.tabstops = set(s["tabstops"])
    g0, g1, charset = s["charsets"]
    screen.g0_charset, screen.g1_charset, screen.charset = _CHARSETS[g0], _CHARSETS[g1], charset
    screen.saved_columns = s["saved_columns"]
    screen.title = _str(s["title"])
    screen.icon_name = _str(s["icon_name"])
    screen.cwd = s["cwd"]
    screen.bells = s["bells"]
    screen.cursor_style = s["cursor_style"]
    screen.keypad_application = s["keypad_application"]
    screen.synchronized_since = s["synchronized_since"]
    screen.osc_events = [(code, text) for code, text in s["osc_events"]]
    screen.colors = dict(s["colors"])
    screen.dynamic_colors = dict(s["dynamic_colors"])
    screen.cell_pixels = (s["cell_pixels"][0], s["cell_pixels"][1])
    mark, at, options, key, code, command_open = s["prompt"]
    screen.prompt_mark = mark
    screen.prompt_input = None if at is None else (at[0], at[1])
    screen.prompt_options = dict(options)
    screen.prompt_key = key
    screen.last_exit_code = code
    screen._command_open = command_open
    # images made before typed input was counted have none
    typed = s.get("typed", (0, 0, 0, 0))
    screen.typed, screen.typed_at_command, screen.typed_at_prompt, screen.prompt_history = typed
    if "commands" in s:  # images made before command records have none
        screen.commands = CommandTracker.from_state(s["commands"])
    screen._last_char = _str(s["last_char"])
    screen._unscrolled, screen._evicted_seen = s.get("unscrolled", (0, 0))
    if s["zwj_seen"]:
        screen._zwj_seen = True
    if s["fast_errors"]:
        screen.fast_errors = s["fast_errors"]
    if not s["bulk_draw"]:
        screen.bulk_draw = False
    screen.dirty = set(range(screen.lines))


def _cursor(x: int, y: int, attrs: Any, hidden: bool) -> Any:
    cursor = pyte.screens.Cursor(x, y, attrs)
    cursor.hidden = bool(hidden)
    return cursor


def _restore_rows(buffer: Any, rows: list[list[Any]], table: list[Any]) -> Any:
    for y, flags, default, xs, refs, *hist in rows:
        row: Any
        if flags & _ROW_FAST:
            row = FastRow(table[default], HistoryLine(""))
            row.hist = _restore_line(hist[0], table) if hist else None  # None: a cell changed
        else:
            row = StaticDefaultDict(table[default])
        if flags & _ROW_WRAPPED:
            row.wrapped = True
        if flags & _ROW_GAP:
            row.gap = True
        dict.update(row, zip(xs, map(table.__getitem__, refs), strict=True))
        buffer[y] = row
    return buffer


def _restore_line(item: list[Any], table: list[Any]) -> HistoryLine:
    text, flat, wrapped = item
    runs = tuple(
        (count, None if i < 0 else table[i]) for count, i in zip(flat[::2], flat[1::2], strict=True)
    )
    return HistoryLine(_str(text), runs, bool(wrapped))


def _restore_history(
    history: Scrollback, h: dict[str, Any], blocks: tuple[bytes, ...], table: list[Any]
) -> None:
    meta = h["blocks"]
    if len(meta) != len(blocks):
        raise TerminalFormatError(f"terminal image has {len(blocks)} blocks, its head {len(meta)}")
    # A block is read only when someone scrolls to it: one cut short or mangled is refused
    # now (about 1 ms for 10k lines), not when a reader meets it. Its records are not parsed.
    decompressor = zstandard.ZstdDecompressor()
    for n, data in enumerate(blocks):
        try:
            if zstandard.get_frame_parameters(data).content_size > MAX_HEAD:
                raise zstandard.ZstdError("too large")
            decompressor.decompress(data)
        except zstandard.ZstdError as error:
            raise TerminalFormatError(f"scrollback block {n} is corrupt: {error}") from None
    history._cold = deque(
        _Block(data, count, widest, wrapped)
        for data, (count, widest, wrapped) in zip(blocks, meta, strict=True)
    )
    history._skip = h["skip"]
    history._attrs = [table[i] for i in h["attrs"]]
    history._attr_index = {attrs: i for i, attrs in enumerate(history._attrs)}
    hot: deque[HistoryLine | RawLines] = deque()
    for item in h["hot"]:
        if len(item) == 4:
            text, attrs, columns, count = item
            hot.append(RawLines(_str(text), table[attrs], columns, count))
        else:
            hot.append(_restore_line(item, table))
    history._hot = hot
    history._hot_lines = sum(e.count if type(e) is RawLines else 1 for e in hot)
    history._hot_raw = sum(type(e) is RawLines for e in hot)
    history._cold_lines = sum(b.count for b in history._cold) - history._skip
    history.nbytes = h["nbytes"]
    history.dropped = h["dropped"]
