"""`engine.compress` and `ai-session compress` on real logs: errors and facts survive, noise folds,
progress bars end as the terminal shows them, budgets hold, bad input gets a clear answer, and a
long stream runs in bounded memory.

The logs in tests/fixtures/logs/compress/ are trimmed real runs made by
tests/bench/bench_context.py (`--save-fixtures`) on this machine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.compress import CompressError, compress, compress_stream, resolve
from engine.terminal import Terminal
from engine.tokens import count_tokens

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "tests" / "fixtures" / "logs" / "compress"

# Lines a reader must find in each log's compressed text (regexes).
FACTS = {
    "pytest": [
        r"\d+ failed, \d+ passed",
        r"FAILED \S*test_injected_failure",
        r"E\s+assert 41 == 42",
    ],
    "npm": [
        r"added \d+ packages",
        r"npm error 404 Not Found - GET \S+ai-session-no-such-package-13",
    ],
    "gcc": [
        r"broken\.c:\d+:\d+: error: .undefined_variable. undeclared",
        r"broken\.c:\d+:\d+: warning",
    ],
    "pip": [
        r"^Successfully installed .*requests-\S+ .*rich-",
        r"^ERROR: No matching distribution found for ai-session-no-such-package-13",
    ],
    "pip-pty": [r"^Successfully downloaded numpy", r"^Saved \S+pandas"],
}
ERROR = re.compile(r"\b(?:error|failed|FAILED|ERR!)\b|^E\s{2,}|\w+Error\b")


def log(name: str) -> str:
    return (LOGS / f"{name}.log").read_bytes().decode("utf-8", "replace")


@pytest.mark.parametrize("name", sorted(FACTS))
def test_errors_and_key_facts_survive_real_logs(name: str) -> None:
    text = log(name)
    result = compress(text)
    for fact in FACTS[name]:
        assert re.search(fact, resolve(text), re.M), fact  # the fixture has it
        assert re.search(fact, result.text, re.M), (fact, result.text)
    errors = {line for line in resolve(text).splitlines() if ERROR.search(line)}
    missing = [line for line in errors if line not in result.text]
    assert not missing
    assert result.compressed_tokens <= result.original_tokens


def test_the_newest_commit_of_a_git_log_is_kept() -> None:
    text = log("git")
    newest = re.search(r"^commit ([0-9a-f]{40})$", text, re.M)
    assert newest is not None
    result = compress(text)
    assert f"commit {newest.group(1)}" in result.text.splitlines()
    assert result.reduction > 0.4


def test_a_long_listing_folds_to_its_directories_with_counts_sizes_and_names() -> None:
    text = log("ls")
    result = compress(text)
    lines = result.text.splitlines()
    assert lines[0] == text.split("\n", 1)[0]  # the top directory
    assert re.fullmatch(r"\[60 dirs, 769 files, 20\.5 MB in all\]", lines[1])
    assert lines[2].startswith("  ./: 28 dirs, 169 files, 4.6 MB (LICENSE.txt, __future__.py, ")
    assert (
        "  unittest/: 5 dirs, 172 files, 5.8 MB (__init__.py, __main__.py, __pycache__, …)" in lines
    )
    assert result.reduction > 0.95
    assert len(lines) <= 16


def test_a_listing_under_one_directory_is_shown_a_level_down(tmp_path: Path) -> None:
    for package, count in (("alpha", 30), ("beta", 12)):
        (tmp_path / "lib" / package / "sub").mkdir(parents=True)
        for i in range(count):
            (tmp_path / "lib" / package / f"mod{i}.py").write_text("x = 1\n" * i)
    (tmp_path / "setup.py").write_text("")
    found = subprocess.run(["find", str(tmp_path)], capture_output=True, text=True, check=True)
    lines = compress(found.stdout).text.splitlines()
    assert lines[:3] == [str(tmp_path), "[48 paths in all]", "  ./: 1 path (setup.py)"]
    assert lines[3].startswith("  lib/alpha/: 31 paths (")
    assert lines[4].startswith("  lib/beta/: 13 paths (")
    listed = subprocess.run(["ls", "-laR", str(tmp_path)], capture_output=True, text=True)
    lines = compress(listed.stdout, command="ls -laR").text.splitlines()
    assert lines[1] == "[4 dirs, 43 files, 2.7 KB in all]" or lines[1].startswith("[")
    assert any(line.startswith("  lib/alpha/: 1 dir, 30 files, ") for line in lines)


def test_repeated_lines_collapse_with_a_count() -> None:
    text = "start\n" + "waiting for the lock\n" * 12 + "done: 1 passed, 0 failed\n"
    assert compress(text).text.splitlines() == [
        "start",
        "waiting for the lock  (× 12)",
        "done: 1 passed, 0 failed",
    ]


def test_lines_of_one_shape_fold_into_one_with_their_variants() -> None:
    packages = ["alpha", "beta", "gamma", "delta"] * 10
    text = "$ pip install alpha beta gamma delta\n"  # the first line is kept as it is
    text += "".join(
        f"Downloading {name}-1.{i}.0-py3-none-any.whl ({i * 7} kB)\n"
        for i, name in enumerate(packages)
    )
    text += "Successfully installed alpha beta gamma delta\n"
    lines = compress(text).text.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("Downloading {alpha-1.0,beta-1.1,gamma-1.2,…,delta-1.39}")
    assert lines[1].endswith("(× 40)")
    assert lines[2] == "Successfully installed alpha beta gamma delta"


def test_repeated_blocks_keep_their_order_and_counts() -> None:
    block = "connecting to db\nretrying in 5s\n"
    result = compress("boot\n" + block * 7 + "fatal: gave up\n")
    assert result.text.splitlines() == [
        "boot",
        "connecting to db  (× 7)",
        "retrying in 5s  (× 7)",
        "fatal: gave up",
    ]


def test_an_error_keeps_a_line_before_and_two_after() -> None:
    noise = "".join(f"compiling unit {i}\n" for i in range(50))
    text = (
        noise + "in function main:\nmain.c:3:1: error: expected ';'\n  3 | int x\n    | ^\n" + noise
    )
    lines = compress(text).text.splitlines()
    at = lines.index("main.c:3:1: error: expected ';'")
    assert lines[at - 1] == "in function main:"
    assert lines[at + 1 : at + 3] == ["  3 | int x", "    | ^"]


def test_every_distinct_error_is_kept_verbatim_and_repeats_counted() -> None:
    errors = [f"src/mod{i}.py:{i}: error: name 'x{i}' is not defined" for i in range(30)]
    text = "\n".join(errors * 3) + "\n"
    result = compress(text)
    for error in errors:
        assert f"{error}  (× 3)" in result.text


# -- what the screen showed ------------------------------------------------------------------------

PROGRESS_SAMPLES = [
    "downloading 10%\rdownloading 55%\rdownloading 100%\n",
    "downloading a long name 100%\rdone\n",  # CR without erase: the old tail shows
    "fetch 1/3\r\x1b[Kfetch 2/3\r\x1b[Kok\n",
    "\x1b[32mbuild\x1b[0m 10%\r\x1b[2K\x1b[1mbuild\x1b[0m 100%\r\n",
    "working |\b/\b-\b\\\bdone\n",
    "a: 0%\nb: 0%\n\x1b[2A\ra: 100%\n\rb: 50%\n",  # two bars redrawn with cursor-up
    "title\x1b]0;window title\x07 shown\n\x1b[?25lhidden cursor\x1b[?25h\n",
]


@pytest.mark.parametrize("raw", PROGRESS_SAMPLES)
def test_progress_bars_resolve_as_the_terminal_shows_them(raw: str) -> None:
    terminal = Terminal(120, 20)
    terminal.feed(raw.replace("\r\n", "\n").replace("\n", "\r\n"))
    screen = [row.rstrip() for row in terminal.capture(start="-").split("\n")]
    while screen and not screen[-1]:
        screen.pop()
    assert [line.rstrip() for line in resolve(raw).rstrip("\n").split("\n")] == screen


def test_a_real_pip_download_through_a_pty_resolves_to_its_final_bars() -> None:
    raw = log("pip-pty")
    assert "\r" in raw and "\x1b[" in raw
    terminal = Terminal(100, 30)
    terminal.feed(raw)
    screen = [row.rstrip() for row in terminal.capture(start="-", join_wrapped=True).split("\n")]
    resolved = [line.rstrip() for line in resolve(raw).split("\n")]
    assert [line for line in resolved if line] == [line for line in screen if line]
    text = compress(raw).text
    assert "\x1b" not in text and "\r" not in text
    assert "12.4/12.4" in text  # the finished bar, none of the states before it
    assert not re.search(r"\b(?:0\.0|1\.5|4\.4)/12\.4 MB", resolve(raw) + text)


# -- budgets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["npm", "pytest", "git", "ls"])
def test_a_budget_is_respected_and_errors_stay(name: str) -> None:
    text = log(name)
    result = compress(text, budget=600)
    assert result.compressed_tokens <= 600
    assert count_tokens(result.text).tokens == result.compressed_tokens
    if result.dropped_lines:
        assert re.search(r"\[compress: [\d,]+ lines .* budget of 600 tokens\]", result.text)
    for fact in FACTS.get(name, []):
        assert re.search(fact, result.text, re.M), fact


def test_a_budget_smaller_than_the_errors_still_holds() -> None:
    text = "".join(f"error: disk {i} failed with code {i * 3}\n" for i in range(200))
    result = compress(text, budget=50)
    assert result.compressed_tokens <= 50
    assert result.dropped_lines > 0
    assert result.to_stats()["dropped_tokens"] > 0


def test_no_budget_needed_when_it_fits() -> None:
    result = compress("one line\n", budget=100)
    assert result.text == "one line" and result.dropped_lines == 0


# -- bad input -----------------------------------------------------------------------------------


def test_binary_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(CompressError, match="binary"):
        compress("ELF\x00\x01\x02" + "x" * 100)
    noise = bytes(range(1, 32)) * 100
    with pytest.raises(CompressError, match="binary"):
        compress_stream([noise])
    elf = Path(sys.executable).read_bytes()[:200_000]
    with pytest.raises(CompressError, match="binary"):
        compress_stream([elf[i : i + 4096] for i in range(0, len(elf), 4096)])


def test_invalid_utf8_is_replaced_and_reported() -> None:
    result = compress_stream([b"caf\xe9 au lait\n", b"ok\n"])
    assert result.invalid_utf8 and result.to_stats()["invalid_utf8"] is True
    assert "caf\ufffd au lait" in result.text
    clean = compress_stream(["h\u00e9llo\n".encode()[:2], "h\u00e9llo\n".encode()[2:]])
    assert not clean.invalid_utf8 and clean.text == "h\u00e9llo"  # split inside a character


def test_empty_input_is_an_empty_result() -> None:
    for result in (compress(""), compress_stream([]), compress_stream([b""])):
        assert result.text == "" and result.original_tokens == 0 and result.reduction == 0.0


@pytest.mark.parametrize("name", ["pytest", "pip", "npm", "gcc", "git", "ls", "pip-pty"])
def test_windows_and_streams_agree_with_the_whole(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut into small windows, or streamed in odd chunks: the same text, and the original's
    token count exactly what counting it whole gives."""
    monkeypatch.setattr("engine.compress.WINDOW", 4000)
    text = log(name)
    data = text.encode()
    whole = compress(text)
    streamed = compress_stream([data[i : i + 3001] for i in range(0, len(data), 3001)])
    assert streamed.text == whole.text
    assert streamed.original_tokens == whole.original_tokens == count_tokens(text).tokens


