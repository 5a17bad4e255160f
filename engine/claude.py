"""Claude Code's transcripts (`~/.claude/projects/<project>/<session>.jsonl`): the tokens a
session spent, its model, the context its last turn used and its compactions.

The format, one JSON object per line: an assistant line carries `message.id`, `message.model`,
`message.usage` {input_tokens, output_tokens, cache_creation_input_tokens,
cache_read_input_tokens} and `requestId`; one API message is written as several lines (one per
content block), so usage is counted once per (message id, request id), its largest figures
kept. A `{"type": "system", "subtype": "compact_boundary", "compactMetadata": {"trigger",
"preTokens"}}` line marks a compaction. Subagents' lines (`isSidechain`) count in the totals
but not in the context. `TranscriptReader` reads a growing file incrementally (it remembers
its offset and holds a partial last line back), parses only the lines that can hold usage or a
compaction (a transcript is mostly prompts and tool results), and skips lines it cannot read.

Several claude panes can share a project directory, so its newest transcript is nobody's in
particular: `ProjectFolder` lists a project's transcripts (again only when the directory
changed) with the time each was first seen written, and the agent monitor gives each pane
the one its hooks name (`hook_transcript`, accepted only under the config directory's
`projects/`) or one written since that pane's claude started that no other pane has.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from engine.agents import TokenTotals

CONTEXT_WINDOW = 200_000  # tokens: Claude's standard window
LONG_CONTEXT_WINDOW = 1_000_000  # the long-context models' (the transcript does not say which)
MAX_LINE = 32 << 20  # bytes: a longer line (a huge tool result) is skipped, not held
READ_CHUNK = 1 << 20  # bytes read at once
_USAGE = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
_NOT_NAME = re.compile(r"[^A-Za-z0-9]")
_WANTED = (b'"assistant"', b"compact_boundary")  # lines that can hold usage or a compaction
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
RACY = 2_000_000_000  # ns: a directory changed this soon before a listing may change unseen


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Claude Code's directory: $CLAUDE_CONFIG_DIR, else ~/.claude (of `env`'s HOME)."""
    env = os.environ if env is None else env
    configured = env.get("CLAUDE_CONFIG_DIR")
    if configured:
        return Path(os.path.expanduser(configured))
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".claude"


def project_name(cwd: str) -> str:
    """The directory Claude Code keeps a project's transcripts in: the working directory with
    every character but letters and digits turned into `-` (`/tmp/a_b` -> `-tmp-a-b`)."""
    return _NOT_NAME.sub("-", cwd)


def project_folder(cwd: str, env: Mapping[str, str] | None = None) -> Path:
    """Where Claude Code keeps the transcripts of the project in `cwd`."""
    return config_dir(env) / "projects" / project_name(cwd)


def hook_transcript(
    path: object, session_id: object, cwd: str | None, env: Mapping[str, str] | None = None
) -> Path:
    """The transcript a hook names, by its `transcript_path` or else its `session_id` (in the
    project of `cwd`), resolved. ValueError saying why when it is none of the session's: it
    must be a `.jsonl` file under the Claude config directory's `projects/` of `env` (a hook
    is any program in the pane: it must not point the server at another user's files)."""
    if isinstance(path, str) and path:
        if not path.endswith(".jsonl"):
            raise ValueError("transcript_path is not a .jsonl file")
        if not os.path.isabs(path):
            raise ValueError("transcript_path is not an absolute path")
        given = Path(path)
    elif isinstance(session_id, str) and session_id:
        if not _SESSION_ID.fullmatch(session_id):
            raise ValueError("session_id is not a Claude Code session id")
        if cwd is None:
            raise ValueError("no working directory to find the session's transcript in")
        given = project_folder(cwd, env) / f"{session_id}.jsonl"
    else:
        raise ValueError("the hook names no transcript")
    root = (config_dir(env) / "projects").resolve()
    resolved = given.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise ValueError(f"transcript_path is not under {root}")
    if resolved.suffix != ".jsonl":
        raise ValueError("transcript_path leads to a file that is no .jsonl")
    return resolved


