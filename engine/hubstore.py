"""The agents' hub records in the database (tables of migration 3): rows from records, records
from rows. `Store.save_coordination` and `Store.load_coordination` run these inside one
transaction of theirs.

Rows are keyed by the writing instance and its own id (two instances on one file both count
from their start). A record read back from another instance keeps being written under that
instance's name (`origin`), so its outcome or end updates its row rather than adding one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from engine.coordination import (
    AgentMessage,
    MessagePriority,
    MessageType,
    Task,
    TaskStatus,
)
from engine.observability import (
    BURN_WINDOW,
    KEEP_TOKEN_REPORTS,
    SPARK_BUCKETS,
    SPARK_WIDTH,
    Decision,
    DecisionType,
    Outcome,
    Span,
    TokenReport,
    TokenTotals,
)

# Token reports read back per agent: only those of the last RECENT_TOKENS seconds (what the
# sparkline and the burn rate read), at most the profiler's own cap; totals are sums in SQL.
RECENT_TOKENS = max(SPARK_BUCKETS * SPARK_WIDTH, BURN_WINDOW)
TOKEN_REPORTS = KEEP_TOKEN_REPORTS

Origin = dict[tuple[str, int], str]  # ("decision" | "task", id) -> the instance that wrote it


@dataclass
class HubRecords:
    """What `load` read back, oldest first, with the highest id of each kind in the file."""

    messages: list[AgentMessage] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    tokens: list[TokenReport] = field(default_factory=list)  # recent ones, oldest first
    token_totals: list[TokenTotals] = field(default_factory=list)  # every report's sums
    origin: Origin = field(default_factory=dict)
    last_ids: dict[str, int] = field(default_factory=dict)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _opt_dt(seconds: float | None) -> datetime | None:
    return None if seconds is None else _dt(seconds)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


async def save(
    db: aiosqlite.Connection, instance: str, records: Sequence[Any], origin: Origin
) -> None:
    """Write a batch: messages and token reports added, decisions, tasks and spans inserted
    or brought up to date (the latest state of each in the batch)."""
    messages, tokens = [], []
    decisions: dict[int, Decision] = {}
    tasks: dict[int, Task] = {}
    spans: dict[str, Span] = {}
    for record in records:
        if isinstance(record, AgentMessage):
            messages.append(record)
        elif isinstance(record, Decision):
            decisions[record.id] = record
        elif isinstance(record, Task):
            tasks[record.id] = record
        elif isinstance(record, Span):
            spans[record.span_id] = record
        elif isinstance(record, TokenReport):
            tokens.append(record)
    if messages:
        await db.executemany(
            "INSERT OR IGNORE INTO agent_messages (instance, message_id, sender, recipient,"
            " topic, body, priority, reply_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    instance,
                    m.id,
                    m.sender,
                    m.recipient,
                    m.type.value,
                    _json(m.payload),
                    int(m.priority),
                    m.reply_to,
                    _ts(m.time),
                )
                for m in messages
            ],
        )
    if decisions:
        await db.executemany(
            "INSERT INTO decisions (instance, decision_id, agent, question, answer, type,"
            " confidence, outcome, created_at, decided_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (instance, decision_id) DO UPDATE SET outcome = excluded.outcome,"
            " decided_at = excluded.decided_at, data = excluded.data",
            [
                (
                    origin.get(("decision", d.id), instance),
                    d.id,
                    d.agent,
                    _json(list(d.options)),
                    d.selected,
                    d.type.value,
                    d.confidence,
                    None if d.outcome is None else d.outcome.value,
                    _ts(d.time),
                    _ts(d.outcome_time),
                    _json({"rationale": d.rationale, "context": d.context, "note": d.note}),
                )
                for d in decisions.values()
            ],
        )
    if tasks:
        await db.executemany(
            "INSERT INTO tasks (instance, task_id, description, requirements, priority, effort,"
            " status, agent, submitted_by, submitted_at, assigned_at, finished_at, note,"
            " decision_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (instance, task_id) DO UPDATE SET status = excluded.status,"
            " agent = excluded.agent, assigned_at = excluded.assigned_at,"
            " finished_at = excluded.finished_at, note = excluded.note,"
            " decision_id = excluded.decision_id",
            [
                (
                    origin.get(("task", t.id), instance),
                    t.id,
                    t.description,
                    _json(list(t.requirements)),
                    int(t.priority),
                    t.estimated_effort,
                    t.status.value,
                    t.agent,
                    t.submitted_by,
                    _ts(t.submitted_at),
                    _ts(t.assigned_at),
                    _ts(t.finished_at),
                    t.note,
                    t.decision_id,
                    _json(t.metadata),
                )
                for t in tasks.values()
            ],
        )
    if spans:
        await db.executemany(
            "INSERT INTO traces (trace_id, span_id, parent_id, name, started_at, ended_at,"
            " status, agent, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (span_id) DO UPDATE SET ended_at = excluded.ended_at,"
            " status = excluded.status",
            [
                (
                    s.trace_id,
                    s.span_id,
                    s.parent_id,
                    s.name,
                    _ts(s.start),
                    _ts(s.end),
                    s.status,
                    s.agent,
                    _json({"metadata": s.metadata}),
                )
                for s in spans.values()
            ],
        )
    if tokens:
        await db.executemany(
            "INSERT INTO token_usage (instance, agent, input, output, model, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(instance, r.agent, r.input, r.output, r.model, _ts(r.time)) for r in tokens],
        )


async def load(db: aiosqlite.Connection, limit: int, now: datetime | None = None) -> HubRecords:
    """The newest `limit` messages, decisions and spans' traces, every unfinished task and
    the newest `limit` others, each agent's token totals over all its reports, and its
    reports of the last RECENT_TOKENS seconds before `now`."""
    out = HubRecords()
    rows = await db.execute_fetchall(
        "SELECT message_id, sender, recipient, topic, body, priority, reply_to, created_at"
        " FROM agent_messages WHERE message_id IS NOT NULL ORDER BY created_at DESC, id DESC"
        " LIMIT ?",
        (limit,),
    )
    for message_id, sender, recipient, topic, body, priority, reply_to, created in reversed(
        list(rows)
    ):
        out.messages.append(
            AgentMessage(
                message_id,
                sender,
                recipient,
                MessageType.parse(topic or "data_share"),
                MessagePriority(priority) if priority in range(4) else MessagePriority.NORMAL,
                json.loads(body),
                _dt(created),
                reply_to,
                len(body),
            )
        )
    rows = await db.execute_fetchall(
        "SELECT instance, decision_id, agent, question, answer, type, confidence, outcome,"
        " created_at, decided_at, data FROM decisions WHERE decision_id IS NOT NULL"
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (limit,),
    )
    for (
        instance,
        did,
        agent,
        question,
        answer,
        kind,
        confidence,
        outcome,
        at,
        decided,
        data,
    ) in reversed(list(rows)):
        extra = json.loads(data)
        out.origin.setdefault(("decision", did), instance)  # the one restore() keeps
        out.decisions.append(
            Decision(
                id=did,
                type=DecisionType.parse(kind),
                options=tuple(json.loads(question)),
                selected=answer or "",
                confidence=float(confidence or 0.0),
                rationale=str(extra.get("rationale", "")),
                context=extra.get("context") or {},
                agent=agent,
                time=_dt(at),
                outcome=None if outcome is None else Outcome(outcome),
                note=extra.get("note"),
                outcome_time=_opt_dt(decided),
            )
        )
    rows = await db.execute_fetchall(
        "SELECT instance, task_id, description, requirements, priority, effort, status, agent,"
        " submitted_by, submitted_at, assigned_at, finished_at, note, decision_id, data"
        " FROM tasks WHERE status IN ('pending', 'assigned')"
        " OR id IN (SELECT id FROM tasks ORDER BY submitted_at DESC LIMIT ?) ORDER BY id",
        (limit,),
    )
    for row in rows:
        instance, tid, description, requirements, priority, effort, status = row[:7]
        agent, by, submitted, assigned, finished, note, decision_id, data = row[7:]
        task = Task(
            description,
            tuple(json.loads(requirements)),
            MessagePriority(priority) if priority in range(4) else MessagePriority.NORMAL,
            effort,
            json.loads(data),
        )
        task.id, task.status, task.agent, task.submitted_by = tid, TaskStatus(status), agent, by
        task.submitted_at, task.assigned_at = _dt(submitted), _opt_dt(assigned)
        task.finished_at, task.note, task.decision_id = _opt_dt(finished), note, decision_id
        out.origin.setdefault(("task", tid), instance)
        out.tasks.append(task)
    rows = await db.execute_fetchall(
        "SELECT trace_id, span_id, parent_id, name, started_at, ended_at, status, agent, data"
        " FROM traces WHERE trace_id IN (SELECT trace_id FROM traces"
        " ORDER BY started_at DESC LIMIT ?) ORDER BY started_at, id",
        (limit,),
    )
    for trace_id, span_id, parent_id, name, started, ended, status, agent, data in rows:
        out.spans.append(
            Span(
                trace_id,
                span_id,
                parent_id,
                name,
                json.loads(data).get("metadata") or {},
                agent,
                _dt(started),
                _opt_dt(ended),
                status,
            )
        )
    rows = await db.execute_fetchall(
        "SELECT agent, sum(input), sum(output), count(*), min(at), max(at),"
        " (SELECT model FROM token_usage AS m WHERE m.agent = t.agent AND m.model != ''"
        "  ORDER BY m.at DESC, m.id DESC LIMIT 1)"
        " FROM token_usage AS t GROUP BY agent ORDER BY min(at)"
    )
    out.token_totals = [
        TokenTotals(agent, int(i), int(o), int(n), model, _dt(first), _dt(last))
        for agent, i, o, n, first, last, model in rows
    ]
    since = (now or datetime.now(UTC)).timestamp() - RECENT_TOKENS
    rows = await db.execute_fetchall(
        "SELECT agent, input, output, model, at FROM (SELECT agent, input, output, model, at,"
        " id, row_number() OVER (PARTITION BY agent ORDER BY at DESC, id DESC) AS n"
        " FROM token_usage WHERE at > ?) WHERE n <= ? ORDER BY at, id",
        (since, TOKEN_REPORTS),
    )
    out.tokens = [TokenReport(agent, i, o, model, _dt(at)) for agent, i, o, model, at in rows]
    (ids,) = await db.execute_fetchall(
        "SELECT (SELECT max(message_id) FROM agent_messages), (SELECT max(decision_id) FROM"
        " decisions), (SELECT max(task_id) FROM tasks)"
    )
    kinds = ("message", "decision", "task")
    out.last_ids = {k: int(v or 0) for k, v in zip(kinds, ids, strict=True)}
    return out
