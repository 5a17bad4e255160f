"""Agent state per pane: working, waiting (and on what), idle, error, exited.

`AgentMonitor` (one per `SessionManager`: `manager.agents`) follows every session the manager
registers. It reads the state off the screen (engine/agentscreen.py) when output arrives (at
most every CHECK_INTERVAL per session, only the visible rows) and once more when the pane has
gone quiet, from the foreground process (which agent CLI runs: claude, codex, gemini, aider,
opencode), the shell's prompt marks (a shell at its prompt is idle), the exit, and explicit
reports (`report()`, `hook()`: the CLI's `ai-session state`, Claude Code's hooks). A report
wins over the screen until the screen clearly changes or another report comes. Each change is
an `"agent"` event on the manager's event log. For Claude Code the transcript reader
(engine/claude.py) fills in the tokens.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.agentscreen import AgentState, ScreenReading, agent_kind, classify_screen
from engine.events import Event, EventLog
from engine.session import CommandEvent, ExitEvent, Session, SessionEvent, exit_signal

if TYPE_CHECKING:
    from engine.claude import ProjectFolder, TranscriptReader

log = logging.getLogger(__name__)

__all__ = [
    "AgentMonitor",
    "AgentState",
    "AgentStatus",
    "TokenTotals",
    "agent_kind",
    "classify_screen",
]

CHECK_INTERVAL = 0.2  # seconds: a pane's screen is read at most this often while output flows
QUIET_CHECK = 1.05  # seconds after the last output: read once more (quiet turns work to idle)
TOKENS_INTERVAL = 2.0  # seconds between two looks at an agent CLI's transcript
TOKENS_SLICE = 1 << 20  # bytes of a transcript read at one look (~5 ms; the rest soon after)
READERS = 4  # transcripts a pane keeps a reader of (one it went back to is not read again)
STARTED_SLACK = 2_000_000_000  # ns: a claude is seen in the foreground this long after it began
COMMAND = "\0command"  # _Watch.held: until the shell runs the next command
MAX_TEXT = 500  # characters of a reported reason or question kept
REPORTABLE = (AgentState.WORKING, AgentState.WAITING, AgentState.IDLE, AgentState.ERROR)


@dataclass(frozen=True)
class TokenTotals:
    """What an agent CLI's transcript says it spent: tokens in and out (cache reads and
    writes apart), its model, the context the last turn used of its window, compactions."""

    input: int
    output: int
    cache_read: int
    cache_write: int
    model: str | None
    context_used: int | None
    context_window: int | None
    compactions: int

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "output": self.output,
            "cache_read": self.cache_read,
            "cache_write": self.cache_write,
            "model": self.model,
            "context_used": self.context_used,
            "context_window": self.context_window,
            "compactions": self.compactions,
        }


@dataclass(frozen=True)
class AgentStatus:
    """One pane's agent state, as the panels, the API and the CLI show it."""

    session: str  # session name (an agent is a pane's session)
    session_id: str
    state: AgentState
    since: datetime  # when it entered this state (UTC)
    reason: str | None  # "permission", "trust", "confirm", "input", "reported", "exit 1" ...
    question: str | None  # the question quoted as it appears on screen (waiting), else None
    kind: str | None  # "claude", "codex", "gemini", "aider", "opencode" or None
    command: str | None  # foreground command name
    source: str  # "screen" | "report" | "hook" | "process"
    tokens: TokenTotals | None  # from an agent CLI's transcript (Claude Code), else None

    def to_json(self) -> dict[str, Any]:
        """The status as the API answers it (times in ISO 8601, UTC, Z)."""
        return {
            "session": self.session,
            "session_id": self.session_id,
            "state": self.state.value,
            "since": self.since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "reason": self.reason,
            "question": self.question,
            "kind": self.kind,
            "command": self.command,
            "source": self.source,
            "tokens": self.tokens.to_json() if self.tokens is not None else None,
        }


def _fingerprint(lines: list[str]) -> str:
    """The screen's words without digits, spinners and box drawing: a clock ticking or a
    spinner turning is not a change; text typed, printed or a dialog closing is."""
    return "\n".join(_NOT_WORDS.sub("", line) for line in lines)


_NOT_WORDS = re.compile(r"[\W\d_]+")


