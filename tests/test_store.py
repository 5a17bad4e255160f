"""The database: real SQLite files under tmp_path, real subprocesses for crashes and contention."""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from conftest import wait_until

from engine.errors import SessionError, StoreError
from engine.migrations import MIGRATIONS
from engine.store import (
    PaneSnapshot,
    RecordingBlock,
    Retention,
    SessionRecord,
    SnapshotData,
    Store,
    _wal,
    default_database_path,
)
from engine.termstate import TerminalImage

ROOT = Path(__file__).resolve().parent.parent
SHARED = tuple(bytes([k]) * 4000 for k in range(3))  # history every snapshot of a pane shares
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def make_pane(i: int, session: str = "s1", unique: int = 2000) -> PaneSnapshot:
    """A pane whose content is a function of `i`: shared old history plus a block of its own."""
    own = random.Random(i).randbytes(unique)
    return PaneSnapshot(
        session_id=session,
        session_name=f"name-{session}",
        window=0,
        window_name="bash",
        pane_index=0,
        cwd="/tmp",
        command="vim a.txt",
        environment={"LANG": "C.UTF-8"},
        config={"pty_size": [24, 80], "working_directory": Path("/tmp")},
        title=f"title {i}",
        columns=80,
        lines=24,
        image=TerminalImage(head=b"AIST head %d" % i, blocks=(*SHARED, own)),
        output_offset=1000 * i,
        digest=f"digest-{i}",
    )


def make_snapshot(
    i: int,
    *,
    created_at: datetime | None = None,
    trigger: str = "auto",
    session: str = "s1",
    unique: int = 2000,
    instance: str = "inst",
) -> SnapshotData:
    return SnapshotData(
        id=None,
        created_at=created_at or datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i),
        kind="pane",
        trigger=trigger,
        note=str(i),
        instance=instance,
        layout=None,
        panes=[make_pane(i, session, unique)],
    )


def expected(snap: SnapshotData, snapshot_id: int) -> SnapshotData:
    """`snap` as it reads back: with its id, and its config as JSON gave it."""
    for pane in snap.panes:
        pane.config = {k: str(v) if isinstance(v, Path) else v for k, v in pane.config.items()}
    snap.id = snapshot_id
    return snap


def sql(path: Path, query: str) -> list[tuple[Any, ...]]:
    """A query on a connection of its own, as another process would see the file."""
    with sqlite3.connect(path) as db:
        return db.execute(query).fetchall()


