"""Copy mode: moving through a terminal's history with vi keys, searching and selecting text.

Pure logic over an engine `Terminal` (no UI), so any front end can draw it. Rows are
addressed by an absolute line number that survives new output: line `dropped` is the oldest
line still kept, and every line pushed into the history keeps its number, so the view stays
on the same text while the program goes on writing (as in tmux).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from engine.history import PromptMark
from engine.terminal import Terminal

Action = Literal["exit", "copy", "search-forward", "search-backward"] | None
# tmux's default `word-separators`: `w`, `b`, `e` stop at these as well as at blanks; the
# WORD moves (`W`, `B`, `E`) stop only at blanks.
WORD_SEPARATORS = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~"
_BLANK = " "
_OPEN, _CLOSE = "{[(", "}])"
# f/F/t/T and what `;` repeats; `,` runs the opposite one.
_JUMPS = {"f": "F", "F": "f", "t": "T", "T": "t"}


class _Reader:
    """A virtual cursor over copy mode's lines with tmux's rules (its grid-reader.c), so word
    moves and jumps stop exactly where tmux's do, across wrapped rows.

    Beyond a line's text every cell is a blank, as in tmux's grid.
    """

    def __init__(self, mode: CopyMode, line: int, column: int) -> None:
        self.mode = mode
        self.y = line
        self.x = column
        self._texts: dict[int, str] = {}
        self._limit = 0

    def text(self, line: int) -> str:
        if line not in self._texts:
            self._texts[line] = self.mode.text(line)
        return self._texts[line]

    def length(self, line: int | None = None) -> int:
        return len(self.text(self.y if line is None else line))

    def wrapped(self, line: int) -> bool:
        return self.mode.wrapped(line)

    def char(self, x: int | None = None, y: int | None = None) -> str:
        text = self.text(self.y if y is None else y)
        x = self.x if x is None else x
        return text[x] if 0 <= x < len(text) else _BLANK

    def blank(self) -> bool:
        return self.char() == _BLANK

    def is_in(self, chars: str) -> bool:
        return self.char() in chars if chars else False

    def right(self, wrap: bool) -> None:
        end = self.length()
        if wrap and self.x >= end and self.y < self.mode.last:
            self.x, self.y = 0, self.y + 1
        elif self.x < end:
            self.x += 1

    def left(self, wrap: bool) -> None:
        if self.x == 0 and self.y > self.mode.first and (wrap or self.wrapped(self.y - 1)):
            self.y -= 1
            self.x = self.length()
        elif self.x > 0:
            self.x -= 1

    def _wrap(self) -> bool:
        """Past the end of this row: go on at the next one. False at the very bottom."""
        while self.x > self._limit:
            if self.y == self.mode.last:
                return False
            self.x, self.y = 0, self.y + 1
            self._set_limit()
        return True

    def _set_limit(self) -> None:
        """The last column a word move may stop on in this row (a wrapped word is not broken
        up, so a wrapped row's last cell counts even when it is blank)."""
        self._limit = self.mode.terminal.columns - 1 if self.wrapped(self.y) else self.length()

    def next_word(self, separators: str) -> None:
        """tmux's next-word: over this word (or run of separators), then over blanks."""
        self._set_limit()
        if not self._wrap():
            return
        if not self.blank():
            in_separators = self.is_in(separators)
            self.x += 1
            while self._wrap() and not self.blank() and self.is_in(separators) == in_separators:
                self.x += 1
        while self._wrap() and self.blank():
            self.x += 1

    def next_word_end(self, separators: str) -> None:
        """tmux's next-word-end: over blanks, then to just past the end of the next word."""
        self._set_limit()
        while self._wrap():
            if self.blank():
                self.x += 1
                continue
            in_separators = self.is_in(separators)
            self.x += 1
            while self._wrap() and not self.blank() and self.is_in(separators) == in_separators:
                self.x += 1
            return

    def previous_word(self, separators: str, already: bool = True) -> None:
        """tmux's previous-word (vi keys): back one cell and over blanks (`already`, as `b`;
        else only when on a blank), then to the start of that word."""
        if already or self.blank():
            while True:
                if self.x > 0:
                    self.x -= 1
                    if not self.blank():
                        break
                elif self.y == self.mode.first:
                    return
                else:
                    self.y -= 1
                    self.x = self.length()
        letters = not self.is_in(separators)
        while True:
            old = (self.x, self.y)
            if self.x == 0:
                if self.y == self.mode.first or not self.wrapped(self.y - 1):
                    break
                self.y -= 1
                self.x = self.mode.terminal.columns
            if self.x > 0:
                self.x -= 1
            if self.blank() or letters == self.is_in(separators):
                break
        self.x, self.y = old

    def jump(self, target: str) -> bool:
        """To the next `target` at or after the cursor, on this row or the rows it wraps into."""
        x = self.x
        for y in range(self.y, self.mode.last + 1):
            found = self.text(y).find(target, x)
            if found >= 0:
                self.x, self.y = found, y
                return True
            if y == self.mode.last or not self.wrapped(y):
                return False
            x = 0
        return False

    def jump_back(self, target: str) -> bool:
        """To the previous `target` at or before the cursor, on this row or the rows that wrap
        into it."""
        stop = self.x + 1
        for y in range(self.y, self.mode.first - 1, -1):
            text = self.text(y)
            found = text.rfind(target, 0, stop)
            if target == _BLANK and stop > len(text):  # past the text every cell is blank
                found = stop - 1
            if found >= 0:
                self.x, self.y = found, y
                return True
            if y == self.mode.first or not self.wrapped(y - 1):
                return False
            stop = self.length(y - 1)
        return False


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
    # Over a full-screen program (the alternate screen: vim, less, htop) copy mode shows that
    # program's screen alone, [0/0]; True reaches the shell's history above it, as tmux 3.3a.
    history_over_full_screen: bool = False
    line: int = 0
    column: int = 0
    top: int = 0
    selecting: bool = False
    line_select: bool = False
    anchor: tuple[int, int] = (0, 0)
    search: str = ""
    matches: list[Match] = field(default_factory=list)
    last_column: int = 0  # where j, k and pages put the cursor back (tmux's lastcx)...
    last_length: int = 0  # ...and the length of its line then: at its end, stay at ends
    pending_jump: str | None = None  # f, F, t or T typed: the next key is the character
    last_jump: tuple[str, str] | None = None  # what `;` and `,` repeat

    def __post_init__(self) -> None:
        cursor = self.terminal.cursor
        self.line = self.line_of(cursor.y)
        self.column = cursor.x
        self.top = self.bottom_top

    # -- coordinates ---------------------------------------------------------------------------

    @property
    def first(self) -> int:
        """The oldest line copy mode reaches."""
        if self._screen_only:
            return self.line_of(0)
        return self.terminal.scrollback.dropped

    @property
    def _screen_only(self) -> bool:
        return self.terminal.alternate_screen and not self.history_over_full_screen

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

    def wrapped(self, line: int) -> bool:
        """Whether `line` goes on in the next one (the program's text was wrapped there)."""
        return self.first <= line < self.last and self.terminal.row_wrapped(self.row(line))

    @property
    def position(self) -> tuple[int, int]:
        """tmux's `[n/m]`: lines the view is scrolled back, and the history size."""
        history = 0 if self._screen_only else self.terminal.history_size
        return self.bottom_top - self.top, history

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

    def scroll_to(self, line: int, column: int) -> None:
        """Put the cursor on `line`; when it is out of view, show it a quarter from the
        bottom of the view (tmux's window_copy_scroll_to, used by `%`)."""
        if not self.top <= line < self.top + self.height:
            gap = self.height // 4
            if line - self.first < self.height:
                self.top = self.first
            elif line > self.bottom_top + self.height - gap:
                self.top = self.bottom_top
            else:
                self.top = line + gap - self.height
        self.move_to(line, column)

    def page(self, up: bool, half: bool = False) -> Action:
        """Page (or half page) up or down as tmux does: the view moves by the height less two
        lines (kept for context) and the cursor keeps its row, unless the end is reached."""
        n = 1 if self.height <= 2 else (self.height // 2 if half else self.height - 2)
        row = self.line - self.top
        self._remember_column()
        if up and self.top - n < self.first:
            self.top, row = self.first, max(0, row - n)
        elif not up and self.top + n > self.bottom_top:
            self.top, row = self.bottom_top, min(self.height - 1, row + n)
        else:
            self.top += -n if up else n
        self.move_to(self.top + row, self.last_column)
        self._sticky_end(whole_line=True)
        if not up and self.exit_at_bottom and self.top == self.bottom_top:
            return "exit"
        return None

    def vertical(self, lines: int) -> None:
        """j and k: to the column the cursor was last put in, or to the end of the line when it
        was at the end of one (as tmux and vi do)."""
        self._remember_column()
        self.move_to(self.line + lines, self.last_column)
        self._sticky_end(whole_line=False)

    def _remember_column(self) -> None:
        length = len(self.text(self.line))
        if self.column != length:
            self.last_column, self.last_length = self.column, length

    def _sticky_end(self, whole_line: bool) -> None:
        length = len(self.text(self.line))
        if (self.column >= self.last_length and self.column != length) or self.column > length:
            line = self.line
            while whole_line and self.wrapped(line):  # pages go to the end of the whole line
                line += 1
            self.move_to(line, len(self.text(line)))

    def _reader(self) -> _Reader:
        return _Reader(self, self.line, self.column)

    def _go(self, reader: _Reader) -> None:
        self.move_to(reader.y, reader.x)

    def next_word(self, separators: str = WORD_SEPARATORS) -> None:
        """`w` (or `W` with no separators): to the start of the next word."""
        reader = self._reader()
        reader.next_word(separators)
        self._go(reader)

    def next_word_end(self, separators: str = WORD_SEPARATORS) -> None:
        """`e` (or `E`): to the last character of this or the next word."""
        reader = self._reader()
        if not reader.blank():
            reader.right(wrap=False)
        reader.next_word_end(separators)
        reader.left(wrap=True)
        self._go(reader)

    def previous_word(self, separators: str = WORD_SEPARATORS) -> None:
        """`b` (or `B`): to the start of this or the previous word."""
        reader = self._reader()
        reader.previous_word(separators)
        self._go(reader)

    def jump_to_char(self, kind: str, target: str) -> None:
        """f/F: onto the next/previous `target` on the line; t/T: next to it."""
        reader = self._reader()
        if kind == "f":
            reader.x += 1
            if reader.jump(target):
                self._go(reader)
        elif kind == "F":
            reader.left(wrap=False)
            if reader.jump_back(target):
                self._go(reader)
        elif kind == "t":
            reader.x += 2  # from the next cell on, so `;` gets past a target just ahead
            if reader.jump(target):
                reader.left(wrap=True)
                self._go(reader)
        elif kind == "T":
            reader.left(wrap=False)
            reader.left(wrap=False)
            if reader.jump_back(target):
                reader.right(wrap=True)
                self._go(reader)

    def matching_bracket(self) -> None:
        """`%`: to the bracket that matches the one under the cursor, or the first bracket
        after the cursor on its line (vi keys in tmux)."""
        reader = self._reader()
        if reader.length() == 0:
            return
        while reader.char() not in _OPEN:
            if reader.char() in _CLOSE:
                self._bracket_back(reader)
                return
            if reader.x < reader.length():
                reader.x += 1
            elif reader.y == self.last or not self.wrapped(reader.y):
                return
            else:
                reader.x, reader.y = 0, reader.y + 1
        opening = reader.char()
        closing = _CLOSE[_OPEN.index(opening)]
        depth = 1
        while depth:
            if reader.x < reader.length():
                reader.x += 1
            elif reader.y == self.last:
                return
            else:
                reader.x, reader.y = 0, reader.y + 1
            depth += {opening: 1, closing: -1}.get(reader.char(), 0)
        self.scroll_to(reader.y, reader.x)

    def _bracket_back(self, reader: _Reader) -> None:
        """From the closing bracket under `reader` back to its opening one, if there is one."""
        closing = reader.char()
        opening = _OPEN[_CLOSE.index(closing)]
        depth = 1
        while depth:
            if reader.x > 0:
                reader.x -= 1
            else:
                line = reader.y - 1
                while line > self.first and not reader.text(line):
                    line -= 1
                if line < self.first or not reader.text(line):
                    return
                reader.x, reader.y = len(reader.text(line)) - 1, line
            depth += {closing: 1, opening: -1}.get(reader.char(), 0)
        self.scroll_to(reader.y, reader.x)

    def view_line(self, where: Literal["top", "middle", "bottom"]) -> None:
        """H, M, L: the start of the top, middle or bottom row of the view."""
        row = {"top": 0, "middle": (self.height - 1) // 2, "bottom": self.height - 1}[where]
        self.move_to(min(self.top + row, self.last), 0)

    # -- shell prompts (OSC 133 marks, engine/history.py) ---------------------------------------

    def _marks(self) -> list[PromptMark]:
        return [m for m in self.terminal.screen.commands.prompts if self.first <= m.prompt]

    def previous_prompt(self, output: bool = False) -> bool:
        """tmux's `previous-prompt` (`-o`: `output`): to the start of the nearest prompt (or
        command output) above the cursor's line. False when there is none."""
        lines = [m.output if output else m.prompt for m in self._marks()]
        return self._to_prompt(
            max((n for n in lines if n is not None and n < self.line), default=-1)
        )

    def next_prompt(self, output: bool = False) -> bool:
        """tmux's `next-prompt` (`-o`: `output`): to the nearest one below the cursor's line."""
        lines = [m.output if output else m.prompt for m in self._marks()]
        below = [n for n in lines if n is not None and self.line < n <= self.last]
        return self._to_prompt(min(below, default=-1))

    def _to_prompt(self, line: int) -> bool:
        """As tmux places it: column 0, the line at the view's top (or the live screen's
        bottom view when it is on it); a selection follows the cursor."""
        if line < self.first:
            return False
        self.top = min(line, self.bottom_top)
        self.move_to(line, 0)
        return True

    def output_span(self) -> tuple[int, int] | None:
        """The lines of the output of the command the cursor is in (its prompt, its command
        line or its output; at a prompt with no command yet, the command before), trailing
        blank lines left out; None when no command output is known there."""
        marks = self._marks()
        at = max((i for i, m in enumerate(marks) if m.prompt <= self.line), default=-1)
        while at >= 0 and marks[at].output is None:
            at -= 1
        if at < 0:
            return None
        start = marks[at].output
        assert start is not None
        end = marks[at + 1].prompt - 1 if at + 1 < len(marks) else self.last
        while end >= start and not self.text(end).strip():
            end -= 1
        return (start, end) if end >= start and start >= self.first else None

    def select_output(self) -> bool:
        """Select the whole lines of one command's output (`output_span`), the cursor at its
        end, as WezTerm's semantic-zone selection does; `y` then copies it."""
        span = self.output_span()
        if span is None:
            return False
        start, end = span
        self.move_to(end, max(0, len(self.text(end)) - 1))
        first = start if end - start < self.height else end - self.height + 1  # all, or its end
        self.top = max(self.first, min(first, self.bottom_top))
        self.selecting, self.line_select = True, True
        self.anchor = (start, 0)
        return True

    # -- the mouse -------------------------------------------------------------------------------

    def drag_start(self, line: int, column: int) -> None:
        """A button pressed and moved: select character-wise from here (tmux's mouse drag)."""
        self.move_to(line, column)
        self.selecting, self.line_select = True, False
        self.anchor = (self.line, self.column)

    def select_word(self, line: int, column: int) -> None:
        """Double click: select the word under the pointer, as tmux's select-word."""
        self.move_to(line, column)
        reader = self._reader()
        reader.previous_word(WORD_SEPARATORS, already=False)
        start = (reader.y, reader.x)
        after = (reader.x + 1, reader.y)
        if self.wrapped(reader.y) and after[0] > self.terminal.columns - 1:
            after = (0, reader.y + 1)
        single = reader.x < reader.length() and reader.char(*after) == _BLANK
        self.move_to(*start)
        if not single:
            self.next_word_end()
        self.selecting, self.line_select = True, False
        self.anchor = start

    def select_line(self, line: int) -> None:
        """V or a triple click: select the line, all the rows it was wrapped onto (tmux's
        select-line); the cursor goes to its end."""
        start = end = max(self.first, min(line, self.last))
        while start > self.first and self.wrapped(start - 1):
            start -= 1
        while self.wrapped(end):
            end += 1
        self.move_to(end, len(self.text(end)))
        self.selecting, self.line_select = True, True
        self.anchor = (start, 0)

    def key(self, key: str, character: str | None = None) -> Action:
        """Handle one key (Textual key names). Returns what the host must do next, if anything."""
        ch = character if character and character.isprintable() else key
        if self.pending_jump is not None:  # the character after f/F/t/T; Escape cancels
            kind, self.pending_jump = self.pending_jump, None
            if len(ch) == 1:
                self.last_jump = (kind, ch)
                self.jump_to_char(kind, ch)
            return None
        if ch in _JUMPS:
            self.pending_jump = ch
        elif ch in (";", ",") and self.last_jump is not None:
            kind, target = self.last_jump
            self.jump_to_char(kind if ch == ";" else _JUMPS[kind], target)
        elif ch in self._MOTIONS:
            self._MOTIONS[ch](self)
        else:
            return self._other_key(ch)
        return None

    _MOTIONS: ClassVar[dict[str, Callable[[CopyMode], object]]] = {
        "w": lambda m: m.next_word(),
        "b": lambda m: m.previous_word(),
        "e": lambda m: m.next_word_end(),
        "W": lambda m: m.next_word(""),
        "B": lambda m: m.previous_word(""),
        "E": lambda m: m.next_word_end(""),
        "%": lambda m: m.matching_bracket(),
        "H": lambda m: m.view_line("top"),
        "M": lambda m: m.view_line("middle"),
        "L": lambda m: m.view_line("bottom"),
        "ctrl+u": lambda m: m.page(up=True, half=True),
        "pageup": lambda m: m.page(up=True),
        "ctrl+b": lambda m: m.page(up=True),
        # Shell prompts: `{` `}` and tmux's M-C-Up / M-C-Down (previous-prompt, next-prompt);
        # `(` `)` go to a command's output start (-o); `O` selects one command's output.
        "{": lambda m: m.previous_prompt(),
        "}": lambda m: m.next_prompt(),
        "alt+ctrl+up": lambda m: m.previous_prompt(),
        "alt+ctrl+down": lambda m: m.next_prompt(),
        "(": lambda m: m.previous_prompt(output=True),
        ")": lambda m: m.next_prompt(output=True),
        "O": lambda m: m.select_output(),
    }

    def _other_key(self, ch: str) -> Action:
        if ch in ("h", "left", "l", "right"):
            self.move_to(self.line, self.column + (1 if ch in ("l", "right") else -1))
        elif ch in ("j", "down", "k", "up"):
            self.vertical(1 if ch in ("j", "down") else -1)
        elif ch in ("ctrl+d", "pagedown", "ctrl+f"):
            return self.page(up=False, half=ch == "ctrl+d")
        elif ch == "0" or ch == "home":
            self.move_to(self.line, 0)
        elif ch == "$" or ch == "end":
            self.move_to(self.line, max(0, len(self.text(self.line)) - 1))
        elif ch == "g":
            self.move_to(self.first, 0)
        elif ch == "G":
            self.move_to(self.last, 0)
        elif ch in ("v", " ", "space"):
            self.selecting = not self.selecting or self.line_select
            self.line_select = False
            self.anchor = (self.line, self.column)
        elif ch == "V":
            if self.selecting and self.line_select:
                self.selecting = False
            else:
                self.select_line(self.line)
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
