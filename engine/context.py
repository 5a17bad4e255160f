"""A session's AI context: messages with real token counts, folded past a threshold into a
summary that keeps their facts, the originals kept zstd-compressed so nothing is lost.

The seed's `SessionContext` verbs, with its two mixed-up figures pulled apart: *token reduction*
(how many fewer tokens a model is sent, counted with cl100k) and *storage ratio* (how small zstd
makes the archived originals, in bytes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import zstandard

from engine.config import ContextConfig
from engine.errors import SessionError
from engine.tokens import count_tokens, encoding_name

ZSTD_LEVEL = 9  # archiving runs inside add_message: ~50 MB/s keeps it off the event loop's back
KEEP_FRACTION = 0.5  # after a compression the recent messages fill at most half the trigger level
SUMMARY_FRACTION = 0.35  # and the summary a third: 15 % stays free so compressions are rare
MIN_RECENT = 1  # the newest message is never folded, however large
LINE_CHARS = 160  # a fact line (an error, a gist) is cut here: the original has the rest
MOST_ERRORS = 12  # distinct error lines kept per message; the rest are counted
MOST_PATHS = 16
MOST_COUNTS = 6
MOST_COMMANDS = 8


class MessageRole(StrEnum):
    """Who wrote a message, as chat APIs name it."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"  # a command's (compressed) output


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Message:
    """One message of a context. `token_count` is filled in by `SessionContext.add_message` when
    None; `id` is given by the context; `summary_of` lists the ids a summary stands for; `data`
    carries structured facts such as a command record's `command`, `exit_code` and `cwd`."""

    role: MessageRole
    content: str
    timestamp: datetime = field(default_factory=_now)
    token_count: int | None = None
    id: int | None = None
    estimated: bool = False  # token_count came from the heuristic, not tiktoken
    summary_of: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def for_command(
        cls,
        command: str,
        output: str,
        exit_code: int | None = None,
        cwd: str | None = None,
        timestamp: datetime | None = None,
    ) -> Message:
        """A Tool message for one finished command: its line, output and exit status."""
        status = "" if exit_code is None else f"\n[exit {exit_code}]"
        data: dict[str, Any] = {"command": command, "exit_code": exit_code}
        if cwd is not None:
            data["cwd"] = cwd
        return cls(
            MessageRole.TOOL,
            f"$ {command}\n{output.rstrip()}{status}",
            timestamp or _now(),
            data=data,
        )

    @property
    def is_summary(self) -> bool:
        return bool(self.summary_of)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (timestamps in ISO 8601)."""
        return {
            "id": self.id,
            "role": self.role.value,
            "content": self.content,
            "timestamp": self.timestamp.isoformat(),
            "token_count": self.token_count,
            "estimated": self.estimated,
            "summary_of": list(self.summary_of),
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class Compression:
    """One fold: which messages went into the summary and what that changed."""

    folded: tuple[int, ...]  # ids of the messages (and earlier summary) replaced
    tokens_before: int  # their tokens
    tokens_after: int  # the new summary's tokens
    original_bytes: int  # UTF-8 bytes of the originals archived by this fold
    stored_bytes: int  # their size zstd-compressed


@dataclass(frozen=True)
class ContextSummary:
    """The figures `get_summary()` reports; token and storage figures are kept apart."""

    total_messages: int
    total_tokens: int  # what the context holds now
    original_tokens: int  # what it would hold had nothing been folded
    compressions: int
    archived_messages: int
    original_bytes: int  # the archived originals' UTF-8 bytes
    stored_bytes: int  # the same, zstd-compressed
    estimated: bool  # some count came from the heuristic
    encoding: str

    @property
    def tokens_saved(self) -> int:
        return self.original_tokens - self.total_tokens

    @property
    def token_reduction(self) -> float:
        """Fraction of tokens compression removed (0.93 is "93 % fewer tokens")."""
        return self.tokens_saved / self.original_tokens if self.original_tokens else 0.0

    @property
    def token_compression_ratio(self) -> float:
        """Original tokens per token held (14.3 means a 14.3 times smaller context)."""
        return self.original_tokens / self.total_tokens if self.total_tokens else 1.0

    @property
    def storage_ratio(self) -> float:
        """Archived bytes per zstd byte; 1.0 before anything is archived."""
        return self.original_bytes / self.stored_bytes if self.stored_bytes else 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, with the two figures under their own labels."""
        return {
            "messages": self.total_messages,
            "compressions": self.compressions,
            "tokens": {
                "current": self.total_tokens,
                "original": self.original_tokens,
                "saved": self.tokens_saved,
                "reduction": round(self.token_reduction, 4),
                "compression_ratio": round(self.token_compression_ratio, 2),
                "encoding": self.encoding,
                "estimated": self.estimated,
            },
            "storage": {
                "archived_messages": self.archived_messages,
                "original_bytes": self.original_bytes,
                "zstd_bytes": self.stored_bytes,
                "ratio": round(self.storage_ratio, 2),
            },
        }

    def __str__(self) -> str:
        counted = "estimated" if self.estimated else self.encoding
        return (
            f"{self.total_messages} messages, {self.total_tokens:,} tokens; "
            f"token reduction {self.token_reduction:.1%} "
            f"({self.original_tokens:,} → {self.total_tokens:,} tokens, {counted}); "
            f"storage ratio {self.storage_ratio:.2f}× "
            f"({self.original_bytes:,} → {self.stored_bytes:,} bytes with zstd, "
            f"{self.archived_messages} originals archived)"
        )