async def run_python(code: str, *args: str, prefix: tuple[str, ...] = ()) -> tuple[int, str]:
    """Run `code` in a new Python with the repo and tests importable; (exit code, output)."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    proc = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-c",
        code,
        *args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "data" / "ai-session.db")
    yield s
    await s.close()


# -- basics ----------------------------------------------------------------------------------


async def test_a_workspace_snapshot_reads_back_as_saved(store: Store) -> None:
    snap = make_snapshot(1)
    snap.kind, snap.trigger, snap.note = "workspace", "manual", "before the refactor"
    snap.layout = {"windows": [{"name": "bash", "layout": {"split": "h"}}], "focus": 0}
    snap.created_at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    snap.panes.append(make_pane(2, "s2"))
    snapshot_id = await store.save_snapshot(snap)
    assert snap.id == snapshot_id
    got = await store.get_snapshot(snapshot_id)
    assert got == expected(snap, snapshot_id)
    assert got.created_at == datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    (info,) = await store.list_snapshots()
    assert (info.id, info.kind, info.trigger, info.note, info.panes) == (
        snapshot_id,
        "workspace",
        "manual",
        "before the refactor",
        2,
    )
    assert info.sessions == ["name-s1", "name-s2"] and info.session_ids == ["s1", "s2"]


async def test_the_database_is_private_wal_and_migrated(tmp_path: Path) -> None:
    old = os.umask(0)  # SQLite must not widen what we asked for, whatever the umask
    try:
        store = await Store.open(tmp_path / "a" / "b" / "x.db")
        await store.save_snapshot(make_snapshot(1))
    finally:
        os.umask(old)
    path = store.path
    for directory in (path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("x.db", "x.db-wal", "x.db-shm"):
        assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
    db = store._db
    assert db is not None
    assert list(await db.execute_fetchall("PRAGMA busy_timeout")) == [(5000,)]
    assert list(await db.execute_fetchall("PRAGMA foreign_keys")) == [(1,)]
    await store.close()
    assert sql(path, "PRAGMA journal_mode") == [("wal",)]
    assert sql(path, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    tables = {row[0] for row in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    later = {"command_history", "context_messages", "agent_messages", "decisions", "traces"}
    assert later | {"audit", "snapshots", "sessions", "blobs"} <= tables


async def test_the_default_path_is_in_the_user_data_dir_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "data" / "ai-session" / "ai-session.db"
    assert default_database_path() == path
    path.parent.mkdir(parents=True, mode=0o755)
    path.parent.chmod(0o755)
    await (await Store.open()).close()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # our own directory: narrowed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    mine.chmod(0o755)
    await (await Store.open(mine / "x.db")).close()
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755  # a directory the user named: left be


async def test_missing_and_closed_are_store_errors(store: Store) -> None:
    with pytest.raises(StoreError, match="no snapshot 42") as missing:
        await store.get_snapshot(42)
    assert missing.value.code == StoreError.NOT_FOUND
    assert isinstance(missing.value, SessionError)
    assert await store.delete_snapshot(42) is False
    await store.close()
    with pytest.raises(StoreError, match="closed") as closed:
        await store.list_snapshots()
    assert closed.value.code == StoreError.CLOSED


async def test_writes_from_one_store_at_once_each_get_their_transaction(store: Store) -> None:
    ids = await asyncio.gather(*(store.save_snapshot(make_snapshot(i)) for i in range(20)))
    assert len(set(ids)) == 20
    for i, snapshot_id in enumerate(ids):
        assert (await store.get_snapshot(snapshot_id)).note == str(i)


# -- deduplication and stats -----------------------------------------------------------------


async def test_unchanged_history_is_stored_once_and_freed_with_its_last_user(store: Store) -> None:
    first = await store.save_snapshot(make_snapshot(1))
    second = await store.save_snapshot(make_snapshot(2))
    stats = await store.stats()
    assert (stats.snapshots, stats.panes, stats.blobs) == (2, 2, len(SHARED) + 2)
    one_raw = sum(map(len, SHARED)) + 2000 + len(b"AIST head 1")
    assert stats.raw_bytes == 2 * one_raw
    assert stats.stored_bytes == one_raw + 2000 + len(b"AIST head 2")
    assert stats.file_bytes > stats.stored_bytes
    (newer, older) = await store.list_snapshots()
    assert (older.raw_bytes, older.stored_bytes) == (one_raw, one_raw)
    assert newer.stored_bytes == 2000 + len(b"AIST head 2")  # the shared history was there

    assert await store.delete_snapshot(first) is True
    assert (await store.stats()).blobs == len(SHARED) + 1
    assert await store.get_snapshot(second) == expected(make_snapshot(2), second)
    await store.delete_snapshot(second)
    stats = await store.stats()
    assert (stats.snapshots, stats.panes, stats.blobs, stats.stored_bytes) == (0, 0, 0, 0)
    assert sql(store.path, "SELECT count(*) FROM pane_blocks") == [(0,)]


async def test_list_filters_by_session_id_or_name_and_limits(store: Store) -> None:
    for i in range(3):
        await store.save_snapshot(make_snapshot(i, session="a"))
    await store.save_snapshot(make_snapshot(3, session="b"))
    assert [s.note for s in await store.list_snapshots()] == ["3", "2", "1", "0"]
    assert [s.note for s in await store.list_snapshots("a", limit=2)] == ["2", "1"]
    assert [s.note for s in await store.list_snapshots("name-b")] == ["3"]
    assert await store.list_snapshots("nobody") == []


# -- versions and damage ---------------------------------------------------------------------


async def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    await (await Store.open(path)).close()
    sql(path, "PRAGMA user_version = 99")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="made by a newer ai-session") as refused:
        await Store.open(path)
    assert refused.value.code == StoreError.NEWER
    assert path.read_bytes() == before and list(tmp_path.glob("*.corrupt-*")) == []


def _garbage(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(50_000))


def _text(path: Path) -> None:
    path.write_text("# my notes, not a database\n" * 100)


def _truncated(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x BLOB)")
        db.executemany("INSERT INTO t VALUES (?)", [(bytes(5000),) for _ in range(40)])
    db.close()
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _header_only(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(20))


def _schema_page(path: Path) -> None:
    with sqlite3.connect(path) as db:
        for n in range(20):
            db.execute(f"CREATE TABLE t{n} (x INTEGER PRIMARY KEY, y TEXT)")
    db.close()
    with path.open("r+b") as f:  # the schema's page, after the file header
        f.seek(100)
        f.write(random.Random(3).randbytes(3000))


@pytest.mark.parametrize("damage", [_garbage, _text, _truncated, _header_only, _schema_page])
async def test_a_damaged_file_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    path = tmp_path / "x.db"
    damage(path)
    before = path.read_bytes()
    store = await Store.open(path)
    try:
        assert store.recovered is not None
        assert re.fullmatch(r"x\.db\.corrupt-\d{8}T\d{6}", store.recovered.name)
        assert store.recovered.read_bytes() == before  # kept for the user, not deleted
        snapshot_id = await store.save_snapshot(make_snapshot(1))
        assert (await store.get_snapshot(snapshot_id)).note == "1"
        assert await store.check() == ["ok"]
    finally:
        await store.close()
    again = await Store.open(path)
    assert again.recovered is None
    await again.close()


async def test_damage_found_at_work_is_an_error_then_moved_aside_on_the_next_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.db"
    store = await Store.open(path)
    for i in range(20):
        await store.save_snapshot(make_snapshot(i, unique=10_000))
    await store.close()
    ((root,),) = sql(path, "SELECT rootpage FROM sqlite_master WHERE name = 'pane_blocks'")
    with path.open("r+b") as f:  # the block references' b-tree: the header cannot see it
        f.seek((root - 1) * 4096)
        f.write(random.Random(5).randbytes(4096))
    store = await Store.open(path)
    assert store.recovered is None
    with pytest.raises(StoreError, match="is damaged") as damaged:
        await store.get_snapshot(1)
    assert damaged.value.code == StoreError.CORRUPT
    await store.close()
    store = await Store.open(path)  # checks the file the error marked, and sets it aside
    try:
        assert store.recovered is not None
        assert await store.list_snapshots() == []
        assert list(tmp_path.glob("*.damaged")) == []
    finally:
        await store.close()


async def test_a_later_migration_upgrades_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.db"
    store = await Store.open(path)
    first = await store.save_snapshot(make_snapshot(1))
    await store.close()
    later = "ALTER TABLE snapshots ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;\n"
    monkeypatch.setattr("engine.store.MIGRATIONS", (*MIGRATIONS, later))
    store = await Store.open(path)
    try:
        assert (await store.get_snapshot(first)).note == "1"
    finally:
        await store.close()
    assert sql(path, "PRAGMA user_version") == [(len(MIGRATIONS) + 1,)]
    assert sql(path, "SELECT pinned FROM snapshots") == [(0,)]


async def test_a_healthy_file_is_not_recovered(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    store = await Store.open(path)
    await store.save_snapshot(make_snapshot(1))
    await store.close()
    again = await Store.open(path)
    assert again.recovered is None and len(await again.list_snapshots()) == 1
    await again.close()


def _without_file_permission_override() -> tuple[str, ...]:
    """A prefix that runs a command without root's power over file modes (CI is not root)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be made")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")


