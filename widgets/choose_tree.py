"""`C-b w` / `C-b s`: tmux's choose-tree, a list of windows and panes over a live preview.

The app describes what there is (`WindowEntry`, `PaneEntry`: plain data holding the panes'
engine terminals) and gets back a `TreeChoice` (or None when cancelled) to act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.cells import DEFAULT_CELL
from engine.terminal import Terminal
from widgets.terminal_pane import cell_style

PREVIEW_REFRESH = 0.5  # seconds between looks for new output in the previewed panes
MIN_COLUMN = 8  # narrowest preview column worth drawing


ROW_KEYS = 10  # rows a digit picks, as tmux's (0)…(9)


@dataclass(frozen=True)
class PaneEntry:
    """One pane: its id (`%3`), title, the terminal its program draws on, and whether it is
    its window's active pane."""

    pane_id: str
    title: str
    terminal: Terminal
    active: bool = False


@dataclass(frozen=True)
class WindowEntry:
    """One window: its index and name, tmux's flags (`*` current, `-` last, `!` bell,
    `#` activity, `Z` zoomed) and its panes in order."""

    index: int
    name: str
    flags: str
    panes: Sequence[PaneEntry]

    @property
    def active_pane(self) -> PaneEntry | None:
        return next((p for p in self.panes if p.active), self.panes[0] if self.panes else None)


@dataclass(frozen=True)
class TreeChoice:
    """What the user chose: `select` that window (and pane), or `kill-window`/`kill-pane`
    after answering y to `x`. `pane_id` is the chosen pane, for a window its active pane."""

    action: Literal["select", "kill-window", "kill-pane"]
    window: int
    pane_id: str


@dataclass(frozen=True)
class _Row:
    kind: Literal["session", "window", "pane"]
    window: WindowEntry | None = None
    pane: PaneEntry | None = None


