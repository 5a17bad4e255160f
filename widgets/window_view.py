"""`WindowView`: one tmux window — panes placed by an engine `Layout`, with draggable dividers."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from engine.layout import Direction, Divider, Layout, Rect, Side
from widgets.terminal_pane import TerminalPane


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
        base = self.rich_style
        accent = self.get_component_rich_style("divider--active")
        if self.divider.direction == "row":  # a vertical line
            touching = (
                active is not None
                and active.y <= rect.y + y < active.bottom
                and (active.right == rect.x or active.x == rect.x + 1)
            )
            return Strip([Segment("│", accent if touching else base)])
        segments = []
        for x in range(rect.width):
            touching = (
                active is not None
                and active.x <= rect.x + x < active.right
                and (active.bottom == rect.y or active.y == rect.y + 1)
            )
            segments.append(Segment("─", accent if touching else base))
        return Strip(segments)

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
        self.splits = Layout()
        self.panes: dict[str, TerminalPane] = {}
        self.active: str | None = None
        self.last: str | None = None
        self.zoomed = False
        self.preset: str | None = None  # the last layout preset applied (next-layout cycles on)
        self._dividers: list[DividerBar] = []

    # -- panes -------------------------------------------------------------------------------

    @property
    def active_pane(self) -> TerminalPane | None:
        return self.panes.get(self.active) if self.active else None

    def active_rect(self) -> Rect | None:
        if self.active is None or len(self.panes) < 2:
            return None
        rects, _ = self.splits.geometry(self.size.width, self.size.height)
        return rects.get(self.active)

    async def add_pane(
        self, pane: TerminalPane, beside: str | None = None, direction: Direction = "row"
    ) -> None:
        """Mount `pane`; split `beside` (default: the active pane) in `direction`."""
        target = beside or self.active
        if target is None or self.splits.root is None:
            self.splits.root = pane.pane_id
        else:
            self.splits.split(target, pane.pane_id, direction)
            if self.size.width and not self.splits.fits(self.size.width, self.size.height):
                self.splits.remove(pane.pane_id)
                raise ValueError("no space for new pane")
        self.panes[pane.pane_id] = pane
        self.zoomed = False
        await self.mount(pane)
        self.place()
        self.select(pane.pane_id)

    async def remove_pane(self, pane_id: str) -> None:
        """Unmount a pane; focus goes to the last pane, else the first."""
        pane = self.panes.pop(pane_id)
        self.splits.remove(pane_id)
        if self.last == pane_id:
            self.last = None
        if self.active == pane_id:
            self.active = None
            following = (
                self.last if self.last in self.panes else next(iter(self.splits.panes()), None)
            )
            if following is not None:
                self.select(following)
        self.zoomed = False
        await pane.remove()
        self.place()

    def select(self, pane_id: str) -> None:
        """Make `pane_id` the active pane and give it focus."""
        if pane_id not in self.panes:
            return
        if self.active != pane_id:
            self.last, self.active = self.active, pane_id
        if self.zoomed:
            self.place()
        self.panes[pane_id].focus()
        for bar in self._dividers:
            bar.refresh()

    def select_direction(self, side: Side) -> None:
        if self.active is None:
            return
        other = self.splits.neighbour(self.active, side, self.size.width, self.size.height)
        if other is not None:
            self.zoomed = False
            self.select(other)
            self.place()

    def select_next(self, step: int = 1) -> None:
        order = self.splits.panes()
        if self.active in order:
            self.zoomed = False
            self.select(order[(order.index(self.active) + step) % len(order)])
            self.place()

    def select_last(self) -> None:
        if self.last in self.panes:
            self.select(self.last)  # type: ignore[arg-type]

    def toggle_zoom(self) -> None:
        if len(self.panes) > 1:
            self.zoomed = not self.zoomed
            self.place()

    def resize_active(self, side: Side, cells: int) -> None:
        self.zoomed = False  # tmux unzooms before resizing, swapping or moving between panes
        if self.active is not None:
            self.splits.resize(self.active, side, cells, self.size.width, self.size.height)
            self.place()

    def move_divider(self, divider: Divider, cells: int) -> None:
        self.splits.move_divider(
            divider.split, divider.index, cells, self.size.width, self.size.height
        )
        self.place()

    def swap_active(self, step: int) -> None:
        self.zoomed = False
        order = self.splits.panes()
        if self.active in order and len(order) > 1:
            other = order[(order.index(self.active) + step) % len(order)]
            self.splits.swap(self.active, other)  # type: ignore[arg-type]
            self.place()

    def apply_preset(self, name: str) -> None:
        self.splits.apply_preset(name)
        self.preset = name
        self.zoomed = False
        self.place()

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
                pane.session.set_size(rect.height - top, rect.width)

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width, Style())
