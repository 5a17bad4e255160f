"""What API clients may do: a policy checked on create and execute, a rate limit per client,
and an audit record of every command run or refused.

The seed's `SecurityPolicy` was data nobody checked; here every check raises
`PermissionDenied` naming the rule that refused, and the server turns that into a 403.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import tomllib
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_state_dir

from engine.errors import PermissionDenied

log = logging.getLogger(__name__)


def default_config_path() -> Path:
    """Where the `[security]` table is read from (~/.config/ai-session/config.toml)."""
    return Path(user_config_dir("ai-session")) / "config.toml"


def default_audit_path() -> Path:
    """Where API commands are recorded (~/.local/state/ai-session/audit.jsonl)."""
    return Path(user_state_dir("ai-session")) / "audit.jsonl"


class PolicyDenied(PermissionDenied):
    """Refused by a rule of the security policy (`rule` names it, as in the config file)."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


# Variables whose values the shell or the loader run as code: with `denied_commands` set they
# would be a way around it, so they are refused unless `allowed_environment` names them.
CODE_VARIABLES = frozenset(
    {
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "PS0",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "SHELLOPTS",
        "BASHOPTS",
        "IFS",
        "PATH",
        "HISTFILE",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PERL5OPT",
        "NODE_OPTIONS",
    }
)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass
class SecurityPolicy:
    """Rules for sessions started or driven through the API (the TUI's own keys are not
    checked: the person at the keyboard is not an API client).

    Directories are compared after resolving symlinks. An empty `allowed_directories` allows
    any directory; `allowed_environment` None allows any variable.
    """

    allowed_directories: list[Path] = field(default_factory=list)
    denied_directories: list[Path] = field(default_factory=list)
    denied_commands: list[str] = field(default_factory=list)  # regular expressions (search)
    allowed_environment: list[str] | None = None
    allow_input: bool = True  # typed input (send-keys); readline editing defeats any denylist

    def __post_init__(self) -> None:
        self.allowed_directories = [
            Path(p).expanduser().resolve() for p in self.allowed_directories
        ]
        self.denied_directories = [Path(p).expanduser().resolve() for p in self.denied_directories]
        try:
            self._patterns = [re.compile(p) for p in self.denied_commands]
        except re.error as exc:
            raise ValueError(f"security.denied_commands: bad pattern: {exc}") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecurityPolicy:
        known = {
            "allowed_directories",
            "denied_directories",
            "denied_commands",
            "allowed_environment",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown security settings: {', '.join(sorted(unknown))}")
        for key in known & set(data):
            if not isinstance(data[key], list) or not all(isinstance(v, str) for v in data[key]):
                raise ValueError(f"security.{key} must be a list of strings")
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> SecurityPolicy:
        """The `[security]` table of a TOML config file (no file: allow everything)."""
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read {path}: {exc}") from exc
        return cls.from_dict(data.get("security", {}))

    def check_directory(self, directory: str | Path) -> None:
        path = Path(directory).expanduser().resolve()
        for denied in self.denied_directories:
            if _within(path, denied):
                raise PolicyDenied(
                    f"working directory {path} is inside {denied}, which the security policy "
                    "denies",
                    "denied_directories",
                )
        if self.allowed_directories and not any(_within(path, a) for a in self.allowed_directories):
            raise PolicyDenied(
                f"working directory {path} is outside the allowed directories "
                f"({', '.join(map(str, self.allowed_directories))})",
                "allowed_directories",
            )

    def check_input(self, typed: str) -> None:
        """Keys typed into a session: refused outright when `allow_input` is off, else checked
        like a command (best effort: a client can edit the line with the keys it sends)."""
        if not self.allow_input:
            raise PolicyDenied("typed input is turned off by the security policy", "allow_input")
        self.check_command(typed)

    def check_command(self, command: str) -> None:
        for pattern in self._patterns:
            if pattern.search(command):
                raise PolicyDenied(
                    f"command matches the denied pattern {pattern.pattern!r}", "denied_commands"
                )

    def check_environment(self, environment: dict[str, str]) -> None:
        named = set(self.allowed_environment or ())
        if self.allowed_environment is not None:
            extra = sorted(set(environment) - named)
            if extra:
                raise PolicyDenied(
                    "environment variables not allowed by the security policy: " + ", ".join(extra),
                    "allowed_environment",
                )
            return  # the ones named were allowed on purpose
        if self.denied_commands:
            code = sorted(
                k for k in environment if k in CODE_VARIABLES or k.startswith("BASH_FUNC_")
            )
            if code:
                raise PolicyDenied(
                    f"environment variables that run code ({', '.join(code)}) would get around "
                    "denied_commands; name them in allowed_environment to allow them",
                    "denied_commands",
                )


class RateLimit:
    """A token bucket per client: `rate` requests a second on average, bursts of `burst`."""

    MAX_CLIENTS = 10_000  # buckets kept; the least recently seen go first

    def __init__(self, rate: float = 50.0, burst: int = 100) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, time

    def take(self, client: str) -> float:
        """Spend one token: 0.0 if allowed, else the seconds until one is available."""
        now = time.monotonic()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


@dataclass(frozen=True)
class AuditRecord:
    time: str
    client: str
    action: str  # "execute", "create", "input", "delete", ...
    session: str
    allowed: bool
    detail: str  # the command, or why it was refused


class AuditLog:
    """Every command an API client ran or was refused: the newest in memory, all of them in a
    JSON-lines file (mode 0600) when a path is given. A failing disk loses the file line, not
    the request."""

    def __init__(self, path: Path | None = None, keep: int = 1000) -> None:
        self.path = path
        self.records: deque[AuditRecord] = deque(maxlen=keep)

    def record(self, client: str, action: str, session: str, allowed: bool, detail: str) -> None:
        entry = AuditRecord(
            datetime.now(UTC).isoformat(), client, action, session, allowed, detail[:4096]
        )
        self.records.append(entry)
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                f.write(json.dumps(entry.__dict__) + "\n")
        except OSError as exc:
            log.warning("audit log %s: %s (kept in memory only)", self.path, exc)
