"""Agents talking and sharing work: `MessageBus` (inboxes, broadcast, monitors),
`MultiAgentSession` (agents with their sessions) and `TaskDistributor` (tasks to the agents
that can do them).

The bus is in-process asyncio and built for volume (a message is one small frozen object put
in a deque). Its memory is bounded by bytes as well as by count: a message carries its
payload's size as JSON (`AgentMessage.size`, measured once when it is checked), and

- each inbox holds at most `INBOX_SIZE` messages and `INBOX_BYTES` of payload: when a new one
  does not fit, the oldest message of the lowest priority at or below the new one's goes
  (the new one itself when everything queued outranks it), counted in the inbox's `dropped`
  and the bus's `dropped_total`;
- the history (the panels' timeline, `GET /messages`) keeps the newest `HISTORY` messages and
  at most `HISTORY_BYTES` of payload; older ones go, counted in `history_dropped` (the store
  keeps every message, so nothing is lost but the in-memory view);
- a monitor holds at most `MONITOR_SIZE` messages and `MONITOR_BYTES`, its oldest going first.

So a client that sends megabyte payloads in a loop, or an agent that never reads its inbox,
costs the server at most those budgets, not the count times `MAX_PAYLOAD`.
`AgentHub` (engine/hub.py, `manager.hub`) wires these to the event stream and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from engine.errors import CoordinationError
from engine.observability import (
    Decision,
    DecisionTracker,
    DecisionType,
    count_after,
    parse_enum,
)

if TYPE_CHECKING:
    from engine.hub import AgentHub
    from engine.session import Session

__all__ = [
    "AgentHub",
    "AgentMessage",
    "Assignment",
    "Distribution",
    "MessageBus",
    "MessagePriority",
    "MessageType",
    "MultiAgentSession",
    "Task",
    "TaskDistributor",
    "TaskPriority",
    "TaskStatus",
    "Unassignable",
]

INBOX_SIZE = 1_000  # messages an inbox holds before the lowest-priority oldest one goes
INBOX_BYTES = 16 << 20  # payload bytes an inbox holds (as JSON) before the same happens
MONITOR_SIZE = 10_000  # messages a subscribe_all() monitor holds before its oldest goes
MONITOR_BYTES = 64 << 20  # payload bytes a monitor holds before its oldest goes
HISTORY = 10_000  # messages the bus remembers for `history()` (the panels' timeline)
HISTORY_BYTES = 64 << 20  # payload bytes the history holds before its oldest messages go
MAX_PAYLOAD = 1 << 20  # bytes of a payload as JSON: a message is a note, not a file transfer
KEEP_TASKS = 10_000  # finished tasks kept in memory (pending and assigned ones always are)
PREVIEW = 80  # characters of a payload an event or a listing shows
_UTC = UTC
L = TypeVar("L", bound=IntEnum)


def __getattr__(name: str) -> Any:
    """`AgentHub` lives in engine/hub.py (it needs this module); importable from here too."""
    if name == "AgentHub":
        from engine.hub import AgentHub

        return AgentHub
    raise AttributeError(name)


class MessageType(StrEnum):
    """What a message is for (the seed's names)."""

    TASK_REQUEST = "task_request"
    TASK_ASSIGNMENT = "task_assignment"
    DATA_SHARE = "data_share"
    STATUS_UPDATE = "status_update"
    BROADCAST = "broadcast"
    QUESTION = "question"
    ANSWER = "answer"

    @classmethod
    def parse(cls, value: str | MessageType) -> MessageType:
        """From `task_request`, `TaskRequest`, `task-request` or `TASK_REQUEST`."""
        return parse_enum(cls, value)


def _parse_level(kind: type[L], value: str | int, aliases: dict[str, int]) -> L:
    if isinstance(value, kind):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value in kind._value2member_map_:
            return kind(value)
    elif isinstance(value, str):
        word = value.strip().lower()
        if word.isdigit() and int(word) in kind._value2member_map_:
            return kind(int(word))
        if word.upper() in kind.__members__:
            return kind[word.upper()]
        if word in aliases:
            return kind(aliases[word])
    choices = ", ".join(f"{m.name.lower()} ({m.value})" for m in kind)
    raise CoordinationError(f"unknown {kind.__name__} {str(value)[:20]!r}; one of: {choices}")


class MessagePriority(IntEnum):
    """How urgent a message or a task is (higher goes first)."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, value: str | int) -> MessagePriority:
        """From a name in any case (`high`), a number (2), or `medium` (the seed's tasks'
        name for NORMAL)."""
        return _parse_level(cls, value, {"medium": 1})


TaskPriority = MessagePriority  # the seed's name for tasks' priorities


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """One message: `recipient` None is a broadcast; `payload` is a JSON value.

    `size` is the payload's bytes as JSON (what the bus's byte budgets count; measured here
    when not given) and `summary` its one-line preview of PREVIEW characters, made once here
    (from a bounded prefix of text, or from `encoded`, the JSON the size check made)."""

    id: int
    sender: str
    recipient: str | None
    type: MessageType
    priority: MessagePriority
    payload: Any
    time: datetime
    reply_to: int | None = None
    size: int = field(default=-1, compare=False, repr=False)
    summary: str = field(default="", compare=False, repr=False)
    encoded: InitVar[str | None] = None

    def __post_init__(self, encoded: str | None) -> None:
        if self.size < 0:
            object.__setattr__(self, "size", measure(self.payload)[0])
        if not self.summary:
            object.__setattr__(self, "summary", preview_of(self.payload, PREVIEW, encoded))

    def preview(self, width: int = PREVIEW) -> str:
        """The payload on one line, cut to `width` characters (text as is, else its JSON)."""
        return self.summary if width == PREVIEW else preview_of(self.payload, width)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.recipient,
            "type": self.type.value,
            "priority": self.priority.name.lower(),
            "payload": self.payload,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "reply_to": self.reply_to,
        }


# One encoder for every payload: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def preview_of(payload: Any, width: int = PREVIEW, encoded: str | None = None) -> str:
    """`payload` on one line, cut to `width` characters: only a prefix of it is looked at (a
    megabyte of text costs what a line does), JSON made once (or `encoded`, made already)."""
    if isinstance(payload, str):
        text = payload[: width * 4 + 8]
    else:
        if encoded is None:
            try:
                encoded = _dumps(payload)
            except (TypeError, ValueError, RecursionError):
                encoded = repr(payload)
        text = encoded[: width * 4 + 8]
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def measure(payload: Any) -> tuple[int, str | None]:
    """(bytes of `payload` as JSON, that JSON when it had to be made): text is counted by its
    UTF-8 length plus the quotes without encoding it (escapes aside, that is what it holds in
    memory); CoordinationError if it is not JSON."""
    kind = payload.__class__
    if kind is str:
        return (len(payload) if payload.isascii() else len(payload.encode())) + 2, None
    if kind in _SCALARS or (kind is float and math.isfinite(payload)):
        return 8, None
    try:
        encoded = _dumps(payload)
    except (TypeError, ValueError, RecursionError) as exc:
        raise CoordinationError(f"a message payload must be a JSON value: {exc}") from None
    return len(encoded.encode()), encoded


def payload_size(payload: Any) -> int:
    """Bytes of `payload` as compact UTF-8 JSON; CoordinationError if it is not JSON."""
    try:
        return len(_dumps(payload).encode())
    except (TypeError, ValueError, RecursionError) as exc:
        raise CoordinationError(f"a message payload must be a JSON value: {exc}") from None


_SCALARS = (int, bool, type(None))


def check_payload(payload: Any, limit: int = MAX_PAYLOAD) -> tuple[int, str | None]:
    """CoordinationError (TOO_LARGE) if the payload's JSON is over `limit` bytes, (INVALID)
    if it is not JSON; else `measure(payload)`, which the message keeps. Cheap for text: a
    character is at most 6 bytes of JSON (`\\u001b`)."""
    kind = payload.__class__
    if kind is str and len(payload) * 6 + 2 <= limit:
        return measure(payload)
    if kind is str:
        size, encoded = payload_size(payload), None
    else:
        size, encoded = measure(payload)
    if size > limit:
        raise CoordinationError(
            f"the message payload is {size:,} bytes as JSON; the limit is {limit:,} "
            "(share a file path for anything bigger)",
            CoordinationError.TOO_LARGE,
        )
    return size, encoded


def check_reply(reply_to: int) -> None:
    """A `reply_to` names a message id: a whole number from 1 (SQLite keeps 64 bits)."""
    if isinstance(reply_to, bool) or not isinstance(reply_to, int) or not 0 < reply_to < 2**63:
        raise CoordinationError(f"reply_to is a message id, not {reply_to!r:.40}")


class _Inbox:
    """One agent's queued messages: a deque per priority."""

    __slots__ = ("bytes", "dropped", "levels", "received", "size", "waiters")

    def __init__(self) -> None:
        self.levels: tuple[deque[AgentMessage], ...] = tuple(deque() for _ in MessagePriority)
        self.size = 0
        self.bytes = 0  # payload bytes queued
        self.dropped = 0
        self.received = 0
        self.waiters: list[asyncio.Future[None]] = []

    def take(self, limit: int | None) -> list[AgentMessage]:
        """Highest priority first, oldest first within one."""
        out: list[AgentMessage] = []
        for level in reversed(self.levels):
            while level and (limit is None or len(out) < limit):
                message = level.popleft()
                self.bytes -= message.size
                out.append(message)
        self.size -= len(out)
        return out

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class Monitor:
    """What `subscribe_all()` returns: every message from now on, newest `maxsize` and at
    most `maxbytes` of payload held (the oldest goes when full, counted in `dropped`).
    Iterate it (async) or call `get()`."""

    def __init__(self, bus: MessageBus, maxsize: int, maxbytes: int = MONITOR_BYTES) -> None:
        self._bus = bus
        self.maxsize = maxsize
        self.maxbytes = maxbytes
        self.bytes = 0
        self._queue: deque[AgentMessage] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.dropped = 0
        self.closed = False

    def _put(self, message: AgentMessage) -> None:
        self._queue.append(message)
        self.bytes += message.size
        while self._queue and (len(self._queue) > self.maxsize or self.bytes > self.maxbytes):
            self.bytes -= self._queue.popleft().size
            self.dropped += 1
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __len__(self) -> int:
        return len(self._queue)

    def get_nowait(self) -> list[AgentMessage]:
        """Everything held now (oldest first), taken."""
        out = list(self._queue)
        self._queue.clear()
        self.bytes = 0
        return out

    async def get(self, timeout: float | None = None) -> AgentMessage | None:
        """The next message; None on timeout or once closed and drained."""
        while not self._queue:
            if self.closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout)
            except TimeoutError:
                return None
            finally:
                self._waiter = None
        message = self._queue.popleft()
        self.bytes -= message.size
        return message

    def __aiter__(self) -> Monitor:
        return self

    async def __anext__(self) -> AgentMessage:
        message = await self.get()
        if message is None:
            raise StopAsyncIteration
        return message

    def close(self) -> None:
        self.closed = True
        if self in self._bus._monitors:
            self._bus._monitors.remove(self)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class MessageBus:
    """Direct messages to registered agents' inboxes, broadcasts to all of them but the
    sender, and monitors that see everything.

    Inboxes hold `inbox_size` messages and `inbox_bytes` of payload; a full one drops its
    oldest message of the lowest priority at or below the new one's until the new one fits
    (if everything queued outranks the new message, the new one is dropped): `dropped(agent)`
    and `stats()` count them. The history keeps the newest `history` messages within
    `history_bytes` (`history_dropped` counts what went). Payloads are JSON values of at most
    `max_payload` bytes. `listeners` are called with every message, in `send`.
    """

    def __init__(
        self,
        inbox_size: int = INBOX_SIZE,
        history: int = HISTORY,
        max_payload: int = MAX_PAYLOAD,
        *,
        inbox_bytes: int = INBOX_BYTES,
        history_bytes: int = HISTORY_BYTES,
    ) -> None:
        if inbox_size < 1:
            raise ValueError("an inbox must hold at least one message")
        self.inbox_size = inbox_size
        self.inbox_bytes = inbox_bytes
        self.history_size = history
        self.history_bytes = history_bytes
        self.max_payload = max_payload
        self._inboxes: dict[str, _Inbox] = {}
        self._ids = itertools.count(1)
        self._history: deque[AgentMessage] = deque()
        self._history_held = 0  # payload bytes in the history
        self._monitors: list[Monitor] = []
        self.listeners: list[Callable[[AgentMessage], None]] = []
        self.sent = 0
        self.dropped_total = 0
        self.history_dropped = 0  # messages the history let go of (the store has them)

    # -- agents ----------------------------------------------------------------------------------

    def register(self, agent: str) -> None:
        """Give `agent` an inbox (again: nothing changes)."""
        if not agent:
            raise CoordinationError("an agent needs a name")
        self._inboxes.setdefault(agent, _Inbox())

    def unregister(self, agent: str) -> None:
        """Drop `agent`'s inbox and what it held; its waiting readers get nothing."""
        inbox = self._inboxes.pop(agent, None)
        if inbox is not None:
            inbox.wake()

    def rename(self, old: str, new: str) -> None:
        """The agent `old` is called `new` now (its session was renamed); its inbox goes along."""
        inbox = self._inboxes.pop(old, None)
        if inbox is not None:
            self._inboxes[new] = inbox

    @property
    def agents(self) -> list[str]:
        """Registered agents, in registration order."""
        return list(self._inboxes)

    def __contains__(self, agent: object) -> bool:
        return agent in self._inboxes

    def _inbox(self, agent: str) -> _Inbox:
        inbox = self._inboxes.get(agent)
        if inbox is None:
            raise CoordinationError(
                f"no agent named {agent[:64]!r} on the bus (agents: "
                f"{', '.join(self._inboxes)[:200] or 'none'})",
                CoordinationError.NOT_FOUND,
            )
        return inbox

    # -- sending ---------------------------------------------------------------------------------

    def advance(self, last_id: int) -> None:
        self._ids = count_after(self._ids, last_id)

    def send(
        self,
        sender: str,
        recipient: str,
        payload: Any,
        type: MessageType | str = MessageType.DATA_SHARE,
        priority: MessagePriority | int | str = MessagePriority.NORMAL,
        reply_to: int | None = None,
    ) -> AgentMessage:
        """Put a message in `recipient`'s inbox; CoordinationError if there is no such agent
        (NOT_FOUND) or the payload is too large (TOO_LARGE) or not JSON (INVALID)."""
        inbox = self._inboxes.get(recipient)
        if inbox is None:
            self._inbox(recipient)  # raises, saying who is there
        message = self._message(sender, recipient, payload, type, priority, reply_to)
        self._deliver(inbox, message)  # type: ignore[arg-type]
        self._publish(message)
        return message

    def broadcast(
        self,
        sender: str,
        payload: Any,
        type: MessageType | str = MessageType.BROADCAST,
        priority: MessagePriority | int | str = MessagePriority.NORMAL,
        reply_to: int | None = None,
    ) -> AgentMessage:
        """One message (recipient None) in every inbox but the sender's."""
        message = self._message(sender, None, payload, type, priority, reply_to)
        for agent, inbox in self._inboxes.items():
            if agent != sender:
                self._deliver(inbox, message)
        self._publish(message)
        return message

    def _message(
        self,
        sender: str,
        recipient: str | None,
        payload: Any,
        type: MessageType | str,
        priority: MessagePriority | int | str,
        reply_to: int | None,
    ) -> AgentMessage:
        """A new message, its type, priority, payload and reply checked (the spellings parsed
        only when not already the enum: the common case costs two class checks)."""
        if type.__class__ is not MessageType:
            type = MessageType.parse(type)
        if priority.__class__ is not MessagePriority:
            priority = MessagePriority.parse(priority)
        size, encoded = check_payload(payload, self.max_payload)
        if reply_to is not None:
            check_reply(reply_to)
        return AgentMessage(
            next(self._ids),
            sender,
            recipient,
            type,
            priority,
            payload,
            datetime.now(_UTC),
            reply_to,
            size,
            encoded=encoded,
        )

    def _deliver(self, inbox: _Inbox, message: AgentMessage) -> None:
        while inbox.size >= self.inbox_size or inbox.bytes + message.size > self.inbox_bytes:
            for level in inbox.levels[: message.priority + 1]:
                if level:
                    inbox.bytes -= level.popleft().size
                    inbox.size -= 1
                    break
            else:  # everything queued outranks it: the new message is the one that goes
                inbox.dropped += 1
                self.dropped_total += 1
                return
            inbox.dropped += 1
            self.dropped_total += 1
        inbox.levels[message.priority].append(message)
        inbox.size += 1
        inbox.bytes += message.size
        if inbox.waiters:
            inbox.wake()

    def _publish(self, message: AgentMessage) -> None:
        self.sent += 1
        self._history.append(message)
        self._history_held += message.size
        self._trim_history()
        for monitor in self._monitors:
            monitor._put(message)
        for listener in self.listeners:
            listener(message)

    # -- receiving -------------------------------------------------------------------------------

    def pending(self, agent: str) -> int:
        return self._inbox(agent).size

    def dropped(self, agent: str) -> int:
        return self._inbox(agent).dropped

    def receive_nowait(self, agent: str, limit: int | None = None) -> list[AgentMessage]:
        """Take what `agent`'s inbox holds: highest priority first, oldest first within one."""
        inbox = self._inbox(agent)
        out = inbox.take(limit)
        inbox.received += len(out)
        return out

    async def receive(
        self, agent: str, timeout: float | None = None, limit: int | None = None
    ) -> list[AgentMessage]:
        """Take `agent`'s messages, waiting up to `timeout` seconds (None: forever) for the
        first when there is none; [] on timeout or when the agent is unregistered meanwhile."""
        inbox = self._inbox(agent)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not inbox.size:
            left = None if deadline is None else deadline - loop.time()
            if (left is not None and left <= 0) or self._inboxes.get(agent) is not inbox:
                return []
            waiter = loop.create_future()
            inbox.waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, left)
            except TimeoutError:
                return []
            finally:
                if waiter in inbox.waiters:
                    inbox.waiters.remove(waiter)
        out = inbox.take(limit)
        inbox.received += len(out)
        return out

    def subscribe_all(self, maxsize: int = MONITOR_SIZE, maxbytes: int = MONITOR_BYTES) -> Monitor:
        """A monitor that sees every message sent from now on (close it when done)."""
        monitor = Monitor(self, maxsize, maxbytes)
        self._monitors.append(monitor)
        return monitor

    def history(self, agent: str | None = None, limit: int | None = None) -> list[AgentMessage]:
        """Messages remembered (the newest HISTORY), oldest first: all, or those from or to
        `agent` (broadcasts included)."""
        if agent is None:
            found = list(self._history)
        else:
            found = [
                m
                for m in self._history
                if m.sender == agent or m.recipient == agent or m.recipient is None
            ]
        return found if limit is None else found[-limit:] if limit > 0 else []

    def _trim_history(self) -> None:
        history = self._history
        while history and (
            len(history) > self.history_size or self._history_held > self.history_bytes
        ):
            self._history_held -= history.popleft().size
            self.history_dropped += 1

    def remember(self, messages: Iterable[AgentMessage]) -> None:
        """Messages read back from the store go into the history (no inbox, no listener).
        One whose id the history holds already (sent by this run before the read-back) is
        skipped: the live message stays."""
        merged = {m.id: m for m in messages}
        merged.update((m.id, m) for m in self._history)
        self._history = deque(sorted(merged.values(), key=_id))
        self._history_held = sum(m.size for m in self._history)
        self.advance(max(merged, default=0))
        dropped = self.history_dropped
        self._trim_history()
        self.history_dropped = dropped  # what was never shown is not counted as let go

    def stats(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "dropped": self.dropped_total,
            "inbox_size": self.inbox_size,
            "inbox_bytes": self.inbox_bytes,
            "history": len(self._history),
            "history_bytes": self._history_held,
            "history_dropped": self.history_dropped,
            "agents": {
                name: {
                    "pending": i.size,
                    "bytes": i.bytes,
                    "dropped": i.dropped,
                    "received": i.received,
                }
                for name, i in self._inboxes.items()
            },
        }


