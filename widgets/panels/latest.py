"""`Latest`: loads for a selection that moves faster than loads finish.

One load runs at a time (a store or a replay is not asked twenty times while a key is held);
when it ends, the newest wanted key loads next, and a result is delivered only if its key is
still the one wanted, so a slow answer for an old selection never replaces a newer picture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from textual.widget import Widget

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Latest(Generic[K, T]):
    def __init__(
        self,
        owner: Widget,
        load: Callable[[K], Awaitable[T]],
        deliver: Callable[[K, T], None],
        failed: Callable[[K, Exception], None],
    ) -> None:
        self._owner = owner
        self._load = load
        self._deliver = deliver
        self._failed = failed
        self.wanted: K | None = None
        self.loading: K | None = None  # the key being loaded now

    def want(self, key: K) -> None:
        """Load `key` (after the load in flight, if any); forget any earlier wish."""
        self.wanted = key
        if self.loading is None:
            self._start(key)

    def drop(self) -> None:
        """Want nothing: a load in flight is delivered nowhere."""
        self.wanted = None

    def _start(self, key: K) -> None:
        self.loading = key
        self._owner.run_worker(self._run(key), group="latest", exit_on_error=False)

    async def _run(self, key: K) -> None:
        try:
            result = await self._load(key)
        except Exception as error:
            if key == self.wanted:
                self._failed(key, error)
        else:
            if key == self.wanted:
                self._deliver(key, result)
        finally:
            self.loading = None
            if self.wanted is not None and self.wanted != key and self._owner.is_attached:
                self._start(self.wanted)
