"""esctest (gnachman/esctest) against our terminal and tmux 3.3a: passes by test class.

Run: `python tests/bench/conformance_esctest.py [ESCTEST_DIR] [--mode own|assisted|both]`.
Without ESCTEST_DIR the GitHub mirror fetched for this project (/work/.mirror/gnachman+esctest)
is extracted to a temporary directory (the last commit that still holds the suite; esctest is
never copied into this repository). esctest is Python 2: a `python2` from PATH or pyenv runs it.
Not part of the test suite: it prints a report, no pass/fail.

Each test class is one esctest run (`--expected-terminal=xterm`, 80x25; esctest's default
checksum reading, which is xterm's default DECRQCRA: the negated sum):
in ours as the program of a `Session` (the terminal's answers go back through the PTY), in tmux
as the program of a pane. A class that outlives its deadline is stopped; its unreported tests
count as failed ("timeout").

esctest reads the screen with DECRQCRA (a checksum of one cell at a time) and the size with
`CSI 18 t`. Two modes:
- own: esctest talks to the terminal directly; only the terminal's own answers count.
- assisted: a small proxy between esctest and the terminal answers those two queries from the
  screen the terminal shows (after a `CSI 5 n` round trip, so it has parsed everything before):
  ours from `Session.capture_pane()`, tmux from `capture-pane` (tmux 3.3a has no DECRQCRA and
  swaps rows and columns in its `CSI 18 t` answer). Every other query is the terminal's.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import fcntl
import glob
import json
import os
import pty
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIRROR = Path("/work/.mirror/gnachman+esctest/repo")
COLUMNS, LINES = 80, 25
SCREEN_SOCKET = "CONFORMANCE_SCREEN"  # env: where the proxy asks our harness for the screen
JOBS = 4  # classes run at once per terminal: most of a run is waiting for answers
ENV = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TERM": "xterm"}

# -- finding esctest and python2 -------------------------------------------------------------


def extract_esctest(dest: Path) -> Path:
    """Extract the newest mirror commit that still has esctest/esctest.py into `dest`."""
    if not MIRROR.exists():
        sys.exit(
            f"no esctest: pass its checkout's path, or fetch github:gnachman/esctest to {MIRROR}"
        )
    git = ["git", "--git-dir", str(MIRROR)]
    commits = subprocess.run([*git, "rev-list", "HEAD"], capture_output=True, text=True, check=True)
    for commit in commits.stdout.split():
        has = subprocess.run(
            [*git, "cat-file", "-e", f"{commit}:esctest/esctest.py"], capture_output=True
        )
        if has.returncode == 0:
            archive = subprocess.run([*git, "archive", commit], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
            return dest
    sys.exit(f"no commit of {MIRROR} holds esctest/esctest.py")


def find_python2() -> str:
    """A Python 2 interpreter: esctest is written for 2.7."""
    candidates = [shutil.which("python2.7"), shutil.which("python2")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.*/bin/python")))
    for exe in filter(None, candidates):
        ok = subprocess.run(
            [exe, "-c", "import sys; sys.exit(sys.version_info[0] != 2)"], capture_output=True
        )
        if ok.returncode == 0:
            return exe
    sys.exit("esctest needs Python 2.7 (python2 on PATH or under ~/.pyenv/versions)")


def list_tests(python2: str, suite: Path) -> dict[str, list[str]]:
    """Test class -> its test names ("Class.test_x"), in esctest's order."""
    code = (
        "import escargs, inspect, json\n"
        "escargs.args = escargs.parser.parse_args(['--expected-terminal=xterm'])\n"
        "import tests\n"
        "print(json.dumps([[c.__name__, [c.__name__ + '.' + n for n, _ in "
        "inspect.getmembers(c, predicate=inspect.ismethod) if n.startswith('test_')]] "
        "for c in tests.tests]))\n"
    )
    out = subprocess.run(
        [python2, "-c", code], cwd=suite / "esctest", capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


# -- the proxy (runs inside the pane in assisted mode) ---------------------------------------

QUERY = re.compile(rb"\x1b\[(?:(\d*(?:;\d*)*)\*y|18t)")
UNFINISHED = re.compile(rb"\x1b(?:\[[\d;]*\*?)?$")


def cells(lines: list[str], columns: int, rows: int) -> list[list[str]]:
    """A captured screen as a grid of cells (a wide character fills two, the second empty)."""
    grid = []
    for text in (lines + [""] * rows)[:rows]:
        row: list[str] = []
        for ch in text:
            if unicodedata.combining(ch) and row:
                continue
            row.append(ch)
            if unicodedata.east_asian_width(ch) in "WF":
                row.append("")
        grid.append((row + [" "] * columns)[:columns])
    return grid


def checksum(grid: list[list[str]], params: list[int | None]) -> int:
    """xterm's default DECRQCRA without attributes: minus the 16-bit sum of the characters, a
    blank counting as a space (esctest reads a blank as empty)."""
    rows, columns = len(grid), len(grid[0]) if grid else 0
    top, left, bottom, right = (params + [None] * 6)[2:6]
    top, left = max(top or 1, 1), max(left or 1, 1)
    bottom, right = min(bottom or rows, rows), min(right or columns, columns)
    total = 0
    for y in range(top - 1, bottom):
        for x in range(left - 1, right):
            total += ord(grid[y][x][0]) if grid[y][x] else 0
    return -total & 0xFFFF


def proxy(argv: list[str]) -> int:
    """Run `argv` (esctest) on its own PTY, pass bytes both ways, answer DECRQCRA and CSI 18 t."""
    columns, rows = os.get_terminal_size(0)
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    tty.setraw(0)
    screen = os.environ.get(SCREEN_SOCKET, "").split()
    conn = None
    if screen:
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(screen[0])
    held = b""
    pending_in = b""
    grid: list[list[str]] | None = None  # valid until esctest writes anything else

    def capture() -> list[list[str]]:
        nonlocal pending_in
        os.write(1, b"\x1b[5n")  # the terminal answers once it has parsed all before this
        got = b""
        deadline = time.monotonic() + 10
        while b"\x1b[0n" not in got and time.monotonic() < deadline:
            if select.select([0], [], [], 0.5)[0]:
                got += os.read(0, 4096)
        pending_in += got.replace(b"\x1b[0n", b"", 1)
        if conn is not None:
            conn.sendall(f"capture {screen[1]}\n".encode())
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(65536)
            text = json.loads(data)
        else:
            pane = os.environ.get("TMUX_PANE", "")
            text = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", pane], capture_output=True, text=True
            ).stdout
        return cells(text.split("\n"), columns, rows)

    while True:
        if pending_in:
            os.write(master, pending_in)
            pending_in = b""
        ready = select.select([0, master], [], [], 0.2)[0]
        if 0 in ready:
            data = os.read(0, 4096)
            if not data:
                break
            os.write(master, data)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            held += data
            out = []
            pos = 0
            for match in QUERY.finditer(held):
                out.append(held[pos : match.start()])
                pos = match.end()
                if any(out):
                    os.write(1, b"".join(out))
                    out, grid = [], None
                if match.group(0).endswith(b"18t"):
                    pending_in += b"\x1b[8;%d;%dt" % (rows, columns)
                    continue
                params = [int(p) if p else None for p in match.group(1).split(b";")]
                if grid is None:
                    grid = capture()
                pending_in += b"\x1bP%d!~%04X\x1b\\" % (params[0] or 0, checksum(grid, params))
            rest = held[pos:]
            tail = UNFINISHED.search(rest)
            cut = tail.start() if tail else len(rest)
            out.append(rest[:cut])
            held = rest[cut:]
            if any(out):
                os.write(1, b"".join(out))
                grid = None
        if child.poll() is not None and master not in ready:
            break
    return child.wait()


