"""The one SQLite database (aiosqlite, WAL): snapshots with deduplicated scrollback blocks,
the sessions each instance ran, output recordings, and the tables later records go in.

Several processes (the TUI, a server, the CLI) open the same file: WAL lets readers and a
writer run together, `busy_timeout` makes a second writer wait its turn, and every write is one
`BEGIN IMMEDIATE` transaction, so a kill -9 at any point leaves the last commit whole. Every
failure reaches callers as `StoreError` with a message a user can act on, never a raw sqlite3
error: the app then keeps running without persistence.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import zstandard
from platformdirs import user_data_path

from engine import hubstore
from engine.context import Message, MessageRole
from engine.errors import StoreError
from engine.history import CommandRecord
from engine.migrations import MIGRATIONS, statements
from engine.paths import pid_alive
from engine.recording import RecordingBlock
from engine.termstate import TerminalImage

BUSY_TIMEOUT_MS = 5000  # a second writer waits this long for the first (snapshots take ms)
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
IN_CHUNK = 500  # ids per `IN (...)`: well under SQLite's 32766 bound parameters
KINDS = ("pane", "workspace")
MANUAL = "manual"
HOUR = 3600
DAY = 86400


def default_database_path() -> Path:
    """~/.local/share/ai-session/ai-session.db (the platform's user data directory)."""
    return user_data_path("ai-session") / "ai-session.db"


@dataclass
class PaneSnapshot:
    """One pane as it was: enough to show its screen and to start it again where it stood."""

    session_id: str
    session_name: str
    window: int
    window_name: str
    pane_index: int
    cwd: str | None
    command: str | None  # the foreground command line, typed back (not run) on restore
    environment: dict[str, str]  # already filtered of secrets
    config: dict[str, Any]  # SessionConfig as a JSON-able dict
    title: str
    columns: int
    lines: int
    image: TerminalImage
    output_offset: int  # bytes parsed into the terminal when taken
    digest: str  # sha256 of visible screen + cursor (change detection)


@dataclass
class SnapshotData:
    """A snapshot of one pane (kind "pane") or of a workspace (every window's layout and its
    panes). `id` is None until saved. `trigger`: manual, auto, exit, app-exit or crash."""

    id: int | None
    created_at: datetime
    kind: str
    trigger: str
    note: str
    instance: str
    layout: dict[str, Any] | None
    panes: list[PaneSnapshot]


@dataclass
class SnapshotInfo:
    """A snapshot as lists show it, without its images. `sessions` are the panes' session
    names (as shown), `session_ids` the same sessions by id; `raw_bytes` is every image as if
    stored alone, `stored_bytes` what saving it added to the database (after deduplication)."""

    id: int
    created_at: datetime
    kind: str
    trigger: str
    note: str
    instance: str
    sessions: list[str]
    panes: int
    stored_bytes: int
    raw_bytes: int
    session_ids: list[str] = field(default_factory=list)


@dataclass
class Retention:
    """What `prune` keeps: everything younger than `keep_all_seconds`, then the newest per
    clock hour until `hourly_for_seconds`, the newest per UTC day until `daily_for_days`, none
    older; then, while snapshots take more than `max_bytes`, the oldest go (non-manual first).
    With `keep_manual`, manual snapshots survive the thinning by age but not the size cap.
    Thinning is per subject: each session's pane snapshots, and the workspace snapshots."""

    keep_all_seconds: float = HOUR
    hourly_for_seconds: float = DAY
    daily_for_days: int = 30
    max_bytes: int = 256 << 20
    keep_manual: bool = True


@dataclass
class SessionRecord:
    """A session as the database remembers it, so a restart can tell what was running."""

    session_id: str
    name: str
    instance: str
    config: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime
    window: int | None
    closed: bool


@dataclass
class StoreStats:
    """How big the database is and what deduplication saves: `raw_bytes` is every pane image
    as if stored alone, `stored_bytes` the heads and blobs actually kept."""

    path: Path
    file_bytes: int  # the database file plus its WAL
    snapshots: int
    panes: int
    blobs: int
    raw_bytes: int
    stored_bytes: int
    recording_blocks: int
    recording_bytes: int


# -- helpers ---------------------------------------------------------------------------------


def _ts(moment: datetime) -> float:
    """Unix seconds (a naive datetime is taken as local time, as Python does); times read
    back are aware, in UTC."""
    return moment.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _json(value: Any) -> str:
    """JSON for a column; values JSON lacks (a Path in a config) are kept as their str."""
    return json.dumps(value, default=str, separators=(",", ":"))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _boot_id() -> str:
    """This boot's id, so a pid recorded before a reboot is not taken for a live process."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def _alive(pid: int, boot_id: str) -> bool:
    return boot_id == _boot_id() and pid_alive(pid)


# Databases a Store of this process has open (real paths). `_damaged` reads a file's header
# only when none has: closing that descriptor would drop the open connections' POSIX locks,
# and another process could then checkpoint and delete the WAL under them.
_OPEN: Counter[str] = Counter()


def _damaged(path: Path) -> str | None:
    """Why the file at `path` cannot be a healthy SQLite database (None when it may be): not
    one at all, or shorter than its own header says (truncated). Cheap: reads 100 bytes."""
    try:
        size = path.stat().st_size
        if size == 0:
            return None  # SQLite's own empty database (created, nothing committed yet)
        with path.open("rb") as f:
            header = f.read(HEADER_SIZE)
    except FileNotFoundError:
        return None
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        return "it is not an SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    pages_valid = header[24:28] == header[92:96]  # the page count is current (SQLite >= 3.7)
    if page_size < 512 or page_size & (page_size - 1):
        return "its header is damaged"
    if _journal_pending(path):
        return None  # a checkpoint (or a kill during one) leaves the size to the WAL's replay
    if size % page_size:
        return "its pages are damaged"
    if pages_valid and size < pages * page_size:
        return f"it is truncated ({size} of {pages * page_size} bytes)"
    return None


def _journal_pending(path: Path) -> bool:
    """A non-empty -wal or -journal beside the file: its size is not yet what its header says
    (a checkpoint copies page 1 before it extends the file)."""
    for suffix in ("-wal", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            if path.with_name(path.name + suffix).stat().st_size > 0:
                return True
    return False


def _suspect(path: Path) -> Path:
    """A marker left when SQLite reported damage at work: the next open checks the whole file
    (too slow to do on every open: ~0.1 s per 100 MB when cached) and moves it aside if bad."""
    return path.with_name(path.name + ".damaged")


async def _suspect_damaged(db: aiosqlite.Connection, path: Path) -> bool:
    """After a damage report: does `PRAGMA quick_check` confirm it? Clears the marker."""
    marker = _suspect(path)
    if not marker.exists():
        return False
    try:
        rows = await db.execute_fetchall("PRAGMA quick_check")
    except sqlite3.DatabaseError:
        return True
    with contextlib.suppress(OSError):
        marker.unlink(missing_ok=True)
    return [str(r[0]) for r in rows] != ["ok"]


def _move_aside(path: Path) -> Path:
    """Rename a damaged database (and its -wal/-shm, which must not be replayed into the fresh
    one) to NAME.corrupt-YYYYmmddTHHMMSS, kept for the user to inspect or recover."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    path.rename(target)
    _suspect(path).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            side.rename(target.with_name(target.name + suffix))
    return target


def _private_dir(directory: Path, tighten: bool) -> None:
    """Create `directory` (and missing parents) 0700; `tighten` also narrows an existing one
    (our own data directory, not a directory the user named)."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for d in reversed(missing):
        d.mkdir(mode=0o700)
        d.chmod(0o700)  # mkdir's mode is reduced by the umask; 0700 is what we want
    if tighten and not missing:
        info = directory.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            directory.chmod(0o700)


def _private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite copies the main file's mode to
    its -wal and -shm) and narrow the files if they exist, by path only: closing any descriptor
    of the file would drop the POSIX locks this process's SQLite connections hold on it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)  # new: nobody in this process had it open
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        file = path.with_name(name)
        with contextlib.suppress(FileNotFoundError):
            info = file.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o077:
                file.chmod(0o600)


def _error(exc: BaseException, doing: str, path: Path) -> StoreError:
    """`exc` (sqlite3 or OS) as a StoreError saying what failed and what the user can do."""
    if isinstance(exc, StoreError):
        return exc
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith("SQLITE_FULL") or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return StoreError(
            f"could not {doing}: the disk holding {path} is full (or the database reached its "
            "size limit); free some space or delete old snapshots",
            StoreError.FULL,
        )
    if (
        name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"))
        or isinstance(exc, PermissionError)
        or "readonly" in text
    ):
        return StoreError(
            f"could not {doing}: {path} or its directory is read-only or not yours "
            f"({text}); make it writable, or set another database path",
            StoreError.READ_ONLY,
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(
            f"could not {doing}: another process kept {path} locked for more than "
            f"{BUSY_TIMEOUT_MS // 1000} s; try again",
            StoreError.BUSY,
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return StoreError(
            f"could not {doing}: {path} is damaged ({text}); the next start of ai-session "
            "checks it, moves it aside and starts a fresh one",
            StoreError.CORRUPT,
        )
    return StoreError(f"could not {doing} in {path}: {text}", StoreError.IO)


def _snapshot_row(row: Sequence[Any], names: str | None, ids: str | None) -> SnapshotInfo:
    sid, created, kind, trigger, note, instance, raw, stored, panes = row
    return SnapshotInfo(
        id=sid,
        created_at=_dt(created),
        kind=kind,
        trigger=trigger,
        note=note,
        instance=instance,
        sessions=list(dict.fromkeys(names.split("\x1f"))) if names else [],
        panes=panes,
        stored_bytes=stored,
        raw_bytes=raw,
        session_ids=list(dict.fromkeys(ids.split("\x1f"))) if ids else [],
    )


def _session_row(row: Sequence[Any]) -> SessionRecord:
    sid, name, instance, config, status, created, updated, window, closed = row
    return SessionRecord(
        session_id=sid,
        name=name,
        instance=instance,
        config=json.loads(config),
        status=status,
        created_at=_dt(created),
        updated_at=_dt(updated),
        window=window,
        closed=bool(closed),
    )


def _command_row(row: Sequence[Any]) -> CommandRecord:
    row_id, sid, command, cwd, code, started, ended, data = row
    extra = json.loads(data)
    return CommandRecord(
        session_id=sid,
        session=str(extra.get("session", "")),
        seq=int(extra.get("seq", 0)),
        command=command,
        cwd=cwd,
        started_at=_dt(started),
        ended_at=None if ended is None else _dt(ended),
        exit_code=code,
        output=str(extra.get("output", "")),
        output_truncated=bool(extra.get("output_truncated", False)),
        parsed=extra.get("parsed"),
        id=row_id,
    )


def _thin(rows: Sequence[tuple[int, float, str, str]], policy: Retention, now: float) -> list[int]:
    """The ids retention thins out by age, from (id, created_at, trigger, group) rows: within
    each group (a pane's session, or all workspace snapshots) keep everything recent, then the
    newest per hour, then the newest per day. Buckets follow the clock, not `now`, so what was
    kept stays kept on the next run."""
    drop: list[int] = []
    kept: set[tuple[str, str, int]] = set()
    daily_for = policy.daily_for_days * DAY
    for sid, created, trigger, group in sorted(rows, key=lambda r: (-r[1], -r[0])):
        age = now - created
        if age < policy.keep_all_seconds or (policy.keep_manual and trigger == MANUAL):
            continue
        if age < policy.hourly_for_seconds:
            bucket = (group, "h", int(created // HOUR))
        elif age < daily_for:
            bucket = (group, "d", int(created // DAY))
        else:
            drop.append(sid)
            continue
        if bucket in kept:
            drop.append(sid)
        else:
            kept.add(bucket)
    return drop


# -- the store -------------------------------------------------------------------------------


class Store:
    """The database, open. `open()` it, call its verbs, `close()` it. Operations of one Store
    are serialised (one connection, one transaction at a time); other processes' go through
    SQLite's locking."""

    def __init__(self, path: Path, db: aiosqlite.Connection, recovered: Path | None) -> None:
        self.path = path
        self.recovered = recovered
        self._db: aiosqlite.Connection | None = db
        self._lock = asyncio.Lock()
        self._key = os.path.realpath(path)

    @classmethod
    async def open(cls, path: Path | None = None) -> Store:
        """Open (creating if needed) the database at `path` (default: `default_database_path()`).
        A file that is not a healthy database is moved aside (`recovered` says where) and a
        fresh one started; one made by a newer ai-session is refused, not touched."""
        chosen = Path(path) if path is not None else default_database_path()
        try:
            _private_dir(chosen.parent, tighten=path is None)
        except OSError as exc:
            raise _error(exc, "create the database directory", chosen.parent) from exc
        key = os.path.realpath(chosen)
        recovered = None
        try:
            if key not in _OPEN and _damaged(chosen) is not None:
                recovered = cls._set_aside(chosen)
        except OSError as exc:
            raise _error(exc, "open the database", chosen) from exc
        try:
            db = await cls._connect(chosen)
            if recovered is None and await _suspect_damaged(db, chosen):
                await db.close()
                raise StoreError("damaged", StoreError.CORRUPT)
        except StoreError as exc:
            if exc.code != StoreError.CORRUPT or recovered is not None:
                raise
            recovered = cls._set_aside(chosen)
            db = await cls._connect(chosen)
        store = cls(chosen, db, recovered)
        _OPEN[key] += 1
        return store

    @staticmethod
    def _set_aside(path: Path) -> Path:
        try:
            return _move_aside(path)
        except OSError as exc:
            raise _error(exc, "move the damaged database aside", path) from exc

    @staticmethod
    async def _connect(path: Path) -> aiosqlite.Connection:
        """Connect, set the per-connection pragmas and bring the schema up to date."""
        try:
            _private_file(path)
        except OSError as exc:
            raise _error(exc, "create the database file", path) from exc
        db: aiosqlite.Connection | None = None
        try:
            pending = aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            # aiosqlite's worker thread is not a daemon: a Store left open at exit has it
            # outlive the event loop and die with a traceback. Committed data is safe either
            # way (the next open replays the WAL).
            pending._thread.daemon = True
            db = await pending
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA foreign_keys = ON")
            # Before the first table exists: lets prune give freed pages back to the disk.
            await db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            row = await _wal(db)
            if row is None or str(row[0]).lower() != "wal":
                raise StoreError(f"{path} cannot use WAL journaling (a network filesystem?)")
            await db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints
            await _migrate(db, path)
            await db.execute_fetchall("SELECT count(*) FROM sqlite_master")  # parse the schema
            _private_file(path)  # -wal and -shm exist now
        except BaseException as exc:
            if db is not None:
                with contextlib.suppress(Exception):
                    await db.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise _error(exc, "open the database", path) from exc
            raise
        return db

    async def close(self) -> None:
        """Checkpoint and close; later calls raise StoreError(CLOSED). Idempotent."""
        db, self._db = self._db, None
        if db is not None:
            _OPEN[self._key] -= 1
            if _OPEN[self._key] <= 0:
                del _OPEN[self._key]
            async with self._lock:
                with contextlib.suppress(sqlite3.Error):
                    await db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- plumbing ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _transaction(
        self, doing: str, write: bool = True
    ) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction (IMMEDIATE for writes: take the write lock up front, so a second
        process waits at BEGIN instead of failing at its first write); any sqlite3 or OS error
        rolls it back and becomes a StoreError."""
        async with self._lock:
            db = self._db
            if db is None:
                raise StoreError(f"could not {doing}: the database is closed", StoreError.CLOSED)
            try:
                await db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield db
                await db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error | OSError):
                    error = _error(exc, doing, self.path)
                    if error.code == StoreError.CORRUPT:
                        with contextlib.suppress(OSError):
                            _suspect(self.path).touch(mode=0o600)
                    raise error from exc
                raise

    # -- snapshots ---------------------------------------------------------------------------

    async def save_snapshot(self, snap: SnapshotData) -> int:
        """Store `snap` in one transaction; returns its id (also set on `snap.id`). Scrollback
        blocks already stored (by any snapshot) are referenced, not written again."""
        if snap.kind not in KINDS:
            raise ValueError(f"snapshot kind must be one of {KINDS}, not {snap.kind!r}")
        hashed = [[hashlib.sha256(b).digest() for b in p.image.blocks] for p in snap.panes]
        raw = sum(len(p.image.head) + sum(map(len, p.image.blocks)) for p in snap.panes)
        async with self._transaction("save a snapshot") as db:
            cursor = await db.execute(
                "INSERT INTO snapshots (created_at, kind, trigger, note, instance, layout,"
                " raw_bytes, stored_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    _ts(snap.created_at),
                    snap.kind,
                    snap.trigger,
                    snap.note,
                    snap.instance,
                    None if snap.layout is None else _json(snap.layout),
                    raw,
                ),
            )
            snapshot_id = cursor.lastrowid
            assert snapshot_id is not None
            stored = 0
            for position, (pane, hashes) in enumerate(zip(snap.panes, hashed, strict=True)):
                stored += len(pane.image.head)
                stored += await self._save_pane(db, snapshot_id, position, pane, hashes)
            await db.execute(
                "UPDATE snapshots SET stored_bytes = ? WHERE id = ?", (stored, snapshot_id)
            )
        snap.id = snapshot_id
        return snapshot_id

    @staticmethod
    async def _save_pane(
        db: aiosqlite.Connection,
        snapshot_id: int,
        position: int,
        pane: PaneSnapshot,
        hashes: list[bytes],
    ) -> int:
        """Insert one pane row and its block references; returns the bytes of new blobs."""
        cursor = await db.execute(
            "INSERT INTO snapshot_panes (snapshot_id, position, session_id, session_name,"
            " window, window_name, pane_index, cwd, command, environment, config, title,"
            " columns, lines, head, output_offset, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                snapshot_id,
                position,
                pane.session_id,
                pane.session_name,
                pane.window,
                pane.window_name,
                pane.pane_index,
                pane.cwd,
                pane.command,
                _json(pane.environment),
                _json(pane.config),
                pane.title,
                pane.columns,
                pane.lines,
                pane.image.head,
                pane.output_offset,
                pane.digest,
            ),
        )
        pane_id = cursor.lastrowid
        ids: dict[bytes, int] = {}
        unique = list(dict.fromkeys(hashes))
        for chunk in _chunks(unique):
            rows = await db.execute_fetchall(
                f"SELECT hash, id FROM blobs WHERE hash IN ({_marks(len(chunk))})", chunk
            )
            ids.update((bytes(h), i) for h, i in rows)
        added = 0
        for digest, block in zip(hashes, pane.image.blocks, strict=True):
            if digest not in ids:
                cursor = await db.execute(
                    "INSERT INTO blobs (hash, size, data) VALUES (?, ?, ?)",
                    (digest, len(block), block),
                )
                assert cursor.lastrowid is not None
                ids[digest] = cursor.lastrowid
                added += len(block)
        await db.executemany(
            "INSERT INTO pane_blocks (pane_id, seq, blob_id) VALUES (?, ?, ?)",
            [(pane_id, seq, ids[digest]) for seq, digest in enumerate(hashes)],
        )
        return added

    async def list_snapshots(
        self, session: str | None = None, limit: int | None = None
    ) -> list[SnapshotInfo]:
        """Snapshots newest first; `session` (an id or a name) keeps those holding it."""
        where, params = "", list[object]()
        if session is not None:
            where = (
                "WHERE s.id IN (SELECT snapshot_id FROM snapshot_panes"
                " WHERE session_id = ? OR session_name = ?)"
            )
            params += [session, session]
        params.append(-1 if limit is None else limit)
        async with self._transaction("list snapshots", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT s.id, s.created_at, s.kind, s.trigger, s.note, s.instance, s.raw_bytes,"
                " s.stored_bytes, (SELECT count(*) FROM snapshot_panes p WHERE p.snapshot_id ="
                " s.id), (SELECT group_concat(session_name, char(31)) FROM (SELECT session_name"
                " FROM snapshot_panes p WHERE p.snapshot_id = s.id ORDER BY position)),"
                " (SELECT group_concat(session_id, char(31)) FROM (SELECT session_id"
                " FROM snapshot_panes p WHERE p.snapshot_id = s.id ORDER BY position))"
                f" FROM snapshots s {where} ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
                params,
            )
        return [_snapshot_row(row[:9], row[9], row[10]) for row in rows]

    async def get_snapshot(self, snapshot_id: int) -> SnapshotData:
        """The whole snapshot, images included; StoreError(NOT_FOUND) when there is none."""
        async with self._transaction("read a snapshot", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT created_at, kind, trigger, note, instance, layout FROM snapshots"
                " WHERE id = ?",
                (snapshot_id,),
            )
            if not rows:
                raise StoreError(f"there is no snapshot {snapshot_id}", StoreError.NOT_FOUND)
            created, kind, trigger, note, instance, layout = next(iter(rows))
            panes = await db.execute_fetchall(
                "SELECT id, session_id, session_name, window, window_name, pane_index, cwd,"
                " command, environment, config, title, columns, lines, head, output_offset,"
                " digest FROM snapshot_panes WHERE snapshot_id = ? ORDER BY position",
                (snapshot_id,),
            )
            result = []
            for row in panes:
                blocks = await db.execute_fetchall(
                    "SELECT b.data FROM pane_blocks pb JOIN blobs b ON b.id = pb.blob_id"
                    " WHERE pb.pane_id = ? ORDER BY pb.seq",
                    (row[0],),
                )
                image = TerminalImage(bytes(row[13]), tuple(bytes(b[0]) for b in blocks))
                result.append(
                    PaneSnapshot(
                        session_id=row[1],
                        session_name=row[2],
                        window=row[3],
                        window_name=row[4],
                        pane_index=row[5],
                        cwd=row[6],
                        command=row[7],
                        environment=json.loads(row[8]),
                        config=json.loads(row[9]),
                        title=row[10],
                        columns=row[11],
                        lines=row[12],
                        image=image,
                        output_offset=row[14],
                        digest=row[15],
                    )
                )
        return SnapshotData(
            id=snapshot_id,
            created_at=_dt(created),
            kind=kind,
            trigger=trigger,
            note=note,
            instance=instance,
            layout=None if layout is None else json.loads(layout),
            panes=result,
        )

    async def delete_snapshot(self, snapshot_id: int) -> bool:
        """Delete a snapshot and the blobs no other snapshot uses; False if there was none."""
        async with self._transaction("delete a snapshot") as db:
            freed = await _delete(db, snapshot_id)
        if freed is None:
            return False
        await self._vacuum()
        return True

    async def prune(self, policy: Retention, now: datetime | None = None) -> list[int]:
        """Apply `policy` in one transaction; returns the ids removed, oldest first. The size
        cap counts pane heads and blobs (not recordings, which `trim_recording` bounds) and
        never removes the newest snapshot."""
        moment = _ts(now if now is not None else datetime.now(UTC))
        removed: list[int] = []
        async with self._transaction("prune snapshots") as db:
            rows = await db.execute_fetchall(
                "SELECT s.id, s.created_at, s.trigger, CASE s.kind WHEN 'pane' THEN"
                " 'pane:' || (SELECT session_id FROM snapshot_panes p WHERE p.snapshot_id = s.id"
                " ORDER BY position LIMIT 1) ELSE 'workspace' END FROM snapshots s"
            )
            listed = [(r[0], r[1], r[2], r[3] or "") for r in rows]
            for sid in _thin(listed, policy, moment):
                await _delete(db, sid)
                removed.append(sid)
            total = await _snapshot_bytes(db)
            if total > policy.max_bytes:
                gone = set(removed)
                left = sorted((r for r in listed if r[0] not in gone), key=lambda r: (r[1], r[0]))
                newest = left[-1][0] if left else None
                order = [r for r in left if r[2] != MANUAL] + [r for r in left if r[2] == MANUAL]
                for sid, *_ in order:
                    if total <= policy.max_bytes:
                        break
                    if sid == newest:
                        continue
                    total -= await _delete(db, sid) or 0
                    removed.append(sid)
        if removed:
            await self._vacuum()
        times = {r[0]: r[1] for r in listed}
        return sorted(removed, key=lambda sid: (times[sid], sid))

    async def _vacuum(self) -> None:
        """Give freed pages back to the filesystem (auto_vacuum=INCREMENTAL); best effort."""
        async with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    await self._db.execute_fetchall("PRAGMA incremental_vacuum")

    async def stats(self) -> StoreStats:
        """Sizes and counts, for `ai-session snapshot list`, the panel and the bench."""
        async with self._transaction("read statistics", write=False) as db:
            (row,) = await db.execute_fetchall(
                "SELECT (SELECT count(*) FROM snapshots), (SELECT count(*) FROM snapshot_panes),"
                " (SELECT count(*) FROM blobs), (SELECT coalesce(sum(raw_bytes), 0) FROM"
                " snapshots), (SELECT count(*) FROM recording_blocks), (SELECT"
                " coalesce(sum(size), 0) FROM recording_blocks)"
            )
            stored = await _snapshot_bytes(db)
        file_bytes = 0
        for name in (self.path.name, self.path.name + "-wal"):
            with contextlib.suppress(FileNotFoundError):
                file_bytes += self.path.with_name(name).stat().st_size
        snapshots, panes, blobs, raw, blocks, recorded = row
        return StoreStats(
            self.path, file_bytes, snapshots, panes, blobs, raw, stored, blocks, recorded
        )

    async def check(self) -> list[str]:
        """`PRAGMA integrity_check`: ["ok"] for a healthy database, else the problems."""
        async with self._transaction("check the database", write=False) as db:
            rows = await db.execute_fetchall("PRAGMA integrity_check")
        return [str(r[0]) for r in rows]

    # -- sessions ----------------------------------------------------------------------------

    async def record_session(self, info: SessionRecord) -> None:
        """Insert or update a session (on create and on every status change). The first record
        of an instance registers it (this process's pid), so a later start can tell whether it
        is still running."""
        async with self._transaction("record a session") as db:
            await db.execute(
                "INSERT INTO instances (instance, pid, boot_id, started_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (instance) DO NOTHING",
                (info.instance, os.getpid(), _boot_id(), _ts(info.created_at)),
            )
            await db.execute(
                "INSERT INTO sessions (session_id, name, instance, config, status, created_at,"
                " updated_at, window, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (session_id) DO UPDATE SET name = excluded.name,"
                " instance = excluded.instance, config = excluded.config,"
                " status = excluded.status, updated_at = excluded.updated_at,"
                " window = excluded.window, closed = excluded.closed",
                (
                    info.session_id,
                    info.name,
                    info.instance,
                    _json(info.config),
                    info.status,
                    _ts(info.created_at),
                    _ts(info.updated_at),
                    info.window,
                    int(info.closed),
                ),
            )

    async def sessions(
        self, open_only: bool = False, instance: str | None = None
    ) -> list[SessionRecord]:
        """Recorded sessions, oldest first; `open_only` leaves out closed ones, `instance`
        keeps one instance's."""
        where, params = list[str](), list[object]()
        if open_only:
            where.append("closed = 0")
        if instance is not None:
            where.append("instance = ?")
            params.append(instance)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        async with self._transaction("list sessions", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT session_id, name, instance, config, status, created_at, updated_at,"
                f" window, closed FROM sessions {clause} ORDER BY created_at, session_id",
                params,
            )
        return [_session_row(row) for row in rows]

    async def mark_clean_exit(self, instance: str) -> None:
        """The app is closing on purpose: its open sessions are not a crash to restore."""
        now = datetime.now(UTC).timestamp()
        async with self._transaction("mark a clean exit") as db:
            await db.execute(
                "INSERT INTO instances (instance, pid, boot_id, started_at, clean_exit_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (instance) DO UPDATE"
                " SET clean_exit_at = excluded.clean_exit_at",
                (instance, os.getpid(), _boot_id(), now, now),
            )

    async def unclean_instances(self) -> list[str]:
        """Instances that ended without `mark_clean_exit` while sessions were still open (a
        crash, a kill, a reboot), newest first. Instances still running (their process alive
        in this boot, as another TUI or a server) are not among them."""
        async with self._transaction("list unclean exits", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT i.instance, i.pid, i.boot_id FROM instances i"
                " WHERE i.clean_exit_at IS NULL"
                " AND EXISTS (SELECT 1 FROM sessions s WHERE s.instance = i.instance"
                " AND s.closed = 0)"
                " ORDER BY (SELECT max(updated_at) FROM sessions s WHERE s.instance ="
                " i.instance) DESC, i.started_at DESC"
            )
        return [name for name, pid, boot in rows if not _alive(pid, boot)]

    # -- command history ---------------------------------------------------------------------

    async def add_command(self, record: CommandRecord) -> int:
        """Store a finished command (engine/history.py); returns its row id. The output and
        the parsed result go in the row's `data`."""
        data = {
            "session": record.session,
            "seq": record.seq,
            "output": record.output,
            "output_truncated": record.output_truncated,
            "parsed": record.parsed,
        }
        async with self._transaction("record a command") as db:
            cursor = await db.execute(
                "INSERT INTO command_history (session_id, command, cwd, exit_code, started_at,"
                " ended_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.session_id,
                    record.command,
                    record.cwd,
                    record.exit_code,
                    _ts(record.started_at),
                    None if record.ended_at is None else _ts(record.ended_at),
                    _json(data),
                ),
            )
            row_id = cursor.lastrowid
        assert row_id is not None
        return row_id

    async def commands(
        self, session_id: str | None = None, *, failed: bool = False, limit: int = 100
    ) -> list[CommandRecord]:
        """The newest `limit` stored commands (of one session, or all), oldest first;
        `failed` keeps those that ended with a non-zero status."""
        where, params = list[str](), list[object]()
        if session_id is not None:
            where.append("session_id = ?")
            params.append(session_id)
        if failed:
            where.append("exit_code IS NOT NULL AND exit_code != 0")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        async with self._transaction("list commands", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT id, session_id, command, cwd, exit_code, started_at, ended_at, data"
                f" FROM command_history {clause} ORDER BY id DESC LIMIT ?",
                (*params, max(0, limit)),
            )
        return [_command_row(row) for row in reversed(list(rows))]

    async def carry_over(self, old_session: str, new_session: str) -> None:
        """A pane restored as a new session goes on from the old one's records: its command
        history and AI context are copied under the new id (the old rows stay, with their
        snapshots)."""
        async with self._transaction("carry a session's records over") as db:
            await db.execute(
                "INSERT INTO command_history (session_id, command, cwd, exit_code, started_at,"
                " ended_at, data) SELECT ?, command, cwd, exit_code, started_at, ended_at, data"
                " FROM command_history WHERE session_id = ? ORDER BY id",
                (new_session, old_session),
            )
            await db.execute(
                "INSERT OR IGNORE INTO context_messages (session_id, message_id, position, role,"
                " content, tokens, created_at, data, original, folded_into) SELECT ?,"
                " message_id, position, role, content, tokens, created_at, data, original,"
                " folded_into FROM context_messages WHERE session_id = ?",
                (new_session, old_session),
            )

    # -- output recording --------------------------------------------------------------------

    async def append_recording(self, session_id: str, *blocks: RecordingBlock) -> None:
        """Append sealed blocks to the session's recording, in one transaction."""
        async with self._transaction("save a recording block") as db:
            await db.executemany(
                "INSERT INTO recording_blocks (session_id, start_time, end_time, start_offset,"
                " columns, lines, size, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        session_id,
                        block.start_time,
                        block.end_time,
                        block.start_offset,
                        block.columns,
                        block.lines,
                        len(block.data),
                        block.data,
                    )
                    for block in blocks
                ],
            )

    async def recording(self, session_id: str) -> list[RecordingBlock]:
        """The session's recording blocks, oldest first."""
        async with self._transaction("read a recording", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT start_time, end_time, start_offset, columns, lines, data"
                " FROM recording_blocks WHERE session_id = ? ORDER BY id",
                (session_id,),
            )
        return [RecordingBlock(a, b, c, d, e, bytes(data)) for a, b, c, d, e, data in rows]

    async def trim_recording(self, session_id: str, max_bytes: int) -> int:
        """Drop the session's oldest blocks until the rest take at most `max_bytes`; returns
        the bytes dropped."""
        async with self._transaction("trim a recording") as db:
            rows = await db.execute_fetchall(
                "SELECT id, size FROM recording_blocks WHERE session_id = ? ORDER BY id DESC",
                (session_id,),
            )
            total, cut = 0, None
            for block_id, size in rows:
                total += size
                if total > max_bytes:
                    cut = block_id
                    break
            if cut is None:
                return 0
            rows = await db.execute_fetchall(
                "DELETE FROM recording_blocks WHERE session_id = ? AND id <= ? RETURNING size",
                (session_id, cut),
            )
            return sum(r[0] for r in rows)

    async def delete_recording(self, session_id: str) -> int:
        """Drop a session's whole recording; returns the bytes dropped."""
        async with self._transaction("delete a recording") as db:
            rows = await db.execute_fetchall(
                "DELETE FROM recording_blocks WHERE session_id = ? RETURNING size", (session_id,)
            )
        return sum(r[0] for r in rows)

    # -- AI context (engine/context.py) ---------------------------------------------------------

    async def append_context(self, session_id: str, message: Message) -> None:
        """Keep a message a session's context holds (it has its id)."""
        async with self._transaction("save a context message") as db:
            await db.execute(
                "INSERT OR REPLACE INTO context_messages (session_id, message_id, position, role,"
                " content, tokens, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _context_row(session_id, message),
            )

    async def fold_context(
        self, session_id: str, folded: Sequence[int], summary: Message, originals: dict[int, bytes]
    ) -> None:
        """A compression: the messages `folded` were replaced by `summary`; `originals` holds
        the zstd text of those that were not summaries themselves (kept, so nothing is lost)."""
        async with self._transaction("save a context compression") as db:
            await db.execute(
                "INSERT OR REPLACE INTO context_messages (session_id, message_id, position, role,"
                " content, tokens, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _context_row(session_id, summary),
            )
            for message_id in folded:
                blob = originals.get(message_id)
                if blob is None:  # an earlier summary: its lines live on in the new one
                    await db.execute(
                        "UPDATE context_messages SET folded_into = ?"
                        " WHERE session_id = ? AND message_id = ?",
                        (summary.id, session_id, message_id),
                    )
                else:
                    await db.execute(
                        "UPDATE context_messages SET folded_into = ?, content = '', original = ?"
                        " WHERE session_id = ? AND message_id = ?",
                        (summary.id, blob, session_id, message_id),
                    )

    async def context(self, session_id: str, *, folded: bool = False) -> list[Message]:
        """The messages a session's context holds, in order (with `folded`, also those
        compression replaced, their text read back from zstd)."""
        where = "" if folded else " AND folded_into IS NULL"
        async with self._transaction("read a context", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT message_id, role, content, tokens, created_at, data, original"
                f" FROM context_messages WHERE session_id = ?{where} ORDER BY position, message_id",
                (session_id,),
            )
        return [_context_message(row) for row in rows]

    async def context_original(self, session_id: str, message_id: int) -> Message | None:
        """One message of a session's context in full, folded or not; None if unknown."""
        async with self._transaction("read a context message", write=False) as db:
            rows = await db.execute_fetchall(
                "SELECT message_id, role, content, tokens, created_at, data, original"
                " FROM context_messages WHERE session_id = ? AND message_id = ?",
                (session_id, message_id),
            )
        return next((_context_message(row) for row in rows), None)

    # -- the agents' hub (engine/hub.py, rows in engine/hubstore.py) ---------------------------

    async def save_coordination(
        self, instance: str, records: Sequence[Any], origin: hubstore.Origin
    ) -> None:
        """Keep a batch of the hub's records (messages, decisions, tasks, spans, token
        reports) in one transaction."""
        async with self._transaction("keep agent records") as db:
            await hubstore.save(db, instance, records, origin)

    async def load_coordination(self, limit: int) -> hubstore.HubRecords:
        """The hub's newest records of each kind, to show again after a restart."""
        async with self._transaction("read agent records", write=False) as db:
            return await hubstore.load(db, limit)


