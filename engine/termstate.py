"""Stand-in for part A's terminal image until its engine/termstate.py is merged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TerminalImage:
    """A terminal's state as the store keeps it: `head` (everything but the sealed scrollback
    blocks) and `blocks` (those blocks as they are, so unchanged history dedupes by hash)."""

    head: bytes
    blocks: tuple[bytes, ...]
