"""`Session` (alias `AISession`): one program on one PTY, its terminal model and its output."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import secrets
import shlex
import signal
import termios
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from engine import shell
from engine.ansi import plain_text
from engine.config import SessionConfig
from engine.context import SessionContext
from engine.errors import (
    IncompleteCommand,
    PermissionDenied,
    ProcessError,
    SessionBusy,
    SessionError,
    SessionNotFound,
)
from engine.events import EventLog, iso_time
from engine.history import CommandHistory, CommandRecord, FinishedCommand
from engine.ingest import queue_for, typing
from engine.keys import encode_paste
from engine.pty import Pty
from engine.terminal import MAX_SIZE, Terminal

if TYPE_CHECKING:
    from engine.contextfeed import ContextFeeder
    from engine.recording import Recorder

log = logging.getLogger(__name__)

DEFAULT_EXECUTE_TIMEOUT = 30.0
IMMEDIATE = 16 * 1024  # output up to this size (and nothing queued) is parsed when it arrives
MAX_BACKLOG = 1024 * 1024  # queued output at which the PTY stops being read until parsed
TYPING_BACKLOG = 64 * 1024  # ... while someone is typing: read less far ahead of the parser
ACTIVITY_INTERVAL = 1.0  # seconds: at most one `activity` event per session this often


def _backlog_limit() -> int:
    """Output read ahead of the parser at which reading stops (less while someone types)."""
    return TYPING_BACKLOG if typing() else MAX_BACKLOG


# Variables of an enclosing multiplexer that would mislead programs inside our panes.
# AI_SESSION_TOKEN: the API's secret is the server's, never a child's.
_DROPPED_ENV = (
    *("TMUX", "TMUX_PANE", "COLUMNS", "LINES", "STY", "ZELLIJ", "ZELLIJ_SESSION_NAME"),
    "AI_SESSION_TOKEN",
)


def exit_signal(code: int | None) -> str | None:
    """The signal an exit code says killed the program (-9: `"SIGKILL"`, as subprocess
    reports it); None when it exited by itself."""
    if code is None or code >= 0:
        return None
    try:
        return signal.Signals(-code).name
    except ValueError:  # a real-time signal has no name of its own
        return f"SIG{-code}"


def describe_exit(code: int) -> str:
    """How a program ended, as the pane and the status line say it: `exited 3`, or
    `killed by SIGKILL` for a signal death."""
    if code >= 0:
        return f"exited {code}"
    name = exit_signal(code)
    return f"killed by signal {-code}" if name == f"SIG{-code}" else f"killed by {name}"


def signal_number(sig: int | str) -> signal.Signals:
    """A signal from a number (15) or a name in any case, with or without SIG (`"int"`,
    `"SIGTERM"`); ValueError naming the bad one."""
    if isinstance(sig, str) and sig.strip().isdigit():
        sig = int(sig)
    if isinstance(sig, int) and not isinstance(sig, bool):
        try:
            return signal.Signals(sig)
        except ValueError:
            raise ValueError(f"unknown signal number {sig}") from None
    if isinstance(sig, str):
        name = sig.strip().upper()
        try:
            return signal.Signals[name if name.startswith("SIG") else "SIG" + name]
        except KeyError:
            pass
    raise ValueError(f"unknown signal {sig!r}: give a name like INT, TERM, HUP, KILL or a number")


def _process_groups(session_id: int) -> set[int]:
    """Every process group in the POSIX session `session_id` (the shell's, its jobs'), read
    from /proc: a job under job control has a group of its own, so the shell's is not enough."""
    groups = {session_id}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return groups
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # state ppid pgrp session ...
        if len(fields) > 3 and int(fields[3]) == session_id:
            groups.add(int(fields[2]))
    return groups


@dataclass(frozen=True)
class SessionStatus:
    """created, running, exited (with the exit code; -N when killed by signal N) or error."""

    kind: Literal["created", "running", "exited", "error"]
    exit_code: int | None = None
    message: str | None = None

    CREATED: ClassVar[SessionStatus]
    RUNNING: ClassVar[SessionStatus]

    @classmethod
    def exited(cls, code: int) -> SessionStatus:
        """The program ended with `code` (-N: killed by signal N)."""
        return cls("exited", exit_code=code)

    @classmethod
    def error(cls, message: str) -> SessionStatus:
        """The program could not be started; `message` says why."""
        return cls("error", message=message)

    @property
    def is_running(self) -> bool:
        """The program runs (input can be sent)."""
        return self.kind == "running"

    @property
    def is_terminated(self) -> bool:
        """The program has ended or never could start."""
        return self.kind in ("exited", "error")

    @property
    def signal(self) -> str | None:
        """The signal that killed the program (`"SIGKILL"`), None if it exited by itself."""
        return exit_signal(self.exit_code) if self.kind == "exited" else None

    def describe(self) -> str:
        """In words, as the API and the CLI say it: `exited 3`, `killed by SIGKILL`."""
        if self.kind == "exited" and self.exit_code is not None:
            return describe_exit(self.exit_code)
        return str(self)

    def __str__(self) -> str:
        if self.kind == "exited":
            return f"exited({self.exit_code})"
        if self.kind == "error":
            return f"error({self.message})"
        return self.kind


SessionStatus.CREATED = SessionStatus("created")
SessionStatus.RUNNING = SessionStatus("running")


@dataclass(frozen=True)
class OutputEvent:
    """Bytes the program wrote (the terminal model has already been fed them); `offset` is
    the position of the first of them in the session's output (see `Session.output_since`)."""

    data: bytes
    offset: int


@dataclass(frozen=True)
class ExitEvent:
    """The program exited and all its output was read."""

    exit_code: int


@dataclass(frozen=True)
class CommandEvent:
    """The shell finished a command (its OSC 133 D mark was parsed): its record."""

    record: CommandRecord


SessionEvent = OutputEvent | ExitEvent | CommandEvent

INTEGRATION_VARIABLE = "AI_SESSION_SHELL_INTEGRATION"  # "0" (off, no, false): no rc file, marks


def integration_wanted(config: SessionConfig) -> bool:
    """Whether sessions get shell integration: the config's `shell_integration`, unless
    AI_SESSION_SHELL_INTEGRATION says 0/off/no/false in the session's or our environment."""
    value = config.environment.get(INTEGRATION_VARIABLE, os.environ.get(INTEGRATION_VARIABLE))
    if value is not None and value.strip().lower() in ("0", "off", "no", "false"):
        return False
    return config.shell_integration


@dataclass(frozen=True)
class OutputSlice:
    """Output from a byte offset on: `data` starts at offset `start`; `next` is the offset to
    ask for next time; `dropped` counts the bytes asked for that are no longer kept (the
    buffer keeps the newest `output_buffer_size` bytes). `data` never starts or ends inside a
    UTF-8 character while the program runs, so each slice decodes on its own."""

    data: bytes
    start: int
    next: int
    dropped: int


