"""Random terminal output for the fuzz and split tests: what programs send and what they should
not (huge and malformed parameters, unfinished sequences, broken UTF-8), cut into random reads.

One generator drives both the hypothesis tests (through `st.randoms()`, which shrinks) and the
100k-case script `tests/bench/fuzz_terminal.py` (through seeded `random.Random`s).
"""

from __future__ import annotations

import random
from typing import Any

from engine.terminal import Terminal
from engine.width import char_width

FINALS = "@ABCDEFGHIJKLMPSTXZ`abcdefghlmnqrstu"
MODES = [1, 3, 4, 5, 6, 7, 20, 25, 47, 1000, 1004, 1006, 1047, 1048, 1049, 2004, 2026]
UNICODE = [
    "日本",
    "語",
    "é",
    "e\u0301",
    "✓",
    "─",
    "👍",
    "👍🏽",
    "\u200d",
    "\ufe0f",
    "ｱ",
    "नमस्ते",
    "\u200b",
]
C0 = [
    "\r\n",
    "\n",
    "\r",
    "\t",
    "\b",
    "\x07",
    "\x0e",
    "\x0f",
    "\x00",
    "\x7f",
    "\x0b",
    "\x85",
    "\x9b",
]
OSC_TEXTS = ["hello", "é日本", "a\tb", "file:///tmp/x", "file://[/x", "file://h]/%zz", "D;²"]
ESCAPES = ["7", "8", "D", "E", "M", "c", "H", "#8", "(0", "(B", ")0", "=", ">", "Z", "N", "\\"]


def _number(rng: random.Random) -> str:
    """A parameter as sent: usually small, sometimes past every limit."""
    roll = rng.random()
    if roll < 0.15:
        return ""
    if roll < 0.7:
        return str(rng.randint(0, 9))
    if roll < 0.85:
        return str(rng.randint(0, 300))
    if roll < 0.92:
        return str(rng.randint(0, 100_000))
    if roll < 0.96:
        return "0" * rng.randint(1, 5000) + str(rng.randint(0, 300))
    return str(rng.randint(1, 9)) * rng.randint(4290, 6000)  # over Python's int() limit


def _params(rng: random.Random) -> str:
    count = rng.choice([0, 1, 1, 2, 3, 5, 8]) if rng.random() < 0.97 else rng.randint(30, 80)
    fields = []
    for _ in range(count):
        field = _number(rng)
        if rng.random() < 0.1:  # colon sub-parameters
            field = ":".join([field] + [_number(rng) for _ in range(rng.randint(1, 10))])
        fields.append(field)
    return ";".join(fields)


def _csi(rng: random.Random) -> str:
    private = rng.choice(["", "", "", "", "?", ">", "=", "<"])
    intermediates = rng.choice(["", "", "", "", "", " ", "!", "$", '"', "!!", "$ $"])
    final = rng.choice(FINALS)
    body = private + _params(rng) + intermediates
    if rng.random() < 0.03:  # out-of-order bytes: malformed
        body = rng.choice(["", "1"]) + " " + rng.choice(["1", "?", ";"]) + body
    if rng.random() < 0.05:  # C0 controls inside run in place
        at = rng.randint(0, len(body))
        body = body[:at] + rng.choice(C0[:11]) + body[at:]
    return f"\x1b[{body}{final}"


def _sgr(rng: random.Random) -> str:
    fields = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.5:
            fields.append(
                str(rng.choice([0, 1, 2, 3, 4, 5, 7, 9, 22, 24, 27, 31, 39, 42, 49, 91, 104]))
            )
        elif roll < 0.7:
            fields.append(f"{rng.choice([38, 48])};5;{_number(rng)}")
        elif roll < 0.85:
            fields.append(f"{rng.choice([38, 48])};2;{_number(rng)};{_number(rng)};{_number(rng)}")
        else:
            fields.append(
                f"{rng.choice([38, 48, 58, 4])}:{rng.choice(['2', '5', '0', '3', ''])}:1:2:3"
            )
    return f"\x1b[{';'.join(fields)}m"


def _string(rng: random.Random) -> str:
    """OSC (title, cwd, prompt marks, others) and DCS/APC/PM/SOS, ended by BEL, ST or not."""
    kind = rng.choice("]]]]P_^X")
    if kind == "]":
        code = rng.choice(["0", "2", "1", "7", "133", "52", "8", "10"])
        text = rng.choice(OSC_TEXTS)
        if code == "133":
            text = rng.choice(["A", "B", "C", "D;0", "D;7", "D;²", "D;" + "9" * 5000, "A;k=s"])
        if rng.random() < 0.05:
            text *= 200  # a long string, split anywhere
        body = f"{code};{text}"
    else:
        body = rng.choice(["", "1$r", "+q544e", "x" * rng.randint(0, 700)])
    end = rng.choice(["\x07", "\x1b\\", "\x1b\\", "\x18", "\x1b[1m", ""])
    return f"\x1b{kind}{body}{end}"


def _lines(rng: random.Random) -> str:
    """Plain lines, the fast path's diet: text and SGR, each ending in CR LF."""
    out = []
    for _ in range(rng.randint(1, 8)):
        line = "".join(
            rng.choice(["ab", "x" * rng.randint(0, 40), " ", _sgr(rng)]) for _ in range(3)
        )
        out.append(line + "\r\n")
    if rng.random() < 0.5:
        out.append("".join(rng.choice(["tail", "\x1b[1", "\x1b[", "\x1b", "\x1b[3"])))
    return "".join(out)


