"""`Timeline`: a pane's past, stepped through point by point (its snapshots and recorded
output), with the screen as it was at each point: time travel before a restore."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from engine.terminal import Terminal
from widgets.panels.latest import Latest
from widgets.panels.side import SidePanel, one_line
from widgets.panels.source import SnapshotSource, TimelinePointLike
from widgets.terminal_pane import Palette
from widgets.terminal_view import TerminalView

BIG_STEP = 10  # shift+left/right
BARS = "▁▂▃▄▅▆▇█"  # output events in a column: 1, 2-3, 4-7, ... (a doubling a step)
HINT = "←→ step  ⇧←→ ×10  home/end  ⏎ restore here  ↑↓ scroll  esc close"


def _when(moment: float) -> str:
    """Local time to the millisecond: output points may be that close."""
    return datetime.fromtimestamp(moment).strftime("%m-%d %H:%M:%S.%f")[:-3]


def nearest(times: Sequence[float], when: float) -> int:
    """The index of the time in sorted `times` closest to `when` (the earlier one on a tie)."""
    i = bisect.bisect_left(times, when)
    if i == 0:
        return 0
    if i == len(times):
        return len(times) - 1
    return i if times[i] - when < when - times[i - 1] else i - 1


class TimelineSlider(Widget):
    """One row: the pane's past left to right by time, output density as bars, snapshots as
    diamonds, the current point highlighted. A click (or a drag) seeks."""

    DEFAULT_CSS = """
    TimelineSlider { height: 1; background: $panel; color: $text-muted; }
    TimelineSlider > .timeline-slider--snapshot { color: $accent; text-style: bold; }
    TimelineSlider > .timeline-slider--current { background: $accent; color: $text; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline-slider--snapshot",
        "timeline-slider--current",
    }

    class Seek(Message):
        """The user pointed at `time` on the slider."""

        def __init__(self, time: float) -> None:
            super().__init__()
            self.time = time

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.snapshots: list[bool] = []  # per point: a snapshot (else output)
        self.current: int | None = None
        self._dragging = False
        self._columns: tuple[int, list[str], list[bool]] | None = None  # (width, glyphs, marks)

    def set_points(self, times: list[float], snapshots: list[bool], current: int | None) -> None:
        """New points (sorted times; per point whether it is a snapshot) and the current one."""
        self.times, self.snapshots, self.current = times, snapshots, current
        self._columns = None
        self.refresh()

    def set_current(self, current: int | None) -> None:
        self.current = current
        self.refresh()

    def column(self, when: float) -> int:
        """The column a time is drawn in."""
        span = self.times[-1] - self.times[0] if self.times else 0.0
        if span <= 0:
            return 0
        return round((when - self.times[0]) / span * (max(1, self.size.width) - 1))

    def time_at(self, x: int) -> float:
        """The time a column stands for."""
        if not self.times:
            return 0.0
        span = self.times[-1] - self.times[0]
        return self.times[0] + span * max(0, x) / max(1, self.size.width - 1)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if not self.times or width <= 0:
            return Strip.blank(width, base)
        glyphs, marked = self._bars(width)
        mark = base + self.get_component_rich_style("timeline-slider--snapshot")
        current = self.get_component_rich_style("timeline-slider--current")
        here = self.column(self.times[self.current]) if self.current is not None else -1
        segments = []
        for x, glyph in enumerate(glyphs):
            style = mark if marked[x] else base
            if x == here:
                glyph, style = ("│" if glyph == " " else glyph), style + current
            segments.append(Segment(glyph, style))
        return Strip(segments, width).simplify()

    def _bars(self, width: int) -> tuple[list[str], list[bool]]:
        """Each column's glyph and whether it holds a snapshot; counted once per width (a
        recording may have many thousand points; a step only moves the marker)."""
        if self._columns is None or self._columns[0] != width:
            counts = [0] * width
            marked = [False] * width
            for when, snapshot in zip(self.times, self.snapshots, strict=True):
                x = min(width - 1, self.column(when))
                counts[x] += 1
                marked[x] = marked[x] or snapshot
            glyphs = [
                "◆" if mark else BARS[min(7, count.bit_length() - 1)] if count else " "
                for count, mark in zip(counts, marked, strict=True)
            ]
            self._columns = (width, glyphs, marked)
        return self._columns[1], self._columns[2]

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self.post_message(self.Seek(self.time_at(event.x)))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.post_message(self.Seek(self.time_at(event.x)))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._dragging = False
        self.release_mouse()