# -- results ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One test's result: passed, failed (with the reason), known (an xterm bug), skipped."""

    status: str
    reason: str = ""


def parse_log(text: str, names: list[str]) -> dict[str, Outcome]:
    """esctest's log -> an outcome per test; tests it never reported failed ("timeout")."""
    results: dict[str, Outcome] = {}
    current = None
    failing: list[str] = []

    def close() -> None:
        if current is not None and failing:
            results[current] = Outcome("failed", _exception(failing))

    for line in text.splitlines():
        if line.startswith("Run test: "):
            close()
            current, failing = line[len("Run test: ") :].strip(), []
        elif current is None:
            continue
        elif line == "Passed.":
            results[current] = Outcome("passed")
        elif line.startswith("Fails as expected:"):
            results[current] = Outcome("known", line.split(":", 1)[1].strip())
        elif line.startswith("Skipped because"):
            results[current] = Outcome("skipped", line)
        elif line.startswith("*** TEST ") or failing:
            failing.append(line)
    close()
    for name in names:
        results.setdefault(name, Outcome("failed", "timeout: no result"))
    return results


LOGS: Path | None = None  # --logs: keep each class's esctest log here


def keep(log: Path, terminal: str) -> str:
    """The text of an esctest log (empty if it never started), kept under LOGS if asked."""
    text = log.read_text(errors="replace") if log.exists() else ""
    if LOGS is not None:
        LOGS.mkdir(parents=True, exist_ok=True)
        Path(LOGS, f"{terminal}-{log.name}").write_text(text)
    return text


