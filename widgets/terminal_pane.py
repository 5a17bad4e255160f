"""`TerminalPane`: draws one engine session's terminal and sends it the keys typed in it."""

from __future__ import annotations

import asyncio
import os
import time
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

from engine.cells import DEFAULT_CELL, PALETTE_NAMES, Cell, HistoryLine
from engine.copymode import CopyMode
from engine.fastpath import cached_history_line
from engine.ingest import note_input, typing
from engine.keys import encode_key, encode_mouse, encode_paste
from engine.session import ExitEvent, Session, SessionEvent

FRAME_INTERVAL = 1 / 60  # paint at most 60 times a second
BACKGROUND_INTERVAL = 1 / 15  # unfocused panes paint at most 15 times a second
TITLE_INTERVAL = 0.5  # seconds between looks at the foreground program for the title
TYPING_BACKGROUND_INTERVAL = 1 / 4  # ... and 4 times while you type (engine.ingest.typing)
SYNC_TIMEOUT = 0.15  # longest a synchronized update may hold paints (a program may die mid-frame)
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


def _history_segments(hist: HistoryLine, columns: int, palette: Palette | None) -> list[Segment]:
    """Segments for a row held as text + style runs (ASCII, one cell per character)."""
    default = DEFAULT_CELL[1:]
    text = hist.text
    if not hist.runs:
        segments = [Segment(text, cell_style(default, "", palette))] if text else []
    else:
        segments = []
        pos = 0
        for count, attrs in hist.runs:
            style = cell_style(default if attrs is None else attrs[1:], "", palette)
            segments.append(Segment(text[pos : pos + count], style))
            pos += count
    if columns > len(text):
        segments.append(Segment(" " * (columns - len(text)), cell_style(default, "", palette)))
    return segments


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
    TerminalPane > .terminal-pane--match {
        background: $warning 60%;
    }
    TerminalPane > .terminal-pane--position {
        background: $warning;
        color: $text;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "terminal-pane--title",
        "terminal-pane--exited",
        "terminal-pane--match",
        "terminal-pane--position",
    }
    WHEEL_LINES = 3

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

    class Copied(Message):
        """Copy mode copied `text` (for the paste buffer and the clipboard)."""

        def __init__(self, pane: TerminalPane, text: str) -> None:
            super().__init__()
            self.pane = pane
            self.text = text

    class SearchRequested(Message):
        """Copy mode wants a search string (`/` forward, `?` backward)."""

        def __init__(self, pane: TerminalPane, forward: bool) -> None:
            super().__init__()
            self.pane = pane
            self.forward = forward

    def __init__(self, session: Session, *, pane_id: str = "", show_title: bool = False) -> None:
        super().__init__()
        self.pane_id = pane_id
        self.session = session
        self.show_title = show_title
        self.exit_code: int | None = None
        self.palette: Palette | None = None
        self.key_filter: Callable[[events.Key], bool] | None = None
        self.copy: CopyMode | None = None  # set while in copy mode
        self._pending = False
        self._paint_handle: asyncio.Handle | None = None
        self._versions: dict[int, int] = {}
        self._strips: dict[int, tuple[tuple[object, ...], Strip]] = {}
        self._cursor_row = 0
        self._painted = 0.0
        self._title = ""  # as last drawn in the title bar
        self._title_checked = 0.0
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
        """The program's title (OSC 0/2), else the command in the foreground."""
        if self.session.terminal.title:
            return self.session.terminal.title
        running = self.session.current_command
        if running:
            return running
        config = self.session.config
        command = config.shell_command or config.shell or os.environ.get("SHELL", "sh")
        return os.path.basename(command.split()[0]) if command.split() else self.session.name

    def _on_session_event(self, event: SessionEvent) -> None:
        self._request_paint()
        if isinstance(event, ExitEvent):
            self.exit_code = event.exit_code
            self.post_message(self.Exited(self, event.exit_code))

    def on_mount(self) -> None:
        self._request_paint()

    def on_unmount(self) -> None:
        self._unsubscribe()
        if self._paint_handle is not None:
            self._paint_handle.cancel()
            self._paint_handle = None

    def _request_paint(self) -> None:
        """Paint soon: at once if the last frame is old enough (an echo shows without waiting
        for a tick), else when the frame interval is up. Coalesces everything until then."""
        self._pending = True
        if self._paint_handle is not None:
            return
        if self.has_focus:
            interval = FRAME_INTERVAL
        else:  # panes you are not typing in paint less often, so yours stays quick
            interval = TYPING_BACKGROUND_INTERVAL if typing() else BACKGROUND_INTERVAL
        delay = self._painted + interval - time.monotonic()
        loop = asyncio.get_running_loop()
        if delay > 0:
            self._paint_handle = loop.call_later(delay, self._paint_due)
        elif self.has_focus and self.is_attached:
            self._paint()  # an echo: no extra turn of the loop...
            self._compose_now()  # ...nor the four Textual takes from refresh to screen
        else:
            self._paint_handle = loop.call_soon(self._paint_due)

    def _compose_now(self) -> None:
        """Put this pane's refreshed rows on the terminal now. Textual would get there through
        four message hops (widget idle, screen update, screen idle, update timer), each a turn
        of the event loop: milliseconds apiece while other panes flood. Uses the screen's own
        update step; if a Textual release renames it, the normal path still paints."""
        screen = self.screen
        dirty = getattr(screen, "_dirty_widgets", None)
        update = getattr(screen, "_on_timer_update", None)
        if isinstance(dirty, set) and callable(update) and screen.is_current:
            dirty.add(self)
            update()

    def _paint_due(self) -> None:
        self._paint_handle = None
        if self.is_attached:
            self._paint()

    @property
    def _top(self) -> int:
        """Rows above the terminal (the title bar)."""
        return 1 if self.show_title and self.size.height > 1 else 0

    def _paint(self) -> None:
        """Refresh only the rows that changed since the last frame, plus the cursor rows."""
        if not self._pending:
            return
        terminal = self.session.terminal
        now = time.monotonic()
        if terminal.synchronized_output and now - terminal.synchronized_since < SYNC_TIMEOUT:
            # The program is mid-frame (mode 2026): paint once it is done (its next output),
            # or when the hold times out.
            if self._paint_handle is None:
                wait = terminal.synchronized_since + SYNC_TIMEOUT - now
                self._paint_handle = asyncio.get_running_loop().call_later(wait, self._paint_due)
            return
        self._painted = now
        self._pending = False
        if self.copy is not None:  # the view moves through history: repaint it whole
            self.refresh()
            return
        rows = terminal.take_dirty()
        rows.update((self._cursor_row, terminal.cursor.y))
        self._cursor_row = terminal.cursor.y
        width = self.size.width
        top = self._top
        for y in rows:
            self._versions[y] = self._versions.get(y, 0) + 1
        if len(rows) > 2:  # one region: Textual renders each region's widgets separately
            first, last = min(rows), max(rows)
            self.refresh(Region(0, first + top, width, last - first + 1))
        else:
            for y in rows:
                self.refresh(Region(0, y + top, width, 1))
        if top and now - self._title_checked > TITLE_INTERVAL:
            # The title names the foreground program (read from /proc): look twice a second.
            self._title_checked = now
            title = self.title_text
            if title != self._title:
                self._title = title
                self.refresh(Region(0, 0, width, 1))
        if self.exit_code is not None:
            self.refresh(Region(0, self.size.height - 1, width, 1))

    def sync_size(self) -> None:
        """Give the program the pane's size, less the title bar."""
        width, height = self.size.width, self.size.height - self._top
        if self.copy is not None:
            self.copy.follow(height)
        if (
            width > 0
            and height > 0
            and (self.session.terminal.columns, self.session.terminal.lines) != (width, height)
        ):
            self.session.set_size(height, width)
        self._strips.clear()
        self._request_paint()

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
            if not self._title:
                self._title = self.title_text
            title = f" {self.pane_id} {self._title} " if self.pane_id else f" {self._title} "
            style = self.get_component_rich_style("terminal-pane--title")
            return Strip([Segment(title[:width].ljust(width), style)])
        row = y - top
        terminal = self.session.terminal
        if self.copy is not None:
            return self._copy_line(row, width)
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
        hist = cached_history_line(line) if cursor_x < 0 else None
        if hist is not None:  # a row of a flood, still as the fast path made it: use its runs
            return _history_segments(hist, self.session.terminal.columns, palette)
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

    # -- copy mode ---------------------------------------------------------------------------

    def enter_copy_mode(self, exit_at_bottom: bool = False) -> CopyMode:
        """Freeze the view on the history; move through it with vi keys (C-b [)."""
        if self.copy is None:
            height = max(1, self.size.height - self._top)
            self.copy = CopyMode(
                self.session.terminal, height=height, exit_at_bottom=exit_at_bottom
            )
            self.refresh()
        return self.copy

    def exit_copy_mode(self) -> None:
        self.copy = None
        self._strips.clear()
        self.refresh()

    def _copy_action(self, action: str | None) -> None:
        if action == "exit":
            self.exit_copy_mode()
        elif action == "copy" and self.copy is not None:
            text = self.copy.selected_text()
            self.exit_copy_mode()
            if text:
                self.post_message(self.Copied(self, text))
        elif action in ("search-forward", "search-backward"):
            self.post_message(self.SearchRequested(self, action == "search-forward"))
        self.refresh()

    def _copy_line(self, row: int, width: int) -> Strip:
        copy = self.copy
        assert copy is not None
        if copy.top < copy.first:  # the history limit dropped lines the view was on
            copy.follow()
        line = copy.top + row
        if row >= copy.height or not copy.first <= line <= copy.last:
            return Strip.blank(width)
        cells = self.session.terminal.row_cells(copy.row(line))
        cells += [(" ", DEFAULT_CELL)] * (self.session.terminal.columns - len(cells))
        span = copy.selection_span(line)
        marked = {i for m in copy.matches_on(line) for i in range(m.start, m.end)}
        match_style = self.get_component_rich_style("terminal-pane--match")
        segments = []
        for x, (data, attrs) in enumerate(cells):
            selected = span is not None and span[0] <= x < span[1]
            cursor = "block" if (line == copy.line and x == copy.column) != selected else ""
            style = cell_style(attrs[1:], cursor, self.palette)
            if x in marked and not cursor:
                style = style + match_style
            segments.append(Segment(data, style))
        if row == 0:
            back, size = copy.position
            label = f"[{back}/{size}]"
            segments = next(iter(Segment.divide(segments, [max(0, width - len(label)), width])))
            segments.append(
                Segment(label, self.get_component_rich_style("terminal-pane--position"))
            )
        return Strip(segments).crop(0, width)

    # -- mouse --------------------------------------------------------------------------------

    def _mouse_report(self, button: int, event: events.MouseEvent, pressed: bool = True) -> bool:
        """Send the event to the program if it asked for mouse reports; True when sent."""
        terminal = self.session.terminal
        row = event.y - self._top
        if terminal.mouse_tracking is None or not self.session.status.is_running or row < 0:
            return False
        data = encode_mouse(
            button,
            event.x,
            row,
            pressed=pressed,
            shift=event.shift,
            meta=event.meta,
            ctrl=event.ctrl,
            encoding=terminal.mouse_encoding,
        )
        if data:
            self.run_worker(self.session.send_input(data), group="mouse")
        return True

    def _wheel(self, event: events.MouseEvent, up: bool) -> None:
        event.stop()
        if self.copy is None and self._mouse_report(64 if up else 65, event):
            return
        terminal = self.session.terminal
        if self.copy is None and terminal.alternate_screen:  # less, man, vim without the mouse
            if self.session.status.is_running:
                key = encode_key(
                    "up" if up else "down", cursor_keys_application=terminal.cursor_keys_application
                )
                self.run_worker(self.session.send_input(key * self.WHEEL_LINES), group="mouse")
            return
        if self.copy is None:
            if not up:
                return
            self.enter_copy_mode(exit_at_bottom=True)
        assert self.copy is not None
        self._copy_action(self.copy.scroll(-self.WHEEL_LINES if up else self.WHEEL_LINES))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event, up=True)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event, up=False)

    def on_resize(self, event: events.Resize) -> None:
        self.sync_size()

    def on_focus(self) -> None:
        self._request_paint()
        self.refresh()
        self.post_message(self.Focused(self))

    def on_blur(self) -> None:
        self._request_paint()
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
        if self.copy is not None:
            self._copy_action(self.copy.key(event.key, event.character))
            return
        if not self.session.status.is_running:
            return
        data = encode_key(
            event.key,
            event.character,
            cursor_keys_application=self.session.terminal.cursor_keys_application,
        )
        if data:
            note_input()  # floods elsewhere yield while you type
            await self.session.send_input(data)

    async def on_paste(self, event: events.Paste) -> None:
        event.stop()
        await self.paste(event.text)

    async def paste(self, text: str) -> None:
        """Paste `text` into the program (bracketed when it asked for it)."""
        if self.session.status.is_running:
            data = encode_paste(text, bracketed=self.session.terminal.bracketed_paste)
            note_input()
            await self.session.send_input(data)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.focus()
        if self.copy is None:
            self._mouse_report(event.button - 1, event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self.copy is None:
            self._mouse_report(event.button - 1, event, pressed=False)
