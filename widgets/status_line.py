"""`StatusLine`: tmux's status line — the windows on the left, the pane's title on the right.

It repaints only when its text changes (an idle app writes nothing to the terminal), and a
click on a window's name selects that window, as in tmux with `mouse on`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static


@dataclass(frozen=True)
class WindowLabel:
    """One window as the status line shows it: `0:bash*`."""

    number: int
    name: str
    flags: str  # tmux's window_flags: * current, - last, ! bell, # activity, M marked, Z zoom


class StatusLine(Static):
    """The bottom line: ` 0:bash* 1:vim-  …  title`."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    class WindowClicked(Message):
        """A window's label was clicked."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._line = ""
        self._spans: list[tuple[int, int, int]] = []  # (start, end, window number)

    def show(self, windows: list[WindowLabel], right: str, width: int) -> None:
        """Draw the labels and the right-hand text; nothing is written if nothing changed."""
        line = ""
        spans = []
        for label in windows:
            text = f"{label.number}:{label.name}{label.flags or ' '}"
            start = len(line) + 1
            line += " " + text
            spans.append((start, start + len(text), label.number))
        if len(line) + len(right) + 2 < width:
            line += " " * (width - len(line) - len(right) - 1) + right
        line = line[:width]
        self._spans = spans
        if line != self._line:
            self._line = line
            self.update(Text(line), layout=False)  # one row, always: no relayout of the screen

    @property
    def line(self) -> str:
        return self._line

    def on_click(self, event: events.Click) -> None:
        for start, end, number in self._spans:
            if start <= event.x < end:
                event.stop()
                self.post_message(self.WindowClicked(number))
                return
