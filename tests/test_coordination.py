"""The agents' bus, tasks by capability, and the hub that reports and keeps them: as agents
use them, with real sessions and a real SQLite file where they matter."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
from conftest import bash_config, wait_until

from engine import SessionManager
from engine.coordination import (
    MAX_PAYLOAD,
    AgentMessage,
    MessageBus,
    MessagePriority,
    MessageType,
    MultiAgentSession,
    Task,
    TaskDistributor,
    TaskStatus,
)
from engine.errors import CoordinationError
from engine.observability import DecisionType
from engine.snapshots import Snapshotter
from engine.store import Store


def _bus(*agents: str, **options: int) -> MessageBus:
    bus = MessageBus(**options)
    for agent in agents:
        bus.register(agent)
    return bus


# -- the bus -------------------------------------------------------------------------------------


def test_a_direct_message_lands_in_one_inbox_only() -> None:
    bus = _bus("alice", "bob", "carol")
    sent = bus.send("alice", "bob", {"files": ["a.rs"]}, "data_share", "high")
    assert (sent.sender, sent.recipient, sent.type, sent.priority) == (
        "alice",
        "bob",
        MessageType.DATA_SHARE,
        MessagePriority.HIGH,
    )
    assert bus.pending("carol") == 0 and bus.pending("alice") == 0
    assert bus.receive_nowait("bob") == [sent]
    assert bus.receive_nowait("bob") == []


def test_an_unknown_recipient_is_a_clear_error_naming_who_is_there() -> None:
    bus = _bus("alice", "bob")
    with pytest.raises(CoordinationError, match=r"no agent named 'bobby'.*alice, bob") as caught:
        bus.send("alice", "bobby", "hi")
    assert caught.value.code == CoordinationError.NOT_FOUND
    assert bus.sent == 0


def test_a_broadcast_reaches_everyone_but_its_sender() -> None:
    bus = _bus("alice", "bob", "carol")
    sent = bus.broadcast("alice", "build is green")
    assert sent.recipient is None and sent.type == MessageType.BROADCAST
    assert bus.receive_nowait("bob") == [sent] and bus.receive_nowait("carol") == [sent]
    assert bus.receive_nowait("alice") == []


def test_ids_only_grow() -> None:
    bus = _bus("a", "b")
    ids = [bus.send("a", "b", i).id for i in range(5)] + [bus.broadcast("a", "x").id]
    assert ids == sorted(ids) and len(set(ids)) == 6


def test_an_inbox_hands_out_the_most_urgent_first_oldest_first_within() -> None:
    bus = _bus("a", "b")
    low = bus.send("a", "b", "low", priority="low")
    first = bus.send("a", "b", "n1")
    critical = bus.send("a", "b", "c", priority=3)
    second = bus.send("a", "b", "n2", priority="NORMAL")
    assert bus.receive_nowait("b", limit=2) == [critical, first]
    assert bus.receive_nowait("b") == [second, low]


def test_a_full_inbox_drops_the_oldest_lowest_priority_message_and_counts_it() -> None:
    bus = _bus("a", "b", inbox_size=3)
    low = bus.send("a", "b", "low", priority="low")
    normal = bus.send("a", "b", "normal")
    high = bus.send("a", "b", "high", priority="high")
    newer = bus.send("a", "b", "normal again")  # full: the LOW one goes
    assert bus.dropped("b") == 1
    late_low = bus.send("a", "b", "late low", priority="low")  # outranked by all: it goes
    assert bus.dropped("b") == 2 and bus.pending("b") == 3
    newest = bus.send("a", "b", "urgent", priority="critical")  # the oldest NORMAL goes
    assert bus.dropped("b") == 3
    assert bus.receive_nowait("b") == [newest, high, newer]
    assert low in bus.history() and normal in bus.history()  # history keeps what was sent
    assert late_low in bus.history()
    assert bus.stats()["dropped"] == 3
    assert bus.stats()["agents"]["b"] == {"pending": 0, "bytes": 0, "dropped": 3, "received": 3}


def test_the_bus_holds_at_most_its_byte_budgets_and_counts_what_went() -> None:
    bus = _bus("a", "b", inbox_bytes=2_500, history_bytes=5_000)
    kb = "x" * 998  # 1,000 bytes as JSON
    sent = [bus.send("a", "b", kb) for _ in range(4)]
    assert sent[0].size == 1_000  # measured once, at the size check, and kept
    # the inbox holds two of them (2,500 bytes), dropping the oldest as a count cap does
    assert bus.pending("b") == 2 and bus.dropped("b") == 2
    stats = bus.stats()
    assert stats["agents"]["b"]["bytes"] == 2_000 and stats["dropped"] == 2
    more = [bus.send("a", "b", kb) for _ in range(4)]
    # the history keeps the newest five (5,000 bytes) of the eight sent, and counts the rest
    assert bus.history() == [*sent[3:], *more]
    assert (bus.stats()["history_bytes"], bus.history_dropped) == (5_000, 3)
    # an urgent message pushes out what it needs, not more
    urgent = bus.send("a", "b", "y" * 1_498, priority="critical")
    assert bus.receive_nowait("b") == [urgent, more[-1]]
    assert bus.stats()["agents"]["b"]["bytes"] == 0
    # a payload bigger than the inbox's whole budget is dropped, the queue kept
    bus.send("a", "b", "z" * 2_600)
    assert bus.pending("b") == 0 and bus.dropped("b") == 2 + 4 + 1 + 1
    # read back from the store: the history stays within its budget (and counts nothing)
    dropped = bus.history_dropped
    bus.remember([replace_id(m, m.id + 100) for m in more])
    assert bus.stats()["history_bytes"] <= 5_000 and bus.history_dropped == dropped


def test_a_monitor_holds_at_most_its_byte_budget() -> None:
    bus = _bus("a", "b")
    monitor = bus.subscribe_all(maxbytes=2_500)
    sent = [bus.send("a", "b", "x" * 998) for _ in range(3)]
    assert monitor.dropped == 1 and monitor.get_nowait() == sent[1:]


def replace_id(message: AgentMessage, new: int) -> AgentMessage:
    return AgentMessage(
        new,
        message.sender,
        message.recipient,
        message.type,
        message.priority,
        message.payload,
        message.time,
    )


def test_a_preview_is_made_once_from_a_prefix_of_the_payload() -> None:
    bus = _bus("a", "b")
    text = bus.send("a", "b", "first  line\n\tsecond " + "w " * 500_000)
    assert text.summary == ("first line second " + "w " * 40)[:79] + "…"
    assert text.preview() is text.summary  # not worked out again per call
    value = bus.send("a", "b", {"k": "é", "n": [1, 2]})
    assert value.summary == '{"k":"é","n":[1,2]}' and value.size == len(value.summary.encode())
    assert value.preview(8) == '{"k":"é…'
    # made when a message is built from stored values too (the hub's read-back)
    again = replace_id(value, 99)
    assert again.summary == value.summary and again.size == value.size


async def test_a_reader_waits_for_its_first_message() -> None:
    bus = _bus("a", "b")
    reading = asyncio.create_task(bus.receive("b", timeout=10))
    await asyncio.sleep(0)  # it waits now
    assert not reading.done()
    sent = bus.send("a", "b", "wake up")
    assert await reading == [sent]
    assert await bus.receive("b", timeout=0.01) == []


async def test_a_reader_of_an_agent_that_leaves_gets_nothing() -> None:
    bus = _bus("a", "b")
    reading = asyncio.create_task(bus.receive("b", timeout=10))
    await asyncio.sleep(0)
    bus.unregister("b")
    assert await reading == []
    with pytest.raises(CoordinationError):
        bus.pending("b")


async def test_a_monitor_sees_everything_bounded() -> None:
    bus = _bus("a", "b", "c")
    monitor = bus.subscribe_all(maxsize=2)
    bus.send("a", "b", 1)
    two = bus.send("b", "c", 2)
    three = bus.broadcast("c", 3)
    assert monitor.dropped == 1
    assert monitor.get_nowait() == [two, three]
    seen = []

    async def watch() -> None:
        async for message in monitor:
            seen.append(message.payload)

    watching = asyncio.create_task(watch())
    bus.send("a", "c", 4)
    await wait_until(lambda: seen == [4])
    monitor.close()
    await asyncio.wait_for(watching, 5)
    bus.send("a", "c", 5)
    assert seen == [4]


def test_payloads_are_json_values_of_at_most_a_megabyte() -> None:
    bus = _bus("a", "b")
    bus.send("a", "b", "x" * 100_000)
    bus.send("a", "b", {"nested": [1, 2.5, None, True, "é"]})
    with pytest.raises(CoordinationError, match="limit is 1,048,576") as caught:
        bus.send("a", "b", "x" * (MAX_PAYLOAD + 1))
    assert caught.value.code == CoordinationError.TOO_LARGE
    with pytest.raises(CoordinationError, match="JSON") as caught:
        bus.send("a", "b", {"when": object()})
    assert caught.value.code == CoordinationError.INVALID
    with pytest.raises(CoordinationError, match="JSON"):
        bus.broadcast("a", float("nan"))
    assert bus.pending("b") == 2 and bus.sent == 2


def test_types_and_priorities_read_in_any_spelling() -> None:
    for spelling in ("TaskRequest", "task-request", "TASK_REQUEST", "task_request"):
        assert MessageType.parse(spelling) == MessageType.TASK_REQUEST
    assert MessagePriority.parse("High") == MessagePriority.HIGH
    assert MessagePriority.parse("3") == MessagePriority.CRITICAL
    assert MessagePriority.parse("medium") == MessagePriority.NORMAL
    with pytest.raises(CoordinationError, match="task_request, task_assignment"):
        MessageType.parse("gossip")
    with pytest.raises(CoordinationError, match="low \\(0\\)"):
        MessagePriority.parse(7)


async def test_a_multi_agent_session_starts_its_agents_and_carries_their_messages() -> None:
    async with SessionManager() as manager:
        team = MultiAgentSession()
        for name in ("front", "back"):
            session = await manager.create_session_with_config(bash_config(name=name))
            team.register_agent(name, session)
        await team.start_all()
        assert all(s.status.is_running for s in team.agents.values())
        sent = team.send_message("front", "back", {"component": "Header"})
        note = team.broadcast("back", "ready")
        assert await team.receive("back", timeout=1) == [sent]
        assert await team.receive("front", timeout=1) == [note]
        with pytest.raises(CoordinationError, match="registered already"):
            team.register_agent("front", team.agents["back"])
        with pytest.raises(CoordinationError, match="no agent named 'ghost'"):
            team.send_message("ghost", "back", "boo")
        assert team.unregister_agent("back").name == "back"
        with pytest.raises(CoordinationError):
            team.send_message("front", "back", "gone?")


# -- tasks ---------------------------------------------------------------------------------------


def _team() -> TaskDistributor:
    tasks = TaskDistributor()
    tasks.register_capabilities("frontend", ["React", "typescript", "css"])
    tasks.register_capabilities("backend", ["rust", "api", "database"])
    tasks.register_capabilities("fullstack", ["rust", "api", "react", "typescript"])
    return tasks


def test_a_task_goes_only_to_an_agent_with_all_its_capabilities() -> None:
    tasks = _team()
    form = tasks.submit_task(Task("registration form", ("react", "css")))
    auth = tasks.submit_task(Task("auth endpoints", ("rust", "api", "database")))
    result = tasks.distribute_tasks()
    assert {a.task.description: a.agent for a in result.assigned} == {
        "registration form": "frontend",  # fullstack has react, not css
        "auth endpoints": "backend",
    }
    assert result.unassigned == []
    assert form.status == TaskStatus.ASSIGNED and auth.agent == "backend"


def test_higher_priority_first_then_the_least_loaded_agent() -> None:
    tasks = _team()
    low = tasks.submit_task(Task("refactor", ("rust",), "low", 60))
    urgent = tasks.submit_task(Task("hotfix", ("rust", "api"), "critical", 30))
    high = tasks.submit_task(Task("endpoint", ("rust", "api"), "high", 30))
    result = tasks.distribute_tasks()
    assert [a.task for a in result.assigned] == [urgent, high, low]
    # backend registered first takes the hotfix; fullstack is then less loaded; the refactor
    # goes to whoever of the two has less effort (equal counts, equal effort: backend first)
    assert [a.agent for a in result.assigned] == ["backend", "fullstack", "backend"]
    assert tasks.load("backend") == (2, 90.0)
    assert tasks.load("fullstack") == (1, 30.0)


def test_tasks_no_agent_can_take_come_back_with_the_reason() -> None:
    empty = TaskDistributor()
    lonely = empty.submit_task(Task("anything"))
    [nobody] = empty.distribute_tasks().unassigned
    assert nobody.task is lonely and nobody.reason.startswith("no agents")
    tasks = _team()
    gpu = tasks.submit_task(Task("train", ("cuda", "rust")))
    mixed = tasks.submit_task(Task("everything", ("css", "database")))
    result = tasks.distribute_tasks()
    reasons = {u.task.description: u.reason for u in result.unassigned}
    assert reasons == {
        "train": "missing capability cuda: no agent has it",
        "everything": "no single agent has all of css, database",
    }
    assert gpu.status == mixed.status == TaskStatus.PENDING


def test_every_assignment_is_a_decision_whose_outcome_is_the_tasks() -> None:
    tasks = _team()
    task = tasks.submit_task(Task("endpoint", ("rust", "api")))
    [assignment] = tasks.distribute_tasks().assigned
    decision = assignment.decision
    assert decision.type == DecisionType.TASK_ASSIGNMENT
    assert decision.options == ("backend", "fullstack") and decision.selected == "backend"
    assert "least loaded of 2 capable agents" in decision.rationale
    assert task.decision_id == decision.id
    with pytest.raises(CoordinationError, match="is backend's, not frontend's"):
        tasks.complete(task.id, agent="frontend")
    tasks.complete(task.id, success=False, note="tests fail", agent="backend")
    assert task.status == TaskStatus.FAILED and task.note == "tests fail"
    assert tasks.decisions.get(decision.id).outcome == "failure"
    with pytest.raises(CoordinationError, match="is failed, not assigned"):
        tasks.complete(task.id)


def test_an_agent_takes_the_best_task_it_can_do() -> None:
    tasks = _team()
    tasks.submit_task(Task("styling", ("css",), "critical"))
    ok = tasks.submit_task(Task("query", ("database",), "low"))
    best = tasks.submit_task(Task("endpoint", ("api",), "high"))
    assert tasks.take("backend") is best
    assert tasks.take("backend") is ok
    assert tasks.take("backend") is None  # styling needs css
    decision = tasks.decisions.get(best.decision_id or 0)
    assert decision.selected == "backend" and decision.agent == "backend"


def test_taking_a_named_task_needs_its_capabilities_and_a_free_task() -> None:
    tasks = _team()
    task = tasks.submit_task(Task("styling", ("css",)))
    with pytest.raises(CoordinationError, match="backend lacks css") as caught:
        tasks.take("backend", task.id)
    assert caught.value.code == CoordinationError.CONFLICT
    assert tasks.take("frontend", task.id) is task
    with pytest.raises(CoordinationError, match="is assigned \\(frontend\\)"):
        tasks.take("fullstack", task.id)
    with pytest.raises(CoordinationError, match="no task 99"):
        tasks.take("frontend", 99)
    anyone = tasks.submit_task(Task("read the docs"))
    assert tasks.take("someone new", anyone.id) is anyone  # no requirements: anyone may


def test_a_task_needs_a_description_and_a_sane_effort() -> None:
    with pytest.raises(CoordinationError, match="description"):
        Task("  ")
    with pytest.raises(CoordinationError, match="minutes >= 0"):
        Task("x", estimated_effort=-1)
    with pytest.raises(CoordinationError, match="MessagePriority"):
        Task("x", priority="whenever")  # type: ignore[arg-type]
    assert Task("x", (" Rust", "rust", "API ")).requirements == ("rust", "api")


# -- the hub: sessions are agents, records are events and rows -----------------------------------


async def test_sessions_are_the_hubs_agents_as_they_start_rename_and_close() -> None:
    async with SessionManager() as manager:
        hub = manager.hub
        alice = await manager.create_session_with_config(bash_config(name="alice"))
        bob = await manager.create_session_with_config(bash_config(name="bob"))
        assert hub.bus.agents == []  # not started yet
        await alice.start()
        await bob.start()
        assert hub.bus.agents == ["alice", "bob"]
        hub.tasks.register_capabilities("bob", ["rust"])
        task = hub.tasks.submit_task(Task("port it", ("rust",)))
        hub.tasks.distribute_tasks()
        hub.bus.send("alice", "bob", "kept across the rename")
        manager.rename_session("bob", "robert")
        assert hub.bus.agents == ["alice", "robert"]
        assert [m.payload for m in hub.bus.receive_nowait("robert")] == ["kept across the rename"]
        assert hub.tasks.capabilities("robert") == {"robert": ("rust",)}
        assert hub.tasks.complete(task.id, agent="robert").status == TaskStatus.DONE
        await manager.remove_session("robert")
        assert hub.bus.agents == ["alice"]
        assert hub.tasks.capabilities() == {}


async def test_every_record_is_an_event_naming_its_session() -> None:
    async with SessionManager() as manager:
        hub = manager.hub
        alice = await manager.create_session_with_config(bash_config(name="alice"))
        await alice.start()
        hub.ensure_agent("bob")
        seen = []
        manager.events.subscribe(seen.append)
        hub.bus.send("alice", "bob", "x" * 500, "question")
        hub.decisions.track("approach", ["a", "b"], "b", 0.6, "why", agent="alice")
        span = hub.tracer.start_span("build", agent="alice")
        hub.tracer.end_span(span.span_id, "error")
        hub.record_tokens("alice", 10, 5)
        hub.record_tokens("alice", 1, 1, "m")
        types = [e.type for e in seen]
        assert types == ["message", "decision", "trace", "trace", "tokens", "tokens"]
        assert all(e.session == "alice" and e.session_id == alice.id for e in seen)
        message = seen[0].data
        assert message["from"] == "alice" and message["to"] == "bob"
        assert message["message_type"] == "question" and message["priority"] == "normal"
        assert len(message["preview"]) == 80 and message["preview"].endswith("…")
        assert seen[1].data["selected"] == "b" and seen[1].data["outcome"] is None
        assert [e.data["phase"] for e in seen[2:4]] == ["start", "end"]
        assert seen[3].data["status"] == "error"
        assert seen[5].data == {
            "agent": "alice",
            "input": 1,
            "output": 1,
            "model": "m",
            "total_input": 11,
            "total_output": 6,
        }
        assert [m.payload[:1] for m in hub.messages("bob")] == ["x"]


async def test_the_hubs_records_are_kept_in_sqlite_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    store = await Store.open(path)
    first = SessionManager()
    hub = first.hub
    hub.attach(store, "first")
    for agent in ("alice", "bob"):
        hub.ensure_agent(agent)
    hub.bus.send("alice", "bob", {"diff": "+1"}, "data_share", "high", reply_to=None)
    hub.bus.broadcast("bob", "done")
    hub.tasks.register_capabilities("bob", ["rust"])
    done = hub.tasks.submit_task(Task("build", ("rust",), "high", 15, {"repo": "x"}))
    pending = hub.tasks.submit_task(Task("deploy", ("ops",)))
    hub.tasks.distribute_tasks()
    hub.tasks.complete(done.id, True, "green", "bob")
    chosen = hub.decisions.track("approach", ["a", "b"], "a", 0.9, "fast", {"k": 1}, "alice")
    hub.decisions.record_outcome(chosen.id, False, "slow after all")
    root = hub.tracer.start_span("review", {"file": "a.rs"}, agent="alice")
    hub.tracer.start_span("lint", parent=root.span_id)
    hub.tracer.end_span(root.span_id)
    hub.record_tokens("alice", 100, 20, "m1")
    await hub.detach()
    await store.close()

    rows = sqlite3.connect(path).execute("SELECT count(*) FROM agent_messages").fetchone()
    assert rows == (2,)
    store = await Store.open(path)
    second = SessionManager()
    second.hub.attach(store, "second")
    await second.hub.load()
    again = second.hub
    assert [(m.sender, m.recipient, m.payload) for m in again.messages()] == [
        ("alice", "bob", {"diff": "+1"}),
        ("bob", None, "done"),
    ]
    assert again.messages()[0].priority == MessagePriority.HIGH
    task = again.tasks.get(done.id)
    assert (task.status, task.agent, task.note, task.metadata) == (
        "done",
        "bob",
        "green",
        {"repo": "x"},
    )
    assert again.tasks.get(pending.id).status == TaskStatus.PENDING
    decision = again.decisions.get(chosen.id)
    assert (decision.outcome, decision.note, decision.context) == (
        "failure",
        "slow after all",
        {"k": 1},
    )
    assert decision.options == ("a", "b") and decision.confidence == 0.9
    [tree] = again.tracer.get_traces()
    assert (tree.span.name, tree.span.status, tree.span.metadata) == (
        "review",
        "ok",
        {"file": "a.rs"},
    )
    assert [c.span.name for c in tree.children] == ["lint"]
    usage = again.token_usage("alice")
    assert (usage.input, usage.output, usage.model) == (100, 20, "m1")
    # new records go on after the old ids, and a restored record is updated in its own row
    again.ensure_agent("bob")
    assert again.bus.send("alice", "bob", "new").id > 2
    assert again.decisions.track("generic", ["x"], "x", 1.0).id > chosen.id
    again.tasks.register_capabilities("carol", ["ops"])
    again.tasks.distribute_tasks()
    await again.detach()
    await store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM tasks").fetchone() == (2,)
    assert db.execute(
        "SELECT instance, status, agent FROM tasks WHERE task_id = ?", (pending.id,)
    ).fetchone() == ("first", "assigned", "carol")


async def test_a_failing_store_is_logged_and_loses_nothing_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(tmp_path / "gone.db")
    manager = SessionManager()
    hub = manager.hub
    hub.attach(store, "x")
    hub.ensure_agent("a")
    hub.ensure_agent("b")
    await store.close()  # every write fails from now on
    with caplog.at_level(logging.WARNING, "engine.hub"):
        sent = hub.bus.send("a", "b", "still here")
        hub.decisions.track("generic", ["x"], "x", 0.5)
        await hub.flush()
    assert "agent records not kept" in caplog.text
    assert hub.unsaved == 2
    assert hub.bus.receive_nowait("b") == [sent] and len(hub.decisions) == 1


async def test_a_snapshotter_keeps_the_hubs_records_in_its_store(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "snap.db")
    manager = SessionManager()
    snapshots = Snapshotter(manager, store, instance="app")
    assert manager.hub.store is store
    manager.hub.ensure_agent("a")
    manager.hub.decisions.track("generic", ["x", "y"], "y", 0.7, agent="a")
    await snapshots.close(final=False)  # writes what waits, then closes the store
    assert manager.hub.store is None
    db = sqlite3.connect(tmp_path / "snap.db")
    assert db.execute("SELECT instance, answer, confidence FROM decisions").fetchall() == [
        ("app", "y", 0.7)
    ]


async def test_a_restarted_instance_shows_the_recent_records_again(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    before = SessionManager()
    snapshots = Snapshotter(before, await Store.open(path), instance="before")
    before.hub.ensure_agent("a")
    before.hub.ensure_agent("b")
    before.hub.bus.send("a", "b", "remember me")
    before.hub.decisions.track("approach", ["x", "y"], "x", 0.8, agent="a")
    await snapshots.close(final=False)

    after = SessionManager()
    snapshots = Snapshotter(after, await Store.open(path), instance="after")
    snapshots.start()  # reads the hub's recent records back
    try:
        await wait_until(lambda: len(after.hub.decisions) == 1, what="the decision read back")
        assert [m.payload for m in after.hub.messages()] == ["remember me"]
    finally:
        await snapshots.close(final=False)


def test_an_agent_takes_what_a_distribution_gave_it_first_once() -> None:
    tasks = _team()
    given = tasks.submit_task(Task("auth endpoints", ("rust", "api", "database"), "high"))
    [assignment] = tasks.distribute_tasks().assigned
    assert assignment.agent == "backend"
    free = tasks.submit_task(Task("query", ("database",), "critical"))
    assert tasks.take("backend") is given  # its own first, though the free one ranks higher
    assert tasks.take("backend") is free  # then the pool
    assert tasks.take("backend") is None
    again = tasks.submit_task(Task("migration", ("database",)))
    tasks.distribute_tasks()
    assert again.agent == "backend"
    assert tasks.take("backend", again.id) is again  # by id: its own, no conflict
    with pytest.raises(CoordinationError, match="is assigned \\(backend\\)"):
        tasks.take("fullstack", again.id)


# -- records made before the read-back, totals after a restart -----------------------------------


async def _hub_on(path: Path, instance: str) -> tuple[SessionManager, Store]:
    store = await Store.open(path)
    manager = SessionManager()
    manager.hub.attach(store, instance)
    for agent in ("alice", "bob"):
        manager.hub.ensure_agent(agent)
    return manager, store


async def test_records_made_before_the_read_back_keep_their_own_rows(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    old, store = await _hub_on(path, "old")
    old.hub.decisions.track("generic", ["A", "B"], "A", 0.9, "old rationale", {}, "alice")
    old.hub.bus.send("alice", "bob", "stored message")
    old.hub.tasks.submit_task(Task("stored task"))
    await old.hub.detach()
    await store.close()

    new, store = await _hub_on(path, "new")
    hub = new.hub
    # an agent talks before load() ran: these take ids 1 as the stored records have
    decision = hub.decisions.track("generic", ["X", "Y"], "Y", 0.3, "new rationale", {}, "bob")
    message = hub.bus.send("bob", "alice", "sent while loading")
    task = hub.tasks.submit_task(Task("live task"))
    assert decision.id == message.id == task.id == 1
    await hub.load()
    assert hub.decisions.get(1).agent == "bob"  # the live record stays in memory
    assert [m.payload for m in hub.messages()] == ["sent while loading"]
    assert hub.tasks.get(1).description == "live task"
    hub.decisions.record_outcome(decision.id, False, "new note")
    hub.tasks.register_capabilities("alice", [])
    hub.tasks.take("alice", task.id)
    assert hub.decisions.track("generic", ["z"], "z", 1.0).id == 3  # after both runs' ids
    await hub.detach()
    await store.close()

    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT instance, decision_id, agent, outcome, json_extract(data, '$.rationale')"
        " FROM decisions ORDER BY instance, decision_id"
    ).fetchall()
    assert rows == [
        ("new", 1, "bob", "failure", "new rationale"),
        ("new", 2, "alice", None, "task 1: taken"),
        ("new", 3, None, None, ""),
        ("old", 1, "alice", None, "old rationale"),  # untouched
    ]
    tasks = db.execute("SELECT instance, task_id, description, status FROM tasks ORDER BY 1")
    assert tasks.fetchall() == [
        ("new", 1, "live task", "assigned"),
        ("old", 1, "stored task", "pending"),
    ]
    messages = db.execute("SELECT instance, body FROM agent_messages ORDER BY 1").fetchall()
    assert messages == [("new", '"sent while loading"'), ("old", '"stored message"')]


async def test_a_snapshotter_reads_the_records_back_when_awaited(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    before, store = await _hub_on(path, "before")
    before.hub.decisions.track("approach", ["x", "y"], "x", 0.8, agent="alice")
    await before.hub.detach()
    await store.close()
    after = SessionManager()
    snapshots = Snapshotter(after, await Store.open(path), instance="after")
    try:
        await snapshots.load_records()  # what the app and the server await before serving
        assert len(after.hub.decisions) == 1  # done, not spawned
        assert after.hub.decisions.track("generic", ["z"], "z", 1.0).id == 2
        snapshots.start()
        await snapshots.load_records()  # once only: the new decision stays
        assert len(after.hub.decisions) == 2
    finally:
        await snapshots.close(final=False)


async def test_a_failing_snapshotter_task_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snapshots = Snapshotter(SessionManager(), await Store.open(tmp_path / "s.db"), instance="x")
    failed = asyncio.Event()

    async def broken() -> None:
        failed.set()
        raise RuntimeError("a bug")

    with caplog.at_level(logging.ERROR, "engine.snapshots"):
        snapshots._spawn(broken())
        await failed.wait()
        await snapshots.close(final=False)  # gathers what is pending
    assert "a bug" in caplog.text and "failed" in caplog.text


async def test_token_totals_after_a_restart_count_every_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import hubstore

    monkeypatch.setattr(hubstore, "TOKEN_REPORTS", 5)  # recent reports read back per agent
    path = tmp_path / "hub.db"
    old, store = await _hub_on(path, "old")
    for _ in range(12):
        old.hub.record_tokens("alice", 1, 2, "m1")
    old.hub.record_tokens("bob", 7, 0, "m2")
    old.hub.record_tokens("bob", 1, 0)  # no model: the latest one named stays
    await old.hub.detach()
    await store.close()
    db = sqlite3.connect(path)
    with db:  # a report of last week: in the totals, not in the sparkline or the burn rate
        db.execute(
            "INSERT INTO token_usage (instance, agent, input, output, model, at)"
            " VALUES ('older', 'alice', 1000, 0, 'm0', strftime('%s', 'now') - 7 * 86400)"
        )
    db.close()

    new, store = await _hub_on(path, "new")
    new.hub.record_tokens("alice", 5, 5)  # made before the read-back: counted as well
    await new.hub.load()
    alice = new.hub.token_usage("alice")
    assert (alice.input, alice.output, alice.reports) == (1017, 29, 14)
    assert alice.model == "m1" and alice.first is not None and alice.last is not None
    assert (alice.last - alice.first).days >= 6
    assert sum(alice.series) == 5 * 3 + 10  # the five recent ones read back, and the live one
    bob = new.hub.token_usage("bob")
    assert (bob.input, bob.output, bob.reports, bob.model) == (8, 0, 2, "m2")
    assert new.hub.profiler.agents() == ["alice", "bob"]
    await new.hub.detach()
    await store.close()


async def test_a_live_report_before_the_read_back_of_a_full_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import observability

    monkeypatch.setattr(observability, "KEEP_TOKEN_REPORTS", 4)
    path = tmp_path / "hub.db"
    old, store = await _hub_on(path, "old")
    for _ in range(6):
        old.hub.record_tokens("alice", 1, 1)
    await old.hub.detach()
    await store.close()
    new, store = await _hub_on(path, "new")
    new.hub.record_tokens("alice", 5, 5)
    new.hub.decisions.track("generic", ["x"], "x", 1.0)
    await new.hub.load()  # the old reports are older than the live one, the deque full
    usage = new.hub.token_usage("alice")
    assert (usage.input, usage.reports) == (11, 7)
    assert sum(usage.series) == 3 * 2 + 10  # the newest four kept: three old, the live one
    await new.hub.detach()
    await store.close()


def test_a_finished_task_is_no_longer_remembered_as_handed() -> None:
    tasks = TaskDistributor(keep=2)
    tasks.register_capabilities("a", [])
    for i in range(50):
        task = tasks.submit_task(Task(f"t{i}"))
        assert tasks.take("a") is task
        if i % 2:
            tasks.complete(task.id, agent="a")
    assert len(tasks.tasks("assigned")) == 25
    assert tasks._handed == {t.id for t in tasks.tasks("assigned")}
    for task in tasks.tasks("assigned"):
        tasks.complete(task.id, agent="a")
    assert len(tasks.tasks()) == 2 and not tasks._handed


async def test_the_stores_backlog_is_bounded_by_bytes_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import hub as hub_module

    monkeypatch.setattr(hub_module, "BACKLOG_BYTES", 2_500)
    manager, store = await _hub_on(tmp_path / "hub.db", "x")
    hub = manager.hub
    # sent before the writer runs (nothing here awaits): they wait in the backlog together
    sent = [hub.bus.send("alice", "bob", "x" * 998) for _ in range(4)]
    hub.decisions.track("generic", ["x"], "x", 1.0)
    assert hub.unsaved == 2  # the two oldest messages went, the decision did not count
    await hub.detach()
    await store.close()
    db = sqlite3.connect(tmp_path / "hub.db")
    kept = db.execute("SELECT message_id FROM agent_messages ORDER BY 1").fetchall()
    assert kept == [(sent[2].id,), (sent[3].id,)]
    assert db.execute("SELECT count(*) FROM decisions").fetchone() == (1,)
