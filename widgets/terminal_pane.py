"""`TerminalPane`: draws one engine session's terminal and sends it the keys typed in it."""

from __future__ import annotations

import asyncio
import os
import time
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from engine.cells import DEFAULT_CELL, PALETTE_NAMES, Cell, HistoryLine
from engine.copymode import CopyMode
from engine.fastpath import cached_history_line
from engine.ingest import note_input, typing
from engine.keys import (
    NO_BUTTON,
    MouseEventKind,
    encode_key,
    encode_mouse,
    encode_paste,
    mouse_wants,
)
from engine.session import CommandEvent, ExitEvent, Session, SessionEvent, describe_exit
from engine.terminal import Terminal, history_cells
from engine.width import char_width
from widgets.badges import badge_style

FRAME_INTERVAL = 1 / 60  # paint at most 60 times a second
BACKGROUND_INTERVAL = 1 / 15  # unfocused panes paint at most 15 times a second
TITLE_INTERVAL = 0.5  # seconds between looks at the foreground program for the title
TYPING_BACKGROUND_INTERVAL = 1 / 4  # ... and 4 times while you type (engine.ingest.typing)
SYNC_TIMEOUT = 0.15  # longest a synchronized update may hold paints (a program may die mid-frame)
Palette = tuple[Color, ...]  # the 16 ANSI colours, from the theme
SHOW_CURSOR, HIDE_CURSOR = "\x1b[?25h", "\x1b[?25l"
RESET_CURSOR_SHAPE = "\x1b[0 q"  # DECSCUSR 0: the outer terminal's own default shape
ZWJ, VS16 = "\u200d", "\ufe0f"  # the two characters Rich measures across cell boundaries


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

    `cursor` is "" (no cursor here), a shape the program asked for with DECSCUSR, drawn when
    the outer terminal's own cursor cannot show it: "block" (reversed), "underline"
    (underlined), "bar" (underlined and overlined), or "hollow" (underlined: the cursor of a
    pane without focus).

    Rich has single and double underlines only: curly, dotted and dashed ones (SGR 4:3-4:5)
    are drawn single, and the underline colour (SGR 58) is not drawn. Concealed text (SGR 8)
    takes the colour its background is shown in, and SGR 8 for a default background.
    """
    cell = Cell("", *attrs)  # type: ignore[arg-type]
    color, bgcolor = _color(cell.fg, palette), _color(cell.bg, palette)
    reverse = cell.reverse != (cursor == "block")
    if cell.concealed:
        if reverse and color is not None:
            bgcolor = color
        elif not reverse and bgcolor is not None:
            color = bgcolor
    double = cell.underscore and cell.underline_style == 2
    return Style(
        color=color,
        bgcolor=bgcolor,
        bold=cell.bold or None,
        dim=cell.dim or None,
        italic=cell.italics or None,
        underline=((cell.underscore and not double) or cursor in ("hollow", "underline", "bar"))
        or None,
        underline2=double or None,
        overline=(cell.overline or cursor == "bar") or None,
        strike=cell.strikethrough or None,
        blink=cell.blink or None,
        reverse=reverse or None,
        conceal=cell.concealed or None,
    )


@lru_cache(maxsize=4096)
def fit_cell(data: str, width: int) -> str:
    """A cell's text as Rich will measure it: exactly `width` cells, whatever the terminal
    model put in it (an emoji with its modifier, half a ZWJ family, a lone combining mark).

    Textual lays a pane's row out by Rich's widths; one cell off and the divider beside the
    pane moves. So joiners go (they would fuse with the next cell), as do control characters
    and leading invisible ones (a variation selector, ZWSP); a cell holding only a mark (a
    lone U+0301, a vowel sign at a line's start) draws it over a blank, as tmux shows it,
    since Rich counts the mark as no cell. What is too wide is cut, too narrow is padded.
    """
    text = "".join(c for c in data if c != ZWJ and unicodedata.category(c) != "Cc")
    while text and (text[0] == VS16 or get_character_cell_size(text[0]) == 0):
        if unicodedata.category(text[0]).startswith("M"):
            text = " " + text  # the mark sits on a blank of its own cell
            break
        text = text[1:]
    if cell_len(text) > width:
        kept = ""
        for char in text:
            if cell_len(kept + char) > width:
                break
            kept += char
        text = kept or "?"
    return text + " " * (width - cell_len(text))


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


def row_segments(
    terminal: Terminal,
    y: int,
    cursor_x: int = -1,
    shape: str = "",
    palette: Palette | None = None,
) -> list[Segment]:
    """Row `y` of `terminal` as Rich segments: what a pane draws, and the snapshot preview
    (widgets/terminal_view.py) too, so a snapshot looks exactly as the pane did.

    A screen row (`y >= 0`) is exactly `terminal.columns` cells, with the cursor drawn at
    `cursor_x` in `shape` (-1: none). A history row (`y < 0`) is padded to the width.
    """
    if y < 0:
        return _scrollback_segments(terminal, y, palette)
    line = terminal.screen.buffer.get(y) or {}
    hist = cached_history_line(line) if cursor_x < 0 else None
    if hist is not None:  # a row of a flood, still as the fast path made it: use its runs
        return _history_segments(hist, terminal.columns, palette)
    segments: list[Segment] = []
    text: list[str] = []
    run_attrs: tuple[object, ...] = DEFAULT_CELL[1:]
    run_cursor = ""
    columns = terminal.columns
    covered = False  # this cell is the right half of the wide character just drawn
    for x in range(columns):
        if covered:
            covered = False
            continue
        cell = line.get(x, DEFAULT_CELL)
        data = cell.data
        if data == "" or not data.isascii():  # make Rich's width the model's
            covered = x + 1 < columns and line.get(x + 1, DEFAULT_CELL).data == ""
            data = fit_cell(data, 2 if covered else 1)
        attrs = cell[1:]
        on_cursor = shape if x == cursor_x else ""
        if attrs != run_attrs or on_cursor or run_cursor:
            if text:
                segments.append(Segment("".join(text), cell_style(run_attrs, run_cursor, palette)))
            text = []
            run_attrs, run_cursor = attrs, on_cursor
        text.append(data)
    if text:
        segments.append(Segment("".join(text), cell_style(run_attrs, run_cursor, palette)))
    return segments


def _scrollback_segments(terminal: Terminal, y: int, palette: Palette | None) -> list[Segment]:
    """A history row: from its style runs when it is ASCII, else cell by cell (wide
    characters fitted to two cells, as on the screen)."""
    scrollback = terminal.scrollback
    hist = scrollback[len(scrollback) + y]
    if hist.text.isascii():
        return _history_segments(hist, terminal.columns, palette)
    default = DEFAULT_CELL[1:]
    segments = []
    used = 0
    for data, attrs in history_cells(hist):
        width = 2 if char_width(data[0]) == 2 else 1
        style = cell_style(default if attrs is None else attrs[1:], "", palette)
        segments.append(Segment(fit_cell(data, width), style))
        used += width
    if terminal.columns > used:
        segments.append(Segment(" " * (terminal.columns - used), cell_style(default, "", palette)))
    return segments


class OuterCursor:
    """The outer terminal's own cursor, shown where the focused pane's program has its cursor
    and in the shape it asked for (DECSCUSR: vim's insert-mode bar), as tmux does.

    Textual hides the cursor for the whole run and, after each frame, moves it to
    `App.cursor_position`. The app asks `begin()` for what to write before a frame (hide the
    cursor, so it does not run along the text being drawn) and `end()` after it (put it at
    the pane's cursor and show it). `reset()` gives the terminal its own shape back on exit.
    """

    def __init__(self) -> None:
        self.shown = False
        self.style = 0  # the DECSCUSR style last sent (0: the terminal's own default)

    def begin(self) -> str:
        return HIDE_CURSOR if self.shown else ""

    def end(self, pane: TerminalPane | None) -> str:
        place = pane.outer_cursor_place() if pane is not None else None
        self.shown = place is not None
        if place is None:
            return ""
        x, y, style = place
        codes = f"\x1b[{y + 1};{x + 1}H"
        if style != self.style:
            self.style = style
            codes += f"\x1b[{style} q"
        return codes + SHOW_CURSOR

    def reset(self) -> str:
        return RESET_CURSOR_SHAPE if self.style else ""


class TerminalPane(Widget, can_focus=True):
    """One session on screen. Every key goes to the program; nothing is a binding here.

    With `show_title` the first row is a title bar (the program's OSC title, else its
    command), drawn in the accent colour while the pane has focus. When the program exits the
    last row says `[exited N]` until the pane is closed or respawned. A shell command that
    failed gets `[exit N]` at the right end of its prompt's row (where that row is blank), as
    a right prompt would show it, for as long as the row is on screen or in copy mode.
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
    TerminalPane > .terminal-pane--failed {
        color: $error;
        text-style: bold;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "terminal-pane--title",
        "terminal-pane--exited",
        "terminal-pane--match",
        "terminal-pane--position",
        "terminal-pane--failed",
    }
    WHEEL_LINES = 3

    class Exited(Message):
        """The pane's program exited (`session`: the one that ran it, which a respawn may
        have replaced by the time the app reads this)."""

        def __init__(self, pane: TerminalPane, exit_code: int, session: Session | None) -> None:
            super().__init__()
            self.pane = pane
            self.exit_code = exit_code
            self.session = session

    class Focused(Message):
        """The pane got focus: `clicked` by the user (the window makes it active), or moved
        by Textual (a focused pane was removed), which the app corrects to the active pane."""

        def __init__(self, pane: TerminalPane, clicked: bool = False) -> None:
            super().__init__()
            self.pane = pane
            self.clicked = clicked

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
        self._keyed = False  # a key was written and no output came since: paint it at once
        self._title = ""  # as last drawn in the title bar
        self._title_checked = 0.0
        self.remain_on_exit = False  # keep the pane when its program exits (API sessions)
        self.respawning = False  # respawn-pane -k is replacing its program
        self.agent_state: str | None = None  # its agent's state, a badge in the title bar
        self.bells_seen = 0  # the terminal's bell count when the app last looked
        self.on_output: Callable[[TerminalPane], None] | None = None  # bells, activity
        # The other panes typed keys also go to (tmux's synchronize-panes), asked per key.
        self.synchronized: Callable[[], list[TerminalPane]] | None = None
        # The program gets the mouse (it asked, and copy mode is off): the button it was told
        # went down, and the cell it was last told about, so motion in one cell is sent once.
        self._held: int | None = None
        self._reported: tuple[int, int] | None = None
        # No program mouse: where the left button went down and whether it has dragged from
        # there (then copy mode selects from the press to the pointer; the release copies).
        self._press: tuple[int, int] | None = None
        self._dragging = False
        self._pointer: tuple[int, int] = (0, 0)  # the pointer's cell (x, row), row unclamped
        self._drag_scroll: Timer | None = None  # scrolls while a drag is held at an edge
        self._click_copy: Timer | None = None  # copies a double or triple click's selection
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

    def set_agent_state(self, state: str | None) -> None:
        """Show the agent's state (engine/agents.py) as a badge in the title bar."""
        if state != self.agent_state:
            self.agent_state = state
            if self._top and self.is_attached:
                self.refresh(Region(0, 0, self.size.width, 1))

    @property
    def title_text(self) -> str:
        """The program's title (OSC 0/2), else the command in the foreground."""
        if self.session.terminal.title:
            return self.session.terminal.title
        return self.session.current_command or self.program_name

    @property
    def program_name(self) -> str:
        """The name of the program the pane was started with (`bash`, `vim`)."""
        config = self.session.config
        command = config.shell_command or config.shell or os.environ.get("SHELL", "sh")
        words = command.split() if isinstance(command, str) else command
        return os.path.basename(words[0]) if words else self.session.name

    def _on_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, CommandEvent):
            if event.record.failed:  # its prompt's row gets its mark: that row is not dirty
                self._strips.clear()
                self.refresh()
            return
        self._request_paint()
        if self.on_output is not None:
            self.on_output(self)
        if isinstance(event, ExitEvent):
            self.exit_code = event.exit_code
            self.post_message(self.Exited(self, event.exit_code, self.session))

    def on_mount(self) -> None:
        self._request_paint()

    def on_unmount(self) -> None:
        self._unsubscribe()
        if self._paint_handle is not None:
            self._paint_handle.cancel()
            self._paint_handle = None

    def _request_paint(self) -> None:
        """Paint soon: at once if the last frame is old enough (an echo shows without waiting
        for a tick), else when the frame interval is up. Coalesces everything until then.
        The echo of a key typed here is painted at once even if the program painted a moment
        ago (an agent's spinner ten times a second): one paint per key, floods stay paced."""
        self._pending = True
        echo = self._keyed and self.has_focus
        self._keyed = False  # output after a key: its echo, painted now; what follows is paced
        if self._paint_handle is not None:
            if not echo:
                return
            self._paint_handle.cancel()
            self._paint_handle = None
        if self.has_focus:
            interval = FRAME_INTERVAL
        else:  # panes you are not typing in paint less often, so yours stays quick
            interval = TYPING_BACKGROUND_INTERVAL if typing() else BACKGROUND_INTERVAL
        delay = 0.0 if echo else self._painted + interval - time.monotonic()
        loop = asyncio.get_running_loop()
        if delay > 0:
            self._paint_handle = loop.call_later(delay, self._paint_due)
        elif self.has_focus and self.is_attached:
            self._paint()  # an echo: no extra turn of the loop...
            self._compose_now()  # ...nor the four Textual takes from refresh to screen
        else:
            self._paint_handle = loop.call_soon(self._paint_due)

    def _compose_now(self) -> None:
        """Put this pane's refreshed rows on the terminal now, and only them. Textual would get
        there through four message hops (widget idle, screen update, screen idle, update
        timer), each a turn of the event loop: milliseconds apiece while other panes flood;
        and its frame would also lay out and draw whatever else is pending (side panels,
        toasts, other panes: tens of milliseconds with agents watched). Those keep their
        regular frame. Uses the screen's own compositor steps; if a Textual release renames
        them, the normal path still paints."""
        screen = self.screen
        compositor = getattr(screen, "_compositor", None)
        update = getattr(compositor, "update_widgets", None)
        refresh = getattr(screen, "_compositor_refresh", None)
        if callable(update) and callable(refresh) and screen.is_current:
            if getattr(self.app, "_batch_count", 0):
                return  # mid-batch: Textual paints when the batch ends
            dirty = screen._dirty_widgets  # type: ignore[attr-defined]
            others = dirty - {self}
            update({self})
            refresh()  # (which forgets every dirty widget: the others keep their next frame)
            screen._dirty_widgets.update(others)  # type: ignore[attr-defined]

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
            self.session.set_size(columns=width, lines=height)
        self._strips.clear()
        self._request_paint()

    # -- drawing ---------------------------------------------------------------------------------

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.session.terminal.columns

    def render_line(self, y: int) -> Strip:
        """Row `y`, exactly as wide as the pane (Textual places the next pane by it)."""
        width = self.size.width
        if self.exit_code is not None and y == self.size.height - 1:
            text = f" [{describe_exit(self.exit_code)}] C-b R respawn, C-b x close "
            style = self.get_component_rich_style("terminal-pane--exited")
            return Strip([Segment(text[:width].ljust(width), style)])
        top = self._top
        if top and y == 0:
            if not self._title:
                self._title = self.title_text
            title = f" {self._title} "
            if not title.isprintable():  # a program's title may hold control characters
                title = "".join(c for c in title if unicodedata.category(c) != "Cc")
            style = self.get_component_rich_style("terminal-pane--title")
            segments = [Segment(f" {self.pane_id}" if self.pane_id else "", style)]
            if self.agent_state:  # before the title: a long title must not hide it
                state = self.agent_state
                badge = Segment(f" {state} ", badge_style(self.app, state))
                segments += [Segment(" ", style), badge]
            segments.append(Segment(title, style))
            return Strip(segments).adjust_cell_length(width, style)
        row = y - top
        terminal = self.session.terminal
        if self.copy is not None:
            return self._copy_line(row, width).adjust_cell_length(width)
        if row >= terminal.lines:
            return Strip.blank(width)
        cursor = terminal.cursor
        shown = cursor.y == row and not cursor.hidden and self.exit_code is None
        if not self.has_focus:
            shape = "hollow"
        elif self.outer_cursor_in_use:
            shape, shown = "", False  # the outer terminal's own cursor is there
        else:
            shape = cursor.shape
        cursor_x = cursor.x if shown else -1
        columns = terminal.columns
        failed = self._failed_rows().get(row)
        key = (self._versions.get(row, 0), cursor_x, shape, columns, width, self.palette, failed)
        cached = self._strips.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = Strip(self._segments(row, cursor_x, shape), columns)
        if columns != width:  # the program has not been given the new size yet
            strip = strip.adjust_cell_length(width)
        if failed is not None:
            strip = self._mark_failed(strip, terminal.row_text(row), failed, width)
        self._strips[row] = (key, strip)
        return strip

    def _failed_rows(self, first_row: int = 0) -> dict[int, int]:
        """{terminal row: exit code} of the failed commands whose prompt is on rows
        `first_row` .. the last one (negative rows: history, as `Terminal.capture` counts)."""
        terminal = self.session.terminal
        base = terminal.scrollback.dropped + terminal.history_size
        out: dict[int, int] = {}
        for mark in reversed(terminal.screen.commands.prompts):
            row = mark.prompt - base
            if row < first_row:
                break
            if mark.done and mark.exit_code not in (None, 0) and row < terminal.lines:
                out[row] = mark.exit_code  # type: ignore[assignment]
        return out

    def _mark_failed(self, strip: Strip, text: str, code: int, width: int) -> Strip:
        """`[exit N]` at the right end of a row, if the row's text leaves room for it."""
        label = f"[exit {code}]"
        if cell_len(text) + 1 + len(label) > width:  # cells, not characters: 界 takes two
            return strip
        style = self.get_component_rich_style("terminal-pane--failed")
        return Strip.join([strip.crop(0, width - len(label)), Strip([Segment(label, style)])])

    @property
    def outer_cursor_in_use(self) -> bool:
        """True when the outer terminal's own cursor shows this pane's (the app moves it
        there after each frame: see `OuterCursor`); headless, the pane draws it instead."""
        return (
            self.has_focus
            and getattr(self.app, "outer_cursor", None) is not None
            and not self.app.is_headless
        )

    def outer_cursor_place(self) -> tuple[int, int, int] | None:
        """Where on the screen the outer terminal's cursor goes for this pane, and its
        DECSCUSR style; None when it should be hidden (the program hid it, copy mode draws
        its own, the program exited, the cursor is outside the pane)."""
        if self.copy is not None or self.exit_code is not None or not self.is_attached:
            return None
        cursor = self.session.terminal.cursor
        region = self.content_region
        x, y = region.x + cursor.x, region.y + self._top + cursor.y
        if cursor.hidden or not region.contains(x, y):
            return None
        return x, y, cursor.style

    def _segments(self, y: int, cursor_x: int, shape: str) -> list[Segment]:
        return row_segments(self.session.terminal, y, cursor_x, shape, self.palette)

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

    def copy_mode_page_up(self) -> None:
        """C-b PgUp (tmux's `copy-mode -u`): copy mode, one page up."""
        self.enter_copy_mode().page(up=True)
        self.refresh()

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
        back, size = copy.position
        label = f"[{back}/{size}]" if row == 0 else ""
        failed = self._failed_rows(copy.row(line)).get(copy.row(line))
        if failed is not None and span is None:  # left of the position label on row 0
            text = "".join(data for data, _ in cells).rstrip()
            room = width - len(label) - (1 if label else 0)
            flagged = self._mark_failed(Strip(segments).crop(0, room), text, failed, room)
            segments = [*flagged, *([Segment(" ")] if label else [])]
        if row == 0:
            segments = next(iter(Segment.divide(segments, [max(0, width - len(label)), width])))
            segments.append(
                Segment(label, self.get_component_rich_style("terminal-pane--position"))
            )
        return Strip(segments).crop(0, width)

    # -- mouse --------------------------------------------------------------------------------

    ALLOW_SELECT = False  # a drag selects in copy mode (below), not with Textual's selection
    CLICK_COPY_DELAY = 0.3  # tmux shows a clicked word selected this long before copying it
    DRAG_SCROLL_INTERVAL = 0.05  # tmux's drag repeat: a line a tick at the top or bottom row

    def _cell(self, event: events.MouseEvent) -> tuple[int, int]:
        """The terminal cell under the pointer, clamped to the terminal: a drag that left the
        pane (the mouse is captured) reports its nearest edge, as terminals do."""
        terminal = self.session.terminal
        x = max(0, min(event.x, terminal.columns - 1))
        return x, max(0, min(event.y - self._top, terminal.lines - 1))

    def _program_mouse(self) -> bool:
        """Whether mouse events go to the program: it asked for them and copy mode is off."""
        return (
            self.copy is None
            and self.session.terminal.mouse_tracking is not None
            and self.session.status.is_running
        )

    def _send_mouse(
        self, button: int, cell: tuple[int, int], event: events.MouseEvent, kind: MouseEventKind
    ) -> None:
        terminal = self.session.terminal
        if not mouse_wants(terminal.mouse_tracking, kind) or not self.session.status.is_running:
            return
        data = encode_mouse(
            button,
            *cell,
            pressed=kind != "release",
            motion=kind in ("drag", "motion"),
            shift=event.shift,
            meta=event.meta,
            ctrl=event.ctrl,
            encoding=terminal.mouse_encoding,
        )
        self._reported = cell
        if data:
            self.run_worker(self.session.send_input(data), group="mouse", exit_on_error=False)

    def _mouse_report(self, button: int, event: events.MouseEvent) -> bool:
        """Send a press (a wheel step) to the program if it asked for the mouse; True if so."""
        if not self._program_mouse() or event.y < self._top:
            return False
        self._send_mouse(button, self._cell(event), event, "press")
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
        for pane in [self, *(self.synchronized() if self.synchronized else [])]:
            await pane.type_key(event)

    async def type_key(self, event: events.Key) -> None:
        """Write a typed key to the program."""
        if not self.session.status.is_running:
            return
        # What the terminal sent, byte for byte (app/input.py), as tmux hands it on; plain
        # arrows, Home and End are written the way the program asked for (DECCKM), as tmux does.
        raw: str | None = getattr(event, "raw", None)
        if raw is not None and event.key not in ("up", "down", "left", "right", "home", "end"):
            data = raw.encode("utf-8", "surrogateescape")
        else:  # a key made in the app (tests, pilot): xterm's bytes for its name
            data = encode_key(
                event.key,
                event.character,
                cursor_keys_application=self.session.terminal.cursor_keys_application,
            )
        if data:
            note_input()  # floods elsewhere yield while you type
            self._keyed = True
            await self.session.send_input(data)

    async def on_paste(self, event: events.Paste) -> None:
        event.stop()
        for pane in [self, *(self.synchronized() if self.synchronized else [])]:
            await pane.paste(event.text)

    async def paste(self, text: str) -> None:
        """Paste `text` into the program (bracketed when it asked for it)."""
        if self.session.status.is_running:
            data = encode_paste(text, bracketed=self.session.terminal.bracketed_paste)
            note_input()
            await self.session.send_input(data)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """A press goes to the program if it asked for the mouse; else the left button may
        start a selection. Either way the pane keeps the mouse until the release."""
        self.focus()
        self.post_message(self.Focused(self, clicked=True))
        if event.y < self._top:  # the title bar
            return
        cell = self._cell(event)
        if self._program_mouse():
            self._held = event.button - 1
            self._send_mouse(self._held, cell, event, "press")
            self.capture_mouse()
        elif event.button == 1:
            self._press, self._dragging, self._pointer = cell, False, (cell[0], event.y - self._top)
            self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Motion for the program (1002: while a button is held; 1003: always), at most once a
        cell; or the drag of a selection."""
        cell = self._cell(event)
        if self._held is not None:
            if cell != self._reported:
                self._send_mouse(self._held, cell, event, "drag")
        elif self._press is not None:
            self._pointer = (cell[0], event.y - self._top)
            self._drag_select()
        elif self._program_mouse() and event.y >= self._top and cell != self._reported:
            self._send_mouse(NO_BUTTON, cell, event, "motion")

    def on_mouse_up(self, event: events.MouseUp) -> None:
        """The release: to the program if it had the press; the end of a drag copies the
        selection and leaves copy mode (tmux with `mouse on`); a click does nothing more."""
        self.release_mouse()
        self._stop_drag_scroll()
        if self._held is not None:
            self._send_mouse(self._held, self._cell(event), event, "release")
            self._held = None
        elif self._press is not None:
            dragged, self._press, self._dragging = self._dragging, None, False
            if dragged and self.copy is not None:
                self._copy_action("copy")

    def on_click(self, event: events.Click) -> None:
        """A double click selects the word under the pointer, a triple click the line; the
        selection is shown briefly, then copied, as tmux does. Not when the program has the
        mouse: it got the clicks themselves."""
        if event.chain < 2 or event.button != 1 or event.y < self._top:
            return
        if self.copy is None and self.session.terminal.mouse_tracking is not None:
            return
        x, row = self._cell(event)
        copy = self.enter_copy_mode()
        line = min(copy.top + row, copy.last)
        if event.chain == 2:
            copy.select_word(line, x)
        else:
            copy.select_line(line)
        self.refresh()
        if self._click_copy is not None:
            self._click_copy.stop()
        self._click_copy = self.set_timer(self.CLICK_COPY_DELAY, self._copy_click)

    def _copy_click(self) -> None:
        self._click_copy = None
        if self.copy is not None and self.copy.selecting:
            self._copy_action("copy")

    def _drag_select(self) -> None:
        """Select from the press to the pointer; once the pointer has left the press's cell
        (a plain click does not enter copy mode)."""
        assert self._press is not None
        x, row = self._pointer
        if not self._dragging:
            height = self.copy.height if self.copy is not None else self.session.terminal.lines
            if (x, max(0, min(row, height - 1))) == self._press:
                return
            started = self.enter_copy_mode()
            started.drag_start(min(started.top + self._press[1], started.last), self._press[0])
            self._dragging = True
        copy = self.copy
        assert copy is not None
        before = (copy.line - copy.top, copy.column)
        row = max(0, min(row, copy.height - 1))
        copy.move_to(min(copy.top + row, copy.last), x)
        # As tmux: reaching (or staying on) the top or bottom row scrolls the view that way,
        # a line at a time while the pointer stays there, even outside the pane.
        if row in (0, copy.height - 1) and (row != before[0] or x == before[1]):
            self._drag_scroll_step()
            if self._drag_scroll is None:
                self._drag_scroll = self.set_interval(
                    self.DRAG_SCROLL_INTERVAL, self._drag_scroll_step
                )
        else:
            self._stop_drag_scroll()
        self.refresh()

    def _drag_scroll_step(self) -> None:
        copy = self.copy
        row = copy.line - copy.top if copy is not None else -1
        if copy is None or self._press is None or row not in (0, copy.height - 1):
            self._stop_drag_scroll()
            return
        top = copy.top
        copy.scroll(-1 if row == 0 else 1)
        if copy.top != top:  # at either end of the history there is nothing more to show
            copy.move_to(min(copy.top + row, copy.last), copy.column)
            self.refresh()

    def _stop_drag_scroll(self) -> None:
        if self._drag_scroll is not None:
            self._drag_scroll.stop()
            self._drag_scroll = None
