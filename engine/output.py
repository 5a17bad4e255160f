"""Facts from a command's output: build and test results, git, package installs, listings, logs.

`OutputParser().parse(text, command=None)` turns the text a command printed into one of the
`ParsedOutput` variants below (`kind` names which), so a record, a context or an agent can say
"2 tests failed: test_x (assert -2 == -3)" without reading 4000 lines. The command line, when
known, picks the parser first; otherwise the text's own signatures do. It runs on every finished
command, so it never raises (odd input gives `PlainText`), strips escapes only when there are
some, parses only the head and tail of huge text and caps the lists it returns.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from engine.ansi import plain_text

MAX_CHARS = 4 << 20  # beyond 4 MiB of text parse the first and last 2 MiB (a build's tail says)
MAX_ITEMS = 500  # entries kept per list: `ls -laR /` must not make a 50 MB record
MAX_MESSAGE = 500  # characters kept of one message
_HEAD = MAX_CHARS // 2


# -- the variants ------------------------------------------------------------------------------


@dataclass(kw_only=True)
class ParsedOutput:
    """What every variant has: `kind`, and whether the text or a list was cut (`truncated`)."""

    kind: ClassVar[str] = "plain"
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with "kind" first."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(kw_only=True)
class Diagnostic:
    """One compiler or tool message with where it points (file and line when it says)."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = None  # E0308, TS2322, -Wformat=
    tool: str | None = None


@dataclass(kw_only=True)
class BuildOutput(ParsedOutput):
    kind: ClassVar[str] = "build"
    tool: str | None = None  # gcc, clang, rustc, cargo, tsc, make, go
    status: str = "success"  # "success" or "failed"
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    artifacts: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class TestFailure:
    name: str
    message: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass(kw_only=True)
class TestResults(ParsedOutput):
    __test__: ClassVar[bool] = False  # not a pytest test class
    kind: ClassVar[str] = "test"
    framework: str | None = None  # pytest, unittest, jest, vitest, go, cargo
    status: str = "passed"  # "passed" or "failed"
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    total: int | None = None
    failures: list[TestFailure] = field(default_factory=list)
    duration: float | None = None  # seconds, as the tool reported it


@dataclass(kw_only=True)
class GitFile:
    path: str
    status: str  # modified, new file, deleted, renamed, both modified, untracked, ...


@dataclass(kw_only=True)
class GitCommit:
    hash: str
    subject: str = ""
    author: str | None = None
    email: str | None = None
    date: str | None = None
    files_changed: int | None = None
    insertions: int | None = None
    deletions: int | None = None


@dataclass(kw_only=True)
class DiffStatFile:
    path: str
    changes: int | None = None  # None for binary files
    insertions: int | None = None  # exact only when git did not scale the graph
    deletions: int | None = None


@dataclass(kw_only=True)
class RefUpdate:
    ref: str  # "main -> main"
    summary: str  # "afb385d..0f28941", "[new branch]", "[rejected]"
    status: str  # updated, new, forced, rejected, deleted, up to date
    reason: str | None = None


@dataclass(kw_only=True)
class GitOutput(ParsedOutput):
    kind: ClassVar[str] = "git"
    operation: str = "unknown"  # status, log, diff_stat, merge, push, pull
    branch: str | None = None
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    staged: list[GitFile] = field(default_factory=list)
    unstaged: list[GitFile] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    commits: list[GitCommit] = field(default_factory=list)  # newest first, as git prints
    files: list[DiffStatFile] = field(default_factory=list)
    files_changed: int | None = None
    insertions: int | None = None
    deletions: int | None = None
    remote: str | None = None
    refs: list[RefUpdate] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fast_forward: bool = False
    up_to_date: bool = False
    clean: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Package:
    name: str
    version: str | None = None


@dataclass(kw_only=True)
class PackageInstall(ParsedOutput):
    kind: ClassVar[str] = "package"
    manager: str | None = None  # pip, npm, apt
    status: str = "success"  # "success" or "failed"
    installed: list[Package] = field(default_factory=list)
    already_installed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # package names that could not be had
    added: int | None = None  # npm: "added N packages" (npm does not name them)
    simulated: bool = False  # apt-get -s: what would be installed
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Process:
    pid: int
    command: str
    user: str | None = None
    ppid: int | None = None
    cpu: float | None = None  # %CPU
    mem: float | None = None  # %MEM
    rss: int | None = None  # KiB
    stat: str | None = None
    tty: str | None = None
    start: str | None = None
    time: str | None = None


@dataclass(kw_only=True)
class ProcessList(ParsedOutput):
    kind: ClassVar[str] = "process_list"
    format: str = "aux"  # aux (BSD columns), ef (System V columns) or ps (plain `ps`)
    count: int = 0
    processes: list[Process] = field(default_factory=list)


@dataclass(kw_only=True)
class FileEntry:
    name: str
    mode: str | None = None  # -rw-r--r--
    type: str = "file"  # file, directory, link, char, block, pipe, socket
    size: int | None = None  # bytes (approximate for -h sizes)
    owner: str | None = None
    group: str | None = None
    links: int | None = None
    modified: str | None = None  # as ls prints it
    target: str | None = None  # a symlink's target
    directory: str | None = None  # the `ls -R` section it is in


@dataclass(kw_only=True)
class FileSystemOutput(ParsedOutput):
    kind: ClassVar[str] = "file_list"
    count: int = 0  # entries, without "." and ".."
    total_bytes: int = 0  # sum of the regular files' sizes
    directories: list[str] = field(default_factory=list)  # `ls -R` section headers
    entries: list[FileEntry] = field(default_factory=list)


@dataclass(kw_only=True)
class Filesystem:
    filesystem: str
    mounted_on: str
    size: str | None = None
    used: str | None = None
    available: str | None = None
    use_percent: int | None = None


@dataclass(kw_only=True)
class DiskUsage(ParsedOutput):
    kind: ClassVar[str] = "disk_usage"
    filesystems: list[Filesystem] = field(default_factory=list)
    nearly_full: list[str] = field(default_factory=list)  # mount points at 90 % or more


@dataclass(kw_only=True)
class Frame:
    file: str
    line: int | None
    function: str
    code: str | None = None


@dataclass(kw_only=True)
class ChainedException:
    exception_type: str
    message: str


@dataclass(kw_only=True)
class PythonTraceback(ParsedOutput):
    kind: ClassVar[str] = "traceback"
    exception_type: str = ""
    message: str = ""
    frames: list[Frame] = field(default_factory=list)  # outermost first, as Python prints
    chain: list[ChainedException] = field(default_factory=list)  # the causes, oldest first


@dataclass(kw_only=True)
class StructuredLog(ParsedOutput):
    kind: ClassVar[str] = "structured_log"
    format: str = "level"  # json, logfmt or level (LEVEL-prefixed lines)
    entries: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # per level, lowercase
    errors: list[str] = field(default_factory=list)  # messages at error and above
    warnings: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class PlainText(ParsedOutput):
    kind: ClassVar[str] = "plain"
    lines: int = 0
    chars: int = 0
    error_lines: list[str] = field(default_factory=list)  # lines that say error/failed/fatal
    note: str | None = None  # why the text was taken as plain (bad input, a parser's bug)


VARIANTS: dict[str, type[ParsedOutput]] = {
    cls.kind: cls
    for cls in (
        BuildOutput,
        TestResults,
        GitOutput,
        PackageInstall,
        ProcessList,
        FileSystemOutput,
        DiskUsage,
        PythonTraceback,
        StructuredLog,
        PlainText,
    )
}


# -- the parser --------------------------------------------------------------------------------

_Parse = Callable[[str, "_Hint"], ParsedOutput | None]
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # escapes, CR, backspace, ...


@dataclass(frozen=True)
class _Hint:
    """What the command line says: the program (`pytest`, `git`), its words after it."""

    program: str = ""
    args: tuple[str, ...] = ()


