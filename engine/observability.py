"""What agents decide, spend and do, kept so a person can look back: `DecisionTracker`
(choices with their confidence and later outcome, and how well stated confidence matched what
happened), `Profiler` (timings with percentiles, memory, token usage with a burn rate) and
`SemanticTracer` (nested spans grouped into traces).

Everything is in memory and bounded (the newest records are kept); each keeper calls its
`listeners` with every new or changed record, which is how `AgentHub` emits events and writes
the store without these classes knowing either.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from engine.errors import CoordinationError

KEEP_DECISIONS = 10_000  # decisions held in memory (the store keeps them all)
KEEP_SAMPLES = 1_000  # timing samples per name the percentiles are taken from
KEEP_MEMORY = 1_000  # memory samples
KEEP_TOKEN_REPORTS = 10_000  # token reports per agent (the burn rate and sparkline read them)
KEEP_SPANS = 10_000  # spans held in memory
BURN_WINDOW = 300.0  # seconds the burn rate averages over: five minutes smooths one long turn
SPARK_BUCKETS = 30  # sparkline points
SPARK_WIDTH = 60.0  # seconds per sparkline point
# Confidence calibration buckets: [low, high) except the last, which includes 1.0.
CALIBRATION = ((0.0, 0.5), (0.5, 0.8), (0.8, 1.0))
SPAN_STATUSES = ("ok", "error")

E = TypeVar("E", bound=StrEnum)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_enum(kind: type[E], value: str | E) -> E:
    """A member of `kind` from its value or name in any spelling: `task_request`,
    `TaskRequest`, `task-request`, `TASK_REQUEST`; CoordinationError naming the choices."""
    if isinstance(value, kind):
        return value
    text = str(value).strip()
    key = "".join(c for c in text if c.isalnum()).lower()
    for member in kind:
        if key == member.value.replace("_", "").lower():
            return member
    choices = ", ".join(m.value for m in kind)
    raise CoordinationError(f"unknown {kind.__name__} {text[:40]!r}; one of: {choices}")


Listener = Callable[[Any], None]


def trim_oldest(records: dict[Any, Any], keep: int) -> None:
    """Drop the oldest entries (in insertion order) past `keep`: memory stays bounded."""
    while len(records) > keep:
        del records[next(iter(records))]


def count_after(counter: Iterator[int], last_id: int) -> itertools.count[int]:
    """`counter` moved on past `last_id` (the store's highest), so ids never repeat."""
    return itertools.count(max(next(counter), last_id + 1))


def _tell(listeners: list[Listener], record: Any) -> None:
    for listener in list(listeners):
        listener(record)


# -- decisions -------------------------------------------------------------------------------


class DecisionType(StrEnum):
    """What a decision was about (GENERIC when none of these)."""

    TASK_ASSIGNMENT = "task_assignment"
    APPROACH = "approach"
    TOOL_SELECTION = "tool_selection"
    RESOURCE_ALLOCATION = "resource_allocation"
    ERROR_RECOVERY = "error_recovery"
    GENERIC = "generic"

    @classmethod
    def parse(cls, value: str | DecisionType) -> DecisionType:
        return parse_enum(cls, value)


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Decision:
    """A choice among `options` with the stated `confidence` (0..1); `outcome` arrives later."""

    id: int
    type: DecisionType
    options: tuple[str, ...]
    selected: str
    confidence: float
    rationale: str
    context: dict[str, Any]
    agent: str | None
    time: datetime
    outcome: Outcome | None = None
    note: str | None = None
    outcome_time: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "options": list(self.options),
            "selected": self.selected,
            "confidence": self.confidence,
            "rationale": self.rationale,
            "context": self.context,
            "agent": self.agent,
            "time": _iso(self.time),
            "outcome": None if self.outcome is None else self.outcome.value,
            "note": self.note,
            "outcome_time": _iso(self.outcome_time),
        }


