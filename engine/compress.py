"""Output compression: a raw terminal log turned into what a reader (or a model) needs.

Three passes, each cheap per line because the work is done by whole-text regex substitutions:

1. Resolve what the screen finally showed: escapes removed, carriage-return progress bars and
   backspaces replayed with the terminal's overwrite semantics (a line keeps its last state),
   erase-in-line and cursor-up honoured. `resolve()` is a line model, not the full terminal
   (engine/terminal.py does the same for progress bars at a tenth of the speed).
2. Fold by shape: every line gets a template (numbers, hashes, paths, file and identifier names
   replaced by a slot) and lines sharing a template anywhere in the log become one line, the
   slots listing a few of their values, with a count.
3. Keep what matters verbatim: every distinct error line with a line before and two after,
   summary facts (`3 failed, 20 passed`, `added 65 packages`, `Successfully installed ...`),
   warnings (folded, never dropped before noise).

Records, recognised from the command (`compress(command=...)`) or the log's first lines: a git
log keeps its newest commit whole and each older one as `a1b2c3d subject (3 files, +40 -12)`
(commit messages are never errors); a listing (`ls -l`, `ls -laR`, `find`) becomes a line per
directory under the top one with its entries, bytes and a few names. Then a build's chatter
(`copying`, `adding`, `running` ... lines) folds to its action words with counts, adjacent
summary lines of one shape (pip's `Saved X` per file) to one listing every variant, and noise
shows long paths, hashes and progress bars shortened.

With a token budget the least important items go first: repetitive noise, single noise lines,
warnings, context; errors and facts only when they alone exceed the budget. A note says how much
was dropped. `compress_stream` does the same over byte chunks in bounded memory.
"""

from __future__ import annotations

import codecs
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.tokens import count_tokens

WINDOW = 1 << 20  # characters folded at once: whole-text regexes pay off, memory stays small
MAX_LINE = 1 << 16  # a line longer than this (no newline in sight) is cut and folded in parts
MAX_SAMPLE = 400  # characters of a sample line kept for a group
MAX_GROUPS = 5000  # groups kept (after merging); lines of later new shapes are only counted
MAX_TEMPLATES = 50000  # distinct line shapes remembered
MAX_KEPT = 2000  # distinct error, fact and context lines kept verbatim
MAX_KEY = 240  # characters of a shape used as its key (longer: the head and a hash)
MAX_KEPT_LINE = 2000  # characters of an error or fact line kept
MAX_PER_SHAPE = 50  # distinct error lines of one shape kept verbatim; more are folded
SAMPLES = 3  # distinct lines a group shows besides its last
FOLD_WIDTH = 48  # characters of a folded word's variants shown (the first and last always)
MAX_ALIKE = 20  # groups of one coarse shape compared with each new one when merging
BINARY_PROBE = 8000  # git's rule: a NUL in the first 8000 bytes means binary
CONTEXT_BEFORE = 2  # lines kept before an error (a traceback's last frame and its source line)
CONTEXT_AFTER = 2  # and after it (a compiler's source line and caret)
PARALLEL_PIECE = 1 << 18  # text counted in a worker process comes in pieces of at least this
NOTE_TOKENS = 40  # what the note saying what was dropped costs, about

# Kinds, in the order the budget drops them (lowest first).
NOISE_REPEATED, NOISE, WARNING, CONTEXT, ERROR, FACT = range(6)

_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_ESCAPE = re.compile(
    r"\x1b\[([0-?]*)[ -/]*([@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # other escapes (charset designations, keypad modes)
)
_CONTROL = re.compile(r"[\x00-\x07\x0b\x0c\x0e-\x1f\x7f]")
# Markers, while resolving, for erase to the line end, the whole line, to the cursor; cursor up
# and right (cursor left is a backspace).
_ERASE, _ERASE_ALL, _ERASE_START = "\ue000", "\ue002", "\ue003"
_UP, _RIGHT = "\ue001", "\ue004"
_MOVES = re.compile(f"([\r\b\n{_ERASE}{_ERASE_ALL}{_ERASE_START}{_UP}{_RIGHT}])")
_OVERWRITES = ("\r", "\b", _ERASE, _ERASE_ALL, _ERASE_START, _RIGHT)

# What varies between lines of one shape: a whitespace-separated word holding a digit, a path
# separator, an underscore, a dot, a quote or a plus (numbers, versions, hashes, paths, file and
# test names, `+++--` stat bars). Whole words, found with a look-behind that fails at once inside
# a word, so one pass runs at ~30 MB/s where an alternation of token kinds ran at 6.
_SHAPE = re.compile(r"(?<![^\s(\[{,=;])[^\s\d/_.'\"+‘]*[\d/_.'\"+‘][^\s,;)\]}]*")
_SLOT = "\x01"
_SPACES = re.compile(r"[ \t]+")
_WORD = re.compile(r"[A-Za-z][\w-]*")
_PROSE = re.compile(r"(?:[A-Za-z]{3,}[ ,:]+){4}")  # a sentence: its words are not folded

# Summary lines, matched on shapes (numbers being \x01): at the start of a line, or anywhere by
# substring (a regex alternation searched at every position cost ~10 µs a line). Case matters:
# pytest's summary says "3 passed" where its verbose lines say "PASSED".
_FACT_START = re.compile(
    r"=+ .* in \x01|(?:FAILED|ERROR) \S|Successfully (?:installed|built|uninstalled|downloaded)\b"
    r"|Saved \S|(?:ok|FAIL|PASS)\s+\S|\s*Finished\b|Ran \x01 tests?|OK(?: \(|$)|FAILED \("
    r"|Tests?:\s+\x01|Test Suites:|(?:added|removed|changed|audited) \x01 packages?"
)
_FACT_ANYWHERE = (
    "short test summary", "up to date", "test result:",
    "BUILD SUCCESSFUL", "BUILD FAILED", "Done in ", "\x01 vulnerabilit", " warnings generated",
    " warning generated", " errors generated", " error generated",
)  # fmt: skip
# Test counts: a summary has two (`1 failed, 20 passed`) or is a banner (`=== 3 passed in 2s ===`);
# one count mid-line (`unit 3 failed`) is an error line, not a summary.
_COUNTS = re.compile(
    r"\x01 (?:passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)"
    r"(?=[,;]| in |$| \()"
)
_PACKAGES = re.compile(r"\b(?:added|removed|changed|audited) \x01 packages?\b")  # npm