class Timeline(SidePanel):
    """The past of one session: left/right step through its points (shift: ten at a time),
    home/end go to the first and last, the slider seeks with the mouse; the screen above
    shows the session as it was then. Enter asks to restore from that moment
    (`RestoreAtRequested`), escape or q to close (`CloseRequested`). Up/down (pageup,
    pagedown, the wheel) scroll the picture's history, < and > move it sideways.
    """

    DEFAULT_CSS = """
    Timeline > #info { height: 1; }
    """

    class RestoreAtRequested(Message):
        """Restore `session_id` as it was at `time` (enter)."""

        def __init__(self, session_id: str, time: float) -> None:
            super().__init__()
            self.session_id = session_id
            self.time = time

    class CloseRequested(Message):
        """Close the timeline (escape, q)."""

    VIEW_KEYS: ClassVar[dict[str, str]] = {
        "up": "rows(-1)",
        "down": "rows(1)",
        "pageup": "pages(-1)",
        "pagedown": "pages(1)",
        "less_than_sign": "pan(-1)",
        "greater_than_sign": "pan(1)",
    }

    def __init__(
        self,
        source: SnapshotSource,
        session_id: str,
        *,
        title: str = "",
        start: float | None = None,
        palette: Palette | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.session_id = session_id
        self.heading = title or session_id
        self.points: list[TimelinePointLike] = []
        self._times: list[float] = []  # the points' times, for seeking
        self.index: int | None = None
        self._start = start
        self._shown: float | None = None  # the time whose state the view shows
        self.view = TerminalView(palette=palette, hint="loading…")
        self.view.can_focus = False  # the timeline keeps the keys; the wheel still scrolls it
        self.slider = TimelineSlider()
        self._loader: Latest[float, Terminal | None] = Latest(
            self, self._load, self._loaded, self._load_failed
        )

    def compose(self) -> ComposeResult:
        yield Static(one_line(f" Timeline · {self.heading}"), id="title")
        yield self.view
        yield self.slider
        yield Static(id="info")
        yield Static(one_line(HINT), id="hint")

    def on_mount(self) -> None:
        self.run_worker(self.reload(), group="reload", exit_on_error=False)

    async def reload(self) -> None:
        """Read the points again (new output, a new snapshot), staying at the same moment."""
        try:
            points = sorted(await self.source.timeline(self.session_id), key=lambda p: p.time)
        except Exception as error:
            self._info(f"cannot read the timeline: {error}")
            return
        if self.index is not None and self.points:
            self._start = self.points[self.index].time
        self.points = points
        self._times = [p.time for p in points]
        self.slider.set_points(self._times, [p.kind == "snapshot" for p in points], None)
        if not points:
            self.index = None
            self.view.show(None, "nothing recorded for this pane yet")
            self._info("")
            return
        start = self._start
        self.go(nearest(self._times, start) if start is not None else len(points) - 1)

    @property
    def point(self) -> TimelinePointLike | None:
        """The point shown."""
        return self.points[self.index] if self.index is not None else None

    def go(self, index: int) -> None:
        """Show point `index` (clamped to the points there are)."""
        if not self.points:
            return
        self.index = max(0, min(len(self.points) - 1, index))
        self.slider.set_current(self.index)
        when = self.points[self.index].time
        if when == self._shown:
            self._loader.drop()  # back where the picture is: nothing to load
        else:
            self._loader.want(when)
        self._describe()

    def step(self, count: int) -> None:
        """Move `count` points later (negative: earlier)."""
        if self.index is not None:
            self.go(self.index + count)

    def _describe(self) -> None:
        point = self.point
        if point is None:
            return
        what = f"snapshot #{point.snapshot_id}" if point.kind == "snapshot" else "output"
        loading = "  loading…" if point.time != self._shown else ""
        assert self.index is not None
        self._info(f"{_when(point.time)}  {self.index + 1}/{len(self.points)}  {what}{loading}")

    def _info(self, text: str) -> None:
        self.query_one("#info", Static).update(one_line(" " + text))

    # -- the picture -------------------------------------------------------------------------

    async def _load(self, when: float) -> Terminal | None:
        return await self.source.state_at(self.session_id, when)

    def _loaded(self, when: float, terminal: Terminal | None) -> None:
        self._shown = when
        if terminal is None:
            self.view.show(None, "no picture of this moment")
        else:
            self.view.show(terminal)
        self._describe()

    def _load_failed(self, when: float, error: Exception) -> None:
        self._shown = when
        self.view.show(None, f"cannot show it: {error}")
        self._describe()

    # -- input -------------------------------------------------------------------------------

    def on_timeline_slider_seek(self, event: TimelineSlider.Seek) -> None:
        event.stop()
        self.focus()
        if self.points:
            self.go(nearest(self._times, event.time))

    async def on_key(self, event: events.Key) -> None:
        if self.multiplexer_took(event):
            return
        key = event.key
        if key in ("escape", "q"):
            self.post_message(self.CloseRequested())
        elif key in ("left", "right"):
            self.step(-1 if key == "left" else 1)
        elif key in ("shift+left", "shift+right"):
            self.step(-BIG_STEP if key == "shift+left" else BIG_STEP)
        elif key == "home":
            self.go(0)
        elif key == "end":
            self.go(len(self.points) - 1)
        elif key in self.VIEW_KEYS:
            await self.view.run_action(self.VIEW_KEYS[key])
        elif key == "enter" and self.point is not None:
            self.post_message(self.RestoreAtRequested(self.session_id, self.point.time))

    def set_palette(self, palette: Palette | None) -> None:
        self.view.set_palette(palette)
