"""The app's side of snapshots: the database opened at start, the workspace as the engine
stores it, windows rebuilt from a restored snapshot, and the offer to restore after a crash.

The engine (`engine.snapshots.Snapshotter`) takes, keeps and restores; this module knows the
windows and panes, which the engine does not.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
from typing import TYPE_CHECKING

from app.targets import CommandError
from engine.errors import SessionError
from engine.layout import Layout
from engine.session import Session
from engine.snapshots import Snapshotter, WindowState, Workspace
from engine.store import SnapshotData, Store, StoreError
from widgets.panels import SnapshotsPanel, Timeline
from widgets.panels.side import SidePanel
from widgets.panels.stack import PanelStack

if TYPE_CHECKING:
    from app.main import AiSessionApp
    from widgets.terminal_pane import TerminalPane

log = logging.getLogger(__name__)


def new_instance() -> str:
    """This run's name in the database (the store keeps its pid to tell a crash)."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


async def open_snapshots(app: AiSessionApp) -> Snapshotter:
    """The snapshotter over the user's database; without it (a read-only disk, say) the app
    runs on with snapshots off and says why once."""
    store: Store | None = None
    try:
        store = await Store.open(app.database)
    except StoreError as exc:
        app.show_message(f"snapshots are off: {exc}", 10.0)
        log.warning("snapshots are off: %s", exc)
    if store is not None and store.recovered is not None:
        app.show_message(
            f"the snapshot database was damaged: kept it as {store.recovered.name}, "
            "started a new one",
            10.0,
        )
    snapshotter = Snapshotter(
        app.manager,
        store,
        instance=app.instance,
        workspace=lambda: workspace_of(app),
        interval=app.snapshot_interval,
    )
    snapshotter.on_restored = lambda snapshot, sessions: rebuild_windows(app, snapshot, sessions)
    snapshotter.on_pruned = lambda ids: app.log_message(
        f"retention removed {len(ids)} old snapshots: {', '.join(f'#{i}' for i in ids)}"
    )
    # The agents' records of earlier runs first: the control socket and the restored sessions
    # come after, so no record of this run can take a stored one's id.
    await snapshotter.load_records()
    return snapshotter


def workspace_of(app: AiSessionApp) -> Workspace:
    """The windows as the engine stores them: layout trees over pane ids, which session
    each pane shows, the focus."""
    windows = [
        WindowState(
            index=window.number,
            name=window.window_name,
            layout=window.splits.to_dict(),
            panes={pane_id: pane.session.id for pane_id, pane in window.panes.items()},
            active=window.active,
            zoomed=window.zoomed,
        )
        for window in app.windows
    ]
    return Workspace(windows, app.current if app.windows else 0)


async def rebuild_windows(
    app: AiSessionApp, snapshot: SnapshotData, sessions: dict[str, Session]
) -> None:
    """Windows for restored sessions: the snapshot's windows, layouts and focus when it was a
    workspace, else a window per pane. Shown: the restored window that was current."""
    if snapshot.layout is not None:
        workspace = Workspace.from_dict(snapshot.layout)
    else:
        workspace = Workspace(
            [
                WindowState(i, pane.window_name, f"%{i}", {f"%{i}": pane.session_id}, f"%{i}")
                for i, pane in enumerate(snapshot.panes)
            ]
        )
    shown = None
    for number, state in enumerate(workspace.windows):
        panes: dict[str, TerminalPane] = {}
        names: dict[str, str] = {}
        for old_id, session_id in state.panes.items():
            session = sessions.get(session_id)
            if session is not None:
                pane = app.pane_for(session)
                panes[pane.pane_id] = pane
                names[old_id] = pane.pane_id
        if not panes:
            continue
        layout = _layout(state, names, app)
        taken = {w.number for w in app.windows}
        window = app.make_window(state.name, state.index if state.index not in taken else None)
        await app.query_one("#windows").mount(window)
        await window.restore_panes(layout, panes, names.get(state.active or ""))
        size = app.query_one("#windows").size
        window.size_programs(size.width, size.height)
        if shown is None or number == workspace.current:
            shown = window
    if shown is not None:
        app.show_window(shown)
        app.focus_active()
    app.update_status()
    typed = [pane.command for pane in snapshot.panes if pane.command]
    app.show_message(
        f"restored {len(sessions)} panes from snapshot {snapshot.id}"
        + (f"; typed, not run (press Enter to run): {typed[0]}" if len(typed) == 1 else "")
        + (
            f"; {len(typed)} commands typed, not run (press Enter to run)" if len(typed) > 1 else ""
        ),
        8.0,
    )