class TreePreview(Widget):
    """Terminals side by side, each cropped to its column and scrolled so its cursor row
    shows; with several, each is labelled in a box at its centre as in tmux."""

    DEFAULT_CSS = """
    TreePreview { height: 1fr; border: round $accent; }
    TreePreview > .tree-preview--label { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"tree-preview--label"}

    def __init__(self, palette: tuple[Color, ...] | None = None) -> None:
        super().__init__()
        self.palette = palette
        self.columns: list[tuple[str, Terminal]] = []
        self._drawn: list[Strip] = []

    def show(self, columns: list[tuple[str, Terminal]], title: str) -> None:
        self.columns = columns
        self.border_title = title
        self.refresh()

    def on_mount(self) -> None:
        self.set_interval(PREVIEW_REFRESH, self._refresh_if_changed)

    def _refresh_if_changed(self) -> None:
        """Follow the programs' output without repainting a preview that did not change."""
        lines = [self._line(y) for y in range(self.size.height)]
        if lines != self._drawn:
            self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = self._line(y)
        if y < len(self._drawn):
            self._drawn[y] = strip
        else:
            self._drawn.extend([Strip.blank(0)] * (y - len(self._drawn)) + [strip])
        return strip

    def _line(self, y: int) -> Strip:
        width, height = self.size
        shown = self.columns[: max(1, (width + 1) // (MIN_COLUMN + 1))]
        if not shown:
            return Strip.blank(width)
        column = (width - (len(shown) - 1)) // len(shown)
        parts: list[Strip] = []
        for i, (label, terminal) in enumerate(shown):
            if i:
                parts.append(
                    Strip([Segment("│", self._blank + Style(color=self.rich_style.color))])
                )
            cells = column if i < len(shown) - 1 else width - (column + 1) * (len(shown) - 1)
            strip = self._terminal_row(terminal, y, cells, height)
            if len(shown) > 1:
                strip = self._label(strip, label, y, cells, height)
            parts.append(strip)
        return Strip.join(parts)

    @property
    def _blank(self) -> Style:
        """An empty cell as the pane itself draws it (the terminal's default background)."""
        return cell_style(DEFAULT_CELL[1:], "", self.palette)

    def _terminal_row(self, terminal: Terminal, y: int, width: int, height: int) -> Strip:
        cursor = terminal.cursor.y
        top = max(0, min(cursor - height + 1, terminal.lines - height))
        row = top + y
        if row >= terminal.lines:
            return Strip.blank(width, self._blank)
        segments = [
            Segment(data, cell_style(attrs[1:], "", self.palette))
            for data, attrs in terminal.row_cells(row)
        ]
        return Strip(segments).crop(0, width).extend_cell_length(width, self._blank)

    def _label(self, strip: Strip, label: str, y: int, width: int, height: int) -> Strip:
        """tmux's boxed label in the middle of a preview column."""
        text = label[: max(0, width - 4)]
        box_width = len(text) + 4
        row = y - (height // 2 - 1)
        if not 0 <= row < 3 or box_width > width:
            return strip
        box = ("┌" + "─" * (box_width - 2) + "┐", f"│ {text} │", "└" + "─" * (box_width - 2) + "┘")
        x = (width - box_width) // 2
        label_style = self.get_component_rich_style("tree-preview--label")
        style = self._blank + Style(color=label_style.color, bold=label_style.bold)
        return Strip.join(
            [strip.crop(0, x), Strip([Segment(box[row], style)]), strip.crop(x + box_width, width)]
        )


def _line(text: str) -> Text:
    """A list row: plain text (a `[` in a name is not markup), cut rather than wrapped."""
    return Text(text, no_wrap=True, overflow="ellipsis")


def list_step(key: str, rows: int, options: OptionList) -> int | None:
    """How far a key moves a list's cursor (up/down, j/k, home/end, g/G, pageup/pagedown),
    None if it does not move it."""
    page = max(1, options.size.height - 1)
    steps = {"down": 1, "j": 1, "up": -1, "k": -1, "pagedown": page, "pageup": -page}
    steps.update({"home": -rows, "g": -rows, "end": rows, "G": rows})
    return steps.get(key)


def _key_label(index: int) -> str:
    """tmux's row key: `(0) ` … `(9) ` for the first ten rows, then blanks."""
    return f"({index}) " if index < ROW_KEYS else " " * 4


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


class ChooseTreeScreen(Screen[TreeChoice | None]):
    """tmux's choose-tree: windows (and, expanded, their panes) of this session.

    Up/Down/j/k (PgUp/PgDn, Home/End) move, Right/+ expand, Left/- collapse, Enter or a
    click picks, 0-9 pick that window at once, x asks to kill the window or pane (y
    confirms), q/Esc cancel. `sessions=True` is `C-b s`: it starts collapsed to the session
    line; `C-b w` starts on the windows, the current one selected.
    """

    DEFAULT_CSS = """
    ChooseTreeScreen { layout: vertical; }
    ChooseTreeScreen > OptionList { height: auto; max-height: 50%; border: none; padding: 0; }
    ChooseTreeScreen > OptionList:focus { border: none; }
    ChooseTreeScreen > #confirm {
        dock: bottom; height: 1; display: none; background: $warning; color: $text;
    }
    """

    def __init__(
        self,
        windows: Sequence[WindowEntry],
        *,
        sessions: bool = False,
        session_name: str = "ai-session",
        palette: tuple[Color, ...] | None = None,
    ) -> None:
        super().__init__()
        self.windows = list(windows)
        self.session_name = session_name
        self.session_open = not sessions
        self.open_windows: set[int] = set()
        self.rows: list[_Row] = []
        self.preview = TreePreview(palette)
        self._killing: _Row | None = None
        current = next((w for w in self.windows if "*" in w.flags), None)
        current = current or (self.windows[0] if self.windows else None)  # a filtered tree
        self._start = _Row("window", current) if current and not sessions else _Row("session")

    def compose(self) -> ComposeResult:
        yield OptionList()
        yield self.preview
        yield Static(id="confirm")

    def on_mount(self) -> None:
        self._rebuild(self._start)
        self.query_one(OptionList).focus()

    # -- the list --------------------------------------------------------------------------------

    @property
    def selected(self) -> _Row:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else self.rows[0]

    def _rebuild(self, keep: _Row) -> None:
        """Redraw the list after expanding or collapsing, keeping the cursor on `keep`."""
        self.rows = [_Row("session")]
        if self.session_open:
            for window in self.windows:
                self.rows.append(_Row("window", window))
                if window.index in self.open_windows:
                    self.rows.extend(_Row("pane", window, pane) for pane in window.panes)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(Text.assemble(_key_label(i), self._label(row)))
            for i, row in enumerate(self.rows)
        )
        options.highlighted = self.rows.index(keep) if keep in self.rows else 0
        self._preview()

    def _label(self, row: _Row) -> Text:
        window = row.window
        if window is None:
            count = len(self.windows)
            sign = "-" if self.session_open else "+"
            return _line(f"{sign} {self.session_name}: {count} window{_plural(count)}")
        last_window = window is self.windows[-1]
        if row.pane is None:
            branch = "└─> " if last_window else "├─> "
            count = len(window.panes)
            return _line(
                f"{branch}{self._sign(window)}{window.index}: {window.name}{window.flags}"
                f" ({count} pane{_plural(count)})"
            )
        trunk = "    " if last_window else "│   "
        branch = "└─> " if row.pane is window.panes[-1] else "├─> "
        number = list(window.panes).index(row.pane)
        active = "*" if row.pane.active else ""
        return _line(f"{trunk}{branch}{number}: {row.pane.title}{active}")

    def _sign(self, window: WindowEntry) -> str:
        """tmux's marks: `-` expanded, `+` panes to expand, nothing for a lone pane."""
        if window.index in self.open_windows:
            return "- "
        return "+ " if len(window.panes) > 1 else "  "

    def _move(self, step: int) -> None:
        options = self.query_one(OptionList)
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self.rows) - 1, current + step))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on a row picks it."""
        event.stop()
        self._pick(self.rows[event.option_index])

    # -- preview ---------------------------------------------------------------------------------

    def _preview(self) -> None:
        """Show the selection: a pane alone, a window's panes, the session's windows."""
        row = self.selected
        if row.pane is not None and row.window is not None:
            number = list(row.window.panes).index(row.pane)
            title = f"{row.window.index}.{number} {row.pane.pane_id}"
            self.preview.show([("", row.pane.terminal)], title)
        elif row.window is not None:
            panes = [(str(i), p.terminal) for i, p in enumerate(row.window.panes)]
            self.preview.show(panes, f"{row.window.index}: {row.window.name}")
        else:
            windows = [
                (f"{w.index}:{w.name}", w.active_pane.terminal)
                for w in self.windows
                if w.active_pane is not None
            ]
            self.preview.show(windows, self.session_name)

    # -- keys ------------------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self._killing is not None:
            self._answer_kill(event.character == "y")
            return
        key = event.key
        if key in ("q", "escape"):
            self.dismiss(None)
        elif (step := list_step(key, len(self.rows), self.query_one(OptionList))) is not None:
            self._move(step)
        elif key in ("right", "plus") or event.character == "+":
            self._expand()
        elif key in ("left", "minus") or event.character == "-":
            self._collapse()
        elif key == "enter":
            self._pick(self.selected)
        elif event.character and event.character.isdigit():  # tmux's (n) row keys
            if int(event.character) < len(self.rows):
                self._pick(self.rows[int(event.character)])
        elif event.character == "x":
            self._ask_kill()

    def _expand(self) -> None:
        row = self.selected
        if row.kind == "session":
            self.session_open = True
        elif row.kind == "window" and row.window is not None:
            self.open_windows.add(row.window.index)
        self._rebuild(row)

    def _collapse(self) -> None:
        row = self.selected
        if row.kind == "session":
            self.session_open = False
        elif row.window is not None and (
            row.kind == "pane" or row.window.index in self.open_windows
        ):
            self.open_windows.discard(row.window.index)
            row = _Row("window", row.window)
        else:
            row = _Row("session")
        self._rebuild(row)

    def _pick(self, row: _Row) -> None:
        window = row.window or next((w for w in self.windows if "*" in w.flags), None)
        if window is None:
            self.dismiss(None)
            return
        pane = row.pane or window.active_pane
        self.dismiss(TreeChoice("select", window.index, pane.pane_id if pane else ""))

    def _ask_kill(self) -> None:
        """`x`: tmux asks before killing what is selected (the session is not offered)."""
        row = self.selected
        if row.window is None:
            return
        self._killing = row
        what = f"pane {row.pane.pane_id}" if row.pane else f"window {row.window.index}"
        confirm = self.query_one("#confirm", Static)
        confirm.update(Text(f" kill {what}? (y/n)"))
        confirm.display = True

    def _answer_kill(self, yes: bool) -> None:
        row, self._killing = self._killing, None
        self.query_one("#confirm").display = False
        if not yes or row is None or row.window is None:
            return
        if row.pane is not None:
            self.dismiss(TreeChoice("kill-pane", row.window.index, row.pane.pane_id))
        else:
            active = row.window.active_pane
            self.dismiss(
                TreeChoice("kill-window", row.window.index, active.pane_id if active else "")
            )