@dataclass
class _Archived:
    stub: Message  # the original without its content
    blob: bytes  # the content, zstd-compressed


class SessionContext:
    """The messages an agent working in a session would be sent, kept under `config.max_tokens`.

    Adding a message that takes the total past `max_tokens * compression_threshold` compresses:
    system messages and the most recent messages stay as they are; older ones become one summary
    message carrying their commands, exit codes, error lines, paths and counts, and their full
    text goes to a zstd archive that `original(id)` reads back.
    """

    def __init__(self, session_id: str = "", config: ContextConfig | None = None) -> None:
        self.session_id = session_id
        self.config = config if config is not None else ContextConfig()
        if self.config.max_tokens < 1:
            raise SessionError(f"max_tokens {self.config.max_tokens} is invalid: give 1 or more")
        if not 0 < self.config.compression_threshold <= 1:
            raise SessionError(
                f"compression_threshold {self.config.compression_threshold} is invalid: "
                "give a fraction of max_tokens in (0, 1]"
            )
        self._messages: list[Message] = []
        self._archive: dict[int, _Archived] = {}
        self._compressions: list[Compression] = []
        self._next_id = 1
        self._added_tokens = 0
        self._estimated = False
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._line_tokens: dict[str, int] = {}  # summary line -> its tokens + 1 (the newline)
        # Told of each message added and each compression (the summary, the ids it replaced,
        # the archived originals' zstd text): how the store keeps a context.
        self.on_added: Callable[[Message], None] | None = None
        self.on_compressed: Callable[[Message, tuple[int, ...], dict[int, bytes]], None] | None = (
            None
        )

    # The seed's verbs

    def add_message(self, message: Message) -> Message:
        """Add `message` (its token count filled in when None) and compress if the total passes
        the threshold. Returns the message as held, with its id."""
        if message.token_count is None:
            counted = count_tokens(message.content)
            message = replace(message, token_count=counted.tokens, estimated=counted.estimated)
        message = replace(message, id=self._next_id)
        self._next_id += 1
        self._messages.append(message)
        self._added_tokens += _tokens(message)
        self._estimated |= message.estimated
        if self.on_added is not None:
            self.on_added(message)
        if self.get_total_tokens() > self._trigger():
            self.compress_context()
        return message

    def get_message_count(self) -> int:
        return len(self._messages)

    def get_total_tokens(self) -> int:
        """The sum of the held messages' counts (a chat API adds a few per message on top)."""
        return sum(_tokens(m) for m in self._messages)

    def get_recent_messages(self, n: int) -> list[Message]:
        return self._messages[-n:] if n > 0 else []

    def get_messages_within_limit(self, tokens: int) -> list[Message]:
        """The messages to send within `tokens`: the system messages that fit, oldest first, then
        the newest others back to the first that would not fit. In context order."""
        chosen: set[int] = set()
        used = 0
        for message in self._messages:
            if _pinned(message) and used + _tokens(message) <= tokens:
                chosen.add(_id(message))
                used += _tokens(message)
        for message in reversed(self._messages):
            if _pinned(message):
                continue
            if used + _tokens(message) > tokens:
                break
            chosen.add(_id(message))
            used += _tokens(message)
        return [m for m in self._messages if _id(m) in chosen]

    def get_summary(self) -> ContextSummary:
        return ContextSummary(
            total_messages=len(self._messages),
            total_tokens=self.get_total_tokens(),
            original_tokens=self._added_tokens,
            compressions=len(self._compressions),
            archived_messages=len(self._archive),
            original_bytes=sum(c.original_bytes for c in self._compressions),
            stored_bytes=sum(c.stored_bytes for c in self._compressions),
            estimated=self._estimated,
            encoding=encoding_name(),
        )

    def compress_context(self) -> bool:
        """Fold the older messages into a summary; False when there is nothing to fold or the
        summary would not be smaller than what it replaces."""
        fold = self._messages_to_fold()
        if not fold or (len(fold) == 1 and fold[0].is_summary):
            return False
        content = self._summary_text(fold)
        counted = count_tokens(content)
        tokens_before = sum(_tokens(m) for m in fold)
        if counted.tokens >= tokens_before:
            return False
        covered = tuple(sorted({i for m in fold for i in _covers(m)}))
        summary = Message(
            MessageRole.SYSTEM,
            content,
            fold[-1].timestamp,
            token_count=counted.tokens,
            id=self._next_id,
            estimated=counted.estimated,
            summary_of=covered,
        )
        self._next_id += 1
        original_bytes = stored_bytes = 0
        for message in fold:
            if not message.is_summary:
                raw = message.content.encode()
                blob = self._zstd.compress(raw)
                self._archive[_id(message)] = _Archived(replace(message, content=""), blob)
                original_bytes += len(raw)
                stored_bytes += len(blob)
        folded = {_id(m) for m in fold}
        at = next(i for i, m in enumerate(self._messages) if _id(m) in folded)
        rest = [m for m in self._messages if _id(m) not in folded]
        self._messages = [*rest[:at], summary, *rest[at:]]
        folded_ids = tuple(_id(m) for m in fold)
        self._compressions.append(
            Compression(folded_ids, tokens_before, counted.tokens, original_bytes, stored_bytes)
        )
        if self.on_compressed is not None:
            blobs = {i: self._archive[i].blob for i in folded_ids if i in self._archive}
            self.on_compressed(summary, folded_ids, blobs)
        return True

    # Beyond the seed

    def resume(self, held: list[Message], every: list[Message]) -> None:
        """Go on from a stored context (a restored pane's): `held` the messages it held, in
        order; `every` all it had, folded ones with their full text. Each stored summary
        counts as one compression; ids go on from the highest."""
        if self._messages or self._archive:
            raise SessionError("resume() is for a new context: this one holds messages")
        ids = {_id(m) for m in held}
        self._messages = list(held)
        for message in every:
            if message.id is None or message.id in ids or message.is_summary:
                continue
            self._archive[message.id] = _Archived(
                replace(message, content=""), self._zstd.compress(message.content.encode())
            )
        originals = [m for m in every if not m.is_summary]
        self._added_tokens = sum(_tokens(m) for m in originals)
        self._estimated = any(m.estimated for m in every)
        counted: set[int] = set()  # a later summary covers an earlier one's messages again
        for summary in sorted((m for m in every if m.is_summary), key=_id):
            new = [i for i in summary.summary_of if i in self._archive and i not in counted]
            counted.update(new)
            raw = sum(len(self.original(i).content.encode()) for i in new)
            stored = sum(len(self._archive[i].blob) for i in new)
            before = sum(_tokens(m) for m in originals if m.id in new)
            self._compressions.append(
                Compression(summary.summary_of, before, _tokens(summary), raw, stored)
            )
        self._next_id = max((_id(m) for m in every), default=0) + 1

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(self._messages)

    @property
    def compressions(self) -> tuple[Compression, ...]:
        return tuple(self._compressions)

    def original(self, message_id: int) -> Message:
        """The message `add_message` returned under this id, in full, folded or not (or a
        summary still held). KeyError for any other id."""
        archived = self._archive.get(message_id)
        if archived is not None:
            content = zstandard.ZstdDecompressor().decompress(archived.blob).decode()
            return replace(archived.stub, content=content)
        for message in self._messages:
            if message.id == message_id:
                return message
        raise KeyError(f"no message {message_id} in the context of {self.session_id!r}")

    # Compression internals

    def _trigger(self) -> float:
        return self.config.max_tokens * self.config.compression_threshold

    def _messages_to_fold(self) -> list[Message]:
        """The non-system messages older than the recent ones that fit the keep budget (or than
        the newest, whatever its size); an earlier summary is always folded in."""
        budget = self._trigger() * KEEP_FRACTION - sum(
            _tokens(m) for m in self._messages if _pinned(m)
        )
        others = [m for m in self._messages if not _pinned(m)]
        kept, used = 0, 0
        for message in reversed(others):
            if message.is_summary:
                break
            if kept >= MIN_RECENT and used + _tokens(message) > budget:
                break
            kept += 1
            used += _tokens(message)
        return others[: len(others) - kept]

    def _summary_text(self, fold: list[Message]) -> str:
        """A header and one fact line per folded message (an earlier summary's lines as they
        are). Past the summary budget the oldest lines lose their paths and counts, then go
        whole (and are counted): commands, exit codes and errors are the last to leave."""
        seen: set[str] = set()
        lines: list[str] = []
        dropped = 0
        for message in fold:
            if not message.is_summary:
                lines.append(_fact_line(message, seen))
                continue
            for line in message.content.splitlines()[1:]:
                if left_out := _LEFT_OUT.match(line):
                    dropped += int(left_out.group(1))
                elif line:
                    lines.append(line)
        ids = [i for m in fold for i in _covers(m)]
        header = (
            f"Summary of earlier messages #{min(ids)}-#{max(ids)} "
            f"(the full text of each: original(id)):"
        )
        budget = self._trigger() * SUMMARY_FRACTION
        known = self._line_tokens  # the held summary's lines come back at every fold
        sizes = [known.get(line) or count_tokens(line).tokens + 1 for line in lines]
        total = count_tokens(header).tokens + sum(sizes)
        for n, line in enumerate(lines):  # first the oldest lines lose their paths and counts,
            if total <= budget:
                break
            slim = _SECONDARY.sub("", line)
            if slim != line:
                lines[n], size = slim, count_tokens(slim).tokens + 1
                total, sizes[n] = total - sizes[n] + size, size
        cut = 0
        while total > budget and len(lines) - cut > 1:  # then whole lines go
            total -= sizes[cut]
            cut += 1
        lines = lines[cut:]
        self._line_tokens = dict(zip(lines, sizes[cut:], strict=True))
        if dropped + cut:
            lines.insert(0, f"({dropped + cut} older messages left out: see the originals)")
        return "\n".join([header, *lines])


