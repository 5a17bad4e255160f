"""`engine.output.OutputParser` on real outputs of real tools (tests/fixtures/logs/parser, see its
README for the few written from documented formats), as a reader of a command record would use
them: what failed, where, and what was installed or changed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.output import (
    MAX_CHARS,
    MAX_ITEMS,
    VARIANTS,
    BuildOutput,
    DiskUsage,
    FileSystemOutput,
    GitOutput,
    OutputParser,
    PackageInstall,
    ParsedOutput,
    PlainText,
    ProcessList,
    PythonTraceback,
    StructuredLog,
    TestResults,
)

FIXTURES = Path(__file__).parent / "fixtures" / "logs" / "parser"
REPO = Path(__file__).resolve().parents[1]
parser = OutputParser()


def parse(name: str, command: str | None = None) -> Any:
    """The fixture's parse, checked to be JSON-ready with its kind first."""
    result = parser.parse((FIXTURES / name).read_text(), command)
    data = result.to_dict()
    assert next(iter(data)) == "kind" and data["kind"] == result.kind
    assert json.loads(json.dumps(data)) == data
    return result


# -- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "duration"),
    [("pytest_failures.log", 0.62), ("pytest_q.log", 0.52), ("pytest_color.log", 0.71)],
)
def test_pytest_counts_and_failures_with_their_assertions(name: str, duration: float) -> None:
    result = parse(name)
    assert isinstance(result, TestResults)
    assert (result.framework, result.status) == ("pytest", "failed")
    assert (result.passed, result.failed, result.skipped, result.errors) == (2, 2, 1, 0)
    assert result.total == 5 and result.duration == duration  # the summary line's "in 0.62s"
    failures = {f.name: f for f in result.failures}
    assert set(failures) == {"test_calc.py::test_add_negative", "test_calc.py::test_divide"}
    negative = failures["test_calc.py::test_add_negative"]
    assert (negative.message, negative.file, negative.line) == (
        "assert -2 == -3",
        "test_calc.py",
        10,
    )
    assert failures["test_calc.py::test_divide"].message == "ZeroDivisionError: division by zero"


def test_pytest_collection_error_names_the_module_and_the_import() -> None:
    result = parse("pytest_collection_error.log")
    assert isinstance(result, TestResults) and (result.errors, result.status) == (1, "failed")
    [failure] = result.failures
    assert (failure.name, failure.file, failure.line) == ("test_broken.py", "test_broken.py", 1)
    assert failure.message == "ModuleNotFoundError: No module named 'not_a_module_xyz'"


def test_make_test_gives_the_test_results_not_only_makes_error() -> None:
    result = parse("pytest_via_make_test.log", "make test")
    assert isinstance(result, TestResults) and (result.failed, result.passed) == (2, 2)


def test_unittest_counts_failures_and_errors_apart() -> None:
    result = parse("unittest_failures.log", "python -m unittest -v test_ut")
    assert isinstance(result, TestResults) and result.framework == "unittest"
    assert (result.passed, result.failed, result.errors, result.skipped, result.total) == (
        1,
        1,
        1,
        1,
        4,
    )
    messages = {f.name: f.message for f in result.failures}
    assert messages == {
        "test_ut.TestMath.test_error": "ValueError: boom",
        "test_ut.TestMath.test_fail": "AssertionError: 4 != 5",
    }
    assert {f.line for f in result.failures} == {8, 11}


def test_cargo_test_failure_names_the_panic() -> None:
    result = parse("cargo_test_failure.log", "cargo test --offline")
    assert isinstance(result, TestResults) and result.framework == "cargo"
    assert (result.passed, result.failed, result.skipped) == (1, 1, 1)
    [failure] = result.failures
    assert failure.name == "tests::adds_wrong"
    assert (failure.file, failure.line) == ("src/lib.rs", 16)
    assert failure.message is not None and "left == right" in failure.message


def test_go_test_counts_leaf_tests_and_keeps_their_log_lines() -> None:
    result = parse("go_test_failure.log")
    assert isinstance(result, TestResults) and result.framework == "go"
    assert (result.passed, result.failed, result.skipped) == (2, 2, 1)
    failures = {f.name: f for f in result.failures}
    assert set(failures) == {"TestDivide", "TestParse/spaces"}
    assert failures["TestDivide"].message == "Divide(1, 0) = 0, want error"
    assert (failures["TestDivide"].file, failures["TestDivide"].line) == ("calc_test.go", 21)