class OutputParser:
    """Turns a command's output into facts. Stateless and cheap to make; one can serve all."""

    def parse(
        self, text: str, command: str | None = None, exit_code: int | None = None
    ) -> ParsedOutput:
        """The facts in `text`; `command` (the command line that printed it) picks the parser
        first, and a non-zero `exit_code` makes a build or test run that printed no error
        "failed" all the same. Never raises: what no parser recognises is `PlainText`."""
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8", "replace")
        if not isinstance(text, str):
            return PlainText(note=f"not text: {type(text).__name__}")
        truncated = len(text) > MAX_CHARS
        if truncated:
            text = text[:_HEAD] + "\n" + text[-_HEAD:]
        if _NEEDS_CLEANING.search(text):
            text = plain_text(text)
        hint = _hint(command if isinstance(command, str) else None)
        try:
            result = self._parse(text, hint)
        except Exception as exc:  # a parser's bug must not lose the command's record
            result = _plain(text, note=f"parser error: {type(exc).__name__}: {exc}"[:MAX_MESSAGE])
        result.truncated = result.truncated or truncated
        if exit_code and isinstance(result, BuildOutput | TestResults | PackageInstall):
            result.status = "failed"
        return result

    def _parse(self, text: str, hint: _Hint) -> ParsedOutput:
        hinted = _HINTED.get(hint.program)
        if hinted is not None:
            result = hinted(text, hint)
            if result is not None:
                return result
        sample = _sample(text)
        for detect, parse in _DETECTORS:
            if detect(sample):
                result = parse(text, hint)
                if result is not None:
                    return result
        return _plain(text)


def _sample(text: str) -> str:
    """Where signatures are looked for: the head and the tail (a summary comes last, a header
    first), after a newline so that `\\nLITERAL` finds the first line too."""
    if len(text) <= 2 * _SAMPLE:
        return "\n" + text
    return "\n" + text[:_SAMPLE] + "\n" + text[-_SAMPLE:]


_SAMPLE = 16 << 10  # characters of head and of tail that detection reads


# -- command hints -----------------------------------------------------------------------------

_WRAPPERS = {"sudo", "time", "env", "nice", "nohup", "command", "exec", "npx", "bunx", "xargs"}
_RUNNERS = {("uv", "run"), ("poetry", "run"), ("pnpm", "exec"), ("yarn", "exec"), ("pipx", "run")}


def _hint(command: str | None) -> _Hint:
    """The program a command line runs, past `sudo`, `env X=1`, `python -m` and the like; of
    `a && b | c`, the first part whose program has a parser."""
    if not command:
        return _Hint()
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    parts: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|", "&"):
            parts.append([])
        else:
            parts[-1].append(word)
    first = _Hint()
    for part in parts:
        hint = _program(part)
        if hint.program in _HINTED:
            return hint
        first = first if first.program else hint
    return first


def _program(words: list[str]) -> _Hint:
    at = 0
    while at < len(words):
        word = words[at]
        name = word.rsplit("/", 1)[-1]
        then = words[at + 1] if at + 1 < len(words) else ""
        if "=" in word or name in _WRAPPERS or word.startswith("-"):
            at += 1  # FOO=1, sudo, env -i
        elif (name, then) in _RUNNERS or (_PYTHON.fullmatch(name) and then == "-m"):
            at += 2  # uv run, python -m
        else:
            break
    if at >= len(words):
        return _Hint()
    name = words[at].rsplit("/", 1)[-1]
    args = tuple(words[at + 1 :])
    sub = next((a for a in args if not a.startswith("-")), "")
    if name in ("npm", "pnpm", "yarn", "bun"):
        if sub in ("test", "t") or args[:2] == ("run", "test"):
            return _Hint("npm-test", args)
        return _Hint("npm" if sub in _NPM_INSTALL else "", args)
    if (name == "uv" and sub == "pip") or _PIP.fullmatch(name):
        return _Hint("pip", args)
    if name in ("go", "cargo"):
        return _Hint(f"{name}-test" if sub in ("test", "t", "nextest") else f"{name}-build", args)
    return _Hint(_ALIASES.get(name, name), args)


_PYTHON = re.compile(r"python[\d.]*|pypy[\d.]*")
_PIP = re.compile(r"pip[\d.]*")
_NPM_INSTALL = {"install", "i", "ci", "add", "uninstall", "remove", "rm", "update", "up"}
_ALIASES = {
    "py.test": "pytest",
    "g++": "gcc",
    "cc": "gcc",
    "c++": "gcc",
    "clang++": "clang",
    "gmake": "make",
    "ninja": "make",
    "apt-get": "apt",
    "ll": "ls",
    "dir": "ls",
}


# -- helpers -----------------------------------------------------------------------------------


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _cut(message: str) -> str:
    message = message.strip()
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _capped(items: list[Any]) -> tuple[list[Any], bool]:
    return (items, False) if len(items) <= MAX_ITEMS else (items[:MAX_ITEMS], True)


def _seconds(number: str, unit: str) -> float | None:
    value = _float(number)
    if value is None:
        return None
    return value / 1000 if unit == "ms" else value * 60 if unit in ("m", "min") else value


# on lowercased text: a case-insensitive alternation is ten times slower
_ERRORISH = re.compile(r"error|fail|fatal|exception|panic|denied|not found|cannot|unable to")
_MAX_ERROR_LINES = 50


def _plain(text: str, note: str | None = None) -> PlainText:
    """Lines and characters, and the lines a reader would look for first."""
    found: dict[str, None] = {}
    line_end = -1
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lowercase to two: positions would shift
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    for match in _ERRORISH.finditer(lowered):
        if match.start() <= line_end:
            continue  # this line is in already
        start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.start())
        line_end = len(text) if line_end < 0 else line_end
        found[_cut(text[start:line_end])] = None
        if len(found) > _MAX_ERROR_LINES:
            break
    return PlainText(
        lines=text.count("\n") + (1 if text and not text.endswith("\n") else 0),
        chars=len(text),
        error_lines=list(found)[:_MAX_ERROR_LINES],
        note=note,
        truncated=len(found) > _MAX_ERROR_LINES,
    )


# -- tests -------------------------------------------------------------------------------------

_PYTEST_SUMMARY = re.compile(
    r"^=*\s*(?P<body>(?:\d+ \w+(?:, )?)+|no tests ran) in (?P<secs>[\d.]+)s\b.*?=*$", re.MULTILINE
)
_PYTEST_SHORT = re.compile(r"^(?P<what>FAILED|ERROR) (?P<id>\S+)(?: - (?P<msg>.*))?$", re.M)
_PYTEST_SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$", re.MULTILINE)
_PYTEST_LOCATION = re.compile(r"^(?P<file>[^\s:]+\.py):(?P<line>\d+): \S", re.MULTILINE)
_COUNT = re.compile(r"(\d+) (\w+)")
_PYTEST_WORDS = re.compile(
    r"\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected)|no tests"
)


def _pytest(text: str, hint: _Hint) -> TestResults | None:
    summaries = [m for m in _PYTEST_SUMMARY.finditer(text) if _PYTEST_WORDS.search(m["body"])]
    shorts = list(_PYTEST_SHORT.finditer(text))
    if not summaries and not shorts:
        return None
    result = TestResults(framework="pytest")
    if summaries:
        last = summaries[-1]
        for number, word in _COUNT.findall(last["body"]):
            _add_count(result, word, int(number))
        result.duration = _float(last["secs"])
    failures: dict[str, TestFailure] = {}
    for section in _failure_sections(text):
        failures[section.name] = section
    for match in shorts:
        node = match["id"]
        message = _cut(match["msg"]) if match["msg"] else None
        key = next(
            (k for k in failures if node == k or node.endswith("::" + k.replace(".", "::"))), None
        )
        if key is not None:
            old = failures.pop(key)
            failures[node] = TestFailure(
                name=node, message=message or old.message, file=old.file, line=old.line
            )
        else:
            failures[node] = TestFailure(
                name=node, message=message, file=node.split("::")[0] or None
            )
        if not summaries:
            _add_count(result, "failed" if match["what"] == "FAILED" else "error", 1)
    result.failures = list(failures.values())
    return _settled(result)


def _failure_sections(text: str) -> Iterator[TestFailure]:
    """pytest's `____ test_name ____` blocks: the first `E   ` line and the `file:line: Error`."""
    start = text.find("= FAILURES =")
    errors_at = text.find("= ERRORS =")
    if start < 0 or 0 <= errors_at < start:
        start = errors_at
    if start < 0:
        return
    end = text.find(" short test summary info ", start)
    block = text[start : end if end > 0 else len(text)]
    heads = list(_PYTEST_SECTION.finditer(block))
    for at, head in enumerate(heads):
        body = block[head.end() : heads[at + 1].start() if at + 1 < len(heads) else len(block)]
        message = next(
            (line[1:].strip() for line in body.splitlines() if line.startswith("E ")), None
        )
        locations = list(_PYTEST_LOCATION.finditer(body))
        where = locations[-1] if locations else None
        name = head["name"]
        if name.startswith("ERROR at "):  # ERROR at setup of test_x
            name = name.split(" of ", 1)[-1]
        name = name.removeprefix("ERROR collecting ")
        yield _failure(
            name,
            message,
            where["file"] if where else None,
            where["line"] if where else None,
        )


