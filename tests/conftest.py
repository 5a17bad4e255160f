"""Shared helpers: real bash sessions and polling with a deadline (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from engine import Session, SessionConfig, SessionManager

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from app.main import AiSessionApp
    from widgets.terminal_pane import TerminalPane

BASH = "bash --norc --noprofile"

# The app and servers keep snapshots in the user's data directory: tests get their own (and
# each test another, below: a run that ended unclosed would have the next app offer it back).
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="ai-session-test-data-")


@pytest.fixture(autouse=True)
def _own_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


# HYPOTHESIS_PROFILE=deep runs the property tests much longer than CI does.
settings.register_profile("default", max_examples=300)
settings.register_profile("deep", max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="module", params=["c", "python"])
def cell_loop(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a module's tests with the cell fast path's C loop (engine/_cells.c, where it was
    built) and again with its Python loop alone: each is held to the general path."""
    from engine import cellpath

    native = cellpath.native
    if request.param == "c" and native is None:
        pytest.skip("the C loop is not built here (test_the_c_loop_is_built says why)")
    if request.param == "python":
        cellpath.native = None
    try:
        yield request.param
    finally:
        cellpath.native = native


def bash_config(**kwargs: object) -> SessionConfig:
    """A plain bash with a predictable prompt, as every engine test uses."""
    environment = {"PS1": "$ ", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    environment.update(kwargs.pop("environment", {}))  # type: ignore[arg-type]
    return SessionConfig(shell_command=BASH, environment=environment, **kwargs)  # type: ignore[arg-type]


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str | Callable[[], str] = ""
) -> None:
    """Poll `predicate` until it holds; fail with `what` (text, or a function giving it at the
    moment of failure) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {detail or predicate}")
        await asyncio.sleep(0.01)


async def wait_for_screen(session: Session, text: str, timeout: float = 10.0) -> None:
    await wait_until(
        lambda: text in "\n".join(session.terminal.display),
        timeout,
        lambda: f"{text!r} on screen; screen is:\n{session.capture_pane()}",
    )


@pytest.fixture
async def manager() -> AsyncIterator[SessionManager]:
    async with SessionManager() as m:
        yield m


@pytest.fixture
async def bash(manager: SessionManager) -> Session:
    """A started bash session sitting at its `$ ` prompt."""
    session = await manager.create_session_with_config(bash_config())
    await session.start()
    await wait_for_screen(session, "$ ")
    return session


# -- the app, as a user drives it ------------------------------------------------------------


@pytest.fixture
async def running(request: pytest.FixtureRequest) -> AsyncIterator[tuple[AiSessionApp, Pilot]]:
    """The app with a real bash at its prompt, sized by the test module's SIZE (100x30)."""
    from app.main import AiSessionApp

    app = AiSessionApp(SessionConfig(shell_command=BASH, environment={"PS1": "$ "}))
    async with app.run_test(size=getattr(request.module, "SIZE", (100, 30))) as pilot:
        await at_prompt(app.pane)
        yield app, pilot


async def at_prompt(pane: TerminalPane | None) -> None:
    """Wait for bash's `$` prompt in `pane`."""
    assert pane is not None
    await wait_until(lambda: "$" in pane.session.capture_pane(), what=pane.session.capture_pane)


async def split(app: AiSessionApp, pilot: Pilot, key: str) -> TerminalPane:
    """C-b `key` (percent_sign, quotation_mark): the new pane, at its prompt."""
    before = set(app.window.panes)
    await pilot.press("ctrl+b", key)
    await wait_until(lambda: set(app.window.panes) - before, what="a new pane")
    (new,) = set(app.window.panes) - before
    pane = app.window.panes[new]
    await at_prompt(pane)
    await pilot.pause()
    return pane