@dataclass(frozen=True)
class Calibration:
    """Decisions whose stated confidence fell in [low, high) (the last bucket includes 1.0)
    and have an outcome: what they claimed on average against how often they succeeded."""

    low: float
    high: float
    decisions: int
    mean_confidence: float | None
    success_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "range": f"{self.low:g}-{self.high:g}",
            "low": self.low,
            "high": self.high,
            "decisions": self.decisions,
            "mean_confidence": self.mean_confidence,
            "success_rate": self.success_rate,
        }


@dataclass(frozen=True)
class TypePattern:
    total: int
    with_outcome: int
    successes: int
    success_rate: float | None  # of those with an outcome; None before any


@dataclass(frozen=True)
class DecisionPatterns:
    total: int
    with_outcome: int
    success_rate: float | None
    mean_confidence: float | None
    by_type: dict[str, TypePattern]
    calibration: list[Calibration]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "with_outcome": self.with_outcome,
            "success_rate": self.success_rate,
            "mean_confidence": self.mean_confidence,
            "by_type": {
                name: {
                    "total": p.total,
                    "with_outcome": p.with_outcome,
                    "successes": p.successes,
                    "success_rate": p.success_rate,
                }
                for name, p in self.by_type.items()
            },
            "calibration": [c.to_dict() for c in self.calibration],
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class DecisionTracker:
    """Decisions, newest `keep` in memory, by id; listeners hear every new one and outcome.
    `version` changes with every change (a reader redoes its work only then)."""

    def __init__(self, keep: int = KEEP_DECISIONS) -> None:
        self.keep = keep
        self._decisions: dict[int, Decision] = {}
        self._ids = itertools.count(1)
        self.listeners: list[Listener] = []
        self.version = 0
        self._patterns: tuple[int, DecisionPatterns] | None = None

    def __len__(self) -> int:
        return len(self._decisions)

    def track(
        self,
        type: DecisionType | str,
        options: Iterable[str],
        selected: str,
        confidence: float,
        rationale: str = "",
        context: dict[str, Any] | None = None,
        agent: str | None = None,
    ) -> Decision:
        """Record a decision; CoordinationError if `selected` is not one of `options`, the
        options are empty or repeat, or `confidence` is not a number in 0..1."""
        kind = DecisionType.parse(type)
        choices = tuple(str(o) for o in options)
        if not choices:
            raise CoordinationError("a decision needs at least one option")
        if len(set(choices)) != len(choices):
            raise CoordinationError("a decision's options must differ from each other")
        if selected not in choices:
            raise CoordinationError(
                f"selected {selected[:60]!r} is not one of the options ({', '.join(choices)[:200]})"
            )
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not 0.0 <= confidence <= 1.0  # NaN fails too
        ):
            raise CoordinationError(f"confidence must be a number from 0 to 1, not {confidence!r}")
        decision = Decision(
            id=next(self._ids),
            type=kind,
            options=choices,
            selected=selected,
            confidence=float(confidence),
            rationale=rationale,
            context=dict(context or {}),
            agent=agent,
            time=_now(),
        )
        self._put(decision)
        return decision

    def _put(self, decision: Decision) -> None:
        self._decisions[decision.id] = decision
        trim_oldest(self._decisions, self.keep)
        self.version += 1
        _tell(self.listeners, decision)

    def restore(self, decisions: Iterable[Decision]) -> None:
        """Decisions read back from the store (no listener hears them); new ids go on after."""
        for decision in decisions:
            self._decisions.setdefault(decision.id, decision)
        self._decisions = dict(sorted(self._decisions.items()))
        trim_oldest(self._decisions, self.keep)
        self.version += 1
        self.advance(max(self._decisions, default=0))

    def advance(self, last_id: int) -> None:
        self._ids = count_after(self._ids, last_id)

    def get(self, decision_id: int) -> Decision:
        try:
            return self._decisions[decision_id]
        except KeyError:
            raise CoordinationError(
                f"no decision {decision_id} (kept: the newest {self.keep})",
                CoordinationError.NOT_FOUND,
            ) from None

    def record_outcome(self, decision_id: int, success: bool, note: str | None = None) -> Decision:
        """The outcome of a decision (once: a second one is a CONFLICT error)."""
        decision = self.get(decision_id)
        if decision.outcome is not None:
            raise CoordinationError(
                f"decision {decision_id} already has an outcome ({decision.outcome.value})",
                CoordinationError.CONFLICT,
            )
        decision = replace(
            decision,
            outcome=Outcome.SUCCESS if success else Outcome.FAILURE,
            note=note,
            outcome_time=_now(),
        )
        self._decisions[decision_id] = decision
        self.version += 1
        _tell(self.listeners, decision)
        return decision

    def decisions(
        self,
        agent: str | None = None,
        type: DecisionType | str | None = None,
        limit: int | None = None,
    ) -> list[Decision]:
        """Decisions oldest first (the newest `limit`), of one agent and/or type."""
        kind = None if type is None else DecisionType.parse(type)
        found = [
            d
            for d in self._decisions.values()
            if (agent is None or d.agent == agent) and (kind is None or d.type == kind)
        ]
        return found if limit is None else found[-limit:] if limit > 0 else []

    def analyze_patterns(self, decisions: Iterable[Decision] | None = None) -> DecisionPatterns:
        """Totals, success rate per type, and calibration: per confidence bucket, the mean
        stated confidence against the observed success rate (a well-calibrated agent that
        says 0.9 succeeds about 9 times in 10). Of every decision kept, the analysis is
        worked out once per `version` (a panel reading it on each event burst costs nothing
        while no decision changed)."""
        if decisions is not None:
            return self._analyze(list(decisions))
        cached = self._patterns
        if cached is None or cached[0] != self.version:
            cached = self._patterns = (self.version, self._analyze(list(self._decisions.values())))
        return cached[1]

    def _analyze(self, chosen: list[Decision]) -> DecisionPatterns:
        done = [d for d in chosen if d.outcome is not None]
        wins = sum(d.outcome == Outcome.SUCCESS for d in done)
        by_type: dict[str, TypePattern] = {}
        for kind in dict.fromkeys(d.type for d in chosen):
            of_kind = [d for d in chosen if d.type == kind]
            kind_done = [d for d in of_kind if d.outcome is not None]
            kind_wins = sum(d.outcome == Outcome.SUCCESS for d in kind_done)
            by_type[kind.value] = TypePattern(
                len(of_kind), len(kind_done), kind_wins, _rate(kind_wins, len(kind_done))
            )
        calibration = []
        for i, (low, high) in enumerate(CALIBRATION):
            last = i == len(CALIBRATION) - 1
            inside = [
                d for d in done if low <= d.confidence < high or (last and d.confidence == high)
            ]
            bucket_wins = sum(d.outcome == Outcome.SUCCESS for d in inside)
            calibration.append(
                Calibration(
                    low,
                    high,
                    len(inside),
                    sum(d.confidence for d in inside) / len(inside) if inside else None,
                    _rate(bucket_wins, len(inside)),
                )
            )
        return DecisionPatterns(
            total=len(chosen),
            with_outcome=len(done),
            success_rate=_rate(wins, len(done)),
            mean_confidence=sum(d.confidence for d in chosen) / len(chosen) if chosen else None,
            by_type=by_type,
            calibration=calibration,
        )


