"""Commands as records: what the shell's OSC 133 marks (engine/shell.py) say about each command.

The screen (engine/terminal.py) hands every mark to its `CommandTracker`, which notes where the
command line was typed (B, and the continuation prompts' own B), where its output starts (C)
and ends (D, with the exit status), and reads the command line and the output back from the
screen itself, so escapes, carriage returns and redraws are already resolved. Positions are
absolute lines, as copy mode counts them (`dropped + len(history) + row`): a line keeps its
number while it scrolls into the history or a clear pushes it there; a reflow renumbers them
(`before_reflow`/`after_reflow`).

sh (dash) has no C mark: the command starts when the cursor leaves the typed line (the tty's
echo of Enter), which `Terminal.feed` checks after each chunk while one is typed.

`Session` turns each finished command into a numbered `CommandRecord`, keeps the newest in its
`CommandHistory` and publishes it as a `CommandEvent`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from engine.events import iso_time
from engine.width import char_width

if TYPE_CHECKING:
    from engine.terminal import Screen

MAX_OUTPUT = 1024 * 1024  # characters of one command's output kept in its record (the end)
MAX_COMMAND = 64 * 1024  # characters of a command line kept
MAX_PROMPTS = 5000  # prompt marks kept for copy mode's previous-prompt / next-prompt
HISTORY_SIZE = 1000  # records a session keeps in memory (the store keeps them all)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_time(moment)


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class CommandRecord:
    """One command the shell ran in a session, as its marks and the screen showed it."""

    session_id: str
    session: str
    seq: int  # 1, 2, ... per session
    command: str
    cwd: str | None
    started_at: datetime
    ended_at: datetime | None
    exit_code: int | None
    output: str  # the screen's text from the output start to the command's end
    output_truncated: bool = False
    parsed: dict[str, Any] | None = None  # engine.output's OutputParser result, when asked
    id: int | None = None  # the store's row id once stored

    @property
    def failed(self) -> bool:
        """The command ended with a non-zero status."""
        return self.exit_code not in (None, 0)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while unknown)."""
        if self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.started_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times in ISO 8601 (UTC, Z), `duration` in seconds."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "session": self.session,
            "seq": self.seq,
            "command": self.command,
            "cwd": self.cwd,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration": self.duration,
            "exit_code": self.exit_code,
            "failed": self.failed,
            "output": self.output,
            "output_truncated": self.output_truncated,
            "parsed": self.parsed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CommandRecord:
        """The record `to_dict` gave (derived keys such as `duration` are ignored)."""
        started = _parse_time(d.get("started_at"))
        if started is None:
            raise ValueError("a command record needs started_at")
        code = d.get("exit_code")
        return cls(
            session_id=str(d.get("session_id", "")),
            session=str(d.get("session", "")),
            seq=int(d.get("seq", 0)),
            command=str(d.get("command", "")),
            cwd=d.get("cwd"),
            started_at=started,
            ended_at=_parse_time(d.get("ended_at")),
            exit_code=None if code is None else int(code),
            output=str(d.get("output", "")),
            output_truncated=bool(d.get("output_truncated", False)),
            parsed=d.get("parsed"),
            id=d.get("id"),
        )


class CommandHistory:
    """The newest `size` records of one session, oldest first."""

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self._records: deque[CommandRecord] = deque(maxlen=max(1, size))
        self.count = 0  # records ever added (the last seq given)

    def next_seq(self) -> int:
        """The seq the next command gets (seqs go on across respawns and restores)."""
        return self.count + 1

    def add(self, record: CommandRecord) -> None:
        """Keep a finished command's record (the oldest goes when `size` are kept)."""
        self._records.append(record)
        self.count = max(self.count, record.seq)

    def stored(self, seq: int, row_id: int) -> None:
        """The store keeps record `seq` as row `row_id`: the record here says so too."""
        for i, record in enumerate(self._records):
            if record.seq == seq:
                self._records[i] = replace(record, id=row_id)
                return

    def records(self, *, failed: bool = False, limit: int | None = None) -> list[CommandRecord]:
        """Oldest first; `failed` keeps non-zero exits; `limit` keeps the newest that many."""
        out = [r for r in self._records if r.failed or not failed]
        return out[-limit:] if limit is not None and limit >= 0 else out

    @property
    def last(self) -> CommandRecord | None:
        """The newest record, None before the first command ended."""
        return self._records[-1] if self._records else None

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[CommandRecord]:
        return iter(self._records)


