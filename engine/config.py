"""Session configuration: the seed's `SessionConfig` and `ContextConfig` fields as dataclasses."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import PermissionDenied, ProcessError, SessionError

DEFAULT_SHELL = "/bin/bash"


@dataclass
class ContextConfig:
    """How much AI context a session keeps before it compresses."""

    max_tokens: int = 4096
    compression_threshold: float = 0.8


@dataclass
class SessionConfig:
    """Everything needed to start one session.

    `shell_command`, when set, is the whole command line run in the PTY (`"vim -u NONE"`);
    otherwise `shell` (default `$SHELL`, then /bin/bash) is started. `pty_size` is (rows, cols),
    as in the seed. `timeout` is the default timeout in seconds for `Session.execute()`.
    `compress_output`, `parse_output`, `enable_ai_features` and `agent_role` are recorded for the
    context and parsing features built on top of sessions.
    """

    name: str | None = None
    working_directory: Path = field(default_factory=Path.cwd)
    shell: str | None = None
    shell_command: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    pty_size: tuple[int, int] = (24, 80)
    output_buffer_size: int = 1024 * 1024
    timeout: float | None = None
    compress_output: bool = False
    parse_output: bool = False
    enable_ai_features: bool = False
    agent_role: str | None = None
    context_config: ContextConfig = field(default_factory=ContextConfig)

    def argv(self) -> list[str]:
        """The program and arguments to run, resolved and checked, or a SessionError."""
        if self.shell_command:
            try:
                argv = shlex.split(self.shell_command)
            except ValueError as exc:
                raise SessionError(
                    f"shell_command {self.shell_command!r} is malformed: {exc}"
                ) from exc
            if not argv:
                raise SessionError("shell_command is empty: give a program to run")
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
        self.argv()
