"""Copy mode: moving through a terminal's history with vi keys, searching and selecting text.

Pure logic over an engine `Terminal` (no UI), so any front end can draw it. Rows are
addressed by an absolute line number that survives new output: line `dropped` is the oldest
line still kept, and every line pushed into the history keeps its number, so the view stays
on the same text while the program goes on writing (as in tmux).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from engine.terminal import Terminal

Action = Literal["exit", "copy", "search-forward", "search-backward"] | None
_WORD = re.compile(r"\S+")


@dataclass
class Match:
    line: int  # absolute line number
    start: int  # character offset in the row's text
    end: int


@dataclass
class CopyMode:
    """The copy-mode state of one pane: cursor, view, selection and search."""

    terminal: Terminal
    height: int
    exit_at_bottom: bool = False  # entered by the mouse wheel: scrolling back down leaves
    line: int = 0
    column: int = 0
    top: int = 0
    selecting: bool = False
    line_select: bool = False
    anchor: tuple[int, int] = (0, 0)
    search: str = ""
    matches: list[Match] = field(default_factory=list)

    def __post_init__(self) -> None:
        cursor = self.terminal.cursor
        self.line = self.line_of(cursor.y)
        self.column = cursor.x
        self.top = self.bottom_top

    # -- coordinates ---------------------------------------------------------------------------

    @property
    def first(self) -> int:
        return self.terminal.scrollback.dropped

    @property
    def last(self) -> int:
        return self.line_of(self.terminal.lines - 1)

    @property
    def bottom_top(self) -> int:
        """The view's top when it shows the live screen."""
        return max(self.first, self.last - self.height + 1)

    def line_of(self, row: int) -> int:
        """Absolute line number of terminal row `row` (negative rows are history)."""
        return self.terminal.scrollback.dropped + self.terminal.history_size + row

    def row(self, line: int) -> int:
        """Terminal row (as `Terminal.capture` counts) of absolute line `line`."""
        return line - self.terminal.scrollback.dropped - self.terminal.history_size

    def text(self, line: int) -> str:
        return self.terminal.row_text(self.row(line)) if self.first <= line <= self.last else ""

    @property
    def position(self) -> tuple[int, int]:
        """tmux's `[n/m]`: lines the view is scrolled back, and the history size."""
        return self.bottom_top - self.top, self.terminal.history_size

    # -- moving --------------------------------------------------------------------------------

    def follow(self, height: int | None = None) -> None:
        """Keep the view valid after the pane was resized or old history was dropped."""
        if height is not None:
            self.height = max(1, height)
        self._clamp()
        self.anchor = (max(self.first, self.anchor[0]), self.anchor[1])
        self.matches = [m for m in self.matches if m.line >= self.first]

    def _clamp(self) -> None:
        self.line = max(self.first, min(self.line, self.last))
        self.column = max(0, min(self.column, self.terminal.columns - 1))
        if self.line < self.top:
            self.top = self.line
        elif self.line >= self.top + self.height:
            self.top = self.line - self.height + 1
        self.top = max(self.first, min(self.top, self.bottom_top))

    def scroll(self, lines: int) -> Action:
        """Move the view (the wheel): negative is back in history. The cursor stays on screen."""
        self.top = max(self.first, min(self.top + lines, self.bottom_top))
        self.line = max(self.top, min(self.line, self.top + self.height - 1))
        if self.exit_at_bottom and lines > 0 and self.top == self.bottom_top:
            return "exit"
        return None

    def move_to(self, line: int, column: int) -> None:
        self.line, self.column = line, column
        self._clamp()

    def _word(self, forward: bool) -> None:
        line, column = self.line, self.column
        for _ in range(self.last - self.first + 2):
            words = [m.start() for m in _WORD.finditer(self.text(line))]
            after = [w for w in words if (w > column if forward else w < column)]
            if after:
                self.move_to(line, after[0] if forward else after[-1])
                return
            line += 1 if forward else -1
            if not self.first <= line <= self.last:
                return
            column = -1 if forward else len(self.text(line)) + 1

    def key(self, key: str, character: str | None = None) -> Action:
        """Handle one key (Textual key names). Returns what the host must do next, if anything."""
        half = max(1, self.height // 2)
        ch = character if character and character.isprintable() else key
        moves = {
            "h": (0, -1),
            "left": (0, -1),
            "l": (0, 1),
            "right": (0, 1),
            "j": (1, 0),
            "down": (1, 0),
            "k": (-1, 0),
            "up": (-1, 0),
        }
        if ch in moves:
            dy, dx = moves[ch]
            self.move_to(self.line + dy, self.column + dx)
        elif ch in ("ctrl+u", "ctrl+d"):
            step = -half if ch == "ctrl+u" else half
            self.top = max(self.first, min(self.top + step, self.bottom_top))
            self.move_to(self.line + step, self.column)
        elif ch in ("pageup", "ctrl+b", "pagedown", "ctrl+f"):
            step = -self.height if ch in ("pageup", "ctrl+b") else self.height
            self.top = max(self.first, min(self.top + step, self.bottom_top))
            self.move_to(self.line + step, self.column)
        elif ch == "0" or ch == "home":
            self.move_to(self.line, 0)
        elif ch == "$" or ch == "end":
            self.move_to(self.line, max(0, len(self.text(self.line)) - 1))
        elif ch == "g":
            self.move_to(self.first, 0)
        elif ch == "G":
            self.move_to(self.last, 0)
        elif ch == "w":
            self._word(forward=True)
        elif ch == "b":
            self._word(forward=False)
        elif ch in ("v", " ", "space"):
            self.selecting = not self.selecting or self.line_select
            self.line_select = False
            self.anchor = (self.line, self.column)
        elif ch == "V":
            self.selecting = not (self.selecting and self.line_select)
            self.line_select = True
            self.anchor = (self.line, self.column)
        elif ch == "escape" and self.selecting:
            self.selecting = False
        elif ch in ("q", "escape", "ctrl+c"):
            return "exit"
        elif ch in ("y", "enter"):
            return "copy"
        elif ch == "/":
            return "search-forward"
        elif ch == "?":
            return "search-backward"
        elif ch == "n":
            self.next_match(forward=True)
        elif ch == "N":
            self.next_match(forward=False)
        return None

    # -- search ----------------------------------------------------------------------------------

    def find(self, text: str, forward: bool = True) -> bool:
        """Search all history and screen for `text` (smart case) and jump to the nearest match."""
        self.search = text
        if not text:
            self.matches = []
            return False
        flags = 0 if any(c.isupper() for c in text) else re.IGNORECASE
        pattern = re.compile(re.escape(text), flags)
        self.matches = [
            Match(line, m.start(), m.end())
            for line in range(self.first, self.last + 1)
            for m in pattern.finditer(self.text(line))
        ]
        return self.next_match(forward)

    def next_match(self, forward: bool = True) -> bool:
        here = (self.line, self.column)
        ordered = self.matches if forward else list(reversed(self.matches))
        for match in ordered:
            if (match.line, match.start) > here if forward else (match.line, match.start) < here:
                self.move_to(match.line, match.start)
                return True
        if ordered:  # wrap around, as tmux does
            self.move_to(ordered[0].line, ordered[0].start)
            return True
        return False

    def matches_on(self, line: int) -> list[Match]:
        return [m for m in self.matches if m.line == line]

    # -- selection --------------------------------------------------------------------------------

    def selection_span(self, line: int) -> tuple[int, int] | None:
        """The selected character range of `line` (end exclusive), if any of it is selected."""
        if not self.selecting:
            return None
        start, end = sorted([self.anchor, (self.line, self.column)])
        if not start[0] <= line <= end[0]:
            return None
        if self.line_select:
            return 0, self.terminal.columns
        first = start[1] if line == start[0] else 0
        stop = end[1] + 1 if line == end[0] else self.terminal.columns
        return first, stop

    def selected_text(self) -> str:
        """The selection as text; wrapped rows are joined, as tmux copies them."""
        if not self.selecting:
            return ""
        start, end = sorted([self.anchor, (self.line, self.column)])
        out: list[str] = []
        for line in range(start[0], end[0] + 1):
            span = self.selection_span(line)
            assert span is not None
            piece = self.text(line)[span[0] : span[1]]
            wrapped = line < end[0] and self.terminal.row_wrapped(self.row(line))
            out.append(piece if wrapped else piece.rstrip() + ("\n" if line < end[0] else ""))
        text = "".join(out)
        return text + "\n" if self.line_select else text