OPEN = """
import asyncio, sys
from pathlib import Path
from engine.errors import StoreError
from engine.store import Store

async def main():
    try:
        store = await Store.open(Path(sys.argv[1]))
    except StoreError as exc:
        print(exc.code, exc)
    else:
        print("opened")
        await store.close()

asyncio.run(main())
"""


async def test_a_read_only_directory_is_a_clear_store_error(tmp_path: Path) -> None:
    prefix = _without_file_permission_override()
    empty, existing = tmp_path / "empty", tmp_path / "existing"
    empty.mkdir()
    await (await Store.open(existing / "x.db")).close()
    for directory in (empty, existing):
        directory.chmod(0o500)
    try:
        for directory in (empty, existing):
            code, out = await run_python(OPEN, str(directory / "x.db"), prefix=prefix)
            assert code == 0, out
            assert out.startswith("READ_ONLY could not "), out
            assert "read-only" in out and str(directory) in out
            assert "Traceback" not in out
    finally:
        for directory in (empty, existing):
            directory.chmod(0o700)


async def test_a_full_disk_is_a_clear_error_and_reads_go_on(store: Store) -> None:
    first = await store.save_snapshot(make_snapshot(1))
    db = store._db
    assert db is not None
    ((pages,),) = await db.execute_fetchall("PRAGMA page_count")
    await db.execute_fetchall(f"PRAGMA max_page_count = {pages + 2}")  # a disk about full
    with pytest.raises(StoreError, match="full") as full:
        await store.save_snapshot(make_snapshot(2, unique=1 << 20))
    assert full.value.code == StoreError.FULL
    assert "sqlite3" not in type(full.value).__module__
    assert [s.id for s in await store.list_snapshots()] == [first]
    assert await store.get_snapshot(first) == expected(make_snapshot(1), first)
    await db.execute_fetchall("PRAGMA max_page_count = 1073741823")  # space freed
    assert await store.save_snapshot(make_snapshot(3)) > first