def _add_count(result: TestResults, word: str, number: int) -> None:
    word = word.lower()
    if word in ("passed", "pass", "ok"):
        result.passed += number
    elif word in ("failed", "fail", "failures", "failure"):
        result.failed += number
    elif word in ("skipped", "skip", "ignored", "pending", "todo", "deselected", "xfailed"):
        result.skipped += number
    elif word in ("error", "errors"):
        result.errors += number
    elif word == "xpassed":
        result.passed += number
    elif word == "total":
        result.total = number


def _failure(
    name: str, message: str | None, file: str | None = None, line: str | int | None = None
) -> TestFailure:
    """A failure from what a runner printed: the message cut to size, the line a number."""
    return TestFailure(
        name=name,
        message=_cut(message) if message else None,
        file=file,
        line=_int(line) if isinstance(line, str) else line,
    )


def _settled(result: TestResults) -> TestResults:
    """Totals, status and the failures capped: what every runner's parse ends with."""
    result.failures, result.truncated = _capped(result.failures)
    if result.total is None:
        result.total = result.passed + result.failed + result.skipped + result.errors
    failed = result.failed or result.errors or result.failures
    result.status = "failed" if failed else "passed"
    return result


_UNITTEST_RAN = re.compile(r"^Ran (?P<n>\d+) tests? in (?P<secs>[\d.]+)s$", re.MULTILINE)
_UNITTEST_END = re.compile(r"^(?P<status>OK|FAILED)(?: \((?P<counts>[^)]*)\))?\s*$", re.MULTILINE)
_UNITTEST_HEAD = re.compile(r"^(?P<what>FAIL|ERROR): (?P<test>\S+)(?: \((?P<where>[^)]+)\))?", re.M)
_PY_FILE_LINE = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


def _unittest(text: str, hint: _Hint) -> TestResults | None:
    ran = _UNITTEST_RAN.search(text)
    if ran is None:
        return None
    result = TestResults(framework="unittest", total=int(ran["n"]), duration=_float(ran["secs"]))
    end = _UNITTEST_END.search(text, ran.end())
    if end is not None and end["counts"]:
        for part in end["counts"].split(","):
            word, _, number = part.strip().partition("=")
            count = _int(number) or 0
            if word == "expected failures":
                result.skipped += count
            elif word != "unexpected successes":
                _add_count(result, word, count)
    result.passed = max(0, int(ran["n"]) - result.failed - result.errors - result.skipped)
    heads = list(_UNITTEST_HEAD.finditer(text, 0, ran.start()))
    for at, head in enumerate(heads):
        stop = heads[at + 1].start() if at + 1 < len(heads) else ran.start()
        body = text[head.end() : stop]
        lines = [
            line for line in body.splitlines() if line.strip() and not re.fullmatch(r"[-=]+", line)
        ]
        where = list(_PY_FILE_LINE.finditer(body))
        name = head["where"] or head["test"]
        if head["where"] and not name.endswith("." + head["test"]):
            name = f"{name}.{head['test']}"
        result.failures.append(
            _failure(
                name,
                lines[-1] if lines else None,
                where[-1]["file"] if where else None,
                where[-1]["line"] if where else None,
            )
        )
    return _settled(result)


_JEST_TESTS = re.compile(r"^Tests:\s+(?P<body>.+)$", re.MULTILINE)
_JEST_TIME = re.compile(r"^Time:\s+(?P<n>[\d.]+)\s*(?P<unit>ms|s|m)\b", re.MULTILINE)
_JEST_BULLET = re.compile(r"^ *● (?P<name>.+)$", re.MULTILINE)
_JS_AT = re.compile(r"at .*?\(?(?P<file>[^\s()]+):(?P<line>\d+):(?P<col>\d+)\)?\s*$", re.M)


def _js_summary(
    text: str, framework: str, tests: re.Pattern[str], duration: re.Pattern[str]
) -> tuple[TestResults, re.Match[str]] | None:
    """jest's and vitest's counts from their last `Tests` line, and the run's duration."""
    found = list(tests.finditer(text))
    if not found:
        return None
    result = TestResults(framework=framework)
    for number, word in _COUNT.findall(found[-1]["body"].split("(")[0]):
        _add_count(result, word, int(number))
    took = duration.search(text)
    if took:
        result.duration = _seconds(took["n"], took["unit"])
    return result, found[-1]


def _jest(text: str, hint: _Hint) -> TestResults | None:
    summary = _js_summary(text, "jest", _JEST_TESTS, _JEST_TIME)
    if summary is None:
        return None
    result, tests = summary
    bullets = [b for b in _JEST_BULLET.finditer(text) if not b["name"].startswith("Console")]
    for at, bullet in enumerate(bullets):
        stop = bullets[at + 1].start() if at + 1 < len(bullets) else tests.start()
        body = text[bullet.end() : stop]
        message = next((line.strip() for line in body.splitlines() if line.strip()), None)
        where = _JS_AT.search(body)
        result.failures.append(
            _failure(
                bullet["name"].strip(),
                message,
                where["file"] if where else None,
                where["line"] if where else None,
            )
        )
    return _settled(result)


_VITEST_TESTS = re.compile(r"^\s*Tests\s+(?P<body>\d.*)$", re.MULTILINE)
_VITEST_DURATION = re.compile(r"^\s*Duration\s+(?P<n>[\d.]+)\s*(?P<unit>ms|s|m)\b", re.M)
_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(?P<name>\S+ > .+?)\s*$", re.MULTILINE)


def _vitest(text: str, hint: _Hint) -> TestResults | None:
    summary = _js_summary(text, "vitest", _VITEST_TESTS, _VITEST_DURATION)
    if summary is None:
        return None
    result, tests = summary
    total = re.search(r"\((\d+)\)", tests["body"])
    result.total = _int(total.group(1)) if total else None
    for fail in _VITEST_FAIL.finditer(text):
        rest = text[fail.end() : fail.end() + 2000].splitlines()
        message = next((line.strip() for line in rest if line.strip()), None)
        where = next((re.search(r"(\S+):(\d+):(\d+)", line) for line in rest if "❯" in line), None)
        name = fail["name"]
        path = name.split(" > ", 1)[0]
        result.failures.append(
            _failure(
                name,
                message,
                where.group(1) if where else path,
                _int(where.group(2)) if where else None,
            )
        )
    return _settled(result)


_GO_RESULT = re.compile(
    r"^\s*--- (?P<what>PASS|FAIL|SKIP): (?P<name>\S+) \((?P<secs>[\d.]+)s\)", re.M
)
_GO_PACKAGE = re.compile(r"^(?P<what>ok|FAIL)\s+(?P<pkg>\S+)\s+(?P<secs>[\d.]+)s", re.MULTILINE)
_GO_RUN = re.compile(r"^=== (?:RUN|CONT|PAUSE)\s+(?P<name>\S+)", re.MULTILINE)
_GO_LOG = re.compile(r"^\s+(?P<file>[\w./-]+\.go):(?P<line>\d+): (?P<msg>.*)$", re.MULTILINE)


def _go_test(text: str, hint: _Hint) -> TestResults | None:
    outcomes = {m["name"]: m["what"] for m in _GO_RESULT.finditer(text)}
    packages = list(_GO_PACKAGE.finditer(text))
    if not outcomes and not packages:
        return None
    result = TestResults(framework="go")
    logs: dict[str, tuple[str, int | None, str]] = {}
    running = ""
    for match in re.finditer(f"{_GO_RUN.pattern}|{_GO_LOG.pattern}", text, re.MULTILINE):
        if match["name"]:
            running = match["name"]
        elif running and running not in logs:
            logs[running] = (match["file"], _int(match["line"]), match["msg"])
    parents = {name.rsplit("/", 1)[0] for name in outcomes if "/" in name}
    for name, what in outcomes.items():
        if name in parents:
            continue  # a parent passes or fails with its subtests: count the leaves
        if what == "PASS":
            result.passed += 1
        elif what == "SKIP":
            result.skipped += 1
        else:
            result.failed += 1
            file, line, message = logs.get(name, (None, None, None))
            result.failures.append(_failure(name, message, file, line))
    if packages:
        result.duration = sum(_float(m["secs"]) or 0.0 for m in packages)
    if any(m["what"] == "FAIL" for m in packages) and not result.failed:
        result.failed = sum(1 for m in packages if m["what"] == "FAIL")
    return _settled(result)


