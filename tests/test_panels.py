"""The snapshot panels as a user drives them: a list of snapshots over a picture of the one
selected, and a pane's timeline. The source is real terminals fed real bytes (coloured text,
200 lines of history); the panels only post what the user asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from conftest import wait_until
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import OptionList, Static

from engine.terminal import Terminal
from widgets.panels import SnapshotsPanel, Timeline, TimelinePoint, TimelineSlider
from widgets.terminal_view import TerminalView


def _terminal(data: bytes, columns: int = 80, lines: int = 24) -> Terminal:
    terminal = Terminal(columns, lines)
    terminal.feed(data)
    return terminal


def _history(count: int) -> bytes:
    """`count` numbered lines in rotating colours, then a prompt."""
    lines = (b"\x1b[3%dmhistory %03d\x1b[0m ok\r\n" % (1 + i % 6, i) for i in range(count))
    return b"".join(lines) + b"\x1b[1;32muser@box\x1b[0m:\x1b[34m~/src\x1b[0m$ "


@dataclass
class Info:
    """What engine.store.SnapshotInfo holds, as far as the panel reads it."""

    id: int
    created_at: datetime
    kind: str
    trigger: str
    note: str
    sessions: list[str]
    panes: int
    stored_bytes: int
    session_ids: list[str] = field(default_factory=list)


@dataclass
class Source:
    """A SnapshotSource over terminals; `gates` hold a preview back until the test lets it go."""

    infos: list[Info]
    pictures: dict[tuple[int, int], Terminal]
    recording: list[tuple[float, bytes]] = field(default_factory=list)
    snapshot_times: dict[float, int] = field(default_factory=dict)
    gates: dict[tuple[int, int], asyncio.Event] = field(default_factory=dict)
    asked: list[tuple[int, int]] = field(default_factory=list)
    states: dict[float, Terminal] = field(default_factory=dict)

    async def snapshots(self) -> Sequence[Info]:
        return list(self.infos)

    async def preview(self, snapshot_id: int, pane: int = 0) -> Terminal | None:
        key = (snapshot_id, pane)
        self.asked.append(key)
        if key in self.gates:
            await self.gates[key].wait()
        return self.pictures.get(key)

    async def timeline(self, session_id: str) -> Sequence[TimelinePoint]:
        points = [TimelinePoint(when, "output") for when, _ in self.recording]
        points += [TimelinePoint(t, "snapshot", i) for t, i in self.snapshot_times.items()]
        return points

    async def state_at(self, session_id: str, when: float) -> Terminal | None:
        """A replay of the recorded output up to `when`."""
        terminal = _terminal(b"".join(data for t, data in self.recording if t <= when), 60, 12)
        self.states[when] = terminal
        return terminal


def _source() -> Source:
    infos = [
        Info(1, datetime(2026, 12, 1, 9, 15, 2), "pane", "auto", "", ["build"], 1, 48_213),
        Info(
            2,
            datetime(2026, 12, 2, 18, 40, 0),
            "pane",
            "manual",
            "before upgrade",
            ["build"],
            1,
            3_100,
        ),
        Info(
            3,
            datetime(2026, 12, 2, 19, 5, 30),
            "workspace",
            "app-exit",
            "",
            ["build", "api"],
            2,
            2_400_000,
            ["%build", "%api"],
        ),
        Info(4, datetime(2026, 12, 2, 12, 0, 0), "pane", "exit", "server stopped", ["api"], 1, 812),
    ]
    pictures = {
        (1, 0): _terminal(_history(220), 80, 20),
        (2, 0): _terminal(b"\x1b[1;33mmake: building 42 targets\x1b[0m\r\n$ "),
        (3, 0): _terminal(b"\x1b[44;37m workspace pane zero \x1b[0m\r\n$ "),
        (3, 1): _terminal(b"\x1b[31mworkspace pane one\x1b[0m\r\n$ "),
        (4, 0): _terminal(b"serving on :8080\r\n\x1b[2mstopped\x1b[0m\r\n$ "),
    }
    recording = [(1000.0 + i, b"step %d\r\n" % i) for i in range(30)]
    return Source(infos, pictures, recording, {1012.5: 2})


class Host(App[None]):
    """A stand-in for the app: the panes' place on the left, the panel docked right; it keeps
    what the panel asks for and deletes as the app would."""

    def __init__(self, panel: Widget) -> None:
        super().__init__()
        self.panel = panel
        self.asked: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Static("the panes", id="panes")
        yield self.panel

    def on_mount(self) -> None:
        self.panel.focus()

    async def on_snapshots_panel_delete_requested(
        self, message: SnapshotsPanel.DeleteRequested
    ) -> None:
        self.asked.append(message)
        assert isinstance(self.panel, SnapshotsPanel)
        source = self.panel.source
        assert isinstance(source, Source)
        source.infos = [i for i in source.infos if i.id != message.snapshot_id]
        await self.panel.reload()

    def on_snapshots_panel_restore_requested(self, message: Message) -> None:
        self.asked.append(message)

    def on_snapshots_panel_timeline_requested(self, message: Message) -> None:
        self.asked.append(message)

    def on_snapshots_panel_close_requested(self, message: Message) -> None:
        self.asked.append(message)

    def on_timeline_restore_at_requested(self, message: Message) -> None:
        self.asked.append(message)

    def on_timeline_close_requested(self, message: Message) -> None:
        self.asked.append(message)


def _drawn(view: TerminalView) -> list[str]:
    """The view's rows as drawn (render_line), as text."""
    return [view.render_line(y).text for y in range(view.size.height)]


def _rows(panel: SnapshotsPanel) -> list[str]:
    options = panel.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def _opened(pilot: Pilot[None], panel: SnapshotsPanel, snapshot_id: int = 3) -> None:
    await wait_until(lambda: bool(panel.rows), what="the list")
    await _previewing(pilot, panel, snapshot_id, 0)


async def _previewing(
    pilot: Pilot[None], panel: SnapshotsPanel, snapshot_id: int, pane: int
) -> None:
    source = panel.source
    assert isinstance(source, Source)
    picture = source.pictures[(snapshot_id, pane)]
    await wait_until(
        lambda: panel.preview.terminal is picture,
        what=lambda: f"snapshot {snapshot_id} pane {pane}; shown: {_drawn(panel.preview)[:3]}",
    )
    await pilot.pause()


async def test_snapshots_are_grouped_by_session_newest_first() -> None:
    panel = SnapshotsPanel(_source())
    async with Host(panel).run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        rows = _rows(panel)
        assert [r.split()[0] for r in rows] == [
            "workspace",
            "12-02",
            "build",
            "12-02",
            "12-01",
            "api",
            "12-02",
        ]
        assert rows[1].split() == ["12-02", "19:05:30", "app-exit", "2p", "2.3M"]
        assert rows[3].split() == ["12-02", "18:40:00", "manual", "1p", "3.0K", "before", "upgrade"]
        assert rows[4].split()[-2:] == ["1p", "47K"]
        assert panel.selected is not None and panel.selected.id == 3  # the newest
        assert "Snapshots · 4" in str(panel.query_one("#title", Static).render())


async def test_selecting_a_snapshot_shows_its_screen() -> None:
    panel = SnapshotsPanel(_source())
    async with Host(panel).run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        assert "workspace pane zero" in _drawn(panel.preview)[0]
        await pilot.press("down")  # over the "build" heading to snapshot 2
        await _previewing(pilot, panel, 2, 0)
        assert "make: building 42 targets" in _drawn(panel.preview)[0]
        await pilot.press("down", "down")  # over the "api" heading
        await _previewing(pilot, panel, 4, 0)
        await pilot.press("home")
        await _previewing(pilot, panel, 3, 0)
        await pilot.press("tab")  # the workspace's second pane
        await _previewing(pilot, panel, 3, 1)
        assert "workspace pane one" in _drawn(panel.preview)[0]
        assert panel.preview.border_title == "#3 pane 2/2"
        await pilot.press("tab")
        await _previewing(pilot, panel, 3, 0)


