"""Scrolled-off lines kept compactly: the text plus style runs, capped by lines and by bytes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

import zstandard

# One style run: how many characters of the line's text share `attrs` (a terminal cell with
# empty data, or None for the default style).
Run = tuple[int, Any]


class HistoryLine(NamedTuple):
    """One line that scrolled off the top: its text (wide characters once) and style runs."""

    text: str
    runs: tuple[Run, ...] = ()
    wrapped: bool = False  # the line continues on the next one (autowrap, not a newline)

    def nbytes(self) -> int:
        """A fair estimate of the memory this line holds, for the byte cap (an ASCII str is
        49 bytes plus one per character; the tuple and each run add the rest)."""
        return len(self.text) + 121 + 16 * len(self.runs)


class _Block:
    """Old history lines, zstd-compressed together (decompressed only when looked at)."""

    __slots__ = ("count", "data")

    def __init__(self, data: bytes, count: int) -> None:
        self.data = data
        self.count = count

    @property
    def nbytes(self) -> int:
        return len(self.data) + 64


class Scrollback:
    """Scrolled-off lines, oldest first: the newest `hot` lines as objects, older ones in
    zstd-compressed blocks that are decompressed on demand (scrolling, search, capture).

    Capped both by line count and by bytes (compressed blocks count at their compressed size):
    a flood of very long lines drops old lines instead of growing memory without end (the
    line-count-only cap of zellij's #2104).
    """

    HOT = 1024  # newest lines kept as objects (what a resize pulls back, what is shown first)
    BLOCK = 512  # lines per compressed block

    def __init__(self, max_lines: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_lines = max(0, max_lines)
        self.max_bytes = max(0, max_bytes)
        self.nbytes = 0
        self.dropped = 0  # lines gone from the oldest end since creation (evicted or cleared)
        self._hot: deque[HistoryLine] = deque()
        self._cold: deque[_Block] = deque()
        self._cold_lines = 0  # lines in cold blocks, less those skipped in the oldest block
        self._skip = 0  # lines of the oldest block already evicted
        self._attrs: list[Any] = []  # run attributes, by the index blocks store
        self._attr_index: dict[Any, int] = {}
        self._cached: tuple[_Block, list[HistoryLine]] | None = None
        self._compressor = zstandard.ZstdCompressor(level=3)
        self._decompressor = zstandard.ZstdDecompressor()

    def __len__(self) -> int:
        return self._cold_lines + len(self._hot)

    def __getitem__(self, index: int) -> HistoryLine:
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("scrollback index out of range")
        if index >= self._cold_lines:
            return self._hot[index - self._cold_lines]
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
        yield from list(self._hot)

    def push(self, line: HistoryLine) -> None:
        """Append the newest line, evicting the oldest ones past either cap."""
        self.push_many([line])

    def push_many(self, lines: list[HistoryLine]) -> None:
        """Append lines (oldest first) in one go: what a flood of output does."""
        if self.max_lines == 0 or not lines:
            return
        self._hot.extend(lines)
        self.nbytes += sum([len(h.text) + 121 + 16 * len(h.runs) for h in lines])
        while len(self._hot) >= self.HOT + self.BLOCK:
            self._freeze()
        self._evict()

    def _freeze(self) -> None:
        """Compress the oldest BLOCK hot lines into a cold block."""
        lines = [self._hot.popleft() for _ in range(self.BLOCK)]
        self.nbytes -= sum(h.nbytes() for h in lines)
        block = _Block(self._compressor.compress(self._encode(lines)), len(lines))
        self._cold.append(block)
        self._cold_lines += block.count
        self.nbytes += block.nbytes

    def _evict(self) -> None:
        while len(self) > self.max_lines or (self.nbytes > self.max_bytes and len(self) > 1):
            if not self._cold:
                self.nbytes -= self._hot.popleft().nbytes()
                self.dropped += 1
                continue
            oldest = self._cold[0]
            left = oldest.count - self._skip
            # Bytes come back only when a whole block goes; the line cap can nibble.
            take = left if self.nbytes > self.max_bytes else min(left, len(self) - self.max_lines)
            self._skip += take
            self._cold_lines -= take
            self.dropped += take
            if self._skip >= oldest.count:
                self._cold.popleft()
                self.nbytes -= oldest.nbytes
                self._skip = 0

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
            self.nbytes += sum(h.nbytes() for h in lines)
        line = self._hot.pop()
        self.nbytes -= line.nbytes()
        return line

    def clear(self) -> None:
        self.dropped += len(self)
        self._hot.clear()
        self._cold.clear()
        self._cold_lines = self._skip = 0
        self._cached = None
        self.nbytes = 0

    def search(self, needle: str) -> list[int]:
        """Indexes (oldest = 0) of the lines whose text contains `needle`."""
        return [i for i, line in enumerate(self) if needle in line.text]

    # -- block encoding: text \x1f runs \x1f wrapped, lines joined by \x1e (terminal cells
    # never hold C0 controls, so these separators cannot occur in the text)

    def _encode(self, lines: list[HistoryLine]) -> bytes:
        index = self._attr_index
        out = []
        for line in lines:
            runs = []
            for count, attrs in line.runs:
                if attrs is None:
                    runs.append(f"{count}.")
                else:
                    i = index.get(attrs)
                    if i is None:
                        i = index[attrs] = len(self._attrs)
                        self._attrs.append(attrs)
                    runs.append(f"{count}.{i}")
            out.append(f"{line.text}\x1f{','.join(runs)}\x1f{'1' if line.wrapped else ''}")
        return "\x1e".join(out).encode()

    def _thaw(self, block: _Block) -> list[HistoryLine]:
        if self._cached is not None and self._cached[0] is block:
            return self._cached[1]
        attrs = self._attrs
        lines = []
        for record in self._decompressor.decompress(block.data).decode().split("\x1e"):
            text, runs_text, wrapped = record.split("\x1f")
            runs = []
            if runs_text:
                for run in runs_text.split(","):
                    count, _, i = run.partition(".")
                    runs.append((int(count), attrs[int(i)] if i else None))
            lines.append(HistoryLine(text, tuple(runs), bool(wrapped)))
        self._cached = (block, lines)
        return lines