# Errors, warnings: words (a set lookup per line shape) and phrases (substring tests); a
# case-insensitive alternation of them cost ~40 µs a line.
_ERROR_WORDS = frozenset({
    "error", "errors", "fatal", "failed", "failure", "fail", "exception", "panic", "panicked",
    "abort", "aborted", "cannot", "undeclared", "err!", "traceback",
})  # fmt: skip
_ERROR_PHRASES = (
    "not found", "no such file", "permission denied", "could not", "unable to",
    "segmentation fault", "core dumped", "undefined reference",
)  # fmt: skip
_ERROR_CAMEL = re.compile(r"[a-z](?:Error|Exception)\b")  # ValueError, HttpErrorGeneral
_WARNING_WORDS = frozenset({"warn", "warning", "warnings", "deprecated", "deprecation"})
_FACT_WORDS = frozenset({
    "passed", "failed", "error", "errors", "skipped", "deselected", "xfailed", "xpassed", "added",
    "removed", "changed", "audited", "date", "vulnerabilities", "vulnerability", "successfully",
    "saved", "result", "ok", "fail", "pass", "build", "finished", "done", "ran", "generated",
    "warnings", "warning", "tests", "test", "suites", "summary",
})  # fmt: skip
_LOWER_WORDS = re.compile(r"[a-z]+!?")


class CompressError(ValueError):
    """Input compress cannot take (binary data); the message says what was wrong."""


@dataclass
class Compressed:
    """A compressed log and the figures `--stats` prints."""

    text: str
    original_tokens: int
    compressed_tokens: int
    estimated: bool  # a heuristic counted (tiktoken could not load)
    original_bytes: int
    compressed_bytes: int
    seconds: float
    original_lines: int = 0
    compressed_lines: int = 0
    dropped_lines: int = 0  # lines left out to fit the budget
    dropped_tokens: int = 0
    budget: int | None = None
    invalid_utf8: bool = False  # bytes that were not UTF-8 were read as U+FFFD
    counted: bool = True  # False when the original was not counted (original_tokens is 0)

    @property
    def reduction(self) -> float:
        """Share of the original tokens saved, 0..1."""
        if not self.original_tokens:
            return 0.0
        return max(0.0, 1 - self.compressed_tokens / self.original_tokens)

    def to_stats(self) -> dict[str, Any]:
        """The `--stats` JSON line."""
        stats: dict[str, Any] = {
            "original_tokens": self.original_tokens if self.counted else None,
            "compressed_tokens": self.compressed_tokens,
            "reduction": round(self.reduction, 4) if self.counted else None,
            "estimated": self.estimated,
            "bytes_in": self.original_bytes,
            "bytes_out": self.compressed_bytes,
            "lines_in": self.original_lines,
            "lines_out": self.compressed_lines,
            "seconds": round(self.seconds, 4),
        }
        if self.budget is not None:
            stats.update(
                budget=self.budget,
                dropped_lines=self.dropped_lines,
                dropped_tokens=self.dropped_tokens,
            )
        if self.invalid_utf8:
            stats["invalid_utf8"] = True
        return stats


def compress(
    text: str, *, budget: int | None = None, command: str | None = None, count: bool = True
) -> Compressed:
    """Compress one log. `count=False` skips counting the original's tokens (tiktoken runs at
    ~7-10 MB/s, slower than compressing), leaving `original_tokens` 0 and `counted` False.
    `command` is the command line that printed the text: `git log` turns on the commit rules
    even when the log does not start with a commit (they also start when it does)."""
    start = time.perf_counter()
    _check_binary(text[:BINARY_PROBE], text[:65536])
    folder = _Folder(command)
    counter = _Counter(count)
    size = 0
    for window in _windows(text):
        size += len(window.encode("utf-8", "surrogatepass"))
        counter.add(window)
        folder.feed(window)
    folder.finish()
    counter.add("", final=True)
    original = _Count(counter.tokens, counter.estimated) if count else None
    return folder.result(start, budget, size, original, invalid=False)


def compress_text(text: str, command: str | None = None) -> str:
    """Only the compressed text: no token counts, no budget (what the bench times)."""
    folder = _Folder(command)
    for window in _windows(text):
        folder.feed(window)
    folder.finish()
    return "\n".join(_render(folder.items()))


def _windows(text: str) -> Iterable[str]:
    """`text` in pieces of about WINDOW characters, each cut after a newline (a progress line is
    never cut in two) that the next line's first character is not whitespace after (where the
    tokenizer joins nothing across the cut, so counts of the pieces add up exactly)."""
    at = 0
    while at < len(text):
        end = _cut(text, at + WINDOW)
        yield text[at:end]
        at = end


def _cut(text: str, start: int) -> int:
    """The first place from `start` just after a newline that a non-space follows; the end of
    the text when there is none within MAX_LINE."""
    limit = start + MAX_LINE
    at = text.find("\n", start)
    while 0 <= at < limit:
        if at + 1 < len(text) and not text[at + 1].isspace():
            return at + 1
        at = text.find("\n", at + 1)
    return len(text) if at < 0 or at >= len(text) else at + 1


def compress_stream(
    chunks: Iterable[bytes],
    *,
    budget: int | None = None,
    count: bool = True,
    workers: int = 0,
    command: str | None = None,
) -> Compressed:
    """Compress a byte stream of any length in bounded memory: it is decoded (invalid UTF-8
    becomes U+FFFD and the result says so), resolved and folded a window at a time; only the
    groups, kept lines and counts stay. `workers` > 0 counts the original's tokens in that many
    forked processes (only for a single-threaded program, such as the CLI)."""
    start = time.perf_counter()
    folder = _Folder(command)
    counter = _Counter(count, workers)
    decoder = _Decoder()
    try:
        size = _fold_stream(chunks, folder, counter, decoder)
    except BaseException:
        counter.abort()  # a refused input or ^C: the workers stop, nothing waits for them
        raise
    original = _Count(counter.tokens, counter.estimated) if count else None
    return folder.result(start, budget, size, original, invalid=decoder.invalid)


def _fold_stream(
    chunks: Iterable[bytes], folder: _Folder, counter: _Counter, decoder: _Decoder
) -> int:
    """compress_stream's loop: decode, probe for binary, count and fold; the bytes read."""
    size = 0
    head = bytearray()
    probing = True
    pending = ""
    for chunk in chunks:
        size += len(chunk)
        if probing:
            head += chunk
            if len(head) < 65536:
                continue
            probing = False
            text = decoder.decode(bytes(head))
            _check_binary(text[:BINARY_PROBE], text[:65536])
            head.clear()
        else:
            text = decoder.decode(chunk)
        counter.add(text)
        pending = _feed_stream(folder, pending + text)
    if probing:
        text = decoder.decode(bytes(head))
        _check_binary(text[:BINARY_PROBE], text)
        counter.add(text)
        pending = _feed_stream(folder, pending + text)
    tail = decoder.decode(b"", final=True)
    folder.feed(pending + tail)
    folder.finish()
    counter.add(tail, final=True)  # waits for the workers' last counts
    return size