# -- crashes and other processes -------------------------------------------------------------


WRITER = """
import asyncio, sys
from pathlib import Path
from engine.store import Store
from test_store import make_snapshot

async def main():
    store = await Store.open(Path(sys.argv[1]))
    i = 0
    while True:
        await store.save_snapshot(make_snapshot(i, unique=300_000))
        i += 1

asyncio.run(main())
"""


def _count(path: Path) -> int:
    try:
        return int(sql(path, "SELECT count(*) FROM snapshots")[0][0])
    except sqlite3.OperationalError:  # not created yet
        return 0


async def test_kill_9_mid_loop_leaves_every_committed_snapshot_readable(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), env=env, stderr=subprocess.PIPE
    )
    try:
        await wait_until(lambda: _count(path) >= 5, timeout=30, what="5 committed snapshots")
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    store = await Store.open(path)
    try:
        assert store.recovered is None
        assert await store.check() == ["ok"]
        infos = await store.list_snapshots()
        assert len(infos) >= 5
        latest = infos[0]
        assert await store.get_snapshot(latest.id) == expected(
            make_snapshot(int(latest.note), unique=300_000), latest.id
        )
        for info in infos[1:]:
            got = await store.get_snapshot(info.id)
            assert got.panes[0].image == make_pane(int(info.note), unique=300_000).image
    finally:
        await store.close()


async def test_a_second_store_in_one_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """Closing any descriptor of the file drops the process's POSIX locks on it: then another
    process, closing its connection, takes itself for the last one and deletes the WAL."""
    path = tmp_path / "x.db"
    first = await Store.open(path)
    await first.save_snapshot(make_snapshot(1))
    second = await Store.open(path)
    reader = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('SELECT 1 FROM snapshots').fetchall(); db.close()"
    assert await run_python(reader, str(path)) == (0, "")
    assert path.with_name("x.db-wal").exists()  # the others saw this process still using it
    await second.save_snapshot(make_snapshot(2))
    assert len(await first.list_snapshots()) == 2
    assert await first.check() == ["ok"]
    await second.close()
    await first.close()


async def test_a_store_left_open_exits_quietly_with_its_data_committed(tmp_path: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from engine.store import Store\n"
        "from test_store import make_snapshot\n"
        "async def main():\n"
        "    store = await Store.open(Path(sys.argv[1]))\n"
        "    await store.save_snapshot(make_snapshot(1))\n"
        "asyncio.run(main())\n"
    )
    assert await asyncio.wait_for(run_python(code, str(tmp_path / "x.db")), 60) == (0, "")
    assert sql(tmp_path / "x.db", "SELECT note FROM snapshots") == [("1",)]