def test_jest_and_vitest_summaries() -> None:
    jest = parse("jest_failure.log")
    assert isinstance(jest, TestResults) and jest.framework == "jest"
    assert (jest.passed, jest.failed, jest.skipped, jest.total, jest.duration) == (
        5,
        2,
        1,
        8,
        1.234,
    )
    assert [f.name for f in jest.failures] == ["calc › divides by zero", "calc › parses numbers"]
    assert (jest.failures[0].file, jest.failures[0].line) == ("src/calc.test.js", 11)
    vitest = parse("vitest_failure.log", "npx vitest run")
    assert isinstance(vitest, TestResults) and vitest.framework == "vitest"
    assert (vitest.passed, vitest.failed, vitest.total, vitest.duration) == (4, 1, 5, 0.312)
    [failure] = vitest.failures
    assert failure.name == "src/calc.test.ts > calc > divides by zero"
    assert failure.message is not None and failure.message.startswith("AssertionError")


# -- builds ------------------------------------------------------------------------------------


def test_gcc_errors_and_warnings_with_file_line_column() -> None:
    result = parse("gcc_error.log", "gcc -Wall -o prog prog.c")
    assert isinstance(result, BuildOutput)
    assert (result.tool, result.status, result.error_count, result.warning_count) == (
        "gcc",
        "failed",
        1,
        2,
    )
    [error] = result.errors
    assert (error.file, error.line, error.column) == ("prog.c", 6, 12)
    assert "undeclared" in error.message
    assert {w.code for w in result.warnings} == {"-Wformat=", "-Wunused-variable"}
    assert result.artifacts == []  # it failed: no prog


def test_a_successful_compile_names_its_output() -> None:
    result = parse("gcc_warning.log", "gcc -Wall -o a.out ok.c")
    assert isinstance(result, BuildOutput)
    assert (result.status, result.warning_count, result.artifacts) == ("success", 1, ["a.out"])
    clean = parser.parse("", "cc -c main.c")
    assert isinstance(clean, BuildOutput) and clean.artifacts == ["main.o"]


def test_a_link_error_names_the_missing_symbol_once() -> None:
    result = parse("gcc_link_error.log", "gcc -o link link.c")
    assert isinstance(result, BuildOutput) and result.status == "failed"
    assert [(e.message, e.file, e.tool) for e in result.errors] == [
        ("undefined reference to `helper'", "link.c", "ld")
    ]


def test_built_packages_are_artifacts() -> None:
    built = parser.parse("Successfully built pkg-0.1.tar.gz and pkg-0.1-py3-none-any.whl\n")
    assert isinstance(built, BuildOutput) and built.status == "success"
    assert built.artifacts == ["pkg-0.1.tar.gz", "pkg-0.1-py3-none-any.whl"]


def test_make_reports_the_failed_target_and_the_compiler_errors() -> None:
    result = parse("make_error.log")
    assert isinstance(result, BuildOutput) and (result.tool, result.status) == ("make", "failed")
    make = [e for e in result.errors if e.tool == "make"]
    assert [(e.file, e.line, e.message) for e in make] == [("Makefile", 4, "Error 1 making prog")]
    assert any(e.tool == "gcc" and e.line == 6 for e in result.errors)


def test_rustc_and_cargo_build() -> None:
    failed = parse("cargo_build_error.log")
    assert isinstance(failed, BuildOutput) and (failed.tool, failed.status) == ("cargo", "failed")
    assert [(e.code, e.file, e.line) for e in failed.errors] == [
        ("E0425", "src/lib.rs", 3),
        ("E0308", "src/lib.rs", 7),
    ]
    built = parse("cargo_build_ok.log", "cargo build --release --offline")
    assert isinstance(built, BuildOutput) and built.status == "success"
    assert built.artifacts == ["calc v0.1.0 (release)"]
    assert [(w.message, w.line) for w in built.warnings] == [("unused variable: `unused`", 2)]
    rustc = parse("rustc_error.log")
    assert isinstance(rustc, BuildOutput) and rustc.status == "failed"
    assert [(e.code, e.file, e.line, e.column) for e in rustc.errors] == [("E0308", "r.rs", 2, 18)]