# -- profiler --------------------------------------------------------------------------------


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which `fraction` of `ordered` (sorted, not empty) falls: the nearest
    rank, so p50 of [1, 2, 3, 4] is 2 and p95 of 20 samples is the 19th."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class TimingStats:
    """`count`, `total` and `max` cover every sample; p50/p95 the newest KEEP_SAMPLES."""

    name: str
    count: int
    total: float
    mean: float
    p50: float
    p95: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "total": self.total,
            "mean": self.mean,
            "p50": self.p50,
            "p95": self.p95,
            "max": self.max,
        }


@dataclass
class _Timing:
    count: int = 0
    total: float = 0.0
    max: float = 0.0
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=KEEP_SAMPLES))


@dataclass(frozen=True)
class MemorySample:
    time: datetime
    rss_bytes: int
    label: str


@dataclass(frozen=True)
class TokenReport:
    """One report of tokens an agent spent (a model turn, or a sum the agent sends)."""

    agent: str
    input: int
    output: int
    model: str | None
    time: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "time": _iso(self.time),
        }


@dataclass(frozen=True)
class TokenUsage:
    """An agent's token totals, its burn rate (tokens a minute over the last `window`
    seconds) and `series`: tokens per SPARK_WIDTH-second bucket, oldest first, for a sparkline."""

    agent: str
    input: int
    output: int
    reports: int
    model: str | None  # the latest reported
    first: datetime | None
    last: datetime | None
    burn_rate: float
    window: float
    series: list[int]
    bucket_seconds: float

    @property
    def total(self) -> int:
        return self.input + self.output

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "input": self.input,
            "output": self.output,
            "total": self.total,
            "reports": self.reports,
            "model": self.model,
            "first": _iso(self.first),
            "last": _iso(self.last),
            "burn_rate": self.burn_rate,
            "window": self.window,
            "series": self.series,
            "bucket_seconds": self.bucket_seconds,
        }


