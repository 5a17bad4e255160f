"""Scrolled-off lines kept compactly: the text plus style runs, capped by lines and by bytes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

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


class Scrollback:
    """A bounded deque of `HistoryLine`s, oldest first.

    Capped both by line count and by bytes: a flood of very long lines drops old lines instead
    of growing memory without end (the line-count-only cap of zellij's #2104).
    """

    def __init__(self, max_lines: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_lines = max(0, max_lines)
        self.max_bytes = max(0, max_bytes)
        self.nbytes = 0
        self.dropped = 0  # lines evicted by either cap since creation
        self._lines: deque[HistoryLine] = deque()

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index: int) -> HistoryLine:
        return self._lines[index]

    def __iter__(self) -> Iterator[HistoryLine]:
        return iter(self._lines)

    def push(self, line: HistoryLine) -> None:
        """Append the newest line, evicting the oldest ones past either cap."""
        self.push_many([line])

    def push_many(self, lines: list[HistoryLine]) -> None:
        """Append lines (oldest first) in one go: what a flood of output does."""
        if self.max_lines == 0 or not lines:
            return
        self._lines.extend(lines)
        self.nbytes += sum([len(h.text) + 121 + 16 * len(h.runs) for h in lines])
        kept = self._lines
        while len(kept) > self.max_lines or (self.nbytes > self.max_bytes and len(kept) > 1):
            self.nbytes -= kept.popleft().nbytes()
            self.dropped += 1

    def pop_newest(self) -> HistoryLine:
        """Take back the newest line (a pane grew taller and pulls history down)."""
        line = self._lines.pop()
        self.nbytes -= line.nbytes()
        return line

    def clear(self) -> None:
        self._lines.clear()
        self.nbytes = 0

    def search(self, needle: str) -> list[int]:
        """Indexes (oldest = 0) of the lines whose text contains `needle`."""
        return [i for i, line in enumerate(self._lines) if needle in line.text]