@pytest.mark.parametrize("name", ["tsc_error.log", "tsc_pretty_error.log"])
def test_tsc_both_formats(name: str) -> None:
    result = parse(name)
    assert isinstance(result, BuildOutput) and (result.tool, result.status) == ("tsc", "failed")
    assert [(e.file, e.line, e.column, e.code) for e in result.errors] == [
        ("src/index.ts", 3, 7, "TS2322"),
        ("src/util.ts", 12, 19, "TS2339"),
    ]


# -- git ---------------------------------------------------------------------------------------


def test_git_log_stat_commits_newest_first() -> None:
    result = parse("git_log_stat.log", "git log --stat")
    assert isinstance(result, GitOutput) and result.operation == "log"
    assert [c.subject for c in result.commits] == [
        "Replace b.py with c.md",
        "Change a and extend b",
        "Initial commit",
    ]
    newest = result.commits[0]
    assert newest.hash.startswith("25d29b2") and len(newest.hash) == 40
    assert (newest.author, newest.email) == ("Ada Lovelace", "ada@example.com")
    assert newest.date == "Thu Dec 3 09:15:00 2026 +0000"
    assert (newest.files_changed, newest.insertions, newest.deletions) == (2, 1, 3)
    assert result.commits[1].author == "Grace Hopper"


def test_git_log_oneline_without_a_command() -> None:
    result = parse("git_log_oneline.log")
    assert isinstance(result, GitOutput) and result.operation == "log"
    assert [c.hash for c in result.commits] == ["25d29b2", "fc8e7d2", "60e8b50"]


@pytest.mark.parametrize("name", ["git_status.log", "git_status_short.log"])
def test_git_status_staged_unstaged_untracked(name: str) -> None:
    result = parse(name)
    assert isinstance(result, GitOutput) and (result.operation, result.branch) == ("status", "main")
    assert [(f.path, f.status) for f in result.staged] == [
        ("c.md", "modified"),
        ("d.txt", "new file"),
    ]
    assert [(f.path, f.status) for f in result.unstaged] == [
        ("a.txt", "modified"),
        ("c.md", "modified"),
    ]
    assert result.untracked == ["untracked.txt"] and not result.clean


def test_git_diff_stat() -> None:
    result = parse("git_diff_stat.log", "git diff --stat")
    assert isinstance(result, GitOutput) and result.operation == "diff_stat"
    assert [(f.path, f.changes, f.insertions) for f in result.files] == [
        ("a.txt", 1, 1),
        ("c.md", 1, 1),
    ]
    assert (result.files_changed, result.insertions, result.deletions) == (2, 2, 0)


def test_git_merge_conflict_and_the_status_after_it() -> None:
    merge = parse("git_merge_conflict.log", "git merge feature")
    assert isinstance(merge, GitOutput) and merge.operation == "merge"
    assert merge.conflicts == ["a.txt"]
    status = parse("git_status_conflict.log")
    assert isinstance(status, GitOutput) and status.conflicts == ["a.txt"]


def test_git_push_pull_and_a_rejected_push() -> None:
    push = parse("git_push.log")
    assert isinstance(push, GitOutput) and push.operation == "push"
    assert push.remote == "/tmp/pfx/remote.git" and push.rejected == []
    assert [(r.ref, r.status) for r in push.refs] == [("main -> main", "updated")]
    rejected = parse("git_push_rejected.log")
    assert isinstance(rejected, GitOutput) and rejected.operation == "push"
    assert rejected.rejected == ["main"] and rejected.refs[0].reason == "fetch first"
    assert rejected.errors == ["failed to push some refs to '/tmp/pfx/remote.git'"]
    pull = parse("git_pull.log", "git pull")
    assert isinstance(pull, GitOutput) and pull.operation == "pull" and pull.fast_forward
    assert [f.path for f in pull.files] == ["e2.txt"] and pull.insertions == 1


# -- package installs --------------------------------------------------------------------------


def test_pip_installed_and_missing() -> None:
    ok = parse("pip_install_ok.log", "pip install --no-index dist/tinypkg-0.1.0-py3-none-any.whl")
    assert isinstance(ok, PackageInstall) and (ok.manager, ok.status) == ("pip", "success")
    assert [(p.name, p.version) for p in ok.installed] == [("tinypkg", "0.1.0")]
    missing = parse("pip_install_missing.log")
    assert isinstance(missing, PackageInstall) and missing.status == "failed"
    assert missing.failed == ["nonexistent-pkg-xyz"]
    assert missing.already_installed == ["tinypkg"]
    wheel = parse("pip_wheel.log")
    assert isinstance(wheel, PackageInstall) and wheel.status == "failed"
    assert "metadata-generation-failed" in wheel.errors