@dataclass(frozen=True)
class TokenTotals:
    """An agent's sums over every report it made (what the store reads back at a start)."""

    agent: str
    input: int
    output: int
    reports: int
    model: str | None  # the latest reported
    first: datetime
    last: datetime


@dataclass
class _Tokens:
    input: int = 0
    output: int = 0
    reports: int = 0
    model: str | None = None
    first: datetime | None = None
    last: datetime | None = None
    recent: deque[TokenReport] = field(default_factory=lambda: deque(maxlen=KEEP_TOKEN_REPORTS))


def _report_time(report: TokenReport) -> datetime:
    return report.time


def _keep_recent(recent: deque[TokenReport], report: TokenReport) -> None:
    """`report` into `recent` (time order, bounded). One older than the newest kept (a clock
    stepped back, a report read back after live ones) goes in its place; when `recent` is
    full, the oldest goes first, and a report older than all of them is not kept (it counts
    in the totals only)."""
    if not recent or report.time >= recent[-1].time:
        recent.append(report)  # a full deque drops its oldest itself
        return
    if recent.maxlen is not None and len(recent) >= recent.maxlen:
        if report.time < recent[0].time:
            return
        recent.popleft()
    at = bisect.bisect([r.time for r in recent], report.time)
    recent.insert(at, report)