BURST = """
import asyncio, sys
from pathlib import Path
from engine.store import Store
from test_store import make_snapshot

async def main():
    store = await Store.open(Path(sys.argv[1]))
    for i in range(30):
        await store.save_snapshot(make_snapshot(i, unique=50_000, instance=sys.argv[2]))
    await store.close()
    print("done")

asyncio.run(main())
"""


async def test_two_processes_writing_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "x.db"  # new: both also race to create and migrate it
    results = await asyncio.gather(
        run_python(BURST, str(path), "one"), run_python(BURST, str(path), "two")
    )
    assert list(results) == [(0, "done\n"), (0, "done\n")]
    assert sql(path, "SELECT instance, count(*) FROM snapshots GROUP BY instance") == [
        ("one", 30),
        ("two", 30),
    ]
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]


async def test_another_process_closing_its_connection_leaves_ours_whole(tmp_path: Path) -> None:
    """Another process (the CLI, sqlite3) opening and closing the file while we hold it must
    not take us for gone: our -wal stays, and what we write after is seen by the others."""
    path = tmp_path / "shared.db"
    count = (
        "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
        "'SELECT count(*) FROM snapshots').fetchone()[0])"
    )
    async with await Store.open(path) as mine:
        await mine.save_snapshot(make_snapshot(1))
        assert await run_python(count, str(path)) == (0, "1\n")
        assert path.with_name("shared.db-wal").exists()
        await mine.save_snapshot(make_snapshot(2))
        assert await run_python(count, str(path)) == (0, "2\n")


# -- retention -------------------------------------------------------------------------------


async def test_prune_thins_by_age_and_keeps_manual_ones(store: Store) -> None:
    hour = timedelta(hours=1)
    at = {
        "recent-1": NOW - timedelta(minutes=5),
        "recent-2": NOW - timedelta(minutes=50),
        "hour-old": NOW - 3 * hour + timedelta(minutes=10),  # 09:10
        "hour-new": NOW - 3 * hour + timedelta(minutes=40),  # 09:40: the one kept of 09:xx
        "other-session": NOW - 3 * hour + timedelta(minutes=20),  # its own group
        "day-old": NOW - timedelta(days=3, hours=2),  # June 12, 10:00
        "day-new": NOW - timedelta(days=3, hours=1),  # June 12, 11:00: kept for the day
        "ancient": NOW - timedelta(days=40),
        "ancient-manual": NOW - timedelta(days=41),
    }
    ids = {}
    for i, (name, moment) in enumerate(at.items()):
        snap = make_snapshot(
            i,
            created_at=moment,
            trigger="manual" if name.endswith("manual") else "auto",
            session="b" if name == "other-session" else "a",
        )
        ids[name] = await store.save_snapshot(snap)
    removed = await store.prune(Retention(), now=NOW)
    assert removed == [ids["ancient"], ids["day-old"], ids["hour-old"]]  # oldest first
    left = {s.id for s in await store.list_snapshots()}
    assert left == set(ids.values()) - set(removed)
    assert await store.prune(Retention(), now=NOW) == []  # what was kept stays kept
    assert await store.prune(Retention(), now=NOW + timedelta(minutes=30)) == []


async def test_prune_size_cap_drops_oldest_non_manual_first_and_never_the_newest(
    store: Store,
) -> None:
    ids = []
    for i in range(5):
        snap = make_snapshot(
            i, created_at=NOW - timedelta(minutes=10 - i), trigger="manual" if i == 0 else "auto"
        )
        ids.append(await store.save_snapshot(snap))
    one = 2000 + len(b"AIST head 0")
    total = (await store.stats()).stored_bytes
    assert total == sum(map(len, SHARED)) + 5 * one
    removed = await store.prune(Retention(max_bytes=total - one - 1), now=NOW)
    assert removed == [ids[1], ids[2]]  # the manual ids[0] is older but stays
    assert (await store.stats()).stored_bytes <= total - one - 1
    removed = await store.prune(Retention(max_bytes=0), now=NOW)
    assert removed == [ids[0], ids[3]]  # manual ones go last; the newest never
    assert [s.id for s in await store.list_snapshots()] == [ids[4]]
    newest = make_snapshot(4, created_at=NOW - timedelta(minutes=6))
    assert await store.get_snapshot(ids[4]) == expected(newest, ids[4])


