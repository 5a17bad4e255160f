"""What API clients may do: a policy checked on create and execute, a rate limit per client,
tokens scoped to one session, and an audit record of every command run or refused.

The seed's `SecurityPolicy` was data nobody checked; here every check raises
`PermissionDenied` naming the rule that refused, and the server turns that into a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_state_dir

from engine.config import config_table
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
# would be a way around it, so they are refused unless `allowed_environment` names them (and
# every name starting with one of CODE_PREFIXES).
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
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "NODE_OPTIONS",
        # Where shells and tools find their startup files: a directory of the client's
        # choosing makes its rc file run.
        "HOME",
        "ZDOTDIR",
        "XDG_CONFIG_HOME",
        "XDG_CONFIG_DIRS",
        "XDG_DATA_DIRS",
        "INPUTRC",
        "GCONV_PATH",
        # Commands that tools run on the user's behalf.
        "EDITOR",
        "VISUAL",
        "PAGER",
        "MANPAGER",
        "GIT_PAGER",
        "GIT_EDITOR",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_EXTERNAL_DIFF",
        "LESSOPEN",
        "LESSCLOSE",
        "SUDO_ASKPASS",
        "SSH_ASKPASS",
    }
)
CODE_PREFIXES = ("BASH_FUNC_", "LD_", "GIT_CONFIG_")


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
        """The `[security]` table as the README shows it; an unknown key is an error (a typo
        must not silently allow what it meant to deny)."""
        lists = {
            "allowed_directories",
            "denied_directories",
            "denied_commands",
            "allowed_environment",
        }
        unknown = set(data) - lists - {"allow_input"}
        if unknown:
            raise ValueError(f"unknown security settings: {', '.join(sorted(unknown))}")
        for key in lists & set(data):
            if not isinstance(data[key], list) or not all(isinstance(v, str) for v in data[key]):
                raise ValueError(f"security.{key} must be a list of strings")
        if "allow_input" in data and not isinstance(data["allow_input"], bool):
            raise ValueError("security.allow_input must be true or false")
        return cls(**data)

    @classmethod
    def load(cls, path: Path, *, required: bool = False) -> SecurityPolicy:
        """The `[security]` table of a TOML config file (no file, unless `required`: allow
        everything)."""
        return cls.from_dict(config_table(path, "security", required=required))

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
                k for k in environment if k in CODE_VARIABLES or k.startswith(CODE_PREFIXES)
            )
            if code:
                raise PolicyDenied(
                    f"environment variables that run code ({', '.join(code)}) would get around "
                    "denied_commands; name them in allowed_environment to allow them",
                    "denied_commands",
                )


class RateLimit:
    """A token bucket per client: `rate` requests a second on average, bursts of `burst`.

    The default lets an orchestrator with a few dozen pollers run unthrottled; it is there to
    stop a runaway loop, not to shape normal use."""

    MAX_CLIENTS = 10_000  # buckets kept; the least recently seen go first

    def __init__(self, rate: float = 1000.0, burst: int = 2000) -> None:
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
class Principal:
    """Who a request comes from, once authenticated.

    `client` names it in the audit log and keys its rate limit: the token's identity when it
    gave one (so all the processes of one orchestrator share one allowance), else its address
    or, on the control socket, its uid. A scoped principal may only touch `session_id`, and
    only read it when `read_only`."""

    client: str
    address: str = ""  # where it connects from (the same as `client` without a token)
    admin: bool = True
    session_id: str | None = None
    read_only: bool = False

    def may_touch(self, session_id: str) -> bool:
        return self.admin or self.session_id == session_id

    @property
    def label(self) -> str:
        """How the audit log names it: the identity, and the address when they differ."""
        if not self.address or self.address == self.client:
            return self.client
        return f"{self.client} from {self.address}"


@dataclass(frozen=True)
class Scope:
    session_id: str
    read_only: bool
    label: str  # a short non-secret name for the audit log and rate limit ("scoped:1a2b3c4d")


class TokenStore:
    """Tokens scoped to one session, made by an admin client. Only their SHA-256 is kept: a
    dump of the server's memory or a debug log cannot leak a usable token."""

    def __init__(self) -> None:
        self._scopes: dict[bytes, Scope] = {}

    def issue(self, session_id: str, *, read_only: bool = False) -> str:
        token = "ais_" + secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).digest()
        self._scopes[digest] = Scope(session_id, read_only, "scoped:" + digest.hex()[:8])
        return token

    def lookup(self, token: str) -> Scope | None:
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        return self._scopes.get(digest)  # keyed by the hash: no timing to learn the token from

    def forget(self, session_id: str) -> int:
        """Revoke every token of a session (it was deleted); how many."""
        gone = [d for d, s in self._scopes.items() if s.session_id == session_id]
        for digest in gone:
            del self._scopes[digest]
        return len(gone)

    def __len__(self) -> int:
        return len(self._scopes)


def same_secret(given: str, expected: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


MAX_DETAIL = 4096  # characters of a command kept in an audit record


@dataclass(frozen=True)
class AuditRecord:
    time: str
    client: str
    action: str  # "execute", "create", "input", "delete", "auth", ...
    session: str
    allowed: bool
    detail: str  # the command, or why it was refused (its first MAX_DETAIL characters)
    truncated: bool = False  # detail is cut: `sha256` and `length` identify the whole
    sha256: str | None = None
    length: int | None = None


class AuditLog:
    """Every command an API client ran or was refused: the newest in memory, all of them in a
    JSON-lines file (mode 0600) when a path is given. A failing disk loses the file line, not
    the request.

    A command longer than MAX_DETAIL characters keeps its start, marked `truncated`, with the
    SHA-256 and length of the whole so it can still be matched. Failed authentications are
    recorded at most `failures` a second (a flood of wrong tokens must not fill the disk); the
    next record says how many were left out."""

    def __init__(self, path: Path | None = None, keep: int = 1000, failures: float = 5.0) -> None:
        self.path = path
        self.records: deque[AuditRecord] = deque(maxlen=keep)
        self._failures = RateLimit(failures, max(1, int(failures * 4)))
        self.unrecorded_failures = 0

    def record(self, client: str, action: str, session: str, allowed: bool, detail: str) -> None:
        extra: dict[str, Any] = {}
        if len(detail) > MAX_DETAIL:
            whole = detail.encode("utf-8", "surrogateescape")
            extra = {
                "truncated": True,
                "sha256": hashlib.sha256(whole).hexdigest(),
                "length": len(detail),
            }
            detail = detail[:MAX_DETAIL]
        entry = AuditRecord(
            datetime.now(UTC).isoformat(), client, action, session, allowed, detail, **extra
        )
        self.records.append(entry)
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.path.parent.stat().st_mode & 0o077:  # made by an older version: as the data's
                self.path.parent.chmod(0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                line = {k: v for k, v in entry.__dict__.items() if v is not None}
                if not entry.truncated:
                    del line["truncated"]
                f.write(json.dumps(line) + "\n")
        except OSError as exc:
            log.warning("audit log %s: %s (kept in memory only)", self.path, exc)

    def record_failure(self, client: str, reason: str) -> bool:
        """A refused authentication, unless too many came lately; True if recorded."""
        if self._failures.take("auth") > 0:
            self.unrecorded_failures += 1
            return False
        if self.unrecorded_failures:
            reason += f" ({self.unrecorded_failures} more failures were not recorded)"
            self.unrecorded_failures = 0
        self.record(client, "auth", "", False, reason)
        return True
