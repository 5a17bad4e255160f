"""Output parsing in time slices: a flooding pane never makes keys or quiet panes wait.

Reading a PTY is cheap; parsing what it read is not. A session whose output arrives in small
pieces (a shell echoing keys, an editor redrawing) parses it at once. A session with more
(`cat bigfile`) queues it here, and the queue parses a slice of each flooding session in
turn, giving the event loop back between slices, so a key pressed meanwhile is read, written
and echoed without waiting for the flood. A session with too much queued stops reading its
PTY until it catches up, so the program blocks as it would on a slow terminal and memory
stays bounded.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from typing import Protocol

SLICE = 0.003  # seconds of parsing before the loop gets a turn
TYPING_SLICE = 0.001  # ... while someone is typing (see `typing()`)
TYPING_WINDOW = 1.0  # seconds after a key during which floods yield to it

_last_input = -1e9


def note_input() -> None:
    """Someone typed into a session: for a moment, floods get smaller slices."""
    global _last_input
    _last_input = time.monotonic()


def typing() -> bool:
    """Whether a key went to any session within `TYPING_WINDOW` seconds: then floods are parsed
    in thinner slices and read less far ahead, and background panes paint less, so each key
    is echoed quickly (the flood catches up as soon as the typing stops)."""
    return time.monotonic() - _last_input < TYPING_WINDOW


class Backlogged(Protocol):
    def ingest_some(self, seconds: float) -> bool:
        """Parse about `seconds` worth of queued output; True while more is queued."""
        ...


class IngestQueue:
    """Sessions with queued output, served round-robin in slices of `SLICE` seconds."""

    def __init__(self) -> None:  # no reference to the loop: it keys the registry weakly
        self._ready: deque[Backlogged] = deque()
        self._scheduled = False

    def add(self, session: Backlogged) -> None:
        if session not in self._ready:
            self._ready.append(session)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        budget = TYPING_SLICE if typing() else SLICE
        deadline = time.perf_counter() + budget
        ready = self._ready
        try:
            while ready:
                session = ready.popleft()
                if session.ingest_some(max(deadline - time.perf_counter(), budget / 4)):
                    ready.append(session)
                if time.perf_counter() >= deadline:
                    break
        finally:  # even if a session failed, the others must go on
            if ready:
                asyncio.get_running_loop().call_soon(self._run)
            else:
                self._scheduled = False


_QUEUES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, IngestQueue] = (
    weakref.WeakKeyDictionary()
)


def queue_for(loop: asyncio.AbstractEventLoop) -> IngestQueue:
    """The queue of this event loop (one per loop: sessions on it share the slices)."""
    queue = _QUEUES.get(loop)
    if queue is None:
        queue = _QUEUES[loop] = IngestQueue()
    return queue