_CARGO_RESULT = re.compile(
    r"^test result: (?P<status>ok|FAILED)\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; "
    r"(?P<ignored>\d+) ignored; (?P<measured>\d+) measured; (?P<filtered>\d+) filtered out"
    r"(?:; finished in (?P<secs>[\d.]+)s)?",
    re.MULTILINE,
)
_CARGO_STDOUT = re.compile(r"^---- (?P<name>\S+) stdout ----$", re.MULTILINE)
_RUST_PANIC = re.compile(
    r"panicked at (?:'(?P<old>.*)', )?(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+):?$", re.M
)
_CARGO_FAILED_TEST = re.compile(r"^test (?P<name>\S+) \.\.\. FAILED$", re.MULTILINE)


def _cargo_test(text: str, hint: _Hint) -> TestResults | None:
    results = list(_CARGO_RESULT.finditer(text))
    if not results:
        return None
    result = TestResults(framework="cargo", duration=0.0)
    for match in results:
        result.passed += int(match["passed"])
        result.failed += int(match["failed"])
        result.skipped += int(match["ignored"])
        result.duration = (result.duration or 0.0) + (_float(match["secs"]) or 0.0)
    blocks = list(_CARGO_STDOUT.finditer(text))
    named = set()
    for at, block in enumerate(blocks):
        body = text[block.end() : blocks[at + 1].start() if at + 1 < len(blocks) else len(text)]
        panic = _RUST_PANIC.search(body)
        message = None
        if panic:
            message = panic["old"] or next(
                (line for line in body[panic.end() :].splitlines() if line.strip()), None
            )
        result.failures.append(
            _failure(
                block["name"],
                message,
                panic["file"] if panic else None,
                _int(panic["line"]) if panic else None,
            )
        )
        named.add(block["name"])
    for match in _CARGO_FAILED_TEST.finditer(text):
        if match["name"] not in named:
            named.add(match["name"])
            result.failures.append(TestFailure(name=match["name"]))
    return _settled(result)


def _any_test(text: str, hint: _Hint) -> TestResults | None:
    """`npm test` and the like: whichever runner's summary is there."""
    for parse in (_jest, _vitest, _pytest, _unittest, _go_test, _cargo_test):
        result = parse(text, hint)
        if result is not None:
            return result
    return None


# -- builds ------------------------------------------------------------------------------------

_GCC = re.compile(
    r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?:(?P<col>\d+):)? "
    r"(?P<sev>fatal error|error|warning): (?P<msg>.*?)(?: \[(?P<code>-W[^\]]+)\])?$",
    re.MULTILINE,
)
_LINKER = re.compile(
    r"^(?:(?P<file>[^\s:]+):\(?[^:\n]*\)?: )?(?P<msg>undefined reference to .*)$"
    r"|^(?:collect2|/usr/bin/ld|ld|clang(?:\+\+)?): (?:error: )?(?P<ld>(?!.* in function ).*)$",
    re.MULTILINE,
)
_LD_FAILED = re.compile(r"ld returned \d+ exit status")
_RUST = re.compile(
    r"^(?P<sev>error|warning)(?:\[(?P<code>E\d+)\])?: (?P<msg>.*)$"
    r"(?:\n\s*--> (?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+))?",
    re.MULTILINE,
)
_RUST_SUMMARY = re.compile(
    r"aborting due to|could not compile|test failed, to rerun|generated \d+ warnings?|"
    r"build failed|^\d+ warnings? emitted"
)
_CARGO_COMPILING = re.compile(r"^\s+Compiling (?P<crate>\S+) (?P<version>v\S+)", re.MULTILINE)
_CARGO_FINISHED = re.compile(r"^\s+Finished [`']?(?P<profile>\w+)[`']? (?:profile )?", re.M)
_TSC = re.compile(
    r"^(?P<file>[^\s(:][^(\n]*?)"
    r"(?:\((?P<line>\d+),(?P<col>\d+)\): | ?:(?P<line2>\d+):(?P<col2>\d+) - )"
    r"(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$",
    re.MULTILINE,
)
_MAKE = re.compile(
    r"^(?P<tool>g?make)(?:\[\d+\])?: \*\*\* (?:\[(?P<target>[^\]]*)\] (?P<msg>Error \d+)|"
    r"(?P<other>.*?))$",
    re.MULTILINE,
)
_GO_BUILD = re.compile(r"^(?P<file>\S+\.go):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$", re.M)
_BUILT = re.compile(
    r"Successfully built (?P<built>.+)$|Created wheel for \S+: filename=(?P<wheel>\S+)|"
    r"^\s*(?P<compiled>Compiled successfully|webpack compiled successfully)|"
    r"^\s*(?P<vite>dist/\S+)\s+[\d.]+ kB",
    re.MULTILINE,
)


def _build(text: str, hint: _Hint) -> BuildOutput | None:
    result = BuildOutput(tool=_BUILD_TOOLS.get(hint.program))
    failed = False
    for match in _found(text, _GCC, ": error", ": warning", ": fatal error"):
        _located(result, match, result.tool if result.tool in ("gcc", "clang") else "gcc")
    for match in _found(text, _LINKER, "undefined reference", "collect2", "ld: "):
        ld = match["ld"] or ""
        if _LD_FAILED.search(ld):
            failed = True  # the summary of the errors above
        elif not ld.startswith("warning"):
            message = match["msg"] or ld
            _diagnostic(result, "error", message, match["file"], None, None, None, "ld")
    rust = list(_found(text, _RUST, "--> ", "error", "warning"))
    rusty = hint.program in ("rustc", "cargo-build") or any(m["file"] for m in rust)
    for match in rust if rusty else ():
        if _RUST_SUMMARY.search(match["msg"]):
            failed = failed or match["sev"] == "error"
            continue
        if match["file"] is None and match["sev"] == "warning":
            continue
        _located(result, match, "cargo" if result.tool == "cargo" else "rustc")
    for match in _found(text, _TSC, " TS"):
        _located(result, match, "tsc")
    if hint.program == "go-build":
        for match in _GO_BUILD.finditer(text):
            _located(result, match, "go")
    for match in _found(text, _MAKE, "***"):
        failed = True
        target = match["target"] or ""
        file, _, rest = target.partition(":")
        line, _, goal = rest.partition(":")
        message = f"{match['msg']} making {goal.strip()}" if goal else match["msg"] or ""
        _diagnostic(
            result,
            "error",
            message if match["msg"] else match["other"],
            file if line.isdigit() else None,
            line if line.isdigit() else None,
            None,
            None,
            "make",
        )
    crates = list(_found(text, _CARGO_COMPILING, "Compiling "))
    finished = list(_found(text, _CARGO_FINISHED, "Finished "))
    if finished:
        profile = finished[-1]["profile"]
        result.artifacts += [f"{m['crate']} {m['version']} ({profile})" for m in crates]
        result.artifacts += [] if crates else [f"{profile} profile"]
    for match in _found(text, _BUILT, "Successfully built", "Created wheel", "ompiled succ", " kB"):
        built = match["built"] or match["wheel"] or match["vite"]
        if built:
            result.artifacts += built.replace(" and ", " ").split()
        elif match["compiled"]:
            result.artifacts.append(match["compiled"])
    found = result.error_count or result.warning_count or crates or finished or result.artifacts
    if not found and not failed and hint.program not in _BUILD_TOOLS:
        return None
    if result.tool is None:  # the tool that drove the others: make, cargo, else the first
        tools = [d.tool for d in result.errors + result.warnings if d.tool]
        if "make" in tools:
            result.tool = "make"
        elif crates or finished:
            result.tool = "cargo"
        else:
            result.tool = tools[0] if tools else None
    result.status = "failed" if failed or result.error_count else "success"
    if result.status == "success" and result.tool in ("gcc", "clang"):
        result.artifacts += _c_output(hint.args)
    result.errors, cut = _capped(result.errors)
    result.warnings, cut_warnings = _capped(result.warnings)
    result.truncated = cut or cut_warnings
    return result


def _found(text: str, pattern: re.Pattern[str], *needles: str) -> Iterator[re.Match[str]]:
    """`pattern`'s matches, when one of the needles is in the text: `in` is 20 times faster
    than a regex scan that finds nothing."""
    if any(needle in text for needle in needles):
        yield from pattern.finditer(text)


