"""`SidePanel`: the look both snapshot panels share (docked right of the windows, a title
row lit while it has focus, a picture framed below, a row of key hints)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class SidePanel(Widget, can_focus=True):
    """About 56 columns beside the panes at 140; never narrower than 36 (80x24 keeps 44
    for the panes). The app may override the width in its own CSS."""

    DEFAULT_CSS = """
    SidePanel {
        dock: right;
        width: 40%;
        min-width: 36;
        height: 1fr;
        layout: vertical;
        border-left: tall $panel;
    }
    SidePanel > #title { height: 1; background: $panel; color: $text-muted; }
    SidePanel:focus > #title { background: $accent; color: $text; text-style: bold; }
    SidePanel > TerminalView { border: round $accent; }
    SidePanel > #hint { height: 1; color: $text-muted; }
    """


def one_line(text: str) -> Text:
    """A row of a panel: plain text (a `[` in a note is not markup), cut rather than wrapped."""
    return Text(text, no_wrap=True, overflow="ellipsis")
