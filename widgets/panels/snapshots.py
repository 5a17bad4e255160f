"""`SnapshotsPanel`: the snapshots side panel (`C-b g`), a list over a picture of the one
selected, as choose-tree is a list over a live preview.

The panel draws what its `SnapshotSource` gives and posts what the user asks for
(`RestoreRequested`, `DeleteRequested`, `TimelineRequested`, `CloseRequested`); the app does
the work and calls `reload()`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.terminal import Terminal
from widgets.choose_tree import list_step
from widgets.panels.latest import Latest
from widgets.panels.side import SidePanel, one_line
from widgets.panels.source import SnapshotInfoLike, SnapshotSource
from widgets.terminal_pane import Palette
from widgets.terminal_view import TerminalView

PREVIEWS_KEPT = 16  # pictures kept, so moving back and forth does not ask the store again
HINT = "⏎ restore d delete t timeline tab pane ⇧↑↓ scroll esc"


def _when(moment: datetime) -> str:
    """Local wall-clock time, to the second (automatic snapshots are a minute apart)."""
    return moment.astimezone().strftime("%m-%d %H:%M:%S")


def _size(count: int) -> str:
    """Bytes as `ls -h` writes them: 812, 4.1K, 23M."""
    size, units = float(count), ["", "K", "M", "G"]
    while size >= 1024 and len(units) > 1:
        size /= 1024
        units.pop(0)
    if not units[0]:
        return str(count)
    return f"{size:.1f}{units[0]}" if size < 10 else f"{size:.0f}{units[0]}"


def _group(info: SnapshotInfoLike) -> str:
    """Pane snapshots group by their session, workspace snapshots together."""
    if info.kind == "workspace":
        return "workspace"
    return ", ".join(info.sessions) or "?"


@dataclass(frozen=True)
class _Row:
    heading: str  # a group's heading row, else ""
    info: SnapshotInfoLike | None = None


class SnapshotsPanel(SidePanel):
    """Snapshots grouped by session, newest first, each with its time, trigger, pane count,
    size and note; the selected one drawn below, pane by pane, scrollable through history.

    Keys: up/down (j/k, home/end, pageup/pagedown) select, enter restores, d deletes after
    y, t opens the pane's timeline, tab / shift+tab change the previewed pane, shift+up/down
    (shift+pageup/pagedown, the wheel) scroll the preview, left/right move it sideways (a
    snapshot wider than the panel is cropped), escape or q closes.
    """

    DEFAULT_CSS = """
    SnapshotsPanel > OptionList {
        height: auto; max-height: 35%; border: none; padding: 0;
        text-wrap: nowrap; text-overflow: ellipsis; scrollbar-size-vertical: 1;
    }
    SnapshotsPanel > OptionList > .option-list--option-disabled { color: $text-accent; }
    SnapshotsPanel > #confirm { height: 1; display: none; background: $warning; color: $text; }
    """

    class RestoreRequested(Message):
        """Restore this snapshot (enter)."""

        def __init__(self, snapshot_id: int) -> None:
            super().__init__()
            self.snapshot_id = snapshot_id

    class DeleteRequested(Message):
        """Delete this snapshot (d, then y)."""

        def __init__(self, snapshot_id: int) -> None:
            super().__init__()
            self.snapshot_id = snapshot_id

    class TimelineRequested(Message):
        """Open the timeline of the previewed `pane`'s session at the snapshot's time (t):
        `session` as the snapshot names it, `session_id` when the snapshot lists ids
        (`SnapshotInfo.session_ids`), else None."""

        def __init__(
            self, snapshot_id: int, session: str, session_id: str | None, pane: int, time: float
        ) -> None:
            super().__init__()
            self.snapshot_id = snapshot_id
            self.session = session
            self.session_id = session_id
            self.pane = pane
            self.time = time

    class CloseRequested(Message):
        """Close the panel (escape, q)."""

    def __init__(self, source: SnapshotSource, *, palette: Palette | None = None) -> None:
        super().__init__()
        self.source = source
        self.infos: list[SnapshotInfoLike] = []
        self.rows: list[_Row] = []
        self.pane = 0  # the previewed pane of the selected snapshot
        self.preview = TerminalView(palette=palette, hint="loading…")
        self.preview.can_focus = False  # the panel keeps the keys; the wheel still scrolls it
        self._confirming: int | None = None  # the snapshot d asked about
        self._previews: OrderedDict[tuple[int, int], Terminal | None] = OrderedDict()
        self._previewing: tuple[int, int] | None = None
        self._selected_id: int | None = None
        self._loader: Latest[tuple[int, int], Terminal | None] = Latest(
            self, self._load, self._loaded, self._load_failed
        )

    def compose(self) -> ComposeResult:
        yield Static(" Snapshots", id="title")
        options = OptionList()
        options.can_focus = False
        yield options
        yield self.preview
        yield Static(HINT, id="hint")
        yield Static(id="confirm")

    def on_mount(self) -> None:
        self.run_worker(self.reload(), group="reload", exit_on_error=False)

    # -- the list --------------------------------------------------------------------------------

    async def reload(self) -> None:
        """Read the snapshots again (after a delete, a new snapshot), keeping the selection
        on the same snapshot, or near where it was."""
        # The selected snapshot, else (deleted) the one below it as listed, else above.
        selected = self.selected
        old = [row.info.id for row in self.rows if row.info is not None]
        at = old.index(selected.id) if selected is not None else 0
        wanted = old[at:] + old[:at][::-1]
        try:
            infos = list(await self.source.snapshots())
        except Exception as error:
            self._title(f"cannot list snapshots: {error}")
            return
        # Pictures of snapshots still listed stay (a preview scrolled back stays so when a
        # new snapshot arrives); an id gone, or reused by another snapshot, is forgotten.
        known = {(i.id, i.created_at) for i in self.infos}
        same = {i.id for i in infos if (i.id, i.created_at) in known}
        for key in [key for key in self._previews if key[0] not in same]:
            del self._previews[key]
        if self._previewing is not None and self._previewing[0] not in same:
            self._previewing = None
        self.infos = infos
        groups: dict[str, list[SnapshotInfoLike]] = {}
        for info in sorted(infos, key=lambda i: i.created_at, reverse=True):
            groups.setdefault(_group(info), []).append(info)
        self.rows = []
        for name, members in groups.items():  # the group with the newest snapshot first
            self.rows.append(_Row(f"{name} ({len(members)})"))
            self.rows.extend(_Row("", info) for info in members)
        options = self._options
        options.clear_options()
        options.add_options(
            Option(self._label(row), disabled=bool(row.heading)) for row in self.rows
        )
        count = len(infos)
        self._title(str(count))
        ids = [row.info.id if row.info else None for row in self.rows]
        keep = next((ids.index(i) for i in wanted if i in ids), None)
        self._select(keep if keep is not None else self._selectable(0, 1))

    @property
    def _options(self) -> OptionList:
        return self.query_one(OptionList)

    def _title(self, text: str) -> None:
        self.query_one("#title", Static).update(one_line(f" Snapshots · {text}"))

    def _label(self, row: _Row) -> Text:
        info = row.info
        if info is None:
            return one_line(row.heading)
        panes = f"{info.panes}p"
        return one_line(
            f"{_when(info.created_at)} {info.trigger:<8} {panes:>3} {_size(info.stored_bytes):>5}"
            f"  {info.note}"
        )

    @property
    def selected(self) -> SnapshotInfoLike | None:
        """The snapshot the cursor is on."""
        index = self._options.highlighted if self.is_mounted else None
        if index is None or not 0 <= index < len(self.rows):
            return None
        return self.rows[index].info

    def _selectable(self, start: int, step: int) -> int | None:
        """The first snapshot row from `start` on in direction `step`."""
        index = start
        while 0 <= index < len(self.rows):
            if self.rows[index].info is not None:
                return index
            index += step
        return None

    def _select(self, index: int | None) -> None:
        if index is None:
            self._options.highlighted = None
            self._loader.drop()
            self._previewing = None
            self.preview.show(None, "no snapshots yet: C-b S takes one")
            self.preview.border_title = self.preview.border_subtitle = ""
            return
        info = self.rows[index].info
        if info is not None and info.id != self._selected_id:
            self.pane = 0  # another snapshot: its first pane
            self._selected_id = info.id
        self._options.highlighted = index
        self._show_preview()

    def _move(self, step: int) -> None:
        current = self._options.highlighted
        if current is None:
            return
        target = max(0, min(len(self.rows) - 1, current + step))
        found = self._selectable(target, 1 if step > 0 else -1)
        if found is None:  # only headings that way: the nearest snapshot back the other way
            found = self._selectable(target, -1 if step > 0 else 1)
        self._select(found)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """A click moved the highlight."""
        event.stop()
        self._select(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click selects (restoring takes enter: a click should not replace a pane)."""
        event.stop()
        self.focus()

    # -- preview ---------------------------------------------------------------------------------

    def _show_preview(self) -> None:
        info = self.selected
        if info is None:
            return
        key = (info.id, self.pane)
        if key == self._previewing:
            return
        self._previewing = key
        title = f"#{info.id} pane {self.pane + 1}/{max(1, info.panes)}"
        self.preview.border_title = f"{title} · {info.note}" if info.note else title
        self.preview.border_subtitle = ""
        if key in self._previews:
            self._loader.drop()
            self._loaded(key, self._previews[key])
            return
        self.preview.show(None, "loading…")
        self._loader.want(key)

    async def _load(self, key: tuple[int, int]) -> Terminal | None:
        terminal = await self.source.preview(*key)
        # Kept even when the selection has moved on: moving back shows it at once.
        self._previews[key] = terminal
        self._previews.move_to_end(key)
        while len(self._previews) > PREVIEWS_KEPT:
            self._previews.popitem(last=False)
        return terminal

    def _loaded(self, key: tuple[int, int], terminal: Terminal | None) -> None:
        if key != self._previewing:
            return
        if terminal is None:
            self.preview.show(None, f"no pane {key[1] + 1} in this snapshot")
            return
        self.preview.show(terminal)
        size, history = f"{terminal.columns}×{terminal.lines}", terminal.history_size
        self.preview.border_subtitle = f"{size} +{history} lines" if history else size

    def _load_failed(self, key: tuple[int, int], error: Exception) -> None:
        if key == self._previewing:
            self._previewing = None  # moving back here tries again
            self.preview.show(None, f"cannot show it: {error}")

    def _cycle_pane(self, step: int) -> None:
        info = self.selected
        if info is not None and info.panes > 1:
            self.pane = (self.pane + step) % info.panes
            self._show_preview()

    # -- keys ------------------------------------------------------------------------------------

    PREVIEW_KEYS: ClassVar[dict[str, str]] = {
        "shift+up": "rows(-1)",
        "shift+down": "rows(1)",
        "shift+pageup": "pages(-1)",
        "shift+pagedown": "pages(1)",
        "shift+home": "oldest",
        "shift+end": "newest",
        "left": "pan(-1)",
        "right": "pan(1)",
    }

    async def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self._confirming is not None:  # the answer, whatever the key
            self._answer_delete(event.character == "y")
            return
        if self.multiplexer_took(event):
            return
        key, info = event.key, self.selected
        if key in ("escape", "q"):
            self.post_message(self.CloseRequested())
        elif (step := list_step(key, len(self.rows), self._options)) is not None:
            self._move(step)
        elif key in ("tab", "shift+tab"):
            self._cycle_pane(1 if key == "tab" else -1)
        elif key in self.PREVIEW_KEYS:
            await self.preview.run_action(self.PREVIEW_KEYS[key])
        elif info is None:
            return
        elif key == "enter":
            self.post_message(self.RestoreRequested(info.id))
        elif key == "d":
            self._ask_delete(info)
        elif key == "t":
            self._timeline(info)

    def _timeline(self, info: SnapshotInfoLike) -> None:
        sessions = list(info.sessions)
        if not sessions:
            return
        index = self.pane if self.pane < len(sessions) else 0
        ids: list[str] = list(getattr(info, "session_ids", None) or [])
        session_id = ids[index] if index < len(ids) else None
        when = info.created_at.timestamp()
        self.post_message(
            self.TimelineRequested(info.id, sessions[index], session_id, self.pane, when)
        )

    def _ask_delete(self, info: SnapshotInfoLike) -> None:
        self._confirming = info.id
        confirm = self.query_one("#confirm", Static)
        confirm.update(one_line(f" delete snapshot #{info.id} ({_when(info.created_at)})? (y/n)"))
        confirm.display = True
        self.query_one("#hint").display = False

    def _answer_delete(self, yes: bool) -> None:
        snapshot_id, self._confirming = self._confirming, None
        self.query_one("#confirm").display = False
        self.query_one("#hint").display = True
        if yes and snapshot_id is not None:
            self.post_message(self.DeleteRequested(snapshot_id))

    def set_palette(self, palette: Palette | None) -> None:
        self.preview.set_palette(palette)
