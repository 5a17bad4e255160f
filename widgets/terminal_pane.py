"""`TerminalPane`: draws one engine session's terminal and sends it the keys typed in it."""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from engine.keys import encode_key, encode_paste
from engine.session import ExitEvent, Session, SessionEvent
from engine.terminal import DEFAULT_CELL, PALETTE_NAMES, Cell

FRAME_INTERVAL = 1 / 60  # paint at most 60 times a second


@lru_cache(maxsize=4096)
def _color(name: str) -> Color | None:
    if name == "default":
        return None
    if name in PALETTE_NAMES:
        return Color.from_ansi(PALETTE_NAMES.index(name))
    try:
        return Color.parse("#" + name)
    except Exception:
        return None


@lru_cache(maxsize=4096)
def cell_style(attrs: tuple[object, ...], cursor: bool = False) -> Style:
    """A Rich style for a cell's attributes (`Cell[1:]`); `cursor` draws it reversed."""
    cell = Cell("", *attrs)  # type: ignore[arg-type]
    return Style(
        color=_color(cell.fg),
        bgcolor=_color(cell.bg),
        bold=cell.bold or None,
        dim=cell.dim or None,
        italic=cell.italics or None,
        underline=cell.underscore or None,
        strike=cell.strikethrough or None,
        blink=cell.blink or None,
        reverse=(cell.reverse != cursor) or None,
    )


class TerminalPane(Widget, can_focus=True):
    """One session on screen. Every key goes to the program; nothing is a binding here."""

    DEFAULT_CSS = """
    TerminalPane {
        width: 1fr;
        height: 1fr;
    }
    """

    class Exited(Message):
        """The pane's program exited."""

        def __init__(self, pane: TerminalPane, exit_code: int) -> None:
            super().__init__()
            self.pane = pane
            self.exit_code = exit_code

    def __init__(self, session: Session, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.session = session
        self.exit_code: int | None = None
        self._pending = False
        self._versions: dict[int, int] = {}
        self._strips: dict[int, tuple[tuple[object, ...], Strip]] = {}
        self._cursor_row = 0
        self._unsubscribe = session.subscribe(self._on_session_event)

    # -- engine side ---------------------------------------------------------------------------

    def _on_session_event(self, event: SessionEvent) -> None:
        self._pending = True
        if isinstance(event, ExitEvent):
            self.exit_code = event.exit_code
            self.post_message(self.Exited(self, event.exit_code))

    def on_mount(self) -> None:
        self.set_interval(FRAME_INTERVAL, self._paint)
        self._pending = True

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _paint(self) -> None:
        """Refresh only the rows that changed since the last frame, plus the cursor rows."""
        if not self._pending:
            return
        self._pending = False
        terminal = self.session.terminal
        rows = terminal.take_dirty()
        rows.update((self._cursor_row, terminal.cursor.y))
        self._cursor_row = terminal.cursor.y
        width = self.size.width
        for y in rows:
            self._versions[y] = self._versions.get(y, 0) + 1
            self.refresh(Region(0, y, width, 1))

    # -- drawing ---------------------------------------------------------------------------------

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.session.terminal.columns

    def render_line(self, y: int) -> Strip:
        terminal = self.session.terminal
        if y >= terminal.lines:
            return Strip.blank(self.size.width)
        cursor = terminal.cursor
        cursor_x = cursor.x if (cursor.y == y and not cursor.hidden and self.has_focus) else -1
        key = (self._versions.get(y, 0), cursor_x, terminal.columns)
        cached = self._strips.get(y)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = Strip(self._segments(y, cursor_x), terminal.columns)
        self._strips[y] = (key, strip)
        return strip

    def _segments(self, y: int, cursor_x: int) -> list[Segment]:
        line = self.session.terminal.screen.buffer.get(y) or {}
        segments: list[Segment] = []
        text: list[str] = []
        run_attrs: tuple[object, ...] | None = None
        run_cursor = False
        for x in range(self.session.terminal.columns):
            cell = line.get(x, DEFAULT_CELL)
            if cell.data == "":
                continue  # right half of a wide character
            attrs = cell[1:]
            on_cursor = x == cursor_x
            if attrs != run_attrs or on_cursor or run_cursor:
                if text:
                    segments.append(Segment("".join(text), cell_style(run_attrs, run_cursor)))  # type: ignore[arg-type]
                text = []
                run_attrs, run_cursor = attrs, on_cursor
            text.append(cell.data)
        if text:
            segments.append(Segment("".join(text), cell_style(run_attrs, run_cursor)))  # type: ignore[arg-type]
        return segments

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        if width > 0 and height > 0 and self.session.status.is_running:
            self.run_worker(self.session.resize(height, width), exclusive=True, group="resize")
        self._strips.clear()
        self._pending = True

    def on_focus(self) -> None:
        self._pending = True

    def on_blur(self) -> None:
        self._pending = True

    # -- input ------------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        check = getattr(self.app, "check_prefixed", None)
        if check is not None and check(event):
            return  # a multiplexer command (C-b …), not input for the program
        if not self.session.status.is_running:
            return
        data = encode_key(
            event.key,
            event.character,
            cursor_keys_application=self.session.terminal.cursor_keys_application,
        )
        if data:
            await self.session.send_input(data)

    async def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if self.session.status.is_running:
            data = encode_paste(event.text, bracketed=self.session.terminal.bracketed_paste)
            await self.session.send_input(data)
