"""The screen classifier on what the real agent CLIs showed (tests/fixtures/agents, see its
README) and on the prompts scripts print: each screen reads as the state a person watching it
would name, with the reason, and the question quoted as on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.agentscreen import QUIET, AgentState, agent_kind, classify_screen

FIXTURES = Path(__file__).parent / "fixtures" / "agents"

# How each CLI shows up as the foreground command line.
COMMANDS = {
    "claude": "claude",
    "codex": "node /usr/lib/node_modules/@openai/codex/bin/codex.js",
    "gemini": "node /usr/bin/gemini",
    "aider": "/tmp/aider-venv/bin/python3 /tmp/aider-venv/bin/aider --no-check-update",
    "opencode": "opencode",
}

WAIT, WORK, IDLE, ERR = AgentState.WAITING, AgentState.WORKING, AgentState.IDLE, AgentState.ERROR

SCREENS = [
    # Claude Code
    ("claude_trust", WAIT, "trust", "Is this a project you created or one you trust?"),
    ("claude_trust_unnumbered", WAIT, "trust", "Is this a project you created or one you trust?"),
    ("claude_api_key", WAIT, "login", "Do you want to use this API key?"),
    ("claude_api_key_unnumbered", WAIT, "login", "Do you want to use this API key?"),
    ("claude_permission_bash", WAIT, "permission", "Do you want to proceed?"),
    ("claude_permission_write", WAIT, "permission", "Do you want to create notes.txt?"),
    ("claude_idle", IDLE, None, None),
    ("claude_idle_auto", IDLE, None, None),
    ("claude_idle_after_turn", IDLE, None, None),
    ("claude_after_compact", IDLE, None, None),
    ("claude_interrupted", IDLE, None, None),
    ("claude_working", WORK, None, None),
    ("claude_working_long", WORK, None, None),
    ("claude_retrying", WORK, "retrying", None),
    ("claude_error_offline", ERR, "API Error: Unable to connect to API (FailedToOpenSocket)", None),
    ("claude_auth_error", ERR, "Invalid API key · Fix external API key", None),
    # Codex CLI
    ("codex_login", WAIT, "login", "Choose how you want to use Codex."),
    ("codex_api_key", WAIT, "login", "Paste or type your API key below."),
    ("codex_idle", IDLE, None, None),
    ("codex_working", WORK, None, None),
    ("codex_reconnecting", WORK, "retrying", None),
    # Gemini CLI
    ("gemini_trust", WAIT, "trust", "Do you trust the files in this folder?"),
    ("gemini_auth", WAIT, "login", "How would you like to authenticate for this project?"),
    ("gemini_auth_key", WAIT, "login", "How would you like to authenticate for this project?"),
    # the note about the untrusted folder above the dialog is not what it asks
    (
        "gemini_auth_untrusted_note",
        WAIT,
        "login",
        "How would you like to authenticate for this project?",
    ),
    ("gemini_api_key_entry", WAIT, "login", "Enter Gemini API Key"),
    ("gemini_idle", IDLE, None, None),
    ("gemini_working", WORK, None, None),
    ("gemini_error", ERR, "[API Error: exception TypeError: fetch failed sending request]", None),
    # aider
    (
        "aider_gitignore",
        WAIT,
        "confirm",
        "Add .aider* to .gitignore (recommended)? (Y)es/(N)o [Yes]:",
    ),
    ("aider_idle", IDLE, None, None),
    ("aider_retrying", WORK, "retrying", None),
    (
        "aider_error",
        ERR,
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.",
        None,
    ),
    # opencode
    ("opencode_idle", IDLE, None, None),
    ("opencode_working", WORK, None, None),
    (
        "opencode_error",
        ERR,
        "Cannot connect to API: Unable to connect. Is the computer able to access the url?",
        None,
    ),
]


def _screen(name: str) -> list[str]:
    return (FIXTURES / f"{name}.txt").read_text().split("\n")


def test_every_fixture_is_classified() -> None:
    recorded = {p.stem for p in FIXTURES.glob("*.txt")}
    assert recorded == {name for name, *_ in SCREENS}


@pytest.mark.parametrize(("name", "state", "reason", "question"), SCREENS, ids=lambda v: str(v))
def test_recorded_screen(
    name: str, state: AgentState, reason: str | None, question: str | None
) -> None:
    kind = name.split("_")[0]
    reading = classify_screen(_screen(name), COMMANDS[kind], quiet=5.0)
    assert (reading.state, reading.reason, reading.question) == (state, reason, question)
    assert reading.kind == kind


@pytest.mark.parametrize("name", ["claude_working", "codex_working", "gemini_working"])
def test_a_spinner_is_work_even_right_after_output(name: str) -> None:
    kind = name.split("_")[0]
    assert classify_screen(_screen(name), COMMANDS[kind], quiet=0.0).state == AgentState.WORKING


def test_a_dialog_on_a_shell_prompt_is_old_output() -> None:
    """The trust dialog left on screen after Claude exited: the shell at its prompt is idle."""
    lines = [*_screen("claude_trust"), "$ "]
    assert classify_screen(lines, None, quiet=5.0, at_prompt=True).state == AgentState.IDLE


@pytest.mark.parametrize(
    ("command_line", "kind"),
    [
        ("claude", "claude"),
        ("claude --resume", "claude"),
        ("node /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js", "claude"),
        ("/usr/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe -c", "claude"),
        ("node /usr/bin/gemini", "gemini"),
        ("node /usr/local/lib/node_modules/@google/gemini-cli/bundle/gemini.js", "gemini"),
        ("node /usr/bin/codex", "codex"),
        ("codex exec 'fix it'", "codex"),
        ("/venv/bin/python3 /venv/bin/aider --model x", "aider"),
        ("python -m aider", "aider"),
        ("opencode", "opencode"),
        ("vim claude.txt", None),
        ("node server.js", None),
        ("bash", None),
        (None, None),
        ("'unbalanced", None),
    ],
)
def test_agent_kind_from_the_command_line(command_line: str | None, kind: str | None) -> None:
    assert agent_kind(command_line) == kind


def _at_cursor(*rows: str, lines: int = 10) -> tuple[list[str], int]:
    screen = list(rows) + [""] * (lines - len(rows))
    return screen, len(rows) - 1


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("Continue? (y/n) ", "confirm"),
        ("Overwrite config.toml? [Y/n] ", "confirm"),
        ("Proceed [y/N]? ", "confirm"),
        ("Delete 3 files? (yes/no) ", "confirm"),
        ("Add file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: ", "confirm"),
        ("Press Enter to continue...", "continue"),
        ("Press any key when ready", "continue"),
        ("Allow network access to api.invalid? ", "permission"),
        ("Do you want to install 4 packages? ", "confirm"),
        ("[sudo] password for kim: ", "password"),
        ("Enter passphrase for key '/home/kim/.ssh/id_ed25519': ", "password"),
    ],
)
def test_a_script_prompt_on_the_cursor_row(row: str, reason: str) -> None:
    screen, cursor = _at_cursor("$ ./deploy.sh", "building... done", row)
    reading = classify_screen(screen, "bash ./deploy.sh", quiet=0.0, cursor_row=cursor)
    assert (reading.state, reading.reason, reading.question) == (
        AgentState.WAITING,
        reason,
        row.strip(),
    )


def test_a_quiet_program_after_a_question_waits_for_input() -> None:
    screen, cursor = _at_cursor("$ ./setup", "Project name: ")
    reading = classify_screen(screen, "./setup", quiet=QUIET + 1, cursor_row=cursor)
    assert (reading.state, reading.reason, reading.question) == (
        AgentState.WAITING,
        "input",
        "Project name:",
    )
    # while output still flows it is working, not asking
    assert (
        classify_screen(screen, "./setup", quiet=0.0, cursor_row=cursor).state == AgentState.WORKING
    )


def test_a_question_printed_on_its_own_line_is_read_once_quiet() -> None:
    screen = ["$ ./ask", "Do you want to continue? (y/n)", "", "", ""]
    assert (
        classify_screen(screen, "./ask", quiet=QUIET + 1, cursor_row=2).state == AgentState.WAITING
    )
    # right after Enter the row above the cursor is the command line typed, not a question
    typed = ["$ ./ask 'Do you want to continue? (y/n)'", "", ""]
    assert classify_screen(typed, "./ask", quiet=0.0, cursor_row=1).state == AgentState.WORKING


def test_a_shell_at_its_prompt_is_idle_and_a_busy_one_works() -> None:
    screen, cursor = _at_cursor("$ make", "cc -c main.c", "$ ")
    assert classify_screen(screen, None, quiet=0.0, at_prompt=True, cursor_row=cursor).state == (
        AgentState.IDLE
    )
    screen, cursor = _at_cursor("$ make", "cc -c main.c")
    assert classify_screen(screen, "make", quiet=0.1, cursor_row=cursor).state == AgentState.WORKING
    assert classify_screen(screen, "make", quiet=30, cursor_row=cursor).state == AgentState.WORKING


def test_a_numbered_list_without_selector_or_footer_is_no_dialog() -> None:
    screen = ["Steps:", "1. Build", "2. Test", "3. Ship", "$ "]
    assert classify_screen(screen, "cat steps.txt", quiet=5.0).state == AgentState.WORKING


def test_a_numbered_menu_with_a_selector_is_a_dialog_for_any_program() -> None:
    screen = ["Which environment?", "", "> 1. staging", "  2. production", "", ""]
    reading = classify_screen(screen, "./pick-env", quiet=5.0)
    assert (reading.state, reading.reason, reading.question) == (
        AgentState.WAITING,
        "choice",
        "Which environment?",
    )


def test_an_empty_screen() -> None:
    assert classify_screen([""] * 5, None, at_prompt=True).state == AgentState.IDLE
    assert classify_screen([""] * 5, "sleep 10").state == AgentState.WORKING


def test_an_agents_answer_about_an_error_is_no_error() -> None:
    """Claude explaining a bug it fixed, a tool's failing output: the agent is fine."""
    screen = [
        "❯ why does checkout crash?",
        "",
        "● Bash(pytest -q)",
        "  ⎿  FAILED test_cart.py::test_total - TypeError: unsupported operand",
        "     ERROR: 1 failed",
        "",
        "● The crash was a TypeError: total() added None. Fixed in cart.py.",
        "",
        "────────",
        "❯ ",
        "────────",
        "  ? for shortcuts",
    ]
    assert classify_screen(screen, "claude", quiet=5.0).state == AgentState.IDLE


def test_what_the_person_types_into_an_agent_is_no_question() -> None:
    screen = ["● Done.", "", "────────", "❯ Do you want to add tests too? (y/n)", "────────"]
    reading = classify_screen(screen, "claude", quiet=5.0, cursor_row=3)
    assert reading.state == AgentState.IDLE