def _located(result: BuildOutput, match: re.Match[str], tool: str) -> None:
    """A diagnostic from a pattern's groups: sev, msg, file, line (or line2), col, code."""
    groups = match.groupdict()
    _diagnostic(
        result,
        groups.get("sev") or "error",
        groups.get("msg") or "",
        (groups.get("file") or "").strip() or None,
        groups.get("line") or groups.get("line2"),
        groups.get("col") or groups.get("col2"),
        groups.get("code"),
        tool,
    )


def _diagnostic(
    result: BuildOutput,
    severity: str,
    message: str,
    file: str | None,
    line: str | None,
    column: str | None,
    code: str | None,
    tool: str | None,
) -> None:
    diagnostic = Diagnostic(
        message=_cut(message),
        file=file,
        line=_int(line),
        column=_int(column),
        code=code,
        tool=tool,
    )
    if severity == "warning":
        result.warnings.append(diagnostic)
        result.warning_count += 1
    else:
        result.errors.append(diagnostic)
        result.error_count += 1


def _c_output(args: tuple[str, ...]) -> list[str]:
    """What a C compiler line builds: `-o NAME`, else a.out (or objects with -c)."""
    for at, word in enumerate(args):
        if word == "-o" and at + 1 < len(args):
            return [args[at + 1]]
        if word.startswith("-o") and len(word) > 2:
            return [word[2:]]
    if "-E" in args or "-S" in args or "-fsyntax-only" in args or not args:
        return []
    if "-c" in args:
        sources = [w for w in args if re.search(r"\.(?:c|cc|cpp|cxx|m)$", w)]
        return [re.sub(r"\.\w+$", ".o", s.rsplit("/", 1)[-1]) for s in sources]
    return ["a.out"]


_BUILD_TOOLS = {
    "gcc": "gcc",
    "clang": "clang",
    "rustc": "rustc",
    "cargo-build": "cargo",
    "tsc": "tsc",
    "make": "make",
    "go-build": "go",
}


# -- git ---------------------------------------------------------------------------------------

_GIT_COMMIT = re.compile(r"^[*|/\\ ]*commit (?P<hash>[0-9a-f]{7,40})\b.*$", re.MULTILINE)
_GIT_ONELINE = re.compile(r"^(?P<hash>[0-9a-f]{7,40}) (?:\([^)]*\) )?(?P<subject>.*)$")
_GIT_STAT_LINE = re.compile(
    r"^ (?P<path>\S.*?)[ \t]+\|[ \t]+(?:(?P<n>\d+)(?: (?P<graph>[+-]*))?|Bin (?P<bin>.*))$",
    re.MULTILINE,
)
_GIT_STAT_SUMMARY = re.compile(
    r"^ (?P<files>\d+) files? changed(?:, (?P<ins>\d+) insertions?\(\+\))?"
    r"(?:, (?P<dels>\d+) deletions?\(-\))?$",
    re.MULTILINE,
)
_GIT_REF = re.compile(
    r"^ (?P<flag>[ +\-*!=t]) +(?P<summary>\[[^\]]+\]|\S+)\s+(?P<src>\S+)\s+-> (?P<dst>\S+)"
    r"(?: \((?P<reason>[^)]*)\))?$",
    re.MULTILINE,
)
_GIT_CONFLICT = re.compile(r"^CONFLICT \((?P<why>[^)]+)\): .*? (?:in|at) (?P<path>\S+)", re.M)
_GIT_STATUS_FILE = re.compile(r"^\t(?:(?P<status>[a-z][a-z ]*?):\s+)?(?P<path>.+)$")
_GIT_SHORT = re.compile(r"^(?P<x>[ MADRCUT?!])(?P<y>[ MADRCUT?!]) (?P<path>.+)$", re.MULTILINE)
_GIT_SHORT_BRANCH = re.compile(
    r"^## (?:No commits yet on )?(?P<branch>[^.\s]+(?:\.[^.\s]+)*?)(?:\.\.\.(?P<up>\S+))?"
    r"(?: \[(?:ahead (?P<ahead>\d+))?(?:, )?(?:behind (?P<behind>\d+))?\])?$",
    re.MULTILINE,
)
_GIT_AHEAD = re.compile(
    r"Your branch is (?:ahead of '(?P<a>[^']+)' by (?P<ahead>\d+)|behind '(?P<b>[^']+)' by "
    r"(?P<behind>\d+)|up to date with '(?P<u>[^']+)')|and have (?P<a2>\d+) and (?P<b2>\d+) "
    r"different commits"
)
_SHORT_STATUS = {
    "M": "modified",
    "A": "new file",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "typechange",
    "U": "unmerged",
}
_GIT_DETECT = re.compile(
    r"^(?:On branch |HEAD detached |## |[*|/\\ ]*commit [0-9a-f]{40}|CONFLICT \(|To \S|From \S|"
    r"Already up to date|Automatic merge failed|Fast-forward$|Updating [0-9a-f]+\.\.[0-9a-f]+$|"
    r" \d+ files? changed|[0-9a-f]{7,12} \S)",
    re.MULTILINE,
)


def _git(text: str, hint: _Hint) -> GitOutput | None:
    sub = _git_subcommand(hint.args)
    result = GitOutput()
    if _GIT_COMMIT.search(text) or (sub in ("log", "") and _oneline(text, result)):
        result.operation = "log"
        if not result.commits:
            _git_log(text, result)
    elif re.search(r"^(?:On branch |HEAD detached |Not currently on any branch)", text, re.M):
        result.operation = "status"
        _git_status(text, result)
    elif sub == "status" or re.match(r"## ", text):
        result.operation = "status"
        _git_short_status(text, result)
    elif re.search(r"^CONFLICT \(|^Automatic merge failed|^Merge made by", text, re.M) or sub in (
        "merge",
        "rebase",
        "cherry-pick",
    ):
        result.operation = sub if sub in ("rebase", "cherry-pick") else "merge"
    elif re.search(r"^To \S", text, re.M) or sub == "push":
        result.operation = "push"
    elif re.search(r"^From \S|^Updating [0-9a-f]+\.\.", text, re.M) or sub in ("pull", "fetch"):
        result.operation = sub if sub == "fetch" else "pull"
    elif _GIT_STAT_SUMMARY.search(text) or sub in ("diff", "show"):
        result.operation = "diff_stat"
    elif not sub:
        return None
    else:
        result.operation = sub
    if result.operation not in ("log", "status"):
        _git_stat(text, result)
        for match in _GIT_CONFLICT.finditer(text):
            result.conflicts.append(match["path"])
        if result.operation in ("push", "pull", "fetch"):
            _git_refs(text, result)
        result.fast_forward = bool(re.search(r"^Fast-forward$", text, re.MULTILINE))
        result.up_to_date = bool(
            re.search(r"^Already up.to.date|^Everything up-to-date", text, re.M)
        )
    result.errors = [
        _cut(m.group(1)) for m in re.finditer(r"^(?:error|fatal): (.*)$", text, re.MULTILINE)
    ]
    if text.strip() and result == GitOutput(operation=result.operation, clean=result.clean):
        return None  # `git status` said nothing git says: let the text's signatures decide
    for name in ("commits", "files", "staged", "unstaged", "untracked", "refs", "conflicts"):
        items, cut = _capped(getattr(result, name))
        setattr(result, name, items)
        result.truncated = result.truncated or cut
    return result


def _git_subcommand(args: tuple[str, ...]) -> str:
    """`git -C repo -c k=v log` -> log."""
    at = 0
    while at < len(args) and args[at].startswith("-"):
        at += 2 if args[at] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") else 1
    return args[at] if at < len(args) else ""


def _oneline(text: str, result: GitOutput) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        match = _GIT_ONELINE.match(line.lstrip("*|/\\ "))
        if match is None:
            result.commits, result.truncated = [], False
            return False
        if len(result.commits) < MAX_ITEMS:
            result.commits.append(GitCommit(hash=match["hash"], subject=_cut(match["subject"])))
        else:
            result.truncated = True
    return bool(lines)