async def test_the_preview_scrolls_through_the_history() -> None:
    source = _source()
    panel = SnapshotsPanel(source)
    async with Host(panel).run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        await pilot.press("end", "up")  # the last of "build", over the "api" heading
        await _previewing(pilot, panel, 1, 0)
        view = panel.preview
        terminal = source.pictures[(1, 0)]
        assert terminal.history_size == 201
        drawn = _drawn(view)
        assert "user@box:~/src$" in drawn[-1]  # the view starts at the prompt...
        assert drawn[0].startswith(f"history {221 - view.size.height:03d}")  # history above
        await pilot.press("shift+up")
        assert view.back == 1 and _drawn(view)[0].rstrip().endswith("[1/201]")
        await pilot.press("shift+home")
        assert view.first_row == -201
        assert _drawn(view)[0].startswith("history 000 ok")
        await pilot.press("shift+pagedown")
        assert _drawn(view)[0].startswith(f"history {view.size.height - 1:03d}")
        await pilot.press("shift+end")
        assert view.back == 0 and "user@box" in _drawn(view)[-1]


async def test_a_wide_snapshot_is_cropped_and_moves_sideways() -> None:
    source = _source()
    source.pictures[(2, 0)] = _terminal(b"left side" + b"." * 90 + b"RIGHT", 120, 10)
    panel = SnapshotsPanel(source)
    async with Host(panel).run_test(size=(80, 24)) as pilot:
        await _opened(pilot, panel)
        await pilot.press("down")
        await _previewing(pilot, panel, 2, 0)
        view = panel.preview
        assert view.size.width < 120 and _drawn(view)[0].startswith("left side")
        for _ in range(20):
            await pilot.press("right")
        assert "RIGHT" in _drawn(view)[0] and "[col " in _drawn(view)[0]
        await pilot.press("left")
        assert view.first_column == 120 - view.size.width - 8


async def test_enter_asks_to_restore_the_selected_snapshot() -> None:
    panel = SnapshotsPanel(_source())
    app = Host(panel)
    async with app.run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        await pilot.press("down", "enter")
        await wait_until(lambda: bool(app.asked))
        (asked,) = app.asked
        assert isinstance(asked, SnapshotsPanel.RestoreRequested) and asked.snapshot_id == 2


async def test_delete_asks_first_and_y_confirms() -> None:
    source = _source()
    panel = SnapshotsPanel(source)
    app = Host(panel)
    async with app.run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        await pilot.press("down", "d")
        confirm = panel.query_one("#confirm", Static)
        assert confirm.display and "delete snapshot #2" in str(confirm.render())
        await pilot.press("n")
        await pilot.pause()
        assert not confirm.display and app.asked == [] and len(source.infos) == 4
        await pilot.press("d", "y")
        await wait_until(lambda: len(panel.rows) == 6, what=lambda: _rows(panel))
        (asked,) = app.asked
        assert isinstance(asked, SnapshotsPanel.DeleteRequested) and asked.snapshot_id == 2
        assert panel.selected is not None and panel.selected.id == 1  # the next one down
        await _previewing(pilot, panel, 1, 0)


async def test_t_asks_for_the_timeline_and_escape_to_close() -> None:
    panel = SnapshotsPanel(_source())
    app = Host(panel)
    async with app.run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        await pilot.press("tab", "t", "escape")
        await wait_until(lambda: len(app.asked) == 2)
        timeline, close = app.asked
        assert isinstance(timeline, SnapshotsPanel.TimelineRequested)
        assert (timeline.snapshot_id, timeline.session, timeline.pane) == (3, "api", 1)
        assert timeline.session_id == "%api"
        assert timeline.time == datetime(2026, 12, 2, 19, 5, 30).timestamp()
        assert isinstance(close, SnapshotsPanel.CloseRequested)


async def test_a_slow_preview_for_an_old_selection_is_dropped() -> None:
    source = _source()
    gates = {key: asyncio.Event() for key in [(3, 0), (2, 0)]}
    source.gates = gates
    panel = SnapshotsPanel(source)
    async with Host(panel).run_test(size=(140, 40)) as pilot:
        await wait_until(lambda: source.asked == [(3, 0)], what=lambda: str(source.asked))
        assert panel.preview.terminal is None and panel.preview.hint == "loading…"
        await pilot.press("down")  # on to snapshot 2 while 3 is still loading
        gates[(3, 0)].set()
        await wait_until(lambda: source.asked == [(3, 0), (2, 0)], what=lambda: str(source.asked))
        await pilot.pause()
        assert panel.preview.terminal is None  # 3's picture came, but 2 is selected
        gates[(2, 0)].set()
        await _previewing(pilot, panel, 2, 0)
        await pilot.press("up")  # 3 was loaded once: it shows without asking again
        await _previewing(pilot, panel, 3, 0)
        assert source.asked == [(3, 0), (2, 0)]


