"""How fast `OutputParser.parse` reads command output: MB/s per fixture and on big real output.

Run: `python tests/bench/bench_output_parser.py`. Prints a table; not part of the test suite.
Each fixture of tests/fixtures/logs/parser is parsed as it is (a few hundred bytes to a few KB:
the per-call cost dominates) and repeated to 1 MiB (the scanning cost dominates; the lists it
returns are capped, the counts are not). Then big output captured here and now: `ls -laR
/usr/lib`, `git log --stat` of this repository and `ps aux`, with their commands as hints.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench_tokens import best_of  # the scripts' directory is on sys.path when run

from engine.output import OutputParser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "parser"
REPO = Path(__file__).resolve().parents[2]
SIZE = 1 << 20
LIVE = [
    ("ls -laR /usr/lib", ["ls", "-laR", "/usr/lib"]),
    ("git log --stat", ["git", "-C", str(REPO), "log", "--stat", "-n", "2000"]),
    ("ps aux", ["ps", "aux"]),
]


def row(name: str, text: str, command: str | None, parser: OutputParser) -> str:
    size = len(text.encode())
    runs = max(3, min(200, (1 << 22) // max(1, size)))
    seconds = best_of(runs, lambda: parser.parse(text, command))
    kind = parser.parse(text, command).kind
    return (
        f"{name:34} {kind:15} {size / 1024:9.1f} KiB {seconds * 1e3:9.3f} ms "
        f"{size / seconds / 1e6:8.1f} MB/s"
    )


def main() -> None:
    parser = OutputParser()
    header = f"{'input':34} {'kind':15} {'size':>13} {'parse':>12} {'speed':>13}"
    print(header)
    print("-" * len(header))
    total_bytes, total_seconds = 0, 0.0
    for path in sorted(FIXTURES.glob("*.log")):
        text = path.read_text()
        print(row(path.name, text, None, parser))
        big = text * (SIZE // max(1, len(text)) + 1)
        line = row(f"  x{len(big) // len(text)} (1 MiB)", big, None, parser)
        print(line)
        total_bytes += len(big.encode())
        total_seconds += best_of(3, lambda big=big: parser.parse(big))  # type: ignore[misc]
    print(f"{'all fixtures at 1 MiB':50} {total_bytes / total_seconds / 1e6:31.1f} MB/s")
    print()
    for command, argv in LIVE:
        done = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
        print(row(command, done.stdout + done.stderr, command, parser))


if __name__ == "__main__":
    main()
