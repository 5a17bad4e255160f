"""`C-b t`: tmux's clock mode, the time in large block digits over one pane.

The app mounts a `ClockView` over the pane's area; the program behind keeps running. Any
key or click posts `ClockView.Done` so the app can remove it.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

# tmux's clock font (window-clock.c): 5x5 cells per character, "#" lit.
FONT: dict[str, tuple[str, ...]] = {
    "0": ("#####", "#...#", "#...#", "#...#", "#####"),
    "1": ("....#", "....#", "....#", "....#", "....#"),
    "2": ("#####", "....#", "#####", "#....", "#####"),
    "3": ("#####", "....#", "#####", "....#", "#####"),
    "4": ("#...#", "#...#", "#####", "....#", "....#"),
    "5": ("#####", "#....", "#####", "....#", "#####"),
    "6": ("#####", "#....", "#####", "#...#", "#####"),
    "7": ("#####", "....#", "....#", "....#", "....#"),
    "8": ("#####", "#...#", "#####", "#...#", "#####"),
    "9": ("#####", "#...#", "#####", "....#", "#####"),
    ":": (".....", "..#..", ".....", "..#..", "....."),
}
GLYPH = 5  # a character is 5 cells square
ADVANCE = 6  # ... with one blank column after it


def big_rows(text: str) -> list[str]:
    """`text` in the clock font, one string per row, "#" where a cell is lit."""
    return [".".join(FONT[ch][row] for ch in text) for row in range(GLYPH)]


def fits_big(text: str, width: int, height: int) -> bool:
    """tmux draws large digits only when each character has 6 columns and 6 rows to spare."""
    return width >= ADVANCE * len(text) and height >= ADVANCE


class ClockView(Widget, can_focus=True):
    """The time as HH:MM, centred, in the theme's accent colour; plain text when too small.

    Repaints only when the minute changes: an idle clock sends nothing to the terminal.
    """

    DEFAULT_CSS = """
    ClockView { background: $background; }
    ClockView > .clock-view--digit { background: $accent; color: $accent; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"clock-view--digit"}

    class Done(Message):
        """A key or click: the user is done with the clock."""

        def __init__(self, clock: ClockView) -> None:
            super().__init__()
            self.clock = clock

    def __init__(self) -> None:
        super().__init__()
        self.shown = self.time_text()

    @staticmethod
    def time_text() -> str:
        """The time to show, 24-hour HH:MM as tmux's default clock."""
        return time.strftime("%H:%M")

    def on_mount(self) -> None:
        self._schedule()

    def _schedule(self) -> None:
        """Wake at the start of the next minute (not every second)."""
        self.set_timer(60.05 - time.time() % 60, self._tick)

    def _tick(self) -> None:
        text = self.time_text()
        if text != self.shown:
            self.shown = text
            self.refresh()
        self._schedule()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        text = self.shown
        lit = self.get_component_rich_style("clock-view--digit")
        blank = self.rich_style
        if not fits_big(text, width, height):
            if y != height // 2 or width < len(text):
                return Strip.blank(width, blank)
            x = width // 2 - len(text) // 2
            accent = blank + Style(color=lit.bgcolor)
            return Strip([Segment(" " * x, blank), Segment(text, accent)]).extend_cell_length(
                width, blank
            )
        row = y - (height // 2 - 3)
        if not 0 <= row < GLYPH:
            return Strip.blank(width, blank)
        x = width // 2 - 3 * len(text)
        segments = [Segment(" " * x, blank)]
        for char in big_rows(text)[row]:
            segments.append(Segment(" ", lit if char == "#" else blank))
        return Strip(segments).simplify().extend_cell_length(width, blank)

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.post_message(self.Done(self))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Done(self))