def _context_row(session_id: str, message: Message) -> tuple[Any, ...]:
    data = {"estimated": message.estimated, "summary_of": list(message.summary_of)}
    if message.data:
        data["data"] = message.data
    return (
        session_id,
        message.id,
        min(message.summary_of, default=message.id),
        message.role.value,
        message.content,
        message.token_count,
        _ts(message.timestamp),
        _json(data),
    )


def _context_message(row: Sequence[Any]) -> Message:
    message_id, role, content, tokens, created_at, data, original = row
    extra = json.loads(data)
    if original is not None:
        content = zstandard.ZstdDecompressor().decompress(original).decode()
    return Message(
        MessageRole(role),
        content,
        _dt(created_at),
        token_count=tokens,
        id=message_id,
        estimated=bool(extra.get("estimated")),
        summary_of=tuple(extra.get("summary_of", ())),
        data=extra.get("data", {}),
    )


async def _wal(db: aiosqlite.Connection) -> sqlite3.Row | None:
    """Switch a connection to WAL. Two processes switching a new file at once can both hold
    a shared lock and want the exclusive one; SQLite then answers "locked" at once instead of
    calling the busy handler (it would deadlock), so retry here until BUSY_TIMEOUT_MS."""
    deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            async with db.execute("PRAGMA journal_mode = WAL") as cursor:
                return await cursor.fetchone()
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")
            if not busy or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.01)