def _text(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    value = " ".join(value.split())
    return value[:MAX_TEXT] or None


class _Watch:
    """What the monitor keeps for one session."""

    def __init__(self, monitor: AgentMonitor, session: Session) -> None:
        self.monitor = monitor
        self.session = session
        self.status: AgentStatus | None = None
        # A report, a hook or an agent's failed exit outranks the screen: until the screen
        # differs from `held` (its fingerprint), or with held == COMMAND until the shell runs
        # another command.
        self.held: str | None = None
        self.held_commands = 0  # commands the shell had run when held became COMMAND
        self.last_output = 0.0  # loop time
        self.last_check = -CHECK_INTERVAL
        self.timer: asyncio.TimerHandle | None = None
        self.kind: str | None = None  # the agent CLI in the foreground at the last look
        self.transcript: Path | None = None  # given by a hook
        self.claimed: Path | None = None  # found in the project's folder, this pane's alone
        self.folder: Path | None = None  # the project folder looked in
        self.claude_pid: int | None = None  # the claude process the transcript is of
        self.claude_started = 0  # ns (wall clock, as file times): about when it began
        self.readers: dict[Path, TranscriptReader] = {}  # by path, the last used last
        self.refused: str | None = None  # why the last hook's transcript was ignored
        self.refusal_logged: str | None = None  # the last such reason logged
        self.tokens: TokenTotals | None = None
        self.tokens_read = -TOKENS_INTERVAL
        self.unsubscribe = session.subscribe(self.on_event)

    # -- session events ------------------------------------------------------------------------

    def on_event(self, event: SessionEvent) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(event, ExitEvent):
            self.exited(event.exit_code)
            return
        if isinstance(event, CommandEvent):
            record = event.record
            kind = agent_kind(record.command)
            if kind is not None and record.exit_code not in (None, 0):
                self.set(AgentState.ERROR, f"exit {record.exit_code}", None, kind, "process")
                self.held, self.held_commands = COMMAND, self.session.history.count
            return
        self.last_output = loop.time()
        self.schedule(max(self.last_output, self.last_check + CHECK_INTERVAL))

    def schedule(self, when: float) -> None:
        """Read the screen at loop time `when` (or earlier, if a read is due before)."""
        if self.timer is not None:
            if self.timer.when() <= when:
                return
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_at(when, self.check)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.unsubscribe()

    def exited(self, code: int) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.held = None
        kind = self.kind
        if code < 0:  # stopped by a signal (a person, `kill`, the session removed): no error
            reason = f"killed by {exit_signal(code)}"
            self.set(AgentState.EXITED, reason, None, kind, "process")
        elif kind is not None and code != 0:
            self.set(AgentState.ERROR, f"exit {code}", None, kind, "process")
        else:
            self.set(AgentState.EXITED, f"exit {code}", None, kind, "process")

    # -- reading the screen --------------------------------------------------------------------

    def check(self) -> None:
        """Read the state off the screen now (the timer calls this)."""
        self.timer = None
        session = self.session
        if not session.status.is_running:
            return
        loop = asyncio.get_running_loop()
        now = self.last_check = loop.time()
        quiet = now - self.last_output
        reading, lines = self.read(quiet)
        self.kind = reading.kind  # None once the agent CLI has left the foreground
        self.refresh_tokens(now)
        if self.held is not None and not self.released(lines):
            return
        self.held = None
        self.set(reading.state, reading.reason, reading.question, reading.kind, "screen")
        if quiet < QUIET_CHECK:
            self.schedule(self.last_output + QUIET_CHECK)

    def read(self, quiet: float) -> tuple[ScreenReading, list[str]]:
        session = self.session
        line = session.foreground_command_line
        terminal = session.terminal
        terminal.settle()
        lines = terminal.display
        mark = terminal.prompt_mark
        if line is None:  # the shell holds the terminal: at its prompt, unless it runs a line
            at_prompt = mark != "C" if mark is not None else quiet >= QUIET_CHECK
        else:
            at_prompt = False
        cursor = terminal.cursor.y
        return classify_screen(lines, line, quiet, at_prompt=at_prompt, cursor_row=cursor), lines

    def released(self, lines: list[str]) -> bool:
        """Whether what holds the status has let go: the screen changed, or (after an agent's
        failed exit) the shell runs the next command."""
        if self.held == COMMAND:
            session = self.session
            return (
                session.history.count > self.held_commands
                or session.terminal.prompt_mark == "C"
                or session.foreground_command_line is not None
            )
        return _fingerprint(lines) != self.held

    def hold(self) -> None:
        """Keep the status set now until the screen clearly changes."""
        self.session.terminal.settle()
        self.held = _fingerprint(self.session.terminal.display)

    # -- tokens -------------------------------------------------------------------------------

    def noticed_claude(self) -> None:
        """Claude in the foreground: a new process is a new conversation, so what the last
        one's hooks named or its transcript no longer count."""
        pid = self.session.foreground_pid
        if pid is None or pid == self.claude_pid:
            return
        self.claude_pid = pid
        self.claude_started = time.time_ns() - STARTED_SLACK
        self.transcript = self.claimed = None

    def refresh_tokens(self, now: float) -> None:
        """Claude Code's totals from its transcript (the one its hooks named, else the one the
        monitor finds this pane's), read incrementally, at most every TOKENS_INTERVAL."""
        if self.kind != "claude":
            return
        if now - self.tokens_read < TOKENS_INTERVAL:  # look again then, output or not
            self.schedule(self.tokens_read + TOKENS_INTERVAL)
            return
        self.tokens_read = now
        self.noticed_claude()
        path = self.transcript or self.monitor.transcript_of(self)
        if path is None:
            self.show_tokens(None)
            return
        reader = self.reader(path)
        try:
            reader.update(TOKENS_SLICE)
        except OSError:  # not there yet (a hook names it first), or no regular file
            return
        if reader.behind:  # a long transcript: the rest in slices, the loop stays free
            self.tokens_read = now - TOKENS_INTERVAL
            self.schedule(now + CHECK_INTERVAL)
        self.show_tokens(reader.totals())

    def reader(self, path: Path) -> TranscriptReader:
        """The reader of `path`: one per path, so going back to a transcript reads only what
        was added since (the least recently used one is let go beyond READERS)."""
        from engine.claude import TranscriptReader

        reader = self.readers.pop(path, None) or TranscriptReader(path)
        self.readers[path] = reader
        while len(self.readers) > READERS:
            del self.readers[next(iter(self.readers))]
        return reader

    def show_tokens(self, totals: TokenTotals | None) -> None:
        """Put these totals (None: no transcript known to be this pane's) in the status."""
        if totals != self.tokens:
            self.tokens = totals
            if self.status is not None:
                self.status = replace(self.status, tokens=totals)

    # -- changing the status ------------------------------------------------------------------

    def set(
        self,
        state: AgentState,
        reason: str | None,
        question: str | None,
        kind: str | None,
        source: str,
        *,
        quietly: bool = False,
    ) -> AgentStatus:
        """Make this the status; tell the event log if it changed (not when `quietly`)."""
        session = self.session
        command = session.current_command if session.status.is_running else None
        old = self.status
        now = datetime.now(UTC)
        since = old.since if old is not None and old.state == state else now
        status = AgentStatus(
            session=session.name,
            session_id=session.id,
            state=state,
            since=since,
            reason=reason,
            question=question,
            kind=kind,
            command=command,
            source=source,
            tokens=self.tokens,
        )
        changed = old is None or (
            (old.state, old.reason, old.question, old.kind, old.source)
            != (state, reason, question, kind, source)
        )
        self.status = status
        if changed and not quietly:
            self.monitor.changed(session, status)
        return status


class AgentMonitor:
    """Every session's agent state; one per `SessionManager` (`manager.agents`).

    `watch()` is called for each session the manager registers; the monitor forgets a session
    when the manager reports it `closed`.
    """

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self._watches: dict[str, _Watch] = {}  # by session id, in creation order
        self._folders: dict[Path, ProjectFolder] = {}  # Claude project folders looked in
        events.subscribe(self._on_event)

    def watch(self, session: Session) -> None:
        """Follow `session` from now on (the manager calls this as it registers one)."""
        if session.id not in self._watches:
            self._watches[session.id] = _Watch(self, session)

    def forget(self, session: Session) -> None:
        """Stop following `session` (its start failed: it never ran)."""
        watch = self._watches.pop(session.id, None)
        if watch is not None:
            watch.cancel()

    def _on_event(self, event: Event) -> None:
        if event.session_id is None:
            return
        watch = self._watches.get(event.session_id)
        if watch is None:
            return
        if event.type == "closed":
            watch.cancel()
            del self._watches[event.session_id]
            self._forget_folders()
        elif event.type == "renamed" and watch.status is not None:
            watch.status = replace(watch.status, session=watch.session.name)
        elif event.type in ("created", "respawned"):
            watch.held = None
            watch.kind = None
            # Working from the start; the created/respawned event itself says so (an event
            # sent from inside another's delivery would reach later readers before it).
            watch.set(AgentState.WORKING, None, None, None, "process", quietly=True)
            watch.last_output = asyncio.get_running_loop().time()
            watch.schedule(watch.last_output + QUIET_CHECK)

    def transcript_of(self, watch: _Watch) -> Path | None:
        """The transcript in the pane's project folder that is the pane's claude's: the newest
        first seen written since it started that no other pane has (named by its hooks or
        found before). With another claude pane of that folder still without one that could
        have written it, it is nobody's yet: None (no tokens rather than another's)."""
        from engine.claude import ProjectFolder, project_folder

        cwd = watch.session.current_path
        if cwd is None:
            return watch.claimed
        named = project_folder(cwd, watch.session.started_environment)
        folder = self._folders.get(named)
        if folder is None:
            folder = self._folders[named] = ProjectFolder(named)
        folder.refresh()
        where = watch.folder = folder.path
        others = [w for w in self._watches.values() if w is not watch]
        taken = {w.transcript for w in others} | {w.claimed for w in others}
        mine = [
            (first, name)
            for name, first in folder.files.items()
            if first >= watch.claude_started and where / name not in taken
        ]
        claimed = watch.claimed
        if claimed is not None and (claimed.parent != where or claimed.name not in folder.files):
            watch.claimed = None  # removed, or of another project
        if not mine:
            return watch.claimed
        first, name = max(mine)
        newest = where / name
        if newest == watch.claimed:
            return newest
        rivals = [
            w
            for w in others
            if w.kind == "claude"
            and w.folder == where
            and w.transcript is None
            and w.claimed is None
            and w.claude_started <= first
        ]
        if not rivals:
            watch.claimed = newest
        return watch.claimed

    def _forget_folders(self) -> None:
        """Let go of the folders no pane looks in any more."""
        used = {w.folder for w in self._watches.values()}
        for named in [n for n, f in self._folders.items() if f.path not in used]:
            del self._folders[named]

    def changed(self, session: Session, status: AgentStatus) -> None:
        """Tell the event log (a watch calls this on every change of state)."""
        self.events.emit(
            "agent",
            session,
            state=status.state.value,
            reason=status.reason,
            question=status.question,
            kind=status.kind,
            command=status.command,
            source=status.source,
        )

    def _find(self, session: str) -> _Watch | None:
        by_id = self._watches.get(session)
        if by_id is not None:
            return by_id
        return next((w for w in self._watches.values() if w.session.name == session), None)

    def _require(self, session: str) -> _Watch:
        watch = self._find(session)
        if watch is None:
            raise KeyError(f"no session named or with id {session!r}")
        return watch

    def status(self, session: str) -> AgentStatus | None:
        """The agent state of one session (by name or id); None if there is no such session
        or nothing is known of it yet."""
        watch = self._find(session)
        return watch.status if watch is not None else None

    def statuses(self) -> list[AgentStatus]:
        """Every live (or just exited) session's state, in creation order."""
        return [w.status for w in self._watches.values() if w.status is not None]

    def report(
        self,
        session: str,
        state: AgentState | str,
        reason: str | None = None,
        question: str | None = None,
    ) -> AgentStatus:
        """An explicit report (`ai-session state waiting --question ...`): it wins over what
        the screen says until the screen clearly changes or another report comes. KeyError
        for an unknown session, ValueError for a state one cannot report."""
        watch = self._require(session)
        try:
            state = AgentState(state)
        except ValueError:
            raise ValueError(
                f"unknown state {str(state)[:40]!r}: one of working, waiting, idle, error"
            ) from None
        if state not in REPORTABLE:
            raise ValueError("a live session cannot report itself exited")
        reason = _text(reason, "reason") or ("reported" if state != AgentState.WORKING else None)
        question = _text(question, "question") if state == AgentState.WAITING else None
        status = watch.set(state, reason, question, watch.kind, "report")
        watch.hold()
        return status

    def hook(self, session: str, payload: dict[str, Any], kind: str = "claude") -> AgentStatus:
        """A Claude Code hook's JSON (what `ai-session hook claude` reads on stdin): waiting on
        a permission or idle notification, working on a prompt or tool use, idle on Stop.
        KeyError for an unknown session, ValueError for a payload that is no hook's."""
        watch = self._require(session)
        if kind != "claude":
            raise ValueError(f"unknown hook kind {kind[:40]!r}: only 'claude' is understood")
        if not isinstance(payload, dict):
            raise ValueError("a hook payload is a JSON object")
        name = payload.get("hook_event_name")
        if not isinstance(name, str) or not name:
            raise ValueError("a Claude Code hook payload names its hook_event_name")
        watch.kind = "claude"
        if agent_kind(watch.session.foreground_command_line) == "claude":
            watch.noticed_claude()  # before what it names: a new claude's hook is its own
        self._hooked_transcript(watch, payload)
        reading = hook_state(name, payload, agent_kind(watch.session.command) == "claude")
        if reading is None:  # a hook that says nothing about the state (SubagentStop, ...)
            return watch.status or watch.set(AgentState.WORKING, None, None, "claude", "hook")
        state, reason, question = reading
        now = watch.status
        same = now is not None and (now.state, now.reason) == (state, reason)
        if name == "Notification" and same and now is not None:
            return now  # "Claude needs your permission" after the dialog said for what
        status = watch.set(state, reason, question, "claude", "hook")
        watch.hold()
        return status

    def _hooked_transcript(self, watch: _Watch, payload: dict[str, Any]) -> None:
        """The transcript the hook names becomes the pane's (and no other's it was found as),
        if it is one of the session's Claude config's; else it is ignored, and logged."""
        from engine.claude import hook_transcript

        path, session_id = payload.get("transcript_path"), payload.get("session_id")
        watch.refused = None
        if path is None and session_id is None:
            return
        cwd = payload.get("cwd")
        cwd = cwd if isinstance(cwd, str) and cwd.startswith("/") else watch.session.current_path
        try:
            named = hook_transcript(path, session_id, cwd, watch.session.started_environment)
        except ValueError as exc:
            watch.refused = str(exc)
            if watch.refused != watch.refusal_logged:  # said once, not on every hook
                watch.refusal_logged = watch.refused
                log.warning("%s: a hook's transcript is ignored: %s", watch.session.name, exc)
            return
        if named == watch.transcript:
            return
        watch.transcript = named
        for other in self._watches.values():
            if other is not watch and other.claimed == named:
                other.claimed = None  # it was this pane's all along
                other.show_tokens(None)

    def refused_transcript(self, session: str) -> str | None:
        """Why the last hook's transcript of `session` was ignored (None: it was not)."""
        watch = self._find(session)
        return watch.refused if watch is not None else None

    def next_waiting(self, after: str | None = None) -> AgentStatus | None:
        """The next session waiting for a person after `after` (name or id), in creation order
        and wrapping around; from the first when `after` is None or unknown (for "jump to the
        next agent waiting")."""
        statuses = self.statuses()
        start = 0
        if after is not None:
            at = next(
                (i for i, s in enumerate(statuses) if after in (s.session, s.session_id)), None
            )
            start = at + 1 if at is not None else 0
        ordered = statuses[start:] + statuses[:start]
        return next((s for s in ordered if s.state == AgentState.WAITING), None)


def _tool_question(payload: dict[str, Any]) -> str | None:
    """What a permission request asks, as Claude's dialog names the call: `Allow
    Bash(rm -rf build)?`, `Allow Write(notes.txt)?`."""
    tool = payload.get("tool_name")
    if not isinstance(tool, str) or not tool:
        return None
    given = payload.get("tool_input")
    given = given if isinstance(given, dict) else {}
    what = next(
        (
            given[k]
            for k in ("command", "file_path", "url", "pattern")
            if isinstance(given.get(k), str)
        ),
        None,
    )
    return f"Allow {tool}({what})?" if what else f"Allow {tool}?"


def hook_state(
    name: str, payload: dict[str, Any], own_program: bool = False
) -> tuple[AgentState, str | None, str | None] | None:
    """The state a Claude Code hook event means: (state, reason, question), or None for one
    that says nothing about it. `own_program`: the pane runs the agent itself (no shell
    behind it), so its session's end is the pane's exit."""
    message = payload.get("message")
    message = _text(message, "message") if isinstance(message, str) else None
    if name == "Notification":
        kind = payload.get("notification_type")
        text = (message or "").lower()
        if kind == "permission_prompt" or "permission" in text:
            return AgentState.WAITING, "permission", message
        if kind == "idle_prompt" or "waiting for your input" in text:
            return AgentState.WAITING, "input", message
        if kind == "elicitation_dialog":
            return AgentState.WAITING, "input", message
        return None
    if name == "PermissionRequest":
        return AgentState.WAITING, "permission", _text(_tool_question(payload), "question")
    if name in ("PreToolUse", "PostToolUse"):
        tool = payload.get("tool_name")
        return AgentState.WORKING, _text(tool, "tool") if isinstance(tool, str) else None, None
    if name == "UserPromptSubmit":
        return AgentState.WORKING, "prompt", None
    if name == "Stop":
        return AgentState.IDLE, None, None
    if name == "SessionStart":
        return AgentState.IDLE, None, None
    if name == "SessionEnd":
        why = payload.get("reason")
        reason = f"session end: {why}" if isinstance(why, str) and why else "session end"
        return (AgentState.EXITED if own_program else AgentState.IDLE), reason[:MAX_TEXT], None
    return None