def _layout(state: WindowState, names: dict[str, str], app: AiSessionApp) -> Layout:
    """The window's stored tree over the new pane ids; panes that did not come back leave
    it as tmux closes them. A tree that cannot be read becomes a row of the panes."""
    try:
        layout = Layout.from_dict(state.layout)
        if set(layout.panes()) != set(state.panes):
            raise ValueError("the layout and the panes disagree")
    except ValueError as exc:
        log.warning("window %s: stored layout unusable (%s): panes side by side", state.name, exc)
        layout = Layout()
        for old_id in state.panes:
            if old_id in names:
                if layout.root is None:
                    layout.root = old_id
                else:
                    layout.split(layout.panes()[-1], old_id, "row", 200, 50)
    size = app.query_one("#windows").size
    width, height = max(size.width, 2), max(size.height, 2)
    for old_id in list(layout.panes()):
        if old_id not in names and len(layout) > 1:
            layout.remove(old_id, width, height)
    layout.relabel(names)
    return layout


async def crashed_snapshot(snapshotter: Snapshotter) -> SnapshotData | None:
    """The newest workspace snapshot of a run that ended without closing (a crash, a kill,
    a reboot) and that no one restored or dismissed yet."""
    store = snapshotter.store
    if store is None:
        return None
    try:
        crashed = await store.unclean_instances()  # their processes are gone
        if not crashed:
            return None
        for info in await store.list_snapshots():
            if info.instance in crashed and info.kind == "workspace":
                return await store.get_snapshot(info.id)
    except SessionError as exc:
        log.warning("could not look for a crashed run: %s", exc)
    return None


async def settle_crashed(snapshotter: Snapshotter) -> None:
    """Mark crashed runs as dealt with, so the offer is made once."""
    store = snapshotter.store
    if store is None:
        return
    try:
        for instance in await store.unclean_instances():
            await store.mark_clean_exit(instance)
    except SessionError as exc:
        log.warning("could not settle crashed runs: %s", exc)


# -- the app's snapshot commands and panels ------------------------------------------------


async def restore_at_start(app: AiSessionApp) -> bool:
    """`ai-session --restore [ID]`: that snapshot, else the newest workspace one; False
    (and a message) when there is none or it fails, and the app starts a fresh window."""
    assert app.snapshotter is not None
    snapshot_id = app.restore if app.restore is not True else None
    try:
        if snapshot_id is None:
            infos = [i for i in await app.snapshotter.snapshots() if i.kind == "workspace"]
            if not infos:
                app.show_message("no workspace snapshot to restore", 10.0)
                return False
            snapshot_id = infos[0].id
        await app.snapshotter.restore(int(snapshot_id), base=app.config)
    except SessionError as exc:
        app.show_message(f"restore failed: {exc}", 10.0)
        return False
    await settle_crashed(app.snapshotter)
    return bool(app.windows)


async def offer_restore(app: AiSessionApp) -> None:
    """After a crash (the last run never closed), offer its newest workspace snapshot."""
    if app.snapshotter is None:
        return
    snapshot = await crashed_snapshot(app.snapshotter)
    await settle_crashed(app.snapshotter)
    if snapshot is None or snapshot.id is None:
        return
    when = snapshot.created_at.astimezone().strftime("%H:%M:%S")
    panes = len(snapshot.panes)
    app.confirm(
        f"the last run ended without closing: restore its {panes} panes from {when}? (y/n)",
        f"restore-snapshot -R {snapshot.id}",
    )


def shown_panel(app: AiSessionApp) -> SidePanel | None:
    """The snapshots panel or a timeline, when one is beside the windows (it has the sidebar
    to itself: the agent panels stack there otherwise)."""
    panels = [p for p in app.query(SidePanel) if isinstance(p, SnapshotsPanel | Timeline)]
    return panels[0] if panels else None