def _tokens(message: Message) -> int:
    return message.token_count or 0


def _id(message: Message) -> int:
    assert message.id is not None, "messages in a context have ids"
    return message.id


def _pinned(message: Message) -> bool:
    """System messages stay in place; a summary is the context's own and may be refolded."""
    return message.role is MessageRole.SYSTEM and not message.is_summary


def _covers(message: Message) -> tuple[int, ...]:
    return message.summary_of or (_id(message),)


# Fact extraction: what a reader of an old message needs without opening it.

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_SECONDARY = re.compile(r" · (?:paths|counts): .*?(?= · |$)")
_LEFT_OUT = re.compile(r"\((\d+) older messages left out")
_COMMIT = re.compile(r"^commit ([0-9a-f]{7,40})\b", re.MULTILINE)
_PROMPT = re.compile(r"^\s*(?:\$|❯|%|>>>)\s+(\S.*)$")
_EXIT = re.compile(
    r"\[exit (-?\d+)\]|\bexit(?:ed)?(?: with)?(?: code| status)?[ :=]+(-?\d+)\b"
    r"|non-zero exit status (-?\d+)",
    re.IGNORECASE,
)
_ERROR = re.compile(
    r"\b(?:errors?|failed|failures?|fatal|exception|traceback|panic(?:ked)?|denied|abort(?:ed)?"
    r"|fail|segmentation fault|not found|no such file|cannot|can't|unable to|timed out)\b|^E\s",
    re.IGNORECASE,
)
_ERROR_TYPE = re.compile(r"[a-z](?:Error|Exception)\b|\bERR!")  # KeyError:, npm ERR!
_NONE_OF = re.compile(r"\b(?:0|no)\s+(?:errors?|failures?|failed)\b", re.IGNORECASE)
_PY_FRAME = re.compile(r'File "([^"<>]+)", line (\d+)')  # a traceback frame, as path:line
_EXTENSIONS = (
    "py|pyi|rs|c|h|cc|cpp|hpp|js|mjs|ts|tsx|jsx|go|java|rb|sh|toml|json|ya?ml|md|txt|cfg|ini"
    "|lock|log|html|css|sql"
)
_PATH = re.compile(
    r"(?<![\w/.:-])(?:(?:~|\.{1,2})?/?(?:[\w.@+-]+/)+[\w.@+-]*[A-Za-z_][\w.@+-]*"
    rf"|[\w.-]+\.(?:{_EXTENSIONS}))(?::\d+(?::\d+)?)?(?![\w/])"
)
_COUNT = re.compile(
    r"\b\d[\d,.]*\s*(?:passed|failed|errors?|warnings?|skipped|xfailed|xpassed|deselected"
    r"|tests?|packages?|files? changed|insertions?|deletions?|added|removed|changed|audited"
    r"|vulnerabilit(?:y|ies)|succeeded|ok)\b",
    re.IGNORECASE,
)


