"""`DecisionsPanel`: why the agents did what they did (`C-b y`) — the pattern summary (success
rate by type, confidence calibration) at the top, each decision's options, choice, confidence,
rationale and outcome, and the tracer's spans as a tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from widgets.panels.live import LivePanel
from widgets.panels.side import one_line

if TYPE_CHECKING:
    pass

SHOWN = 200  # the newest decisions listed
SPANS_SHOWN = 300  # the newest spans in the tree


def outcome_text(decision: Any) -> str:
    """✓ / ✗ with the note, or "pending"."""
    outcome = getattr(decision, "outcome", None)
    if outcome is None:
        return "pending"
    success = getattr(outcome, "success", outcome)
    note = getattr(outcome, "note", None) or getattr(decision, "outcome_note", None)
    mark = "✓ success" if success is True else "✗ failure" if success is False else str(success)
    return f"{mark}: {note}" if note else mark


class DecisionsPanel(LivePanel):
    """Decisions newest last; the selected one's whole record below the list; spans below."""

    TITLE = "Decisions"
    FOLLOW = True
    HINT = "↑↓ move  ⏎ agent's pane  esc close"
    EVENTS: ClassVar[frozenset[str]] = frozenset({"decision", "trace", "task"})
    DEFAULT_CSS = """
    DecisionsPanel > #patterns { height: auto; max-height: 5; padding: 0 1; color: $text-muted; }
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

    def read(self) -> list[Any] | str:
        hub = getattr(self.manager, "hub", None)
        if hub is None:
            return "decisions are off"
        self.query_one("#patterns", Static).update(self.patterns(hub.decisions.analyze_patterns()))
        self._spans(hub.tracer)
        return list(hub.decisions.decisions())[-SHOWN:]

    def pane_of(self, item: Any) -> str | None:
        return getattr(item, "agent", None)

    def patterns(self, report: Any) -> Text:
        """analyze_patterns() in a few lines: success rate per type, confidence calibration."""
        return Text(str(report), no_wrap=True, overflow="ellipsis")

    def row(self, item: Any) -> Text:
        decision = item
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"#{decision.id} ", style="dim")
        line.append(str(decision.type), style="italic")
        line.append(" → ")
        line.append(str(decision.selected), style="bold")
        line.append(f" {decision.confidence:.0%}")
        line.append(f"  {outcome_text(decision)}", style="dim")
        return line

    def moved(self) -> None:
        decision = self.selected
        detail = self.query_one("#detail", Static)
        if decision is None:
            detail.update(one_line("no decisions yet: ai-session decide --option A …"))
            return
        options = ", ".join(
            f"[{o}]" if o == decision.selected else str(o) for o in decision.options
        )
        lines = [
            f"options {options}",
            f"chose {decision.selected} at {decision.confidence:.0%}"
            + (f" ({decision.agent})" if getattr(decision, "agent", None) else ""),
        ]
        if decision.rationale:
            lines.append(f"why: {decision.rationale}")
        lines.append(f"outcome: {outcome_text(decision)}")
        detail.update(Text("\n".join(lines), overflow="fold"))

    def _spans(self, tracer: Any) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        spans = list(tracer.spans())[-SPANS_SHOWN:]
        nodes: dict[Any, TreeNode[Any]] = {}
        for span in spans:  # parents start before their children
            parent = nodes.get(span.parent_id, tree.root)
            node = parent.add(self._span_label(span), data=span, expand=True)
            nodes[span.span_id] = node
        for node in nodes.values():
            if not node.children:
                node.allow_expand = False

    def _span_label(self, span: Any) -> Text:
        status = str(getattr(span, "status", "") or "")
        label = Text(str(span.name), no_wrap=True)
        duration = getattr(span, "duration_ms", None)
        if duration is not None:
            label.append(f" {duration:.0f} ms", style="dim")
        if status and status not in ("ok", "OK"):
            label.append(f" {status}", style="bold red" if "err" in status.lower() else "dim")
        return label