# -- recordings ------------------------------------------------------------------------------


async def test_recording_blocks_append_list_and_trim_oldest_first(store: Store) -> None:
    def block(i: int) -> RecordingBlock:
        return RecordingBlock(float(i), i + 0.5, 100 * i, 80, 24, bytes([i]) * 100)

    for i in range(5):
        await store.append_recording("a", block(i))
    await store.append_recording("b", block(9))
    assert await store.recording("a") == [block(i) for i in range(5)]
    assert await store.trim_recording("a", 250) == 300
    assert await store.recording("a") == [block(3), block(4)]
    assert await store.trim_recording("a", 250) == 0
    assert await store.recording("b") == [block(9)]
    stats = await store.stats()
    assert (stats.recording_blocks, stats.recording_bytes) == (3, 300)
    assert await store.delete_recording("a") == 200
    assert await store.recording("a") == []


# -- sessions and crashes --------------------------------------------------------------------


def record(
    session: str, instance: str, *, status: str = "running", closed: bool = False
) -> SessionRecord:
    return SessionRecord(
        session_id=session,
        name=f"name-{session}",
        instance=instance,
        config={"shell_command": "bash"},
        status=status,
        created_at=NOW,
        updated_at=NOW + timedelta(seconds=1),
        window=0,
        closed=closed,
    )


RECORDER = """
import asyncio, sys
from pathlib import Path
from engine.store import Store
from test_store import record

async def main():
    store = await Store.open(Path(sys.argv[1]))
    await store.record_session(record(sys.argv[2], sys.argv[3], closed=sys.argv[4] == "closed"))
    if sys.argv[4] == "clean":
        await store.mark_clean_exit(sys.argv[3])
    await store.close()

asyncio.run(main())
"""


async def test_sessions_upsert_and_list(store: Store) -> None:
    await store.record_session(record("s1", "run-1"))
    await store.record_session(record("s2", "run-1"))
    await store.record_session(record("s1", "run-1", status="exited(0)", closed=True))
    assert [(r.session_id, r.status, r.closed) for r in await store.sessions()] == [
        ("s1", "exited(0)", True),
        ("s2", "running", False),
    ]
    assert await store.sessions(open_only=True) == [record("s2", "run-1")]
    assert await store.sessions(instance="run-2") == []


async def test_unclean_instances_are_the_ended_runs_without_a_clean_exit(
    store: Store,
) -> None:
    path = str(store.path)
    for session, instance, how in [
        ("c1", "crashed", "crash"),
        ("q1", "quit", "clean"),
        ("d1", "all-closed", "closed"),
    ]:
        assert await run_python(RECORDER, path, session, instance, how) == (0, "")
    await store.record_session(record("l1", "this-run"))  # still running: this process
    assert await store.unclean_instances() == ["crashed"]
    assert [r.session_id for r in await store.sessions(open_only=True, instance="crashed")] == [
        "c1"
    ]
    await store.mark_clean_exit("crashed")  # the user declined the restore
    assert await store.unclean_instances() == []


async def test_connections_switching_a_new_file_to_wal_at_once_all_succeed(
    tmp_path: Path,
) -> None:
    # Connections switching a new file to WAL together make SQLite answer "locked" at once
    # (no busy wait: it would deadlock); CI once lost a process opening the store to it.
    for round_ in range(30):
        path = tmp_path / f"{round_}.db"
        path.touch()
        dbs = [await aiosqlite.connect(path, isolation_level=None) for _ in range(4)]
        try:
            for db in dbs:
                await db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            rows = await asyncio.gather(*(_wal(db) for db in dbs))
        finally:
            for db in dbs:
                await db.close()
        assert [tuple(row) for row in rows if row is not None] == [("wal",)] * 4
