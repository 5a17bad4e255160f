"""How much `engine.compress` saves on real terminal logs, what it keeps, and how fast.

Run: `python tests/bench/bench_context.py [--regenerate] [--budget TOKENS]... [--only LOG]
[--save-fixtures]`. Not part of the test suite: no pass/fail. The logs come from real tools run
on this machine and are cached in $TMPDIR/ai-session-bench-context (`--regenerate` runs the
tools again):

- pytest: a few of the project's own test files, verbose, beside a temp test file whose assert
  fails; pip: `pip install -v` of packages with dependencies into a --target dir, two of them
  built from source (setuptools' verbose output), then of a package that does not exist; npm:
  `npm install --loglevel verbose` of a small package, then of one that does not exist (a 404);
  gcc: a C file with warnings and an error; git: `git log --stat` of this repository; ls:
  `ls -laR` of the standard library; pip-pty: `pip download` through a PTY, so the log holds
  carriage-return progress bars and ANSI colours.

Per log: bytes, tokens before and after (cl100k), reduction, distinct error lines kept / total,
key facts kept / total (strings a reader looks for, listed per log below), MB/s of compressing
alone. An error line is a line with an error word, except an author's words in a git log's
commit messages (`fix error in X`) and a listing's file names (`errors/`). Then, without a
budget and with each `--budget` (1000, 1500 and 3000 by default), three aggregates: over all
logs (the largest, the listing, outweighs the rest a hundred to one, so this one says little),
over all logs but the largest, and the mean of the logs' reductions. Then MB/s on 20 MB with and without
exact token counts, and which rules matter (the aggregate with one switched off at a time).
`--save-fixtures` writes trimmed copies (no real host names) to tests/fixtures/logs/compress/
for tests/test_compress.py.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from engine.compress import compress  # noqa: E402
from engine.tokens import count_tokens  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "ai-session-bench-context"
FIXTURES = REPO / "tests" / "fixtures" / "logs" / "compress"
PYTHON = sys.executable
MISSING_NPM = "ai-session-no-such-package-13"
FIXTURE_BYTES = 60_000  # per log: a few hundred KB for all of them

FAILING_TEST = """
def answer():
    return 41


def test_injected_failure():
    assert answer() == 42, "the answer drifted"
"""

C_SOURCE = r"""
#include <stdio.h>
#include <string.h>

static int unused_helper(int x) { return x * 2; }

int sum(int *values, int n) {
    int total;
    for (int i = 0; i < n; i++) total += values[i];
    return total;
}

int compare(unsigned a, int b) { return a < b; }

int main(int argc, char **argv) {
    int values[3] = {1, 2, 3};
    char buffer[8];
    long unused_local = 5;
    printf("%d\n", sum(values, 3), argc);
    sprintf(buffer, "%s", argv[0]);
    if (compare(1, -1)) puts("odd");
    int broken = undefined_variable + 1;
    return missing_function(values) + broken;
}
"""


def run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> bytes:
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
    )
    return done.stdout


def run_pty(argv: list[str], cwd: Path | None = None) -> bytes:
    """What a terminal would receive: the program on a 100x30 PTY, TERM=xterm-256color."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = bytearray()
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the PTY
            break
        if not data:
            break
        out += data
    os.close(master)
    proc.wait()
    return bytes(out)


