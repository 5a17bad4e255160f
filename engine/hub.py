"""`AgentHub`: one per `SessionManager` (`manager.hub`): the agents' bus, tasks, decisions,
profiler and tracer, reported on the instance's event stream and kept in the store.

Agents are sessions, by name: a session that starts gets an inbox, a closed one loses it, a
renamed one keeps it under its new name. Every record is emitted as an event ("message",
"task", "decision", "trace", "tokens") and, with a store attached, written in batches by one
background writer: a burst of messages becomes one transaction, not one per message. A store
that fails is logged and the records stay in memory; nothing a client sends waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.coordination import AgentMessage, MessageBus, Task, TaskDistributor
from engine.errors import StoreError
from engine.observability import (
    Decision,
    DecisionTracker,
    Profiler,
    SemanticTracer,
    Span,
    TokenReport,
    TokenUsage,
)

if TYPE_CHECKING:
    from engine.events import Event, EventLog
    from engine.hubstore import HubRecords
    from engine.session import Session
    from engine.store import Store

log = logging.getLogger(__name__)

FLUSH_DELAY = 0.05  # seconds records gather before one write: a burst becomes one transaction
BACKLOG = 100_000  # records waiting for the store at most; past it the oldest are not written
BACKLOG_BYTES = 64 << 20  # messages' payload bytes waiting for the store at most (the same)
LOAD = 500  # records of each kind read back at start (what the panels show)

Record = AgentMessage | Decision | Task | Span | TokenReport


class AgentHub:
    """The agents' bus, tasks, decisions, profiler and tracer, with events and persistence."""

    def __init__(
        self,
        events: EventLog | None = None,
        sessions: Callable[[str], Session | None] | None = None,
    ) -> None:
        self.events = events
        self._sessions = sessions
        self.bus = MessageBus()
        self.decisions = DecisionTracker()
        self.tasks = TaskDistributor(self.decisions)
        self.profiler = Profiler()
        self.tracer = SemanticTracer()
        self.bus.listeners.append(self._on_message)
        self.tasks.listeners.append(self._on_task)
        self.decisions.listeners.append(self._on_decision)
        self.tracer.listeners.append(self._on_span)
        self.profiler.listeners.append(self._on_tokens)
        self.store: Store | None = None
        self.instance = ""
        self._backlog: deque[Record] = deque()
        self._backlog_bytes = 0  # payload bytes of the messages in the backlog
        self.unsaved = 0  # records the store never got (backlog overflow or a failed write)
        self._writer: asyncio.Task[None] | None = None
        # records read back from another instance: their rows are updated under its name
        self._origin: dict[tuple[str, int], str] = {}
        if events is not None:
            events.subscribe(self._on_event)

    # -- the verbs the API and the CLI use ------------------------------------------------------

    def messages(self, agent: str | None = None, limit: int = 200) -> list[AgentMessage]:
        """Messages remembered, newest last: all, or those from or to `agent` (and broadcasts)."""
        return self.bus.history(agent, limit)

    def record_tokens(
        self, agent: str, input: int, output: int, model: str | None = None
    ) -> TokenReport:
        return self.profiler.record_tokens(agent, input, output, model)

    def token_usage(self, agent: str) -> TokenUsage:
        """An agent's totals, burn rate (tokens/min) and a per-minute series for a sparkline."""
        return self.profiler.token_usage(agent)

    def ensure_agent(self, name: str) -> None:
        """An inbox for the session `name` (sessions get one when they start; a created but
        not yet started one gets it on first use)."""
        self.bus.register(name)

    # -- events ---------------------------------------------------------------------------------

    def _session(self, name: str | None) -> Session | None:
        if name is None or self._sessions is None:
            return None
        return self._sessions(name)

    def _emit(self, kind: str, who: str | None, /, **data: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, self._session(who), **data)

    def _on_event(self, event: Event) -> None:
        """Sessions are the agents: an inbox from start to close, renamed along."""
        if event.session is None:
            return
        if event.type == "created":
            self.bus.register(event.session)
        elif event.type == "closed":
            self.bus.unregister(event.session)
            self.tasks.unregister(event.session)
        elif event.type == "renamed":
            old = event.data.get("old_name")
            if isinstance(old, str):
                self.bus.rename(old, event.session)
                self.tasks.rename(old, event.session)

    def _on_message(self, message: AgentMessage) -> None:
        self._emit(
            "message",
            message.sender,
            id=message.id,
            **{"from": message.sender, "to": message.recipient},
            message_type=message.type.value,
            priority=message.priority.name.lower(),
            preview=message.preview(),
        )
        self._keep(message)

    def _on_task(self, task: Task) -> None:
        self._emit(
            "task",
            task.agent or task.submitted_by,
            id=task.id,
            status=task.status.value,
            agent=task.agent,
            description=task.description[:200],
        )
        self._keep(task)

    def _on_decision(self, decision: Decision) -> None:
        self._emit(
            "decision",
            decision.agent,
            id=decision.id,
            decision_type=decision.type.value,
            selected=decision.selected,
            confidence=decision.confidence,
            outcome=None if decision.outcome is None else decision.outcome.value,
        )
        self._keep(decision)

    def _on_span(self, span: Span) -> None:
        self._emit(
            "trace",
            span.agent,
            trace_id=span.trace_id,
            span_id=span.span_id,
            parent_id=span.parent_id,
            name=span.name,
            status=span.status,
            phase="start" if span.end is None else "end",
        )
        self._keep(span)

    def _on_tokens(self, report: TokenReport) -> None:
        usage = self.profiler.token_usage(report.agent)
        self._emit(
            "tokens",
            report.agent,
            agent=report.agent,
            input=report.input,
            output=report.output,
            model=report.model,
            total_input=usage.input,
            total_output=usage.output,
        )
        self._keep(report)

    # -- persistence ----------------------------------------------------------------------------

    def attach(self, store: Store, instance: str) -> None:
        """Write every record to `store` from now on, as written by `instance`."""
        self.store = store
        self.instance = instance

    def _keep(self, record: Record) -> None:
        if self.store is None:
            return
        backlog = self._backlog
        backlog.append(record)
        if isinstance(record, AgentMessage):
            self._backlog_bytes += record.size
        while backlog and (len(backlog) > BACKLOG or self._backlog_bytes > BACKLOG_BYTES):
            gone = backlog.popleft()
            if isinstance(gone, AgentMessage):
                self._backlog_bytes -= gone.size
            self.unsaved += 1
            if self.unsaved == 1 or self.unsaved % 10_000 == 0:
                log.warning("the store is behind: %d agent records not kept", self.unsaved)
        if self._writer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (a script's synchronous use): the next flush() writes it
            self._writer = loop.create_task(self._write_soon())

    async def _write_soon(self) -> None:
        try:
            await asyncio.sleep(FLUSH_DELAY)
            await self._write()
        finally:
            self._writer = None
            if self._backlog and self.store is not None:  # more came while writing
                self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write(self) -> None:
        store = self.store
        while self._backlog and store is not None:
            batch = list(self._backlog)
            self._backlog.clear()
            self._backlog_bytes = 0
            try:
                await store.save_coordination(self.instance, batch, self._origin)
            except StoreError as exc:
                self.unsaved += len(batch)
                log.warning("%d agent records not kept: %s", len(batch), exc)
            except Exception:  # a bug of ours must not end the writer or lose the hub
                self.unsaved += len(batch)
                log.exception("writing %d agent records failed", len(batch))

    async def flush(self) -> None:
        """Write what is waiting now (and wait for a write under way)."""
        writer = self._writer
        if writer is not None and writer is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await asyncio.shield(writer)
        await self._write()

    async def detach(self) -> None:
        """Write what is waiting, then stop writing (the store's owner closes it)."""
        await self.flush()
        self.store = None  # first: a writer cancelled now starts no other
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        self.unsaved += len(self._backlog)  # came after the last write: not kept
        self._backlog.clear()
        self._backlog_bytes = 0

    async def load(self, limit: int = LOAD) -> None:
        """Read the newest `limit` records of each kind back from the store (the panels show
        them after a restart), each agent's token totals over all its reports; new ids go on
        after the store's highest. Callers await this before anything can make a record (the
        API serving, sessions starting); should one have been made first anyway, it stays and
        the stored record with its id is skipped (never its row overwritten). A failure is
        logged."""
        store = self.store
        if store is None:
            return
        try:
            loaded = await store.load_coordination(limit)
        except StoreError as exc:
            log.warning("agent records not read back: %s", exc)
            return
        except Exception:  # a row this version cannot read: start without the old records
            log.exception("agent records not read back")
            return
        try:
            self._merge(loaded)
        except Exception:  # a bug of ours: the hub runs on with what it has
            log.exception("agent records read back but not all restored")

    def _merge(self, loaded: HubRecords) -> None:
        # Ids this run has used already (records made before the read-back): the stored
        # records with those ids are not restored, and their rows keep their instance's
        # name out of `_origin` (else this run's record would be written over that row).
        live = {("decision", d.id) for d in self.decisions.decisions()}
        live.update(("task", t.id) for t in self.tasks.tasks())
        for key, instance in loaded.origin.items():
            if key not in live:
                self._origin.setdefault(key, instance)
        self.bus.remember(loaded.messages)
        self.bus.advance(loaded.last_ids.get("message", 0))
        self.decisions.restore(d for d in loaded.decisions if ("decision", d.id) not in live)
        self.decisions.advance(loaded.last_ids.get("decision", 0))
        self.tasks.restore(t for t in loaded.tasks if ("task", t.id) not in live)
        self.tasks.advance(loaded.last_ids.get("task", 0))
        self.tracer.restore(loaded.spans)
        self.profiler.restore_tokens(loaded.token_totals, loaded.tokens)
