"""Feeds a session's AI context with what really happens in its pane: each finished command
(a `CommandEvent` from the shell's OSC 133 marks, `execute()` included) becomes a Tool message
holding the command line, its exit status and its output compressed (engine/compress.py).

Compression is CPU work (a 1 MB build log takes ~0.1 s), so it runs in a worker thread, one
command at a time and in order: the event loop keeps drawing panes meanwhile. The context's
own folding (`SessionContext.compress_context`) runs in the same place, after each message.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque

from engine.compress import CompressError, compress
from engine.context import Message, SessionContext
from engine.history import CommandRecord
from engine.session import CommandEvent, Session, SessionEvent

log = logging.getLogger(__name__)

MAX_PENDING = 256  # commands waiting for compression; past it the oldest waiting are skipped


def tool_message(record: CommandRecord) -> Message:
    """A command record as the Tool message a model is sent: the command line, its output
    compressed (errors, failures and summary lines kept), the exit status; the record's
    facts (seq, cwd, times, the compression figures) in `data`."""
    try:
        squeezed = compress(record.output, command=record.command)
        # a few short lines gain nothing from folding: they go as they are
        small = squeezed.compressed_tokens >= squeezed.original_tokens
        output = record.output if small else squeezed.text
        figures = {"output_tokens": squeezed.original_tokens}
    except CompressError as exc:  # binary output: say so rather than send it
        output = f"[output not kept: {exc}]"
        figures = {}
    message = Message.for_command(
        record.command, output, record.exit_code, record.cwd, record.ended_at or record.started_at
    )
    message.data.update(seq=record.seq, **figures)
    if record.output_truncated:
        message.data["output_truncated"] = True
    return message


class ContextFeeder:
    """Keeps `session.context` fed; made by the session when `enable_ai_features` is on.

    The session holds it; it holds nothing of the session but its subscription.
    """

    def __init__(self, session: Session, context: SessionContext) -> None:
        self.context = context
        self.skipped = 0  # commands not fed because MAX_PENDING were already waiting
        self._name = session.name
        self._pending: deque[CommandRecord] = deque()
        self._task: asyncio.Task[None] | None = None
        ref = weakref.ref(self)

        def on_event(event: SessionEvent) -> None:
            feeder = ref()
            if feeder is not None and isinstance(event, CommandEvent):
                feeder.add(event.record)

        session.subscribe(on_event)

    def add(self, record: CommandRecord) -> None:
        """Queue a finished command for the context (from the session's event callback)."""
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self.skipped += 1
        self._pending.append(record)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """One command at a time, in order, compressed off the event loop."""
        while self._pending:
            record = self._pending.popleft()
            try:
                message = await asyncio.to_thread(tool_message, record)
                self.context.add_message(message)
            except Exception:  # one odd command must not stop the feed
                log.exception("context of %s: command %s not added", self._name, record.seq)
