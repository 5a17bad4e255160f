"""The figures the agent panels show, read from the engine in one place: an agent's tokens
(reported through the hub, else its CLI's transcript) and how full its context is (the CLI's
own window, else the session's `SessionContext`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.agents import AgentStatus
    from engine.context import Compression, ContextSummary
    from engine.manager import SessionManager
    from engine.observability import TokenUsage


@dataclass(frozen=True)
class Tokens:
    """Tokens in (prompt, cache included) and out, and where the figures came from."""

    input: int
    output: int
    source: str  # "reported" (ai-session tokens / the API) or "transcript" (the CLI's own)
    model: str | None = None


@dataclass(frozen=True)
class ContextUse:
    """How full an agent's context is: `used` of `window` tokens."""

    used: int
    window: int
    source: str  # "transcript" (the CLI's window) or "session" (this pane's SessionContext)

    @property
    def percent(self) -> float:
        return 100 * self.used / self.window if self.window else 0.0

    @property
    def label(self) -> str:
        """`45%`; a sliver is `<1%`, not a misleading `0%`."""
        percent = self.percent
        return "<1%" if 0 < percent < 1 else f"{percent:.0f}%"


def usage(manager: SessionManager, agent: str) -> TokenUsage | None:
    """The hub's token usage for `agent` (None when it never reported any)."""
    reported = manager.hub.token_usage(agent)
    return reported if reported.reports else None


def tokens(manager: SessionManager, status: AgentStatus) -> Tokens | None:
    """Reported totals when there are any, else the transcript's."""
    reported = usage(manager, status.session)
    if reported is not None:
        return Tokens(reported.input, reported.output, "reported", reported.model)
    totals = status.tokens
    if totals is not None:
        prompt = totals.input + totals.cache_read + totals.cache_write
        return Tokens(prompt, totals.output, "transcript", totals.model)
    return None


def context_use(manager: SessionManager, status: AgentStatus) -> ContextUse | None:
    """The CLI's context window when its transcript says, else the session's context."""
    totals = status.tokens
    if totals is not None and totals.context_used is not None and totals.context_window:
        return ContextUse(totals.context_used, totals.context_window, "transcript")
    session = manager.get_session(status.session_id)
    context = session.context if session is not None else None
    if context is None:
        return None
    return ContextUse(context.get_total_tokens(), context.config.max_tokens, "session")


def context_summary(
    manager: SessionManager, status: AgentStatus
) -> tuple[ContextSummary, tuple[Compression, ...]] | None:
    """The session's context figures and its compressions (before/after of each)."""
    session = manager.get_session(status.session_id)
    context = session.context if session is not None else None
    if context is None:
        return None
    return context.get_summary(), context.compressions