async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
    """Run the migrations the file lacks, all in one IMMEDIATE transaction (two processes
    opening a new file at once: the second waits, then finds nothing left to do)."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        async with db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{path} was made by a newer ai-session (schema {version}, this one knows "
                f"{len(MIGRATIONS)}); upgrade ai-session or set another database path",
                StoreError.NEWER,
            )
        for script in MIGRATIONS[version:]:
            for statement in statements(script):
                await db.execute(statement)
        if version < len(MIGRATIONS):
            await db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await db.execute("ROLLBACK")
        raise


async def _delete(db: aiosqlite.Connection, snapshot_id: int) -> int | None:
    """Delete one snapshot inside the caller's transaction, with the blobs nothing else
    references; returns the bytes freed (heads + blobs), None if there was no such snapshot."""
    blob_ids = [
        r[0]
        for r in await db.execute_fetchall(
            "SELECT DISTINCT pb.blob_id FROM pane_blocks pb JOIN snapshot_panes p"
            " ON p.id = pb.pane_id WHERE p.snapshot_id = ?",
            (snapshot_id,),
        )
    ]
    (heads,) = await db.execute_fetchall(
        "SELECT coalesce(sum(length(head)), 0) FROM snapshot_panes WHERE snapshot_id = ?",
        (snapshot_id,),
    )
    rows = await db.execute_fetchall(
        "DELETE FROM snapshots WHERE id = ? RETURNING id", (snapshot_id,)
    )
    if not rows:
        return None
    freed = int(heads[0])
    for chunk in _chunks(blob_ids):
        sizes = await db.execute_fetchall(
            f"DELETE FROM blobs WHERE id IN ({_marks(len(chunk))}) AND NOT EXISTS"
            " (SELECT 1 FROM pane_blocks WHERE blob_id = blobs.id) RETURNING size",
            chunk,
        )
        freed += sum(r[0] for r in sizes)
    return freed


async def _snapshot_bytes(db: aiosqlite.Connection) -> int:
    """Bytes snapshots hold now: pane heads and live blobs."""
    (row,) = await db.execute_fetchall(
        "SELECT (SELECT coalesce(sum(length(head)), 0) FROM snapshot_panes)"
        " + (SELECT coalesce(sum(size), 0) FROM blobs)"
    )
    return int(row[0])