async def test_the_timeline_steps_through_the_past() -> None:
    source = _source()
    timeline = Timeline(source, "build", title="build")
    app = Host(timeline)
    async with app.run_test(size=(140, 40)) as pilot:

        def shows(step: int) -> bool:
            terminal = timeline.view.terminal
            return (
                terminal is not None
                and f"step {step}" in terminal.display[min(step, 10)]
                and (f"step {step + 1}" not in "\n".join(terminal.display))
            )

        await wait_until(lambda: shows(29), what=lambda: "\n".join(_drawn(timeline.view)))
        assert len(timeline.points) == 31 and timeline.index == 30
        await pilot.press("left")
        await wait_until(lambda: shows(28), what=lambda: "\n".join(_drawn(timeline.view)))
        await pilot.press("shift+left")
        await wait_until(lambda: shows(18))
        await pilot.press("home")
        await wait_until(lambda: shows(0))
        await pilot.press("shift+right", "right", "right", "right")  # the snapshot at 1012.5
        await wait_until(lambda: shows(12))
        point = timeline.point
        assert point is not None and (point.kind, point.snapshot_id) == ("snapshot", 2)
        info = str(timeline.query_one("#info", Static).render())
        assert "14/31" in info and "snapshot #2" in info
        await pilot.press("enter")
        await wait_until(lambda: bool(app.asked))
        (asked,) = app.asked
        assert isinstance(asked, Timeline.RestoreAtRequested)
        assert (asked.session_id, asked.time) == ("build", 1012.5)


async def test_a_click_on_the_slider_seeks() -> None:
    source = _source()
    timeline = Timeline(source, "build", start=1005.0)
    app = Host(timeline)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(lambda: timeline.index == 5 and 1005.0 in source.states)
        slider = timeline.query_one(TimelineSlider)
        bar = slider.render_line(0).text
        assert "◆" in bar and "▁" in bar
        await pilot.click(TimelineSlider, offset=(0, 0))
        await wait_until(
            lambda: timeline.index == 0 and timeline.view.terminal is source.states.get(1000.0)
        )
        await pilot.click(TimelineSlider, offset=(slider.size.width - 1, 0))
        await wait_until(lambda: timeline.index == 30)
        await pilot.press("escape")
        await wait_until(lambda: bool(app.asked))
        assert isinstance(app.asked[0], Timeline.CloseRequested)


async def test_a_session_with_no_past_says_so() -> None:
    source = _source()
    source.recording, source.snapshot_times = [], {}
    timeline = Timeline(source, "fresh")
    async with Host(timeline).run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: timeline.view.hint == "nothing recorded for this pane yet")
        await pilot.press("left", "enter")
        assert timeline.point is None