def _unfinished(rng: random.Random) -> str:
    """A long sequence that will cross reads: more than MAX_SEQUENCE bytes before its end."""
    return rng.choice(
        [
            "\x1b[" + "1" * rng.randint(500, 3000),
            "\x1b[" + "1;" * rng.randint(200, 1500),
            "\x1b[?" + "0" * rng.randint(500, 3000) + "25",
            "\x1b[38:2" + ":1" * rng.randint(300, 900),
            "\x1b" + "(" * rng.randint(500, 900),
            "\x1b[" + "1" * rng.randint(500, 900) + " " * rng.randint(1, 600),
        ]
    )


def _token(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.02:
        return rng.randbytes(rng.randint(1, 6))  # anything, broken UTF-8 too
    if roll < 0.2:
        text = "".join(chr(rng.randint(0x20, 0x7E)) for _ in range(rng.randint(1, 30)))
    elif roll < 0.3:
        text = rng.choice(UNICODE)
    elif roll < 0.42:
        text = rng.choice(C0)
    elif roll < 0.6:
        text = _csi(rng)
    elif roll < 0.7:
        text = _sgr(rng)
    elif roll < 0.75:
        text = f"\x1b[?{rng.choice(MODES)}{rng.choice('hl')}"
    elif roll < 0.8:
        text = "\x1b" + rng.choice(ESCAPES)
    elif roll < 0.86:
        text = _string(rng)
    elif roll < 0.94:
        text = _lines(rng)
    elif roll < 0.96:
        text = _unfinished(rng)
    elif roll < 0.99:
        text = rng.choice(["\x1b", "\x1b[", "\x1b]", "\x1bP", "\x18", "\x1a", "\x1b\x1b"])
    else:  # an empty row that wraps (a wide character at the last column), then the bottom
        text = "\x1b[999H\x1b[2K\x1b[999C日\r\n"
    return text.encode()


def random_stream(rng: random.Random, max_tokens: int = 40) -> bytes:
    """Random terminal output, up to `max_tokens` pieces."""
    return b"".join(_token(rng) for _ in range(rng.randint(0, max_tokens)))


def random_reads(rng: random.Random, data: bytes) -> list[bytes]:
    """`data` cut at random points: anywhere, inside sequences and UTF-8 characters."""
    if not data:
        return []
    if len(data) < 200 and rng.random() < 0.2:
        return [data[i : i + 1] for i in range(len(data))]  # a byte at a time
    cuts = sorted(rng.sample(range(1, len(data) + 1), min(len(data), rng.randint(1, 12))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True) if a < b]


def shape_errors(t: Terminal) -> list[str]:
    """What is wrong with the screen's shape: cursor off screen, rows not `columns` wide (a
    cell counts its first character's width: `👍🏽` is one wide cell)."""
    errors = [f"{t.screen.fast_errors} cell fast path errors"] if t.screen.fast_errors else []
    if not (0 <= t.cursor.x < t.columns and 0 <= t.cursor.y < t.lines):
        errors.append(f"cursor {t.cursor}")
    if len(t.display) != t.lines:
        errors.append(f"{len(t.display)} rows")
    for y in range(t.lines):
        cells = [t.screen.buffer[y][x] for x in range(t.columns)]
        if sum(2 if char_width(c.data[0]) == 2 else 1 for c in cells if c.data) != t.columns:
            errors.append(f"row {y}: {t.display[y]!r}")
    return errors


def state(t: Terminal) -> dict[str, Any]:
    """Everything a reader can see, after settling: every cell with its attributes and every
    row's wrapped mark (screen and history), cursor, title, modes, answers, marks."""
    t.settle()
    s = t.screen
    visible = [
        ([s.buffer[y][x] for x in range(t.columns)], t.row_wrapped(y)) for y in range(t.lines)
    ]
    history = [(t.row_cells(y), t.row_wrapped(y)) for y in range(-t.history_size, 0)]
    main = None
    if s._main_buffer is not None:  # the main screen, under the alternate one
        main = [
            (
                [s._main_buffer[y][x] for x in range(t.columns)],
                getattr(s._main_buffer.get(y), "wrapped", False),
            )
            for y in range(t.lines)
        ]
    return {
        "display": t.display,
        "visible": visible,
        "history": history,
        "main": main,
        "cursor": (t.cursor, s.cursor.attrs, s.cursor.x),
        "title": (t.title, s.icon_name),
        "modes": (sorted(s.mode), s.margins, s.charset, s.g0_charset, s.g1_charset),
        "saved": (
            [
                (p.cursor.x, p.cursor.y, p.cursor.attrs, p.cursor.hidden, *p[1:])
                for p in s.savepoints
            ],
            s._alt_saved,
            sorted(s.tabstops),
        ),
        "marks": (s.prompt_mark, s.prompt_input, s.prompt_options, s.last_exit_code, s.cwd),
        "answers": (s.responses, s.bells, s.osc_events, s.cursor_style, s.keypad_application),
        "last_char": s._last_char,
    }