def _exception(lines: list[str]) -> str:
    """The exception line of a failed test's traceback (and a checksum failure's first cell)."""
    for i, line in enumerate(lines):
        if line[:1].isalpha() and not line.startswith(("Traceback", "*** ")):
            more = lines[i + 1].strip() if line.startswith("ChecksumException") else ""
            return f"{line.strip()} {more}".strip()
    return "failed"


def deadline_for(tests: list[str], timeout: float) -> float:
    """Seconds a class may take: a read timeout for every few queries of each test, at least 20."""
    return 20 + len(tests) * (1 + 4 * timeout)


def esctest_argv(python2: str, suite: Path, cls: str, log: Path, timeout: float) -> list[str]:
    return [
        python2,
        str(suite / "esctest" / "esctest.py"),
        "--expected-terminal=xterm",
        f"--include=^{cls}\\.",
        f"--logfile={log}",
        f"--timeout={timeout}",
        "--no-print-logs",
        "--v=2",
    ]


def wrap(argv: list[str], assisted: bool) -> list[str]:
    if not assisted:
        return argv
    return [sys.executable, str(Path(__file__).resolve()), "--proxy", "--", *argv]


# -- ours ------------------------------------------------------------------------------------


async def run_ours(
    python2: str, suite: Path, classes: dict[str, list[str]], assisted: bool, timeout: float
) -> dict[str, Outcome]:
    """Each class as the program of its own `Session`, JOBS classes at a time."""
    sys.path.insert(0, str(ROOT))
    from engine import Session, SessionConfig

    results: dict[str, Outcome] = {}
    sessions: dict[str, Session] = {}
    todo = sorted(classes, key=lambda c: -len(classes[c]))  # the longest first
    with tempfile.TemporaryDirectory() as tmp:

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while line := await reader.readline():
                screen = sessions[line.decode().split()[1]].capture_pane()
                writer.write(json.dumps(screen).encode() + b"\n")
                await writer.drain()
            writer.close()

        sock = str(Path(tmp, "screen.sock"))
        server = await asyncio.start_unix_server(serve, path=sock)

        async def worker() -> None:
            while todo:
                cls = todo.pop(0)
                log = Path(tmp, f"{cls}.log")
                argv = wrap(esctest_argv(python2, suite, cls, log, timeout), assisted)
                env = dict(ENV, **{SCREEN_SOCKET: f"{sock} {cls}"})
                session = Session(
                    SessionConfig(
                        shell_command=argv,
                        environment=env,
                        pty_size=(LINES, COLUMNS),
                        working_directory=suite / "esctest",
                    )
                )
                sessions[cls] = session
                await session.start()
                with contextlib.suppress(TimeoutError):  # a hung class: stopped below
                    await asyncio.wait_for(session.wait(), deadline_for(classes[cls], timeout))
                await session.stop(grace=0.5)
                mode = "assisted" if assisted else "own"
                results.update(parse_log(keep(log, f"ours-{mode}"), classes[cls]))

        await asyncio.gather(*(worker() for _ in range(JOBS)))
        server.close()
    return results


# -- tmux ------------------------------------------------------------------------------------


