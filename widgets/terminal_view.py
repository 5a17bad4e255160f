"""`TerminalView`: a still picture of an engine `Terminal` (a snapshot, a point in a pane's
past) that you can scroll through its history. Rows are drawn by the pane's own code
(`row_segments`), so a snapshot looks exactly as its pane did."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widget import Widget

from engine.cells import DEFAULT_CELL
from engine.terminal import Terminal
from widgets.terminal_pane import Palette, cell_style, row_segments

WHEEL_LINES = 3  # as the pane's wheel in copy mode
PAN_COLUMNS = 8  # a wide snapshot in a narrow view moves sideways this much a key
ROWS_KEPT = 1000  # drawn rows kept; a 10k-line history is not held twice


class TerminalView(Widget, can_focus=True):
    """Draws a terminal read-only: its screen, and its history above it.

    The view starts where the terminal's cursor is (the bottom of the screen when the view is
    as tall as it); rows wider than the view are cropped, and move sideways with left/right.
    The picture is taken as still: after changing the terminal, call `show()` again.
    """

    DEFAULT_CSS = """
    TerminalView { width: 1fr; height: 1fr; }
    TerminalView > .terminal-view--hint { color: $text-muted; }
    TerminalView > .terminal-view--position { background: $warning; color: $text; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"terminal-view--hint", "terminal-view--position"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "rows(-1)", show=False),
        Binding("down", "rows(1)", show=False),
        Binding("pageup", "pages(-1)", show=False),
        Binding("pagedown", "pages(1)", show=False),
        Binding("home", "oldest", show=False),
        Binding("end", "newest", show=False),
        Binding("left", "pan(-1)", show=False),
        Binding("right", "pan(1)", show=False),
    ]

    def __init__(
        self, terminal: Terminal | None = None, *, palette: Palette | None = None, hint: str = ""
    ) -> None:
        super().__init__()
        self.palette = palette
        self._terminal = terminal
        self._hint = hint
        # Rows scrolled up from where the view starts (negative: down), kept as a distance
        # so a view that changes height stays as far back from the cursor.
        self._up = 0
        self.first_column = 0
        self._rows: dict[int, Strip] = {}  # whole rows, drawn once per picture

    # -- what is shown -----------------------------------------------------------------------

    @property
    def terminal(self) -> Terminal | None:
        return self._terminal

    @property
    def hint(self) -> str:
        """The text shown in an empty frame ("loading…", "no snapshot")."""
        return self._hint

    def show(self, terminal: Terminal | None, hint: str = "") -> None:
        """Swap the picture (None: an empty frame with `hint`), back at the cursor."""
        self._terminal = terminal
        self._hint = hint
        self._up = 0
        self.first_column = 0
        self._rows.clear()
        self.refresh()

    def set_palette(self, palette: Palette | None) -> None:
        self.palette = palette
        self._rows.clear()
        self.refresh()

    # -- scrolling ---------------------------------------------------------------------------

    @property
    def _height(self) -> int:
        return max(1, self.size.height)

    def _bounds(self) -> tuple[int, int]:
        """The first row's range: the oldest history line up to the screen's bottom row."""
        terminal = self._terminal
        if terminal is None:
            return 0, 0
        oldest = -terminal.history_size
        return oldest, max(oldest, terminal.lines - self._height)

    @property
    def rest_row(self) -> int:
        """The first row where the view starts: the cursor's row in sight, history filling
        a view taller than the screen."""
        terminal = self._terminal
        if terminal is None:
            return 0
        oldest, newest = self._bounds()
        below = max(terminal.cursor.y - self._height + 1, min(0, terminal.lines - self._height))
        return max(oldest, min(newest, below))

    @property
    def first_row(self) -> int:
        """The terminal row at the top of the view (negative: history, -1 the newest)."""
        oldest, newest = self._bounds()
        return max(oldest, min(newest, self.rest_row - self._up))

    @property
    def back(self) -> int:
        """How many lines the view is scrolled back from where it started."""
        return max(0, self.rest_row - self.first_row)

    def scroll_rows(self, count: int) -> None:
        """Move the view `count` rows down (negative: up into the history)."""
        oldest, newest = self._bounds()
        self._up = self.rest_row - max(oldest, min(newest, self.first_row + count))
        self.refresh()

    def action_rows(self, count: int) -> None:
        self.scroll_rows(count)

    def action_pages(self, count: int) -> None:
        self.scroll_rows(count * max(1, self._height - 1))

    def action_oldest(self) -> None:
        self.scroll_rows(-(1 << 30))

    def action_newest(self) -> None:
        self.scroll_rows(1 << 30)

    def pan(self, columns: int) -> None:
        """Move the view `columns` to the right (negative: left) over rows wider than it."""
        columns_total = self._terminal.columns if self._terminal is not None else 0
        widest = max(0, columns_total - self.size.width)
        self.first_column = max(0, min(widest, self.first_column + columns))
        self.refresh()

    def action_pan(self, steps: int) -> None:
        self.pan(steps * PAN_COLUMNS)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(-WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(WHEEL_LINES)

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        event.stop()
        self.pan(-PAN_COLUMNS)

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        event.stop()
        self.pan(PAN_COLUMNS)

    def on_resize(self, event: events.Resize) -> None:
        self.pan(0)  # keep the sideways offset inside the new width

    # -- drawing -----------------------------------------------------------------------------

    @property
    def _blank(self) -> Style:
        return cell_style(DEFAULT_CELL[1:], "", self.palette)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        terminal = self._terminal
        if terminal is None:
            return self._hint_line(y, width)
        row = self.first_row + y
        if not -terminal.history_size <= row < terminal.lines:
            return Strip.blank(width, self._blank)
        strip = self._row(terminal, row).crop(self.first_column, self.first_column + width)
        strip = strip.extend_cell_length(width, self._blank)
        if y == 0:
            strip = self._with_position(strip, width)
        return strip

    def _row(self, terminal: Terminal, row: int) -> Strip:
        strip = self._rows.get(row)
        if strip is None:
            if len(self._rows) > ROWS_KEPT:  # scrolled through a long history: start afresh
                self._rows.clear()
            cursor = terminal.cursor
            # The cursor as an unfocused pane shows it: a still picture has no focus.
            cursor_x = cursor.x if row == cursor.y and not cursor.hidden else -1
            segments = row_segments(terminal, row, cursor_x, "hollow", self.palette)
            strip = self._rows[row] = Strip(segments)
        return strip

    def _with_position(self, strip: Strip, width: int) -> Strip:
        """tmux's copy-mode label at the top right, while scrolled back or sideways."""
        parts = []
        if self.back and self._terminal is not None:
            parts.append(f"{self.back}/{self._terminal.history_size}")
        if self.first_column:
            parts.append(f"col {self.first_column + 1}")
        if not parts:
            return strip
        label = f"[{' '.join(parts)}]"[:width]
        style = self.get_component_rich_style("terminal-view--position")
        return Strip.join([strip.crop(0, width - len(label)), Strip([Segment(label, style)])])

    def _hint_line(self, y: int, width: int) -> Strip:
        if y != self._height // 2 or not self._hint:
            return Strip.blank(width, self._blank)
        muted = self.get_component_rich_style("terminal-view--hint").color
        style = self._blank + Style(color=muted)
        return Strip([Segment(self._hint[:width].center(width), style)])
