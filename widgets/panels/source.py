"""What the snapshot panels read: a `SnapshotSource` the app implements over the engine.

The panels only draw and post messages; SQL, files and replays stay behind these async
methods, so a slow store never blocks the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from engine.terminal import Terminal


class SnapshotInfoLike(Protocol):
    """One snapshot as listed (engine.store.SnapshotInfo has these attributes)."""

    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...  # "pane" | "workspace"
    @property
    def trigger(self) -> str: ...  # manual | auto | exit | app-exit | crash
    @property
    def note(self) -> str: ...
    @property
    def sessions(self) -> Sequence[str]: ...
    @property
    def panes(self) -> int: ...
    @property
    def stored_bytes(self) -> int: ...


class TimelinePointLike(Protocol):
    """A moment of a pane's past the timeline can step to."""

    @property
    def time(self) -> float: ...  # time.time()
    @property
    def kind(self) -> str: ...  # "snapshot" | "output"
    @property
    def snapshot_id(self) -> int | None: ...


@dataclass(frozen=True)
class TimelinePoint:
    """A ready-made `TimelinePointLike`."""

    time: float
    kind: Literal["snapshot", "output"]
    snapshot_id: int | None = None


class SnapshotSource(Protocol):
    """The engine side of the panels (the app implements it over engine/snapshots.py)."""

    async def snapshots(self) -> Sequence[SnapshotInfoLike]:
        """Every snapshot, in any order (the panel sorts them)."""
        ...

    async def preview(self, snapshot_id: int, pane: int = 0) -> Terminal | None:
        """Pane `pane` of a snapshot as a terminal; None if it has no such pane."""
        ...

    async def timeline(self, session_id: str) -> Sequence[TimelinePointLike]:
        """A session's snapshots and recorded output events, in any order."""
        ...

    async def state_at(self, session_id: str, when: float) -> Terminal | None:
        """The session's terminal as it was at `when`; None if nothing is known of it."""
        ...
