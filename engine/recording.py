"""Output recording: each session's output with its times, in zstd blocks, to replay a pane
at any moment and to export it as asciicast v3.

A `Recorder` hears output at parse time (`Session.subscribe`), so when a block seals the
session's terminal has been fed exactly up to the next block's `start_offset`: a snapshot
taken then is a keyframe the following blocks replay onto. Events are encoded compactly (a
kind byte, the microseconds since the previous event, then the payload) and a block is
compressed once, when it seals; the sealed blocks are capped by their compressed bytes,
oldest dropped first.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import zstandard

from engine.session import CommandEvent, OutputEvent, Session, SessionEvent
from engine.terminal import Terminal

log = logging.getLogger(__name__)

MAX_BYTES = 8 << 20  # compressed bytes kept per session: hours of a busy shell
BLOCK_BYTES = 64 << 10  # raw event bytes per block: compresses well, decompresses in ~0.1 ms
SEAL_AFTER = 30.0  # seconds an unfilled block waits before it seals anyway (so it is stored)
_LEVEL = 3  # zstd level: ~10x on terminal output at several hundred MB/s

# Event kinds, one byte each. OUTPUT advances the offset; FED is bytes the session fed its
# terminal itself (a respawn's reset), replayed but not part of the program's output.
_OUTPUT, _RESIZE, _FED, _EXIT = 0, 1, 2, 3


@dataclass(frozen=True)
class RecordingBlock:
    """Events from `start_time` to `end_time` (time.time() seconds) on a terminal that was
    `columns` x `lines` when the block began, whose output starts at byte `start_offset` of
    the session's output; `data` is zstd of the recorder's event encoding."""

    start_time: float
    end_time: float
    start_offset: int
    columns: int
    lines: int
    data: bytes


@dataclass(frozen=True)
class RecordedOutput:
    """The program wrote `data` at `time`, starting at byte `offset` of its output. `fed` is
    set for bytes the session wrote to its own terminal (they take no offsets)."""

    time: float
    offset: int
    data: bytes
    fed: bool = False


@dataclass(frozen=True)
class RecordedResize:
    """The terminal became `columns` x `lines` at `time`, after `offset` bytes of output."""

    time: float
    offset: int
    columns: int
    lines: int


@dataclass(frozen=True)
class RecordedExit:
    """The program exited with `code` at `time` (-N: killed by signal N)."""

    time: float
    offset: int
    code: int


RecordedEvent = RecordedOutput | RecordedResize | RecordedExit


def _varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[i]
        i += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, i
        shift += 7


class Recorder:
    """Records one session's output, resizes and exits in zstd blocks.

    `blocks()` gives the sealed blocks and the open one (compressed for the call, not
    sealed). `on_block` is called with each block as it seals (the store persists them);
    a block seals when it holds `block_bytes`, after `seal_after` seconds, on `flush()`, and
    on `stop()`, which the program's exit does (a respawn starts it again: one recording).
    Sealed blocks are kept up to `max_bytes` compressed (at least the newest one); what the
    cap drops is counted in `dropped_bytes`. The session is held weakly, and only while
    recording through its subscription: no reference cycle outlives the program.
    """

    def __init__(
        self,
        session: Session,
        max_bytes: int = MAX_BYTES,
        block_bytes: int = BLOCK_BYTES,
        *,
        seal_after: float | None = SEAL_AFTER,
    ) -> None:
        if max_bytes < 1 or block_bytes < 1:
            raise ValueError("max_bytes and block_bytes must be at least 1")
        self._session = weakref.ref(session)
        self.name = session.name  # for the log, once the session is gone
        self.max_bytes = max_bytes
        self.block_bytes = block_bytes
        self.seal_after = seal_after
        self.on_block: Callable[[RecordingBlock], None] | None = None
        self.dropped_bytes = 0  # compressed bytes of the blocks the cap removed
        self.dropped_blocks = 0
        self._sealed: deque[RecordingBlock] = deque()
        self._sealed_bytes = 0
        self._raw = bytearray()  # the open block's events
        self._start_time = 0.0
        self._start_offset = 0
        self._start_size = (0, 0)
        self._last_us = 0  # microseconds since _start_time of the last event
        self._offset = 0  # the offset the next output should have
        self._size = (session.terminal.columns, session.terminal.lines)
        self._open: RecordingBlock | None = None  # the open block compressed by blocks()
        self._unsubscribe: Callable[[], None] | None = None
        self._timer: asyncio.TimerHandle | None = None  # seal_after, when a loop runs
        self._compressor = zstandard.ZstdCompressor(level=_LEVEL)

    @property
    def recording(self) -> bool:
        """Whether the recorder listens to its session."""
        return self._unsubscribe is not None

    def start(self) -> None:
        """Listen to the session from its next parsed byte on (again after `stop()`)."""
        session = self._session()
        if self._unsubscribe is not None or session is None:
            return
        self._size = (session.terminal.columns, session.terminal.lines)
        self._unsubscribe = session.subscribe(self._event)

    def stop(self) -> None:
        """Stop listening (the program's exit does); the open block seals."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.flush()

    # -- recording ------------------------------------------------------------------------------

    def _event(self, event: SessionEvent) -> None:
        if isinstance(event, CommandEvent):
            return
        if not isinstance(event, OutputEvent):
            code = event.exit_code
            _varint(self._add(_EXIT, self._offset), (code << 1) ^ (code >> 63))  # zigzag
            self.stop()  # the run is over: store all of it now
            return
        data, offset = event.data, event.offset
        if offset != self._offset and self._raw:
            self.flush()  # a gap (stopped meanwhile): the next block starts where output is
        raw = self._add(_OUTPUT, offset)
        _varint(raw, len(data))
        raw += data
        self._offset = offset + len(data)
        if len(raw) >= self.block_bytes:
            self.flush()

    def resized(self, columns: int, lines: int) -> None:
        """The session's terminal was resized (Session.set_size calls this)."""
        if (columns, lines) != self._size and self._unsubscribe is not None:
            raw = self._add(_RESIZE, self._offset)
            _varint(raw, columns)
            _varint(raw, lines)
        self._size = (columns, lines)

    def fed(self, data: bytes) -> None:
        """The session fed its terminal `data` itself (a respawn's reset, while stopped):
        replay must too."""
        if data:
            raw = self._add(_FED, self._offset)
            _varint(raw, len(data))
            raw += data

    def _add(self, kind: int, offset: int) -> bytearray:
        """Start an event (kind and time) in the open block, opening one at `offset` if none
        is; the caller writes the payload."""
        now = time.time()
        raw = self._raw
        if not raw:
            self._start_time, self._start_offset, self._last_us = now, offset, 0
            self._start_size = self._size
            self._offset = offset
            self._arm_timer()
        at = max(round((now - self._start_time) * 1e6), self._last_us)  # never backwards
        raw.append(kind)
        _varint(raw, at - self._last_us)
        self._last_us = at
        self._open = None
        return raw

    def _arm_timer(self) -> None:
        if self.seal_after is None or self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(self.seal_after, self._timed_seal)

    def _timed_seal(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Seal the open block now (if it holds anything): `on_block` gets it."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        if not self._raw:
            return
        block = self._compress()
        self._raw = bytearray()
        self._open = None
        self._sealed.append(block)
        self._sealed_bytes += len(block.data)
        while self._sealed_bytes > self.max_bytes and len(self._sealed) > 1:
            old = self._sealed.popleft()
            self._sealed_bytes -= len(old.data)
            self.dropped_bytes += len(old.data)
            self.dropped_blocks += 1
        if self.on_block is not None:
            try:
                self.on_block(block)
            except Exception:  # the store's trouble must not stop the session's output
                log.exception("session %s: recording block not stored", self.name)

    def _compress(self) -> RecordingBlock:
        columns, lines = self._start_size
        return RecordingBlock(
            start_time=self._start_time,
            end_time=self._start_time + self._last_us / 1e6,
            start_offset=self._start_offset,
            columns=columns,
            lines=lines,
            # A copy: zstandard's result keeps its compressBound-sized allocation (~block_bytes
            # however well the block compressed): kept blocks held ~10x what the cap counted.
            data=bytes(memoryview(self._compressor.compress(self._raw))),
        )

    def blocks(self) -> list[RecordingBlock]:
        """The kept blocks, oldest first, and the open one (compressed for this call, not
        sealed: do not store it; `on_block` will get the sealed one)."""
        out = list(self._sealed)
        if self._raw:
            if self._open is None:
                self._open = self._compress()
            out.append(self._open)
        return out

    @property
    def stored_bytes(self) -> int:
        """Compressed bytes of the sealed blocks kept."""
        return self._sealed_bytes


# -- reading ------------------------------------------------------------------------------------


def events(blocks: Iterable[RecordingBlock]) -> Iterator[RecordedEvent]:
    """The events of `blocks`, in order (ValueError for a block that does not decode)."""
    decompressor = zstandard.ZstdDecompressor()
    for block in blocks:
        try:
            raw = decompressor.decompress(block.data)
        except zstandard.ZstdError as exc:
            raise ValueError(f"recording block at offset {block.start_offset}: {exc}") from exc
        yield from _decode(block, raw)


def _decode(block: RecordingBlock, raw: bytes) -> Iterator[RecordedEvent]:
    i, n, at, offset = 0, len(raw), 0, block.start_offset
    try:
        while i < n:
            kind = raw[i]
            delta, i = _read_varint(raw, i + 1)
            at += delta
            when = block.start_time + at / 1e6
            if kind in (_OUTPUT, _FED):
                size, i = _read_varint(raw, i)
                data = raw[i : i + size]
                i += size
                yield RecordedOutput(when, offset, data, fed=kind == _FED)
                if kind == _OUTPUT:
                    offset += size
            elif kind == _RESIZE:
                columns, i = _read_varint(raw, i)
                lines, i = _read_varint(raw, i)
                yield RecordedResize(when, offset, columns, lines)
            elif kind == _EXIT:
                code, i = _read_varint(raw, i)
                yield RecordedExit(when, offset, (code >> 1) ^ -(code & 1))
            else:
                raise ValueError(f"unknown event kind {kind}")
    except IndexError:
        raise ValueError(f"recording block at offset {block.start_offset} is truncated") from None


def timeline(blocks: Iterable[RecordingBlock]) -> list[float]:
    """The time of every event, in order: the stops of a scrubber."""
    return [event.time for event in events(blocks)]


def replay(
    blocks: Iterable[RecordingBlock],
    until: float | None = None,
    base: Terminal | None = None,
    base_offset: int = 0,
) -> Terminal:
    """The terminal as it was at time `until` (the end when None).

    Without `base`, a fresh terminal of the first block's size is fed every event (when the
    recording does not start at offset 0, what older output drew is missing). With `base` (a
    keyframe: a snapshot's terminal, taken after `base_offset` bytes of output), `base`
    itself is fed what came after `base_offset` and returned: pass one you own. ValueError
    when the recording starts after `base_offset` (the output between is gone).
    """
    items = list(blocks)
    term = base
    if term is None:
        columns, lines = (items[0].columns, items[0].lines) if items else (80, 24)
        term = Terminal(columns=columns, lines=lines)
        base_offset = items[0].start_offset if items else 0
    elif items and items[0].start_offset > base_offset:
        raise ValueError(
            f"the recording starts at output offset {items[0].start_offset}, after the base's "
            f"{base_offset}: the output between was not kept"
        )
    for event in _with_block_sizes(items):
        if until is not None and event.time > until:
            break
        if isinstance(event, RecordedOutput):
            data = event.data
            if not event.fed:
                if event.offset + len(data) <= base_offset:
                    continue
                data = data[max(base_offset - event.offset, 0) :]
            elif event.offset < base_offset:
                continue
            term.feed(data)
        elif (
            isinstance(event, RecordedResize)
            and event.offset >= base_offset
            and (event.columns, event.lines) != (term.columns, term.lines)
        ):
            term.resize(event.columns, event.lines)
    term.take_responses()  # replies to queries were the live session's to send
    return term


def paint(term: Terminal) -> str:
    """Output that draws `term`'s screen on a clear terminal of its size: rows with their
    attributes, then the cursor where it was."""
    rows = term.capture(ansi=True).split("\n")
    cursor = term.cursor
    hide = "\x1b[?25l" if cursor.hidden else ""
    return "\x1b[0m\x1b[H\x1b[2J" + "\r\n".join(rows) + f"\x1b[{cursor.y + 1};{cursor.x + 1}H{hide}"


def asciicast(
    blocks: Iterable[RecordingBlock],
    *,
    title: str | None = None,
    base: Terminal | None = None,
    version: int = 3,
) -> Iterator[str]:
    """The recording as asciicast v3 lines (without newlines): a header, then `[interval,
    "o", text]` output, `[interval, "r", "COLSxROWS"]` resizes and `[interval, "x", "CODE"]`
    exits, intervals in seconds since the previous event.

    `version=2` writes asciicast v2 for the asciinema 2.x still packaged most places: a
    header with `width` and `height`, event times counted from the start, no exit events.

    When the recording does not start at the session's first byte (the cap dropped older
    blocks), the first event paints `base` (the terminal as it was where the recording
    starts) when given. Text is UTF-8: a character split between two outputs is written
    whole with the second; bytes that are not UTF-8 become U+FFFD.
    """
    items = list(blocks)
    first = items[0] if items else None
    if version not in (2, 3):
        raise ValueError(f"asciicast version {version} is not 2 or 3")
    columns, lines = (first.columns, first.lines) if first else (80, 24)
    header: dict[str, object] = {"version": version}
    if version == 3:
        header["term"] = {"cols": columns, "rows": lines, "type": "xterm-256color"}
    else:
        header.update(width=columns, height=lines, env={"TERM": "xterm-256color"})
    header["timestamp"] = int(first.start_time) if first else int(time.time())
    if title is not None:
        header["title"] = title
    yield json.dumps(header, ensure_ascii=False)
    if first is None:
        return
    start = last = first.start_time
    if base is not None and first.start_offset > 0:
        yield _line(0.0, "o", paint(base))
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    for event in _with_block_sizes(items):
        if isinstance(event, RecordedOutput):
            text = decoder.decode(event.data)
            if not text:
                continue  # only part of a character: it goes with the next output
            code, data = "o", text
        elif isinstance(event, RecordedResize):
            code, data = "r", f"{event.columns}x{event.lines}"
        elif version == 3:
            code, data = "x", str(event.code)
        else:
            continue  # v2 has no exit events
        yield _line(event.time - (last if version == 3 else start), code, data)
        last = event.time
    rest = decoder.decode(b"", final=True)
    if rest:
        yield _line(0.0 if version == 3 else last - start, "o", rest)


def _with_block_sizes(blocks: list[RecordingBlock]) -> Iterator[RecordedEvent]:
    """The events, and a resize where a block starts at another size than the last ended
    (the terminal was resized while the recorder was stopped, after an exit)."""
    size = (blocks[0].columns, blocks[0].lines) if blocks else (0, 0)
    for block in blocks:
        if (block.columns, block.lines) != size:
            size = (block.columns, block.lines)
            yield RecordedResize(block.start_time, block.start_offset, *size)
        for event in events([block]):
            if isinstance(event, RecordedResize):
                size = (event.columns, event.lines)
            yield event


def _line(interval: float, code: str, data: str) -> str:
    return json.dumps([round(max(interval, 0.0), 6), code, data], ensure_ascii=False)
