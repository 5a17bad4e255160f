"""The app's side of snapshots: the database opened at start, the workspace as the engine
stores it, windows rebuilt from a restored snapshot, and the offer to restore after a crash.

The engine (`engine.snapshots.Snapshotter`) takes, keeps and restores; this module knows the
windows and panes, which the engine does not.
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import TYPE_CHECKING

from engine.errors import SessionError
from engine.layout import Layout
from engine.session import Session
from engine.snapshots import Snapshotter, WindowState, Workspace
from engine.store import SnapshotData, Store, StoreError

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
