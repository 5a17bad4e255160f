"""`LivePanel`: a side panel over the agents' engine state (`manager.agents`, `manager.hub`)
that reads it again when the instance's event stream says it changed.

Events come in bursts (a script posting a hundred messages): the panel reads once per burst,
REFRESH_DELAY after the first, and at most every READ_INTERVAL. It subscribes on mount and
unsubscribes on unmount, so a closed panel costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from widgets.choose_tree import list_step
from widgets.panels.side import SidePanel, one_line, set_text

if TYPE_CHECKING:
    from engine.events import Event
    from engine.manager import SessionManager

REFRESH_DELAY = 0.05  # seconds: one read per burst of events, still quick to the eye
READ_INTERVAL = 0.25  # seconds: reads at most this often (a panel is watched, not typed in)


def ago(since: datetime, now: datetime) -> str:
    """Time since `since`, short: 42s, 3m05s, 2h10m, 3d."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"


def count(value: int | float) -> str:
    """A token count the way dashboards write it: 812, 12.3k, 4.1M."""
    if value < 1000:
        return f"{value:.0f}"
    if value < 1_000_000:
        return f"{value / 1000:.1f}k" if value < 100_000 else f"{value / 1000:.0f}k"
    return f"{value / 1_000_000:.1f}M"