def _git_log(text: str, result: GitOutput) -> None:
    heads = list(_GIT_COMMIT.finditer(text))
    result.truncated = len(heads) > MAX_ITEMS  # the newest are kept
    for at, head in enumerate(heads[:MAX_ITEMS]):
        body = text[head.end() : heads[at + 1].start() if at + 1 < len(heads) else len(text)]
        commit = GitCommit(hash=head["hash"])
        subject_seen = False
        for raw in body.splitlines():
            line = raw.lstrip("|/\\ ") if raw[:1] in "|/\\ " and not raw.startswith("    ") else raw
            if line.startswith("Author:"):
                author = line[7:].strip()
                name, _, email = author.partition(" <")
                commit.author, commit.email = name, email.rstrip(">") or None
            elif line.startswith(("Date:", "AuthorDate:")):
                commit.date = line.split(":", 1)[1].strip()
            elif raw.startswith("    ") and not subject_seen and raw.strip():
                commit.subject, subject_seen = _cut(raw), True
            else:
                summary = _GIT_STAT_SUMMARY.match(raw) or _GIT_STAT_SUMMARY.match(" " + line)
                if summary:
                    commit.files_changed = _int(summary["files"])
                    commit.insertions = _int(summary["ins"]) or 0
                    commit.deletions = _int(summary["dels"]) or 0
        result.commits.append(commit)


def _git_status(text: str, result: GitOutput) -> None:
    branch = re.search(
        r"^(?:On branch (?P<b>\S+)|HEAD detached (?:at|from) (?P<d>\S+))", text, re.M
    )
    if branch:
        result.branch = branch["b"] or f"(detached {branch['d']})"
    ahead = _GIT_AHEAD.search(text)
    if ahead:
        result.upstream = ahead["a"] or ahead["b"] or ahead["u"]
        result.ahead = _int(ahead["ahead"] or ahead["a2"]) or 0
        result.behind = _int(ahead["behind"] or ahead["b2"]) or 0
    section = ""
    for line in text.splitlines():
        if line.startswith("Changes to be committed"):
            section = "staged"
        elif line.startswith("Changes not staged"):
            section = "unstaged"
        elif line.startswith("Untracked files"):
            section = "untracked"
        elif line.startswith("Unmerged paths"):
            section = "conflicts"
        elif line and not line[0].isspace():
            section = ""
        elif section and line.startswith("\t"):
            match = _GIT_STATUS_FILE.match(line)
            if match is None:
                continue
            path, status = match["path"], match["status"] or "untracked"
            if section == "staged":
                result.staged.append(GitFile(path=path, status=status))
            elif section == "unstaged":
                result.unstaged.append(GitFile(path=path, status=status))
            elif section == "untracked":
                result.untracked.append(path)
            else:
                result.conflicts.append(path)
    result.clean = bool(re.search(r"^nothing to commit, working tree clean", text, re.M))


def _git_short_status(text: str, result: GitOutput) -> None:
    head = _GIT_SHORT_BRANCH.search(text)
    if head:
        result.branch, result.upstream = head["branch"], head["up"]
        result.ahead, result.behind = _int(head["ahead"]) or 0, _int(head["behind"]) or 0
    for match in _GIT_SHORT.finditer(text):
        if max(len(result.staged), len(result.unstaged), len(result.untracked)) >= MAX_ITEMS:
            result.truncated = True
            break
        x, y, path = match["x"], match["y"], match["path"]
        if x == "?":
            result.untracked.append(path)
        elif "U" in (x, y) or x == y == "A" or x == y == "D":
            result.conflicts.append(path)
        else:
            if x != " ":
                result.staged.append(GitFile(path=path, status=_SHORT_STATUS.get(x, x)))
            if y != " ":
                result.unstaged.append(GitFile(path=path, status=_SHORT_STATUS.get(y, y)))
    result.clean = not (result.staged or result.unstaged or result.untracked or result.conflicts)


def _git_stat(text: str, result: GitOutput) -> None:
    for match in _GIT_STAT_LINE.finditer(text):
        if len(result.files) >= MAX_ITEMS:
            result.truncated = True
            break
        changes, graph = _int(match["n"]), match["graph"] or ""
        exact = changes is not None and len(graph) == changes
        result.files.append(
            DiffStatFile(
                path=match["path"],
                changes=changes,
                insertions=graph.count("+") if exact else None,
                deletions=graph.count("-") if exact else None,
            )
        )
    summaries = list(_GIT_STAT_SUMMARY.finditer(text))
    if summaries:
        result.files_changed = sum(int(m["files"]) for m in summaries)
        result.insertions = sum(_int(m["ins"]) or 0 for m in summaries)
        result.deletions = sum(_int(m["dels"]) or 0 for m in summaries)


_REF_STATUS = {" ": "updated", "+": "forced", "-": "deleted", "*": "new", "!": "rejected"}


def _git_refs(text: str, result: GitOutput) -> None:
    remote = re.search(r"^(?:To|From) (\S+)", text, re.MULTILINE)
    result.remote = remote.group(1) if remote else None
    for match in _GIT_REF.finditer(text):
        status = _REF_STATUS.get(match["flag"], "up to date" if match["flag"] == "=" else "tag")
        ref = f"{match['src']} -> {match['dst']}"
        result.refs.append(
            RefUpdate(ref=ref, summary=match["summary"], status=status, reason=match["reason"])
        )
        if status == "rejected":
            result.rejected.append(match["dst"])


# -- package installs --------------------------------------------------------------------------

_PIP_INSTALLED = re.compile(r"^Successfully installed (?P<names>.+)$", re.MULTILINE)
_PIP_ALREADY = re.compile(r"^Requirement already satisfied: (?P<name>[^\s<>=!~;\[]+)", re.M)
_PIP_MISSING = re.compile(
    r"^ERROR: (?:Could not find a version that satisfies the requirement|No matching "
    r"distribution found for) (?P<name>[^\s<>=!~;\[(]+)",
    re.MULTILINE,
)
_PIP_ERROR = re.compile(r"^(?:ERROR|error): (?P<msg>.+)$", re.MULTILINE)
_PIP_WARNING = re.compile(r"^WARNING: (?P<msg>.+)$", re.MULTILINE)
_NPM_LINE = re.compile(r"^npm (?P<level>ERR!|error|warn|WARN)\s*(?P<msg>.*)$", re.MULTILINE)
_NPM_ADDED = re.compile(
    r"^(?:added (?P<added>\d+)|removed (?P<removed>\d+)|changed (?P<changed>\d+)|up to date)"
    r"[^\n]*?packages?\b|^up to date",
    re.MULTILINE,
)
_NPM_404 = re.compile(r"404 Not Found - GET \S+/(?P<name>(?:@[^/\s]+/)?[^/\s]+?)(?:/-/\S*)?$")
_NPM_404_RESOURCE = re.compile(r"'(?P<name>@?[^@'\s]+)@[^']*' (?:is not in|could not be found)")
_APT_SETUP = re.compile(r"^Setting up (?P<name>[^\s:]+)(?::\S+)? \((?P<version>[^)]+)\)", re.M)
_APT_INST = re.compile(r"^Inst (?P<name>\S+) (?:\[[^\]]*\] )?\((?P<version>\S+)", re.MULTILINE)
_APT_ERROR = re.compile(r"^E: (?P<msg>.+)$", re.MULTILINE)
_APT_MISSING = re.compile(r"^E: (?:Unable to locate package |Package '?)(?P<name>[^\s']+)", re.M)
_APT_WARNING = re.compile(r"^W: (?P<msg>.+)$", re.MULTILINE)
_PACKAGE_DETECT = re.compile(
    r"^(?:Successfully installed |Installing collected packages|Requirement already satisfied|"
    r"ERROR: (?:Could not find a version|No matching distribution)|npm (?:ERR!|error|warn) |"
    r"added \d+ packages?|up to date, audited|Setting up \S+ \(|E: Unable to locate package|"
    r"Reading package lists|Inst \S+ \(|Looking in (?:indexes|links): |Collecting \S)",
    re.MULTILINE,
)


