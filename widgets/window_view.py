"""`WindowView`: one tmux window — panes placed by an engine `Layout`, with draggable dividers."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from engine.layout import Direction, Divider, Layout, Rect, Side
from widgets.terminal_pane import TerminalPane

DISPLAY_PANES_TIME = 1.0  # tmux's display-panes-time: how long C-b q shows the numbers
# tmux's big digits (window_clock_table), five cells square, as display-panes draws them.
DIGITS = {
    "0": ("#####", "#   #", "#   #", "#   #", "#####"),
    "1": ("    #", "    #", "    #", "    #", "    #"),
    "2": ("#####", "    #", "#####", "#    ", "#####"),
    "3": ("#####", "    #", "#####", "    #", "#####"),
    "4": ("#   #", "#   #", "#####", "    #", "    #"),
    "5": ("#####", "#    ", "#####", "    #", "#####"),
    "6": ("#####", "#    ", "#####", "#   #", "#####"),
    "7": ("#####", "    #", "    #", "    #", "    #"),
    "8": ("#####", "#   #", "#####", "#   #", "#####"),
    "9": ("#####", "#   #", "#####", "    #", "#####"),
}


def _touches(rect: Rect | None, x: int, y: int, vertical: bool, corners: bool) -> bool:
    """Whether the divider cell (x, y) borders `rect`; with `corners`, the cells where its
    border meets another count too (tmux reverses those for the marked pane)."""
    if rect is None:
        return False
    if vertical:
        beside, pos, low, high = rect.right == x or rect.x == x + 1, y, rect.y, rect.bottom
    else:
        beside, pos, low, high = rect.bottom == y or rect.y == y + 1, x, rect.x, rect.right
    if corners:
        low, high = low - 1, high + 1
    return beside and low <= pos < high


class DividerBar(Widget):
    """The one-cell line between panes; drag it to resize them. The stretch next to the
    focused pane is drawn in the accent colour, as tmux colours the active pane's border."""

    DEFAULT_CSS = """
    DividerBar {
        position: absolute;
        color: $panel-lighten-2;
    }
    DividerBar > .divider--active {
        color: $accent;
    }
    DividerBar:hover {
        color: $accent-lighten-1;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"divider--active"}

    def __init__(self, window: WindowView, divider: Divider) -> None:
        super().__init__()
        self.window = window
        self.divider = divider
        self._drag_from: int | None = None

    def render_line(self, y: int) -> Strip:
        rect = self.divider.rect
        active = self.window.active_rect()
        marked = self.window.marked_rect()
        base = self.rich_style
        accent = self.get_component_rich_style("divider--active")
        vertical = self.divider.direction == "row"
        if vertical:
            cells = [(rect.x, rect.y + y)]
        else:
            cells = [(rect.x + x, rect.y) for x in range(rect.width)]
        segments = []
        for x, row in cells:
            style = accent if _touches(active, x, row, vertical, corners=False) else base
            if _touches(marked, x, row, vertical, corners=True):
                style += Style(reverse=True)  # tmux draws the marked pane's border reversed
            segments.append(Segment("│" if vertical else "─", style))
        return Strip(segments).simplify()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._drag_from = event.screen_x if self.divider.direction == "row" else event.screen_y
        self.capture_mouse()
        event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag_from is None:
            return
        now = event.screen_x if self.divider.direction == "row" else event.screen_y
        if now != self._drag_from:
            self.window.move_divider(self.divider, now - self._drag_from)
            self._drag_from = now
        event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._drag_from = None
        self.release_mouse()
        event.stop()


class PaneNumber(Widget):
    """One mark of display-panes (C-b q): a pane's number in big digits, or in plain digits
    where the pane is small, or its size; red on the active pane, blue on the others."""

    DEFAULT_CSS = """
    PaneNumber {
        position: absolute;
    }
    """

    def __init__(self, pane_id: str, rows: list[str], colour: str, big: bool) -> None:
        super().__init__()
        self.pane_id = pane_id
        self.rows = rows
        self.big = big
        self.colour = Style(bgcolor=colour) if big else Style(color=colour)

    @property
    def text(self) -> str:
        return "\n".join(self.rows)

    def render_line(self, y: int) -> Strip:
        row = self.rows[y] if y < len(self.rows) else ""
        if not self.big:
            return Strip([Segment(row, self.rich_style + self.colour)])
        return Strip(
            [Segment(" ", self.colour if c == "#" else self.rich_style) for c in row]
        ).simplify()


def pane_number_marks(index: int, area: Rect) -> list[tuple[Rect, list[str], bool]]:
    """Where display-panes draws pane `index` in a pane's program `area`, as tmux's
    cmd_display_panes_draw_pane: (place, rows, big) for the number and the size label."""
    number = str(index)
    width, height = area.width, area.height
    if width < len(number):
        return []
    px, py = width // 2, height // 2
    if width < len(number) * 6 or height < 5:
        text = number + " " if width >= len(number) + 1 else number
        return [(Rect(area.x + px - len(text) // 2, area.y + py, len(text), 1), [text], False)]
    glyphs = [" ".join(DIGITS[d][row] for d in number) for row in range(5)]
    left, top = area.x + px - len(number) * 3, area.y + py - 2
    marks = [(Rect(left, top, len(glyphs[0]), 5), glyphs, True)]
    label = f"{width}x{height}"
    if height > 6 and width >= len(label):
        marks.append((Rect(area.right - len(label), area.y, len(label), 1), [label], False))
    return marks


class WindowView(Widget):
    """Panes of one window. Pane ids are tmux-style strings ("%3"), unique in the app."""

    DEFAULT_CSS = """
    WindowView {
        width: 1fr;
        height: 1fr;
    }
    WindowView > TerminalPane {
        position: absolute;
    }
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.window_name = name
        self.number = 0  # tmux's window index: kept when other windows close
        self.window_id = ""  # tmux's @N, never reused
        self.options: dict[str, bool] = {}  # window options set with set-option -w
        self.bell = False  # a bell rang while the window was not shown (status `!`)
        self.activity = False  # output while not shown, with monitor-activity (status `#`)
        self.splits = Layout()
        self.panes: dict[str, TerminalPane] = {}
        self.active: str | None = None
        self.last: str | None = None
        self.zoomed = False
        self.preset: str | None = None  # the last layout preset applied (next-layout cycles on)
        self.marked: str | None = None  # the marked pane (select-pane -m), border reversed
        self._recent: list[str] = []  # panes by when they were last made active, newest first
        self._dividers: list[DividerBar] = []
        self._numbers: list[PaneNumber] = []  # display-panes marks while they show
        self._numbers_timer: Timer | None = None

    @property
    def display_name(self) -> str:
        """The name given, else the program in the active pane (tmux's automatic-rename)."""
        if self.window_name:
            return self.window_name
        pane = self.active_pane
        if pane is None:
            return ""
        return pane.session.current_command or pane.program_name

    # -- panes -------------------------------------------------------------------------------

    @property
    def active_pane(self) -> TerminalPane | None:
        return self.panes.get(self.active) if self.active else None

    def active_rect(self) -> Rect | None:
        return self._rect_of(self.active)

    def marked_rect(self) -> Rect | None:
        return self._rect_of(self.marked)

    def _rect_of(self, pane_id: str | None) -> Rect | None:
        if pane_id is None or len(self.panes) < 2:
            return None
        rects, _ = self.splits.geometry(self.size.width, self.size.height)
        return rects.get(pane_id)

    def _area(self) -> tuple[int, int]:
        """The window's size in cells; a hidden window has its container's size (tmux gives
        every window the terminal's size), so its layout edits are the same."""
        width, height = self.size
        if (width <= 0 or height <= 0) and isinstance(self.parent, Widget):
            width, height = self.parent.size
        if width <= 0 or height <= 0:
            width, height = self.app.size
        return max(1, width), max(1, height)

    def pane_ids_in_order(self) -> list[str]:
        """Pane ids by tmux's pane number (pane_index), 0 first."""
        return self.splits.panes()

    def pane_by_index(self, index: int) -> TerminalPane | None:
        """The pane tmux numbers `index` (display-panes, `-t .N`), None past the last."""
        order = self.splits.panes()
        return self.panes.get(order[index]) if 0 <= index < len(order) else None

    async def add_pane(
        self,
        pane: TerminalPane,
        beside: str | None = None,
        direction: Direction = "row",
        *,
        before: bool = False,
        size: int | None = None,
        full: bool = False,
        detached: bool = False,
    ) -> None:
        """split-window: mount `pane` after (`before`: ahead of) `beside` (default: the
        active pane), beside it (`row`, -h) or below (`column`, -v); `size` cells (-l), else
        half; `full` across the whole window (-f); focus it unless `detached` (-d). Raises
        ValueError("no space for new pane") as tmux refuses, leaving everything as it was."""
        target = beside or self.active
        if target is None or self.splits.root is None:
            self.splits.root = pane.pane_id
        else:
            width, height = self._area()
            self.splits.split(
                target, pane.pane_id, direction, width, height, before=before, size=size, full=full
            )
        self.panes[pane.pane_id] = pane
        self.zoomed = False
        await self.mount(pane)
        self.place()
        if not detached or self.active not in self.panes:
            self.select(pane.pane_id)

    async def restore_panes(
        self, layout: Layout, panes: dict[str, TerminalPane], active: str | None
    ) -> None:
        """A restored window: `layout` over `panes` (its leaves are their ids), `active` (else
        the first) focused."""
        self.splits = layout
        self.panes.update(panes)
        self.zoomed = False
        for pane in panes.values():
            await self.mount(pane)
        self.place()
        order = layout.panes()
        if order:
            self.select(active if active in panes else order[0])

    async def remove_pane(self, pane_id: str) -> None:
        """Unmount a pane; its space goes to the pane before it (after, for the first),
        the focus to the last active pane, else the one before, else after (tmux)."""
        order = self.splits.panes()
        pane = self.panes.pop(pane_id)
        self.splits.remove(pane_id, *self._area())
        self._recent = [p for p in self._recent if p != pane_id]
        if self.marked == pane_id:
            self.marked = None
        if self.last == pane_id:
            self.last = None
        if self.active == pane_id:
            self.active = None
            if self.panes:
                self._take_over(self.last if self.last in self.panes else order, pane_id)
        self.zoomed = False
        await pane.remove()
        self.place()

    def _take_over(self, heir: str | list[str], gone: str) -> None:
        """Focus the heir of the closed pane `gone`: the last pane, else the one before it in
        `heir` (the old pane order), else after; tmux gives the heir no turn as most recent."""
        if isinstance(heir, list):
            i = heir.index(gone)
            heir = heir[i - 1] if i else heir[1]
        recent = self._recent
        self.select(heir)
        self._recent = recent

    def select(self, pane_id: str) -> None:
        """Make `pane_id` the active pane and give it focus."""
        if pane_id not in self.panes:
            return
        if self.active != pane_id:
            self.last, self.active = self.active, pane_id
            self._recent = [pane_id, *[p for p in self._recent if p != pane_id]]
        if self.zoomed:
            self.place()
        self.panes[pane_id].focus()
        for bar in self._dividers:
            bar.refresh()

    def neighbour(self, side: Side, pane_id: str | None = None) -> str | None:
        """The pane on `side` of `pane_id` (default: the active pane), round the edge of the
        window if there is none; of several, the one used most recently (tmux's
        select-pane -L/-R/-U/-D and the {left-of} targets)."""
        pane_id = pane_id or self.active
        if pane_id is None:
            return None
        return self.splits.neighbour(pane_id, side, *self._area(), recent=self._recent)

    def select_direction(self, side: Side) -> None:
        """select-pane -L/-R/-U/-D: focus the neighbour() on that side."""
        other = self.neighbour(side)
        if other is not None:
            self.zoomed = False
            self.select(other)
            self.place()

    def toggle_zoom(self) -> None:
        if len(self.panes) > 1:
            self.zoomed = not self.zoomed
            self.place()

    def resize_pane(self, pane_id: str, side: Side, cells: int) -> None:
        """resize-pane -L/-R/-U/-D: move the pane's border on that side by `cells`; a pane at
        the window's edge moves its other border, as tmux does."""
        self.zoomed = False  # tmux unzooms before resizing, swapping or moving between panes
        if pane_id in self.panes:
            self.splits.resize(pane_id, side, cells, *self._area())
            self.place()

    def resize_to(self, pane_id: str, width: int | None = None, height: int | None = None) -> None:
        """resize-pane -x/-y: make the pane `width` cells wide and/or `height` high (the
        caller turns `N%` into cells of the window), as far as the other panes allow."""
        self.zoomed = False
        if pane_id not in self.panes:
            return
        if width is not None:
            self.splits.resize_to(pane_id, "row", width, *self._area())
        if height is not None:
            self.splits.resize_to(pane_id, "column", height, *self._area())
        self.place()

    def move_divider(self, divider: Divider, cells: int) -> None:
        self.splits.move_divider(divider.split, divider.index, cells, *self._area())
        self.place()

    def swap(self, a: str, b: str) -> None:
        """swap-pane -s a -t b: the two panes exchange places and numbers; which one is
        active is the caller's choice (tmux makes it the target, -t)."""
        self.zoomed = False
        if a in self.panes and b in self.panes:
            self.splits.swap(a, b)
            self.place()

    def rotate(self, reverse: bool = False) -> None:
        """rotate-window (C-o; -D, M-o, the other way): every pane moves one place on through
        the layout; the focus stays in place, on the pane that rotated into it (tmux)."""
        order = self.splits.panes()
        if len(order) < 2:
            return
        self.zoomed = False
        place = order.index(self.active) if self.active in order else 0
        self.splits.rotate(reverse)
        self.select(self.splits.panes()[place])
        self.place()

    def spread_evenly(self, pane_id: str) -> None:
        """select-layout -E: the pane and its siblings get equal shares of their space."""
        self.zoomed = False
        if pane_id in self.panes:
            self.splits.spread_out(pane_id, *self._area())
            self.place()

    def apply_preset(self, name: str) -> None:
        """select-layout NAME (M-1..M-5): tmux's preset for all panes, in pane order."""
        self.splits.apply_preset(name, *self._area())
        self.preset = name
        self.zoomed = False
        self.place()

    # -- display-panes ---------------------------------------------------------------------

    @property
    def showing_pane_numbers(self) -> bool:
        return bool(self._numbers)

    def show_pane_numbers(self, seconds: float = DISPLAY_PANES_TIME) -> None:
        """display-panes (C-b q): every pane's number large in its middle (red on the active
        pane, blue on the others) for `seconds`, or until hide_pane_numbers()."""
        self._draw_numbers()
        if self._numbers_timer is not None:
            self._numbers_timer.stop()
        self._numbers_timer = self.set_timer(seconds, self.hide_pane_numbers)

    def hide_pane_numbers(self) -> None:
        if self._numbers_timer is not None:
            self._numbers_timer.stop()
            self._numbers_timer = None
        for mark in self._numbers:
            mark.remove()
        self._numbers = []

    def _draw_numbers(self) -> None:
        for mark in self._numbers:
            mark.remove()
        self._numbers = []
        width, height = self.size
        if width <= 0 or height <= 0:
            return
        rects, _ = self._geometry(width, height)
        top = 1 if len(self.panes) > 1 and not self.zoomed else 0  # the title row
        for index, pane_id in enumerate(self.splits.panes()):
            rect = rects.get(pane_id)
            if rect is None or rect.height - top <= 0:
                continue
            area = Rect(rect.x, rect.y + top, rect.width, rect.height - top)
            colour = "red" if pane_id == self.active else "blue"
            for place, rows, big in pane_number_marks(index, area):
                mark = PaneNumber(pane_id, rows, colour, big)
                mark.styles.offset = (place.x, place.y)
                mark.styles.width = place.width
                mark.styles.height = place.height
                self._numbers.append(mark)
        if self._numbers:
            self.mount_all(self._numbers)

    # -- placing ------------------------------------------------------------------------------

    class Resized(Message):
        """The window area changed size (the app resizes the programs of hidden windows)."""

    def on_resize(self, event: events.Resize) -> None:
        self.place()
        self.post_message(self.Resized())

    def place(self) -> None:
        """Place panes and dividers for the current size, layout and zoom."""
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return
        rects, dividers = self._geometry(width, height)
        many = len(self.panes) > 1
        for pane_id, pane in self.panes.items():
            rect = rects.get(pane_id)
            pane.display = rect is not None
            if rect is None:
                continue
            title = many and not self.zoomed
            same_size = (pane.size.width, pane.size.height) == (rect.width, rect.height)
            changed_title = pane.show_title != title
            pane.show_title = title
            pane.styles.offset = (rect.x, rect.y)
            pane.styles.width = rect.width
            pane.styles.height = rect.height
            if same_size and changed_title:  # otherwise on_resize syncs, at the real size
                pane.sync_size()
        self._place_dividers(dividers)
        if self._numbers:
            self._draw_numbers()

    def _place_dividers(self, dividers: list[Divider]) -> None:
        while len(self._dividers) > len(dividers):
            self._dividers.pop().remove()
        for i, divider in enumerate(dividers):
            if i < len(self._dividers):
                bar = self._dividers[i]
                bar.divider = divider
            else:
                bar = DividerBar(self, divider)
                self._dividers.append(bar)
                self.mount(bar)
            bar.styles.offset = (divider.rect.x, divider.rect.y)
            bar.styles.width = divider.rect.width
            bar.styles.height = divider.rect.height
            bar.refresh()

    def _geometry(self, width: int, height: int) -> tuple[dict[str, Rect], list[Divider]]:
        """Where panes and dividers go, the zoomed pane taking the whole window."""
        if self.zoomed and self.active in self.panes:
            return {self.active: Rect(0, 0, width, height)}, []  # type: ignore[dict-item]
        return self.splits.geometry(width, height)

    def size_programs(self, width: int, height: int) -> None:
        """Tell the programs of a hidden window their new size (tmux resizes every window with
        the terminal, not only the one on screen)."""
        if width <= 0 or height <= 0:
            return
        rects, _ = self._geometry(width, height)
        top = 1 if len(self.panes) > 1 and not self.zoomed else 0
        for pane_id, rect in rects.items():
            pane = self.panes.get(pane_id)
            if pane is not None and rect.width > 0 and rect.height - top > 0:
                pane.session.set_size(columns=rect.width, lines=rect.height - top)

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width, Style())