class PanelList(OptionList):
    """The list of a live panel. A list with a fixed height need not lay the screen out when
    its rows grow (the messages panel, at every message): it scrolls over them itself, so a
    new virtual size only repaints it. One sized by its rows still lays out."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def _watch_virtual_size(self, size: Size) -> None:
        if self.styles.auto_dimensions:
            self.refresh(layout=True)


def utc_now() -> datetime:
    return datetime.now(UTC)


class LivePanel(SidePanel):
    """The shared part: a title, a list the keys move through, a hint; the subclass says
    which event types concern it (EVENTS), what its rows are (`read`, `row`, `key`) and where
    enter goes (`pane_of`), and composes its own parts around them.

    Keys: up/down (j/k, home/end, pageup/pagedown) move, enter picks (`picked`), escape or q
    closes; other keys go to `on_panel_key`.
    """

    DEFAULT_CSS = """
    LivePanel > OptionList {
        height: 1fr; border: none; padding: 0;
        text-wrap: nowrap; text-overflow: ellipsis; scrollbar-size-vertical: 1;
    }
    LivePanel > .detail { height: auto; max-height: 8; color: $text-muted; padding: 0 1; }
    """

    EVENTS: ClassVar[frozenset[str]] = frozenset()
    TICK: ClassVar[float | None] = None  # seconds between reads without an event, if any
    TITLE = ""
    HINT = "↑↓ move  ⏎ go to pane  esc close"

    class CloseRequested(Message):
        """Close this panel (escape, q); other panels stacked with it stay."""

        def __init__(self, panel: LivePanel) -> None:
            super().__init__()
            self.panel = panel

    class PaneRequested(Message):
        """Show the pane of this session (by name or id), e.g. the agent picked."""

        def __init__(self, session: str) -> None:
            super().__init__()
            self.session = session

    def __init__(self, manager: SessionManager, *, now: Callable[[], datetime] = utc_now) -> None:
        super().__init__()
        self.manager = manager
        self.now = now  # the clock times in state are measured by (fixed in picture tests)
        self.rows: list[Any] = []
        self._shown: list[Text] = []  # the list's rows as last drawn
        self._unsubscribe: Callable[[], None] | None = None
        self._due = False
        self._read_at = 0.0  # when reload() last read the engine

    def on_mount(self) -> None:
        self._unsubscribe = self.manager.events.subscribe(self._on_event)
        self.reload()
        if self.TICK:
            self.set_interval(self.TICK, self.reload)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        if event.type in self.EVENTS and not self._due:
            self._due = True
            wait = max(REFRESH_DELAY, self._read_at + READ_INTERVAL - time.monotonic())
            self.set_timer(wait, self._reload_due)

    def _reload_due(self) -> None:
        self._due = False
        if self.is_attached:
            self.reload()

    # -- what a subclass says -------------------------------------------------------------------

    FOLLOW: ClassVar[bool] = False  # a timeline: the cursor stays on the newest row
    # A timeline lists between KEEP and 2 * KEEP of the newest rows `read` gives (it must give
    # 2 * KEEP): a new row is appended, and the oldest KEEP go at once when there are 2 * KEEP.
    # Always the newest KEEP would shift every row at each new one, and the list measures
    # every row again (15 ms for 200 messages, on the echo's path).
    KEEP: ClassVar[int | None] = None

    def read(self) -> list[Any]:
        """The rows from the engine now."""
        raise NotImplementedError

    def row(self, item: Any) -> Text:
        """A row of the list."""
        raise NotImplementedError

    def key(self, item: Any) -> Hashable:
        """What stays the same about a row from one read to the next (the cursor keeps to it)."""
        return getattr(item, "id", None)

    def summary(self) -> str:
        """The title's text after the panel's name."""
        return str(len(self.rows))

    def pane_of(self, item: Any) -> str | None:
        """The session (id or name) whose pane enter goes to."""
        return None

    # -- reading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the engine state again and redraw, the cursor on the same row if it is still
        there (on the newest with FOLLOW, when it was on the newest)."""
        self._read_at = time.monotonic()
        rows = self._window(self.read())
        index, selected = self.index, self.selected
        following = self.FOLLOW and (index is None or index >= len(self.rows) - 1)
        self.rows = rows
        keys = [self.key(item) for item in rows]
        keep = None
        if following:
            keep = len(rows) - 1
        elif selected is not None and self.key(selected) in keys:
            keep = keys.index(self.key(selected))
        self.fill((self.row(item) for item in rows), keep)
        self.set_title(self.summary())
        self.moved()

    _oldest: Hashable = None  # the key of a timeline's first row listed

    def _window(self, rows: list[Any]) -> list[Any]:
        """The rows from the oldest listed on (KEEP)."""
        if not self.KEEP:
            return rows
        keys = [self.key(item) for item in rows]
        start = keys.index(self._oldest) if self._oldest in keys else len(rows) - self.KEEP
        if len(rows) - start > 2 * self.KEEP - 1:
            start = len(rows) - self.KEEP
        start = max(0, start)
        self._oldest = keys[start] if start < len(keys) else None
        return rows[start:]

    @property
    def selected(self) -> Any | None:
        """The row's item the cursor is on."""
        index = self.index
        if index is None or not 0 <= index < len(self.rows):
            return None
        return self.rows[index]

    # -- the parts -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """The usual parts: title, list, the selected row's detail, hint."""
        yield self.title_row()
        yield self.list_widget()
        yield Static(classes="detail", id="detail")
        yield self.hint_row()

    def title_row(self) -> Static:
        return Static(one_line(f" {self.TITLE}"), id="title")

    def hint_row(self) -> Static:
        return Static(one_line(self.HINT), id="hint")

    def list_widget(self) -> OptionList:
        options = PanelList()
        options.can_focus = False  # the panel keeps the keys
        return options

    def set_title(self, text: str) -> None:
        set_text(self.query_one("#title", Static), one_line(f" {self.TITLE} · {text}"))

    @property
    def options(self) -> OptionList:
        return self.query_one(OptionList)

    def fill(self, prompts: Iterable[Text], keep: int | None = None) -> None:
        """Replace the list's rows, the cursor on row `keep` (else where it was, kept in range).
        Only the rows that changed are replaced, and the list keeps its length where it can:
        a new length changes the list's virtual size, which lays out the whole screen."""
        options = self.options
        old = options.highlighted
        texts = list(prompts)
        shown = self._shown
        if texts != shown:
            self._shown = texts
            common = min(len(shown), len(texts))
            for index in range(common):
                if texts[index] != shown[index]:
                    options.replace_option_prompt_at_index(index, texts[index])
            for index in range(len(shown) - 1, common - 1, -1):
                options.remove_option_at_index(index)
            if len(texts) > common:
                options.add_options(Option(text) for text in texts[common:])
        rows = options.option_count
        at = keep if keep is not None else old
        if rows:
            at = min(max(at if at is not None else 0, 0), rows - 1)
            if options.highlighted != at:
                options.highlighted = at

    @property
    def index(self) -> int | None:
        """The row the cursor is on."""
        return self.options.highlighted if self.is_mounted else None

    # -- keys ------------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        if self.multiplexer_took(event):
            return
        key = event.key
        options = self.options
        if key in ("escape", "q"):
            self.post_message(self.CloseRequested(self))
        elif (step := list_step(key, options.option_count, options)) is not None:
            if options.option_count:
                at = options.highlighted or 0
                options.highlighted = max(0, min(options.option_count - 1, at + step))
                self.moved()
        elif key == "enter":
            if options.highlighted is not None:
                self.picked(options.highlighted)
        else:
            self.on_panel_key(event)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.moved()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click picks the row, as enter does."""
        event.stop()
        self.focus()
        self.picked(event.option_index)

    def moved(self) -> None:
        """The cursor moved: subclasses redraw the detail of the row under it."""

    def picked(self, index: int) -> None:
        """Enter on row `index`: go to its pane."""
        session = self.pane_of(self.rows[index]) if 0 <= index < len(self.rows) else None
        if session:
            self.post_message(self.PaneRequested(session))

    def on_panel_key(self, event: events.Key) -> None:
        """A key the shared part does not use."""