def _id(message: AgentMessage) -> int:
    return message.id


class MultiAgentSession:
    """Agents, each with its session (a pane running an agent CLI, a script, a person), on
    one bus: register them, start them all, send and broadcast between them."""

    def __init__(self, bus: MessageBus | None = None) -> None:
        self.bus = bus if bus is not None else MessageBus()
        self._agents: dict[str, Session] = {}

    @property
    def agents(self) -> dict[str, Session]:
        return dict(self._agents)

    def register_agent(self, name: str, session: Session) -> None:
        if name in self._agents:
            raise CoordinationError(
                f"an agent named {name!r} is registered already", CoordinationError.CONFLICT
            )
        self._agents[name] = session
        self.bus.register(name)

    def unregister_agent(self, name: str) -> Session:
        session = self._agents.pop(name, None)
        if session is None:
            raise CoordinationError(f"no agent named {name!r}", CoordinationError.NOT_FOUND)
        self.bus.unregister(name)
        return session

    def get_agent(self, name: str) -> Session | None:
        return self._agents.get(name)

    async def start_all(self) -> None:
        """Start every agent's session that is not started yet (together)."""
        await asyncio.gather(
            *(s.start() for s in self._agents.values() if s.status.kind == "created")
        )

    def send_message(
        self,
        sender: str,
        recipient: str,
        payload: Any,
        type: MessageType | str = MessageType.DATA_SHARE,
        priority: MessagePriority | int | str = MessagePriority.NORMAL,
    ) -> AgentMessage:
        self._known(sender)
        return self.bus.send(sender, recipient, payload, type, priority)

    def broadcast(
        self,
        sender: str,
        payload: Any,
        type: MessageType | str = MessageType.BROADCAST,
        priority: MessagePriority | int | str = MessagePriority.NORMAL,
    ) -> AgentMessage:
        self._known(sender)
        return self.bus.broadcast(sender, payload, type, priority)

    async def receive(self, agent: str, timeout: float | None = None) -> list[AgentMessage]:
        return await self.bus.receive(agent, timeout)

    def _known(self, agent: str) -> None:
        if agent not in self._agents:
            raise CoordinationError(
                f"no agent named {agent!r} is registered", CoordinationError.NOT_FOUND
            )


