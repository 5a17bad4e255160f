"""Snapshots: what panes and a workspace look like, taken from live sessions, kept in the store
and brought back as new sessions.

A pane snapshot is the terminal's whole state (`Terminal.image()`), where it was (cwd), what ran
in the foreground, its config and environment less secrets. A workspace snapshot adds the
windows: their layout trees, names and focus, which the engine does not know and the app gives
as a `Workspace`. The `Snapshotter` takes them on demand and on its own (every `interval`
seconds when a screen changed, when a program exits, when the instance closes), thins them out
by the retention policy, and restores them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.config import SessionConfig
from engine.errors import SessionError, StoreError
from engine.events import Event
from engine.history import HISTORY_SIZE, CommandRecord
from engine.recording import RecordingBlock, asciicast, replay, timeline
from engine.session import CommandEvent, ExitEvent, Session, SessionEvent
from engine.store import (
    PaneSnapshot,
    Retention,
    SessionRecord,
    SnapshotData,
    SnapshotInfo,
    Store,
)
from engine.terminal import Terminal
from engine.termstate import TerminalImage

log = logging.getLogger(__name__)

AUTO_INTERVAL = 60.0  # seconds between automatic snapshots of changed screens
RECORDING_BYTES = 32 << 20  # compressed recorded output the database keeps per session
TRIM_EVERY = 1 << 20  # compressed bytes written to a recording between two trims
SECRET_MARKERS = ("TOKEN", "SECRET", "PASSWORD", "KEY")  # names never stored


def public_environment(environment: dict[str, str]) -> dict[str, str]:
    """`environment` without the variables whose names say they hold a secret."""
    return {
        name: value
        for name, value in environment.items()
        if not any(marker in name.upper() for marker in SECRET_MARKERS)
    }


def public_config(session: Session) -> dict[str, Any]:
    """The session's config as stored: JSON-able, its environment less secrets and less the
    instance's own variables (a restored pane gets the restoring instance's socket)."""
    environment = {
        k: v for k, v in session.config.environment.items() if not k.startswith("AI_SESSION_")
    }
    return {**session.config.to_dict(), "environment": public_environment(environment)}


def screen_digest(terminal: Terminal) -> str:
    """A fingerprint of what a person sees (rows, cursor, title, history length): equal
    digests mean an automatic snapshot would store nothing new."""
    cursor = terminal.cursor
    text = "\n".join(terminal.display)
    state = f"{cursor.x},{cursor.y},{cursor.hidden}|{terminal.title}|{len(terminal.scrollback)}"
    return hashlib.sha256(f"{state}\n{text}".encode(errors="replace")).hexdigest()


@dataclass
class WindowState:
    """One window as the app shows it: its split tree (pane ids at the leaves, see
    `engine.layout.Layout.to_dict`), which session each pane shows, and the focused pane."""

    index: int
    name: str
    layout: Any
    panes: dict[str, str]  # pane id -> session id
    active: str | None = None
    zoomed: bool = False


@dataclass
class Workspace:
    """Every window, in order, and which one is shown."""

    windows: list[WindowState] = field(default_factory=list)
    current: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "windows": [vars(window) for window in self.windows],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Workspace:
        """The workspace `to_dict` gave; SessionError when the stored data is malformed."""
        try:
            windows = [WindowState(**window) for window in data["windows"]]
            return cls(windows, int(data.get("current", 0)))
        except (TypeError, KeyError, ValueError) as exc:
            raise SessionError(f"a stored workspace is malformed: {exc}") from None

    def window_of(self, session_id: str) -> WindowState | None:
        return next((w for w in self.windows if session_id in w.panes.values()), None)


def pane_snapshot(
    session: Session, *, window: int = 0, window_name: str = "", pane_index: int = 0
) -> PaneSnapshot:
    """The state of one session now. Cheap enough for the event loop: the terminal's image
    reuses its compressed history blocks; the store compresses and writes in its thread."""
    terminal = session.terminal
    return PaneSnapshot(
        session_id=session.id,
        session_name=session.name,
        window=window,
        window_name=window_name,
        pane_index=pane_index,
        # where the program in front is (/proc), else where the shell last said (OSC 7)
        cwd=session.current_path or terminal.cwd or str(session.config.working_directory),
        command=session.foreground_command_line,
        environment=public_environment(session.started_environment),
        config=public_config(session),
        title=terminal.title,
        columns=terminal.columns,
        lines=terminal.lines,
        image=terminal.image(),
        output_offset=session.parsed_offset,
        digest=screen_digest(terminal),
    )


class Snapshotter:
    """Takes, keeps and restores the snapshots of one instance (the app, or a server).

    `store` None means persistence is off (it could not be opened): taking one is then a
    StoreError that says so, and the sessions run on regardless. `workspace` (the app's) tells
    the windows; without it a workspace snapshot is every session, one per window.
    """

    def __init__(
        self,
        manager: Any,
        store: Store | None,
        *,
        instance: str,
        workspace: Callable[[], Workspace] | None = None,
        interval: float = AUTO_INTERVAL,
        retention: Retention | None = None,
    ) -> None:
        self.manager = manager
        self.store = store
        self.instance = instance
        self.workspace = workspace
        self.interval = interval
        self.retention = retention or Retention()
        self.pruned: list[int] = []  # what the last prune removed (the UI says so)
        self._digests: dict[str, str] = {}  # session id -> digest last stored
        self._watched: dict[str, tuple[Session, Callable[[], None]]] = {}  # id -> unwatch
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        # Recording blocks waiting for the writer (`_keep`), and bytes written since a trim
        self._blocks: dict[str, tuple[Session, deque[RecordingBlock]]] = {}
        self._queued_bytes: dict[str, int] = {}
        self._untrimmed: dict[str, int] = {}
        self._writer: asyncio.Task[None] | None = None
        self.on_pruned: Callable[[list[int]], None] | None = None  # the UI says what went
        # The app rebuilds its windows for restored sessions (a server without one leaves them).
        self.on_restored: Callable[[SnapshotData, dict[str, Session]], Awaitable[None]] | None = (
            None
        )
        # The agents' records (messages, tasks, decisions, spans, tokens) go to the same store
        self._hub = getattr(manager, "hub", None)
        self._hub_loaded = False
        if store is not None and self._hub is not None:
            self._hub.attach(store, instance)
        # A removed session is forgotten here too: its subscription would keep it (and its
        # screen and history) alive for as long as this instance runs.
        self._unwatch_closed = (
            manager.events.subscribe(self._on_closed) if store is not None else (lambda: None)
        )

    def _on_closed(self, event: Event) -> None:
        watched = self._watched.get(event.session_id or "")
        if event.type == "closed" and watched is not None and watched[0].status.is_terminated:
            self._forget(watched[0])  # else at its exit, still to be reported (below)

    def _forget(self, session: Session) -> None:
        self._digests.pop(session.id, None)
        self._untrimmed.pop(session.id, None)
        watched = self._watched.pop(session.id, None)
        if watched is not None:
            watched[1]()

    async def load_records(self) -> None:
        """Read the agents' records of earlier runs back into the hub (once). Await it before
        the API serves and sessions start: a record made earlier would take an id a stored
        one has (`AgentHub.load` then skips the stored one)."""
        if self._hub_loaded or self.store is None or self._hub is None:
            return
        self._hub_loaded = True
        await self._hub.load()

    # -- taking --------------------------------------------------------------------------------

    def _require_store(self) -> Store:
        if self.store is None:
            raise StoreError("snapshots are off: the database could not be opened (see the log)")
        return self.store

    def current_workspace(self) -> Workspace:
        """The app's windows, else every live session in a window of its own."""
        if self.workspace is not None:
            return self.workspace()
        windows = [
            WindowState(i, s.name, f"%{i}", {f"%{i}": s.id}, f"%{i}")
            for i, s in enumerate(self.manager.sessions)
            if not s.status.is_terminated or s.status.kind == "exited"
        ]
        return Workspace(windows)

    def _panes(self, workspace: Workspace, sessions: list[Session]) -> list[PaneSnapshot]:
        out = []
        for session in sessions:
            window = workspace.window_of(session.id)
            index = list(window.panes.values()).index(session.id) if window else 0
            out.append(
                pane_snapshot(
                    session,
                    window=window.index if window else 0,
                    window_name=window.name if window else session.name,
                    pane_index=index,
                )
            )
        return out

    async def take(
        self, target: Session | None = None, *, note: str = "", trigger: str = "manual"
    ) -> int:
        """Store a snapshot now and return its id: of `target` alone, else of the workspace."""
        store = self._require_store()
        workspace = self.current_workspace()
        if target is not None:
            panes = self._panes(workspace, [target])
            kind, layout = "pane", None
        else:
            by_id = {s.id: s for s in self.manager.sessions}
            ids = [sid for w in workspace.windows for sid in w.panes.values() if sid in by_id]
            panes = self._panes(workspace, [by_id[sid] for sid in ids])
            kind, layout = "workspace", workspace.to_dict()
        if not panes:
            raise SessionError("there is nothing to snapshot: no session is open")
        data = SnapshotData(
            id=None,
            created_at=datetime.now(UTC),
            kind=kind,
            trigger=trigger,
            note=note,
            instance=self.instance,
            layout=layout,
            panes=panes,
        )
        snapshot_id = await store.save_snapshot(data)
        for pane in panes:
            self._digests[pane.session_id] = pane.digest
        return snapshot_id

    def changed(self) -> list[Session]:
        """Sessions whose screen changed since their last stored snapshot."""
        return [
            s
            for s in self.manager.sessions
            if s.status.kind != "created" and self._digests.get(s.id) != screen_digest(s.terminal)
        ]

    # -- automatic ----------------------------------------------------------------------------

    def start(self) -> None:
        """Snapshot on a timer and when programs exit (no-op without a store)."""
        if self.store is None or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._every_interval())
        if not self._hub_loaded:  # a caller that did not await load_records() first
            self._spawn(self.load_records())

    def watch(self, session: Session) -> None:
        """Keep track of a session: the database knows it runs (a restart after a crash
        finds it open), and its program's exit takes a pane snapshot (its last screen: the
        failed build's output) and closes its record."""
        if self.store is None or session.id in self._watched:
            return

        def on_event(event: SessionEvent) -> None:
            if isinstance(event, CommandEvent):  # each finished command to command_history
                self._spawn(self._add_command(session, event.record))
            elif isinstance(event, ExitEvent):
                self._spawn(self._exited(session))
                if session.removed:  # its exit came after `closed`
                    self._forget(session)

        stop = session.subscribe(on_event)
        self._spawn(self._record(session, closed=False))
        if session.recorder is not None:  # its output goes to the database block by block
            session.recorder.on_block = lambda block: self._keep(session, block)
        if session.context is not None:  # and its AI context message by message
            store, sid = self.store, session.id
            session.context.on_added = lambda message: self._spawn(
                self._keep_context(session, store.append_context(sid, message))
            )
            session.context.on_compressed = lambda summary, folded, blobs: self._spawn(
                self._keep_context(session, store.fold_context(sid, folded, summary, blobs))
            )

        def unwatch() -> None:
            stop()
            if session.recorder is not None:
                session.recorder.flush()  # its last block, then no more
                session.recorder.on_block = None
            if session.context is not None:
                session.context.on_added = session.context.on_compressed = None

        self._watched[session.id] = (session, unwatch)

    async def _keep_context(self, session: Session, saving: Awaitable[None]) -> None:
        try:
            await saving
        except StoreError as exc:
            log.warning("context of %s not kept: %s", session.name, exc)

    def _keep(self, session: Session, block: RecordingBlock) -> None:
        """Queue a sealed block for the one writer. A flood seals hundreds a second: a write
        (and a trim, which reads every block's size) each piled up tasks without bound, and
        closing waited for all of them. Queued blocks beyond what the database keeps are
        dropped here, as its trim would."""
        queued = self._blocks.setdefault(session.id, (session, deque()))[1]
        queued.append(block)
        self._queued_bytes[session.id] = self._queued_bytes.get(session.id, 0) + len(block.data)
        while self._queued_bytes[session.id] > RECORDING_BYTES and len(queued) > 1:
            self._queued_bytes[session.id] -= len(queued.popleft().data)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_blocks())
            self._pending.add(self._writer)
            self._writer.add_done_callback(self._done)

    async def _write_blocks(self) -> None:
        """Write what is queued, a transaction per session, until nothing is; trim a
        session's recording each TRIM_EVERY bytes written."""
        try:
            while self._blocks and self.store is not None:
                batch, self._blocks = self._blocks, {}
                for sid in batch:
                    self._queued_bytes.pop(sid, None)
                for sid, (session, blocks) in batch.items():
                    written = sum(len(b.data) for b in blocks)
                    try:
                        await self.store.append_recording(sid, *blocks)
                        self._untrimmed[sid] = self._untrimmed.get(sid, 0) + written
                        if self._untrimmed[sid] >= TRIM_EVERY:
                            self._untrimmed[sid] = 0
                            await self.store.trim_recording(sid, RECORDING_BYTES)
                    except StoreError as exc:
                        log.warning("recording of %s not kept: %s", session.name, exc)
        finally:
            self._writer = None

    async def _add_command(self, session: Session, record: CommandRecord) -> None:
        if self.store is None:
            return
        try:
            session.history.stored(record.seq, await self.store.add_command(record))
        except StoreError as exc:
            log.warning("command %r of %s not kept: %s", record.command[:40], record.session, exc)

    async def _exited(self, session: Session) -> None:
        await self._take_quietly(session, "exit")
        await self._record(session, closed=True)

    async def _record(self, session: Session, *, closed: bool) -> None:
        if self.store is None:
            return
        now = datetime.now(UTC)
        workspace = self.current_workspace()
        window = workspace.window_of(session.id)
        record = SessionRecord(
            session_id=session.id,
            name=session.name,
            instance=self.instance,
            config=public_config(session),
            status=session.status.kind,
            created_at=session.created_at,
            updated_at=now,
            window=window.index if window else None,
            closed=closed,
        )
        try:
            await self.store.record_session(record)
        except StoreError as exc:
            log.warning("session %s not recorded: %s", session.name, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        """A spawned task ended: forgotten, and its failure logged (nobody awaits it)."""
        self._pending.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("snapshotter task %s failed", task.get_coro(), exc_info=exc)

    async def _take_quietly(self, session: Session | None, trigger: str) -> int | None:
        try:
            return await self.take(session, trigger=trigger)
        except SessionError as exc:
            log.warning("%s snapshot not taken: %s", trigger, exc)
            return None

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.tick()

    async def tick(self) -> int | None:
        """One round of the timer: a workspace snapshot if a screen changed, then thinning.
        Returns the new snapshot's id, None when nothing changed."""
        snapshot_id = None
        if self.changed():
            snapshot_id = await self._take_quietly(None, "auto")
        await self.prune()
        return snapshot_id

    async def prune(self) -> list[int]:
        """Apply the retention policy; remembers (and logs) what went."""
        if self.store is None:
            return []
        try:
            self.pruned = await self.store.prune(self.retention)
        except StoreError as exc:
            log.warning("snapshot retention failed: %s", exc)
            return []
        if self.pruned:
            log.info("retention removed %d snapshots: %s", len(self.pruned), self.pruned)
            if self.on_pruned is not None:
                self.on_pruned(self.pruned)
        return self.pruned

    async def close(self, *, final: bool = True, clean: bool = True) -> None:
        """Stop the timer; with `final`, a last workspace snapshot (trigger app-exit); with
        `clean`, the mark that this instance ended on purpose (the next start offers no
        restore: not so after a hangup); then the store closed (the snapshotter owns it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._unwatch_closed()
        for _, unwatch in self._watched.values():  # the recordings' last blocks, then no more
            unwatch()
        self._watched.clear()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self.store is None:
            return
        if self._hub is not None and self._hub.store is self.store:
            await self._hub.detach()
        if final and any(not s.status.is_terminated for s in self.manager.sessions):
            await self._take_quietly(None, "app-exit")
        if clean:
            with contextlib.suppress(StoreError):
                await self.store.mark_clean_exit(self.instance)
        await self.store.close()

    # -- looking back (the panels' source) ------------------------------------------------------

    async def snapshots(self) -> list[SnapshotInfo]:
        """Every stored snapshot, newest first ([] without a store)."""
        if self.store is None:
            return []
        return await self.store.list_snapshots()

    async def preview(self, snapshot_id: int, pane: int = 0) -> Terminal | None:
        """The screen of one pane of a snapshot as it was; None if there is no such pane."""
        snapshot = await self.load(snapshot_id)
        if not 0 <= pane < len(snapshot.panes):
            return None
        return await asyncio.to_thread(Terminal.from_image, snapshot.panes[pane].image)

    async def _recording(self, session_id: str) -> list[RecordingBlock]:
        """A session's recorded output: the live recorder's while it runs (the newest, not yet
        stored, included), else what the store kept."""
        session = self.manager.get_session(session_id)
        recorder = getattr(session, "recorder", None)
        if recorder is not None:
            return list(recorder.blocks())
        if self.store is None:
            return []
        return await self.store.recording(session_id)

    async def _pane_snapshots(self, session_id: str) -> list[tuple[SnapshotInfo, int]]:
        """(snapshot, pane number) of every stored snapshot holding this session, oldest first
        (a snapshot's `session_ids` are in pane order)."""
        return [
            (info, info.session_ids.index(session_id))
            for info in reversed(await self.snapshots())
            if session_id in info.session_ids
        ]

    async def timeline(self, session_id: str) -> list[TimelinePoint]:
        """The moments of a pane's past, oldest first: its snapshots and recorded output."""
        points = [
            TimelinePoint(info.created_at.timestamp(), "snapshot", info.id)
            for info, _ in await self._pane_snapshots(session_id)
        ]
        points += [TimelinePoint(t, "output") for t in timeline(await self._recording(session_id))]
        return sorted(points, key=lambda p: (p.time, p.kind != "snapshot"))

    async def _keyframe(self, session_id: str, when: float) -> tuple[SnapshotInfo, int] | None:
        """The newest (snapshot, pane number) of the session taken at or before `when`."""
        before = [
            kept
            for kept in await self._pane_snapshots(session_id)
            if kept[0].created_at.timestamp() <= when
        ]
        return before[-1] if before else None

    async def state_at(self, session_id: str, when: float) -> Terminal | None:
        """The pane's screen at `when`: the last snapshot before it, and the recorded output
        from there on replayed up to `when`; None when nothing that old is kept."""
        base: TerminalImage | None = None
        base_offset = 0
        keyframe = await self._keyframe(session_id, when)
        if keyframe is not None:  # only the one snapshot is read (each holds whole images)
            pane = (await self.load(keyframe[0].id)).panes[keyframe[1]]
            base, base_offset = pane.image, pane.output_offset
        blocks = await self._recording(session_id)
        if base is None and (not blocks or blocks[0].start_offset != 0):
            return None  # the start of the recording was dropped and no snapshot is that old

        def build() -> Terminal:
            terminal = Terminal.from_image(base) if base is not None else None
            return replay(blocks, until=when, base=terminal, base_offset=base_offset)

        return await asyncio.to_thread(build)

    async def recording_asciicast(
        self, pane: PaneSnapshot, until: datetime, version: int = 3
    ) -> list[str]:
        """The pane's recorded output up to `until` as asciicast lines (v3, or v2)."""
        return pane_asciicast(await self._recording(pane.session_id), pane, until, version)

    # -- restoring ----------------------------------------------------------------------------

    async def load(self, snapshot_id: int) -> SnapshotData:
        return await self._require_store().get_snapshot(snapshot_id)

    async def restore_pane(
        self,
        pane: PaneSnapshot,
        *,
        base: SessionConfig,
        terminal: Terminal | None = None,
    ) -> Session:
        """A new session in the pane's old directory, its old screen and history (or
        `terminal`: a moment from its timeline) above a fresh shell, and the command that was
        running typed at the prompt but not run."""
        config = SessionConfig.from_dict(pane.config) if pane.config else SessionConfig()
        config.name = None  # the old name may be taken; the user renames
        config.environment = {
            k: v for k, v in config.environment.items() if not k.startswith("AI_SESSION_")
        }
        config.shell_command, config.shell = base.shell_command, base.shell  # a fresh shell
        cwd = Path(pane.cwd) if pane.cwd else None
        config.working_directory = (
            cwd if cwd is not None and cwd.is_dir() else Path(base.working_directory)
        )
        session: Session = await self.manager.create_session_with_config(config)
        session.restore_screen(terminal or Terminal.from_image(pane.image))
        await self._carry_over(pane.session_id, session)
        await session.start()
        if pane.command:
            self._spawn(_type_when_ready(session, pane.command))
        self.watch(session)
        # Its recording starts on the restored screen, not a blank one: a first snapshot is
        # the timeline's keyframe for it (its history blocks are stored already).
        await self._take_quietly(session, "restore")
        return session

    async def _carry_over(self, old_id: str, session: Session) -> None:
        """The restored pane goes on from its predecessor's command history and AI context
        (`ai-session history` lists the old commands, the agent keeps what it was sent)."""
        if self.store is None:
            return
        try:
            await self.store.carry_over(old_id, session.id)
            for record in await self.store.commands(session.id, limit=HISTORY_SIZE):
                session.history.add(record)
            if session.context is not None:
                every = await self.store.context(session.id, folded=True)
                held = await self.store.context(session.id)
                session.context.resume(held, every)
        except (StoreError, SessionError) as exc:
            log.warning("history and context of %s not carried over: %s", session.name, exc)

    async def restore(
        self, snapshot_id: int, *, base: SessionConfig | None = None
    ) -> tuple[SnapshotData, dict[str, Session]]:
        """Every pane of a snapshot as a new session: (the snapshot, old session id -> new
        session). The app rebuilds windows from `snapshot.layout`."""
        snapshot = await self.load(snapshot_id)
        base = base or SessionConfig()
        restored: dict[str, Session] = {}
        try:
            for pane in snapshot.panes:
                restored[pane.session_id] = await self.restore_pane(pane, base=base)
        except SessionError:
            for session in restored.values():  # all or nothing: no half workspace left
                with contextlib.suppress(SessionError):
                    await self.manager.remove_session(session.id)
            raise
        if self.on_restored is not None:
            await self.on_restored(snapshot, restored)
        return snapshot, restored

    async def restore_at(
        self, session_id: str, when: float, *, base: SessionConfig | None = None
    ) -> Session:
        """A pane as it was at `when` on its timeline, in a new session (windows as for a pane
        snapshot). Its directory and config come from its newest snapshot before then."""
        terminal = await self.state_at(session_id, when)
        chosen = await self._keyframe(session_id, when)
        if chosen is None:  # replayed from the recording's start: the oldest snapshot's setup
            kept = await self._pane_snapshots(session_id)
            chosen = kept[0] if kept else None
        if terminal is None or chosen is None:
            raise SessionError("nothing of that pane is kept from then")
        info, number = chosen
        snapshot = await self.load(info.id)
        pane = snapshot.panes[number]
        session = await self.restore_pane(pane, base=base or SessionConfig(), terminal=terminal)
        if self.on_restored is not None:
            single = replace(snapshot, kind="pane", layout=None, panes=[pane])
            await self.on_restored(single, {pane.session_id: session})
        return session


async def _type_when_ready(session: Session, command: str) -> None:
    """Type `command` at the restored shell's prompt, never Enter: the user decides to run it
    again. Given up (with a log line) when no prompt shows, as with a shell we do not mark."""
    try:
        await session.wait_for_prompt()
        await session.send_input(command)
    except SessionError as exc:
        log.info("%s: not typing %r: %s", session.name, command, exc)


@dataclass(frozen=True)
class TimelinePoint:
    """A moment of a pane's past the timeline can show: a stored snapshot, or recorded output."""

    time: float  # seconds since the epoch
    kind: str  # "snapshot" | "output"
    snapshot_id: int | None = None


def pane_asciicast(
    blocks: list[RecordingBlock], pane: PaneSnapshot, until: datetime, version: int = 3
) -> list[str]:
    """A pane's recording up to a snapshot's time as asciicast lines (the API's and the
    offline CLI's export); SessionError when none of it was recorded."""
    kept = [b for b in blocks if b.start_time <= until.timestamp()]
    if not kept:
        raise SessionError(f"no output of {pane.session_name!r} was recorded")
    return list(asciicast(kept, title=pane.title or pane.session_name, version=version))