def _fact_line(message: Message, seen: set[str]) -> str:
    """`#id role HH:MM:SS` then the command(s) and exit status, a gist for prose, and the error
    lines (each once per summary, via `seen`), counts and paths the message holds."""
    text = _ANSI.sub("", message.content)
    lines = [_squeeze(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    commands = _unique(
        [str(message.data["command"])] if message.data.get("command") else [],
        (m.group(1) for line in lines if (m := _PROMPT.match(line))),
    )[:MOST_COMMANDS]
    exit_code = message.data.get("exit_code")
    if exit_code is None and (found := _EXIT.search(text)):
        exit_code = next(g for g in found.groups() if g is not None)
    parts = [f"#{message.id} {message.role.value} {message.timestamp:%H:%M:%S}"]
    if commands:
        parts.append("$ " + "; $ ".join(_cut(c) for c in commands))
    if exit_code is not None:
        parts.append(f"exit {exit_code}")
    if not commands and lines:
        parts.append(_cut(lines[0]))
    if commit := _COMMIT.search(text):
        parts.append(f"commit {commit.group(1)[:12]}")
    error_lines = [
        line
        for line in _unique(_cut(line) for line in lines if _is_error(line))
        if not _PROMPT.match(line)
    ]
    errors = [line for line in error_lines if line not in seen]
    seen.update(errors)
    if errors:
        more = len(errors) - MOST_ERRORS
        shown = " | ".join(errors[:MOST_ERRORS])
        parts.append(f"errors: {shown}" + (f" (+{more} more)" if more > 0 else ""))
    elif error_lines:
        parts.append("errors: the same as above")
    counts = [
        line
        for line in _unique(_cut(line) for line in lines if _COUNT.search(line))
        if line not in errors
    ]
    if counts:
        parts.append("counts: " + " | ".join(counts[:MOST_COUNTS]))
    named = _unique(
        (f"{m.group(1)}:{m.group(2)}" for m in _PY_FRAME.finditer(text)),
        (m.group() for m in _PATH.finditer(text)),
    )
    with_line = {path.split(":", 1)[0] for path in named if ":" in path}
    paths = [path for path in named if path not in with_line]  # main.c:5:20 says main.c
    if paths:
        more = len(paths) - MOST_PATHS
        parts.append(
            "paths: " + " ".join(paths[:MOST_PATHS]) + (f" (+{more} more)" if more > 0 else "")
        )
    return " · ".join(parts)


def _squeeze(line: str) -> str:
    """The line without rule decoration (`=====`) and with single spaces."""
    return " ".join(line.strip("=-*_ \t").split())


def _is_error(line: str) -> bool:
    return bool(_ERROR.search(_NONE_OF.sub("", line)) or _ERROR_TYPE.search(line))


def _cut(text: str) -> str:
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"


def _unique(*groups: Iterable[str]) -> list[str]:
    """The items of `groups` in order, each once."""
    return list(dict.fromkeys(item for group in groups for item in group))