def _package(text: str, hint: _Hint) -> PackageInstall | None:
    manager = hint.program if hint.program in ("pip", "npm", "apt") else None
    if manager is None:
        if re.search(r"^npm |^added \d+ packages?|^up to date, audited", text, re.M):
            manager = "npm"
        elif re.search(r"^(?:Setting up |Reading package lists|E: |Inst \S+ \()", text, re.M):
            manager = "apt"
        elif _PACKAGE_DETECT.search(text):
            manager = "pip"
        else:
            return None
    result = PackageInstall(manager=manager)
    if manager == "pip":
        for match in _PIP_INSTALLED.finditer(text):
            for word in match["names"].split():
                name, _, version = word.rpartition("-")
                result.installed.append(Package(name=name or word, version=version or None))
        result.already_installed = list(dict.fromkeys(_PIP_ALREADY.findall(text)))
        result.failed = list(dict.fromkeys(_PIP_MISSING.findall(text)))
        result.errors = [_cut(m["msg"]) for m in _PIP_ERROR.finditer(text)]
        result.warnings = [_cut(m["msg"]) for m in _PIP_WARNING.finditer(text)]
    elif manager == "npm":
        for match in _NPM_LINE.finditer(text):
            message = match["msg"].strip()
            if match["level"].lower() == "warn":
                result.warnings.append(_cut(message))
                continue
            if not message or message == "404" or message.startswith("A complete log"):
                continue
            result.errors.append(_cut(message))
            missing = _NPM_404.search(message) or _NPM_404_RESOURCE.search(message)
            if missing:
                result.failed.append(missing["name"].replace("%2f", "/").replace("%2F", "/"))
        result.failed = list(dict.fromkeys(result.failed))
        added = re.search(r"^added (\d+) packages?", text, re.MULTILINE)
        result.added = _int(added.group(1)) if added else None
        if result.added and not result.errors:
            words = [a for a in hint.args[1:] if not a.startswith("-")]
            result.installed = [Package(name=_npm_name(w)) for w in words]
    else:
        setups = [Package(name=m["name"], version=m["version"]) for m in _APT_SETUP.finditer(text)]
        simulated = [
            Package(name=m["name"], version=m["version"]) for m in _APT_INST.finditer(text)
        ]
        result.simulated = bool(simulated) and not setups
        result.installed = setups or simulated
        result.failed = list(dict.fromkeys(_APT_MISSING.findall(text)))
        result.errors = [_cut(m["msg"]) for m in _APT_ERROR.finditer(text)]
        result.warnings = [_cut(m["msg"]) for m in _APT_WARNING.finditer(text)]
    if result.errors or result.failed:
        result.status = "failed"
    for name in ("installed", "already_installed", "failed", "errors", "warnings"):
        items, cut = _capped(getattr(result, name))
        setattr(result, name, items)
        result.truncated = result.truncated or cut
    return result


def _npm_name(word: str) -> str:
    """`lodash@4` -> lodash, `@types/node@20` -> @types/node, a path stays a path."""
    at = word.rfind("@")
    return word[:at] if at > 0 else word


# -- listings ----------------------------------------------------------------------------------

_PS_HEADER = re.compile(r"^\s*(?:(?:USER|UID)\s+)?PID\s+.*(?:COMMAND|CMD)\s*$", re.MULTILINE)
_PS_COLUMNS = {
    "USER": "user",
    "UID": "user",
    "PID": "pid",
    "PPID": "ppid",
    "%CPU": "cpu",
    "%MEM": "mem",
    "RSS": "rss",
    "STAT": "stat",
    "TTY": "tty",
    "START": "start",
    "STIME": "start",
    "TIME": "time",
}


def _ps(text: str, hint: _Hint) -> ProcessList | None:
    header = _PS_HEADER.search(text)
    if header is None:
        return None
    columns = header.group().split()
    kind = "aux" if "%CPU" in columns else "ef" if "PPID" in columns else "ps"
    result = ProcessList(format=kind)
    for line in text[header.end() :].splitlines():
        words = line.split(None, len(columns) - 1)
        if len(words) < len(columns) or not words[columns.index("PID")].isdigit():
            continue
        values: dict[str, Any] = {"command": words[-1]}
        for name, word in zip(columns[:-1], words, strict=False):
            key = _PS_COLUMNS.get(name)
            if key in ("pid", "ppid", "rss"):
                values[key] = _int(word)
            elif key in ("cpu", "mem"):
                values[key] = _float(word)
            elif key is not None:
                values[key] = word
        result.count += 1
        if len(result.processes) < MAX_ITEMS:
            result.processes.append(Process(**values))
        else:
            result.truncated = True
    return result if result.count else None


_LS_ENTRY = re.compile(
    r"^(?P<mode>[-dlcbpsD][rwxsStTl-]{9})[.+@]?\s+(?P<links>\d+)\s+(?P<owner>\S+)\s+"
    r"(?:(?P<group>\S+)\s+)?(?P<size>\d+,\s*\d+|\d+(?:\.\d+)?[KMGTPE]?)\s+"
    r"(?P<date>[A-Z][a-z]{2}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4})|\d{1,2}\s+[A-Za-z]{3}\s+"
    r"(?:\d{1,2}:\d{2}|\d{4})|\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?: [+-]\d{4})?)?)"
    r" (?P<name>.+)$",
    re.MULTILINE,
)
_LS_TYPES = {"-": "file", "d": "directory", "l": "link", "c": "char", "b": "block", "p": "pipe"}
_LS_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}


def _ls(text: str, hint: _Hint) -> FileSystemOutput | None:
    result = FileSystemOutput()
    directory: str | None = None
    for line in text.splitlines():
        match = _LS_ENTRY.match(line)
        if match is None:
            if line.endswith(":") and not line.startswith("total "):
                directory = line[:-1]
                result.directories.append(directory)
            continue
        name, target = match["name"], None
        mode = match["mode"]
        if mode[0] == "l" and " -> " in name:
            name, target = name.split(" -> ", 1)
        if name in (".", ".."):
            continue
        entry = FileEntry(
            name=name,
            mode=mode,
            type=_LS_TYPES.get(mode[0], "socket" if mode[0] == "s" else "file"),
            size=_size(match["size"]),
            owner=match["owner"],
            group=match["group"],
            links=_int(match["links"]),
            modified=re.sub(r"\s+", " ", match["date"]),
            target=target,
            directory=directory,
        )
        result.count += 1
        if entry.type == "file" and entry.size:
            result.total_bytes += entry.size
        if len(result.entries) < MAX_ITEMS:
            result.entries.append(entry)
        else:
            result.truncated = True
    if result.count == 0 and hint.program == "ls" and text.strip():
        names = [n for line in text.splitlines() for n in re.split(r"\s{2,}|\t", line.strip()) if n]
        result.entries, result.truncated = _capped([FileEntry(name=n, type="file") for n in names])
        result.count = len(names)
    result.directories, cut = _capped(result.directories)
    result.truncated = result.truncated or cut
    return result if result.count else None


def _size(text: str) -> int | None:
    if "," in text:
        return None  # a device's major, minor
    if text[-1:] in _LS_UNITS:
        number = _float(text[:-1])
        return int(number * _LS_UNITS[text[-1]]) if number is not None else None
    return _int(text)


_DF_HEADER = re.compile(r"^Filesystem\s+(?:Size|\S*blocks|Inodes)\s+.*Mounted on\s*$", re.M)


def _df(text: str, hint: _Hint) -> DiskUsage | None:
    header = _DF_HEADER.search(text)
    if header is None:
        return None
    result = DiskUsage()
    pending = ""
    for line in text[header.end() :].splitlines():
        words = (pending + " " + line).split() if pending else line.split()
        if len(words) == 1:
            pending = words[0]  # a long name wraps onto the next line
            continue
        pending = ""
        if len(words) < 6 or not words[4].endswith("%"):
            continue
        used = _int(words[4].rstrip("%"))
        mount = " ".join(words[5:])
        result.filesystems.append(
            Filesystem(
                filesystem=words[0],
                size=words[1],
                used=words[2],
                available=words[3],
                use_percent=used,
                mounted_on=mount,
            )
        )
        if used is not None and used >= 90:
            result.nearly_full.append(mount)
    result.filesystems, result.truncated = _capped(result.filesystems)
    return result if result.filesystems else None


# -- tracebacks and logs -----------------------------------------------------------------------

_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):$", re.MULTILINE)
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_PY_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: ?(?P<msg>.*))?$")


def _traceback(text: str, hint: _Hint) -> PythonTraceback | None:
    starts = list(_TRACEBACK.finditer(text))
    if not starts:
        return None
    parsed = [
        _one_traceback(text[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(text)])
        for i, m in enumerate(starts)
    ]
    last = parsed[-1]
    last.chain = [
        ChainedException(exception_type=p.exception_type, message=p.message) for p in parsed[:-1]
    ]
    last.frames, last.truncated = _capped(last.frames)
    return last


def _one_traceback(block: str) -> PythonTraceback:
    result = PythonTraceback()
    lines = block.splitlines()
    at = 0
    while at < len(lines):
        line = lines[at]
        frame = _PY_FRAME.match(line)
        if frame is not None:
            code = lines[at + 1].strip() if at + 1 < len(lines) else ""
            is_code = code and not _PY_FRAME.match(lines[at + 1]) and lines[at + 1][:1] == " "
            result.frames.append(
                Frame(
                    file=frame["file"],
                    line=_int(frame["line"]),
                    function=frame["func"] or "",
                    code=_cut(code) if is_code else None,
                )
            )
        elif line and not line[0].isspace() and result.frames:
            exception = _PY_EXCEPTION.match(line)
            if exception is not None:
                result.exception_type = exception["type"]
                result.message = _cut(exception["msg"] or "")
                break
        at += 1
    return result