class Subscription:
    """`Session.subscribe()` without a callback: the session's events as an async iterator
    that ends after the ExitEvent; as an async context manager it unsubscribes on leaving.

    Events wait in a queue holding at most `max_bytes` of output: a reader that falls further
    behind loses the oldest OutputEvents (counted in `dropped`), never a CommandEvent or the
    ExitEvent. It can
    see the gap in `OutputEvent.offset` and fill it from `Session.output_since()`.
    """

    def __init__(self, session: Session, max_bytes: int) -> None:
        self._queue: deque[SessionEvent] = deque()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0  # bytes of output lost because the reader was too slow
        self._unsubscribe = session.subscribe(self._push)
        if session.status.is_terminated:  # nothing more will come: say so at once
            code = session.status.exit_code
            self._push(ExitEvent(code if code is not None else -1))

    def _push(self, event: SessionEvent) -> None:
        if self._closed:
            return
        queue = self._queue
        queue.append(event)
        if isinstance(event, OutputEvent):
            self._bytes += len(event.data)
            if self._bytes > self._max_bytes:  # drop the oldest output, never a record
                kept: deque[SessionEvent] = deque()
                while len(queue) > 1 and self._bytes > self._max_bytes:
                    old = queue.popleft()
                    if isinstance(old, OutputEvent):
                        self._bytes -= len(old.data)
                        self.dropped += len(old.data)
                    else:
                        kept.append(old)
                queue.extendleft(reversed(kept))
        elif isinstance(event, ExitEvent):
            self._unsubscribe()  # the end of this run (a respawn starts another)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> SessionEvent:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        event = self._queue.popleft()
        if isinstance(event, OutputEvent):
            self._bytes -= len(event.data)
        elif isinstance(event, ExitEvent):
            self._closed = True
        return event

    async def aclose(self) -> None:
        """Stop receiving events; the iteration ends."""
        self._closed = True
        self._unsubscribe()
        self._queue.clear()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@dataclass
class ExecResult:
    """What `execute()` saw: the exact exit code and the command's own output."""

    command: str
    exit_code: int | None
    output: str  # escape sequences removed, newlines kept
    raw_output: str  # as the program wrote it
    duration_ms: float
    timed_out: bool = False
    truncated: bool = False  # the output was longer than output_buffer_size: its end is kept
    still_running: bool = False  # timed out, interrupted, and not back at the prompt (yet)

    @property
    def success(self) -> bool:
        """The command finished in time with exit code 0."""
        return self.exit_code == 0 and not self.timed_out


def _now() -> datetime:
    return datetime.now(UTC)


def parse_output(text: str, command: str, exit_code: int | None) -> dict[str, Any] | None:
    """engine.output's parse of a command's output (None if it fails: a record is kept
    whatever its parser thinks). Imported on first use: its patterns take a while to compile."""
    from engine.output import OutputParser

    try:
        result: dict[str, Any] = OutputParser().parse(text, command, exit_code).to_dict()
    except Exception:
        log.exception("parsing the output of %r failed", command[:80])
        return None
    return result


_MARKER_ROOM = 64  # longest mark; searches overlap the previous chunk by this much
PROMPT_WAIT = 10.0  # seconds execute() waits for a starting shell's prompt, or a redrawn one
PROMPT_BACK_WAIT = 1.0  # seconds execute() waits after D for the next prompt to be drawn
LINE_SEARCH = 64 << 10  # bytes output_since() looks through for a line start after a drop
ANSWER_WAIT = 1.0  # seconds execute() waits for a program to echo what was just typed
INTERRUPT_WAIT = 2.0  # seconds a timed-out execute() waits for its interrupted command to end

# OSC 133 marks (engine/shell.py): C, a command line starts (bash's PS0); D;STATUS, it ended.
_C_MARK = re.compile(rb"\x1b\]133;C[^\x07\x1b]*(?:\x07|\x1b\\)")
_ANY_D_MARK = re.compile(rb"\x1b\]133;D;?(\d*)[^\x07\x1b]*(?:\x07|\x1b\\)")


def _d_mark(key: str) -> re.Pattern[bytes]:
    """The D mark of the shell whose marks carry `key`: a D that a command printed (`cat` of a
    recorded session) does not end it."""
    if not key:
        return _ANY_D_MARK
    return re.compile(rb"\x1b\]133;D;?(\d*);aisk=" + key.encode() + rb"(?:\x07|\x1b\\)")


_C_START = b"\x1b]133;C"
_LONGEST_C = 64 * 1024  # a C mark with a command line (`cmdline_url=`, engine/shell.py)
_B_MARK = re.compile(rb"\x1b\]133;B(?!;k=s)")  # a prompt's end (not a continuation's)
_S_MARK = re.compile(rb"\x1b\]133;A;k=s")  # the continuation prompt (PS2): a line unfinished
_NEWLINE = re.compile(rb"\n")
_AT_ONCE = re.compile(rb"")  # sh with the tty's echo off: no typed line comes back first


def _echoes(pty: Pty) -> bool:
    """Whether the terminal echoes what is typed (`stty -echo` turns it off)."""
    try:
        return bool(termios.tcgetattr(pty.fd)[3] & termios.ECHO)
    except (OSError, termios.error):
        return True