class ProjectFolder:
    """A project's transcripts (`*.jsonl`, regular files) by name, each with its mtime when
    first listed (ns): a file first seen written after a claude started may be that
    claude's. Listed again only when the directory's mtime changed (a file made or removed),
    or when it changed too soon before the last listing to trust; a known file is never
    stat'ed again. A folder of thousands of old transcripts costs one stat per look."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()  # as a hook's transcript_path is compared: resolved
        self.files: dict[str, int] = {}  # name -> mtime_ns when first listed
        self.listings = 0  # how many times the directory was read
        self._mtime: int | None = None
        self._listed_at = 0

    def refresh(self) -> None:
        try:
            changed = os.stat(self.path).st_mtime_ns
        except OSError:
            self.files, self._mtime = {}, None
            return
        if changed == self._mtime and self._listed_at - changed > RACY:
            return
        listed_at = time.time_ns()
        files: dict[str, int] = {}
        try:
            with os.scandir(self.path) as entries:
                for entry in entries:
                    if not entry.name.endswith(".jsonl"):
                        continue
                    first = self.files.get(entry.name)
                    if first is None:
                        try:
                            if not entry.is_file(follow_symlinks=False):
                                continue
                            first = entry.stat(follow_symlinks=False).st_mtime_ns
                        except OSError:
                            continue
                    files[entry.name] = first
        except OSError:
            files = {}
        self.files, self._mtime, self._listed_at = files, changed, listed_at
        self.listings += 1


@dataclass(frozen=True)
class Compaction:
    """One compaction of the conversation: when, why (`manual`/`auto`), tokens before it."""

    time: datetime | None
    trigger: str | None
    pre_tokens: int | None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class TranscriptReader:
    """One transcript, read as it grows; `totals()` at any time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.offset = 0  # bytes of the file taken in
        self.bad_lines = 0  # lines of interest that were not JSON objects, or too long (skipped)
        self.compactions: list[Compaction] = []
        self.model: str | None = None
        self.context_used: int | None = None
        self._rest = bytearray()  # a last line not ended yet
        self._skipping = False  # inside a line longer than MAX_LINE
        self._usage: dict[tuple[str, str], tuple[int, int, int, int]] = {}
        self._sums = [0, 0, 0, 0]
        self._inode: tuple[int, int] | None = None
        self.size = 0  # the file's size at the last update

    def update(self, limit: int | None = None) -> int:
        """Read what was appended since the last call (at most `limit` bytes of it: `behind`
        says when more is left); how many lines were taken in. A file that shrank or was
        replaced is read again from its start. OSError if unreadable, a symbolic link or not
        a regular file (a FIFO or a device named as a transcript must not block or never end)."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as file:
            stat = os.fstat(fd)
            if not S_ISREG(stat.st_mode):
                raise OSError(f"{self.path} is not a regular file")
            inode = (stat.st_dev, stat.st_ino)
            if inode != self._inode or stat.st_size < self.offset:
                self._reset()
                self._inode = inode
            self.size = stat.st_size
            end = self.size if limit is None else min(self.size, self.offset + limit)
            file.seek(self.offset)
            lines = 0
            while self.offset < end and (chunk := file.read(min(READ_CHUNK, end - self.offset))):
                self.offset += len(chunk)
                lines += self._feed(chunk)
            return lines

    @property
    def behind(self) -> bool:
        """More of the file is there than was read (the last `update` had a limit)."""
        return self.size > self.offset

    def _reset(self) -> None:
        self.offset = 0
        self.bad_lines = 0
        self.compactions = []
        self.model = None
        self.context_used = None
        self._rest.clear()
        self._skipping = False
        self._usage.clear()
        self._sums = [0, 0, 0, 0]

    def _feed(self, chunk: bytes) -> int:
        lines = 0
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if self._skipping:
                self._skipping = False
                self.bad_lines += 1
            else:
                self._rest += chunk[start:end]
                self._line(bytes(self._rest))
                lines += 1
            self._rest.clear()
            start = end + 1
        if not self._skipping:
            self._rest += chunk[start:]
            if len(self._rest) > MAX_LINE:
                self._rest.clear()
                self._skipping = True
        return lines

    def _line(self, raw: bytes) -> None:
        if not any(word in raw for word in _WANTED):  # prompts, tool results: never parsed
            return
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            self.bad_lines += 1
            return
        if not isinstance(record, dict):
            self.bad_lines += 1
            return
        kind = record.get("type")
        if kind == "assistant":
            self._assistant(record)
        elif kind == "system" and record.get("subtype") == "compact_boundary":
            meta = record.get("compactMetadata")
            meta = meta if isinstance(meta, dict) else {}
            trigger = meta.get("trigger")
            pre = meta.get("preTokens")
            self.compactions.append(
                Compaction(
                    time=_time(record.get("timestamp")),
                    trigger=trigger if isinstance(trigger, str) else None,
                    pre_tokens=_count(pre) if pre is not None else None,
                )
            )
            self.context_used = None  # until the next turn says what is left

    def _assistant(self, record: dict[str, Any]) -> None:
        message = record.get("message")
        if not isinstance(message, dict):
            return
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return
        figures = tuple(_count(usage.get(name)) for name in _USAGE)
        message_id = message.get("id")
        request_id = record.get("requestId")
        key = (
            str(message_id) if message_id is not None else f"uuid:{record.get('uuid')}",
            str(request_id) if request_id is not None else "",
        )
        old = self._usage.get(key)
        if old is not None:
            figures = tuple(max(a, b) for a, b in zip(old, figures, strict=True))
        new = figures
        if old is not None:
            for i, value in enumerate(old):
                self._sums[i] -= value
        for i, value in enumerate(new):
            self._sums[i] += value
        self._usage[key] = (new[0], new[1], new[2], new[3])
        if record.get("isSidechain") is True:
            return
        model = message.get("model")
        if isinstance(model, str) and model and not model.startswith("<"):  # <synthetic>
            self.model = model
            self.context_used = new[0] + new[2] + new[3]

    def totals(self) -> TokenTotals:
        """What the transcript holds so far."""
        used = self.context_used
        window: int | None = None
        if self.model is not None and self.model.startswith("claude"):
            long = used is not None and used > CONTEXT_WINDOW
            window = LONG_CONTEXT_WINDOW if long else CONTEXT_WINDOW
        return TokenTotals(
            input=self._sums[0],
            output=self._sums[1],
            cache_read=self._sums[2],
            cache_write=self._sums[3],
            model=self.model,
            context_used=used,
            context_window=window,
            compactions=len(self.compactions),
        )