# -- tasks -------------------------------------------------------------------------------------


class TaskStatus(StrEnum):
    PENDING = "pending"
    ASSIGNED = "assigned"
    DONE = "done"
    FAILED = "failed"


def _now() -> datetime:
    return datetime.now(UTC)


def capabilities(words: Iterable[str]) -> tuple[str, ...]:
    """Capability names as compared: stripped, lower case, each once, in the order given."""
    out = dict.fromkeys(w.strip().lower() for w in words)
    out.pop("", None)
    return tuple(out)


@dataclass
class Task:
    """Work for an agent: it needs an agent with every one of `requirements`. `id`, `status`
    and the rest are the distributor's to set. `estimated_effort` is in minutes."""

    description: str
    requirements: tuple[str, ...] = ()
    priority: MessagePriority = MessagePriority.NORMAL
    estimated_effort: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)
    id: int = 0
    status: TaskStatus = TaskStatus.PENDING
    agent: str | None = None
    submitted_by: str | None = None
    submitted_at: datetime = field(default_factory=_now)
    assigned_at: datetime | None = None
    finished_at: datetime | None = None
    note: str | None = None
    decision_id: int | None = None

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise CoordinationError("a task needs a description")
        self.requirements = capabilities(self.requirements)
        self.priority = MessagePriority.parse(self.priority)
        effort = self.estimated_effort
        if (
            isinstance(effort, bool)
            or not isinstance(effort, int | float)
            or not 0 <= effort < math.inf  # NaN fails too
        ):
            raise CoordinationError(f"estimated effort is minutes >= 0, not {effort!r}")
        self.estimated_effort = float(effort)

    def to_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat().replace("+00:00", "Z")

        return {
            "id": self.id,
            "description": self.description,
            "requirements": list(self.requirements),
            "priority": self.priority.name.lower(),
            "estimated_effort": self.estimated_effort,
            "metadata": self.metadata,
            "status": self.status.value,
            "agent": self.agent,
            "submitted_by": self.submitted_by,
            "submitted_at": iso(self.submitted_at),
            "assigned_at": iso(self.assigned_at),
            "finished_at": iso(self.finished_at),
            "note": self.note,
            "decision_id": self.decision_id,
        }