class _Counter:
    """Tokens of a text that arrives in pieces, counted a run of whole lines at a time (cut after
    a newline a non-space follows: the tokenizer joins nothing across such a cut, so the sum is
    the whole text's count); nothing when `enabled` is False.

    tiktoken holds the GIL and counts at ~7-10 MB/s, half the speed of compressing, so with
    `workers` the pieces are counted in that many forked processes while this one compresses
    (for a program of its own such as the CLI: forking a process with threads is unsafe)."""

    def __init__(self, enabled: bool, workers: int = 0) -> None:
        self.enabled = enabled
        self.tokens = 0
        self.estimated = False
        self._pending = ""
        self._workers = workers
        self._pool: Any = None
        self._futures: deque[tuple[Any, str]] = deque()

    def add(self, text: str, final: bool = False) -> None:
        if not self.enabled:
            return
        text = self._pending + text
        cut = len(text) if final else _last_cut(text)
        if not cut and len(text) > MAX_LINE:
            cut = len(text)  # one endless line: counted in parts, a token off at the cuts
        self._pending = text[cut:]
        if cut:
            self._count(text[:cut])
        if final:
            self.close()

    def _count(self, piece: str) -> None:
        if self._workers and len(piece) >= PARALLEL_PIECE and self._start_pool():
            self._futures.append((self._pool.submit(_count_piece, piece), piece))
            while len(self._futures) > 2 * self._workers:  # a few pieces in flight, no more
                self._collect()
            return
        counted = count_tokens(piece)
        self._take((counted.tokens, counted.estimated))

    def _start_pool(self) -> bool:
        """The worker pool, started on first use; False (count here) when it cannot start."""
        if self._pool is None:
            try:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                context = multiprocessing.get_context("fork")
                self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
            except (OSError, ValueError, ImportError):  # no fork, no semaphores: count here
                self._workers = 0
                return False
        return True

    def _collect(self) -> None:
        future, piece = self._futures.popleft()
        try:
            self._take(future.result())
        except Exception:  # a worker died (BrokenProcessPool): count its piece here
            counted = count_tokens(piece)
            self._take((counted.tokens, counted.estimated))

    def _take(self, counted: tuple[int, bool]) -> None:
        self.tokens += counted[0]
        self.estimated = self.estimated or counted[1]

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._futures.clear()

    def close(self) -> None:
        while self._futures:
            self._collect()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _count_piece(piece: str) -> tuple[int, bool]:
    """A worker's count (a module-level function, so a process pool can call it)."""
    counted = count_tokens(piece)
    return counted.tokens, counted.estimated


def _last_cut(text: str) -> int:
    """Just after the last newline that a non-space follows (0: none yet)."""
    at = text.rfind("\n", 0, len(text) - 1)
    while at >= 0 and text[at + 1].isspace():
        at = text.rfind("\n", 0, at)
    return at + 1