def rss_bytes() -> int:
    """This process's resident memory, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Profiler:
    """Named timings (count, p50, p95, max), memory samples, and token usage per agent."""

    def __init__(self) -> None:
        self._timings: dict[str, _Timing] = {}
        self._memory: deque[MemorySample] = deque(maxlen=KEEP_MEMORY)
        self._tokens: dict[str, _Tokens] = {}
        self.listeners: list[Listener] = []  # hear each TokenReport

    def record_timing(self, name: str, seconds: float) -> None:
        if not seconds >= 0:  # NaN too
            raise CoordinationError(f"a timing is a duration of 0 or more seconds, not {seconds}")
        timing = self._timings.setdefault(name, _Timing())
        timing.count += 1
        timing.total += seconds
        timing.max = max(timing.max, seconds)
        timing.samples.append(seconds)

    def timing(self, name: str) -> TimingStats | None:
        timing = self._timings.get(name)
        if timing is None or not timing.count:
            return None
        ordered = sorted(timing.samples)
        return TimingStats(
            name,
            timing.count,
            timing.total,
            timing.total / timing.count,
            percentile(ordered, 0.50),
            percentile(ordered, 0.95),
            timing.max,
        )

    def timings(self) -> list[TimingStats]:
        return [s for name in self._timings if (s := self.timing(name)) is not None]

    def record_memory(self, rss: int | None = None, label: str = "") -> MemorySample:
        """A memory sample: `rss` bytes, else this process's resident memory now."""
        sample = MemorySample(_now(), rss_bytes() if rss is None else int(rss), label)
        self._memory.append(sample)
        return sample

    def memory(self) -> list[MemorySample]:
        return list(self._memory)

    def record_tokens(
        self,
        agent: str,
        input: int,
        output: int,
        model: str | None = None,
        time: datetime | None = None,
        *,
        tell: bool = True,
    ) -> TokenReport:
        """Add one report of tokens spent; CoordinationError unless both are whole numbers
        of 0 or more."""
        for name, value in (("input", input), ("output", output)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CoordinationError(f"{name} tokens must be a whole number >= 0, not {value!r}")
        report = TokenReport(agent, input, output, model, time or _now())
        usage = self._tokens.setdefault(agent, _Tokens())
        usage.input += input
        usage.output += output
        usage.reports += 1
        usage.model = model or usage.model
        usage.first = report.time if usage.first is None else min(usage.first, report.time)
        usage.last = report.time if usage.last is None else max(usage.last, report.time)
        _keep_recent(usage.recent, report)
        if tell:
            _tell(self.listeners, report)
        return report

    def restore_tokens(self, totals: Iterable[TokenTotals], recent: Iterable[TokenReport]) -> None:
        """What the store read back: each agent's totals over all its reports (added to any
        made meanwhile) and its recent reports for the burn rate and sparkline (kept, not
        counted again). No listener hears them."""
        for total in totals:
            usage = self._tokens.setdefault(total.agent, _Tokens())
            usage.input += total.input
            usage.output += total.output
            usage.reports += total.reports
            usage.model = usage.model or total.model  # one reported meanwhile is newer
            usage.first = total.first if usage.first is None else min(usage.first, total.first)
            usage.last = total.last if usage.last is None else max(usage.last, total.last)
        by_agent: dict[str, list[TokenReport]] = {}
        for report in recent:
            by_agent.setdefault(report.agent, []).append(report)
        for agent, reports in by_agent.items():
            kept = self._tokens.setdefault(agent, _Tokens()).recent
            merged = sorted([*reports, *kept], key=_report_time)  # two sorted runs: cheap
            kept.clear()
            kept.extend(merged[-(kept.maxlen or len(merged)) :])

    def agents(self) -> list[str]:
        """Agents that reported tokens, in order of their first report."""
        return list(self._tokens)

    def token_usage(
        self,
        agent: str,
        now: datetime | None = None,
        window: float = BURN_WINDOW,
        buckets: int = SPARK_BUCKETS,
        width: float = SPARK_WIDTH,
    ) -> TokenUsage:
        """An agent's usage (zeros for one that never reported)."""
        now = now or _now()
        usage = self._tokens.get(agent, _Tokens())
        since = now - timedelta(seconds=window)
        spent = sum(r.input + r.output for r in usage.recent if since < r.time <= now)
        series = [0] * buckets
        start = now - timedelta(seconds=width * buckets)
        for report in usage.recent:
            if start < report.time <= now:
                at = int((report.time - start).total_seconds() // width)
                series[min(at, buckets - 1)] += report.input + report.output
        return TokenUsage(
            agent=agent,
            input=usage.input,
            output=usage.output,
            reports=usage.reports,
            model=usage.model,
            first=usage.first,
            last=usage.last,
            burn_rate=spent / (window / 60.0),
            window=window,
            series=series,
            bucket_seconds=width,
        )

    def summary(self) -> dict[str, Any]:
        """Every timing, the newest memory sample, token totals per agent."""
        latest = self._memory[-1] if self._memory else None
        return {
            "timings": [t.to_dict() for t in self.timings()],
            "memory": None
            if latest is None
            else {"time": _iso(latest.time), "rss_bytes": latest.rss_bytes, "label": latest.label},
            "tokens": {a: self.token_usage(a).to_dict() for a in self._tokens},
        }


# -- tracer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """One piece of work: `status` is "running" until ended "ok" or "error"."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    metadata: dict[str, Any]
    agent: str | None
    start: datetime
    end: datetime | None = None
    status: str = "running"

    @property
    def duration(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "metadata": self.metadata,
            "agent": self.agent,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "status": self.status,
            "duration": self.duration,
        }


@dataclass
class SpanTree:
    """A span and its children (in start order)."""

    span: Span
    children: list[SpanTree] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.span.to_dict(), "children": [c.to_dict() for c in self.children]}


class SemanticTracer:
    """Spans grouped into traces: a span without a parent starts a trace, a child joins its
    parent's. The newest `keep` spans are held; listeners hear each start and end."""

    def __init__(self, keep: int = KEEP_SPANS) -> None:
        self.keep = keep
        self._spans: dict[str, Span] = {}
        self.listeners: list[Listener] = []

    def __len__(self) -> int:
        return len(self._spans)

    def start_span(
        self,
        name: str,
        metadata: dict[str, Any] | None = None,
        parent: str | None = None,
        agent: str | None = None,
    ) -> Span:
        if not name.strip():
            raise CoordinationError("a span needs a name")
        trace_id = secrets.token_hex(16)
        if parent is not None:
            trace_id = self.get(parent).trace_id
        span = Span(
            trace_id=trace_id,
            span_id=secrets.token_hex(8),
            parent_id=parent,
            name=name,
            metadata=dict(metadata or {}),
            agent=agent,
            start=_now(),
        )
        self._put(span)
        return span

    def _put(self, span: Span) -> None:
        self._spans[span.span_id] = span
        trim_oldest(self._spans, self.keep)
        _tell(self.listeners, span)

    def restore(self, spans: Iterable[Span]) -> None:
        """Spans read back from the store (no listener hears them), oldest first."""
        for span in sorted(spans, key=lambda s: s.start):
            self._spans.setdefault(span.span_id, span)
        trim_oldest(self._spans, self.keep)

    def get(self, span_id: str) -> Span:
        try:
            return self._spans[span_id]
        except KeyError:
            raise CoordinationError(
                f"no span {span_id[:40]!r} (kept: the newest {self.keep})",
                CoordinationError.NOT_FOUND,
            ) from None

    def end_span(self, span_id: str, status: str = "ok") -> Span:
        """End a running span "ok" or "error" (ending it twice is a CONFLICT error)."""
        if status not in SPAN_STATUSES:
            raise CoordinationError(f"a span ends 'ok' or 'error', not {status[:20]!r}")
        span = self.get(span_id)
        if span.end is not None:
            raise CoordinationError(
                f"span {span_id} already ended ({span.status})", CoordinationError.CONFLICT
            )
        span = replace(span, end=max(_now(), span.start), status=status)
        self._spans[span_id] = span
        _tell(self.listeners, span)
        return span

    def spans(self, trace_id: str | None = None) -> list[Span]:
        """Spans in start order, of one trace or all."""
        return [s for s in self._spans.values() if trace_id is None or s.trace_id == trace_id]

    def get_traces(self, limit: int | None = None) -> list[SpanTree]:
        """Every trace as a tree of spans, oldest trace first (the newest `limit` trees). A
        span whose parent is no longer kept shows as a root of its trace. With `limit`, only
        those trees are built: the newest roots are found first, then their traces' spans."""
        spans = self._spans
        if limit is not None and limit <= 0:
            return []
        wanted: set[str] | None = None  # the root span ids shown (None: all)
        if limit is not None:
            wanted = set()
            for span in reversed(spans.values()):
                if (span.parent_id or "") not in spans:
                    wanted.add(span.span_id)
                    if len(wanted) == limit:
                        break
            traces = {spans[span_id].trace_id for span_id in wanted}
            chosen: Iterable[Span] = (s for s in spans.values() if s.trace_id in traces)
        else:
            chosen = spans.values()
        nodes = {span.span_id: SpanTree(span) for span in chosen}
        roots: list[SpanTree] = []
        for node in nodes.values():
            parent = nodes.get(node.span.parent_id or "")
            if parent is not None:
                parent.children.append(node)
            elif wanted is None or node.span.span_id in wanted:
                roots.append(node)
        return roots
