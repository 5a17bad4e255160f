"""Reading an agent's state off its screen: a pure function of the visible rows, the command in
the foreground and how long the pane has been quiet (engine/agents.py calls it; tests feed it
screens recorded from the real agent CLIs, tests/fixtures/agents/).

What it looks for, most telling first:
- a dialog of a program (not the shell): numbered choices with a selector (`> 1. Sign in`,
  Claude's heavy angle, Gemini's dot), or a selector above a dialog's footer (`Enter to confirm
  · Esc to cancel`, `Press enter to save`); the question is the nearest sentence above that
  ends in `?`, else the one asking for a key, else the dialog's heading;
- a prompt on the cursor's row: `(y/n)`, `[Y/n]`, `(Y)es/(N)o`, `Press Enter`, `Allow ...?`,
  `Do you want to ...?`, `Password:`;
- a shell at its prompt: idle;
- an agent CLI at work: its spinner line (`esc to interrupt`, `esc to cancel, 12s`,
  `Waiting for gpt-4o`), a retry (`Retrying in 4s`), or an error in its last turn
  (`API Error: ...`, `Invalid API key`), else idle at its own prompt;
- output still flowing: working; a quiet program whose cursor sits after `?` or `:`: waiting
  for input; else a program runs (working) or the shell is idle.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class AgentState(StrEnum):
    """What the program in a pane is doing, as someone watching it would say."""

    WORKING = "working"
    WAITING = "waiting"  # for the person: a question, a dialog, a confirmation
    IDLE = "idle"  # done; at its prompt
    ERROR = "error"  # an agent CLI shows an error, or exited non-zero
    EXITED = "exited"


@dataclass(frozen=True)
class ScreenReading:
    """What a screen says: the state, why (`permission`, `trust`, `login`, `confirm`, `input`,
    `continue`, `password`, `retrying`, an error line), the question as shown, the agent CLI."""

    state: AgentState
    reason: str | None = None
    question: str | None = None
    kind: str | None = None


AGENT_KINDS = ("claude", "codex", "gemini", "aider", "opencode")
QUIET = 1.0  # seconds without output after which a program is taken to wait, not work
DIALOG_ROWS = 30  # rows above the last written one searched for a dialog
QUESTION_ROWS = 14  # rows above a dialog's choices searched for its question
SPINNER_ROWS = 8  # written rows at the bottom where an agent CLI shows that it works
TURN_ROWS = 12  # rows of an agent's last turn searched for an error
FOOTER_GAP = 6  # rows from a dialog's last choice down to its footer (`Enter to confirm`)
MAX_QUESTION = 300  # characters of a question kept

_RUNNERS = {"node", "nodejs", "bun", "deno", "python", "python3", "npx", "bunx", "uv", "uvx"}
_SELECTORS = "❯›>●◉➤→▸▶»"
_BOX = "│┃║|"
_CHOICE = re.compile(rf"^\s*(?:([{_SELECTORS}])\s*)?(\d{{1,2}})[.)]\s+(\S.*)$")
_SELECTED = re.compile(rf"^\s*([{_SELECTORS}])\s+(\S.*)$")
_FOOTER = re.compile(
    r"Enter to confirm|Esc to cancel|Enter to select|Use Enter to select|Press [Ee]nter to "
    r"(?:continue|save|submit|select|confirm)|to navigate|Use arrow keys|Tab to amend"
)
_RULE = re.compile(r"^[\s─━═╌╍┄┈\-_╭╮╰╯┌┐└┘]+$")
_SENTENCE_END = re.compile(r"(?<=[.?!:·])\s+")
_ASK = re.compile(
    r"\b(?:enter|paste|type|provide)\b.*\b(?:key|token|password|passphrase|code)\b", re.IGNORECASE
)
_WORKING = re.compile(
    r"esc to interrupt|esc interrupt|\(esc to cancel|esc to cancel, \d|Waiting for [\w.-]+|"
    r"Reconnecting\.\.\.",
    re.IGNORECASE,
)
_RETRY = re.compile(r"Retrying in|Reconnecting", re.IGNORECASE)
_YES_NO = re.compile(
    r"[(\[]\s*(?:y|yes)\s*/\s*(?:n|no)\s*[)\]]|\(Y\)es/\(N\)o|\[y/N\]|\[Y/n\]", re.IGNORECASE
)
_PRESS = re.compile(r"\bpress (?:enter|return|any key)\b|\bhit enter\b", re.IGNORECASE)
_PASSWORD = re.compile(r"(?:password|passphrase|\bPIN\b)[^:]{0,40}:\s*$", re.IGNORECASE)
_ALLOW = re.compile(r"^\s*(?:Allow|Approve|Permit)\b.*\?", re.IGNORECASE)
_DO_YOU = re.compile(r"\b(?:Do you want to|Would you like to|Are you sure)\b[^?]*\?", re.IGNORECASE)
_PERMISSION = re.compile(
    r"\bpermission\b|Do you want to (?:proceed|make this edit|create|run|allow|overwrite|delete)"
    r"|^\s*Allow\b|Bash command|Run this command|Approve",
    re.IGNORECASE,
)
_TRUST = re.compile(r"\btrust", re.IGNORECASE)
_LOGIN = re.compile(r"sign in|log ?in\b|authenticat|API key|\bOAuth\b", re.IGNORECASE)
# An agent CLI's own error lines (not an error its answer talks about, nor a tool's output):
# Claude and Gemini "API Error: ...", Claude "Invalid API key", Codex's "■ stream error",
# aider's litellm exceptions, opencode's "Cannot connect to API".
_ERROR = re.compile(
    r"API Error|Invalid API key|authentication_error|\b401 Unauthorized\b|^\s*■|"
    r"\blitellm\.\w+Error\b|exceeded retry limit|(?:Cannot|Unable to|Failed to) connect to"
)
_LEAD = re.compile(r"^[^\w\[(]+")  # a spinner's or a bullet's residue before an error
_INPUT_END = re.compile(r"[?:]\s*$")
_PROMPT_MARKS = ("❯", "›", ">")


def agent_kind(command_line: str | None) -> str | None:
    """Which agent CLI a command line runs (`claude`, `node /usr/lib/.../gemini.js`,
    `python3 .../bin/aider`), None for anything else. Looks at the program and, for an
    interpreter (node, python, npx ...), at the script it runs."""
    if not command_line:
        return None
    try:
        words = shlex.split(command_line)
    except ValueError:
        words = command_line.split()
    for word in words[:4]:
        if word.startswith("-"):
            continue
        name = word.rstrip("/").rsplit("/", 1)[-1].lower()
        for ext in (".js", ".mjs", ".cjs", ".exe", ".py"):
            name = name.removesuffix(ext)
        name = name.removeprefix("@anthropic-ai/").removeprefix("@google/")
        if name in AGENT_KINDS or name == "claude-code":
            return "claude" if name == "claude-code" else name
        if name == "gemini-cli" or "/gemini-cli/" in word:
            return "gemini"
        if "/claude-code/" in word:  # node .../@anthropic-ai/claude-code/cli.js
            return "claude"
        if name not in _RUNNERS and not name.startswith(("python", "node")):
            return None
    return None


def _clean(line: str) -> str:
    """A row without the box drawing around a dialog (`│ text │`) and trailing blanks."""
    text = line.rstrip()
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] in _BOX and stripped[-1] in _BOX:
        text = stripped[1:-1]
        inner = text.strip()
        if len(inner) >= 2 and inner[0] in _BOX and inner[-1] in _BOX:  # a box in a box
            text = inner[1:-1]
        text = text.rstrip()
    elif stripped[:1] in _BOX:
        text = text.strip()[1:].rstrip()
    return text


def _question_in(line: str) -> str | None:
    """The last sentence of a row that ends in `?` (`Is this a project ... you trust?`)."""
    found = [s.strip() for s in _SENTENCE_END.split(line) if s.strip().endswith("?")]
    found = [q for q in found if len(q) > 2 and any(c.isalpha() for c in q)]
    return found[-1][:MAX_QUESTION] if found else None


def _asked(line: str) -> str | None:
    """The sentence of a row that asks for a key, token or password (`Paste or type your API
    key below.`)."""
    for sentence in _SENTENCE_END.split(line.strip()):
        if _ASK.search(sentence):
            return sentence.strip()[:MAX_QUESTION]
    return None


def _heading(rows: list[str], below: int) -> str | None:
    """The question of a dialog whose first choice (or footer) is row `below`: the nearest
    sentence ending in `?` above it, else the nearest prose row (its heading)."""
    top = max(0, below - QUESTION_ROWS)
    for y in range(below - 1, top - 1, -1):
        if _CHOICE.match(rows[y]) or _RULE.match(rows[y]):
            continue
        question = _question_in(rows[y])
        if question is not None:
            return question
    for y in range(top, below):
        question = _asked(rows[y])
        if question is not None:
            return question
    for y in range(below - 1, top - 1, -1):
        text = rows[y].strip()
        if not text or _RULE.match(text) or _CHOICE.match(rows[y]) or _SELECTED.match(rows[y]):
            continue
        if _FOOTER.search(text):
            continue
        return text[:MAX_QUESTION]
    return None


def _dialog_reason(text: str, question: str | None) -> str:
    """Why a dialog waits: its question says it best; else the words around it."""
    for where in (question or "", text):
        if _TRUST.search(where) and (where is question or "folder" in where.lower()):
            return "trust"
        if _LOGIN.search(where):
            return "login"
        if _PERMISSION.search(where):
            return "permission"
    return "confirm" if _YES_NO.search(text) or re.search(r"\bYes\b", text) else "choice"


def _dialog(rows: list[str], last: int, kind: str | None) -> ScreenReading | None:
    """A dialog near the bottom: choices with a selector, or a footer such as `Enter to
    confirm`; None when there is none."""
    top = max(0, last - DIALOG_ROWS)
    choices: list[int] = []
    selected = False
    first: int | None = None
    for y in range(top, last + 1):
        m = _CHOICE.match(rows[y])
        if m is None:
            continue
        number = int(m.group(2))
        if number == 1:
            choices, selected, first = [y], bool(m.group(1)), y
        elif choices and number == len(choices) + 1:
            choices.append(y)
            selected = selected or bool(m.group(1))
    footer = next((y for y in range(last, top - 1, -1) if _FOOTER.search(rows[y])), None)
    footed = footer is not None and bool(choices) and 0 < footer - choices[-1] <= FOOTER_GAP
    if len(choices) >= 2 and (selected or footed) and first is not None:
        region = "\n".join(rows[max(0, first - QUESTION_ROWS) : last + 1])
        question = _heading(rows, first)
        return ScreenReading(AgentState.WAITING, _dialog_reason(region, question), question, kind)
    if footer is None:
        return None
    # A selector without numbers (`❯ No, exit`), or a form (`Press enter to save`).
    start = max(0, footer - QUESTION_ROWS)
    marked = next((y for y in range(start, footer) if _SELECTED.match(rows[y])), None)
    if marked is None and kind is None:  # a script's "Press Enter to continue": its own line
        return None
    question = _heading(rows, footer)
    region = "\n".join(rows[start : footer + 1])
    return ScreenReading(AgentState.WAITING, _dialog_reason(region, question), question, kind)


def _inline(
    rows: list[str], cursor_row: int | None, last: int, quiet: float, agent: bool
) -> ScreenReading | None:
    """A program's own prompt on the cursor's row, or on the row just above a blank cursor
    row once the pane is quiet (right after Enter that row is the command line typed). An
    agent CLI's input line (`> text`) is what the person types, not a question."""
    candidates = []
    if cursor_row is not None and 0 <= cursor_row < len(rows):
        candidates.append(cursor_row)
        if not rows[cursor_row].strip() and cursor_row > 0 and quiet >= QUIET:
            candidates.append(cursor_row - 1)
    else:
        candidates.append(last)
    for y in candidates:
        text = rows[y].strip()
        if not text or (agent and text.startswith(_PROMPT_MARKS)):
            continue
        question = text[:MAX_QUESTION]
        if _PASSWORD.search(text):
            return ScreenReading(AgentState.WAITING, "password", question)
        if _YES_NO.search(text):
            return ScreenReading(AgentState.WAITING, "confirm", question)
        if _ALLOW.search(text):
            return ScreenReading(AgentState.WAITING, "permission", question)
        if _PRESS.search(text):
            return ScreenReading(AgentState.WAITING, "continue", question)
        if _DO_YOU.search(text):
            return ScreenReading(AgentState.WAITING, "confirm", question)
    return None


