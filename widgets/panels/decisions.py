"""`DecisionsPanel`: why the agents did what they did (`C-b y`) — the pattern summary (success
rate overall and by type, confidence calibration) at the top, each decision's options, choice,
confidence, rationale and outcome, and the tracer's spans as a tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from widgets.panels.live import LivePanel
from widgets.panels.side import one_line, set_text

if TYPE_CHECKING:
    from engine.observability import Decision, DecisionPatterns, SpanTree

SHOWN = 200  # the newest decisions listed, up to twice as many
TRACES_SHOWN = 20  # the newest traces in the tree


def _rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def outcome_text(decision: Decision) -> str:
    """✓ success / ✗ failure with the note, or pending."""
    if decision.outcome is None:
        return "pending"
    mark = "✓" if decision.outcome == "success" else "✗"
    text = f"{mark} {decision.outcome}"
    return f"{text}: {decision.note}" if decision.note else text


def patterns_text(patterns: DecisionPatterns) -> Text:
    """analyze_patterns() in three lines: overall, by type, calibration (stated confidence
    against the observed success rate, per bucket that has outcomes)."""
    lines = [
        f"{patterns.total} decisions, {patterns.with_outcome} with outcome, "
        f"success {_rate(patterns.success_rate)}"
    ]
    if patterns.by_type:
        kinds = patterns.by_type.items()
        lines.append(
            "by type: " + ", ".join(f"{k} {_rate(p.success_rate)} ({p.total})" for k, p in kinds)
        )
    buckets = [c for c in patterns.calibration if c.decisions]
    if buckets:
        lines.append(
            "calibration: "
            + ", ".join(
                f"said {_rate(c.mean_confidence)} got {_rate(c.success_rate)}" for c in buckets
            )
        )
    return Text("\n".join(lines), no_wrap=True, overflow="ellipsis")


class DecisionsPanel(LivePanel):
    """Decisions newest last; the selected one's whole record below the list; spans below."""

    TITLE = "Decisions"
    FOLLOW = True
    KEEP = SHOWN
    HINT = "↑↓ move  ⏎ agent's pane  esc close"
    EVENTS: ClassVar[frozenset[str]] = frozenset({"decision", "trace", "task"})
    DEFAULT_CSS = """
    DecisionsPanel > #patterns {
        height: auto; max-height: 3; padding: 0 1; color: $text-muted;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    DecisionsPanel > OptionList { height: auto; min-height: 1; max-height: 30%; }
    DecisionsPanel > Tree { height: 1fr; min-height: 3; border-top: solid $panel; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        yield self.title_row()
        yield Static(id="patterns")
        yield self.list_widget()
        yield Static(classes="detail", id="detail")
        tree: Tree[Any] = Tree("spans")
        tree.can_focus = False
        tree.show_root = False
        yield tree
        yield self.hint_row()

    _patterns_of = -1  # the tracker's version the patterns line shows

    def read(self) -> list[Any]:
        hub = self.manager.hub
        if self._patterns_of != hub.decisions.version:  # else the same line again: no work
            self._patterns_of = hub.decisions.version
            patterns = patterns_text(hub.decisions.analyze_patterns())
            set_text(self.query_one("#patterns", Static), patterns)
        self._spans(hub.tracer.get_traces(limit=TRACES_SHOWN))
        return list(hub.decisions.decisions(limit=2 * SHOWN))

    def pane_of(self, item: Any) -> str | None:
        agent: str | None = item.agent
        return agent

    def row(self, item: Any) -> Text:
        decision: Decision = item
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"#{decision.id} ", style="dim")
        line.append(str(decision.type), style="italic")
        line.append(" → ")
        line.append(decision.selected, style="bold")
        line.append(f" {decision.confidence:.0%}")
        line.append(f"  {outcome_text(decision)}", style="dim")
        return line

    def moved(self) -> None:
        decision: Decision | None = self.selected
        detail = self.query_one("#detail", Static)
        if decision is None:
            set_text(detail, one_line("no decisions yet: ai-session decide …"))
            return
        options = ", ".join(f"[{o}]" if o == decision.selected else o for o in decision.options)
        who = f" by {decision.agent}" if decision.agent else ""
        lines = [
            f"options {options}",
            f"chose {decision.selected} at {decision.confidence:.0%}{who}",
        ]
        if decision.rationale:
            lines.append(f"why: {decision.rationale}")
        lines.append(f"outcome: {outcome_text(decision)}")
        set_text(detail, Text("\n".join(lines), overflow="fold"))

    _spans_shown: list[tuple[int, Text]] | None = None  # (depth, label) of each node shown

    def _spans(self, traces: list[SpanTree]) -> None:
        """Build the tree again, only when a label or the shape changed (a new tree changes
        its size, which lays the screen out)."""
        flat: list[tuple[int, Text]] = []

        def walk(node: SpanTree, depth: int) -> None:
            flat.append((depth, self._span_label(node)))
            for child in node.children:
                walk(child, depth + 1)

        for root in traces:
            walk(root, 0)
        if flat == self._spans_shown:
            return
        self._spans_shown = flat
        tree: Tree[Any] = self.query_one(Tree)
        tree.clear()

        def add(parent: TreeNode[Any], node: SpanTree) -> None:
            if node.children:
                branch = parent.add(self._span_label(node), data=node.span, expand=True)
                for child in node.children:
                    add(branch, child)
            else:
                parent.add_leaf(self._span_label(node), data=node.span)

        for root in traces:
            add(tree.root, root)

    def _span_label(self, node: SpanTree) -> Text:
        span = node.span
        label = Text(span.name, no_wrap=True)
        if span.agent:
            label.append(f" {span.agent}", style="dim")
        duration = span.duration
        if duration is not None:
            label.append(f" {duration * 1000:.0f} ms", style="dim")
        if span.status != "ok":
            label.append(f" {span.status}", style="bold" if span.status == "running" else "red")
        return label
