"""Scrolled-off lines kept compactly: the text plus style runs, capped by lines and by bytes."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import zstandard

from engine.cells import HistoryLine, RawLines, Run
from engine.fastpath import decode_raw
from engine.width import NARROW_RUN, WIDE_RUN, ZWJ, char_width

__all__ = ["HistoryLine", "RawLines", "Run", "Scrollback", "line_width", "rewrap", "trimmed"]

Entry = HistoryLine | RawLines


def _count(entry: Entry) -> int:
    return entry.count if type(entry) is RawLines else 1


class _Block:
    """Old history lines, zstd-compressed together (decompressed only when looked at)."""

    __slots__ = ("count", "data", "made", "other", "widest", "wrapped")

    def __init__(self, data: bytes, count: int, widest: int, wrapped: bool) -> None:
        self.data = data
        self.count = count
        self.widest = widest  # no line is wider (a bound: a reflow to this width or more...)
        self.wrapped = wrapped  # ...leaves the block as it is if none of its lines wraps
        self.made = 0  # the width a reflow made it at (its lines are as that reflow cuts them)
        # (width, block): this block reflowed to that width, kept from the last resize, so a
        # zoom or split toggled back and forth rewraps nothing (a cache, not state)
        self.other: tuple[int, _Block] | None = None

    @property
    def nbytes(self) -> int:
        return len(self.data) + 64


_BLOCK_PARAMS = zstandard.ZstdCompressionParameters.from_level(3, source_size=128 * 1024)


class Scrollback:
    """Scrolled-off lines, oldest first: the newest `hot` lines in memory, older ones in
    zstd-compressed blocks that are decompressed on demand (scrolling, search, capture).

    A flood arrives as `RawLines` (the program's own text, parsed only when looked at); hot
    entries are decoded into `HistoryLine`s on first access. Capped both by line count and by
    bytes (compressed blocks count at their compressed size): a flood of very long lines drops
    old lines instead of growing memory without end (the line-count-only cap of zellij's #2104).
    """

    HOT = 1024  # newest lines kept uncompressed (what a resize pulls back, what is shown first)
    BLOCK = 512  # lines per compressed block (at least; a block never splits a RawLines)

    def __init__(self, max_lines: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_lines = max(0, max_lines)
        self.max_bytes = max(0, max_bytes)
        self.nbytes = 0
        self.dropped = 0  # lines gone from the oldest end since creation (evicted or cleared)
        self._hot: deque[Entry] = deque()
        self._hot_lines = 0  # lines the hot entries stand for
        self._hot_raw = 0  # hot entries still raw
        self._cold: deque[_Block] = deque()
        self._cold_lines = 0  # lines in cold blocks, less those skipped in the oldest block
        self._skip = 0  # lines of the oldest block already evicted
        self._attrs: list[Any] = []  # run attributes, by the index blocks store
        self._attr_index: dict[Any, int] = {}
        self._cached: tuple[_Block, list[HistoryLine]] | None = None
        # Level 3 tuned for a block's size: the same ratio, but tables sized for ~100 KB
        # instead of level 3's default window (1.3 MiB less per pane).
        self._compressor = zstandard.ZstdCompressor(compression_params=_BLOCK_PARAMS)
        self._decompressor = zstandard.ZstdDecompressor()

    def __len__(self) -> int:
        return self._cold_lines + self._hot_lines

    def __getitem__(self, index: int) -> HistoryLine:
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("scrollback index out of range")
        if index >= self._cold_lines:
            self._decode_hot()
            return self._hot[index - self._cold_lines]  # type: ignore[return-value]
        index += self._skip
        for block in self._cold:
            if index < block.count:
                return self._thaw(block)[index]
            index -= block.count
        raise IndexError("scrollback index out of range")  # pragma: no cover

    def __iter__(self) -> Iterator[HistoryLine]:
        skip = self._skip
        for block in list(self._cold):
            yield from self._thaw(block)[skip:]
            skip = 0
        self._decode_hot()
        yield from list(self._hot)  # type: ignore[misc]

    def push(self, line: HistoryLine) -> None:
        """Append the newest line, evicting the oldest ones past either cap."""
        self.push_many([line])

    def push_many(self, entries: Iterable[Entry], cap_lines: bool = True) -> None:
        """Append lines and raw runs of lines (oldest first) in one go: what a flood does.
        Without `cap_lines` the line cap waits for the next push (a reflow's rows)."""
        if self.max_lines == 0:
            return
        for entry in entries:
            self._hot.append(entry)
            self.nbytes += entry.nbytes()
            if type(entry) is RawLines:
                self._hot_lines += entry.count
                self._hot_raw += 1
            else:
                self._hot_lines += 1
        while self._hot_lines >= self.HOT + self.BLOCK:
            self._freeze()
        self._evict(by_lines=cap_lines)

    def _freeze(self) -> None:
        """Compress the oldest BLOCK (or a few more) hot lines into a cold block."""
        entries: list[Entry] = []
        count = 0
        while count < self.BLOCK or (  # a block ends where a line does, if not too long
            count < 2 * self.BLOCK and type(entries[-1]) is HistoryLine and entries[-1].wrapped
        ):
            entry = self._pop_oldest_hot()
            entries.append(entry)
            count += _count(entry)
        block = self._block(entries, count)
        self._cold.append(block)
        self._cold_lines += block.count
        self.nbytes += block.nbytes

    def _evict(self, by_lines: bool = True) -> None:
        while (by_lines and len(self) > self.max_lines) or (
            self.nbytes > self.max_bytes and len(self) > 1
        ):
            if not self._cold:
                oldest = self._hot[0]
                if type(oldest) is RawLines:
                    if oldest.count <= len(self) - self.max_lines:
                        self._drop_hot()  # all of it goes: no need to decode it
                    else:
                        self._decode_oldest()
                    continue
                self._drop_hot()
                continue
            block = self._cold[0]
            left = block.count - self._skip
            # Bytes come back only when a whole block goes; the line cap can nibble.
            take = left if self.nbytes > self.max_bytes else min(left, len(self) - self.max_lines)
            self._skip += take
            self._cold_lines -= take
            self.dropped += take
            if self._skip >= block.count:
                self._cold.popleft()
                self.nbytes -= block.nbytes
                self._skip = 0

    def _pop_oldest_hot(self) -> Entry:
        """Take the oldest hot entry out of the hot lines' books."""
        entry = self._hot.popleft()
        self.nbytes -= entry.nbytes()
        self._hot_lines -= _count(entry)
        if type(entry) is RawLines:
            self._hot_raw -= 1
        return entry

    def _drop_hot(self) -> None:
        self.dropped += _count(self._pop_oldest_hot())

    def _decode_oldest(self) -> None:
        """Decode the oldest hot entry, a raw one (part of it is about to be evicted)."""
        raw = self._hot.popleft()
        assert type(raw) is RawLines
        self._hot.extendleft(reversed(self._decode(raw)))

    def _decode(self, raw: RawLines) -> list[HistoryLine]:
        """The lines a hot raw entry stands for, the books moved over to them."""
        lines = decode_raw(raw)
        self.nbytes += sum(line.nbytes() for line in lines) - raw.nbytes()
        self._hot_raw -= 1
        return lines

    def _decode_hot(self) -> None:
        """Turn the hot raw entries into history lines (someone is looking at them)."""
        if not self._hot_raw:
            return
        decoded: deque[Entry] = deque()
        for entry in self._hot:
            if type(entry) is RawLines:
                decoded.extend(self._decode(entry))
            else:
                decoded.append(entry)
        self._hot = decoded

    def pop_newest(self) -> HistoryLine:
        """Take back the newest line (a pane grew taller and pulls history down)."""
        if not self._hot and self._cold:
            block = self._cold.pop()
            lines = self._thaw(block)[self._skip if not self._cold else 0 :]
            self._cold_lines -= len(lines)
            self.nbytes -= block.nbytes
            if not self._cold:
                self._skip = 0
            self._hot.extend(lines)
            self._hot_lines += len(lines)
            self.nbytes += sum(h.nbytes() for h in lines)
        self._decode_hot()
        line = self._hot.pop()
        self._hot_lines -= 1
        self.nbytes -= line.nbytes()
        return line  # type: ignore[return-value]

    def unwrap_newest(self) -> None:
        """The newest line no longer goes on onto the screen: a reflow will not join them."""
        if len(self) and self[-1].wrapped:
            line = self.pop_newest()
            self.push(line._replace(wrapped=False))

    def clear(self) -> None:
        self.dropped += len(self)
        self._hot.clear()
        self._cold.clear()
        self._hot_lines = self._hot_raw = self._cold_lines = self._skip = 0
        self._cached = None
        self.nbytes = 0

    def _block(self, entries: list[Entry], count: int) -> _Block:
        widest, wrapped = 0, False
        for entry in entries:
            if type(entry) is RawLines:
                lines = entry.text.split("\r\n")
                widest = max(widest, *map(len, lines))  # SGR counted: a bound
                wrapped = wrapped or entry.count > len(lines) - 1
            else:
                text = entry.text
                widest = max(widest, len(text) if text.isascii() else 2 * len(text))
                wrapped = wrapped or entry.wrapped  # type: ignore[union-attr]
        data = self._compressor.compress(self._encode(entries))
        return _Block(data, count, widest, wrapped)

    def reflow(self, columns: int, old_columns: int = 0) -> None:
        """Cut soft-wrapped lines again at `columns` wide and join them where they now fit, as
        tmux does on a resize. Lines ended by a newline are never joined; lines that fit and
        do not wrap are kept as they are, and so are compressed blocks of such lines. A last
        line that wraps (its rest is on the screen) is left to the caller, with the screen's
        rows. A block reflowed back to the width it came from (`old_columns`) is the block it
        was, when that is exact (`_Block.other`)."""
        chain: list[HistoryLine] = []  # a line that goes on in the next block
        cold: deque[_Block] = deque()
        skip = self._skip
        for n, block in enumerate(self._cold):
            if not chain and not block.wrapped and block.widest <= columns:
                cold.append(block)
                continue
            if n == 0 and skip:  # partly evicted: its lines, not its raw runs
                entries, chain = _reflow_entries(self._thaw(block)[skip:], columns, chain)
                skip = 0
            elif not chain and block.other is not None and block.other[0] == columns:
                cold.append(block.other[1])  # (its own `other` leads back here if exact)
                continue
            else:
                alone = not chain
                old = self._entries(block)
                entries, chain = _reflow_entries(old, columns, chain)
                if alone and not chain and entries:
                    new = self._block(entries, sum(map(_count, entries)))
                    new.made = columns
                    block.other = (columns, new)
                    if _comes_back(block, old, old_columns, columns):
                        new.other = (old_columns, block)
                    cold.append(new)
                    continue
            if entries:
                new = self._block(entries, sum(map(_count, entries)))
                new.made = columns
                cold.append(new)
        hot, chain = _reflow_entries(list(self._hot), columns, chain)
        hot += chain
        self._cold, self._skip, self._cached = cold, skip, None
        self._cold_lines = sum(block.count for block in cold) - skip
        self._hot = deque(hot)
        self._hot_lines = sum(map(_count, hot))
        self._hot_raw = sum(type(entry) is RawLines for entry in hot)
        self.nbytes = sum(block.nbytes for block in cold) + sum(entry.nbytes() for entry in hot)
        while self._hot_lines >= self.HOT + self.BLOCK:
            self._freeze()
        self._evict(by_lines=False)  # more lines than the cap until the next one comes (tmux)

    def wrapped_flags(self, start: int = 0, stop: int | None = None) -> list[bool]:
        """The `wrapped` flags of lines `start` to `stop` (`[l.wrapped for l in self][start:
        stop]`), without decoding raw runs or opening blocks outside the range: a reflow's
        bookkeeping of prompt marks reads many."""
        size = len(self)
        stop = size if stop is None else min(stop, size)
        flags: list[bool] = []
        at = -self._skip  # the index of the current block's first line
        for block in self._cold:
            if at >= stop:
                return flags
            if at + block.count > start:
                cached = self._cached
                entries = cached[1] if cached is not None and cached[0] is block else None
                got = _wrapped_flags(entries if entries is not None else self._entries(block))
                flags += got[max(start - at, 0) : stop - at]
            at += block.count
        if at < stop:
            flags += _wrapped_flags(self._hot)[max(start - at, 0) : stop - at]
        return flags

    def search(self, needle: str) -> list[int]:
        """Indexes (oldest = 0) of the lines whose text contains `needle`."""
        return [i for i, line in enumerate(self) if needle in line.text]

    # -- block encoding: records joined by \x1e; a line is text \x1f runs \x1f wrapped, a raw
    # run is \x1d attrs.columns \x1f its text (terminal cells never hold C0 controls and raw
    # text is printable, ESC and CR LF, so the separators cannot occur inside)

    def _index(self, attrs: Any) -> int:
        i = self._attr_index.get(attrs)
        if i is None:
            i = self._attr_index[attrs] = len(self._attrs)
            self._attrs.append(attrs)
        return i

    def _encode(self, entries: list[Entry]) -> bytes:
        out = []
        for entry in entries:
            if isinstance(entry, RawLines):
                out.append(f"\x1d{self._index(entry.attrs)}.{entry.columns}\x1f{entry.text}")
                continue
            runs = [
                f"{count}." if attrs is None else f"{count}.{self._index(attrs)}"
                for count, attrs in entry.runs
            ]
            out.append(f"{entry.text}\x1f{','.join(runs)}\x1f{'1' if entry.wrapped else ''}")
        return "\x1e".join(out).encode()

    def _entries(self, block: _Block) -> list[Entry]:
        """A block's records: history lines, and raw runs (their `count` left at 0)."""
        attrs = self._attrs
        entries: list[Entry] = []
        for record in self._decompressor.decompress(block.data).decode().split("\x1e"):
            if record.startswith("\x1d"):
                head, text = record[1:].split("\x1f", 1)
                index, columns = head.split(".")
                entries.append(RawLines(text, attrs[int(index)], int(columns), 0))
                continue
            text, runs_text, wrapped = record.split("\x1f")
            runs = []
            if runs_text:
                for run in runs_text.split(","):
                    count, _, i = run.partition(".")
                    runs.append((int(count), attrs[int(i)] if i else None))
            entries.append(HistoryLine(text, tuple(runs), bool(wrapped)))
        return entries

    def _thaw(self, block: _Block) -> list[HistoryLine]:
        if self._cached is not None and self._cached[0] is block:
            return self._cached[1]
        lines: list[HistoryLine] = []
        for entry in self._entries(block):
            if type(entry) is RawLines:
                lines += decode_raw(entry)
            else:
                lines.append(entry)  # type: ignore[arg-type]
        self._cached = (block, lines)
        return lines


# -- reflow: a line's cells cut into rows, as tmux's grid_reflow does


_NARROW = NARROW_RUN  # one column each


def _comes_back(block: _Block, entries: list[Entry], width: int, columns: int) -> bool:
    """Whether reflowing `block`'s lines (`entries`) to `columns` and then back to `width` gives
    the block again. It must be as a reflow to `width` leaves it: made by one, and no wrapped
    line's last row ends in blanks (a reflow trims only the last row, so blanks before it end
    up last and the next reflow trims those too). Narrowing, no line that fits at `width` but
    not at `columns` may end in blanks either (narrowing trims them, widening keeps the line
    as it then is)."""
    if block.made != width or columns < 2:
        return False
    after_wrap = False
    for entry in entries:
        if type(entry) is HistoryLine:
            text = entry.text
            if (
                not entry.wrapped
                and text[-1:] == " "
                and (after_wrap or (columns < width and line_width(text) > columns))
            ):
                return False
            after_wrap = entry.wrapped
        else:
            after_wrap = False
    return True


def _reflow_lines(
    lines: list[HistoryLine], columns: int
) -> tuple[list[HistoryLine], list[HistoryLine]]:
    """`lines` rewrapped at `columns`, and the last line's rows still to come (it wraps)."""
    out: list[HistoryLine] = []
    chain: list[HistoryLine] = []
    for line in lines:
        if chain or line.wrapped:
            chain.append(line)
            if not line.wrapped:
                chain[-1] = trimmed(line)
                out += rewrap(chain, columns)
                chain = []
        elif len(line.text) <= columns // 2 or line_width(line.text) <= columns:
            out.append(line)
        else:
            out += rewrap([trimmed(line)], columns)
    return out, chain


def _reflow_entries(
    entries: Sequence[Entry], columns: int, chain: list[HistoryLine]
) -> tuple[list[Entry], list[HistoryLine]]:
    """`_reflow_lines` for history lines and raw runs: a raw run only counts its rows again
    (it is decoded at the width it says when someone looks)."""
    out: list[Entry] = []
    lines: list[HistoryLine] = []
    for entry in entries:
        if type(entry) is not RawLines:
            lines.append(entry)  # type: ignore[arg-type]
            continue
        done, chain = _reflow_lines(chain + lines, columns)
        out += done
        lines = []
        if chain:  # a wrapped line going on into raw text (the fast path never makes one)
            done, chain = _reflow_lines(chain + decode_raw(entry), columns)
            out += done
            continue
        visible = _SGR.sub("", entry.text).split("\r\n")
        visible.pop()
        count = sum((len(v) - 1) // columns + 1 if v else 1 for v in visible)
        out.append(entry._replace(columns=columns, count=count))
    done, chain = _reflow_lines(chain + lines, columns)
    return out + done, chain


_SGR = re.compile("\x1b\\[[0-9;]*m")


def _wrapped_flags(entries: Iterable[Entry]) -> list[bool]:
    """The `wrapped` flag of each line `entries` stand for; a raw run's from its lines'
    widths, as `decode_raw` would cut them (the fast path takes one-column text only)."""
    flags: list[bool] = []
    for entry in entries:
        if type(entry) is not RawLines:
            flags.append(entry.wrapped)  # type: ignore[union-attr]
            continue
        columns = entry.columns
        visible = _SGR.sub("", entry.text).split("\r\n")
        visible.pop()
        for v in visible:
            if len(v) > columns:
                flags += [True] * ((len(v) - 1) // columns)
            flags.append(False)
    return flags


_cell_width = char_width
_NOT_SINGLE = re.compile("[^\x00-\u02ff]")  # below U+0300 every cell character is one column


def _single(text: str) -> bool:
    """Whether every character of `text` is one cell of one column (a regex finds the first
    one that is not at C speed: `max(text)` walks the whole line in Python objects)."""
    return text.isascii() or _NOT_SINGLE.search(text) is None


def _cells(text: str) -> tuple[list[str], list[int]]:
    """Each cell's text and width, cut as `split_cells` does (zero-width characters, and one
    that is not plain ASCII after a ZWJ, stay with the cell before)."""
    cells: list[str] = []
    widths: list[int] = []
    for ch in text:
        width = _cell_width(ch)
        if cells and (width <= 0 or (ch > "~" and cells[-1][-1] == ZWJ)):
            cells[-1] += ch
        elif width > 0:
            cells.append(ch)
            widths.append(width)
    return cells, widths


def _per_cell(runs: list[list[Any]]) -> list[tuple[int, Any]]:
    return [(1, attrs) for count, attrs in runs for _ in range(count)]


def trimmed(line: HistoryLine, keep: int = 0) -> HistoryLine:
    """A line ended by a newline without the blanks at its end, whatever their colours: what
    the program wrote ends before them (a background colour filled them, as tmux's reflow
    sees it). The first `keep` columns stay (a cursor after blanks it wrote)."""
    text = line.text.rstrip(" ")
    cut = len(line.text) - len(text)
    if cut and keep:
        cut = min(cut, line_width(line.text) - keep)
        text = line.text[: len(line.text) - cut] if cut > 0 else line.text
    if cut <= 0:
        return line
    runs = list(line.runs)
    while cut and runs:
        count, attrs = runs.pop()
        if count > cut:
            runs.append((count - cut, attrs))
        cut -= min(count, cut)
    if all(attrs is None for _, attrs in runs):
        runs = []
    return HistoryLine(text, tuple(runs), line.wrapped)


def _widths(text: str) -> list[int]:
    """The widths of a line's cells; runs of one-column characters are counted, not walked."""
    if ZWJ in text:
        return _cells(text)[1]
    rest = _NARROW.sub("", text)
    widths = [w for w in map(_cell_width, rest) if w > 0]
    return widths + [1] * (len(text) - len(rest))


def line_width(text: str) -> int:
    """The columns a line's text takes (wide characters two)."""
    if _single(text):
        return len(text)
    return sum(_widths(text))


def _cell_count(text: str) -> int:
    if _single(text):
        return len(text)
    return len(_widths(text))


_RUNS = re.compile(f"({NARROW_RUN.pattern})|{WIDE_RUN.pattern}")
"""A run of one-column characters (group 1) or of two-column ones: cut by slicing."""


def _layout(text: str, columns: int) -> tuple[list[str], list[int]]:
    """`text` cut into rows of at most `columns` columns (each row's text and cell count); a
    wide character that does not fit moves to the next row whole. Runs of one- and
    two-column characters are cut by slicing (a wide run is as fast as an ASCII one), the
    rest (zero-width, joined after a ZWJ) looked at one by one."""
    texts: list[str] = []
    sizes: list[int] = []
    row: list[str] = []
    cells = used = pos = 0
    for m in [*_RUNS.finditer(text), None]:
        start = len(text) if m is None else m.start()
        for ch in text[pos:start]:
            width = _cell_width(ch)
            if width <= 0 or (ch > "~" and row and row[-1][-1] == ZWJ):
                if row:  # joins the cell before (never cut from it: rows end lazily)
                    row.append(ch)
                continue
            if used + width > columns and cells:
                texts.append("".join(row))
                sizes.append(cells)
                row, cells, used = [], 0, 0
            row.append(ch)
            cells += 1
            used += width
        if m is None:
            break
        seg, i = m.group(), 0
        if row and row[-1][-1] == ZWJ and seg[0] > "~":  # joins the cell before
            row.append(seg[0])
            i = 1
        width = 1 if m.start(1) >= 0 else 2
        while i < len(seg):
            fit = (columns - used) // width
            if not fit:
                if cells:
                    texts.append("".join(row))
                    sizes.append(cells)
                    row, cells, used = [], 0, 0
                fit = max(1, columns // width)  # (a row too narrow for one: caller drops it)
            take = seg[i : i + fit]
            row.append(take)
            cells += len(take)
            used += len(take) * width
            i += len(take)
        pos = m.end()
    texts.append("".join(row))
    sizes.append(cells)
    return texts, sizes


def rewrap(chain: list[HistoryLine], columns: int) -> list[HistoryLine]:
    """One logical line (rows joined by their wrapped marks) cut again into rows of at most
    `columns` cells: all but the last row wrapped, the last keeps the chain's last mark. A
    wide character that does not fit moves to the next row whole, as drawing it does."""
    text = "".join(h.text for h in chain)
    wrapped = chain[-1].wrapped
    runs: list[list[Any]] | None = None
    if any(h.runs for h in chain):
        runs = []
        for h in chain:
            if h.runs:
                runs += [[count, attrs] for count, attrs in h.runs]
            elif h.text:
                runs.append([_cell_count(h.text), None])
    if _single(text):  # one column a character
        texts = [text[i : i + columns] for i in range(0, len(text), columns)] or [""]
        sizes = [len(t) for t in texts]
    else:
        if columns < 2:  # a wide character fits no row: dropped, as drawing does
            cells, widths = _cells(text)
            if runs:
                runs = [[c, a] for w, (c, a) in zip(widths, _per_cell(runs), strict=False) if w < 2]
            text = "".join(c for c, w in zip(cells, widths, strict=True) if w < 2)
        texts, sizes = _layout(text, columns)
    if runs:
        runs.reverse()  # taken from the end
    out = []
    last = len(texts) - 1
    for n, (piece, size) in enumerate(zip(texts, sizes, strict=True)):
        piece_runs: tuple[Run, ...] = ()
        if runs:
            taken: list[Run] = []
            while size and runs:
                count, attrs = runs[-1]
                take = min(count, size)
                taken.append((take, attrs))
                size -= take
                if take == count:
                    runs.pop()
                else:
                    runs[-1][0] -= take
            if any(attrs is not None for _, attrs in taken):
                piece_runs = tuple(taken)
        out.append(HistoryLine(piece, piece_runs, wrapped if n == last else True))
    return out
