"""How much `engine.compress` saves on real terminal logs, what it keeps, and how fast.

Run: `python tests/bench/bench_context.py [--regenerate] [--budget TOKENS] [--only LOG]
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
alone; then the aggregate (sum of compressed tokens / sum of original tokens), the same without
the listing (whose 2.4M tokens outweigh the rest) and the mean of the logs' reductions, without a
budget and with one. Then MB/s on 20 MB with and without exact token counts, and which rules
matter (the aggregate with one switched off at a time). `--save-fixtures` writes trimmed copies
(no real host names) to tests/fixtures/logs/compress/ for tests/test_compress.py.
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


def distinct_errors(text: str) -> set[str]:
    return {
        line.strip()
        for line in text.splitlines()
        if line.strip() and ERROR.search(FILE_NAME.sub(" ", line))
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
    if name == "git":
        match = re.search(r"^commit ([0-9a-f]{40})", text, re.M)
        return [match.group(1)] if match else []
    if name == "ls":
        return [re.escape(text.split("\n", 1)[0].rstrip(":"))]  # the top directory
    return KEY_FACTS[name]


def table(logs: dict[str, bytes], budget: int | None) -> None:
    print(f"\nbudget: {budget or 'none'}")
    head = f"{'log':8} {'bytes':>10} {'tokens':>9} {'after':>7} {'reduct':>7}"
    print(f"{head} {'errors':>9} {'facts':>6} {'MB/s':>6}  (MB/s: compress alone, best of 3)")
    total_in = total_out = 0
    total_bytes = 0
    total_seconds = 0.0
    rest_in = rest_out = 0  # all but the listing, whose 2.4M tokens outweigh the rest
    reductions = []
    errors_kept = errors_all = facts_kept_all = facts_all = 0
    for name, raw in logs.items():
        text = raw.decode("utf-8", "replace")
        result = compress(text, budget=budget)
        seconds = best_time(functools.partial(compress, text, budget=budget, count=False))
        clean = plain(raw)
        errors = distinct_errors(clean)
        kept = kept_errors(errors, result.text)
        facts = [f for f in facts_for(name, clean) if re.search(f, clean, re.M)]
        facts_kept = sum(1 for f in facts if re.search(f, result.text, re.M))
        total_in += result.original_tokens
        total_out += result.compressed_tokens
        if name != "ls":
            rest_in += result.original_tokens
            rest_out += result.compressed_tokens
        reductions.append(result.reduction)
        errors_kept += kept
        errors_all += len(errors)
        facts_kept_all += facts_kept
        facts_all += len(facts)
        total_bytes += len(raw)
        total_seconds += seconds
        print(
            f"{name:8} {len(raw):>10,} {result.original_tokens:>9,} {result.compressed_tokens:>7,}"
            f" {result.reduction:>7.1%} {kept:>4}/{len(errors):<4} {facts_kept:>2}/{len(facts):<3}"
            f" {len(raw) / seconds / 1e6:>6.1f}"
        )
    reduction = 1 - total_out / total_in if total_in else 0.0
    print(
        f"{'all':8} {total_bytes:>10,} {total_in:>9,} {total_out:>7,} {reduction:>7.1%}"
        f" {errors_kept:>4}/{errors_all:<4} {facts_kept_all:>2}/{facts_all:<3}"
        f" {total_bytes / total_seconds / 1e6:>6.1f}"
    )
    rest = 1 - rest_out / rest_in if rest_in else 0.0
    print(f"{'all - ls':8} {'':>10} {rest_in:>9,} {rest_out:>7,} {rest:>7.1%}")
    print(f"{'mean':8} {'':>10} {'':>9} {'':>7} {sum(reductions) / len(reductions):>7.1%}")


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


def ablation(logs: dict[str, bytes]) -> None:
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
    }
    texts = {name: raw.decode("utf-8", "replace") for name, raw in logs.items()}
    originals = {name: count_tokens(text).tokens for name, text in texts.items()}
    print(f"\n{'rule switched off':40} {'tokens':>8} {'all':>7} {'all - ls':>9}")
    for label, patch in variants.items():
        saved = {key: getattr(module, key) for key in patch}
        for key, value in patch.items():
            setattr(module, key, value)
        try:
            after = {n: count_tokens(module.compress_text(t)).tokens for n, t in texts.items()}
        finally:
            for key, value in saved.items():
                setattr(module, key, value)
        total, rest = sum(after.values()), sum(v for n, v in after.items() if n != "ls")
        rest_in = sum(v for n, v in originals.items() if n != "ls")
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
    parser.add_argument("--budget", type=int, default=1500, help="the budgeted run's tokens")
    parser.add_argument("--save-fixtures", action="store_true")
    parser.add_argument("--only", help="one log")
    args = parser.parse_args()
    logs = gather(args.regenerate)
    if args.only:
        logs = {args.only: logs[args.only]}
    count_tokens("warm up the encoding")
    table(logs, None)
    table(logs, args.budget)
    if not args.only:
        throughput()
        ablation(logs)
    if args.save_fixtures:
        save_fixtures(logs)


if __name__ == "__main__":
    main()