@dataclass
class _Collector:
    """Watches a session's output for one `execute()` call: the command's output starts at
    `begin` (the C mark, or for sh, which has none, the end of the typed line's echo) and ends
    at the D mark, which carries the exit status (`ended`); `back` follows when the next
    prompt is drawn (its B mark), so the caller returns with the shell at its prompt.

    Each chunk is searched once (with a small overlap), and the body kept is bounded by
    `limit`: the newest bytes win, as in `read_output()`.
    """

    begin: re.Pattern[bytes]
    ended: asyncio.Future[tuple[int | None, bytes]]
    back: asyncio.Future[None]
    limit: int
    end: re.Pattern[bytes] = _ANY_D_MARK  # this shell's D mark (see `_d_mark`)
    data: bytearray = field(default_factory=bytearray)
    started: bool = False
    truncated: bool = False
    unfinished: bool = False  # the shell asked for more of the line (PS2) instead of running it
    exited: int | None = None  # the session's exit code, when it ended before the command did

    def __call__(self, event: SessionEvent) -> None:
        if self.back.done() or isinstance(event, CommandEvent):
            return
        if isinstance(event, ExitEvent):
            if not self.ended.done():
                self.exited = event.exit_code
                self.ended.set_result((event.exit_code, self.body(len(self.data))))
            self.back.set_result(None)
            return
        scanned = max(0, len(self.data) - _MARKER_ROOM)
        if not self.started and self.data.startswith(_C_START):
            scanned = 0  # a long C mark kept whole so far (below)
        self.data += event.data
        if self.ended.done():  # after D: the data is the next prompt
            if _B_MARK.search(self.data, scanned):
                self.back.set_result(None)
            else:
                del self.data[: max(0, len(self.data) - _MARKER_ROOM)]
            return
        more = _S_MARK.search(self.data, scanned)
        if (
            more is not None
            and not (self.started and self.data[: more.start()].strip(b"\r\n"))
            and self.end.search(self.data, scanned, more.start()) is None
        ):  # a continuation prompt before any of the command's output: the line is unfinished
            self.unfinished = True
            self.ended.set_result((None, b""))
            del self.data[: more.end()]
            return
        if not self.started:
            m = self.begin.search(self.data, scanned)
            if m is None:
                end = self.end.search(self.data, scanned)  # a line with no command: no C
                if end is not None:
                    self._end(end, b"")
                    return
                cut = max(0, len(self.data) - _MARKER_ROOM)
                # zsh's and fish's C marks carry the command line: one not ended yet stays
                opened = self.data.rfind(_C_START, 0, cut)
                if opened >= 0 and len(self.data) - opened < _LONGEST_C:
                    cut = opened
                del self.data[:cut]
                return
            del self.data[: m.end()]
            self.started, scanned = True, 0
        end = self.end.search(self.data, scanned)
        if end is not None:
            self._end(end, self.body(end.start()))
        elif len(self.data) > self.limit + _MARKER_ROOM:
            del self.data[: len(self.data) - self.limit - _MARKER_ROOM]
            self.truncated = True

    def _end(self, mark: re.Match[bytes], body: bytes) -> None:
        self.ended.set_result((_status(mark), body))
        del self.data[: mark.end()]
        if _B_MARK.search(self.data):
            self.back.set_result(None)

    def body(self, stop: int) -> bytes:
        if not self.started:
            return b""
        body = bytes(self.data[:stop])
        if len(body) > self.limit:
            self.truncated = True
            body = body[-self.limit :]
        return body


def _status(mark: re.Match[bytes]) -> int | None:
    return int(mark.group(1)[-10:]) if mark.group(1) else None  # no int() of 4300 digits


def utf8_complete(data: bytes | bytearray, start: int = 0) -> int:
    """Where the whole characters of `data[start:]` end: len(data), or the index of a lead
    byte whose sequence has not all arrived yet (1 to 3 bytes held back)."""
    n = len(data)
    for back in range(1, min(4, n - start) + 1):
        byte = data[n - back]
        if byte < 0x80:
            return n
        if byte >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return n if back >= need else n - back
    return n


def _rest_of_character(out: bytearray, i: int, *, trimmed: bool) -> int:
    """How many continuation bytes of a UTF-8 character whose lead byte is before `i` start at
    `out[i]`: 0 unless a lead byte before `i` claims them (or, at the front of a buffer whose
    older bytes were `trimmed`, one may have). Bytes 0x80-0xBF that no lead byte claims are
    output like any other (binary, Latin-1), never skipped."""
    n = len(out)
    run = 0
    while i + run < n and run < 3 and 0x80 <= out[i + run] < 0xC0:
        run += 1
    if run == 0:
        return 0
    k = i - 1
    while k >= max(i - 3, 0) and 0x80 <= out[k] < 0xC0:
        k -= 1
    if k < 0:  # the buffer starts with continuation bytes: their lead was trimmed, or none
        return run if trimmed else 0
    if k < i - 3 or out[k] < 0xC0:
        return 0
    need = 2 if out[k] < 0xE0 else 3 if out[k] < 0xF0 else 4
    return max(0, min(run, need - (i - k)))


def _spawning(pid: int | None) -> bool:
    """The child is still on its way to its program: between posix_spawn and exec it is a
    copy of us with no command line yet, then `env -C` (engine/pty.py), for a moment."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return False
    return not cmdline or cmdline.startswith(b"env\x00-C\x00")


def _cmdline(pid: int | None) -> list[str]:
    """A process's argv ([] when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            words = file.read().split(b"\0")
    except OSError:
        return []
    return [w.decode(errors="replace") for w in words if w]


def _process_name(pid: int | None) -> str | None:
    """/proc/PID/comm: `bash`, `python3`; None when it cannot be read."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() or None
    except OSError:
        return None


@functools.cache
def _own_name() -> str | None:
    """This process's /proc comm (what a child shows between fork and exec)."""
    return _process_name(os.getpid())