def test_the_panel_with_a_preview_snapshot(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def shown(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, Host) and isinstance(app.panel, SnapshotsPanel)
        await _opened(pilot, app.panel)
        await pilot.press("down")
        await _previewing(pilot, app.panel, 2, 0)
        await pilot.press("end", "up")
        await _previewing(pilot, app.panel, 1, 0)
        await pilot.pause(0.1)

    assert snap_compare(Host(SnapshotsPanel(_source())), terminal_size=(140, 40), run_before=shown)


class ViewHost(App[None]):
    def __init__(self, view: TerminalView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view

    def on_mount(self) -> None:
        self.view.focus()


async def test_a_focused_view_scrolls_with_its_own_keys() -> None:
    view = TerminalView(_terminal(_history(50), 40, 10))
    async with ViewHost(view).run_test(size=(40, 10)) as pilot:
        assert view.first_row == 0 and "user@box" in _drawn(view)[-1]
        await pilot.press("up", "up")
        assert view.first_row == -2 and _drawn(view)[0].startswith("history 039")
        await pilot.press("home")
        assert _drawn(view)[0].startswith("history 000") and "[41/41]" in _drawn(view)[0]
        await pilot.press("pagedown")
        assert view.first_row == -41 + 9
        await pilot.press("end")
        assert view.back == 0
        view.show(None, "no snapshot")
        await pilot.pause()
        assert _drawn(view)[5].strip() == "no snapshot"


async def test_history_rows_with_wide_characters_keep_the_width() -> None:
    text = "中文 👍🏽 café e\u0301 ｱ x\r\n".encode()
    terminal = _terminal(b"\x1b[31m" + text * 30 + b"\x1b[0m$ ", 21, 6)
    view = TerminalView(terminal)
    async with ViewHost(view).run_test(size=(15, 6)) as pilot:
        await pilot.press("home")
        for _ in range(8):
            for y in range(6):
                strip = view.render_line(y)
                assert strip.cell_length == 15, (y, strip.text)
            await pilot.press("pagedown")
        assert "$" in _drawn(view)[-1]


async def test_a_failing_source_is_shown_not_raised() -> None:
    class Broken(Source):
        async def preview(self, snapshot_id: int, pane: int = 0) -> Terminal | None:
            raise OSError("disk on fire")

    source = _source()
    panel = SnapshotsPanel(Broken(source.infos, source.pictures))
    async with Host(panel).run_test(size=(80, 24)):
        await wait_until(lambda: panel.preview.hint == "cannot show it: disk on fire")


async def test_no_snapshots_says_how_to_take_one() -> None:
    source = _source()
    source.infos = []
    panel = SnapshotsPanel(source)
    app = Host(panel)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: "C-b S" in panel.preview.hint)
        await pilot.press("down", "enter", "d", "t")
        assert app.asked == [] and panel.selected is None


async def test_closing_the_panel_while_a_preview_loads() -> None:
    source = _source()
    source.gates = {(3, 0): asyncio.Event()}
    panel = SnapshotsPanel(source)
    async with Host(panel).run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: source.asked == [(3, 0)])
        await pilot.press("down")
        await panel.remove()
        source.gates[(3, 0)].set()
        await pilot.pause()
        assert source.asked == [(3, 0)]  # nothing more was asked for a panel gone


async def test_a_new_snapshot_keeps_the_preview_where_it_was() -> None:
    """An automatic snapshot arriving (the app reloads) moves neither the selection nor the
    scrolled preview; a reused id is another snapshot and is asked for again."""
    source = _source()
    panel = SnapshotsPanel(source)
    async with Host(panel).run_test(size=(140, 40)) as pilot:
        await _opened(pilot, panel)
        await pilot.press("tab")
        await _previewing(pilot, panel, 3, 1)
        source.infos.append(
            Info(5, datetime(2026, 12, 2, 20, 0), "pane", "auto", "", ["api"], 1, 90)
        )
        source.pictures[(5, 0)] = _terminal(b"newest")
        await panel.reload()
        await pilot.pause()
        assert panel.selected is not None and panel.selected.id == 3 and panel.pane == 1
        await pilot.press("end")
        await _previewing(pilot, panel, 1, 0)
        await pilot.press("shift+up")
        assert panel.preview.back == 1
        source.infos.append(
            Info(6, datetime(2026, 12, 2, 20, 1), "pane", "auto", "", ["api"], 1, 90)
        )
        await panel.reload()
        await pilot.pause()
        assert panel.selected is not None and panel.selected.id == 1
        assert panel.preview.terminal is source.pictures[(1, 0)] and panel.preview.back == 1
        asked = len(source.asked)
        source.infos = [i for i in source.infos if i.id != 1]  # 1 deleted, its id reused
        source.infos.append(
            Info(1, datetime(2026, 12, 2, 20, 2), "pane", "manual", "", ["build"], 1, 90)
        )
        source.pictures[(1, 0)] = _terminal(b"id one again")
        await panel.reload()
        await _previewing(pilot, panel, 1, 0)
        assert len(source.asked) == asked + 1


async def test_the_timeline_reloads_at_the_same_moment() -> None:
    source = _source()
    timeline = Timeline(source, "build", start=1005.0)
    async with Host(timeline).run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: timeline.view.terminal is source.states.get(1005.0))
        source.recording.append((1030.0, b"step 30\r\n"))
        await timeline.reload()
        await pilot.pause()
        assert len(timeline.points) == 32 and timeline.point is not None
        assert timeline.point.time == 1005.0 and timeline.view.terminal is source.states[1005.0]
        await pilot.press("end")
        await wait_until(lambda: timeline.view.terminal is source.states.get(1030.0))
