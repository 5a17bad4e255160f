"""Scrolled-off lines kept compactly: the text plus style runs, capped by lines and by bytes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import zstandard

from engine.cells import HistoryLine, RawLines, Run
from engine.fastpath import decode_raw

__all__ = ["HistoryLine", "RawLines", "Run", "Scrollback"]

Entry = HistoryLine | RawLines


def _count(entry: Entry) -> int:
    return entry.count if type(entry) is RawLines else 1


class _Block:
    """Old history lines, zstd-compressed together (decompressed only when looked at)."""

    __slots__ = ("count", "data")

    def __init__(self, data: bytes, count: int) -> None:
        self.data = data
        self.count = count

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

    def push_many(self, entries: Iterable[Entry]) -> None:
        """Append lines and raw runs of lines (oldest first) in one go: what a flood does."""
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
        self._evict()

    def _freeze(self) -> None:
        """Compress the oldest BLOCK (or a few more) hot lines into a cold block."""
        entries: list[Entry] = []
        count = 0
        while count < self.BLOCK:
            entry = self._pop_oldest_hot()
            entries.append(entry)
            count += _count(entry)
        block = _Block(self._compressor.compress(self._encode(entries)), count)
        self._cold.append(block)
        self._cold_lines += block.count
        self.nbytes += block.nbytes

    def _evict(self) -> None:
        while len(self) > self.max_lines or (self.nbytes > self.max_bytes and len(self) > 1):
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

    def clear(self) -> None:
        self.dropped += len(self)
        self._hot.clear()
        self._cold.clear()
        self._hot_lines = self._hot_raw = self._cold_lines = self._skip = 0
        self._cached = None
        self.nbytes = 0

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

    def _thaw(self, block: _Block) -> list[HistoryLine]:
        if self._cached is not None and self._cached[0] is block:
            return self._cached[1]
        attrs = self._attrs
        lines: list[HistoryLine] = []
        for record in self._decompressor.decompress(block.data).decode().split("\x1e"):
            if record.startswith("\x1d"):
                head, text = record[1:].split("\x1f", 1)
                index, columns = head.split(".")
                lines += decode_raw(RawLines(text, attrs[int(index)], int(columns), 0))
                continue
            text, runs_text, wrapped = record.split("\x1f")
            runs = []
            if runs_text:
                for run in runs_text.split(","):
                    count, _, i = run.partition(".")
                    runs.append((int(count), attrs[int(i)] if i else None))
            lines.append(HistoryLine(text, tuple(runs), bool(wrapped)))
        self._cached = (block, lines)
        return lines