_LEVELS = {
    "trace": "trace",
    "debug": "debug",
    "dbg": "debug",
    "info": "info",
    "notice": "notice",
    "warn": "warning",
    "warning": "warning",
    "err": "error",
    "error": "error",
    "crit": "critical",
    "critical": "critical",
    "fatal": "fatal",
    "panic": "fatal",
    "alert": "critical",
    "emerg": "fatal",
}
_ERROR_LEVELS = {"error", "critical", "fatal"}
_LEVEL_WORDS = "|".join(sorted(_LEVELS, key=len, reverse=True))
_LEVEL_LINE = re.compile(
    r"^(?:\S*\d\S*\s+(?:\d[\d:.,]*\S*\s+)?)?\[?(?P<level>(?i:" + _LEVEL_WORDS + r"))\]?[:\s]\s*"
    r"(?P<msg>.*)$",
    re.MULTILINE,
)
_LOGFMT_LEVEL = re.compile(r'(?:^|\s)(?:level|lvl|severity)="?(?P<level>\w+)"?(?:\s|$)')
_LOGFMT_MSG = re.compile(r'(?:^|\s)(?:msg|message)=(?:"(?P<q>(?:[^"\\]|\\.)*)"|(?P<w>\S+))')
_JSON_LEVEL_KEYS = ("level", "lvl", "severity", "levelname", "log.level", "loglevel")
_JSON_MESSAGE_KEYS = ("msg", "message", "event", "text")
_SAMPLE_LINES = 200  # lines looked at to decide whether text is a log


def _structured_log(text: str, hint: _Hint) -> StructuredLog | None:
    sample = [line for line in text[:_SAMPLE].splitlines()[:_SAMPLE_LINES] if line.strip()]
    if len(sample) < 2:
        return None
    enough = max(2, len(sample) // 2)
    if sum(line.lstrip().startswith("{") for line in sample) >= enough:
        result = _log_entries(text, _json_entry, "json")
    elif sum(bool(_LOGFMT_LEVEL.search(line)) for line in sample) >= enough:
        result = _log_entries(text, _logfmt_entry, "logfmt")
    elif sum(bool(_LEVEL_LINE.match(line)) for line in sample) >= enough:
        result = _log_entries(text, _level_entry, "level")
    else:
        return None
    return result if result.entries >= 2 else None


def _log_entries(
    text: str, entry: Callable[[str], tuple[str, str] | None], format: str
) -> StructuredLog:
    result = StructuredLog(format=format)
    for line in text.splitlines():
        found = entry(line)
        if found is None:
            continue
        level, message = found
        result.entries += 1
        result.counts[level] = result.counts.get(level, 0) + 1
        kept = result.errors if level in _ERROR_LEVELS else result.warnings
        if level in _ERROR_LEVELS or level == "warning":
            if len(kept) < MAX_ITEMS:
                kept.append(_cut(message))
            else:
                result.truncated = True
    return result


def _json_entry(line: str) -> tuple[str, str] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    level = next((record[k] for k in _JSON_LEVEL_KEYS if k in record), "")
    if isinstance(level, int):  # pino/bunyan numbers: 10 trace ... 60 fatal
        level = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}.get(
            level, str(level)
        )
    message = next((record[k] for k in _JSON_MESSAGE_KEYS if k in record), line)
    return _LEVELS.get(str(level).lower(), str(level).lower() or "none"), str(message)


def _logfmt_entry(line: str) -> tuple[str, str] | None:
    level = _LOGFMT_LEVEL.search(line)
    if level is None:
        return None
    message = _LOGFMT_MSG.search(line)
    text = (message["q"] if message["q"] is not None else message["w"]) if message else line
    return _LEVELS.get(level["level"].lower(), level["level"].lower()), text


def _level_entry(line: str) -> tuple[str, str] | None:
    match = _LEVEL_LINE.match(line)
    if match is None:
        return None
    return _LEVELS[match["level"].lower()], _TIMESTAMP.sub("", match["msg"], count=1)


_TIMESTAMP = re.compile(r"^\[?\d{4}-\d\d-\d\d[ T][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\]?\s+")


# -- which parser, by command and by text ------------------------------------------------------


_HINTED: dict[str, _Parse] = {
    "pytest": _pytest,
    "unittest": _unittest,
    "jest": _jest,
    "vitest": _vitest,
    "npm-test": _any_test,
    "go-test": _go_test,
    "cargo-test": _cargo_test,
    "go-build": _build,
    "cargo-build": _build,
    "rustc": _build,
    "gcc": _build,
    "clang": _build,
    "tsc": _build,
    "make": lambda text, hint: _any_test(text, hint) or _build(text, hint),  # `make test`
    "git": _git,
    "pip": _package,
    "npm": _package,
    "apt": _package,
    "ps": _ps,
    "ls": _ls,
    "df": _df,
}

_Detect = Callable[[str], bool]


def _signature(pattern: str | re.Pattern[str], *needles: str) -> _Detect:
    """A detector: one of the needles is in the sample (`in` is cheap), then the pattern
    matches there."""
    compiled = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
    return lambda sample: any(n in sample for n in needles) and bool(compiled.search(sample))


_ONELINE_FIRST = re.compile(r"\n[0-9a-f]{7,12} \S")  # `git log --oneline`, its first line

# Signatures in the order they win: a test run holds tracebacks and compiler lines, a git pull
# holds a diff stat, so the more specific comes first.
_DETECTORS: list[tuple[_Detect, _Parse]] = [
    (_signature(r"^test result: (?:ok|FAILED)\. \d+ passed", "test result: "), _cargo_test),
    (_signature(_PYTEST_SUMMARY, "passed", "failed", "skipped", "error", "no tests ran"), _pytest),
    (
        _signature(
            r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$",
            *("= FAILURES =", "= ERRORS =", "short test summary info"),
        ),
        _pytest,
    ),
    (_signature(_UNITTEST_RAN, "\nRan "), _unittest),
    (_signature(_JEST_TESTS, "Tests:"), _jest),
    (_signature(r"^\s*Test Files\s+\d+", "Test Files"), _vitest),
    (
        _signature(
            r"^\s*--- (?:PASS|FAIL|SKIP): |^(?:ok|FAIL)\s+\S+\s+[\d.]+s$",
            "--- ",
            "\nok ",
            "\nFAIL\t",
        ),
        _go_test,
    ),
    (
        _signature(
            r"^[^\s:][^:\n]*:\d+:(?:\d+:)? (?:fatal error|error|warning): |^(?:error|warning)"
            r"(?:\[E\d+\])?: .*\n\s*--> |error TS\d+: |^g?make(?:\[\d+\])?: \*\*\* "
            r"|^\s+Finished [`']?\w+|^\s+Compiling \S+ v\d|undefined reference to "
            r"|^Successfully built \S+\.(?:whl|tar\.gz)",
            *("error", "warning", "***", "Finished", "Compiling", "Successfully built"),
        ),
        _build,
    ),
    (
        _signature(
            _GIT_DETECT,
            *("On branch", "HEAD detached", "\n## ", "commit ", "CONFLICT (", "\nTo ", "\nFrom "),
            *("Already up", "Automatic merge", "Fast-forward", "Updating ", " changed"),
        ),
        _git,
    ),
    (lambda sample: bool(_ONELINE_FIRST.match(sample)), _git),
    (
        _signature(
            _PACKAGE_DETECT,
            *("Successfully installed", "Installing collected", "Requirement already"),
            *("ERROR: ", "npm ", "added ", "up to date", "Setting up", "E: ", "Inst "),
            *("Reading package lists", "Looking in", "Collecting "),
        ),
        _package,
    ),
    (_signature(_PS_HEADER, "PID"), _ps),
    (_signature(_DF_HEADER, "Filesystem"), _df),
    (
        _signature(
            r"^[-dlcbps][rwxsStT-]{9}[.+@]?\s+\d+ ",
            *("-rw", "drw", "lrw", "-r-", "dr-", "crw", "brw", "srw", "prw", "---"),
        ),
        _ls,
    ),
    (_signature(_TRACEBACK, "Traceback (most recent call last)"), _traceback),
    (lambda sample: True, _structured_log),  # it samples lines itself
]