@dataclass
class FinishedCommand:
    """What the tracker saw of one command; the session numbers it into a `CommandRecord`."""

    command: str
    cwd: str | None
    started_at: datetime
    ended_at: datetime
    exit_code: int | None
    output: str
    output_truncated: bool


@dataclass
class PromptMark:
    """Where one command's prompt (A) and output (C) started, absolute lines; its exit code
    once it ended (copy mode's previous-prompt / next-prompt, the pane's failed mark)."""

    prompt: int
    output: int | None = None
    exit_code: int | None = None
    done: bool = False


def _cmdline(params: list[str]) -> str | None:
    """The command line a C mark carries, percent-encoded (`cmdline_url=`, kitty's spelling:
    zsh's and fish's marks, engine/shell.py): exact where the screen also shows a right prompt
    or fish's indent of a continuation line. None without one (bash: read from the screen)."""
    for param in params:
        if param.startswith("cmdline_url="):
            return unquote(param[len("cmdline_url=") :])[:MAX_COMMAND] or None
    return None


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CommandTracker:
    """Follows one screen's OSC 133 marks and reads each command back from it. Takes the
    screen as an argument (it does not hold it: no reference cycle)."""

    inputs: list[tuple[int, int]] = field(default_factory=list)  # B and continuation B's
    marks_c: bool = False  # the shell marks C (bash); else the Enter's echo starts it (sh)
    command: str | None = None  # read at C (or the Enter's echo for sh)
    output_at: tuple[int, int] | None = None  # where the output starts
    started_at: datetime | None = None
    cwd: str | None = None
    finished: list[FinishedCommand] = field(default_factory=list)  # for the session to take
    prompts: deque[PromptMark] = field(default_factory=lambda: deque(maxlen=MAX_PROMPTS))
    waiting: bool = False  # sh: a line is being typed, its Enter not seen yet

    # -- the marks --------------------------------------------------------------------------

    def mark(self, screen: Screen, kind: str, params: list[str]) -> None:
        """One OSC 133 mark the screen accepted (A, S = A;k=s, B, C, D)."""
        here = (absolute(screen, screen.cursor.y), screen.cursor.x)
        if kind == "A":
            self.prompts.append(PromptMark(here[0]))
        elif kind == "B":
            if "k=s" in params:  # the input of a continuation line (PS2)
                self.inputs.append(here)
                if not self.marks_c:
                    self.command = self.output_at = self.started_at = None
                    self.waiting = True
                return
            self.inputs = [here]
            self.marks_c = any(p.startswith("ais_c") for p in params)
            self.command = self.output_at = self.started_at = None
            self.waiting = not self.marks_c
            if not self.prompts or self.prompts[-1].done or self.prompts[-1].output is not None:
                self.prompts.append(PromptMark(here[0]))  # a prompt without A (a foreign shell)
        elif kind == "C" and self.command is None:  # bash marks each command of a pasted
            self._start(screen, here, _cmdline(params))  # buffer: the first starts the record
        elif kind == "D":
            self._end(screen, here, params)

    def check_enter(self, screen: Screen) -> None:
        """sh: the command starts once the cursor has left the typed line (not by a wrap)."""
        if not self.waiting or not self.inputs:
            return
        y = absolute(screen, screen.cursor.y)
        end = _logical_end(screen, self.inputs[-1][0], y)
        if end is not None and y > end:
            self._start(screen, (end + 1, 0))

    def _start(self, screen: Screen, at: tuple[int, int], line: str | None = None) -> None:
        self.waiting = False
        if not self.inputs:
            return
        self.command = line or read_input(screen, self.inputs, at[0])
        self.output_at = at
        self.started_at = _now()
        self.cwd = screen.cwd
        if self.prompts and not self.prompts[-1].done:
            self.prompts[-1].output = at[0]

    def _end(self, screen: Screen, here: tuple[int, int], params: list[str]) -> None:
        code: int | None = None
        if len(params) > 0 and params[0].isdigit() and params[0].isascii():
            code = int(params[0][-10:])
        if self.waiting and self.inputs:  # sh: the Enter and all output came in one read
            end = _logical_end(screen, self.inputs[-1][0], here[0])
            self._start(screen, (end + 1, 0) if end is not None else here)
        command, at, started = self.command, self.output_at, self.started_at
        self.command = self.output_at = self.started_at = None
        self.inputs = []
        self.waiting = False
        prompt = self.prompts[-1] if self.prompts and not self.prompts[-1].done else None
        if command is None or at is None or started is None:
            if prompt is not None:  # an empty line or a cancelled one: no command here
                self.prompts.pop()
            return
        text = command.strip()
        if not text or (not self.marks_c and text.endswith("^C")):  # Enter alone, or (sh)
            # a line cancelled with C-c: the tty echoed ^C and a newline
            if prompt is not None:
                self.prompts.pop()
            return
        if prompt is not None:
            prompt.exit_code, prompt.done = code, True
        output, truncated = read_output(screen, at, here)
        self.finished.append(
            FinishedCommand(command, self.cwd, started, _now(), code, output, truncated)
        )

    def forget(self) -> None:
        """A new program starts on this screen: what its predecessor had open is gone."""
        self.inputs = []
        self.command = self.output_at = self.started_at = None
        self.waiting = False

    def take(self) -> list[FinishedCommand]:
        out, self.finished = self.finished, []
        return out

    # -- terminal images (engine/termstate.py) ------------------------------------------------

    def state(self) -> list[Any]:
        """Everything held, as JSON-ready data (`from_state` reads it back exactly)."""
        finished = [
            [
                f.command,
                f.cwd,
                _iso(f.started_at),
                _iso(f.ended_at),
                f.exit_code,
                f.output,
                f.output_truncated,
            ]
            for f in self.finished
        ]
        return [
            [list(p) for p in self.inputs],
            self.marks_c,
            self.command,
            None if self.output_at is None else list(self.output_at),
            _iso(self.started_at),
            self.cwd,
            finished,
            [[p.prompt, p.output, p.exit_code, p.done] for p in self.prompts],
            self.waiting,
        ]

    @classmethod
    def from_state(cls, data: list[Any]) -> CommandTracker:
        inputs, marks_c, command, output_at, started, cwd, finished, prompts, waiting = data
        tracker = cls(
            inputs=[(int(y), int(x)) for y, x in inputs],
            marks_c=bool(marks_c),
            command=command,
            output_at=None if output_at is None else (int(output_at[0]), int(output_at[1])),
            started_at=_parse_time(started),
            cwd=cwd,
            waiting=bool(waiting),
        )
        for c, d, start, end, code, output, truncated in finished:
            began, ended = _parse_time(start), _parse_time(end)
            if began is None or ended is None:
                raise ValueError("a finished command without its times")
            tracker.finished.append(FinishedCommand(c, d, began, ended, code, output, truncated))
        tracker.prompts.extend(PromptMark(*p) for p in prompts)
        return tracker

    # -- reflow --------------------------------------------------------------------------------

    def positions(self) -> list[tuple[int, int]]:
        """Every position held, for a reflow to move."""
        out = list(self.inputs)
        if self.output_at is not None:
            out.append(self.output_at)
        for p in self.prompts:
            out.append((p.prompt, 0))
            if p.output is not None:
                out.append((p.output, 0))
        return out

    def before_reflow(self, screen: Screen) -> list[tuple[int, int] | None]:
        """Each position as (line ends between it and the cursor's line, cells into its
        logical line): what a reflow keeps. One pass over the rows from the oldest position
        to the cursor; positions below the cursor's line or already dropped are let go."""
        positions = self.positions()
        dropped = screen.history.dropped
        cursor = absolute(screen, screen.cursor.y)
        live = [p[0] for p in positions if dropped <= p[0] <= cursor]
        if not live:
            return [None] * len(positions)
        start = min(live)
        wrapped = _Wraps(screen)
        while start > dropped and wrapped(start - 1):
            start -= 1
        flags = wrapped.span(start, cursor)
        ends = [0] * (len(flags) + 1)  # ends[i]: rows ending a line from start + i on
        for i in range(len(flags) - 1, -1, -1):
            ends[i] = ends[i + 1] + (not flags[i])
        heads = [0] * (len(flags) + 1)  # heads[i]: where the line through start + i begins
        for i in range(1, len(heads)):
            heads[i] = heads[i - 1] if flags[i - 1] else i
        columns = screen.columns
        out: list[tuple[int, int] | None] = []
        for line, x in positions:
            if not dropped <= line <= cursor:
                out.append(None)
                continue
            i = line - start
            out.append((ends[i], (i - heads[i]) * columns + x))
        return out

    def after_reflow(self, screen: Screen, saved: list[tuple[int, int] | None]) -> None:
        """Put the positions back where their characters went at the new width."""
        dropped = screen.history.dropped
        line = absolute(screen, screen.cursor.y)
        wrapped = _Wraps(screen)
        while line > dropped and wrapped(line - 1):
            line -= 1
        starts = [line]  # starts[k]: the first row of the line k line ends above the cursor's
        need = max((s[0] for s in saved if s is not None), default=0)
        while len(starts) <= need and line > dropped:
            line -= 1
            while line > dropped and wrapped(line - 1):
                line -= 1
            starts.append(line)
        columns = max(screen.columns, 1)
        places: list[tuple[int, int] | None] = []
        for s in saved:
            if s is None or s[0] >= len(starts):
                places.append(None)
            else:
                places.append((starts[s[0]] + s[1] // columns, s[1] % columns))
        it = iter(places)
        inputs = [next(it) for _ in self.inputs]
        self.inputs = [p for p in inputs if p is not None]
        if self.output_at is not None:
            self.output_at = next(it)
        kept: deque[PromptMark] = deque(maxlen=MAX_PROMPTS)
        for mark in self.prompts:
            where = next(it)
            out = next(it) if mark.output is not None else None
            if where is None:
                continue
            mark.prompt = where[0]
            mark.output = out[0] if out is not None else None
            kept.append(mark)
        self.prompts = kept


# -- reading the screen -------------------------------------------------------------------------


def absolute(screen: Screen, y: int) -> int:
    """The absolute line of screen row `y` (copy mode's numbering)."""
    history = screen._history
    return history.dropped + len(history) + y


def _row(screen: Screen, line: int) -> tuple[list[str], bool] | None:
    """Absolute line `line` as its cells' characters (a wide character once, in its first
    cell; its second cell "") and whether it wraps; None when it is gone or not there yet."""
    from engine.terminal import history_cells

    history = screen.history
    index = line - history.dropped
    if index < 0:
        return None
    if index < len(history):
        hist = history[index]
        cells: list[str] = []
        for data, _ in history_cells(hist):
            cells.append(data)
            if data and _wide(data):
                cells.append("")
        return cells, hist.wrapped
    y = index - len(history)
    if y >= screen.lines:
        return None
    row = screen.buffer.get(y)
    if not row:
        return [], bool(row is not None and getattr(row, "wrapped", False))
    width = max(row) + 1 if row else 0
    out = [" "] * min(width, screen.columns)
    for x, cell in row.items():
        if x < len(out):
            out[x] = cell.data
    return out, bool(getattr(row, "wrapped", False))


def _wide(data: str) -> bool:
    return char_width(data[0]) == 2


def _text(cells: list[str], start: int = 0, stop: int | None = None) -> str:
    return "".join(cells[start:stop])


def _logical_end(screen: Screen, line: int, limit: int) -> int | None:
    """The last row of the logical line that starts at or goes through `line` (rows joined
    by wrapping), looking no further than `limit`."""
    while line < limit:
        if not _wrapped(screen, line):
            return line
        line += 1
    return None


def read_input(screen: Screen, inputs: list[tuple[int, int]], stop: int) -> str:
    """The command line: from the first input position to row `stop` (excluded), each
    continuation row from its own input position, wrapped rows joined."""
    starts = dict(inputs)
    first = inputs[0][0]
    parts: list[str] = []
    size = 0
    for line in range(first, max(stop, first + 1)):
        row = _row(screen, line)
        if row is None:
            continue
        cells, wrapped = row
        text = _text(cells, starts.get(line, 0))
        parts.append(text if wrapped else text.rstrip(" ") + "\n")
        size += len(text)
        if size > MAX_COMMAND:
            break
    return "".join(parts).rstrip("\n")


class _Wraps:
    """Whether absolute lines go on in the next, the history's read a chunk at a time from
    the newest back (a reflow walks back from the cursor), each chunk in one pass."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.dropped = screen.history.dropped
        self.kept = len(screen.history)
        self.low = self.kept  # the history's flags from index `low` on are in `flags`
        self.flags: list[bool] = []

    def __call__(self, line: int) -> bool:
        index = line - self.dropped
        if index < 0:
            return False
        if index >= self.kept:
            row = self.screen.buffer.get(index - self.kept)
            return bool(getattr(row, "wrapped", False))
        if index < self.low:
            low = max(0, min(index, self.low - max(256, self.kept - self.low)))
            self.flags[:0] = self.screen.history.wrapped_flags(low, self.low)
            self.low = low
        return self.flags[index - self.low]

    def span(self, start: int, stop: int) -> list[bool]:
        """The flags of lines `start` to `stop`."""
        if start >= stop:
            return []
        first, last = start - self.dropped, stop - self.dropped  # as history indexes
        self(self.dropped + max(first, 0))  # read back to it
        out = self.flags[max(first, 0) - self.low : min(last, self.kept) - self.low]
        out[:0] = [False] * max(-first, 0)  # lines already dropped
        rows = self.screen.buffer
        out += [
            bool(getattr(rows.get(y), "wrapped", False))
            for y in range(max(first - self.kept, 0), max(last - self.kept, 0))
        ]
        return out


def _wrapped(screen: Screen, line: int) -> bool:
    """Whether absolute line `line` goes on in the next (only its flag is read)."""
    history = screen.history
    index = line - history.dropped
    if index < 0:
        return False
    if index < len(history):
        return history[index].wrapped
    return bool(getattr(screen.buffer.get(index - len(history)), "wrapped", False))


def read_output(screen: Screen, start: tuple[int, int], end: tuple[int, int]) -> tuple[str, bool]:
    """The text from `start` to `end` (absolute (line, cell)), trailing blank lines trimmed;
    the last MAX_OUTPUT characters when longer (then truncated is True), and truncated too
    when its first lines were already dropped from the history."""
    first, first_x = start
    last, last_x = end
    if last < first or (last == first and last_x <= first_x):
        return "", False
    pieces: list[str] = []
    size = 0
    truncated = first < screen.history.dropped
    line = last
    history = screen.history
    while line >= first:
        index = line - history.dropped
        if line != first and line != last and 0 <= index < len(history):
            hist = history[index]  # a whole line of the history: its text as stored
            text, wrapped = hist.text, hist.wrapped
        else:
            row = _row(screen, line)
            if row is None:
                truncated = truncated or line < screen.history.dropped
                break
            cells, wrapped = row
            text = _text(cells, first_x if line == first else 0, last_x if line == last else None)
        if line != last and not wrapped:
            text = text.rstrip(" ") + "\n"
        pieces.append(text)
        size += len(text)
        if size > MAX_OUTPUT:
            truncated = True
            break
        line -= 1
    out = "".join(reversed(pieces))
    if len(out) > MAX_OUTPUT:
        out = out[-MAX_OUTPUT:]
    lines = [ln.rstrip(" ") for ln in out.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines), truncated