def _last_turn(rows: list[str], last: int) -> list[str]:
    """An agent CLI's written rows since the person's last prompt (`> text`, as each CLI marks
    it): between that echo and the input line at the bottom, the last TURN_ROWS of them."""
    marks = [y for y in range(last + 1) if rows[y].lstrip().startswith(_PROMPT_MARKS)]
    if len(marks) >= 2:
        start, end = marks[-2] + 1, marks[-1]
    elif marks:
        start, end = 0, marks[-1]
    else:
        start, end = 0, last + 1
    return [row for row in rows[start:end] if row.strip()][-TURN_ROWS:]


def classify_screen(
    lines: Sequence[str],
    command_line: str | None = None,
    quiet: float = 0.0,
    *,
    at_prompt: bool = False,
    cursor_row: int | None = None,
) -> ScreenReading:
    """What the visible `lines` say the pane is doing.

    `command_line`: the foreground program's (None: the shell's own); `quiet`: seconds since
    the last output; `at_prompt`: a shell waits at its prompt (its prompt marks say so);
    `cursor_row`: where the cursor is (prompts are read on its row)."""
    kind = agent_kind(command_line)
    rows = [_clean(line) for line in lines]
    last = next((y for y in range(len(rows) - 1, -1, -1) if rows[y].strip()), None)
    if last is None:
        idle = at_prompt or (kind is not None and quiet >= QUIET)
        return ScreenReading(AgentState.IDLE if idle else AgentState.WORKING, kind=kind)
    if not at_prompt and command_line is not None:
        dialog = _dialog(rows, last, kind)
        if dialog is not None:
            return dialog
    inline = _inline(rows, cursor_row, last, quiet, kind is not None)
    if inline is not None:
        return ScreenReading(inline.state, inline.reason, inline.question, kind)
    if at_prompt:
        return ScreenReading(AgentState.IDLE, kind=kind)
    bottom = [row for row in rows[max(0, last - DIALOG_ROWS) : last + 1] if row.strip()]
    bottom = bottom[-SPINNER_ROWS:]
    spinner = any(_WORKING.search(row) for row in bottom) or bool(_RETRY.search(bottom[-1]))
    if spinner and (kind is not None or quiet < QUIET):
        reason = "retrying" if any(_RETRY.search(row) for row in bottom) else None
        return ScreenReading(AgentState.WORKING, reason, kind=kind)
    if kind is not None:
        error = next((row.strip() for row in _last_turn(rows, last) if _ERROR.search(row)), None)
        if error is not None:
            return ScreenReading(AgentState.ERROR, _LEAD.sub("", error)[:200], kind=kind)
        if kind in ("claude", "codex", "gemini") or quiet >= QUIET:
            return ScreenReading(AgentState.IDLE, kind=kind)
        return ScreenReading(AgentState.WORKING, kind=kind)
    if quiet < QUIET:
        return ScreenReading(AgentState.WORKING)
    row = rows[cursor_row] if cursor_row is not None and 0 <= cursor_row < len(rows) else ""
    if _INPUT_END.search(row):
        return ScreenReading(AgentState.WAITING, "input", row.strip()[:MAX_QUESTION])
    if command_line is None:
        return ScreenReading(AgentState.IDLE)
    return ScreenReading(AgentState.WORKING)
