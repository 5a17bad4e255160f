"""The instance's event stream: every event type, from real programs on real PTYs."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path

import pytest

from engine import Session, SessionConfig, SessionManager
from engine.events import Event, EventLog
from tests.conftest import bash_config, wait_for_screen, wait_until

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def of(manager: SessionManager, type: str, session: Session | None = None) -> list[Event]:
    """The events of one type so far (about `session` if given)."""
    events, dropped = manager.events.since(0)
    assert dropped == 0
    return [e for e in events if e.type == type and (session is None or e.session_id == session.id)]


async def started(manager: SessionManager, **kwargs: object) -> Session:
    session = await manager.create_session_with_config(bash_config(**kwargs))
    await session.start()
    await wait_for_screen(session, "$ ")
    return session


# -- the log itself ---------------------------------------------------------------------------


def test_since_returns_what_is_after_a_sequence_number_and_counts_what_was_dropped() -> None:
    log = EventLog(keep=5)
    assert log.last_seq == 0 and log.since(0) == ([], 0)
    for i in range(8):
        log.emit("activity", bytes=i)
    assert log.last_seq == 8
    events, dropped = log.since(0)
    assert [e.seq for e in events] == [4, 5, 6, 7, 8] and dropped == 3
    events, dropped = log.since(2)
    assert [e.seq for e in events] == [4, 5, 6, 7, 8] and dropped == 1
    events, dropped = log.since(6)
    assert [e.seq for e in events] == [7, 8] and dropped == 0
    assert log.since(8) == ([], 0) and log.since(100) == ([], 0)
    assert log.since(-1) == log.since(0)  # nothing before seq 1 was ever dropped
    assert events[-1].to_json() == {
        "seq": 8,
        "type": "activity",
        "time": events[-1].time,
        "session": None,
        "session_id": None,
        "bytes": 7,
    }
    assert ISO_Z.match(events[-1].time)


def test_a_failing_event_subscriber_does_not_stop_the_others() -> None:
    log = EventLog()
    seen: list[int] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    log.subscribe(broken)
    unsubscribe = log.subscribe(lambda e: seen.append(e.seq))
    log.emit("closed")
    log.emit("closed")
    unsubscribe()
    log.emit("closed")
    assert seen == [1, 2] and log.last_seq == 3


async def test_wait_is_a_long_poll() -> None:
    log = EventLog()
    assert await log.wait(0, 0.05) == ([], 0)
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, lambda: log.emit("renamed", old_name="a"))
    events, dropped = await log.wait(0, 10)
    assert [e.type for e in events] == ["renamed"] and dropped == 0


# -- sessions' events -------------------------------------------------------------------------


async def test_created_exit_and_closed_with_sequence_numbers_in_order(
    manager: SessionManager,
) -> None:
    session = await started(manager, name="job")
    (created,) = of(manager, "created", session)
    assert created.session == "job" and created.data["pid"] == session.pid
    assert created.data["command"] == session.command
    assert (created.data["columns"], created.data["lines"]) == (80, 24)
    await session.send_input("exit 3\r")
    assert await session.wait() == 3
    (exit_event,) = of(manager, "exit", session)
    assert exit_event.data["exit_code"] == 3 and exit_event.data["signal"] is None
    assert ISO_Z.match(exit_event.data["exited_at"])
    assert session.exited_at is not None and session.status.signal is None
    await manager.remove_session("job")
    (closed,) = of(manager, "closed", session)
    events, _ = manager.events.since(0)
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
    assert created.seq < exit_event.seq < closed.seq


async def test_exit_by_signal_names_the_signal(manager: SessionManager) -> None:
    session = await started(manager)
    await session.send_input("kill -KILL $$\r")
    assert await session.wait() == -9
    (event,) = of(manager, "exit", session)
    assert event.data["exit_code"] == -9 and event.data["signal"] == "SIGKILL"
    assert session.status.signal == "SIGKILL"


async def test_silence_once_per_quiet_spell(manager: SessionManager) -> None:
    session = await started(manager, monitor_silence=0.3)
    await wait_until(lambda: len(of(manager, "silence", session)) >= 1, what="a first silence")
    assert of(manager, "silence", session)[0].data == {"seconds": 0.3}
    typed = manager.events.last_seq
    marks: list[int] = []  # the last event number when "done" arrives
    session.subscribe(
        lambda e: (
            marks.append(manager.events.last_seq) if b"done" in getattr(e, "data", b"") else None
        )
    )
    # 1.2 s without output (four times the setting) is one quiet spell: one event, not four.
    await session.send_input("sleep 1.2; echo do''ne\r")
    await wait_until(lambda: marks, what="done")
    during = [e for e in of(manager, "silence", session) if typed < e.seq <= marks[0]]
    assert len(during) == 1
    await wait_until(
        lambda: any(e.seq > marks[0] for e in of(manager, "silence", session)),
        what="silence again after the output",
    )
    await session.send_input("exit\r")
    await session.wait()
    assert session._silence_timer is None  # no timer outlives the program


async def test_silence_is_off_by_default(manager: SessionManager) -> None:
    session = await started(manager)
    assert session._silence_timer is None
    await session.send_input("exit\r")
    await session.wait()
    assert of(manager, "silence") == []


async def test_activity_is_throttled_and_counts_every_byte(manager: SessionManager) -> None:
    script = "for i in $(seq 30); do echo $i; sleep 0.05; done"
    session = await manager.create_session_with_config(
        SessionConfig(shell_command=["bash", "-c", script])
    )
    loop = asyncio.get_running_loop()
    times: list[float] = []
    manager.events.subscribe(lambda e: times.append(loop.time()) if e.type == "activity" else None)
    await session.start()
    assert await session.wait() == 0
    activity = of(manager, "activity", session)
    assert sum(e.data["bytes"] for e in activity) == session.output_offset
    # ~1.5 s of output in 30 pieces: a few events, each at least a second after the last
    # (but the last: what came since is reported at the exit, so every byte is counted).
    assert 2 <= len(activity) < 30
    throttled = times[:-1]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(throttled))
    (exit_event,) = of(manager, "exit", session)
    assert activity[-1].seq == exit_event.seq - 1


async def test_title_from_osc_2(manager: SessionManager) -> None:
    session = await started(manager)
    await session.send_input("printf '\\033]2;building lib\\007'\r")
    await wait_until(lambda: of(manager, "title", session), what="a title event")
    assert of(manager, "title", session)[-1].data == {"title": "building lib"}
    before = len(of(manager, "title", session))
    await session.send_input("echo same-''title\r")
    await wait_for_screen(session, "same-title")
    assert len(of(manager, "title", session)) == before  # only changes are reported


async def test_cwd_from_osc_7_printed_by_prompt_command(
    manager: SessionManager, tmp_path: Path
) -> None:
    prompt_command = 'printf "\\033]7;file://localhost%s\\007" "$PWD"'
    session = await started(manager, environment={"PROMPT_COMMAND": prompt_command})
    (tmp_path / "sub dir").mkdir()
    await session.send_input(f"cd '{tmp_path}/sub dir'\r")
    target = str(tmp_path / "sub dir")
    await wait_until(
        lambda: any(e.data["cwd"] == target for e in of(manager, "cwd", session)),
        what=lambda: f"cwd {target}: {of(manager, 'cwd', session)}",
    )


@pytest.mark.parametrize("program", ["bash", "sh"])
async def test_cd_is_a_cwd_event_at_the_next_prompt(
    manager: SessionManager, tmp_path: Path, program: str
) -> None:
    """The shell integration reports the directory with each prompt (OSC 7): an orchestrator
    hears of `cd` without polling, in bash and in dash."""
    config = bash_config() if program == "bash" else SessionConfig(shell_command=["/bin/sh"])
    config.environment.update(PS1="$ ")
    session = await manager.create_session_with_config(config)
    await session.start()
    await wait_for_screen(session, "$ ")
    (tmp_path / "sub dir").mkdir()
    target = str(tmp_path / "sub dir")
    await session.send_input(f"cd '{target}'\r")
    await wait_until(
        lambda: any(e.data["cwd"] == target for e in of(manager, "cwd", session)),
        what=lambda: f"cwd {target}: {of(manager, 'cwd', session)}",
    )


async def test_resize_rename_and_metadata(manager: SessionManager) -> None:
    session = await started(manager, name="old")
    session.set_size(columns=100, lines=30)
    session.set_size(columns=100, lines=30)  # no change, no event
    assert [e.data for e in of(manager, "resize", session)] == [{"columns": 100, "lines": 30}]
    manager.rename_session(session.id, "new")
    (renamed,) = of(manager, "renamed", session)
    assert renamed.session == "new" and renamed.data == {"old_name": "old"}
    session.set_metadata("role", "builder")
    session.update_metadata({"task": "lint", "role": None})
    assert [e.data for e in of(manager, "metadata", session)] == [
        {"metadata": {"role": "builder"}},
        {"metadata": {"task": "lint"}},
    ]
    assert session.metadata == {"task": "lint"}


async def test_nothing_is_reported_about_a_session_after_closed(manager: SessionManager) -> None:
    session = await started(manager)
    await manager.remove_session(session.id)
    session.set_size(columns=100, lines=30)  # a caller still holding the removed session
    session.set_metadata("role", "late")
    events = [e.type for e in of(manager, "closed", None)]
    assert events == ["closed"]
    mine = [e.type for e in manager.events.since(0)[0] if e.session_id == session.id]
    assert mine[-1] == "closed"
    assert [t for t in mine if t != "agent"][-2:] == ["exit", "closed"]  # agent: it exited


async def test_a_failing_event_subscriber_does_not_stop_the_session(
    manager: SessionManager,
) -> None:
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    manager.events.subscribe(broken)
    manager.events.subscribe(lambda e: seen.append(e.type))
    session = await started(manager)
    await session.send_input("echo still-''flowing\r")
    await wait_for_screen(session, "still-flowing")
    await session.send_input("exit 0\r")
    assert await session.wait() == 0
    assert "created" in seen and "exit" in seen


async def test_sessions_made_outside_a_manager_have_no_event_log() -> None:
    session = Session(bash_config())
    assert session.events is None
    await session.start()
    await wait_for_screen(session, "$ ")
    await session.send_input("exit 0\r")
    assert await session.wait() == 0


@pytest.mark.parametrize("keep", [0, -1])
def test_an_event_log_keeps_at_least_one_event(keep: int) -> None:
    with pytest.raises(ValueError):
        EventLog(keep=keep)


def test_the_log_is_bounded_in_bytes_as_well_as_in_events() -> None:
    """Big events (60 KB of metadata each) are kept within max_bytes, and the ones let go are
    counted as dropped like any other."""
    log = EventLog(keep=10_000, max_bytes=1_000_000)
    big = {"blob": "x" * 60_000}
    for _ in range(100):
        log.emit("metadata", metadata=big)
    kept, dropped = log.since(0)
    assert 10 <= len(kept) <= 17 and dropped == 100 - len(kept)
    assert [e.seq for e in kept] == list(range(101 - len(kept), 101))
    log.emit("activity", bytes=1)  # small ones still go in
    assert log.since(100)[0][0].type == "activity"


def test_an_events_own_fields_never_hide_its_type() -> None:
    """A message's or a decision's own kind is `message_type`/`decision_type`; even a field
    named like the envelope's cannot change what type a reader switches on."""
    log = EventLog()
    event = log.emit("message", None, id=1, message_type="question", type="spoof", seq=99)
    assert event.to_json()["type"] == "message" and event.to_json()["seq"] == event.seq
    assert event.to_json()["message_type"] == "question"
