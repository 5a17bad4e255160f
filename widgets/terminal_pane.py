"""`TerminalPane`: draws one engine session's terminal and sends it the keys typed in it."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import ClassVar

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
Palette = tuple[Color, ...]  # the 16 ANSI colours, from the theme


@lru_cache(maxsize=8192)
def _color(name: str, palette: Palette | None) -> Color | None:
    if name == "default":
        return None
    if name in PALETTE_NAMES:
        index = PALETTE_NAMES.index(name)
        return palette[index] if palette else Color.from_ansi(index)
    try:
        return Color.parse("#" + name)
    except Exception:
        return None


@lru_cache(maxsize=8192)
def cell_style(
    attrs: tuple[object, ...], cursor: str = "", palette: Palette | None = None
) -> Style:
    """A Rich style for a cell's attributes (`Cell[1:]`).

    `cursor` is "" (no cursor here), "block" (reversed) or "hollow" (underlined: the cursor
    of a pane without focus).
    """
    cell = Cell("", *attrs)  # type: ignore[arg-type]
    return Style(
        color=_color(cell.fg, palette),
        bgcolor=_color(cell.bg, palette),
        bold=cell.bold or None,
        dim=cell.dim or None,
        italic=cell.italics or None,
        underline=(cell.underscore or cursor == "hollow") or None,
        strike=cell.strikethrough or None,
        blink=cell.blink or None,
        reverse=(cell.reverse != (cursor == "block")) or None,
    )


class TerminalPane(Widget, can_focus=True):
    """One session on screen. Every key goes to the program; nothing is a binding here.

    With `show_title` the first row is a title bar (the program's OSC title, else its
    command), drawn in the accent colour while the pane has focus. When the program exits the
    last row says `[exited N]` until the pane is closed or respawned.
    """

    DEFAULT_CSS = """
    TerminalPane {
        width: 1fr;
        height: 1fr;
    }
    TerminalPane > .terminal-pane--title {
        background: $panel;
        color: $text-muted;
    }
    TerminalPane:focus > .terminal-pane--title {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    TerminalPane > .terminal-pane--exited {
        background: $warning;
        color: $text;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"terminal-pane--title", "terminal-pane--exited"}

    class Exited(Message):
        """The pane's program exited."""

        def __init__(self, pane: TerminalPane, exit_code: int) -> None:
            super().__init__()
            self.pane = pane
            self.exit_code = exit_code

    class Focused(Message):
        """The pane got focus (by key or click), so the window can remember it."""

        def __init__(self, pane: TerminalPane) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, session: Session, *, pane_id: str = "", show_title: bool = False) -> None:
        super().__init__()
        self.pane_id = pane_id
        self.session = session
        self.show_title = show_title
        self.exit_code: int | None = None
        self.palette: Palette | None = None
        self.key_filter: Callable[[events.Key], bool] | None = None
        self._pending = False
        self._versions: dict[int, int] = {}
        self._strips: dict[int, tuple[tuple[object, ...], Strip]] = {}
        self._cursor_row = 0
        self._unsubscribe = session.subscribe(self._on_session_event)
        if session.status.is_terminated:
            self.exit_code = session.status.exit_code

    # -- engine side ---------------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Show another session here (respawn): same place, new program."""
        self._unsubscribe()
        self.session = session
        self.exit_code = None
        self._unsubscribe = session.subscribe(self._on_session_event)
        self._strips.clear()
        self.sync_size()
        self.refresh()

    @property
    def title_text(self) -> str:
        """The program's title (OSC 0/2), else the command it runs."""
        if self.session.terminal.title:
            return self.session.terminal.title
        config = self.session.config
        command = config.shell_command or config.shell or os.environ.get("SHELL", "sh")
        return os.path.basename(command.split()[0]) if command.split() else self.session.name

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

    @property
    def _top(self) -> int:
        """Rows above the terminal (the title bar)."""
        return 1 if self.show_title and self.size.height > 1 else 0

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
        top = self._top
        for y in rows:
            self._versions[y] = self._versions.get(y, 0) + 1
            self.refresh(Region(0, y + top, width, 1))
        if top:
            self.refresh(Region(0, 0, width, 1))
        if self.exit_code is not None:
            self.refresh(Region(0, self.size.height - 1, width, 1))

    def sync_size(self) -> None:
        """Give the program the pane's size, less the title bar."""
        width, height = self.size.width, self.size.height - self._top
        if (
            width > 0
            and height > 0
            and (self.session.terminal.columns, self.session.terminal.lines) != (width, height)
        ):
            self.session.set_size(height, width)
        self._strips.clear()
        self._pending = True

    # -- drawing ---------------------------------------------------------------------------------

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.session.terminal.columns

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.exit_code is not None and y == self.size.height - 1:
            text = f" [exited {self.exit_code}] C-b R respawn, C-b x close "
            return Strip(
                [
                    Segment(
                        text[:width].ljust(width),
                        self.get_component_rich_style("terminal-pane--exited"),
                    )
                ]
            )
        top = self._top
        if top and y == 0:
            title = (
                f" {self.pane_id} {self.title_text} " if self.pane_id else f" {self.title_text} "
            )
            style = self.get_component_rich_style("terminal-pane--title")
            return Strip([Segment(title[:width].ljust(width), style)])
        row = y - top
        terminal = self.session.terminal
        if row >= terminal.lines:
            return Strip.blank(width)
        cursor = terminal.cursor
        cursor_x = (
            cursor.x if (cursor.y == row and not cursor.hidden and self.exit_code is None) else -1
        )
        shape = "block" if self.has_focus else "hollow"
        key = (self._versions.get(row, 0), cursor_x, shape, terminal.columns, self.palette)
        cached = self._strips.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = Strip(self._segments(row, cursor_x, shape), terminal.columns)
        self._strips[row] = (key, strip)
        return strip

    def _segments(self, y: int, cursor_x: int, shape: str) -> list[Segment]:
        line = self.session.terminal.screen.buffer.get(y) or {}
        palette = self.palette
        segments: list[Segment] = []
        text: list[str] = []
        run_attrs: tuple[object, ...] = DEFAULT_CELL[1:]
        run_cursor = ""
        for x in range(self.session.terminal.columns):
            cell = line.get(x, DEFAULT_CELL)
            if cell.data == "":
                continue  # right half of a wide character
            attrs = cell[1:]
            on_cursor = shape if x == cursor_x else ""
            if attrs != run_attrs or on_cursor or run_cursor:
                if text:
                    segments.append(
                        Segment("".join(text), cell_style(run_attrs, run_cursor, palette))
                    )
                text = []
                run_attrs, run_cursor = attrs, on_cursor
            text.append(cell.data)
        if text:
            segments.append(Segment("".join(text), cell_style(run_attrs, run_cursor, palette)))
        return segments

    def on_resize(self, event: events.Resize) -> None:
        self.sync_size()

    def on_focus(self) -> None:
        self._pending = True
        self.refresh()
        self.post_message(self.Focused(self))

    def on_blur(self) -> None:
        self._pending = True
        self.refresh()

    def set_palette(self, palette: Palette | None) -> None:
        self.palette = palette
        self._strips.clear()
        self.refresh()

    # -- input ------------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self.key_filter is not None and self.key_filter(event):
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
        await self.paste(event.text)

    async def paste(self, text: str) -> None:
        """Paste `text` into the program (bracketed when it asked for it)."""
        if self.session.status.is_running:
            data = encode_paste(text, bracketed=self.session.terminal.bracketed_paste)
            await self.session.send_input(data)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.focus()