def clear_sidebar(app: AiSessionApp) -> None:
    """Take out whatever is beside the windows: the snapshots panel, a timeline, the agent
    panels' stack (the windows are not resized: what comes next takes the same width)."""
    for widget in [*app.query(PanelStack), *app.query(SnapshotsPanel), *app.query(Timeline)]:
        widget.remove()


def toggle_panel(app: AiSessionApp, timeline: bool = False) -> None:
    """choose-snapshot: open the snapshots panel (or the focused pane's timeline) beside
    the windows in place of the agent panels, or close the one that is open."""
    shown = shown_panel(app)
    if shown is not None:
        close_panel(app)
        if type(shown) is (Timeline if timeline else SnapshotsPanel):
            return
    if app.snapshotter is None or app.snapshotter.store is None:
        app.show_message("snapshots are off: there is no database (see C-b ~)")
        return
    if timeline:
        pane = app.pane
        if pane is None:
            return
        open_timeline(app, pane.session.id, pane.session.name)
        return
    clear_sidebar(app)
    panel = SnapshotsPanel(app.snapshotter, palette=app.palette())
    panel.key_filter = app._key_filter  # the prefix keys work in the panel too
    app.query_one("#main").mount(panel)
    panel.focus()


def open_timeline(
    app: AiSessionApp, session_id: str, title: str, start: float | None = None
) -> None:
    assert app.snapshotter is not None
    clear_sidebar(app)
    panel = Timeline(app.snapshotter, session_id, title=title, start=start, palette=app.palette())
    panel.key_filter = app._key_filter
    app.query_one("#main").mount(panel)
    panel.focus()


def close_panel(app: AiSessionApp) -> None:
    """Close what is beside the windows (all the agent panels, if those): the panes get
    their width back and the keys."""
    clear_sidebar(app)
    app.call_after_refresh(_sized_after_panel, app)
    app.focus_active()


def _sized_after_panel(app: AiSessionApp) -> None:
    size = app.query_one("#windows").size
    for window in app.windows:
        window.size_programs(size.width, size.height)


async def restore_snapshot(
    app: AiSessionApp, snapshot_id: int, replace_first: bool = False
) -> None:
    """Bring a snapshot back in new windows; `replace_first` closes the fresh window the
    app opened at start (the crash offer), if it is still all there is."""
    if app.snapshotter is None:
        raise CommandError("snapshots are off")
    fresh = app.windows[0] if replace_first and len(app.windows) == 1 else None
    number = fresh.number if fresh is not None else 0
    if fresh is not None:  # out of the way: the restored windows get their old numbers
        fresh.number = 1_000_000
    try:
        await app.snapshotter.restore(snapshot_id, base=app.config)
    except SessionError as exc:
        raise CommandError(f"restore failed: {exc}") from None
    finally:
        if fresh is not None and fresh in app.windows:
            if len(fresh.panes) == 1 and len(app.windows) > 1:
                await app.kill_window(fresh)
            else:  # its number back, or the lowest free one
                taken = {w.number for w in app.windows if w is not fresh}
                fresh.number = next(n for n in itertools.count(number) if n not in taken)
                shown = app.window
                app.windows.sort(key=lambda w: w.number)
                app.current = app.windows.index(shown)
                app.update_status()


async def delete_snapshot(app: AiSessionApp, snapshot_id: int) -> None:
    """The panel's `d` `y`: delete, then show the list without it."""
    assert app.snapshotter is not None and app.snapshotter.store is not None
    try:
        await app.snapshotter.store.delete_snapshot(snapshot_id)
    except SessionError as exc:
        app.show_message(f"delete failed: {exc}")
    panel = shown_panel(app)
    if isinstance(panel, SnapshotsPanel):
        await panel.reload()


async def restore_at(app: AiSessionApp, session_id: str, when: float) -> None:
    """The timeline's Enter: that pane as it was then, in a window of its own."""
    assert app.snapshotter is not None
    try:
        await app.snapshotter.restore_at(session_id, when, base=app.config)
    except SessionError as exc:
        app.show_message(f"restore failed: {exc}")