@dataclass(frozen=True)
class Assignment:
    task: Task
    agent: str
    decision: Decision


@dataclass(frozen=True)
class Unassignable:
    task: Task
    reason: str


@dataclass(frozen=True)
class Distribution:
    """What `distribute_tasks()` did: tasks given out, and those no agent can take, why."""

    assigned: list[Assignment]
    unassigned: list[Unassignable]


class TaskDistributor:
    """Tasks for agents by capability: a task goes only to an agent that has every capability
    it requires; higher priority tasks go first (oldest first within a priority), each to the
    least loaded capable agent (fewest assigned tasks, then least estimated effort, then the
    one registered first). Every assignment is a decision in `decisions`, whose outcome is
    the task's when it is done. `listeners` hear every task that changes."""

    def __init__(self, decisions: DecisionTracker | None = None, keep: int = KEEP_TASKS) -> None:
        self.decisions = decisions if decisions is not None else DecisionTracker()
        self.keep = keep
        self._capabilities: dict[str, tuple[str, ...]] = {}
        self._tasks: dict[int, Task] = {}
        self._handed: set[int] = set()  # assigned tasks their agent has taken
        self._ids = itertools.count(1)
        self.listeners: list[Callable[[Task], None]] = []

    # -- agents ----------------------------------------------------------------------------------

    def register_capabilities(self, agent: str, words: Iterable[str]) -> tuple[str, ...]:
        """Set `agent`'s capabilities (replacing what it had); returns them as compared."""
        if not agent:
            raise CoordinationError("an agent needs a name")
        self._capabilities[agent] = capabilities(words)
        return self._capabilities[agent]

    def unregister(self, agent: str) -> None:
        """Forget `agent`'s capabilities (its assigned tasks stay assigned)."""
        self._capabilities.pop(agent, None)

    def rename(self, old: str, new: str) -> None:
        """The agent `old` is called `new` now: its capabilities and its tasks go along."""
        if old in self._capabilities:
            self._capabilities = {
                (new if a == old else a): caps for a, caps in self._capabilities.items()
            }
        for task in self._tasks.values():
            if task.agent == old:
                task.agent = new
                self._changed(task)

    def capabilities(self, agent: str | None = None) -> dict[str, tuple[str, ...]]:
        if agent is None:
            return dict(self._capabilities)
        return {agent: self._capabilities.get(agent, ())}

    def load(self, agent: str) -> tuple[int, float]:
        """(assigned tasks, their estimated minutes) of `agent`."""
        mine = [t for t in self._tasks.values() if t.agent == agent and t.status == "assigned"]
        return len(mine), sum(t.estimated_effort for t in mine)

    # -- tasks ------------------------------------------------------------------------------------

    def submit_task(self, task: Task) -> Task:
        """Queue `task` (it gets its id); returns it."""
        task.id = next(self._ids)
        task.status = TaskStatus.PENDING
        self._tasks[task.id] = task
        self._trim()
        self._changed(task)
        return task

    def get(self, task_id: int) -> Task:
        try:
            return self._tasks[task_id]
        except KeyError:
            raise CoordinationError(f"no task {task_id}", CoordinationError.NOT_FOUND) from None

    def tasks(self, status: TaskStatus | str | None = None, agent: str | None = None) -> list[Task]:
        """Tasks in id order, of one status and/or agent."""
        wanted = None if status is None else parse_enum(TaskStatus, status)
        return [
            t
            for t in self._tasks.values()
            if (wanted is None or t.status == wanted) and (agent is None or t.agent == agent)
        ]

    def concerns(self, task: Task, agent: str) -> bool:
        """Whether `agent` may act on `task`: it submitted or holds it, or the task is pending
        and the agent has every capability it needs (what a scoped token may list)."""
        if agent in (task.submitted_by, task.agent):
            return True
        mine = self._capabilities.get(agent, ())
        return task.status == TaskStatus.PENDING and set(task.requirements).issubset(mine)

    def restore(self, tasks: Iterable[Task]) -> None:
        """Tasks read back from the store (no listener hears them); new ids go on after."""
        for task in sorted(tasks, key=lambda t: t.id):
            self._tasks.setdefault(task.id, task)
        self._tasks = dict(sorted(self._tasks.items()))
        self.advance(max(self._tasks, default=0))

    def advance(self, last_id: int) -> None:
        self._ids = count_after(self._ids, last_id)

    def _pending(self) -> list[Task]:
        waiting = [t for t in self._tasks.values() if t.status == TaskStatus.PENDING]
        return sorted(waiting, key=lambda t: (-t.priority, t.id))

    def _capable(self, task: Task) -> list[str]:
        needed = set(task.requirements)
        return [a for a, caps in self._capabilities.items() if needed.issubset(caps)]

    def why_not(self, task: Task) -> str:
        """Why no agent can take `task` (for one that no agent can)."""
        if not self._capabilities:
            return "no agents: none has declared capabilities (ai-session task capable ...)"
        known = set().union(*self._capabilities.values())
        missing = [r for r in task.requirements if r not in known]
        if missing:
            return f"missing capability {', '.join(missing)}: no agent has it"
        return f"no single agent has all of {', '.join(task.requirements)}"

    def distribute_tasks(self) -> Distribution:
        """Give every pending task to a capable agent (see the class); the rest, with why."""
        assigned: list[Assignment] = []
        unassigned: list[Unassignable] = []
        loads = {agent: self.load(agent) for agent in self._capabilities}
        order = {agent: i for i, agent in enumerate(self._capabilities)}
        for task in self._pending():
            capable = self._capable(task)
            if not capable:
                unassigned.append(Unassignable(task, self.why_not(task)))
                continue
            ranked = sorted(capable, key=lambda a: (*loads[a], order[a]))
            agent = ranked[0]
            count, effort = loads[agent]
            if len(ranked) == 1:
                rationale = f"the only agent with {', '.join(task.requirements) or 'no needs'}"
            else:
                rationale = (
                    f"least loaded of {len(ranked)} capable agents ({count} tasks, "
                    f"{effort:g} min assigned)"
                )
            decision = self._assign(task, agent, ranked, rationale, None)
            loads[agent] = (count + 1, effort + task.estimated_effort)
            assigned.append(Assignment(task, agent, decision))
        return Distribution(assigned, unassigned)

    def take(self, agent: str, task_id: int | None = None) -> Task | None:
        """`agent` takes a task: `task_id`, else one `distribute_tasks()` gave it that it
        has not taken yet (highest priority, oldest), else the best pending one it can do;
        None when there is none. Taking a task distributed to it is taking its own (a worker
        asks "what now?" after a distribution). Taking a task it lacks a capability for, or
        one another agent has, is a CONFLICT error."""
        mine = set(self._capabilities.get(agent, ()))
        if task_id is None:
            given = [t for t in self._tasks.values() if self._given(t, agent)]
            if given:
                own = min(given, key=lambda t: (-t.priority, t.id))
                self._handed.add(own.id)
                return own
            task = next((t for t in self._pending() if mine.issuperset(t.requirements)), None)
            if task is None:
                return None
        else:
            task = self.get(task_id)
            if task.status == TaskStatus.ASSIGNED and task.agent == agent:
                self._handed.add(task.id)
                return task
            if task.status != TaskStatus.PENDING:
                raise CoordinationError(
                    f"task {task.id} is {task.status.value}"
                    + (f" ({task.agent})" if task.agent else ""),
                    CoordinationError.CONFLICT,
                )
            lacking = [r for r in task.requirements if r not in mine]
            if lacking:
                raise CoordinationError(
                    f"{agent} lacks {', '.join(lacking)} for task {task.id} (declare them with "
                    "`ai-session task capable ...`)",
                    CoordinationError.CONFLICT,
                )
        capable = self._capable(task)
        if agent not in capable:
            capable.append(agent)  # a task with no requirements: anyone may take it
        self._assign(task, agent, [agent, *(a for a in capable if a != agent)], "taken", agent)
        self._handed.add(task.id)
        return task

    def _given(self, task: Task, agent: str) -> bool:
        """Distributed to `agent` and not taken by it yet (kept in memory only: after a
        restart an agent may be handed a distributed task once more)."""
        return (
            task.status == TaskStatus.ASSIGNED
            and task.agent == agent
            and task.id not in self._handed
        )

    def _assign(
        self, task: Task, agent: str, ranked: list[str], rationale: str, by: str | None
    ) -> Decision:
        decision = self.decisions.track(
            DecisionType.TASK_ASSIGNMENT,
            ranked,
            agent,
            1.0 if len(ranked) == 1 else 0.8,
            rationale=f"task {task.id}: {rationale}",
            context={"task_id": task.id, "requirements": list(task.requirements)},
            agent=by,
        )
        task.status = TaskStatus.ASSIGNED
        task.agent = agent
        task.assigned_at = _now()
        task.decision_id = decision.id
        self._changed(task)
        return decision

    def complete(
        self, task_id: int, success: bool = True, note: str | None = None, agent: str | None = None
    ) -> Task:
        """Mark an assigned task done (or failed); `agent`, when given, must be its assignee.
        The assignment decision gets the outcome."""
        task = self.get(task_id)
        if task.status != TaskStatus.ASSIGNED:
            raise CoordinationError(
                f"task {task_id} is {task.status.value}, not assigned", CoordinationError.CONFLICT
            )
        if agent is not None and agent != task.agent:
            raise CoordinationError(
                f"task {task_id} is {task.agent}'s, not {agent}'s", CoordinationError.CONFLICT
            )
        task.status = TaskStatus.DONE if success else TaskStatus.FAILED
        task.finished_at = _now()
        task.note = note
        self._handed.discard(task_id)
        self._changed(task)
        if task.decision_id is not None:
            # (unless the decision is no longer kept, or has its outcome already)
            with contextlib.suppress(CoordinationError):
                self.decisions.record_outcome(task.decision_id, success, note)
        self._trim()
        return task

    def _trim(self) -> None:
        finished = [t.id for t in self._tasks.values() if t.status in ("done", "failed")]
        for task_id in finished[: max(0, len(finished) - self.keep)]:
            del self._tasks[task_id]
            self._handed.discard(task_id)

    def _changed(self, task: Task) -> None:
        for listener in list(self.listeners):
            listener(task)
