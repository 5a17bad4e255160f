"""`SidePanel`: the look both snapshot panels share (docked right of the windows, a title
row lit while it has focus, a picture framed below, a row of key hints)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import Static


class SidePanel(Widget, can_focus=True):
    """About 56 columns beside the panes at 140; never narrower than 36 (80x24 keeps 44
    for the panes). The app may override the width in its own CSS.

    `key_filter`, when the app sets it, is asked first about every key the panel gets, as
    panes ask it: the prefix and what follows it are the multiplexer's (True: taken)."""

    key_filter: Callable[[events.Key], bool] | None = None

    def multiplexer_took(self, event: events.Key) -> bool:
        """Keep the key from going further (a panel's keys never reach the panes) and say
        whether the multiplexer took it (the panel then ignores it)."""
        event.stop()
        event.prevent_default()
        return self.key_filter is not None and self.key_filter(event)

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


def set_text(static: Static, content: Text) -> None:
    """Put `content` in `static`; nothing if it is already there, and no layout unless its
    height changes. A layout reflows the whole screen (about 10 ms with eight panes), and a
    live panel redraws its rows several times a second."""
    shown: Text | None = getattr(static, "_shown_text", None)
    if shown == content:
        return
    setattr(static, "_shown_text", content)  # noqa: B010 (Static has no slot for it)
    width = static.content_size.width
    same_height = (
        shown is not None
        and width > 0
        and _lines(static, shown, width) == _lines(static, content, width)
    )
    static.update(content, layout=not same_height)


def _lines(static: Static, text: Text, width: int) -> int:
    if text.no_wrap:
        return text.plain.count("\n") + 1
    return len(text.wrap(static.app.console, width))