def run_tmux(
    python2: str, suite: Path, classes: dict[str, list[str]], assisted: bool, timeout: float
) -> dict[str, Outcome]:
    """Each class as the program of its own tmux session (one server), JOBS at a time."""
    results: dict[str, Outcome] = {}
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")} | ENV
    todo = sorted(classes, key=lambda c: -len(classes[c]))
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp, "tmux.conf")
        conf.write_text(f"set -g status off\nset -g default-size {COLUMNS}x{LINES}\n")
        base = ["tmux", "-S", str(Path(tmp, "tmux.sock")), "-f", str(conf)]  # gone with tmp
        # A session that outlives the classes' keeps the server up between them.
        subprocess.run(
            [*base, "new-session", "-d", "-s", "keep", "sleep 3600"], env=env, check=True
        )

        def worker() -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    cls = todo.pop(0)
                log = Path(tmp, f"{cls}.log")
                argv = wrap(esctest_argv(python2, suite, cls, log, timeout), assisted)
                command = f"cd {suite / 'esctest'} && exec " + " ".join(map(_quote, argv))
                size = ["-x", str(COLUMNS), "-y", str(LINES)]
                subprocess.run(
                    [*base, "new-session", "-d", "-s", cls, *size, command], env=env, check=True
                )
                end = time.monotonic() + deadline_for(classes[cls], timeout)
                while time.monotonic() < end:
                    alive = subprocess.run(
                        [*base, "has-session", "-t", f"={cls}"], capture_output=True
                    )
                    if alive.returncode != 0:
                        break
                    time.sleep(0.05)
                else:
                    subprocess.run([*base, "kill-session", "-t", f"={cls}"], capture_output=True)
                mode = "assisted" if assisted else "own"
                found = parse_log(keep(log, f"tmux-{mode}"), classes[cls])
                with lock:
                    results.update(found)

        try:
            threads = [threading.Thread(target=worker) for _ in range(JOBS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            subprocess.run([*base, "kill-server"], capture_output=True)
    return results


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


# -- report ----------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    results: dict[str, Outcome] = field(default_factory=dict)

    def passed(self, names: list[str]) -> int:
        return sum(self.results[n].status == "passed" for n in names)


def report(classes: dict[str, list[str]], runs: list[Run]) -> None:
    """Passes by class, side by side, then totals."""
    head = "| class | tests | " + " | ".join(r.label for r in runs) + " |"
    print(head)
    print("|---|---:|" + "---:|" * len(runs))
    for cls, names in classes.items():
        print(f"| {cls} | {len(names)} | " + " | ".join(str(r.passed(names)) for r in runs) + " |")
    every = [n for names in classes.values() for n in names]
    print(
        f"| **total** | {len(every)} | " + " | ".join(f"**{r.passed(every)}**" for r in runs) + " |"
    )
    print()
    for r in runs:
        counts = collections.Counter(r.results[n].status for n in every)
        print(f"{r.label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print()


def regressions(classes: dict[str, list[str]], ours: Run, tmux: Run) -> None:
    """Tests tmux passes and ours does not, grouped by our failure reason."""
    every = [n for names in classes.values() for n in names]
    lost = [
        n
        for n in every
        if tmux.results[n].status == "passed" and ours.results[n].status != "passed"
    ]
    print(f"### Pass in tmux, fail in ours ({ours.label} vs {tmux.label}): {len(lost)}")
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for n in lost:
        o = ours.results[n]
        groups[f"{o.status}: {o.reason[:160]}"].append(n)
    for reason, names in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"- {reason}")
        for n in names:
            print(f"    - {n}")
    gained = [
        n
        for n in every
        if ours.results[n].status == "passed" and tmux.results[n].status != "passed"
    ]
    print(f"\n### Pass in ours, fail in tmux: {len(gained)}")
    print("    " + " ".join(gained))
    print()


async def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--proxy":
        sys.exit(proxy(sys.argv[3:] if sys.argv[2:3] == ["--"] else sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("esctest", nargs="?", help="an esctest checkout (default: the mirror)")
    parser.add_argument("--mode", choices=["own", "assisted", "both"], default="both")
    parser.add_argument("--include", default=".*", help="regex on test class names")
    parser.add_argument("--timeout", type=float, default=0.5, help="esctest's read timeout (s)")
    parser.add_argument("--json", help="write every outcome to this file")
    parser.add_argument("--logs", help="keep esctest's logs in this directory")
    args = parser.parse_args()
    global LOGS
    LOGS = Path(args.logs) if args.logs else None
    tmp = tempfile.TemporaryDirectory()
    suite = Path(args.esctest) if args.esctest else extract_esctest(Path(tmp.name))
    python2 = find_python2()
    classes = {c: n for c, n in list_tests(python2, suite).items() if re.search(args.include, c)}
    modes = ["own", "assisted"] if args.mode == "both" else [args.mode]
    runs: list[Run] = []
    started = time.monotonic()
    for mode in modes:
        assisted = mode == "assisted"
        tmux_job = asyncio.to_thread(run_tmux, python2, suite, classes, assisted, args.timeout)
        ours_res, tmux_res = await asyncio.gather(
            run_ours(python2, suite, classes, assisted, args.timeout), tmux_job
        )
        runs += [Run(f"ours {mode}", ours_res), Run(f"tmux {mode}", tmux_res)]
    print(
        f"esctest: {sum(map(len, classes.values()))} tests in {len(classes)} classes, "
        f"{time.monotonic() - started:.0f}s\n"
    )
    report(classes, runs)
    for i in range(0, len(runs), 2):
        regressions(classes, runs[i], runs[i + 1])
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {r.label: {n: [o.status, o.reason] for n, o in r.results.items()} for r in runs},
                indent=1,
            )
        )
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
