"""`PanelStack`: the sidebar column the agent panels share, one above the other.

The column is as wide as a single side panel (the panes keep the same width whichever panels
are open); the panels in it share its height evenly. It remembers which panel had focus last,
so the app can give up the least recently focused one when another would not fit.
"""

from __future__ import annotations

import itertools

from textual import events
from textual.containers import Vertical
from textual.widget import Widget

from widgets.panels.side import SidePanel

_stamps = itertools.count(1)


class PanelStack(Vertical):
    """Docked right as a lone side panel is; each panel keeps its own left border and title."""

    DEFAULT_CSS = """
    PanelStack { dock: right; width: 40%; min-width: 36; height: 1fr; }
    PanelStack > SidePanel { dock: none; width: 1fr; height: 1fr; }
    """

    def __init__(self, *panels: SidePanel) -> None:
        super().__init__(*panels)
        self._focused: dict[Widget, int] = {}  # panel -> when it last had focus (a counter)

    @property
    def panels(self) -> list[SidePanel]:
        """The open panels, top to bottom (one being removed left out)."""
        return [p for p in self.children if isinstance(p, SidePanel) and not p._pruning]

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget: Widget | None = event.widget
        while widget is not None and widget.parent is not self:
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        if widget is not None:
            self._focused[widget] = next(_stamps)

    def least_recent(self) -> SidePanel | None:
        """The open panel that had focus longest ago."""
        panels = self.panels
        if not panels:
            return None
        return min(panels, key=lambda p: self._focused.get(p, 0))

    def take_out(self, panel: SidePanel) -> None:
        """Remove that panel (at once from `panels`; from the screen on the next refresh)."""
        self._focused.pop(panel, None)
        panel.remove()