def test_npm_404_and_added() -> None:
    missing = parse("npm_install_404.log", "npm install ai-session-no-such-package-zz9")
    assert isinstance(missing, PackageInstall) and (missing.manager, missing.status) == (
        "npm",
        "failed",
    )
    assert missing.failed == ["ai-session-no-such-package-zz9"]
    assert "code E404" in missing.errors
    ok = parse("npm_install_ok.log", "npm install ../tinynpm")
    assert isinstance(ok, PackageInstall) and (ok.status, ok.added) == ("success", 1)
    assert [p.name for p in ok.installed] == ["../tinynpm"]


def test_apt_setting_up_missing_and_simulated() -> None:
    ok = parse("apt_install_ok.log")
    assert isinstance(ok, PackageInstall) and ok.manager == "apt" and not ok.simulated
    assert [(p.name, p.version) for p in ok.installed] == [
        ("libtext-charwidth-perl", "0.04-11"),
        ("cowsay", "3.03+dfsg2-8"),
    ]
    simulated = parse("apt_install_simulate.log", "apt-get install -s cowsay")
    assert isinstance(simulated, PackageInstall) and simulated.simulated
    assert [p.name for p in simulated.installed] == ["libtext-charwidth-perl", "cowsay"]
    missing = parse("apt_install_missing.log")
    assert isinstance(missing, PackageInstall) and missing.status == "failed"
    assert missing.errors == ["Unable to locate package ai-session-no-such-pkg"]
    assert missing.failed == ["ai-session-no-such-pkg"]


# -- listings, tracebacks, logs ----------------------------------------------------------------


def test_ps_aux_and_ps_ef() -> None:
    aux = parse("ps_aux.log")
    assert isinstance(aux, ProcessList) and (aux.format, aux.count) == ("aux", 4)
    sleep = next(p for p in aux.processes if p.command == "sleep 300")
    assert (sleep.user, sleep.stat, sleep.rss) == ("root", "S", 1788)
    assert any(p.command == "bash -c sleep 301; true" for p in aux.processes)
    ef = parse("ps_ef.log", "ps -ef")
    assert isinstance(ef, ProcessList) and ef.format == "ef"
    assert {p.ppid for p in ef.processes if p.command.startswith("sleep")} == {5432}


def test_plain_ps() -> None:
    text = "    PID TTY          TIME CMD\n   2163 pts/0    00:00:00 bash\n   2200 pts/0    00:00:00 ps\n"
    result = parser.parse(text)
    assert isinstance(result, ProcessList) and (result.format, result.count) == ("ps", 2)
    assert [(p.pid, p.command, p.tty) for p in result.processes] == [
        (2163, "bash", "pts/0"),
        (2200, "ps", "pts/0"),
    ]


def test_ls_la_recursive_entries() -> None:
    result = parse("ls_laR.log")
    assert isinstance(result, FileSystemOutput)
    assert result.directories == ["lsdir", "lsdir/sub"]
    entries = {e.name: e for e in result.entries}
    assert set(entries) == {"a.txt", "link", "run.sh", "sub", "big.bin", "with space.txt"}
    assert (entries["big.bin"].size, entries["big.bin"].directory) == (5000, "lsdir/sub")
    assert (entries["link"].type, entries["link"].target) == ("link", "a.txt")
    assert (entries["sub"].type, entries["run.sh"].mode) == ("directory", "-rwxr-xr-x")
    assert result.total_bytes == 6 + 10 + 5000 + 0


def test_ls_l_and_plain_ls_with_its_command() -> None:
    result = parse("ls_l.log", "ls -l /usr/bin")
    assert isinstance(result, FileSystemOutput) and result.count == 24
    names = parser.parse("a.txt  b.txt\nc d.txt\n", "ls")
    assert isinstance(names, FileSystemOutput) and names.count == 3


def test_df_h() -> None:
    result = parse("df_h.log", "df -h")
    assert isinstance(result, DiskUsage)
    root = next(f for f in result.filesystems if f.mounted_on == "/")
    assert (root.filesystem, root.size, root.use_percent) == ("/dev/vda", "252G", 22)
    assert result.nearly_full == []
    full = parser.parse(
        "Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 10G 9.5G 0.5G 95% /data\n"
    )
    assert isinstance(full, DiskUsage) and full.nearly_full == ["/data"]


