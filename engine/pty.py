"""A child process on a pseudo-terminal, driven by the asyncio loop.

posix_spawn starts the child (ptyprocess holds the terminal); from then on this module owns the
master fd and the pid: reads and writes are non-blocking through `loop.add_reader`/`add_writer`,
the exit is seen through a pidfd (no polling, no sleeps) and reaped here, so no zombie is left
behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Callable

from ptyprocess import PtyProcess  # type: ignore[import-untyped]

from engine.errors import ProcessError, PtyError, ResourceExhausted

READ_SIZE = 65536
READ_BUDGET = 32 * 1024  # bytes read per wake-up before other panes and keys get a turn
MAX_PENDING_WRITE = 16 * 1024 * 1024  # input queued for a child that does not read
DRAIN_AFTER_EXIT = 0.2  # seconds to wait for output still in flight once the child exited


def _ignore(value: object) -> None:
    """The callbacks of a finished Pty."""


def exit_code_from_status(status: int) -> int:
    """A wait status as subprocess reports it: the exit code, or -signal when killed."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# What a child starts with: every signal at its default (Python ignores SIGPIPE and SIGXFSZ,
# and an ignored signal stays ignored across exec: `yes | head -1` would complain of a broken
# pipe instead of ending quietly) and none blocked.
_DEFAULT_SIGNALS = frozenset(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
_ENV = "/usr/bin/env"  # GNU env: `env -C DIR` changes directory, then execs


def _spawn(argv: list[str], cwd: str, env: dict[str, str], rows: int, cols: int) -> PtyProcess:
    """Start `argv` in `cwd` on a new pseudo-terminal as the leader of a new session, which the
    terminal is the controlling terminal of.

    posix_spawn (vfork and exec) takes ~1 ms; ptyprocess's fork, which runs Python in the
    child and waits for its exec, took ~13 ms with the loop blocked, so 100 sessions created
    at once queued behind each other. posix_spawn cannot change directory, so GNU env does
    (`env -C`, the same process: it execs the program). ptyprocess still owns the terminal
    from here on (PtyProcess(pid, fd)); where there is no GNU env it spawns as before.
    """
    if not os.path.exists(_ENV):
        return PtyProcess.spawn(
            argv,
            cwd=cwd,
            env=env,
            dimensions=(rows, cols),
            preexec_fn=lambda: (
                signal.pthread_sigmask(signal.SIG_SETMASK, ())
                or [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGPIPE, signal.SIGXFSZ)]
            ),
        )
    master, slave = os.openpty()  # both close-on-exec: the child opens the terminal by name
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        terminal = os.ttyname(slave)
        # After setsid the child has no controlling terminal; opening one (without O_NOCTTY)
        # as a session leader makes it the controlling terminal, as login and tmux do.
        pid = os.posix_spawn(
            _ENV,
            ["env", "-C", cwd, "--", *argv],
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, terminal, os.O_RDWR, 0),
                (os.POSIX_SPAWN_DUP2, 0, 1),
                (os.POSIX_SPAWN_DUP2, 0, 2),
            ],
            setsid=True,
            setsigmask=(),
            setsigdef=_DEFAULT_SIGNALS,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return PtyProcess(pid, master)


def _check_exec(argv: list[str], env: dict[str, str]) -> None:
    """Refuse before forking what execve would refuse after: ptyprocess's child only catches
    OSError, so a ValueError there (a NUL, a variable name with `=`) would leave a copy of
    this whole process running in the child."""
    for word in argv:
        if "\x00" in word:
            raise ProcessError(f"cannot run {argv[0]!r}: an argument holds a NUL byte")
    for name, value in env.items():
        if not name or "=" in name or "\x00" in name or "\x00" in value:
            raise ProcessError(
                f"cannot run {argv[0]!r}: environment variable {name!r} is not valid "
                "(an empty name, a name with '=', or a NUL byte)"
            )


# errno values that say the machine is out of something (files, terminals, processes), not
# that the request was wrong.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM, errno.ENOSPC})


class Pty:
    """One child on one pseudo-terminal. Call `start()` inside a running event loop."""

    def __init__(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        rows: int,
        cols: int,
        on_data: Callable[[bytes], None],
        on_exit: Callable[[int], None],
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.rows = rows
        self.cols = cols
        self.pid = -1
        self.fd = -1
        self.exit_code: int | None = None
        self._on_data = on_data
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proc: PtyProcess | None = None
        self._pidfd = -1
        self._pending = bytearray()
        self._eof = False
        self._reaped = False
        self._finished = asyncio.Event()
        self._drain_timer: asyncio.TimerHandle | None = None
        self._paused = False  # the reader is off: what was read is still being parsed

    @property
    def running(self) -> bool:
        return self.pid > 0 and not self._reaped

    def start(self) -> None:
        """Fork and exec the child; raise ProcessError or PtyError saying why it failed."""
        self._loop = asyncio.get_running_loop()
        _check_exec(self.argv, self.env)
        try:
            proc = _spawn(self.argv, self.cwd, self.env, self.rows, self.cols)
        except FileNotFoundError as exc:
            raise ProcessError(f"cannot run {self.argv[0]!r}: {exc}") from exc
        except PermissionError as exc:
            raise ProcessError(f"cannot run {self.argv[0]!r}: permission denied") from exc
        except OSError as exc:
            if exc.errno in _EXHAUSTED:
                raise ResourceExhausted(
                    f"cannot open a pseudo-terminal for {self.argv[0]!r}: {exc}; close some "
                    "sessions or raise the limit"
                ) from exc
            raise PtyError(f"cannot open a pseudo-terminal for {self.argv[0]!r}: {exc}") from exc
        proc.delayafterclose = 0
        proc.delayafterterminate = 0
        self._proc = proc
        self.pid = proc.pid
        self.fd = proc.fd
        os.set_blocking(self.fd, False)
        try:
            self._pidfd = os.pidfd_open(self.pid)
            self._loop.add_reader(self.fd, self._read_ready)
            self._loop.add_reader(self._pidfd, self._child_exited)
        except OSError as exc:  # out of file descriptors, most likely: leave nothing behind
            self._abandon()
            error = ResourceExhausted if exc.errno in _EXHAUSTED else PtyError
            raise error(f"cannot watch {self.argv[0]!r}: {exc}") from exc

    def _abandon(self) -> None:
        """Kill and reap the child and release every fd (start failed, or the loop is gone)."""
        if self.pid > 0 and not self._reaped:
            for send in (os.killpg, os.kill):
                with contextlib.suppress(OSError):
                    send(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self._reaped = True
            if self._proc is not None:
                self._proc.terminated = True
        if self._pidfd >= 0:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        if self.fd >= 0:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self.fd)
                self._loop.remove_writer(self.fd)
            if self._proc is not None:
                self._proc.fileobj.close()
                self._proc.closed = True
            self.fd = -1

    def __del__(self) -> None:
        # A session still running when its event loop ended: do not leak the child or fds.
        if self.pid > 0 and (self._pidfd >= 0 or self.fd >= 0):
            with contextlib.suppress(Exception):
                self._abandon()

    # -- output and exit -----------------------------------------------------------------------

    def _read_ready(self) -> None:
        self._read_available(limit=64)

    def pause_reading(self) -> None:
        """Stop reading until `resume_reading()`: the child blocks once the PTY is full."""
        if not self._paused and self._loop is not None and self.fd >= 0 and not self._eof:
            self._loop.remove_reader(self.fd)
        self._paused = True

    def resume_reading(self) -> None:
        if not self._paused:
            return
        self._paused = False
        if self._loop is not None and self.fd >= 0 and not self._eof:
            self._loop.add_reader(self.fd, self._read_ready)

    def _read_available(self, limit: int | None = None) -> None:
        """Read what is there, up to `limit` reads (so one flood cannot hog the loop), and hand
        it over as one piece: the terminal draws a big piece much faster than many small ones
        (a PTY gives at most a few KiB per read)."""
        chunks: list[bytes] = []
        budget = READ_BUDGET
        count = 0
        while (
            not self._paused and not self._eof and (limit is None or count < limit) and budget > 0
        ):
            try:
                data = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:  # EIO: every writer of the slave side is gone
                if exc.errno not in (errno.EIO, errno.EBADF):
                    raise
                data = b""
            if not data:
                self._eof = True
                assert self._loop is not None
                self._loop.remove_reader(self.fd)
                break
            count += 1
            budget -= len(data)
            chunks.append(data)
        if chunks:
            self._on_data(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if self._eof:
            self._maybe_finish()

    def _child_exited(self) -> None:
        assert self._loop is not None
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = -1
        self._reaped = True
        self.exit_code = exit_code_from_status(status)
        if self._proc is not None:  # tell ptyprocess it is over, so it never waits itself
            self._proc.terminated = True
            self._proc.exitstatus = self.exit_code
        self._read_available(limit=4)  # bounded: a leftover writer could never run dry
        if not self._eof:  # someone else still holds the terminal, or output is in flight
            self._drain_timer = self._loop.call_later(DRAIN_AFTER_EXIT, self._drain_timeout)
        self._maybe_finish()

    def _drain_timeout(self) -> None:
        """No end of file soon after the exit: a leftover process holds the terminal. Finish,
        unless reading is paused for parsing (then wait for the reader to be back on)."""
        if self._paused and self._loop is not None:
            self._drain_timer = self._loop.call_later(DRAIN_AFTER_EXIT, self._drain_timeout)
            return
        self._finish()

    def _maybe_finish(self) -> None:
        if self._eof and self._reaped:
            self._finish()

    def _finish(self) -> None:
        if self._finished.is_set():
            return
        if not self._eof:
            self._paused = False  # the end: read what is left (bounded), whatever is queued
            self._read_available(limit=16)
        self._close_fd()
        self._finished.set()
        on_exit = self._on_exit
        # Nothing more will come: drop the owner's callbacks, so the owner and this Pty hold no
        # cycle and are freed by reference counting as soon as they are let go.
        self._on_data = self._on_exit = _ignore
        on_exit(self.exit_code if self.exit_code is not None else -1)

    def _close_fd(self) -> None:
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        if self.fd >= 0 and self._loop is not None:
            if not self._eof:
                self._loop.remove_reader(self.fd)
            self._loop.remove_writer(self.fd)
            self._eof = True
            # Close through ptyprocess's file object: it owns the fd, and closing the number
            # ourselves would let its finaliser later close whatever fd reuses that number.
            try:
                if self._proc is not None:
                    self._proc.fileobj.close()
                    self._proc.closed = True
                else:
                    os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    async def wait(self) -> int:
        """Wait until the child has exited and its output has been read; its exit code."""
        await self._finished.wait()
        return self.exit_code if self.exit_code is not None else -1

    # -- input -------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue `data` for the child; written as fast as it reads, never dropped."""
        if self.fd < 0 or self._reaped:
            raise ProcessError("the process has exited; its terminal takes no more input")
        if len(self._pending) + len(data) > MAX_PENDING_WRITE:
            raise ResourceExhausted(
                f"{len(self._pending)} bytes of input are already waiting for a program "
                "that is not reading; try again once it reads"
            )
        if self._pending:
            self._pending += data
            return
        written = self._write_some(data)
        if written < len(data):
            self._pending += data[written:]
            assert self._loop is not None
            self._loop.add_writer(self.fd, self._write_ready)

    def _write_some(self, data: bytes | bytearray) -> int:
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            raise PtyError(f"writing to the terminal failed: {exc}") from exc

    def _write_ready(self) -> None:
        try:
            written = self._write_some(self._pending)
        except PtyError:
            written = len(self._pending)  # the child is gone: nothing will read it
        del self._pending[:written]
        if not self._pending and self._loop is not None and self.fd >= 0:
            self._loop.remove_writer(self.fd)

    @property
    def pending_input(self) -> int:
        """Bytes of input queued because the child has not read them yet."""
        return len(self._pending)

    def unread_output(self) -> int:
        """Bytes the child wrote that the reader has not taken yet (FIONREAD on the master)."""
        if self.fd < 0:
            return 0
        try:
            raw = fcntl.ioctl(self.fd, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return 0
        return int(struct.unpack("i", raw)[0])

    def cook(self) -> bool:
        """Give the terminal back the line discipline a shell without a line editor (sh)
        reads with: canonical lines, CR read as NL, signals from keys, output post-processing
        (what `stty sane` restores of it; echo too when the line was raw, not when only echo
        was off, as `stty -echo` leaves it). A program killed in raw mode leaves it otherwise,
        and sh then never sees an Enter. True if something changed."""
        if self.fd < 0:
            return False
        try:
            mode = termios.tcgetattr(self.fd)
            cooked = list(mode)
            cooked[0] = (mode[0] | termios.ICRNL) & ~(termios.INLCR | termios.IGNCR)
            cooked[1] = mode[1] | termios.OPOST | termios.ONLCR
            cooked[3] = mode[3] | termios.ICANON | termios.ISIG | termios.IEXTEN
            if not mode[3] & termios.ICANON:  # raw, not a `stty -echo` of the user's: all back
                cooked[3] |= termios.ECHO | termios.ECHOE | termios.ECHOK
            if cooked == mode:
                return False
            termios.tcsetattr(self.fd, termios.TCSANOW, cooked)
        except (OSError, termios.error):
            return False
        return True

    # -- control ----------------------------------------------------------------------------------

    def resize(self, rows: int, cols: int) -> None:
        """Set the window size (TIOCSWINSZ); the kernel sends the child SIGWINCH."""
        self.rows, self.cols = rows, cols
        if self.fd < 0:
            return
        try:
            fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        except OSError as exc:
            raise PtyError(f"resizing the terminal to {rows}x{cols} failed: {exc}") from exc

    def foreground_pid(self) -> int | None:
        """The process group leader in the terminal's foreground (the command the user
        is running), as tmux's pane_current_command reads it."""
        if self.fd < 0:
            return None
        try:
            group = os.tcgetpgrp(self.fd)
        except OSError:
            return None
        # 0 once the session leader has gone (the terminal has no session any more): never a
        # group to signal — killpg(0) would be our own process group.
        return group if group > 1 and group != os.getpgrp() else None

    def signal(self, sig: int) -> None:
        """Send `sig` to the child's process group (its foreground jobs too)."""
        if not self.running:
            return
        # Once: a second SIGHUP landing while bash handles the first kills it before it has
        # passed the hangup on to its jobs. The plain kill is for a child not leading a group.
        for send in (os.killpg, os.kill):
            try:
                send(self.pid, sig)
                return
            except ProcessLookupError:
                continue
            except PermissionError:
                return

    async def terminate(self, grace: float = 2.0) -> int:
        """SIGHUP, then SIGKILL if the child is still there after `grace` seconds; reaps it."""
        if self.pid <= 0:
            return -1
        if self.running:
            # What closing a terminal does: the hangup reaches the foreground job as well as
            # the shell (in its own process group under job control, the job would otherwise
            # keep the shell waiting, and a shell hung up while waiting may not pass the
            # hangup on to its background jobs).
            foreground = self.foreground_pid()
            if foreground is not None and foreground != self.pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(foreground, signal.SIGHUP)
            self.signal(signal.SIGHUP)
            try:
                await asyncio.wait_for(self._finished.wait(), grace)
            except TimeoutError:
                if self._reaped:  # the child is gone; a leftover process holds the terminal
                    self._finish()
                else:
                    self.signal(signal.SIGKILL)
                    self._close_fd()
                    try:
                        await asyncio.wait_for(self._finished.wait(), max(grace, 1.0))
                    except TimeoutError as exc:
                        raise ProcessError(f"process {self.pid} survived SIGKILL") from exc
        return await self.wait()