class _Decoder:
    """Incremental UTF-8 that switches to U+FFFD replacement at the first invalid byte."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.invalid = False

    def decode(self, data: bytes, final: bool = False) -> str:
        try:
            return self._decoder.decode(data, final)
        except UnicodeDecodeError:
            self.invalid = True
            self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
            return self._decoder.decode(data, final)


@dataclass(frozen=True)
class _Count:
    tokens: int
    estimated: bool


def _feed_stream(folder: _Folder, text: str) -> str:
    """Feed the complete lines of `text`; return the unfinished last line (bounded: a long
    progress line is replayed so far and kept as its state; a long plain one is cut)."""
    cut = text.rfind("\n") + 1
    if cut == 0 and len(text) > MAX_LINE:
        last_cr = text.rfind("\r")
        if last_cr > 0:
            text = _overwrite(resolve(text[:last_cr])) + text[last_cr:]
        if len(text) > MAX_LINE:
            cut = len(text)
    for window in _windows(text[:cut]):  # a caller's huge chunk is folded a window at a time
        folder.feed(window)
    return text[cut:]


def _check_binary(probe: str, sample: str) -> None:
    if "\x00" in probe:
        raise CompressError(
            f"input looks binary (a NUL byte at offset {probe.index(chr(0))}); "
            "compress takes terminal text"
        )
    if len(sample) >= 512:
        odd = len(_CONTROL.findall(sample)) - sample.count("\x1b") + sample.count("\ufffd")
        if odd > len(sample) * 0.3:
            raise CompressError(
                f"input looks binary ({odd * 100 // len(sample)} % of the first "
                f"{len(sample):,} characters are control bytes or not UTF-8); "
                "compress takes terminal text"
            )


# --- resolving ---------------------------------------------------------------------------------


def _escape(match: re.Match[str]) -> str:
    final = match.group(2)
    if final is None:
        return ""
    params = match.group(1)
    if final == "K":
        return {"": _ERASE, "0": _ERASE, "1": _ERASE_START, "2": _ERASE_ALL}.get(params, "")
    count = max(1, min(int(params), 500)) if params.isdigit() else 1  # 0 means 1, as in xterm
    if final in "AF":  # cursor up (F: and to the line start)
        return _UP * count + ("\r" if final == "F" else "")
    if final == "G":  # cursor to a column (1 is the first)
        return "\r" + _RIGHT * (count - 1)
    if final == "C":  # cursor right: what was there shows through
        return _RIGHT * count
    if final == "D":  # cursor left
        return "\b" * count
    return ""


def resolve(text: str) -> str:
    """What a terminal would show for `text`, as lines of plain text (tabs kept)."""
    if "\x1b" in text:
        text = _SGR.sub("", text)
        if "\x1b" in text:
            text = _ESCAPE.sub(_escape, text)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")  # the same on a screen, and no replay per line
    if _UP in text:
        return _replay(text)
    if not any(mark in text for mark in _OVERWRITES):
        return text
    return "\n".join(
        _replay(line) if any(mark in line for mark in _OVERWRITES) else line
        for line in text.split("\n")
    )


def _overwrite(line: str) -> str:
    """One line's final state (the stream's long progress lines are settled with it)."""
    return _replay(line)


def _replay(text: str) -> str:
    """The rows a terminal ends with: text overwrites from the cursor, CR goes to the line
    start, backspace one back, newline to the next line's start (a PTY's onlcr), erases cut the
    row, cursor-up goes back a row keeping the column. No wrapping: a row is a whole line.
    Trailing spaces dropped, as a capture does."""
    rows = [""]
    row = col = 0
    for piece in _MOVES.split(text):
        if not piece:
            continue
        if piece == "\n":
            row += 1
            col = 0
            if row == len(rows):
                rows.append("")
        elif piece == "\r":
            col = 0
        elif piece == "\b":
            col = max(0, col - 1)
        elif piece == _RIGHT:
            col += 1
        elif piece == _UP:
            row = max(0, row - 1)
        elif piece == _ERASE:
            rows[row] = rows[row][:col]
        elif piece == _ERASE_ALL:
            rows[row] = ""
        elif piece == _ERASE_START:
            rows[row] = " " * (col + 1) + rows[row][col + 1 :]
        else:
            line = rows[row]
            if col > len(line):
                line += " " * (col - len(line))
            rows[row] = line[:col] + piece + line[col + len(piece) :]
            col += len(piece)
    return "\n".join(line.rstrip(" ") for line in rows)


# --- folding -----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Line:
    """A line kept verbatim (an error, a fact, a context line), with its repeat count."""

    text: str
    kind: int
    count: int = 1
    rank: int = 0  # context lines: how far from their error (0: right after, 1: right before)

    def render(self) -> str:
        return self.text if self.count == 1 else f"{self.text}  (× {self.count})"

    @property
    def lines(self) -> int:
        return self.count


@dataclass(eq=False)
class _Group:
    """Lines of one shape: how many, the first few distinct ones and the last."""

    kind: int
    key: str
    samples: list[str] = field(default_factory=list)
    rank: int = 0
    count: int = 0
    last: str = ""
    last_at: int = 0

    def add(self, line: str, at: int) -> None:
        line = line[:MAX_SAMPLE]  # the same object when shorter: no copy per line
        self.count += 1
        self.last = line
        self.last_at = at
        if len(self.samples) < SAMPLES and line not in self.samples:
            self.samples.append(line)

    def merge(self, other: _Group) -> None:
        self.count += other.count
        for line in other.samples:
            if len(self.samples) < SAMPLES and line not in self.samples:
                self.samples.append(line)
        if other.last_at > self.last_at:
            self.last, self.last_at = other.last, other.last_at

    @property
    def lines(self) -> int:
        return self.count

    def render(self) -> str:
        first = self.samples[0]
        if self.count == 1:
            return first
        last = self.last
        lines = self.samples if last in self.samples else [*self.samples, last]
        if len(lines) == 1:
            return f"{first}  (× {self.count})"
        return f"{_fold(lines, self.count > len(lines))}  (× {self.count})"


def _fold(lines: list[str], more: bool, width: int | None = None) -> str:
    """Lines of one shape as one: word by word, a word that varies shown as {a,b,…,z} (all
    of its variants when `width` is 0; FOLD_WIDTH characters of them by default)."""
    if width is None:
        width = FOLD_WIDTH
    words = [line.split() for line in lines]
    if any(len(w) != len(words[0]) for w in words):
        return f"{lines[0]}  …  {lines[-1]}"
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    out = []
    for column in zip(*words, strict=True):
        seen = list(dict.fromkeys(column))
        if len(seen) == 1:
            out.append(seen[0])
            continue
        head = _common_prefix(seen)
        head = head[: max(head.rfind(c) for c in _SEPARATORS) + 1]
        tail = _common_prefix([v[len(head) :][::-1] for v in seen])[::-1]
        tail = tail[min((i for i, c in enumerate(tail) if c in _SEPARATORS), default=len(tail)) :]
        middle = [v[len(head) : len(v) - len(tail)] for v in seen]
        shown = _variants(middle, more, width) if width else ",".join(middle)
        out.append(head + "{" + shown + "}" + tail)
    return indent + " ".join(out)


def _variants(values: list[str], more: bool, width: int) -> str:
    """A word's variants, first and last always, those between while they fit `width`;
    `…` where some are left out."""
    shown = [values[0]]
    limit = width
    width = len(values[0]) + len(values[-1])
    for value in values[1:-1]:
        width += len(value) + 1
        if width > limit:
            more = True
            break
        shown.append(value)
    if len(values) > 1:
        shown.extend(["…", values[-1]] if more else [values[-1]])
    return ",".join(shown)


# Runs of a progress bar's characters (each a token or two): shortened to three.
_BAR = re.compile(r"([━─█▇▆▅▄▃▂▁░▒▓■▉▊▋▌▍▎▏⣿])\1{3,}")
# Hex runs (hashes, temp names' digests) of 20 characters or more: their first 10.
_HEX = re.compile(r"(?<![0-9A-Za-z])([0-9a-f]{10})[0-9a-f]{10,}(?![0-9A-Za-z])")


# A path of seven or more parts: its first two and last three kept, `…` between (not a URL).
_PART = r"[^\s/{},'\":]*/"
_LONG_PATH = re.compile(
    rf"(?<![^\s{{,'\"(])(/?(?:{_PART}){{2}})(?:{_PART}){{2,}}((?:{_PART}){{2}})"
)


def _render(items: list[_Item]) -> list[str]:
    """The items' lines; progress bars and long hex runs in noise and context shortened, long
    paths in noise and warnings (a kept line, such as a commit's hash, an error's path or a
    traceback's frame, stays whole)."""
    out = []
    for item in items:
        line = item.render()
        if item.kind <= WARNING or item.kind == CONTEXT:
            if line and max(line) >= "\u2500" and _BAR.search(line):
                line = _BAR.sub(r"\1\1\1", line)
            line = _HEX.sub(r"\1…", line)
            if item.kind != CONTEXT and "/" in line:
                line = _LONG_PATH.sub(r"\1…/\2", line)
        out.append(line)
    return out


_SEPARATORS = "/.:_-=@+()[]"  # a shared prefix or suffix is cut at one of these: no `6{4,5}.3`


def _common_prefix(values: list[str]) -> str:
    """The characters all values start with (not cut at a word: `1{4,8}%` is fine)."""
    low, high = min(values), max(values)
    size = 0
    while size < len(low) and low[size] == high[size]:
        size += 1
    return low[:size]


def _alike(a: Counter[str], b: Counter[str]) -> bool:
    """Whether two shapes share more than half of their words (counted with repeats)."""
    return (a & b).total() * 2 > max(a.total(), b.total())


def _coarse(key: str) -> str:
    """The shape groups merge under: spacing evened out and, unless the line is prose, every
    word but the first a slot (`drwxr-xr-x 2 root root 4096 May 9 json` and `... Dec 3 email`
    are one; `connecting to db` and `retrying in 5s` are not)."""
    key = _SPACES.sub(" ", key).strip()
    if _PROSE.search(key):
        return key
    first, _, rest = key.partition(" ")
    return f"{first} {_WORD.sub(_SLOT, rest)}"


@dataclass(eq=False)
class _Overflow:
    """Lines of shapes past MAX_GROUPS: counted only."""

    kind: int = NOISE
    count: int = 0
    rank: int = 0

    @property
    def lines(self) -> int:
        return self.count

    def render(self) -> str:
        return f"[… {self.count:,} more lines of other shapes]"


# A chatty step's line: a lower-case action word in -ing, then what it acts on: paths, names or
# one word (`copying X -> Y`, `adding 'X'`, `running build`, `writing manifest file X`): the
# word is what a reader needs. (`connecting to db` is not: no path, and more than one word.)
_CHATTER = re.compile(r"(\s*)[a-z][a-z-]*ing (?:\S+$|.*\x01)")
CHATTER_RUN = 3  # adjacent chatty groups that become one line


@dataclass(eq=False)
class _Chatter:
    """Adjacent groups of chatty lines (a build's `copying`, `adding`, `running`, ...) as one
    line: each action word with its count."""

    groups: list[_Group]
    indent: str
    kind: int = NOISE_REPEATED
    rank: int = 0

    @property
    def lines(self) -> int:
        return sum(group.count for group in self.groups)

    def render(self) -> str:
        counts: dict[str, int] = {}
        for group in self.groups:
            word = group.samples[0].split(None, 1)[0]
            counts[word] = counts.get(word, 0) + group.count
        words = ", ".join(f"{word} ×{count}" for word, count in counts.items())
        return f"{self.indent}[{words} lines]"


def _chatter_run(item: object) -> str | None:
    """A repeated-noise group of chatty lines: its indent (a run's key); else None."""
    if not isinstance(item, _Group) or item.kind > NOISE:
        return None
    match = _CHATTER.match(item.key)
    return None if match is None else match.group(1)


def _chatter(run: list[Any]) -> list[_Item]:
    """Runs of CHATTER_RUN or more adjacent chatty groups of one indent, each as a _Chatter."""
    if len(run) < CHATTER_RUN:
        return run
    indent = _CHATTER.match(run[0].key)
    return [_Chatter(run, indent.group(1) if indent else "")]


def _fact_run(item: object) -> str | None:
    """A summary line that is no error: its shape (a run's key); else None."""
    if not isinstance(item, _Line) or item.kind != FACT or item.count != 1:
        return None
    low = set(_LOWER_WORDS.findall(item.text.lower()))
    if not low.isdisjoint(_ERROR_WORDS) or "FAIL" in item.text:
        return None
    return _SHAPE.sub(_SLOT, item.text)


def _facts(run: list[Any]) -> list[_Item]:
    """Adjacent summary lines of one shape (pip's `Saved <path>` per file) as one line listing
    every variant; not error lines (`FAILED x` each stays whole)."""
    if len(run) < 2:
        return run
    return [_Line(_fold([line.text for line in run], False, 0), FACT)]


def _merge_runs(
    items: list[_Item],
    key: Callable[[object], str | None],
    merge: Callable[[list[Any]], list[_Item]],
) -> list[_Item]:
    """Adjacent items of one key (None: not in a run), each run replaced by `merge(run)`."""
    out: list[_Item] = []
    run: list[Any] = []
    current: str | None = None
    for item in items:
        this = key(item)
        if run and this != current:
            out.extend(merge(run))
            run = []
        if this is None:
            out.append(item)
        else:
            run.append(item)
        current = this
    if run:
        out.extend(merge(run))
    return out


_Item = _Line | _Group | _Overflow | _Chatter


# git log: a record is a `commit <hash>` header, headers (Author:, Date:, Merge:), the message
# indented four spaces, then --stat lines and/or a patch.
_COMMIT = re.compile(r"commit ([0-9a-f]{7,64})\b")
_GIT_COMMAND = re.compile(
    r"(?:^|[\s;&|(])git(?:\s+-[Cc]\s+\S+|\s+-\S+)*\s+(?:log|show|whatchanged)\b"
)
_COMMIT_HEADERS = ("Author:", "Date:", "Merge:", "AuthorDate:", "Commit:", "CommitDate:")
_STAT = re.compile(r" \S.*? +\| +(?:\d+ ?[+-]*|Bin\b.*)$")
_STAT_TOTAL = re.compile(
    r" (\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?$"
)
_PATCH = ("diff ", "index ", "--- ", "+++ ", "@@", "+", "-", " ", "new file mode", "\\ No newline",
          "deleted file mode", "similarity index", "rename ", "copy ", "old mode", "new mode",
          "Binary files")  # fmt: skip
SUBJECT = 72  # characters of an older commit's subject shown (git's own subject length)
NEWEST_STAT = 10  # stat lines of the newest commit shown; the rest counted
MAX_COMMITS = 5000  # older commits listed a line each; the rest counted
NEWEST_LINES = 200  # lines of the newest commit shown (`git show`'s patch); the rest counted


@dataclass
class _Commit:
    header: str
    subject: str = ""
    lines: list[str] = field(default_factory=list)  # the newest commit's, all of them
    files: int = 0
    insertions: int = 0
    deletions: int = 0
    patch: int = 0
    more: int = 0  # the newest commit's lines past NEWEST_LINES
    changes: bool = False  # past the message: stat or patch lines seen


class _Commits:
    """git log's records: the newest commit kept whole, each older one folded to a line
    `a1b2c3d subject (3 files, +40 -12)`, so a reader still sees every commit. Message lines
    are the authors' words, never the log's errors (`fix error in X` is not an error)."""

    def __init__(self) -> None:
        self.current: _Commit | None = None
        self.count = 0
        self.overflow: _Line | None = None

    def take(self, line: str, folder: _Folder) -> bool:
        """Whether the line belongs to a commit record (then it is handled here)."""
        match = _COMMIT.match(line)
        if match is not None:
            self.flush(folder)
            self.current = _Commit(line)
            return True
        commit = self.current
        if commit is None:
            return False
        if not line.strip():
            return True
        if line.startswith("    ") and not commit.changes:
            if not commit.subject:
                commit.subject = line.strip()
            return self._whole(commit, line)
        if line.startswith(_COMMIT_HEADERS) and not commit.subject:
            return self._whole(commit, line)
        commit.changes = True
        total = _STAT_TOTAL.match(line)
        if total is not None:
            commit.files = int(total.group(1))
            commit.insertions = int(total.group(2) or 0)
            commit.deletions = int(total.group(3) or 0)
            return self._whole(commit, line)
        if _STAT.match(line):
            stats = sum(1 for old in commit.lines if _STAT.match(old))
            if self.count == 0 and stats == NEWEST_STAT:
                commit.lines.append("  …")
            return self._whole(commit, line if stats < NEWEST_STAT else None)
        if line.startswith(_PATCH):
            commit.patch += 1
            return self._whole(commit, line)
        commit.changes = bool(commit.files or commit.patch)
        return False  # not git's (a warning, an error): the generic rules take it

    def _whole(self, commit: _Commit, line: str | None) -> bool:
        if self.count == 0 and line is not None:
            if len(commit.lines) < NEWEST_LINES:
                commit.lines.append(line)
            else:
                commit.more += 1
        return True

    def flush(self, folder: _Folder) -> None:
        commit = self.current
        if commit is None:
            return
        self.current = None
        self.count += 1
        if self.count == 1:  # the newest: whole (the commit line is the fact to find)
            folder.add_kept(commit.header, FACT)
            for line in commit.lines:
                if line:
                    folder.add_line(line, CONTEXT)
            if commit.more:
                folder.add_line(f"[… {commit.more:,} more lines of this commit]", CONTEXT)
            return
        match = _COMMIT.match(commit.header)
        assert match is not None
        if self.count > MAX_COMMITS + 1:  # bounded memory: the older ones counted, the oldest named
            if self.overflow is None:
                self.overflow = _Line("", NOISE)
                folder.add_item(self.overflow)
            skipped = self.count - MAX_COMMITS - 1
            self.overflow.text = (
                f"[… {skipped:,} older commits, the oldest {match.group(1)[:7]} {commit.subject}]"
            )
            return
        subject = commit.subject
        if len(subject) > SUBJECT:
            subject = subject[: SUBJECT - 1].rstrip() + "…"
        parts = []
        if commit.files:
            files = f"{commit.files} file{'s' if commit.files > 1 else ''}"
            parts.append(f"{files}, +{commit.insertions} -{commit.deletions}")
        if commit.patch:
            parts.append(f"{commit.patch} patch lines")
        details = f" ({'; '.join(parts)})" if parts else ""
        folder.add_line(f"{match.group(1)[:7]} {subject}{details}", NOISE)


# Listings: `ls -l` entries (mode, links, owner, group, size, date, name), `ls -R` directory
# headers, and `find`'s paths.
_LIST_COMMAND = re.compile(r"(?:^|[\s;&|(])(?:ls|find)\s")
_FIND_COMMAND = re.compile(r"(?:^|[\s;&|(])find\s")
_ENTRY = re.compile(
    r"([-dlcbpsD])[-rwxsStT]{9}[.+@]?\s+\d+\s+\S+\s+\S+\s+(\d+|\d+,\s*\d+)\s+"
    r"(?:\w{3}\s+\d+\s+[\d:]+|\d{4}-\d\d-\d\d\s+[\d:.]+(?:\s+[+-]\d{4})?)\s(.*)$"
)
_TOTAL = re.compile(r"total \d+(?:[.,]\d+)?[KMGT]?$")
_PATH = re.compile(r"\.{0,2}/?[^\s:]*(?:/[^\s:]+)*/?$")
LISTED = 12  # directories a listing names (the largest by entries); the rest are summed
NAMES = 3  # names shown per directory


@dataclass
class _Dir:
    entries: int = 0
    dirs: int = 0
    size: int = 0
    names: list[str] = field(default_factory=list)
    own: bool = False  # its own entry was listed
    own_dir: bool = False  # and said it is a directory
    parent: bool = False  # entries under it were listed


class _Listing:
    """`ls -l`/`ls -laR`/`find` output: per directory under the top one (its whole subtree)
    the entries, subdirectories, bytes and a few names, the largest first: a reader sees what
    is where at a glance, in a few lines whatever the size of the tree."""

    def __init__(self, find: bool = False) -> None:
        self.find = find
        self.root: str | None = None
        self.dir = ""  # ls -R: the directory of the entries that follow, under the root
        self.dirs: dict[str, _Dir] = {}  # by the first level under the top
        self.deeper: dict[str, _Dir] = {}  # by the first two levels
        self.other = _Dir()  # directories past MAX_GROUPS
        self.total = _Dir()

    def take(self, line: str, folder: _Folder) -> bool:
        if not line.strip():
            return True
        entry = _ENTRY.match(line) if not self.find else None
        if entry is not None:
            name = entry.group(3)
            if " -> " in name and entry.group(1) == "l":
                name = name.split(" -> ", 1)[0]
            if name in (".", ".."):
                return True
            size = entry.group(2)
            self._add(self.dir, name, int(size) if size.isdigit() else 0, entry.group(1) == "d")
            return True
        if not self.find:
            if _TOTAL.match(line):
                return True
            if line.endswith(":") and _PATH.match(line[:-1]):  # ls -R: a directory follows
                path = line[:-1]
                if self.root is None:
                    self.root = path
                    folder.add_kept(line, FACT)
                self.dir = self._under(path)
                return True
            return False
        under = self.root is not None and line.startswith(self.root)
        if not under and ("/" not in line or not _PATH.match(line)):
            return False  # not a path under the top (`Killed`, find's own messages)
        if self.root is None:
            self.root = line
            folder.add_kept(line, FACT)
            return True
        rel = self._under(line)
        head, _, name = rel.rpartition("/")
        self._add(head, name or rel, 0, False)
        return True

    def _under(self, path: str) -> str:
        root = self.root or ""
        if path == root:
            return ""
        if root and path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1 :]
        return path

    def _add(self, rel: str, name: str, size: int, is_dir: bool) -> None:
        path = f"{rel}/{name}" if rel else name
        parts = path.split("/", 2)
        self._count(self.dirs, parts[0], name, rel, size, is_dir, len(parts) > 1)
        if len(parts) > 1:  # and under the second level, in case one directory holds most
            key = f"{parts[0]}/{parts[1]}"
            self._count(self.deeper, key, name, rel, size, is_dir, len(parts) > 2)
        self.total.entries += 1
        self.total.dirs += is_dir
        self.total.size += size

    def _count(
        self,
        table: dict[str, _Dir],
        key: str,
        name: str,
        rel: str,
        size: int,
        is_dir: bool,
        inside: bool,
    ) -> None:
        stats = table.get(key)
        if stats is None:
            if len(table) >= MAX_GROUPS:  # bounded: later directories are only summed
                if table is self.deeper:
                    return  # (the breakdown a level down leaves them to the `… more` line)
                stats = self.other
            else:
                stats = table[key] = _Dir()
        if not inside:  # the directory's own entry (ls -l's line for it, find's path)
            stats.own = True
            stats.own_dir = is_dir
            stats.size += size
            return
        stats.parent = True
        stats.entries += 1
        stats.dirs += is_dir
        stats.size += size
        if len(stats.names) < NAMES and rel.count("/") == key.count("/"):
            stats.names.append(name)

    def flush(self, folder: _Folder) -> None:
        if not self.total.entries:
            return
        total = self.total
        sizes = bool(total.size)
        folder.add_line(f"[{_describe(total, sizes, self.find)} in all]", FACT)
        name, top = max(self.dirs.items(), key=lambda kv: kv[1].entries)
        table = dict(self.dirs)
        rest = _Dir()
        if top.entries * 2 > total.entries:  # one holds most: its subdirectories instead
            del table[name]
            inside = {k: v for k, v in self.deeper.items() if k.startswith(f"{name}/")}
            table.update((k, v) for k, v in inside.items() if v.parent)
            rest.entries = top.entries - sum(v.entries + 1 for v in inside.values() if v.parent)
        files = _Dir()  # the top directory's own files
        for key, stats in list(table.items()):
            if not stats.parent and "/" not in key:
                files.entries += 1
                files.dirs += stats.own_dir
                files.size += stats.size
                if len(files.names) < NAMES:
                    files.names.append(f"{key}/" if stats.own_dir else key)
                del table[key]
        ranked = sorted(table.items(), key=lambda kv: -kv[1].entries)
        if files.entries:
            ranked.insert(0, (".", files))
        for at, (key, stats) in enumerate(ranked):
            if at >= LISTED:
                rest.entries += stats.entries
                rest.dirs += stats.dirs
                rest.size += stats.size
                continue
            names = ", ".join(stats.names)
            more = ", …" if stats.entries > len(stats.names) else ""
            line = f"  {key}/: {_describe(stats, sizes, self.find)} ({names}{more})"
            folder.add_line(line, NOISE)
        rest.entries += self.other.entries
        rest.size += self.other.size
        if rest.entries:
            count = max(0, len(ranked) - LISTED)
            others = f"{count:,} more" if count else "more"
            if self.other.entries and count:  # past MAX_GROUPS: not counted one by one
                others = f"{count:,}+ more"
            line = f"  … {others} directories: {_describe(rest, sizes, self.find)}"
            folder.add_line(line, NOISE)