def test_python_traceback_frames_and_chain() -> None:
    result = parse("python_traceback.log", "python3 tb.py")
    assert isinstance(result, PythonTraceback)
    assert result.exception_type == "json.decoder.JSONDecodeError"
    assert result.message.startswith("Expecting property name")
    assert [(f.file, f.line, f.function) for f in result.frames[:3]] == [
        ("/tmp/pfx/tb.py", 11, "<module>"),
        ("/tmp/pfx/tb.py", 5, "load"),
        ("/tmp/pfx/tb.py", 8, "parse"),
    ]
    assert result.frames[2].code == "return json.loads(text)"
    chained = parse("python_traceback_chained.log")
    assert isinstance(chained, PythonTraceback)
    assert (chained.exception_type, chained.message) == ("RuntimeError", "lookup failed")
    assert [(c.exception_type, c.message) for c in chained.chain] == [("KeyError", "'missing'")]


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("log_json_lines.log", "json"),
        ("log_level_prefixed.log", "level"),
        ("log_logfmt.log", "logfmt"),
    ],
)
def test_structured_logs_count_levels_and_keep_errors(name: str, format: str) -> None:
    result = parse(name)
    assert isinstance(result, StructuredLog) and result.format == format
    if format == "logfmt":
        assert result.counts == {"info": 2, "debug": 1, "warning": 1, "error": 1}
        assert result.errors == ["upstream timeout"]
        return
    assert result.counts == {"debug": 1, "info": 3, "warning": 1, "error": 1, "critical": 1}
    assert result.entries == 7
    assert [e.split("worker: ")[-1] for e in result.errors] == [
        "job 18 failed: connection refused (db:5432)",
        "giving up after 3 retries",
    ]


# -- the parser's own promises -----------------------------------------------------------------


def test_every_fixture_is_recognised_as_what_it_is() -> None:
    kinds = {path.name: parse(path.name).kind for path in FIXTURES.glob("*.log")}
    expected_prefix = {
        "pytest": "test",
        "unittest": "test",
        "cargo_test": "test",
        "go_test": "test",
        "jest": "test",
        "vitest": "test",
        "gcc": "build",
        "make": "build",
        "rustc": "build",
        "cargo_build": "build",
        "tsc": "build",
        "git": "git",
        "pip": "package",
        "npm": "package",
        "apt": "package",
        "ps": "process_list",
        "ls": "file_list",
        "df": "disk_usage",
        "python_traceback": "traceback",
        "log": "structured_log",
    }
    for name, kind in kinds.items():
        prefix = max((p for p in expected_prefix if name.startswith(p)), key=len)
        assert kind == expected_prefix[prefix], name
    assert set(kinds.values()) == set(VARIANTS) - {"plain"}


def test_the_command_picks_the_parser_before_the_text() -> None:
    text = (FIXTURES / "pytest_q.log").read_text()
    assert parser.parse(text, "cd tests && FOO=1 python -m pytest -q").kind == "test"
    built = parser.parse("", "make -j4")
    assert isinstance(built, BuildOutput) and built.status == "success"
    # a hint whose parser finds nothing falls back to the text's own signatures
    assert parser.parse(text, "git status").kind == "test"
    assert parser.parse(text, "echo 'unbalanced").kind == "test"
    status = parser.parse(
        "On branch main\nnothing to commit, working tree clean\n", "git -C x status"
    )
    assert isinstance(status, GitOutput) and status.clean and status.branch == "main"
    assert parser.parse("3 crates in 1.2s\n").kind == "plain"  # not a pytest summary


def test_plain_text_keeps_the_lines_that_say_error() -> None:
    result = parser.parse("starting\nconnecting to db\nError: connection refused\ndone\n")
    assert isinstance(result, PlainText)
    assert (result.lines, result.error_lines) == (4, ["Error: connection refused"])


def test_escapes_and_progress_bars_are_resolved_first() -> None:
    raw = "\x1b[32mcollecting\x1b[0m 10%\r100%\n" + (FIXTURES / "pytest_q.log").read_text()
    result = parser.parse(raw.replace("\n", "\r\n"))
    assert isinstance(result, TestResults) and result.failed == 2