def log_pytest(tmp: Path) -> bytes:
    test = tmp / "test_injected.py"
    test.write_text(FAILING_TEST)
    files = ["tests/test_tokens.py", "tests/test_keys.py", "tests/test_layout.py"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-v", *files, str(test)]
    return run(argv, cwd=REPO, env=env)


def log_pip(tmp: Path) -> bytes:
    target = tmp / "pip-target"
    argv = [PYTHON, "-m", "pip", "install", "-v", "--no-cache-dir", "--target", str(target)]
    built = run([*argv, "--no-binary", "six,requests", "requests", "rich", "six"])  # two built
    return built + run([*argv, MISSING_NPM])  # and one that does not exist


def log_npm(tmp: Path) -> bytes:
    project = tmp / "npm-project"
    project.mkdir(exist_ok=True)
    (project / "package.json").write_text('{"name": "bench", "version": "1.0.0"}\n')
    cache = tmp / "npm-cache"
    base = ["npm", "install", "--loglevel", "verbose", "--no-fund", "--no-audit"]
    base += ["--cache", str(cache)]
    first = run([*base, "express"], cwd=project)
    second = run([*base, MISSING_NPM], cwd=project)
    return first + second


def log_gcc(tmp: Path) -> bytes:
    source = tmp / "broken.c"
    source.write_text(C_SOURCE)
    return run(["gcc", "-Wall", "-Wextra", "-c", str(source), "-o", str(tmp / "broken.o")])


def log_git(tmp: Path) -> bytes:
    return run(["git", "-C", str(REPO), "log", "--stat", "-n", "600"])


def log_ls(tmp: Path) -> bytes:
    lib = Path(os.__file__).parent
    return run(["ls", "-laR", str(lib)])


def log_pip_pty(tmp: Path) -> bytes:
    dest = tmp / "pip-download"
    argv = [PYTHON, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d", str(dest)]
    return run_pty([*argv, "numpy", "pandas", "scipy", "matplotlib", "pillow"])


LOGS: dict[str, Callable[[Path], bytes]] = {
    "pytest": log_pytest,
    "pip": log_pip,
    "npm": log_npm,
    "gcc": log_gcc,
    "git": log_git,
    "ls": log_ls,
    "pip-pty": log_pip_pty,
}

# What a reader looks for in each log: regexes, each must match the compressed text when it
# matches the original.
KEY_FACTS: dict[str, list[str]] = {
    "pytest": [r"\d+ failed, \d+ passed", r"test_injected_failure", r"assert 41 == 42"],
    "pip": [
        r"Successfully installed .*requests",
        r"Successfully installed .*rich",
        rf"No matching distribution found for {MISSING_NPM}",
    ],
    "npm": [r"added \d+ packages?", r"404", MISSING_NPM],
    "gcc": [r"broken\.c:\d+:\d+: error", r"undefined_variable", r"broken\.c:\d+:\d+: warning"],
    "git": [],  # filled with the newest commit's hash at run time
    "ls": [],  # filled with the top directory at run time
    "pip-pty": [r"Saved .*numpy", r"Saved .*pandas", r"Successfully downloaded .*pillow"],
}

ERROR = re.compile(
    r"\b(?:error|ERR!|failed|failure|fatal|exception|traceback)\b|^E\s{2,}|\bFAILED\b", re.I
)


def plain(raw: bytes) -> str:
    """The log as text, escapes stripped: what the error lines and facts are matched on."""
    from engine.compress import resolve

    return resolve(raw.decode("utf-8", "replace"))


FILE_NAME = re.compile(r"\S*[./]\S*")  # `error.py`, `lib/antlr4/error:` name files, not errors


MESSAGE = re.compile(r"^commit [0-9a-f]{7,}|^ {4}", re.M)
ENTRY = re.compile(r"^[-dlcbps][-rwxsStT]{9}[.+@]?\s+\d+\s")


def distinct_errors(text: str, name: str = "") -> set[str]:
    """The log's distinct error lines, honestly: lines with an error word, but not a commit
    message's lines in a git log (`fix error in X` is an author's words, not a failure of the
    command) nor a listing's entries (a file named `error.py` or a directory `errors`)."""
    lines = text.splitlines()
    if name == "git":
        lines = [line for line in lines if not MESSAGE.match(line)]
    elif name == "ls":
        lines = [line for line in lines if not ENTRY.match(line)]
    return {
        line.strip() for line in lines if line.strip() and ERROR.search(FILE_NAME.sub(" ", line))
    }


def kept_errors(errors: set[str], compressed: str) -> int:
    """An error line counts as kept when its text is in the output (whole, or as a folded
    template's variant, which keeps the line's words)."""
    return sum(1 for line in errors if line in compressed)


def best_time(work: Callable[[], object]) -> float:
    """The fastest of a few runs (other processes share the 2 CPUs)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def gather(regenerate: bool) -> dict[str, bytes]:
    CACHE.mkdir(exist_ok=True)
    logs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in LOGS.items():
            path = CACHE / f"{name}.log"
            if regenerate or not path.exists():
                start = time.perf_counter()
                path.write_bytes(make(Path(tmp)))
                print(f"  ran {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
            logs[name] = path.read_bytes()
    return logs


def facts_for(name: str, text: str) -> list[str]:
    if name == "git":  # the newest commit in full, and the oldest (how far back the log goes)
        hashes = re.findall(r"^commit ([0-9a-f]{40})", text, re.M)
        return [hashes[0], rf"^(?:commit )?{hashes[-1][:7]}"] if hashes else []
    if name == "ls":  # the top directory and its largest subdirectory
        top = text.split("\n", 1)[0].rstrip(":")
        subdirs = re.findall(rf"^{re.escape(top)}/([^/\n]+)[/:]", text, re.M)
        largest = max(set(subdirs), key=subdirs.count) if subdirs else ""
        return [re.escape(top), re.escape(largest) + "/"] if largest else [re.escape(top)]
    return KEY_FACTS[name]


@dataclass
class Totals:
    """One run's figures over all logs."""

    budget: int | None
    tokens_in: int = 0
    tokens_out: int = 0
    rest_in: int = 0  # all but the largest log
    rest_out: int = 0
    reductions: list[float] = field(default_factory=list)
    errors_kept: int = 0
    errors: int = 0
    facts_kept: int = 0
    facts: int = 0

    def row(self, largest: str) -> str:
        every = 1 - self.tokens_out / self.tokens_in if self.tokens_in else 0.0
        rest = 1 - self.rest_out / self.rest_in if self.rest_in else 0.0
        mean = sum(self.reductions) / len(self.reductions) if self.reductions else 0.0
        return (
            f"{self.budget or 'none':>7} {every:>9.1%} {rest:>14.1%} {mean:>7.1%}"
            f" {self.errors_kept:>5}/{self.errors:<5} {self.facts_kept:>3}/{self.facts:<3}"
            f"   ({self.rest_in:,} -> {self.rest_out:,} tokens without {largest})"
        )


def table(logs: dict[str, bytes], budget: int | None, largest: str) -> Totals:
    print(f"\nbudget: {budget or 'none'}")
    head = f"{'log':8} {'bytes':>10} {'tokens':>9} {'after':>7} {'reduct':>7}"
    print(f"{head} {'errors':>9} {'facts':>6} {'MB/s':>6}  (MB/s: compress alone, best of 3)")
    totals = Totals(budget)
    total_bytes = 0
    total_seconds = 0.0
    for name, raw in logs.items():
        text = raw.decode("utf-8", "replace")
        result = compress(text, budget=budget)
        seconds = best_time(functools.partial(compress, text, budget=budget, count=False))
        clean = plain(raw)
        errors = distinct_errors(clean, name)
        kept = kept_errors(errors, result.text)
        facts = [f for f in facts_for(name, clean) if re.search(f, clean, re.M)]
        facts_kept = sum(1 for f in facts if re.search(f, result.text, re.M))
        totals.tokens_in += result.original_tokens
        totals.tokens_out += result.compressed_tokens
        if name != largest:
            totals.rest_in += result.original_tokens
            totals.rest_out += result.compressed_tokens
        totals.reductions.append(result.reduction)
        totals.errors_kept += kept
        totals.errors += len(errors)
        totals.facts_kept += facts_kept
        totals.facts += len(facts)
        total_bytes += len(raw)
        total_seconds += seconds
        print(
            f"{name:8} {len(raw):>10,} {result.original_tokens:>9,} {result.compressed_tokens:>7,}"
            f" {result.reduction:>7.1%} {kept:>4}/{len(errors):<4} {facts_kept:>2}/{len(facts):<3}"
            f" {len(raw) / seconds / 1e6:>6.1f}"
        )
    every = 1 - totals.tokens_out / totals.tokens_in if totals.tokens_in else 0.0
    print(
        f"{'all':8} {total_bytes:>10,} {totals.tokens_in:>9,} {totals.tokens_out:>7,}"
        f" {every:>7.1%} {totals.errors_kept:>4}/{totals.errors:<4}"
        f" {totals.facts_kept:>2}/{totals.facts:<3} {total_bytes / total_seconds / 1e6:>6.1f}"
    )
    rest = 1 - totals.rest_out / totals.rest_in if totals.rest_in else 0.0
    label = f"all - {largest}"
    print(f"{label:19} {totals.rest_in:>9,} {totals.rest_out:>7,} {rest:>7.1%}")
    mean = sum(totals.reductions) / len(totals.reductions)
    print(f"{'mean of the logs':37} {mean:>7.1%}")
    return totals


def summary(runs: list[Totals], largest: str) -> None:
    """The aggregates side by side: over all logs (the largest dominates it), over all but the
    largest, and the mean of the logs' reductions; errors and facts kept."""
    print(f"\n{'budget':>7} {'all logs':>9} {'all - ' + largest:>14} {'mean':>7} {'errors':>11}"
          f" {'facts':>7}")  # fmt: skip
    for run in runs:
        print(run.row(largest))


def throughput() -> None:
    """MB/s of `compress` alone (no token counting) on the logs concatenated to ~20 MB."""
    from engine.compress import compress_stream, compress_text

    logs = b"".join((CACHE / f"{name}.log").read_bytes() for name in LOGS)
    text = (logs.decode("utf-8", "replace") * (20_000_000 // len(logs) + 1))[:20_000_000]
    seconds = best_time(lambda: compress_text(text))
    print(f"\ncompression alone, 20 MB of the logs repeated: {20 / seconds:.1f} MB/s")
    start = time.perf_counter()
    result = compress(text)
    seconds = time.perf_counter() - start
    print(f"with exact token counts of input and output: {20 / seconds:.1f} MB/s")
    print(f"  ({result.original_tokens:,} -> {result.compressed_tokens:,} tokens)")
    data = text.encode()
    workers = min(3, os.cpu_count() or 1)
    chunks = (data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20))
    start = time.perf_counter()
    compress_stream(chunks, workers=workers)
    seconds = time.perf_counter() - start
    print(
        f"the same streamed, counting in {workers} worker processes (the CLI's --stats): "
        f"{len(data) / seconds / 1e6:.1f} MB/s"
    )


HOST = re.compile(rb"(https?://)[\w.-]+")


def ablation(logs: dict[str, bytes], largest: str) -> None:
    """Which rules matter: the aggregate with one rule off at a time (no budget)."""
    import engine.compress as module

    never = re.compile(r"(?!)")
    variants: dict[str, dict[str, object]] = {
        "all rules": {},
        "no shape folding (exact repeats only)": {"_SHAPE": never, "_coarse": lambda key: key},
        "no merging of shapes by words": {"_coarse": lambda key: key},
        "no escape/progress resolving": {"resolve": lambda text: text},
        "one sample per fold, not 3+last": {"SAMPLES": 1},
        "no context lines around errors": {"CONTEXT_AFTER": 0},
        "no git/listing records (shapes only)": {"_detect": lambda lines: None},
        "no chatter folding (copying, adding...)": {"CHATTER_RUN": 1 << 30},
        "no shortening of paths, hashes, bars": {
            "_render": lambda items: [item.render() for item in items]
        },
        "all variants of a folded word shown": {"FOLD_WIDTH": 1 << 30},
    }
    texts = {name: raw.decode("utf-8", "replace") for name, raw in logs.items()}
    originals = {name: count_tokens(text).tokens for name, text in texts.items()}
    print(f"\n{'rule switched off':40} {'tokens':>8} {'all':>7} {'all - ' + largest:>9}")
    for label, patch in variants.items():
        saved = {key: getattr(module, key) for key in patch}
        for key, value in patch.items():
            setattr(module, key, value)
        try:
            after = {n: count_tokens(module.compress_text(t)).tokens for n, t in texts.items()}
        finally:
            for key, value in saved.items():
                setattr(module, key, value)
        total, rest = sum(after.values()), sum(v for n, v in after.items() if n != largest)
        rest_in = sum(v for n, v in originals.items() if n != largest)
        print(
            f"{label:40} {total:>8,} {1 - total / sum(originals.values()):>7.1%}"
            f" {1 - rest / rest_in:>9.1%}"
        )


def save_fixtures(logs: dict[str, bytes]) -> None:
    """Trimmed copies: the head and the tail of each log, where the facts are."""
    if FIXTURES.exists():
        shutil.rmtree(FIXTURES)
    FIXTURES.mkdir(parents=True)
    for name, raw in logs.items():
        raw = HOST.sub(rb"\1registry.invalid", raw)  # fixtures name no real hosts
        if len(raw) > FIXTURE_BYTES:
            half = FIXTURE_BYTES // 2
            head = raw[:half].rsplit(b"\n", 1)[0] + b"\n"
            tail = raw[-half:].split(b"\n", 1)[-1]
            raw = head + tail
        (FIXTURES / f"{name}.log").write_bytes(raw)
    print(f"fixtures written to {FIXTURES}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="run the tools again")
    parser.add_argument(
        "--budget", type=int, action="append", help="a budgeted run's tokens (1000, 1500, 3000)"
    )
    parser.add_argument("--save-fixtures", action="store_true")
    parser.add_argument("--only", help="one log")
    args = parser.parse_args()
    logs = gather(args.regenerate)
    if args.only:
        logs = {args.only: logs[args.only]}
    count_tokens("warm up the encoding")
    largest = max(logs, key=lambda name: len(logs[name]))
    runs = [table(logs, budget, largest) for budget in [None, *(args.budget or [1000, 1500, 3000])]]
    summary(runs, largest)
    if not args.only:
        throughput()
        ablation(logs, largest)
    if args.save_fixtures:
        save_fixtures(logs)


if __name__ == "__main__":
    main()
