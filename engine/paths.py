"""Where instances put their control sockets, and how a client finds one.

Only `os` at import: the CLI imports this for every `ai-session list`, `send-keys`, ... and must
not pay for aiohttp, pyte or Textual, nor even pathlib (~20 ms here with its imports), to learn
a file name. engine.server re-exports `runtime_dir` and `default_socket_path`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from pathlib import Path


def runtime_dir() -> Path:
    """Where instances put their control sockets: $XDG_RUNTIME_DIR/ai-session, else a private
    directory under the temp dir. Created 0700; refused if someone else owns it."""
    from pathlib import Path

    return Path(_runtime_dir())


def default_socket_path() -> Path:
    """This process's control socket: one per instance, named by pid so a client can tell a
    live instance's socket from one a crashed instance left behind."""
    from pathlib import Path

    return Path(_runtime_dir(), f"{os.getpid()}.sock")


def find_socket(explicit: str | None = None) -> str | None:
    """The control socket a client should use: `explicit`, else $AI_SESSION_SOCKET (set inside
    panes), else the newest live one in the runtime directory; None when there is none. Sockets
    of dead instances are removed on the way."""
    chosen = explicit or os.environ.get("AI_SESSION_SOCKET")
    if chosen:
        return chosen
    candidates = []
    with os.scandir(_runtime_dir()) as entries:
        for entry in entries:
            if entry.name.endswith(".sock"):
                try:
                    candidates.append((entry.stat().st_mtime, entry.name, entry.path))
                except FileNotFoundError:  # removed by another client meanwhile
                    continue
    for _, name, path in sorted(candidates, reverse=True):
        pid = name.removesuffix(".sock")
        if (pid.isdigit() and not pid_alive(int(pid))) or not _listening(path):
            try:  # noqa: SIM105 (contextlib costs a CLI call ~5 ms)
                os.unlink(path)  # its instance is gone
            except FileNotFoundError:
                pass
            continue
        return path
    return None


def _runtime_dir() -> str:
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        path = os.path.join(base, "ai-session")
    else:
        # tempfile.gettempdir()'s choice for the usual cases, without importing tempfile
        # (random, shutil...: ~12 ms of every CLI call). Server and clients both ask here.
        temp = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP")
        path = os.path.join(temp or "/tmp", f"ai-session-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.lstat(path)  # not followed: a link planted in the temp dir could point anywhere
    if (info.st_mode & 0o170000) == 0o120000:  # S_IFLNK, without importing stat
        raise PermissionError(f"{path} is a symbolic link; refusing to use it")
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user; refusing to use it")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _listening(path: str) -> bool:
    """Someone accepts connections there: a killed instance (its pid a zombie, or reused)
    leaves a socket nobody listens on."""
    import _socket  # the C module: `socket` costs a CLI call several ms

    probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError:  # anything else (a full backlog...): not ours to judge, try it
        return True
    finally:
        probe.close()
    return True


def pid_alive(pid: int) -> bool:
    """A process with this pid exists (possibly another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
