"""`Session` (alias `AISession`): one program on one PTY, its terminal model and its output."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from engine.ansi import plain_text
from engine.config import SessionConfig
from engine.errors import ProcessError, SessionError
from engine.ingest import queue_for, typing
from engine.pty import Pty
from engine.terminal import MAX_SIZE, Terminal

log = logging.getLogger(__name__)

DEFAULT_EXECUTE_TIMEOUT = 30.0
IMMEDIATE = 16 * 1024  # output up to this size (and nothing queued) is parsed when it arrives
MAX_BACKLOG = 1024 * 1024  # queued output at which the PTY stops being read until parsed
TYPING_BACKLOG = 64 * 1024  # ... while someone is typing: read less far ahead of the parser


def _backlog_limit() -> int:
    """Output read ahead of the parser at which reading stops (less while someone types)."""
    return TYPING_BACKLOG if typing() else MAX_BACKLOG


# Variables of an enclosing multiplexer that would mislead programs inside our panes.
_DROPPED_ENV = ("TMUX", "TMUX_PANE", "COLUMNS", "LINES", "STY", "ZELLIJ", "ZELLIJ_SESSION_NAME")


def describe_exit(code: int) -> str:
    """How a program ended, as the pane and the status line say it: `exited 3`, or
    `killed by SIGKILL` for a signal death (an exit code of -9, as subprocess reports it)."""
    if code >= 0:
        return f"exited {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:  # a real-time or unknown signal number
        return f"killed by signal {-code}"


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
        return cls("exited", exit_code=code)

    @classmethod
    def error(cls, message: str) -> SessionStatus:
        return cls("error", message=message)

    @property
    def is_running(self) -> bool:
        return self.kind == "running"

    @property
    def is_terminated(self) -> bool:
        return self.kind in ("exited", "error")

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
    """Bytes the program wrote (the terminal model has already been fed them)."""

    data: bytes


@dataclass(frozen=True)
class ExitEvent:
    """The program exited and all its output was read."""

    exit_code: int


SessionEvent = OutputEvent | ExitEvent


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

    @property
    def success(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def _now() -> datetime:
    return datetime.now(UTC)


_MARKER_ROOM = 64  # longest marker; searches overlap the previous chunk by this much


@dataclass
class _Collector:
    """Watches a session's output for one `execute()` call's begin and end markers.

    Each chunk is searched once (with a small overlap), and the body kept is bounded by
    `limit`: the newest bytes win, as in `read_output()`.
    """

    begin: bytes
    end: re.Pattern[bytes]
    done: asyncio.Future[tuple[int | None, bytes]]
    limit: int
    data: bytearray = field(default_factory=bytearray)
    started: bool = False
    truncated: bool = False

    def __call__(self, event: SessionEvent) -> None:
        if self.done.done():
            return
        if isinstance(event, ExitEvent):
            self.done.set_result((event.exit_code, self.body(len(self.data))))
            return
        scanned = max(0, len(self.data) - _MARKER_ROOM)
        self.data += event.data
        if not self.started:
            at = self.data.find(self.begin, scanned)
            if at < 0:
                del self.data[: max(0, len(self.data) - _MARKER_ROOM)]
                return
            del self.data[: at + len(self.begin)]
            self.started, scanned = True, 0
        m = self.end.search(self.data, scanned)
        if m is not None:
            self.done.set_result((int(m.group(1)), self.body(m.start())))
        elif len(self.data) > self.limit + _MARKER_ROOM:
            del self.data[: len(self.data) - self.limit - _MARKER_ROOM]
            self.truncated = True

    def body(self, stop: int) -> bytes:
        if not self.started:
            return b""
        body = bytes(self.data[:stop])
        if len(body) > self.limit:
            self.truncated = True
            body = body[-self.limit :]
        return body


class Session:
    """One program on a pseudo-terminal, seen through a `Terminal`.

    Lifecycle: `Session(config)` (status created) -> `await start()` (running) ->
    exit or `await stop()` (exited). Output is kept twice: as bytes for `read_output()` and
    as a screen in `terminal`.
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
        self._output = bytearray()
        self.output_dropped = 0  # bytes discarded from read_output()'s buffer when it was full
        self._subscribers: list[Callable[[SessionEvent], None]] = []
        self._exec_lock = asyncio.Lock()
        self._exited = asyncio.Event()
        self._backlog = bytearray()  # read but not yet parsed (see engine/ingest.py)
        self._exit_code: int | None = None  # the child exited; reported once parsed
        self._parse_rate = 8e6  # bytes per second, a running estimate for ingest slices

    def __repr__(self) -> str:
        return f"<Session {self.name!r} id={self.id} {self.status}>"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._pty.pid if self._pty is not None else None

    @property
    def current_command(self) -> str | None:
        """Name of the program in the foreground (`vim`, `bash`), like tmux's
        #{pane_current_command}; None when it cannot be known."""
        pid = self._pty.foreground_pid() if self._pty is not None else None
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip() or None
        except OSError:
            return None

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
        try:
            self.config.validate()
            argv = self.config.argv()
            rows, cols = self.config.pty_size
            self._pty = Pty(
                argv,
                cwd=str(self.config.working_directory),
                env=self._environment(),
                rows=rows,
                cols=cols,
                on_data=self._on_data,
                on_exit=self._on_exit,
            )
            self._pty.start()
        except SessionError as exc:
            self.status = SessionStatus.error(str(exc))
            raise
        self.status = SessionStatus.RUNNING
        self.last_activity = _now()

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(TERM="xterm-256color", COLORTERM="truecolor")
        env.update(self.config.environment)
        env.update(AI_SESSION_ID=self.id, AI_SESSION_NAME=self.name)
        return env

    async def stop(self, grace: float = 2.0) -> None:
        """SIGHUP the program, SIGKILL it after `grace` seconds, and reap it."""
        if self._pty is None or self.status.is_terminated:
            return
        await self._pty.terminate(grace)
        await self._exited.wait()  # output still queued is parsed first

    async def wait(self) -> int:
        """Wait for the program to exit; its exit code."""
        if self._pty is None:
            raise SessionError(f"session {self.name!r} was never started")
        await self._exited.wait()
        return self.status.exit_code if self.status.exit_code is not None else -1

    def _require_running(self) -> Pty:
        if self._pty is None or not self.status.is_running:
            hint = "start() it first" if self.status.kind == "created" else "create a new session"
            raise ProcessError(f"session {self.name!r} is not running ({self.status}); {hint}")
        return self._pty

    # -- output ------------------------------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        self.last_activity = _now()
        out = self._output
        out += data
        excess = len(out) - self.config.output_buffer_size
        if excess > 0:
            del out[:excess]
            self.output_dropped += excess
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
        self.terminal.feed(data)
        replies = self.terminal.take_responses()
        if replies and self._pty is not None and self._pty.running:
            try:
                self._pty.write(replies)
            except SessionError:
                log.warning("session %s: could not answer a terminal query", self.name)
        self._emit(OutputEvent(data))

    def _on_exit(self, code: int) -> None:
        if self._backlog:  # the screen is not finished yet: exit once it is
            self._exit_code = code
        else:
            self._exit(code)

    def _exit(self, code: int) -> None:
        self.status = SessionStatus.exited(code)
        self.last_activity = _now()
        self._exited.set()
        self._emit(ExitEvent(code))

    def _emit(self, event: SessionEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # one broken subscriber must not stop the session or the others
                log.exception("session %s: subscriber %r failed", self.name, callback)

    def subscribe(self, callback: Callable[[SessionEvent], None]) -> Callable[[], None]:
        """Call `callback` with every OutputEvent and the ExitEvent; returns an unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    async def read_output(self) -> bytes:
        """Everything the program wrote since the last call (the newest
        `output_buffer_size` bytes of it)."""
        data = bytes(self._output)
        self._output.clear()
        return data

    def capture_pane(
        self, ansi: bool = False, start: int | str | None = None, end: int | str | None = None
    ) -> str:
        """The screen as text, like `tmux capture-pane -p` (see `Terminal.capture`)."""
        return self.terminal.capture(ansi=ansi, start=start, end=end)

    # -- input -------------------------------------------------------------------------------

    async def send_input(self, data: str | bytes) -> None:
        """Type `data` into the program (text is sent as UTF-8)."""
        pty = self._require_running()
        pty.write(data.encode() if isinstance(data, str) else bytes(data))
        self.last_activity = _now()

    async def resize(self, rows: int, cols: int) -> None:
        """Resize the terminal and the PTY; the program gets SIGWINCH."""
        self.set_size(rows, cols)

    def set_size(self, rows: int, cols: int) -> None:
        """`resize()` for callers that are not coroutines (a widget's resize handler)."""
        if not (1 <= rows <= MAX_SIZE and 1 <= cols <= MAX_SIZE):
            raise SessionError(
                f"size {rows}x{cols} is invalid: rows and cols must be 1 to {MAX_SIZE}"
            )
        self.config.pty_size = (rows, cols)
        self.terminal.resize(cols, rows)
        if self._pty is not None and self.status.is_running:
            self._pty.resize(rows, cols)

    # -- metadata ----------------------------------------------------------------------------

    def set_metadata(self, key: str, value: Any) -> None:
        self.metadata[key] = value

    def get_metadata(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    # -- execute -----------------------------------------------------------------------------

    async def execute(self, command: str, timeout: float | None = None) -> ExecResult:
        """Run `command` in the session's shell and wait for it to finish.

        The command is wrapped between two private OSC markers printed by the shell itself, so
        completion and the exit code are exact, and the output is only what the command wrote
        (no echo, no prompt). Needs a POSIX shell at its prompt (bash, zsh, dash). On timeout
        the command is interrupted with C-c and `timed_out` is set.
        """
        if timeout is None:
            timeout = self.config.timeout or DEFAULT_EXECUTE_TIMEOUT
        async with self._exec_lock:
            pty = self._require_running()
            token = uuid.uuid4().hex[:12]
            loop = asyncio.get_running_loop()
            collector = _Collector(
                begin=f"\x1b]777;ais;{token}\x07".encode(),
                end=re.compile(rb"\x1b\]777;ais;" + token.encode() + rb";(\d+)\x07"),
                done=loop.create_future(),
                limit=self.config.output_buffer_size,
            )
            # The shell prints the markers itself (its echo of this line shows `\033`, never a
            # real ESC, so the echo cannot match). A leading space keeps the line out of history
            # where HISTCONTROL ignores spaces (Debian's default).
            # The space before the command keeps `eval` from taking a leading `-` as an option.
            line = (
                f" printf '\\033]777;ais;{token}\\007';eval {shlex.quote(' ' + command)};"
                f"printf '\\033]777;ais;{token};%d\\007' $?\n"
            )
            unsubscribe = self.subscribe(collector)
            started = time.perf_counter()
            try:
                pty.write(line.encode())
                try:
                    code, body = await asyncio.wait_for(asyncio.shield(collector.done), timeout)
                    timed_out = False
                except TimeoutError:
                    code, body, timed_out = None, collector.body(len(collector.data)), True
                    if pty.running:
                        pty.write(b"\x03")
            finally:
                unsubscribe()
            raw = body.decode("utf-8", "replace")
            return ExecResult(
                command=command,
                exit_code=code,
                output=plain_text(raw),
                raw_output=raw,
                duration_ms=(time.perf_counter() - started) * 1000,
                timed_out=timed_out,
                truncated=collector.truncated,
            )


AISession = Session
