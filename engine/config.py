"""Session configuration: the seed's `SessionConfig` and `ContextConfig` fields as dataclasses."""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from engine.errors import PermissionDenied, ProcessError, SessionError

DEFAULT_SHELL = "/bin/bash"
COMMAND_SHELL = "/bin/sh"  # runs a string shell_command when neither shell nor $SHELL is set


# A command line made of these characters only is words and quotes, nothing a shell expands.
_PLAIN = re.compile(r"""[\w@%+=:,./'" -]*""")
# Names a shell runs itself (builtins and keywords): such a command line needs the shell.
_SHELL_BUILTINS = (
    "! . : [ [[ alias bg break builtin case cd command continue coproc declare echo eval exec "
    "exit export false fc fg for function getopts hash if jobs kill let local printf pwd read "
    "readonly return select set shift source test time times trap true type typeset ulimit "
    "umask unalias unset until wait while { }"
)
_SHELL_WORDS = frozenset(_SHELL_BUILTINS.split())


def _plain_command(command: str) -> list[str] | None:
    """The argv of a command line that is one external program and plain words (`vim a.txt`,
    `bash --norc`), else None. `sh -c` would run exactly this argv (bash execs it; dash 0.5.12
    forks and waits, leaving itself as the pane's process): exec'ing it ourselves gives the same
    program with the session's pid on every shell."""
    if not _PLAIN.fullmatch(command):
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or "=" in argv[0] or argv[0] in _SHELL_WORDS:
        return None
    program = shutil.which(argv[0])
    return [program, *argv[1:]] if program is not None else None


@dataclass
class ContextConfig:
    """How much AI context a session keeps before it compresses."""

    max_tokens: int = 4096
    compression_threshold: float = 0.8