def _describe(stats: _Dir, sizes: bool, paths: bool = False) -> str:
    files = stats.entries - stats.dirs
    text = _plural(files, "path" if paths else "file")
    if stats.dirs:
        text = f"{_plural(stats.dirs, 'dir')}, {text}"
    return f"{text}, {_size(stats.size)}" if sizes else text


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return f"{size} B"


def _detect(lines: list[str]) -> _Commits | _Listing | None:
    """Record rules from a log's first lines: a git log starts `commit <hash>`; a listing with
    `ls -l` entries or an `ls -R` header and `total N`; find's output with paths only."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None
    first = lines[0]
    if _COMMIT.match(first):
        return _Commits()
    second = lines[1] if len(lines) > 1 else ""
    if (
        _ENTRY.match(first)
        or (first.endswith(":") and _TOTAL.match(second))
        or (_TOTAL.match(first) and _ENTRY.match(second))
    ):
        return _Listing()
    if (
        len(lines) >= 3
        and all("/" in line or line == "." for line in lines[:3])
        and all(_PATH.match(line) for line in lines)
    ):
        return _Listing(find=True)
    return None


class _Folder:
    """The state of a compression: items in first-seen order, bounded in number."""

    def __init__(self, command: str | None = None) -> None:
        self._items: list[_Item] = []
        # git log's records or a listing's entries (started by the command, or by the first
        # lines: `commit <hash>`, `ls -l` entries, paths)
        self._records: _Commits | _Listing | None = None
        if command is not None:
            if _GIT_COMMAND.search(command):
                self._records = _Commits()
            elif _LIST_COMMAND.search(command):
                self._records = _Listing(find=bool(_FIND_COMMAND.search(command)))
        self._kinds: dict[str, int] = {}
        self._groups: dict[str, _Group] = {}
        self._live = 0  # groups in _items (several templates may share one after compaction)
        self._kept: dict[str, _Line] = {}
        self._per_shape: dict[str, int] = {}
        self._overflow: _Overflow | None = None
        self.lines = 0
        self._after = 0
        # the lines since the last kept one (at most CONTEXT_BEFORE), for an error's context
        self._before: deque[tuple[str, _Group | None]] = deque(maxlen=CONTEXT_BEFORE)
        self._first = True
        self._head = ""  # the log's first line, kept as it is

    def feed(self, text: str) -> None:
        """Fold complete lines (a trailing partial line is folded as a line)."""
        if not text:
            return
        text = resolve(text)
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
            text = text[:-1]
        if self._first and self._records is None:
            self._records = _detect(lines[:8])
        if isinstance(self._records, _Listing):  # its lines need no shapes: only the others
            take = self._records.take
            rest = [line for line in lines if not take(line, self)]
            self._first = self._first and not lines
            self.lines += len(lines) - len(rest)
            lines, text = rest, "\n".join(rest)
        templates = _SHAPE.sub(_SLOT, text).split("\n") if lines else []
        at = self.lines
        self.lines += len(lines)
        kinds = self._kinds
        groups = self._groups
        for line, template in zip(lines, templates, strict=True):
            at += 1
            if self._records is not None and self._records.take(line, self):
                self._first = False
                self._before.clear()
                continue
            if not template or template.isspace():
                self._before.clear()  # an error after a blank line has no lines before it
                continue
            if len(template) > MAX_KEY:  # a long shape is remembered by its head and hash
                full, template = template, f"{template[:MAX_KEY]}\x02{hash(template):x}"
                kind = kinds.get(template)
                if kind is None:
                    kind = self._classify(full, template)
            else:
                kind = kinds.get(template)
                if kind is None:
                    kind = self._classify(template)
            if self._first:  # the log's first line says what ran: kept as it is
                self._first = False
                if kind <= WARNING:
                    self._head = line[:MAX_KEPT_LINE]
                    self._add_kept(line, CONTEXT)
                    continue
            if kind <= NOISE and not self._after:
                group = groups.get(template)
                if group is not None:
                    group.add(line, at)
                else:
                    group = self._new_group(template, line, kind, at)
                self._before.append((line, group))
            else:
                self._keep(line, template, kind, at)

    def _classify(self, template: str, key: str | None = None) -> int:
        low = template.lower()
        words = set(_LOWER_WORDS.findall(low))
        if not words.isdisjoint(_FACT_WORDS) and (
            _FACT_START.match(template)
            or any(fact in template for fact in _FACT_ANYWHERE)
            or (" package" in template and _PACKAGES.search(template))
            or len(_COUNTS.findall(template)) >= 2
            or (template.startswith("=") and _COUNTS.search(template))
        ):
            kind = FACT
        elif template.startswith(("\x01 note: ", "note: ")):
            kind = NOISE  # a compiler's note explains an error: context, not another error
        elif (
            not words.isdisjoint(_ERROR_WORDS)
            or template.startswith(("E ", "E\t"))
            or any(phrase in low for phrase in _ERROR_PHRASES)
            or (("Error" in template or "Exception" in template) and _ERROR_CAMEL.search(template))
        ):
            kind = ERROR
        elif not words.isdisjoint(_WARNING_WORDS) or "deprecat" in low:
            kind = WARNING
        else:
            kind = NOISE
        if len(self._kinds) < MAX_TEMPLATES:
            self._kinds[key or template] = kind
        return kind

    def _new_group(self, template: str, line: str, kind: int, at: int) -> _Group | None:
        if self._live >= MAX_GROUPS:
            self._compact()
        if self._live >= MAX_GROUPS * 3 // 4 or len(self._groups) >= MAX_TEMPLATES:
            if self._overflow is None:
                self._overflow = _Overflow()
                self._items.append(self._overflow)
            self._overflow.count += 1
            return None
        group = _Group(kind, template)
        group.add(line, at)
        self._groups[template] = group
        self._items.append(group)
        self._live += 1
        return group

    def _compact(self) -> None:
        """Merge each group into the first of the same coarse shape whose words it mostly
        shares (`npm verbose exit 1` stays apart from `npm info using npm@11`)."""
        buckets: dict[tuple[int, str], list[tuple[_Group, Counter[str]]]] = {}
        into: dict[int, _Group] = {}
        items: list[_Item] = []
        live = 0
        for item in self._items:
            if isinstance(item, _Group):
                bucket = buckets.setdefault((item.kind, _coarse(item.key)), [])
                words = Counter(w for w in item.key.split() if _SLOT not in w)
                first = next((g for g, w in bucket if _alike(words, w)), None)
                if first is not None:
                    first.merge(item)
                    into[id(item)] = first
                    continue
                if len(bucket) < MAX_ALIKE:
                    bucket.append((item, words))
                live += 1
            items.append(item)
        self._items = items
        self._live = live
        if into:
            for template, group in self._groups.items():
                target = into.get(id(group))
                if target is not None:
                    self._groups[template] = target

    def _keep(self, line: str, template: str, kind: int, at: int) -> None:
        if kind <= NOISE or kind == WARNING:
            rank = 0
            if self._after:
                rank = 2 * (CONTEXT_AFTER - self._after)  # right after the error: 0
                self._after -= 1
                kind = CONTEXT
            if kind <= NOISE or kind == WARNING:
                group = self._groups.get(template)
                if group is None:
                    group = self._new_group(template, line, kind, at)
                else:
                    group.add(line, at)
                self._before.append((line, group))
                return
        elif kind == ERROR:
            known = line[:MAX_KEPT_LINE] in self._kept
            if self._per_shape.get(template, 0) >= MAX_PER_SHAPE and not known:
                self._after = 0  # a flood of one error shape: fold the rest as noise
                self._keep(line, template, NOISE, at)
                return
            self._context_before()
            self._after = CONTEXT_AFTER
        kept = self._kept.get(line[:MAX_KEPT_LINE])
        if kept is not None:
            kept.count += 1
        elif len(self._kept) < MAX_KEPT:
            self._add_kept(line, kind, rank if kind == CONTEXT else 0)
            if kind == ERROR and len(self._per_shape) < MAX_TEMPLATES:
                self._per_shape[template] = self._per_shape.get(template, 0) + 1
        else:
            self._after = 0
            self._keep(line, template, NOISE, at)
            return
        self._before.clear()

    def _context_before(self) -> None:
        """Keep the lines before an error: where they stand, when their groups are the last
        items and hold only them (shown as they were); else again, as context lines."""
        before = self._before
        if not before:
            return
        tail = self._items[-len(before) :]
        ranks = [2 * (len(before) - at) - 1 for at in range(len(before))]  # right before: 1
        if all(
            group is item and group.samples == [line[:MAX_SAMPLE]]
            for (line, group), item in zip(before, tail, strict=True)
        ):
            for (_, group), rank in zip(before, ranks, strict=True):
                assert group is not None
                if group.kind < CONTEXT:
                    group.kind, group.rank = CONTEXT, rank
        else:
            for (line, _), rank in zip(before, ranks, strict=True):
                self._add_kept(line, CONTEXT, rank)
        before.clear()

    def add_kept(self, line: str, kind: int) -> None:
        """A line kept verbatim, once (a repeat of a kept line is counted)."""
        self._add_kept(line, kind)

    def add_line(self, line: str, kind: int) -> None:
        """A line shown as it is, repeats and all (a git commit's one-line summary)."""
        self._items.append(_Line(line[:MAX_KEPT_LINE], kind))

    def add_item(self, item: _Line) -> None:
        """A line its owner updates later (the count of commits past MAX_COMMITS)."""
        self._items.append(item)

    def _add_kept(self, line: str, kind: int, rank: int = 0) -> None:
        line = line[:MAX_KEPT_LINE]
        if line in self._kept:
            return
        item = _Line(line, kind, rank=rank)
        self._kept[line] = item
        self._items.append(item)

    def finish(self) -> None:
        if self._records is not None:
            self._records.flush(self)
        self._compact()
        context = {i.text for i in self._items if isinstance(i, _Line) and i.kind == CONTEXT}
        context.discard(self._head)  # the log's first line: a later run of it stays too
        if context:  # a single line shown again next to its error: shown there only
            self._items = [
                i
                for i in self._items
                if not (isinstance(i, _Group) and i.count == 1 and i.samples[0] in context)
            ]
        for item in self._items:
            if isinstance(item, _Group) and item.kind == NOISE and item.count > 1:
                item.kind = NOISE_REPEATED
        self._items = _merge_runs(
            _merge_runs(self._items, _chatter_run, _chatter), _fact_run, _facts
        )

    def items(self) -> list[_Item]:
        return self._items

    def result(
        self,
        start: float,
        budget: int | None,
        size: int,
        original: Any,
        *,
        invalid: bool,
    ) -> Compressed:
        items = self._items
        rendered = _render(items)
        dropped_lines = dropped_tokens = 0
        if budget is not None:
            rendered, dropped_lines, dropped_tokens = _fit(items, rendered, budget)
        text = "\n".join(rendered)
        counted = count_tokens(text)
        if original is None:
            original_tokens, counted_original = 0, False
        else:
            original_tokens, counted_original = original.tokens, True
        return Compressed(
            text=text,
            original_tokens=original_tokens,
            compressed_tokens=counted.tokens,
            estimated=counted.estimated,
            original_bytes=size,
            compressed_bytes=len(text.encode("utf-8", "surrogatepass")),
            seconds=time.perf_counter() - start,
            original_lines=self.lines,
            compressed_lines=len(rendered),
            dropped_lines=dropped_lines,
            dropped_tokens=dropped_tokens,
            budget=budget,
            invalid_utf8=invalid,
            counted=counted_original,
        )


def _fit(items: list[_Item], rendered: list[str], budget: int) -> tuple[list[str], int, int]:
    """Drop the least important items until the rest and a note fit `budget` tokens: by kind
    (repeated noise, single noise lines, warnings, context, errors, facts), context lines the
    farthest from their error first, and within a kind from the middle of the log out (its
    start says what ran, its end how it ended)."""
    costs = [count_tokens(line + "\n").tokens for line in rendered]
    total = sum(costs)
    if total <= budget:
        return rendered, 0, 0
    n = len(items)
    order = sorted(range(n), key=lambda i: (items[i].kind, -items[i].rank, -min(i, n - 1 - i)))
    keep = [True] * n
    dropped_lines = dropped_tokens = dropped_errors = 0
    at = 0
    out: list[str] = []
    while at < n:
        while at < n and (total + NOTE_TOKENS > budget or not out):
            i = order[at]
            at += 1
            keep[i] = False
            total -= costs[i]
            dropped_tokens += costs[i]
            dropped_lines += items[i].lines
            dropped_errors += items[i].kind >= ERROR
            if total + NOTE_TOKENS <= budget:
                break
        errors = f", {dropped_errors:,} of them errors or summary lines" if dropped_errors else ""
        note = (
            f"[compress: {dropped_lines:,} lines (~{dropped_tokens:,} tokens){errors} not shown "
            f"to fit a budget of {budget:,} tokens]"
        )
        out = [*(line for line, k in zip(rendered, keep, strict=True) if k), note]
        if count_tokens("\n".join(out)).tokens <= budget:
            return out, dropped_lines, dropped_tokens
        total = budget  # the joins counted over: drop one more and try again
    return [], dropped_lines, dropped_tokens  # not even the note fits