def _stream(megabytes: int) -> Iterator[bytes]:
    """A verbose build log with counters, hashes and an error now and then, 1 MB a chunk (one
    chunk made once, its `@@` the chunk's number)."""
    lines = []
    size = i = 0
    while size < 1 << 20:
        if i % 5000 == 0:
            line = f"src/unit{i % 97}.c:{i % 1000}: error: unit {i % 7} failed (@@{i:x})\n"
        else:
            line = f"[@@{i:06d}] compiling src/unit{i % 97}.c -> obj/{i:x}.o ({i % 1234} ms)\n"
        lines.append(line)
        size += len(line)
        i += 1
    chunk = "".join(lines).encode()
    for number in range(megabytes):
        yield chunk.replace(b"@@", b"%d" % number)


def test_a_long_stream_runs_in_bounded_memory() -> None:
    tracemalloc.start()
    try:
        result = compress_stream(_stream(50), count=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.original_bytes > 50_000_000
    assert peak < 40_000_000, peak  # about ten 1 MB windows' worth, not the 50 MB
    assert "error: unit" in result.text
    assert len(result.text) < 100_000


def test_a_line_without_end_is_cut_not_held_whole() -> None:
    progress = b"".join(f"\rcopying {i} of 100000".encode() for i in range(100_000))
    result = compress_stream([progress[i : i + 65536] for i in range(0, len(progress), 65536)])
    assert result.text == "copying 99999 of 100000"


# -- the command ---------------------------------------------------------------------------------


def ai_session(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


def test_cli_compresses_a_file_and_prints_stats() -> None:
    done = ai_session("compress", str(LOGS / "npm.log"), "--stats")
    assert done.returncode == 0, done.stderr
    assert b"npm error 404 Not Found" in done.stdout
    stats = json.loads(done.stderr.decode().strip().splitlines()[-1])
    assert stats["original_tokens"] > stats["compressed_tokens"] > 0
    assert 0 < stats["reduction"] < 1 and stats["estimated"] is False
    assert stats["bytes_in"] == (LOGS / "npm.log").stat().st_size
    assert stats["bytes_out"] == len(done.stdout) - 1
    assert stats["seconds"] >= 0


def test_cli_reads_stdin_and_keeps_to_a_budget() -> None:
    data = (LOGS / "pytest.log").read_bytes()
    done = ai_session("compress", "-", "--budget", "200", "--stats", stdin=data)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stderr)
    assert stats["compressed_tokens"] <= 200 and stats["budget"] == 200
    assert re.search(rb"\d+ failed, \d+ passed", done.stdout)


def test_cli_bad_input_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    binary = ai_session("compress", stdin=b"\x7fELF\x00\x00binary")
    missing = ai_session("compress", str(tmp_path / "nope.log"))
    budget = ai_session("compress", "--budget", "0", stdin=b"x\n")
    empty = ai_session("compress", "--stats", stdin=b"")
    for done in (binary, missing, budget):
        assert done.returncode != 0
        assert b"Traceback" not in done.stderr
        assert done.stderr.startswith(b"ai-session compress: ")
    assert b"binary" in binary.stderr and b"nope.log" in missing.stderr
    assert empty.returncode == 0 and empty.stdout == b""
    assert json.loads(empty.stderr)["bytes_in"] == 0


def test_unique_long_lines_stay_bounded_too() -> None:
    """Every line a new shape and 10 KB long (letters only, nothing to fold): what is kept per
    shape and per line is capped, so memory does not follow the input."""
    letters = bytes(range(97, 123)) * 9 + b"  "
    table = bytes(letters[i % len(letters)] for i in range(256))

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            block = os.urandom(1 << 20).translate(table)
            yield b"\n".join(block[i : i + 10_000] for i in range(0, len(block), 10_000))

    tracemalloc.start()
    try:
        result = compress_stream(chunks(), count=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60_000_000, peak
    assert result.original_lines > 2000
    assert len(result.text) < 5_000_000


_PIECES = st.sampled_from(
    [
        *["ab", "progress 42%", "done", "x", " ", "\r", "\b", "\n", "\r\n"],
        *["\x1b[K", "\x1b[2K", "\x1b[1K", "\x1b[1A", "\x1b[2A", "\x1b[F", "\x1b[1G"],
        *["\x1b[32m", "\x1b[0m", "\x1b[2D", "\x1b[3C", "\x1b[C", "\x1b[5G", "\x1b[0A"],
    ]
)


@given(st.lists(_PIECES, max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_resolver_agrees_with_the_terminal(pieces: list[str]) -> None:
    """Any mix of overwrites, erases and cursor-up within a screen (no wrapping, no scrolling)
    resolves to the rows engine.terminal shows."""
    raw = "".join(pieces)
    assume(len(max(raw.split("\n"), key=len)) < 60 and raw.count("\n") < 20)
    terminal = Terminal(80, 24)
    terminal.feed(raw.replace("\r\n", "\n").replace("\n", "\r\n"))
    screen = [row.rstrip() for row in terminal.capture(start="-").split("\n")]
    resolved = [line.rstrip() for line in resolve(raw).split("\n")]
    while screen and not screen[-1]:
        screen.pop()
    while resolved and not resolved[-1]:
        resolved.pop()
    assert resolved == screen


def test_a_tight_budget_keeps_the_compiler_error_and_its_source_line() -> None:
    """Warnings and notes go before the error; gcc's `note:` is the error's context, not a
    second error."""
    result = compress(log("gcc"), budget=120)
    assert result.compressed_tokens <= 120
    assert re.search(r"broken\.c:\d+:\d+: error: .undefined_variable. undeclared", result.text)
    assert "int broken = undefined_variable + 1;" in result.text
    assert "warning:" not in result.text
    assert "errors or summary lines" not in result.text  # no error had to go


def test_cli_stats_count_a_large_input_exactly() -> None:
    """Past a few hundred KB the CLI counts the input's tokens in a worker process: the same
    count as counting it whole."""
    data = (LOGS / "ls.log").read_bytes() * 30
    done = ai_session("compress", "--stats", stdin=data)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stderr)
    assert stats["original_tokens"] == count_tokens(data.decode()).tokens
    assert stats["bytes_in"] == len(data)


def test_lines_fold_only_with_lines_that_mostly_share_their_words() -> None:
    text = (
        "$ npm install\n"
        "npm info using npm@11.19.1\n"
        "npm info using node@v20.20.2\n"
        "npm verbose exit 1\n"
        "drwxr-xr-x  2 root root 4096 May  9  2026 json\n"
        "drwxr-xr-x  3 root root 4096 Dec 20  2025 email\n"
    )
    assert compress(text).text.splitlines() == [
        "$ npm install",
        "npm info using {npm@11.19.1,node@v20.20.2}  (× 2)",
        "npm verbose exit 1",
        "drwxr-xr-x {2,3} root root 4096 {May,Dec} {9,20} {2026,2025} {json,email}  (× 2)",
    ]


def _broken_worker(piece: str) -> tuple[int, bool]:
    raise RuntimeError("the worker died")


def test_counting_workers_agree_and_a_failing_worker_costs_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = (LOGS / "git.log").read_bytes() * 40  # 2.4 MB in pieces big enough for workers
    chunks = [data[i : i + 400_000] for i in range(0, len(data), 400_000)]
    expected = count_tokens(data.decode()).tokens
    assert compress_stream(chunks, workers=2).original_tokens == expected
    monkeypatch.setattr("engine.compress._count_piece", _broken_worker)
    assert compress_stream(chunks, workers=2).original_tokens == expected  # counted here


def test_a_real_traceback_keeps_its_innermost_frame() -> None:
    program = (
        "import sys\n"
        "for i in range(300): print(f'processing item {i} of 300', flush=True)\n"
        "def parse(v): return int(v)\n"
        "def load(vs): return [parse(v) for v in vs]\n"
        "load(['1', '2', 'x'])\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 1
    lines = compress(done.stdout + done.stderr).text.splitlines()
    assert lines[0] == "processing item 0 of 300"
    assert re.match(r"processing item \{1,2,3,…,299\} of 300  \(× 299\)", lines[1])
    assert "Traceback (most recent call last):" in lines
    at = lines.index("ValueError: invalid literal for int() with base 10: 'x'")
    assert lines[at - 2 : at] == [
        '  File "<string>", line 4, in <listcomp>',
        '  File "<string>", line 3, in parse',
    ]


def _git(repo: Path, *argv: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@example.invalid",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@example.invalid",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *argv], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_git_log_keeps_the_newest_commit_whole_and_folds_each_older_one(
    tmp_path: Path,
) -> None:
    _git(tmp_path, "init", "-q")
    messages = [
        "parser: fix error when the input is empty",
        "revert the failed attempt at caching\n\nIt failed: Traceback and all.",
        "add the README",
    ]
    for at, message in enumerate(messages):
        (tmp_path / f"file{at}.txt").write_text("line\n" * (at + 2))
        (tmp_path / "common.txt").write_text(f"{at}\n")
        _git(tmp_path, "add", ".")
        _git(tmp_path, "commit", "-q", "-m", message)
    text = _git(tmp_path, "log", "--stat")
    hashes = re.findall(r"^commit ([0-9a-f]{40})", text, re.M)
    lines = compress(text).text.splitlines()
    assert lines[0] == f"commit {hashes[0]}"
    assert "    add the README" in lines  # the newest commit, whole
    assert " 2 files changed, 5 insertions(+), 1 deletion(-)" in lines
    assert lines[-2:] == [
        f"{hashes[1][:7]} revert the failed attempt at caching (2 files, +4 -1)",
        f"{hashes[2][:7]} parser: fix error when the input is empty (2 files, +3 -0)",
    ]
    # the same without `commit` first: the command says it is a git log
    text = _git(tmp_path, "log", "--stat", "--reverse", "HEAD~1")
    lines = compress("warning: refname is ambiguous\n" + text, command="git log --stat").text
    assert f"{hashes[1][:7]} revert the failed attempt at caching" in lines


def test_a_real_git_log_lists_every_commit_and_no_message_as_an_error() -> None:
    text = log("git")
    hashes = re.findall(r"^commit ([0-9a-f]{40})", text, re.M)
    result = compress(text)
    shown = set(re.findall(r"^([0-9a-f]{7}) ", result.text, re.M))
    assert shown == {h[:7] for h in hashes[1:]}
    assert result.reduction > 0.8
    tight = compress(text, budget=1500)
    assert tight.compressed_tokens <= 1500
    assert f"commit {hashes[0]}" in tight.text


def test_folded_noise_shows_few_long_variants_short_bars_and_short_hashes() -> None:
    text = "$ build\n"
    text += "".join(
        f"  copying src/package/module_with_a_long_name_{i}.py -> build/lib/package\n"
        for i in range(30)
    )
    text += "".join(f"     {'━' * 40} {i}.0/9.0 MB eta 0:00:00\n" for i in range(3))
    text += "  Stored in directory: /tmp/cache/" + "0123456789abcdef" * 4 + "\n"
    text += "Successfully built package\n"
    lines = compress(text).text.splitlines()
    assert lines[1] == (
        "  copying src/package/module_with_a_long_name_{0,1,2,…,29}.py -> build/lib/package  (× 30)"
    )
    assert lines[2] == "     ━━━ {0,1,2}.0/9.0 MB eta 0:00:00  (× 3)"
    assert lines[3] == "  Stored in directory: /tmp/cache/0123456789…"
    assert lines[4] == "Successfully built package"
    long = "".join(f"  adding 'pkg/{chr(97 + i) * 20}.py'\n" for i in range(10))
    folded = compress("$ zip\n" + long).text.splitlines()[1]
    assert folded.count(",") == 2 and "…" in folded  # the first, `…`, the last


def test_words_after_a_semicolon_fold_too() -> None:
    keys = ["1;5C", "1;2A", "15;2~", "1;5D", "3;5~"]
    text = "$ pytest -v\n" + "".join(
        f"tests/test_keys.py::test_keys[\\x1b[{key}] PASSED [ {i}%]\n" for i, key in enumerate(keys)
    )
    lines = compress(text).text.splitlines()
    assert len(lines) == 2 and lines[1].endswith("(× 5)")


def test_long_paths_in_noise_keep_their_ends_and_errors_keep_them_whole() -> None:
    path = "/tmp/pip-build-env-x1/overlay/lib/python3.11/site-packages/setuptools/dist.py"
    text = "$ pip install -v .\n"
    text += f"  {path}:765: SetuptoolsDeprecationWarning: License classifiers are deprecated.\n"
    text += "\n"  # (the line right before an error is its context: kept whole)
    text += f"  {path}:12: error: cannot import name\n"
    text += "  see https://packaging.python.org/en/latest/guides/writing-pyproject-toml/ now\n"
    lines = compress(text).text.splitlines()
    assert lines[1] == (
        "  /tmp/pip-build-env-x1/…/site-packages/setuptools/dist.py:765: SetuptoolsDeprecationWarning:"
        " License classifiers are deprecated."
    )
    assert lines[2] == f"  {path}:12: error: cannot import name"
    assert lines[3].endswith("/writing-pyproject-toml/ now")  # a URL stays whole


def test_a_builds_chatter_folds_to_its_action_words_with_counts() -> None:
    text = "$ python -m build\n  running build_py\n"
    text += "".join(f"  copying src/pkg/mod{i}.py -> build/lib/pkg\n" for i in range(20))
    text += "".join(f"  adding 'pkg/mod{i}.py'\n" for i in range(20))
    text += "  writing manifest file 'pkg.egg-info/SOURCES.txt'\n"
    text += "  connecting to db\n  retrying in 5s\n  waiting for the lock\n"  # not chatter
    text += "Successfully built pkg-1.0.tar.gz\n"
    lines = compress(text).text.splitlines()
    assert lines[1:] == [
        "  [running ×1, copying ×20, adding ×20, writing ×1 lines]",
        "  connecting to db",
        "  retrying in 5s",
        "  waiting for the lock",
        "Successfully built pkg-1.0.tar.gz",
    ]


def test_adjacent_summary_lines_of_one_shape_list_every_variant() -> None:
    text = log("pip-pty")
    saved = [line for line in resolve(text).splitlines() if line.startswith("Saved ")]
    lines = [line for line in compress(text).text.splitlines() if line.startswith("Saved ")]
    assert len(saved) == 5 and len(lines) == 1
    for line in saved:  # every file's name is there
        assert line.rsplit("/", 1)[1].split("_x86_64")[0] in lines[0]
    failed = "FAILED tests/test_a.py::test_one - assert 1\nFAILED tests/test_a.py::test_two - x\n"
    result = compress("$ pytest\n" + failed + "2 failed in 0.1s\n").text
    assert failed.splitlines()[0] in result and failed.splitlines()[1] in result  # each whole


def test_cli_takes_the_command_that_printed_the_log() -> None:
    text = log("git")
    body = text[text.index("\ncommit ", 1000) + 1 :]  # a log cut mid-way: no commit first line
    data = ("warning: some refs were skipped\n" + body).encode()
    done = ai_session("compress", "-", "--command", "git log --stat", stdin=data)
    assert done.returncode == 0, done.stderr
    first = re.search(r"^commit ([0-9a-f]{40})", body, re.M)
    assert first is not None
    assert f"commit {first.group(1)}".encode() in done.stdout.splitlines()
    assert len(done.stdout) < len(data) / 4


def test_git_show_keeps_a_bounded_patch_and_find_keeps_its_errors(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("".join(f"{i}\n" for i in range(500)))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "add error handling")
    text = _git(tmp_path, "show")
    lines = compress(text, command="git show").text.splitlines()
    assert lines[0].startswith("commit ") and "    add error handling" in lines
    assert re.fullmatch(r"\[… \d+ more lines of this commit\]", lines[-1])
    assert len(lines) < 210
    for i in range(20):
        (tmp_path / "src" / f"pkg{i % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / f"pkg{i % 3}" / f"mod{i}.py").write_text("")
    argv = ["find", str(tmp_path / "src"), str(tmp_path / "missing")]
    found = subprocess.run(argv, capture_output=True, text=True)
    assert "No such file or directory" in found.stderr
    result = compress(found.stdout + found.stderr, command="find src missing").text
    assert result.splitlines()[0] == str(tmp_path / "src")
    assert found.stderr.strip() in result.splitlines()


def test_a_line_shown_next_to_its_error_is_not_shown_twice() -> None:
    text = "$ npm install\n" + "".join(f"fetch pkg{i} 200\n" for i in range(30))
    text += "npm http fetch GET 404 https://registry.invalid/nope 159ms (cache skip)\n"
    text += "fetch pkg99 200\n"  # the line before the error is of a group shown earlier
    text += (
        "npm verbose stack HttpErrorGeneral: 404 Not Found - GET https://registry.invalid/nope\n"
    )
    lines = compress(text).text.splitlines()
    assert (
        lines.count("npm http fetch GET 404 https://registry.invalid/nope 159ms (cache skip)") == 1
    )


def test_a_huge_git_log_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.compress as module

    monkeypatch.setattr(module, "MAX_COMMITS", 3)
    hashes = {i: f"{i:02x}" * 20 for i in range(1, 11)}
    text = "".join(
        f"commit {hashes[i]}\nAuthor: A <a@b>\nDate:   now\n\n    change {i}\n\n"
        for i in range(10, 0, -1)
    )
    lines = compress(text).text.splitlines()
    assert lines[0] == f"commit {hashes[10]}"
    assert lines[-4:] == [
        f"{hashes[9][:7]} change 9",
        f"{hashes[8][:7]} change 8",
        f"{hashes[7][:7]} change 7",
        f"[… 6 older commits, the oldest {hashes[1][:7]} change 1]",
    ]


def test_a_listing_of_very_many_directories_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.compress as module

    monkeypatch.setattr(module, "MAX_GROUPS", 5)
    text = log("ls")
    lines = compress(text).text.splitlines()
    assert lines[1] == "[60 dirs, 769 files, 20.5 MB in all]"  # totals still exact
    assert lines[-1].startswith("  … more directories: ")
    assert len(lines) <= 8


def test_a_flat_long_listing_is_summed_too(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"dir{i}").mkdir()
        (tmp_path / f"file{i}.txt").write_text("x" * 100)
    listed = subprocess.run(["ls", "-la", str(tmp_path)], capture_output=True, text=True)
    lines = compress(listed.stdout).text.splitlines()  # `total N` first: detected
    assert lines[0].startswith("[5 dirs, 5 files, ")
    assert lines[1].startswith("  ./: 5 dirs, 5 files, ") and "dir0/" in lines[1]
