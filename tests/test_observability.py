"""Decisions with their calibration, timings with percentiles, token burn rates and span
trees: the figures the decision and token panels show."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from engine import observability
from engine.errors import CoordinationError
from engine.observability import (
    KEEP_SAMPLES,
    DecisionTracker,
    DecisionType,
    Profiler,
    SemanticTracer,
    percentile,
    rss_bytes,
)

# -- decisions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, selected, confidence, message",
    [
        (["a", "b"], "a", 7, "confidence must be a number from 0 to 1, not 7"),
        (["a", "b"], "a", -0.1, "confidence must be"),
        (["a", "b"], "a", math.nan, "confidence must be"),
        (["a", "b"], "a", True, "confidence must be"),
        (["a", "b"], "c", 0.5, "selected 'c' is not one of the options \\(a, b\\)"),
        ([], "a", 0.5, "at least one option"),
        (["a", "a"], "a", 0.5, "must differ"),
    ],
)
def test_a_decision_must_choose_one_of_its_options_with_a_sane_confidence(
    options: list[str], selected: str, confidence: float, message: str
) -> None:
    tracker = DecisionTracker()
    with pytest.raises(CoordinationError, match=message):
        tracker.track("generic", options, selected, confidence)
    assert len(tracker) == 0


def test_an_outcome_comes_once_to_a_known_decision() -> None:
    tracker = DecisionTracker()
    heard = []
    tracker.listeners.append(heard.append)
    decision = tracker.track("ToolSelection", ["grep", "ripgrep"], "ripgrep", 0.9, "faster")
    assert decision.type == DecisionType.TOOL_SELECTION and decision.outcome is None
    done = tracker.record_outcome(decision.id, True, "3x faster")
    assert (done.outcome, done.note) == ("success", "3x faster")
    assert done.outcome_time is not None and done.outcome_time >= done.time
    assert heard == [decision, done]
    with pytest.raises(CoordinationError, match="already has an outcome") as caught:
        tracker.record_outcome(decision.id, False)
    assert caught.value.code == CoordinationError.CONFLICT
    with pytest.raises(CoordinationError, match="no decision 42") as caught:
        tracker.record_outcome(42, True)
    assert caught.value.code == CoordinationError.NOT_FOUND


def test_patterns_give_success_by_type_and_how_confidence_matched_outcomes() -> None:
    tracker = DecisionTracker()

    def decide(kind: str, confidence: float, success: bool | None) -> None:
        decision = tracker.track(kind, ["x", "y"], "x", confidence)
        if success is not None:
            tracker.record_outcome(decision.id, success)

    for success in (True, True, True, False):  # says 0.9, right 3 times in 4
        decide("approach", 0.9, success)
    decide("approach", 1.0, True)  # 1.0 is in the top bucket
    decide("approach", 0.5, False)  # 0.5 opens the middle bucket
    decide("task_assignment", 0.2, True)
    decide("task_assignment", 0.3, None)  # no outcome yet
    patterns = tracker.analyze_patterns()
    assert (patterns.total, patterns.with_outcome) == (8, 7)
    assert patterns.success_rate == pytest.approx(5 / 7)
    approach = patterns.by_type["approach"]
    assert (approach.total, approach.with_outcome, approach.successes) == (6, 6, 4)
    assert patterns.by_type["task_assignment"].success_rate == 1.0
    low, middle, high = patterns.calibration
    assert (low.decisions, low.mean_confidence, low.success_rate) == (1, 0.2, 1.0)
    assert (middle.decisions, middle.mean_confidence, middle.success_rate) == (1, 0.5, 0.0)
    assert high.decisions == 5
    assert high.mean_confidence == pytest.approx(0.92)
    assert high.success_rate == pytest.approx(0.8)
    data = patterns.to_dict()
    assert [c["range"] for c in data["calibration"]] == ["0-0.5", "0.5-0.8", "0.8-1"]


def test_patterns_of_nothing_are_empty_not_errors() -> None:
    patterns = DecisionTracker().analyze_patterns()
    assert patterns.total == 0 and patterns.success_rate is None
    assert all(c.decisions == 0 and c.success_rate is None for c in patterns.calibration)


def test_the_tracker_keeps_the_newest() -> None:
    tracker = DecisionTracker(keep=3)
    ids = [tracker.track("generic", ["a"], "a", 1.0).id for _ in range(5)]
    assert [d.id for d in tracker.decisions()] == ids[2:]
    assert [d.id for d in tracker.decisions(limit=2)] == ids[3:]
    with pytest.raises(CoordinationError, match="kept: the newest 3"):
        tracker.get(ids[0])


# -- profiler ------------------------------------------------------------------------------------


def test_timings_report_count_percentiles_and_max() -> None:
    profiler = Profiler()
    for ms in range(100, 0, -1):  # 1..100 ms, in any order
        profiler.record_timing("build", ms / 1000)
    stats = profiler.timing("build")
    assert stats is not None
    assert (stats.count, stats.p50, stats.p95, stats.max) == (100, 0.05, 0.095, 0.1)
    assert stats.mean == pytest.approx(0.0505)
    assert profiler.timing("never") is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([7.0], 0.95) == 7.0
    with pytest.raises(CoordinationError):
        profiler.record_timing("build", -1)


def test_percentiles_follow_the_newest_samples_and_the_max_all_of_them() -> None:
    profiler = Profiler()
    profiler.record_timing("step", 60.0)  # one slow start, long ago
    for _ in range(KEEP_SAMPLES):
        profiler.record_timing("step", 0.01)
    stats = profiler.timing("step")
    assert stats is not None
    assert (stats.count, stats.p95, stats.max) == (KEEP_SAMPLES + 1, 0.01, 60.0)


def test_memory_samples_this_process_by_default() -> None:
    profiler = Profiler()
    sample = profiler.record_memory(label="start")
    assert sample.rss_bytes == rss_bytes() or sample.rss_bytes > 0
    assert profiler.record_memory(1024).rss_bytes == 1024
    assert [s.label for s in profiler.memory()] == ["start", ""]


def test_token_usage_totals_burn_rate_and_a_series_for_a_sparkline() -> None:
    profiler = Profiler()
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    for minutes_ago, tokens in ((20, 1000), (4, 300), (2, 200), (0, 100)):
        profiler.record_tokens("alice", tokens, 0, "m1", now - timedelta(minutes=minutes_ago))
    profiler.record_tokens("alice", 0, 50, None, now - timedelta(seconds=30))
    usage = profiler.token_usage("alice", now=now, window=300, buckets=30, width=60)
    assert (usage.input, usage.output, usage.total, usage.reports) == (1600, 50, 1650, 5)
    assert usage.model == "m1"
    assert usage.burn_rate == pytest.approx(650 / 5)  # the last five minutes' 650 tokens
    assert len(usage.series) == 30 and sum(usage.series) == 1650
    # bucket i holds [start + i minutes, start + i + 1): two minutes ago opens the second last
    assert usage.series[-1] == 150 and usage.series[-2] == 200 and usage.series[-4] == 300
    assert usage.series[-20] == 1000
    assert usage.first == now - timedelta(minutes=20) and usage.last == now
    nobody = profiler.token_usage("bob", now=now)
    assert (nobody.total, nobody.burn_rate, set(nobody.series)) == (0, 0.0, {0})
    assert profiler.agents() == ["alice"]


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_token_counts_are_whole_numbers(bad: object) -> None:
    with pytest.raises(CoordinationError, match="whole number"):
        Profiler().record_tokens("a", bad, 0)  # type: ignore[arg-type]


# -- tracer --------------------------------------------------------------------------------------


def test_spans_nest_into_traces() -> None:
    tracer = SemanticTracer()
    root = tracer.start_span("analyze_codebase", {"operation_type": "file_analysis"}, agent="a")
    parse = tracer.start_span("parse", parent=root.span_id)
    tracer.start_span("lex", parent=parse.span_id)
    check = tracer.start_span("check", parent=root.span_id)
    other = tracer.start_span("deploy")
    assert parse.trace_id == root.trace_id != other.trace_id
    tracer.end_span(check.span_id, "error")
    ended = tracer.end_span(root.span_id)
    assert ended.status == "ok" and ended.end is not None
    assert ended.duration == (ended.end - ended.start).total_seconds()  # what the span says
    first, second = tracer.get_traces()
    assert first.span.name == "analyze_codebase" and second.span.name == "deploy"
    assert [c.span.name for c in first.children] == ["parse", "check"]
    assert [c.span.name for c in first.children[0].children] == ["lex"]
    assert first.children[1].span.status == "error"
    tree = first.to_dict()
    assert tree["metadata"] == {"operation_type": "file_analysis"}
    assert tree["children"][0]["children"][0]["status"] == "running"
    assert [t.span.name for t in tracer.get_traces(limit=1)] == ["deploy"]


def test_spans_refuse_what_cannot_be() -> None:
    tracer = SemanticTracer()
    span = tracer.start_span("x")
    with pytest.raises(CoordinationError, match="'ok' or 'error'"):
        tracer.end_span(span.span_id, "meh")
    tracer.end_span(span.span_id)
    with pytest.raises(CoordinationError, match="already ended") as caught:
        tracer.end_span(span.span_id)
    assert caught.value.code == CoordinationError.CONFLICT
    with pytest.raises(CoordinationError, match="no span 'nope'"):
        tracer.start_span("child", parent="nope")
    with pytest.raises(CoordinationError, match="needs a name"):
        tracer.start_span(" ")


def test_a_child_whose_parent_was_let_go_stands_as_a_root() -> None:
    tracer = SemanticTracer(keep=2)
    root = tracer.start_span("root")
    child = tracer.start_span("child", parent=root.span_id)
    tracer.start_span("sibling", parent=root.span_id)  # the root goes
    assert [t.span.name for t in tracer.get_traces()] == ["child", "sibling"]
    assert tracer.get_traces()[0].span.span_id == child.span_id


def test_a_late_report_for_an_agent_with_a_full_window_is_counted_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(observability, "KEEP_TOKEN_REPORTS", 3)  # read when an agent starts
    profiler = Profiler()
    now = datetime.now(UTC)
    at = [now - timedelta(seconds=s) for s in (50, 40, 30)]
    for moment in at:
        profiler.record_tokens("a", 1, 0, time=moment)
    # the clock stepped back: older than every kept report, with the window full
    profiler.record_tokens("a", 10, 0, time=now - timedelta(seconds=60))
    # between kept ones: it goes in its place and the oldest kept goes
    profiler.record_tokens("a", 100, 0, time=now - timedelta(seconds=35))
    usage = profiler.token_usage("a", now=now)
    assert (usage.input, usage.reports) == (113, 5)
    assert usage.burn_rate == (1 + 100 + 1) / 5  # the three kept, per minute over 5 minutes
    assert usage.first == now - timedelta(seconds=60)


def test_the_patterns_are_worked_out_again_only_when_a_decision_changes() -> None:
    tracker = DecisionTracker()
    first = tracker.analyze_patterns()
    assert tracker.analyze_patterns() is first
    decision = tracker.track("approach", ["a", "b"], "a", 0.9)
    version = tracker.version
    assert version > 0
    changed = tracker.analyze_patterns()
    assert changed is not first and changed.total == 1
    assert tracker.analyze_patterns() is changed  # nothing happened since
    tracker.record_outcome(decision.id, True)
    assert tracker.version > version
    assert tracker.analyze_patterns().with_outcome == 1
    version = tracker.version
    tracker.restore([])
    assert tracker.version > version
    some = tracker.analyze_patterns([decision])  # of given decisions: never the cached one
    assert some is not tracker.analyze_patterns() and some.with_outcome == 0


def test_the_newest_traces_are_built_without_building_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tracer = SemanticTracer()
    for i in range(50):
        root = tracer.start_span(f"root {i}")
        tracer.start_span("child", parent=tracer.start_span("mid", parent=root.span_id).span_id)
    everything = tracer.get_traces()
    built: list[str] = []

    class Counted(observability.SpanTree):
        def __init__(self, span: observability.Span) -> None:
            super().__init__(span)
            built.append(span.span_id)

    monkeypatch.setattr(observability, "SpanTree", Counted)
    newest = tracer.get_traces(limit=2)
    assert [t.to_dict() for t in newest] == [t.to_dict() for t in everything[-2:]]
    assert len(built) == 2 * 3  # the two traces' spans, not all 150
    assert tracer.get_traces(limit=0) == []
    assert len(tracer.get_traces(limit=500)) == 50
