"""The instance's event stream: what happened to which session, numbered so a reader can resume.

One `EventLog` per `SessionManager`. Sessions the manager made report into it: created, closed,
renamed, exit, respawned, activity (throttled), silence (tmux's monitor-silence), resize, title,
cwd, metadata, command (a shell command ended: command, exit_code, cwd, command_seq,
duration; engine/history.py) and agent (its agent state changed: state, reason, question, kind,
command, source; engine/agents.py); the agents' hub (engine/hub.py) reports message, task,
decision, trace and tokens. Each event gets the next sequence number; the log keeps the newest
`keep` events, so a reader that reconnects with the last number it saw gets everything after
it, or learns how many it missed (`since()`'s second value).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.session import Session

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "created",
    "closed",
    "renamed",
    "exit",
    "respawned",
    "activity",
    "silence",
    "resize",
    "title",
    "cwd",
    "metadata",
    "command",
    # the agents' hub (engine/hub.py): a message sent, a task changed, a decision or its
    # outcome, a span started or ended, tokens reported
    "message",
    "task",
    "decision",
    "trace",
    "tokens",
    # an agent's state changed (engine/agents.py)
    "agent",
)


def iso_time(moment: datetime) -> str:
    """`moment` as ISO 8601 in UTC ending in Z (how events and the API spell times)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """One thing that happened: `type` (one of EVENT_TYPES), to which session, and its data."""

    seq: int
    type: str
    time: str
    session: str | None
    session_id: str | None
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The event as one flat JSON object (what `/events` and `ai-session events` print).
        Its own fields never hide the envelope's: `type` is always the event's."""
        return {
            **self.data,
            "seq": self.seq,
            "type": self.type,
            "time": self.time,
            "session": self.session,
            "session_id": self.session_id,
        }


class EventLog:
    """Numbered events, the newest `keep` of them (within about `max_bytes`) kept, pushed to
    subscribers as they happen.

    Subscribers are called synchronously inside `emit()`; one that raises is logged and the
    others still get the event (a broken reader must not stop a session).
    """

    def __init__(self, keep: int = 10_000, max_bytes: int = 8 << 20) -> None:
        if keep < 1 or max_bytes < 1:
            raise ValueError("an event log must keep at least one event and one byte")
        self.keep = keep
        self.max_bytes = max_bytes  # about: events are sized by their values' text
        self._events: deque[Event] = deque()
        self._sizes: deque[int] = deque()
        self._bytes = 0
        self._subscribers: list[Callable[[Event], None]] = []
        self.last_seq = 0  # 0 before the first event

    def __len__(self) -> int:
        return len(self._events)

    def emit(self, type: str, session: Session | None = None, /, **data: Any) -> Event:
        """Record an event about `session` (None: about the instance) and tell subscribers.
        Positional-only, so `data` may hold a `type` of its own (a message's, a decision's)."""
        self.last_seq += 1
        event = Event(
            seq=self.last_seq,
            type=type,
            time=iso_time(datetime.now(UTC)),
            session=session.name if session is not None else None,
            session_id=session.id if session is not None else None,
            data=data,
        )
        size = 160 + sum(len(str(value)) for value in data.values())
        self._events.append(event)
        self._sizes.append(size)
        self._bytes += size
        # The newest `keep`, within `max_bytes`: 10 000 metadata events of 60 KB must not
        # hold 600 MB (a scoped client may PATCH its own session's metadata).
        while len(self._events) > 1 and (
            len(self._events) > self.keep or self._bytes > self.max_bytes
        ):
            self._events.popleft()
            self._bytes -= self._sizes.popleft()
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", callback, event.type)
        return event

    def since(self, seq: int) -> tuple[list[Event], int]:
        """Events with a sequence number above `seq`, and how many of those are no longer kept
        (a reader that was away too long sees the count and knows it missed them)."""
        seq = max(seq, 0)  # nothing comes before seq 1: a negative one is "from the start"
        if seq >= self.last_seq:
            return [], 0
        oldest = self._events[0].seq if self._events else self.last_seq + 1
        first = max(seq + 1, oldest)
        dropped = first - (seq + 1)
        return list(itertools.islice(self._events, first - oldest, None)), dropped

    async def wait(self, seq: int, timeout: float) -> tuple[list[Event], int]:
        """`since(seq)`, waiting up to `timeout` seconds for the first event after `seq` if
        there is none yet (a long poll); ([], 0) when none came."""
        events, dropped = self.since(seq)
        if events or dropped or timeout <= 0:
            return events, dropped
        arrived = asyncio.get_running_loop().create_future()

        def wake(event: Event) -> None:
            if not arrived.done():
                arrived.set_result(None)

        unsubscribe = self.subscribe(wake)
        try:
            await asyncio.wait_for(arrived, timeout)
        except TimeoutError:
            pass
        finally:
            unsubscribe()
        return self.since(seq)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call `callback` with every event from now on; returns the function that stops it."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe
