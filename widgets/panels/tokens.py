"""`TokensPanel`: what each agent spends (`C-b u`) — tokens in and out, burn rate, how full its
context is, its compressions (before → after), token reduction and storage ratio labelled
apart (engine/context.py keeps the two figures apart), and a sparkline of tokens over time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Sparkline, Static

from widgets.panels.figures import context_summary, context_use, tokens, usage
from widgets.panels.live import LivePanel, count
from widgets.panels.side import one_line, set_text

if TYPE_CHECKING:
    from engine.agents import AgentStatus


FOLDS_SHOWN = 3  # compressions listed with their before → after, newest first


class TokensPanel(LivePanel):
    """Agents listed with their totals; the selected one's figures and sparkline below."""

    TITLE = "Tokens"
    TICK = 2.0  # an agent CLI's transcript totals change without an event (engine/agents.py)
    HINT = "↑↓ agent  ⏎ go to pane  esc close"
    EVENTS: ClassVar[frozenset[str]] = frozenset(
        {"tokens", "agent", "command", "created", "closed", "renamed"}
    )
    DEFAULT_CSS = """
    TokensPanel > OptionList { height: auto; min-height: 1; max-height: 40%; }
    TokensPanel > #figures {
        height: auto; max-height: 10; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    TokensPanel > #spark-label { height: 1; padding: 0 1; color: $text-muted; }
    TokensPanel > Sparkline { height: 3; margin: 0 1; }
    TokensPanel > #spacer { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield self.title_row()
        yield self.list_widget()
        yield Static(id="figures")
        yield Static(id="spark-label")
        yield Sparkline([])
        yield Static(id="spacer")
        yield self.hint_row()

    def read(self) -> list[Any]:
        return list(self.manager.agents.statuses())

    def key(self, item: Any) -> str:
        return str(item.session_id)

    def pane_of(self, item: Any) -> str:
        return str(item.session_id)

    def summary(self) -> str:
        spent = [t for s in self.rows if (t := tokens(self.manager, s)) is not None]
        total = sum(t.input + t.output for t in spent)
        agents = f"{len(spent)} agent" + ("" if len(spent) == 1 else "s")
        return f"{count(total)} tokens, {agents} reporting"

    def row(self, item: Any) -> Text:
        status: AgentStatus = item
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(status.session, style="bold")
        spent = tokens(self.manager, status)
        line.append(
            f"  {count(spent.input)} in {count(spent.output)} out" if spent else "  –",
            style="" if spent else "dim",
        )
        context = context_use(self.manager, status)
        if context is not None and context.used:
            line.append(f"  ctx {context.label}")
        return line

    def moved(self) -> None:
        status = self.selected
        figures = self.query_one("#figures", Static)
        spark = self.query_one(Sparkline)
        data: list[float] = []
        report = None
        if status is None:
            set_text(figures, one_line("no panes"))
        else:
            set_text(figures, self.figures(status))
            report = usage(self.manager, status.session)
            data = [float(n) for n in report.series] if report is not None else []
        if spark.data != data:  # each new value redraws it
            spark.data = data
        label = self.query_one("#spark-label", Static)
        if label.display != (report is not None):  # each change lays the screen out
            label.display = spark.display = report is not None
        if report is not None:
            set_text(label, one_line(f"tokens per {report.bucket_seconds:.0f} s, oldest left"))

    def figures(self, status: AgentStatus) -> Text:
        """The selected agent's lines, each figure with its label (short: 80x24 leaves the
        panel 35 columns)."""
        lines: list[str] = []
        spent = tokens(self.manager, status)
        report = usage(self.manager, status.session)
        lines.append(status.session + (f" · {spent.model}" if spent and spent.model else ""))
        if spent is None:
            lines.append("tokens: none reported")
        else:
            lines.append(f"in {spent.input:,} · out {spent.output:,} ({spent.source})")
        if report is not None:
            lines.append(f"burn rate {count(report.burn_rate)} tokens/min")
        totals = status.tokens
        if totals is not None and totals.compactions:
            lines.append(f"compactions (its CLI's): {totals.compactions}")
        context = context_use(self.manager, status)
        if context is not None:
            lines.append(
                f"context {context.label} · {count(context.used)}/{count(context.window)}"
                f" ({context.source})"
            )
        summary = context_summary(self.manager, status)
        if summary is not None:
            figures, compressions = summary
            if compressions:  # the newest few, each as tokens before → after
                folds = ", ".join(
                    f"{count(c.tokens_before)}→{count(c.tokens_after)}"
                    for c in reversed(compressions[-FOLDS_SHOWN:])
                )
                lines.append(f"compressions {len(compressions)}: {folds} tok")
            lines.append(
                f"token reduction {figures.token_reduction:.1%}"
                f" ({count(figures.original_tokens)}→{count(figures.total_tokens)} tok)"
            )
            lines.append(
                f"storage ratio {figures.storage_ratio:.1f}×"
                f" ({count(figures.original_bytes)}→{count(figures.stored_bytes)} B zstd)"
            )
        return Text("\n".join(lines), no_wrap=True, overflow="ellipsis")