@dataclass
class SessionConfig:
    """Everything needed to start one session.

    `shell_command`, when set, is what runs in the PTY, as tmux takes a pane's command: a
    string goes to a shell (`[shell, "-c", string]`, shell = `shell`, else `$SHELL`, else
    /bin/sh), so `"make && make test"` works; a list is the argv as is (`["vim", "a b.txt"]`).
    Otherwise `shell` (default `$SHELL`, then /bin/bash) is started. `pty_size` is (rows, cols),
    as in the seed. `timeout` is the default timeout in seconds for `Session.execute()`.
    `monitor_silence` (seconds, tmux's monitor-silence) makes the session report a `silence`
    event after that long without output; None or 0 turns it off.
    `record_output` keeps the output with its times (`engine/recording.py`) so the pane can be
    replayed and exported as asciicast; off, nothing but the scrollback remains.
    `compress_output`, `parse_output`, `enable_ai_features` and `agent_role` are recorded for the
    context and parsing features built on top of sessions.
    """

    name: str | None = None
    working_directory: Path = field(default_factory=Path.cwd)
    shell: str | None = None
    shell_command: str | list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    pty_size: tuple[int, int] = (24, 80)
    output_buffer_size: int = 1024 * 1024
    timeout: float | None = None
    compress_output: bool = False
    parse_output: bool = False
    enable_ai_features: bool = False
    agent_role: str | None = None
    context_config: ContextConfig = field(default_factory=ContextConfig)
    monitor_silence: float | None = None
    record_output: bool = True
    shell_integration: bool = True  # OSC 133 prompt marks and command records (engine/shell.py)

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-able data (snapshots keep it); secrets in `environment` are the
        caller's to drop."""
        data = asdict(self)
        data["working_directory"] = str(self.working_directory)
        data["pty_size"] = list(self.pty_size)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionConfig:
        """A config `to_dict` gave, possibly by an older version: unknown keys are skipped,
        missing ones take their defaults, and a wrong type is a SessionError."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        try:
            if "working_directory" in values:
                values["working_directory"] = Path(values["working_directory"])
            if "pty_size" in values:
                rows, cols = values["pty_size"]
                values["pty_size"] = (int(rows), int(cols))
            if "context_config" in values:
                values["context_config"] = ContextConfig(**values["context_config"])
            if "environment" in values:
                values["environment"] = {str(k): str(v) for k, v in values["environment"].items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise SessionError(f"a stored session config is malformed: {exc}") from None
        return cls(**values)

    def argv(self) -> list[str]:
        """The program and arguments to run, resolved and checked, or a SessionError."""
        command = self.shell_command
        if isinstance(command, str):
            if not command.strip():
                raise SessionError("shell_command is empty: give a program to run")
            direct = _plain_command(command)
            if direct is not None:
                return direct
            shell = self.shell or os.environ.get("SHELL") or COMMAND_SHELL
            argv, what = [shell, "-c", command], "shell" if self.shell else "$SHELL"
        elif command is not None:
            argv = list(command)
            if not argv or not all(isinstance(word, str) for word in argv) or not argv[0]:
                raise SessionError("shell_command must be a non-empty list of strings")
            what = "shell_command"
        else:
            argv = [self.shell or os.environ.get("SHELL") or DEFAULT_SHELL]
            what = "shell" if self.shell else "$SHELL"
        program = shutil.which(argv[0])
        if program is None:
            raise ProcessError(
                f"{what} {argv[0]!r} was not found or is not executable; "
                "set SessionConfig.shell (or shell_command) to an installed program"
            )
        return [program, *argv[1:]]

    def validate(self) -> None:
        """Raise SessionError naming the first field that cannot work."""
        rows, cols = self.pty_size
        if rows < 1 or cols < 1:
            raise SessionError(f"pty_size {self.pty_size} is invalid: rows and cols must be >= 1")
        if rows > 10_000 or cols > 10_000:
            raise SessionError(f"pty_size {self.pty_size} is too large (10000 at most)")
        cwd = Path(self.working_directory)
        if not cwd.is_dir():
            raise SessionError(
                f"working_directory {str(cwd)!r} does not exist or is not a directory"
            )
        if not os.access(cwd, os.X_OK):
            raise PermissionDenied(
                f"working_directory {str(cwd)!r} cannot be entered (permission denied)"
            )
        if self.output_buffer_size < 1:
            raise SessionError("output_buffer_size must be at least 1 byte")
        if self.timeout is not None and self.timeout <= 0:
            raise SessionError("timeout must be positive seconds, or None")
        if self.monitor_silence is not None and self.monitor_silence < 0:
            raise SessionError("monitor_silence must be seconds >= 0, or None (off)")
        self.argv()


# The `[session]` keys of the config file (~/.config/ai-session/config.toml) and their types:
# the defaults every new session starts from.
SESSION_KEYS: dict[str, tuple[type, ...]] = {
    "shell": (str,),
    "output_buffer_size": (int,),
    "timeout": (int, float),
    "monitor_silence": (int, float),
    "record_output": (bool,),
    "shell_integration": (bool,),
    "enable_ai_features": (bool,),
    "parse_output": (bool,),
}


def session_defaults(table: dict[str, Any], base: SessionConfig | None = None) -> SessionConfig:
    """`base` (a new default SessionConfig) with a config file's `[session]` table applied;
    ValueError naming an unknown key or a value of the wrong type, so a typo is not ignored."""
    changes: dict[str, Any] = {}
    for key, value in table.items():
        types = SESSION_KEYS.get(key)
        if types is None:
            raise ValueError(
                f"unknown session setting {key!r}: known are {', '.join(SESSION_KEYS)}"
            )
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            kind = " or ".join(t.__name__ for t in types)
            raise ValueError(f"session.{key} must be {kind}, not {value!r}")
        changes[key] = value
    return replace(base or SessionConfig(), **changes)


CONFIG_TABLES = ("session", "security")  # what a config file may hold


def config_table(path: Path, table: str, *, required: bool = False) -> dict[str, Any]:
    """The `[table]` of the TOML config file at `path` ({} when the table is absent, or the
    file when not `required`: a file named on the command line must exist); ValueError saying
    why a file cannot be read, or naming a table it does not know (`[securty]` must not leave
    the policy it meant silently off)."""
    if not required and not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    for key in data:
        if key not in CONFIG_TABLES:
            close = difflib.get_close_matches(key, CONFIG_TABLES, n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            raise ValueError(
                f"{path}: unknown table or key {key!r}{hint}: a config file holds "
                + " and ".join(f"[{t}]" for t in CONFIG_TABLES)
            )
    value = data.get(table, {})
    if not isinstance(value, dict):
        raise ValueError(f"{path}: `{table}` must be a table ([{table}])")
    return value


def load_session_defaults(path: Path) -> SessionConfig:
    """The SessionConfig a config file's `[session]` table describes (no file: the defaults)."""
    return session_defaults(config_table(path, "session"))