def _executable(pid: int) -> str:
    """/proc/PID/exe: the program a process runs (fish for `fish -n`), else plain `fish`."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return "fish"


class Session:
    """One program on a pseudo-terminal, seen through a `Terminal`.

    Lifecycle: `Session(config)` (status created) -> `await start()` (running) ->
    exit or `await stop()` (exited) -> optionally `await respawn()` (running again). Output
    is kept twice: the newest `output_buffer_size` bytes, addressed by offset
    (`output_since()`, `read_output()`), and as a screen in `terminal`. A session made by a
    `SessionManager` reports what happens to it to `events` (None otherwise).
    """

    def __init__(
        self,
        config: SessionConfig | None = None,
        *,
        id: str | None = None,
        created_at: datetime | None = None,
    ) -> None:
        self.config = config or SessionConfig()
        self.id = id or str(uuid.uuid4())
        self.name = self.config.name or self.id[:8]
        self.created_at = created_at or _now()
        self.last_activity = self.created_at
        self.metadata: dict[str, Any] = {}
        self.status = SessionStatus.CREATED
        rows, cols = self.config.pty_size
        self.terminal = Terminal(columns=max(cols, 1), lines=max(rows, 1))
        self._pty: Pty | None = None
        self.events: EventLog | None = None  # set by the manager that made this session
        self.exited_at: datetime | None = None
        # The newest output_buffer_size bytes; _output[0] is byte number _output_start.
        self._output = bytearray()
        self._output_start = 0
        self._read_cursor = 0  # read_output()'s position
        self._parsed = 0  # offset of the next byte to parse (OutputEvent.offset)
        self.output_dropped = 0  # bytes read_output() never returned: the buffer was full
        self._release: Callable[[Session], None] | None = None  # manager: a failed start
        self.removed = False  # taken out of its manager: never started again
        self._respawning = False
        self._activity_bytes = 0  # output since the last `activity` event
        self._activity_sent = -ACTIVITY_INTERVAL  # loop time of the last one
        self._activity_timer: asyncio.TimerHandle | None = None
        self._last_output = 0.0  # loop time of the last output (for monitor_silence)
        self._silence_timer: asyncio.TimerHandle | None = None
        self._title = ""  # the title and cwd last reported
        self._cwd: str | None = None
        self._subscribers: list[Callable[[SessionEvent], None]] = []
        self._exec_lock = asyncio.Lock()
        self._exited = asyncio.Event()
        self._backlog = bytearray()  # read but not yet parsed (see engine/ingest.py)
        # When input was last typed, and whether output has come since: until the program
        # answers (its echo), a screen showing an empty prompt may be one it has not read yet.
        self._typed_at = 0.0
        self._answered = True
        self._exit_code: int | None = None  # the child exited; reported once parsed
        self._last_exit = -1  # the exit code of the last run that ended (wait()'s answer)
        self._parse_rate = 8e6  # bytes per second, a running estimate for ingest slices
        self.started_environment: dict[str, str] = {}  # what the program was started with
        self.recorder: Recorder | None = None  # output with its times (config.record_output)
        self.history = CommandHistory()  # the commands the shell ran (engine/history.py)
        self.shell_integration = False  # this run's shell got our rc file and prompt marks
        self._typed: str | None = None  # the command execute() runs now
        self._cancelled_at = -PROMPT_WAIT  # when execute() last cancelled an unfinished line (C-c)
        # What an agent in this pane would be sent: its finished commands (enable_ai_features)
        self.context: SessionContext | None = (
            SessionContext(self.id, self.config.context_config)
            if self.config.enable_ai_features
            else None
        )
        self._feeder: ContextFeeder | None = None

    def __repr__(self) -> str:
        return f"<Session {self.name!r} id={self.id} {self.status}>"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The program's process id (the session's process group), None before start()."""
        return self._pty.pid if self._pty is not None else None

    @property
    def command(self) -> str:
        """What the session runs, as a command line (`bash --norc`, `make && make test`)."""
        command = self.config.shell_command
        if isinstance(command, str):
            return command
        if command:
            return shlex.join(command)
        return self.config.shell or os.environ.get("SHELL") or "/bin/bash"

    @property
    def output_offset(self) -> int:
        """How many bytes the program has written so far: the offset of the next byte."""
        return self._output_start + len(self._output)

    @property
    def parsed_offset(self) -> int:
        """How many of the program's bytes the terminal has taken in (`output_offset` can be
        ahead while a flood waits to be parsed): the offset a snapshot of the screen is at."""
        return self._parsed

    @property
    def foreground_pid(self) -> int | None:
        """Process id of the program in the foreground (its group's leader); None when it
        cannot be known. A new one means a new program, even under the same name."""
        return self._pty.foreground_pid() if self._pty is not None else None

    @property
    def current_command(self) -> str | None:
        """Name of the program in the foreground (`vim`, `bash`), like tmux's
        #{pane_current_command}; None when it cannot be known. The session's own program is
        named from its argv while it is still on its way there (`env -C`, a copy of us)."""
        pid = self._pty.foreground_pid() if self._pty is not None else None
        name = _process_name(pid)
        # Only a name the program's own cannot be is worth a second look (the status line asks
        # often): `env`, or ours, as the child is before its exec.
        if (
            self._pty is not None
            and pid == self.pid
            and name in ("env", _own_name())
            and _spawning(pid)
        ):
            return os.path.basename(self._pty.argv[0])
        return name

    @property
    def foreground_command_line(self) -> str | None:
        """The whole command line of the program in the foreground (`vim notes.txt`), None
        when the session's shell is there or it cannot be read: what a restored snapshot
        types at the new prompt."""
        pid = self._pty.foreground_pid() if self._pty is not None else None
        if pid is None:
            return None
        if pid == self.pid:  # the session's own program: a shell, or the command it was given
            if _spawning(pid) or _process_name(pid) in shell.SHELLS:
                return None
            return self.command if self.config.shell_command else None
        words = _cmdline(pid)
        if not words or words == _cmdline(self.pid):
            return None  # a copy of the shell on its way to exec the command (or gone)
        return shlex.join(words)

    @property
    def current_path(self) -> str | None:
        """Working directory of the foreground program (#{pane_current_path})."""
        pid = self._pty.foreground_pid() if self._pty is not None else None
        try:
            return os.readlink(f"/proc/{pid}/cwd") if pid is not None else None
        except OSError:
            return None

    async def start(self) -> None:
        """Start the program; raises SessionError (or a subclass) saying what is wrong."""
        if self.status.kind != "created":
            raise SessionError(f"session {self.name!r} was already started ({self.status})")
        if self.removed:  # its manager has let it go: a program now would run unseen
            raise SessionNotFound(f"session {self.name!r} was removed; create a new one")
        try:
            self.config.validate()
            env = self._environment()
            self.started_environment = env
            key = secrets.token_hex(6)
            self.shell_integration = integration_wanted(self.config)
            if self.shell_integration:  # OSC 133 marks, see execute and engine/history.py
                argv = shell.prepare(self.config.argv(), env, key)
            else:
                argv, key = self.config.argv(), ""
            self.terminal.screen.prompt_key = key
            rows, cols = self.config.pty_size
            self._started = time.monotonic()
            self.terminal.screen.forget_prompt()  # a respawned shell marks its own prompt
            self._pty = Pty(
                argv,
                cwd=str(self.config.working_directory),
                env=env,
                rows=rows,
                cols=cols,
                on_data=self._on_data,
                on_exit=self._on_exit,
            )
            self._pty.start()
        except SessionError as exc:
            self.status = SessionStatus.error(str(exc))
            if self._release is not None and not self._respawning:
                self._release(self)  # the manager forgets it: its name is free again
            raise
        self.status = SessionStatus.RUNNING
        self.last_activity = _now()
        if self.config.record_output:
            self._record()
        if self.context is not None and self._feeder is None:
            from engine.contextfeed import ContextFeeder  # it builds on this module

            self._feeder = ContextFeeder(self, self.context)
        self._now_running()

    def restore_screen(self, terminal: Terminal) -> None:
        """Show `terminal` (a snapshot's) before the program starts: its screen and history
        stay above where the new program begins, as a person left them. The program that
        drew it is gone, so what it set up goes too: the alternate screen (the main screen
        behind it shows), mouse reporting, bracketed paste, hidden cursor, colours."""
        if self.status.kind != "created":
            raise SessionError(f"session {self.name!r} has started: restore its screen before")
        terminal.feed(
            "\x1b[?1049l\x1b[?1047l\x1b[!p\x1b[0m"  # main screen, soft reset (DECSTR)
            "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l"
        )
        terminal.take_responses()
        rows, cols = self.config.pty_size
        terminal.resize(max(cols, 1), max(rows, 1))
        screen = terminal.screen
        if screen.cursor.x > 0 or terminal.display[screen.cursor.y].strip():
            terminal.feed("\r\n")  # the new prompt starts on a line of its own
        self.terminal = terminal

    async def wait_for_prompt(self) -> None:
        """Wait until the shell sits at an empty prompt (SessionBusy if it does not: a
        program runs, a line is typed); SessionError when no integrated shell runs here."""
        await self._await_prompt()

    def _record(self) -> None:
        """Start the recorder (made on the first start; a respawn's output goes on in it)."""
        if self.recorder is None:
            from engine.recording import Recorder  # it builds on this module

            self.recorder = Recorder(self)
        self.recorder.start()

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(TERM="xterm-256color", COLORTERM="truecolor")
        env.update(self.config.environment)
        env.update(AI_SESSION_ID=self.id, AI_SESSION_NAME=self.name)
        return env

    def _now_running(self) -> None:
        """The program started: watch for silence and tell the event log."""
        self._last_output = asyncio.get_running_loop().time()
        self._arm_silence()
        if self._respawning:
            self._report("respawned", pid=self.pid)
        else:
            columns, lines = self.terminal.columns, self.terminal.lines
            self._report(
                "created", command=self.command, pid=self.pid, columns=columns, lines=lines
            )

    async def respawn(self, *, kill: bool = False) -> None:
        """Start the program anew in this session, as tmux's respawn-pane: same id, name,
        configuration and subscribers, output offsets go on; the visible screen is cleared and
        its modes reset, the history stays. SessionError if it still runs, unless `kill`
        (then it is stopped first, as respawn-pane -k)."""
        if self.status.kind == "created":
            raise SessionError(f"session {self.name!r} was never started; start() it")
        if self.removed:
            raise SessionNotFound(f"session {self.name!r} was removed; create a new one")
        if self.status.is_running:
            if not kill:
                raise SessionError(
                    f"session {self.name!r} is still running; respawn(kill=True) stops it first"
                )
            await self.stop()
            if self.removed:  # removed while it was being stopped: stay stopped
                raise SessionNotFound(f"session {self.name!r} was removed; create a new one")
        if not self.status.is_terminated:  # another respawn got there first
            raise SessionError(f"session {self.name!r} is already running again")
        # What tmux 3.3a's respawn-pane shows: a half-read sequence cancelled, the alternate
        # screen left, modes reset, the visible rows cleared (not pushed to the history, which
        # stays), the cursor home; the title stays until the new program sets one.
        rows = b"".join(b"\x1b[%dH\x1b[2K" % (y + 1) for y in range(self.terminal.lines))
        reset = b"\x18\x1b[?1049l\x1b[!p" + rows + b"\x1b[H"
        self.terminal.feed(reset)
        if self.recorder is not None:  # not the program's output, but replay needs it
            self.recorder.fed(reset)
        self._pty = None
        self._exit_code = None
        self.exited_at = None
        self._exited = asyncio.Event()
        self.status = SessionStatus.CREATED
        self._respawning = True
        try:
            await self.start()
        finally:
            self._respawning = False

    async def stop(self, grace: float = 2.0) -> None:
        """SIGHUP the program, SIGKILL it after `grace` seconds, and reap it."""
        if self._pty is None or self.status.is_terminated:
            return
        exited = self._exited  # a respawn while we wait makes a new one: not ours to wait for
        await self._pty.terminate(grace)
        await exited.wait()  # output still queued is parsed first

    async def wait(self) -> int:
        """Wait for the program to exit; its exit code."""
        if self.status.kind == "error":  # a failed start or respawn: nothing will exit
            raise SessionError(f"session {self.name!r} could not start: {self.status.message}")
        if self._pty is None:
            raise SessionError(f"session {self.name!r} was never started")
        await self._exited.wait()
        return self._last_exit  # this run's, even if a respawn has started the next one

    def _require_running(self) -> Pty:
        if self._pty is None or not self.status.is_running:
            hint = "start() it first" if self.status.kind == "created" else "create a new session"
            raise ProcessError(
                f"session {self.name!r} is not running ({self.status.describe()}); {hint}"
            )
        return self._pty

    # -- output ------------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        self.last_activity = _now()
        self._answered = True
        out = self._output
        out += data
        excess = len(out) - self.config.output_buffer_size
        if excess > 0:
            del out[:excess]
            self._output_start += excess
        if self.events is not None:
            self._note_activity(len(data))
        if not self._backlog and len(data) <= IMMEDIATE:
            self._parse(data)
            return
        self._backlog += data
        queue_for(asyncio.get_running_loop()).add(self)
        if len(self._backlog) >= _backlog_limit() and self._pty is not None:
            self._pty.pause_reading()

    def ingest_some(self, seconds: float) -> bool:
        """Parse about `seconds` worth of the backlog (the ingest queue calls this), sized by
        how fast this session's output has parsed so far; True while some is left."""
        limit = min(max(int(self._parse_rate * seconds), 4096), 1 << 20)
        data = bytes(self._backlog[:limit])
        del self._backlog[:limit]
        start = time.perf_counter()
        self._parse(data)
        elapsed = time.perf_counter() - start
        if elapsed > 0:
            self._parse_rate = (self._parse_rate + len(data) / elapsed) / 2
        if len(self._backlog) <= _backlog_limit() // 4 and self._pty is not None:
            self._pty.resume_reading()
        if self._backlog:
            return True
        if self._exit_code is not None:
            self._exit(self._exit_code)
        return False

    def _parse(self, data: bytes) -> None:
        offset = self._parsed
        self._parsed = offset + len(data)
        self.terminal.feed(data)
        finished = self.terminal.screen.commands.take() if self.shell_integration else []
        replies = self.terminal.take_responses()
        if replies and self._pty is not None and self._pty.running:
            try:
                self._pty.write(replies)
            except SessionError:
                log.warning("session %s: could not answer a terminal query", self.name)
        if self.events is not None:  # two comparisons per parsed piece, not per byte
            screen = self.terminal.screen
            if screen.title != self._title or screen.cwd != self._cwd:
                self._note_screen(screen.title, screen.cwd)
        self._emit(OutputEvent(data, offset))
        for done in finished:
            self._command_done(done)

    def _command_done(self, done: FinishedCommand) -> None:
        """A command ended: number it, parse its output if asked, keep it, tell everyone."""
        command = done.command
        if self._typed is not None:  # execute() typed it (as `. FILE`, or a long paste)
            command, self._typed = self._typed, None
        parsed: dict[str, Any] | None = None
        if self.config.parse_output:
            parsed = parse_output(done.output, command, done.exit_code)
        record = CommandRecord(
            session_id=self.id,
            session=self.name,
            seq=self.history.next_seq(),
            command=command,
            cwd=done.cwd or str(self.config.working_directory),  # no OSC 7 yet: it started here
            started_at=done.started_at,
            ended_at=done.ended_at,
            exit_code=done.exit_code,
            output=done.output,
            output_truncated=done.output_truncated,
            parsed=parsed,
        )
        self.history.add(record)
        self._report(
            "command",
            command=command,
            exit_code=record.exit_code,
            cwd=record.cwd,
            command_seq=record.seq,
            duration=record.duration,
        )
        self._emit(CommandEvent(record))

    # -- events ------------------------------------------------------------------------------

    def _report(self, type: str, **data: Any) -> None:
        if self.events is not None:
            self.events.emit(type, self, **data)

    def _note_screen(self, title: str, cwd: str | None) -> None:
        if title != self._title:
            self._title = title
            self._report("title", title=title)
        if cwd != self._cwd:
            self._cwd = cwd
            self._report("cwd", cwd=cwd)

    def _note_activity(self, size: int) -> None:
        """Output arrived: an `activity` event at once after a quiet second, else at most one
        a second (a timer sends what came meanwhile); restart the silence watch."""
        loop = asyncio.get_running_loop()
        now = self._last_output = loop.time()
        if self._silence_timer is None and self.config.monitor_silence:
            self._arm_silence()
        self._activity_bytes += size
        if self._activity_timer is None:
            due = self._activity_sent + ACTIVITY_INTERVAL
            if now >= due:
                self._send_activity()
            else:
                self._activity_timer = loop.call_at(due, self._send_activity)

    def _send_activity(self) -> None:
        self._activity_timer = None
        if self._activity_bytes:
            self._activity_sent = asyncio.get_running_loop().time()
            size, self._activity_bytes = self._activity_bytes, 0
            self._report("activity", bytes=size)

    def set_monitor_silence(self, seconds: float | None) -> None:
        """Report `silence` after `seconds` without output (tmux's monitor-silence); None or 0
        turns it off. Counted from the last output, or from now if there was none."""
        if seconds is not None and seconds < 0:
            raise ValueError("monitor_silence must be 0 (off) or more seconds")
        self.config.monitor_silence = seconds or None
        if self._silence_timer is not None:
            self._silence_timer.cancel()
            self._silence_timer = None
        if seconds and self.status.is_running:
            loop = asyncio.get_running_loop()
            self._last_output = self._last_output or loop.time()
            self._arm_silence()

    def _arm_silence(self) -> None:
        seconds = self.config.monitor_silence
        if seconds and self.events is not None:
            loop = asyncio.get_running_loop()
            self._silence_timer = loop.call_at(self._last_output + seconds, self._silence_due)

    def _silence_due(self) -> None:
        """The silence timer fired: report once per quiet spell, or wait for the rest of it
        if output came meanwhile (output only notes its time; it never touches the timer)."""
        self._silence_timer = None
        seconds = self.config.monitor_silence
        if not seconds or not self.status.is_running:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_output >= seconds - 0.01:  # timers may fire a tick early
            self._report("silence", seconds=seconds)
        else:
            self._silence_timer = loop.call_at(self._last_output + seconds, self._silence_due)

    def _stop_timers(self) -> None:
        if self._silence_timer is not None:
            self._silence_timer.cancel()
            self._silence_timer = None
        if self._activity_timer is not None:
            self._activity_timer.cancel()
            self._activity_timer = None
        if self._activity_bytes:  # the last output is reported before the exit
            self._send_activity()

    def _on_exit(self, code: int) -> None:
        if self._backlog:  # the screen is not finished yet: exit once it is
            self._exit_code = code
        else:
            self._exit(code)

    def _exit(self, code: int) -> None:
        self._last_exit = code
        self.status = SessionStatus.exited(code)
        self.last_activity = exited_at = self.exited_at = _now()
        self._stop_timers()
        self._report(
            "exit", exit_code=code, signal=self.status.signal, exited_at=iso_time(exited_at)
        )
        if self.removed:  # its manager let it go: this exit is the last it hears of it
            self.events = None
        self._exited.set()
        self._emit(ExitEvent(code))

    def _emit(self, event: SessionEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # one broken subscriber must not stop the session or the others
                log.exception("session %s: subscriber %r failed", self.name, callback)

    @overload
    def subscribe(self, callback: Callable[[SessionEvent], None]) -> Callable[[], None]: ...

    @overload
    def subscribe(self, callback: None = None, *, max_bytes: int | None = None) -> Subscription: ...

    def subscribe(
        self,
        callback: Callable[[SessionEvent], None] | None = None,
        *,
        max_bytes: int | None = None,
    ) -> Callable[[], None] | Subscription:
        """Call `callback` with every OutputEvent, CommandEvent (a shell command ended, after
        the output that ended it) and the ExitEvent; returns an unsubscribe.

        Without a callback: a `Subscription` to iterate (`async for event in
        session.subscribe()`, or inside `async with`), ending after the ExitEvent; it queues
        at most `max_bytes` of output (default `output_buffer_size`) for a slow reader, and
        never drops a CommandEvent.
        """
        if callback is None:
            return Subscription(self, max_bytes or self.config.output_buffer_size)
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def output_since(self, offset: int) -> OutputSlice:
        """The output from byte `offset` on (0 = the first byte the program wrote), for any
        number of readers, each with its own cursor (`next` of the slice it got). What is no
        longer kept is counted in `dropped`, and then the slice starts at the next line (when
        one starts within LINE_SEARCH bytes); an offset past the end gives an empty slice."""
        if offset < 0:
            raise ValueError(f"output offset {offset} is invalid: offsets start at 0")
        out, base = self._output, self._output_start
        end = base + len(out)
        offset = min(offset, end)
        i = max(offset - base, 0)
        n = len(out)
        if offset < base:  # some was dropped: start at a line's start, not in the middle of one
            newline = out.find(b"\n", i, i + LINE_SEARCH)
            i = newline + 1 if newline >= 0 else i
        rest = _rest_of_character(out, i, trimmed=base > 0)
        i += rest  # inside a character: skip its rest (the lead byte is not there)
        # A character still being written is kept back (all of it, once the program ended).
        stop = n if self.status.is_terminated else utf8_complete(out, i)
        start = base + i
        data = bytes(out[i:stop])
        return OutputSlice(data, start, start + len(data), start - offset)

    async def read_output(self) -> bytes:
        """Everything the program wrote since the last call (the newest
        `output_buffer_size` bytes of it; `output_dropped` counts what was lost)."""
        return self.take_output().data

    def take_output(self) -> OutputSlice:
        """`read_output()` as a slice: what it returns, and where that starts and ends. The
        session keeps this one cursor for every caller; `output_since` keeps none."""
        got = self.output_since(self._read_cursor)
        self._read_cursor = got.next
        self.output_dropped += got.dropped
        return got

    def capture_pane(
        self,
        ansi: bool = False,
        start: int | str | None = None,
        end: int | str | None = None,
        join_wrapped: bool = False,
    ) -> str:
        """The screen as text, like `tmux capture-pane -p [-e] [-S] [-E] [-J]` (see
        `Terminal.capture`)."""
        return self.terminal.capture(ansi=ansi, start=start, end=end, join_wrapped=join_wrapped)

    # -- input -------------------------------------------------------------------------------

    async def send_input(self, data: str | bytes) -> None:
        """Type `data` into the program (text is sent as UTF-8)."""
        pty = self._require_running()
        pty.write(data.encode() if isinstance(data, str) else bytes(data))
        self.terminal.note_typed()
        self._typed_at = time.monotonic()
        self._answered = False
        self.last_activity = _now()

    async def resize(self, *, columns: int, lines: int) -> None:
        """Resize the terminal and the PTY; the program gets SIGWINCH."""
        self.set_size(columns=columns, lines=lines)

    def set_size(self, *, columns: int, lines: int) -> None:
        """`resize()` for callers that are not coroutines (a widget's resize handler)."""
        if not (1 <= lines <= MAX_SIZE and 1 <= columns <= MAX_SIZE):
            raise SessionError(
                f"size {columns}x{lines} is invalid: columns and lines must be 1 to {MAX_SIZE}"
            )
        changed = (columns, lines) != (self.terminal.columns, self.terminal.lines)
        self.config.pty_size = (lines, columns)
        self.terminal.resize(columns, lines)
        if self.recorder is not None:
            self.recorder.resized(columns, lines)
        if self._pty is not None and self.status.is_running:
            self._pty.resize(lines, columns)
        if changed:
            self._report("resize", columns=columns, lines=lines)

    def send_signal(self, sig: int | str, *, foreground: bool = True) -> None:
        """Send a signal (`"INT"`, `"SIGTERM"`, `15`) to the job in the foreground, as a key
        like C-c would (the shell itself when it is at its prompt); with foreground=False to
        every process of the session: the shell and all its jobs. ValueError for an unknown
        signal, ProcessError if the session is not running."""
        number = signal_number(sig)
        pty = self._require_running()
        groups = {pty.foreground_pid() or pty.pid} if foreground else _process_groups(pty.pid)
        for group in groups:
            try:
                os.killpg(group, number)
            except ProcessLookupError:  # that job ended meanwhile
                continue
            except PermissionError as exc:
                raise PermissionDenied(f"cannot signal process group {group}: {exc}") from exc

    # -- metadata ----------------------------------------------------------------------------

    def set_metadata(self, key: str, value: Any) -> None:
        """Label the session (`role`, `task`...); reported as a `metadata` event."""
        self.metadata[key] = value
        self._report("metadata", metadata=dict(self.metadata))

    def update_metadata(self, changes: dict[str, Any]) -> None:
        """Merge `changes` into the metadata, as a JSON merge patch: a None value removes its
        key. One `metadata` event with the whole result."""
        for key, value in changes.items():
            if value is None:
                self.metadata.pop(key, None)
            else:
                self.metadata[key] = value
        self._report("metadata", metadata=dict(self.metadata))

    def get_metadata(self, key: str, default: Any = None) -> Any:
        """One metadata value, `default` when unset."""
        return self.metadata.get(key, default)

    # -- execute -----------------------------------------------------------------------------

    async def execute(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run `command` in the session's shell as if typed at its prompt; wait for it to end.

        Only when the shell waits at an empty prompt (it owns the terminal's foreground, its
        prompt mark is the last one, nothing is typed after it); otherwise SessionBusy names
        what runs, and nothing is typed. A shell still starting or redrawing its prompt is
        waited for (up to PROMPT_WAIT seconds). The screen shows the command line, as typed;
        bash, zsh and fish take a long or multi-line one as a paste; what no shell could take
        as typed (sh's lines over MAX_TYPED_SH or of several lines, a `!` bash or zsh would
        expand, control characters) is sourced from a private file (`. FILE` shows). The
        shell's OSC 133 marks (engine/shell.py) delimit the output and carry the exact exit
        status. Works with bash, zsh, fish and sh (dash); other programs get SessionError. On
        timeout only what this command started is interrupted (C-c, or SIGINT to its
        foreground job) and `timed_out` is set.
        """
        if timeout is None:
            timeout = self.config.timeout or DEFAULT_EXECUTE_TIMEOUT
        async with self._exec_lock:
            pty = self._require_running()
            shell_pid, kind = await self._await_prompt()
            if kind == "sh" and pty.cook():  # its line editor is the tty's cooked mode
                log.info("session %s: the terminal was left raw; cooked again for sh", self.name)
            path = None
            line = command.encode()
            expands = kind in ("bash", "zsh")  # history expansion when the line is accepted
            parses = kind != "fish" or await shell.fish_parses(_executable(shell_pid), command)
            if parses and shell.can_type(command, history_expansion=expands, sh=kind == "sh"):
                pass
            elif (
                parses
                and kind in ("bash", "zsh", "fish")
                and self.terminal.bracketed_paste
                and shell.can_paste(command, history_expansion=expands)
                and (kind == "bash" or len(command.encode()) <= shell.MAX_PASTED)
            ):
                # Long or several lines: pasted, as a person would (the line editor reads it
                # whole, with no tty line limit; the history keeps it as one entry).
                line = encode_paste(command.rstrip("\n"), bracketed=True)
            else:
                path = shell.command_file(command)
                # The leading space keeps it out of history where HISTCONTROL ignores spaces.
                source = "source" if kind == "fish" else "."
                line = f" {source} {shlex.quote(str(path))}".encode()
            loop = asyncio.get_running_loop()
            collector = _Collector(
                begin=_C_MARK if kind != "sh" else _NEWLINE if _echoes(pty) else _AT_ONCE,
                ended=loop.create_future(),
                back=loop.create_future(),
                limit=self.config.output_buffer_size,
                end=_d_mark(self.terminal.screen.prompt_key),
            )
            unsubscribe = self.subscribe(collector)
            started = time.perf_counter()
            self._typed = command  # its record shows it as given, not as the screen shows it
            try:
                pty.write(line + b"\r")
                try:
                    code, body = await asyncio.wait_for(asyncio.shield(collector.ended), timeout)
                    timed_out = False
                except TimeoutError:
                    code, body, timed_out = None, collector.body(len(collector.data)), True
                    if not collector.ended.done():  # it may have ended just now
                        self._interrupt(pty, shell_pid)
                if collector.unfinished and pty.running:  # cancel the line, as C-c at `> `
                    pty.write(b"\x03")
                    self._cancelled_at = time.monotonic()
                # Return with the shell back at its prompt (drawn right after D), so the
                # screen, the output and the next call find it there.
                grace = INTERRUPT_WAIT if timed_out or collector.unfinished else PROMPT_BACK_WAIT
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(collector.back), grace)
                if collector.unfinished and not collector.back.done() and pty.running:
                    # A C-c that came while the shell was still drawing its continuation
                    # prompt can be lost (zsh, under load): once more, now that it waits.
                    pty.write(b"\x03")
                    self._cancelled_at = time.monotonic()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(collector.back), grace)
            finally:
                unsubscribe()
                if path is not None:
                    self._remove_when_done(path, collector.ended.done())
                self._typed = None
            if collector.exited is not None and collector.exited < 0:
                # Killed (a DELETE, a signal to the session): the command has no exit code
                # of its own. `exit N` run by the command is the shell's N, reported below.
                raise ProcessError(
                    f"session {self.name!r} ended ({describe_exit(collector.exited)}) while "
                    f"{command[:80]!r} ran"
                )
            if collector.unfinished:
                raise IncompleteCommand(
                    f"the shell found {command[:80]!r} unfinished (an open quote, or a "
                    "trailing `|`, `&&` or `\\`?) and asked for more; the line was cancelled"
                )
            raw = body.decode("utf-8", "replace")
            return ExecResult(
                command=command,
                exit_code=code,
                output=plain_text(raw),
                raw_output=raw,
                duration_ms=(time.perf_counter() - started) * 1000,
                timed_out=timed_out,
                truncated=collector.truncated,
                still_running=timed_out and not collector.back.done(),
            )

    async def _await_prompt(self) -> tuple[int, str]:
        """Wait until the shell sits at an empty prompt: (its pid, which shell: "bash", "zsh",
        "fish", or "sh" for one that marks no commands with C). Raises SessionBusy or
        SessionError as `_prompt_state` decides."""
        deadline = time.monotonic() + PROMPT_WAIT
        changed = asyncio.Event()
        unsubscribe = self.subscribe(lambda event: changed.set())
        try:
            while True:
                state = self._prompt_state(self._require_running())
                if not isinstance(state, str):
                    return state
                if time.monotonic() > deadline:
                    raise SessionBusy(
                        f"session {self.name!r} is busy: {state} for {PROMPT_WAIT:g}s",
                        command=self.current_command,
                    )
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.05)
        finally:
            unsubscribe()

    def _prompt_state(self, pty: Pty) -> tuple[int, str] | str:
        """(shell pid, which shell) when the shell waits at an empty prompt; a reason to wait a
        little when it is starting or drawing its prompt; SessionBusy when a program runs or
        a line is typed; SessionError when no shell with integration marks runs here."""
        term = self.terminal
        if self._backlog or pty.pending_input or pty.unread_output():
            return "output or input is in flight"
        if not self._answered and time.monotonic() - self._typed_at < ANSWER_WAIT:
            return "input was typed and the program has not answered it yet"
        foreground = pty.foreground_pid()
        mark = term.prompt_mark
        if mark is None and not self.shell_integration:
            raise SessionError(
                f"session {self.name!r}: its shell shows no prompt marks ({INTEGRATION_VARIABLE}"
                "=0 turned shell integration off); execute works with bash, zsh, fish and sh "
                "(dash), whose prompts ai-session marks (OSC 133)"
            )
        if mark is None:  # no prompt yet: starting, or not a shell we integrate with
            own = _process_name(self.pid)
            if own is not None and own not in shell.SHELLS and not _spawning(self.pid):
                raise SessionError(
                    f"session {self.name!r} runs {own}, not a shell: execute needs bash, zsh, "
                    "fish or sh"
                )
            if time.monotonic() - self._started < PROMPT_WAIT:
                return "the shell is starting"
            raise SessionError(
                f"session {self.name!r}: {own or 'its shell'} shows no prompt marks; execute "
                "works with bash, zsh, fish and sh (dash), whose prompts ai-session marks (OSC 133)"
            )
        options = term.prompt_options
        pid = options.get("ais", "")
        shell_pid = int(pid) if pid.isdigit() else (self.pid or -1)
        if foreground is not None and foreground != shell_pid:
            name = _process_name(foreground) or f"process {foreground}"
            raise SessionBusy(f"session {self.name!r} is busy: {name} is running", command=name)
        name = _process_name(shell_pid) or "the shell"
        if shell_pid != self.pid and name not in shell.SHELLS:  # marks a program printed
            raise SessionBusy(f"session {self.name!r} is busy: {name} is running", command=name)
        if mark in ("A", "D"):
            return "the shell is drawing its prompt"
        if mark == "S" and time.monotonic() - self._cancelled_at < PROMPT_WAIT:
            return "the shell is cancelling an unfinished line"  # execute's own C-c, above
        if mark == "S":
            raise SessionBusy(
                f"session {self.name!r} is busy: an unfinished command line waits for more "
                "(the shell shows its continuation prompt)",
                command=name,
            )
        kind = options.get("ais_sh", "bash") if "ais_c" in options else "sh"
        if mark == "C":
            if kind != "sh" and not name.startswith(kind) and foreground == shell_pid:
                # bash marked the command, and now another program holds its pid: `exec sh`.
                raise SessionError(
                    f"session {self.name!r}: its {kind} was replaced by {name} (exec), which "
                    "has no prompt marks; respawn the session to use execute again"
                )
            raise SessionBusy(
                f"session {self.name!r} is busy: {name} is running a command", command=name
            )
        term.settle()
        cursor = (term.screen.cursor.y, term.screen.cursor.x)
        at = None if term.prompt_scrolled else term.prompt_input
        if at is not None and cursor == at and self._blank_from(at, kind in ("zsh", "fish")):
            return shell_pid, kind
        # Output after the prompt (a background job's), and nothing typed since the last
        # command began (sh marks none: since the prompt): the line the shell edits is empty.
        if not (term.typed_since_prompt if kind == "sh" else term.typed_since_command):
            return shell_pid, kind
        if at is not None and (cursor[0] == at[0] or kind != "sh"):
            raise SessionBusy(
                f"session {self.name!r} is busy: a command line is half typed", command=name
            )
        raise SessionBusy(
            f"session {self.name!r} is busy: {name} is not at an empty prompt "
            "(a command line was entered, or output came after the prompt)",
            command=name,
        )

    def _blank_from(self, at: tuple[int, int], right_prompt: bool = False) -> bool:
        """Nothing is on screen from `at` (row, column) to the end of its row: no text typed
        there (the next row when the prompt filled its row). With `right_prompt` (zsh's RPS1,
        fish_right_prompt) text that ends at the right edge, two blank cells or more after
        `at`, is that prompt, not typed text."""
        y, x = at
        columns = self.terminal.columns
        if x >= columns:
            y, x = y + 1, 0
        row = self.terminal.screen.buffer.get(y) if y < self.terminal.lines else None
        used = sorted(at_x for at_x, cell in (row or {}).items() if at_x >= x and cell.data.strip())
        if not used:
            return True
        return right_prompt and used[0] >= x + 2 and used[-1] >= columns - 2

    def _interrupt(self, pty: Pty, shell_pid: int) -> None:
        """Stop the command execute() typed, which is still running: SIGINT its foreground job
        (a program may have the terminal in raw mode), or C-c to the shell's own builtin or
        unfinished line. Nothing else runs then: the shell only reads a new line after D."""
        if not pty.running:
            return
        foreground = pty.foreground_pid()
        if foreground is not None and foreground != shell_pid:
            with contextlib.suppress(OSError):
                os.killpg(foreground, signal.SIGINT)
        else:
            pty.write(b"\x03")

    def _remove_when_done(self, path: Path, now: bool) -> None:
        """Delete a command file: now, or once the shell has read it (its D mark, or exit)."""
        if now:
            path.unlink(missing_ok=True)
            return

        def watch(event: SessionEvent) -> None:
            if isinstance(event, CommandEvent):
                return
            if isinstance(event, ExitEvent) or b"\x1b]133;D" in event.data:
                path.unlink(missing_ok=True)
                unsubscribe()

        unsubscribe = self.subscribe(watch)


AISession = Session
