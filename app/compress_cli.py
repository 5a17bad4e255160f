"""`ai-session compress [FILE|-] [--budget TOKENS] [--command CMD] [--stats]`: a terminal log,
compressed (`--command` names what printed it: `git log` turns on the commit rules).

Offline: no instance needed. The input is read as bytes in chunks and compressed as a stream
(engine.compress.compress_stream), so a log of any size on stdin runs in bounded memory.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

CHUNK = 1 << 20  # bytes read at once
# --stats counts the input's tokens in forked processes while this one compresses: tiktoken, at
# ~7-10 MB/s a process, is the slower half (3 keep up with compressing). This command is
# single-threaded, so forking is safe. 24 MB with --stats on 2 CPUs: 3.8 s alone, 2.9 s with 2.
COUNTING_WORKERS = min(3, os.cpu_count() or 1)


def arguments() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    return [
        (("file",), {"nargs": "?", "default": "-", "help": "the log (default or -: stdin)"}),
        (("--budget",), {"type": int, "help": "at most this many tokens (cl100k)"}),
        (("--command",), {"help": "the command line that printed the log (git log, ls -laR)"}),
        (
            ("--stats",),
            {"action": "store_true", "help": "print a JSON line of figures to stderr"},
        ),
    ]


def run(args: Any) -> int:
    from engine.compress import CompressError, compress_stream

    if args.budget is not None and args.budget < 1:
        print("ai-session compress: --budget wants a positive number of tokens", file=sys.stderr)
        return 2
    try:
        source = _open(args.file)
    except OSError as exc:
        print(f"ai-session compress: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        with source:
            workers = COUNTING_WORKERS if args.stats else 0
            result = compress_stream(
                _chunks(source),
                budget=args.budget,
                count=args.stats,
                workers=workers,
                command=args.command,
            )
    except CompressError as exc:
        print(
            f"ai-session compress: {args.file if args.file != '-' else 'stdin'}: {exc}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"ai-session compress: reading {args.file} failed: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        print(f"ai-session compress: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    try:
        if result.text:
            sys.stdout.write(result.text + "\n")
            sys.stdout.flush()
    except BrokenPipeError:  # `ai-session compress log | head`
        sys.stderr.close()
        return 0
    if args.stats:
        print(json.dumps(result.to_stats()), file=sys.stderr)
    return 0


def _open(name: str) -> BinaryIO:
    if name == "-":
        return sys.stdin.buffer
    return open(name, "rb")


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk
