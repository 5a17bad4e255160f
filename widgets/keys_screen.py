"""`C-b ?`: the key list, in a pager that scrolls like tmux's view mode.

`PagerScreen` is the scrolling box (also used by `C-b ~`, the messages); rows are plain
`Text`, so a row like `[x]` or `[/b]` shows as typed instead of being read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

CLOSE_KEYS = frozenset({"q", "escape", "enter"})


class PagerScreen(ModalScreen[None]):
    """A box of text rows over the panes: j/k/Up/Down a line, PgUp/PgDn/C-b/C-f/Space a
    page, Home/End/g/G the ends, the mouse wheel; q, Esc or Enter closes."""

    DEFAULT_CSS = """
    PagerScreen { align: center middle; }
    PagerScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, rows: Sequence[str], title: str) -> None:
        super().__init__()
        self.rows = list(rows)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = self.title_text
            box.border_subtitle = "q closes"
            box.can_focus = False  # keys come to the screen, which scrolls the box
            yield Static(Text("\n".join(self.rows), no_wrap=True), id="rows")

    @property
    def box(self) -> VerticalScroll:
        return self.query_one(VerticalScroll)

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        key = event.key
        box = self.box
        if key in CLOSE_KEYS:
            self.dismiss()
        elif key in ("down", "j", "ctrl+n", "ctrl+e"):
            box.scroll_relative(y=1, animate=False)
        elif key in ("up", "k", "ctrl+p", "ctrl+y"):
            box.scroll_relative(y=-1, animate=False)
        elif key in ("pagedown", "ctrl+f", "space"):
            box.scroll_page_down(animate=False)
        elif key in ("pageup", "ctrl+b"):
            box.scroll_page_up(animate=False)
        elif key in ("home", "g"):
            box.scroll_home(animate=False)
        elif key in ("end", "G"):
            box.scroll_end(animate=False)


class KeysScreen(PagerScreen):
    """`C-b ?`: every prefix key and the command it runs.

    `rows` are (key, command) pairs as the user types them, e.g. ("C-b %", "split-window -h").
    """

    def __init__(self, rows: Sequence[tuple[str, str]]) -> None:
        width = max((len(key) for key, _ in rows), default=0)
        super().__init__([f"{key:<{width}}  {command}" for key, command in rows], "keys")