def test_huge_input_is_cut_to_head_and_tail_and_says_so() -> None:
    listing = (FIXTURES / "ls_laR.log").read_text()
    summary = (FIXTURES / "pytest_q.log").read_text()
    text = "x" * (MAX_CHARS + 10) + "\n" + summary
    result = parser.parse(text)
    assert isinstance(result, TestResults) and result.truncated and result.failed == 2
    many = parser.parse(listing * (MAX_ITEMS // 4))
    assert isinstance(many, FileSystemOutput) and many.truncated
    assert len(many.entries) == MAX_ITEMS and many.count == 6 * (MAX_ITEMS // 4)


def test_odd_input_gives_plain_text_not_an_exception() -> None:
    assert parser.parse("").kind == "plain"
    assert parser.parse(b"pytest \xff bytes").kind == "plain"  # type: ignore[arg-type]
    none = parser.parse(None)  # type: ignore[arg-type]
    assert isinstance(none, PlainText) and none.note == "not text: NoneType"
    assert parser.parse("x", 42).kind == "plain"  # type: ignore[arg-type]


_LOGS = [path.read_text() for path in sorted(FIXTURES.glob("*.log"))]
_PIECES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(_LOGS),
    st.sampled_from(_LOGS).map(lambda log: log[len(log) // 3 : 2 * len(log) // 3]),  # cut mid-line
    st.sampled_from(["\x1b[", "\r", "\n", "Traceback (most recent call last):\n", "{", "***"]),
)
_COMMANDS = ["pytest", "git status", "git log", "make", "pip install x", "npm install y", "ls -la"]
_COMMANDS += ["apt-get install z", "ps aux", "df -h", "cargo test", "go test ./...", "tsc", "cc -c"]


@given(
    st.lists(_PIECES, max_size=8),
    st.one_of(st.none(), st.text(max_size=30), st.sampled_from(_COMMANDS)),
)
@settings(max_examples=300, deadline=None)
def test_garbage_never_raises_and_always_serialises(parts: list[str], command: str | None) -> None:
    result = parser.parse("".join(parts), command)
    assert isinstance(result, ParsedOutput) and result.kind in VARIANTS
    assert result.to_dict()["kind"] == result.kind
    json.dumps(result.to_dict())
    assert not isinstance(result, PlainText) or result.note is None  # no parser crashed


# -- the CLI -----------------------------------------------------------------------------------


def ai_session(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_cli_parse_prints_json_from_a_file_and_from_stdin() -> None:
    done = ai_session("parse", str(FIXTURES / "pytest_q.log"), "--compact")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    data = json.loads(done.stdout)
    assert (data["kind"], data["failed"]) == ("test", 2)
    piped = ai_session(
        "parse",
        "--command",
        "gcc -o a.out ok.c",
        "-",
        stdin=(FIXTURES / "gcc_warning.log").read_bytes(),
    )
    assert piped.returncode == 0 and json.loads(piped.stdout)["artifacts"] == ["a.out"]


def test_cli_parse_refuses_a_missing_file_and_binary_input(tmp_path: Path) -> None:
    missing = ai_session("parse", str(tmp_path / "nope.log"))
    assert missing.returncode == 1 and missing.stdout == b""
    assert b"cannot read" in missing.stderr and b"Traceback" not in missing.stderr
    binary = ai_session("parse", stdin=b"\x7fELF\x00\x00\x01")
    assert binary.returncode == 1 and b"binary" in binary.stderr


def test_cli_parse_reads_a_huge_file_as_head_and_tail(tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    with big.open("wb") as out:
        out.write(b"noise line\n" * 600_000)  # 6.6 MB
        out.write((FIXTURES / "pytest_q.log").read_bytes())
    done = ai_session("parse", str(big), "--compact")
    data = json.loads(done.stdout)
    assert (data["kind"], data["failed"], data["truncated"]) == ("test", 2, True)


def test_a_non_zero_exit_fails_a_run_that_printed_no_error() -> None:
    """`make` that dies without a recognisable error line still failed: the exit code says so."""
    text = "gcc -c a.c -o a.o\ngcc a.o -o app\n"
    assert OutputParser().parse(text, "make").to_dict()["status"] == "success"
    assert OutputParser().parse(text, "make", exit_code=2).to_dict()["status"] == "failed"
    assert OutputParser().parse("hello\n", "echo hello", exit_code=1).kind == "plain"
