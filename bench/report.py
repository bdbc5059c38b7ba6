"""The results table: our numbers, the raw Celery baselines measured in the same run, targets and anchors."""

from __future__ import annotations

from dataclasses import dataclass

from bench.workloads import ChainResult, LatencyResult, ThroughputResult

# Published numbers quoted in the issue, for scale (other systems, other machines).
ANCHOR_STEP = "Hatchet 31, Temporal 74, Windmill 110 ms"
ANCHOR_THREE_STEP = "Windmill 103, Temporal 119 ms"
ANCHOR_THROUGHPUT = "Windmill 152/s, n8n 220/s"

TRANSITION_TARGET_MS = 5.0
RAW_RATIO_TARGET = 1.5
INLINE_TARGET_MS = 50.0
THREE_STEP_TARGET_MS = 20.0
THROUGHPUT_TARGET = 250.0


@dataclass(frozen=True)
class Results:
    w40_engine: ChainResult
    w40_raw: ChainResult
    inline: LatencyResult
    three_step: LatencyResult
    raw_roundtrip: LatencyResult
    throughput: ThroughputResult
    concurrent: ThroughputResult
    capacity: ThroughputResult
    chain_steps: int
    inline_steps: int


@dataclass(frozen=True)
class Row:
    workload: str
    metric: str
    ours: float
    unit: str = "ms"
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    anchors: str = ""

    @property
    def ratio(self) -> float | None:
        return self.ours / self.baseline if self.baseline else None


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}/s" if unit == "/s" else f"{value:.1f} ms"


def rows(r: Results) -> list[Row]:
    eng, raw = r.w40_engine, r.w40_raw
    w40 = f"W{r.chain_steps}: {r.chain_steps} x http GET, 1 worker"
    inline = f"W{r.inline_steps}-inline: {r.inline_steps} transforms"
    three = f"3 transforms, {r.three_step.runs} sequential, 1 worker"
    lat, base = r.three_step, r.raw_roundtrip
    tput, cap, conc = r.throughput, r.capacity, r.concurrent
    transition_ratio = eng.transition_p50_ms / raw.transition_p50_ms
    return [
        Row(w40, "total (rows)", eng.total_ms, baseline=raw.total_ms, target=f"<= {RAW_RATIO_TARGET}x raw",
            met=eng.total_ms <= RAW_RATIO_TARGET * raw.total_ms),
        Row(w40, "total (wall, polled)", eng.wall_ms, baseline=raw.wall_ms),
        Row(w40, "transition p50", eng.transition_p50_ms, baseline=raw.transition_p50_ms,
            target=f"< {TRANSITION_TARGET_MS:g} ms, <= {RAW_RATIO_TARGET}x raw",
            met=eng.transition_p50_ms < TRANSITION_TARGET_MS and transition_ratio <= RAW_RATIO_TARGET,
            anchors=f"per-step overhead: {ANCHOR_STEP}"),
        Row(w40, "transition p95", eng.transition_p95_ms, baseline=raw.transition_p95_ms),
        Row(w40, "in-step p50 (start->end)", eng.step_p50_ms, baseline=raw.step_p50_ms),
        Row(inline, "median completed_at-created", r.inline.p50_ms, target=f"< {INLINE_TARGET_MS:g} ms",
            met=r.inline.p50_ms < INLINE_TARGET_MS),
        Row(inline, "median updated_at-created", r.inline.done_p50_ms, target=f"< {INLINE_TARGET_MS:g} ms",
            met=r.inline.done_p50_ms < INLINE_TARGET_MS),
        Row(inline, "median wall (polled)", r.inline.wall_p50_ms),
        Row(three, "p50 completed_at-created", lat.p50_ms, baseline=base.p50_ms,
            target=f"< {THREE_STEP_TARGET_MS:g} ms", met=lat.p50_ms < THREE_STEP_TARGET_MS,
            anchors=f"three-step median: {ANCHOR_THREE_STEP}"),
        Row(three, "p95 completed_at-created", lat.p95_ms, baseline=base.p95_ms),
        Row(three, "p50 updated_at-created", lat.done_p50_ms, baseline=base.done_p50_ms,
            target=f"< {THREE_STEP_TARGET_MS:g} ms", met=lat.done_p50_ms < THREE_STEP_TARGET_MS),
        Row(three, "p95 updated_at-created", lat.done_p95_ms, baseline=base.done_p95_ms),
        Row(three, "p50 wall (polled)", lat.wall_p50_ms, baseline=base.wall_p50_ms),
        Row(three, "p95 wall (polled)", lat.wall_p95_ms, baseline=base.wall_p95_ms),
        Row(f"3 transforms, {tput.count} at once, {tput.workers} workers", "executions/s", tput.per_second,
            unit="/s", target=f"> {THROUGHPUT_TARGET:g}/s", met=tput.per_second > THROUGHPUT_TARGET,
            anchors=ANCHOR_THROUGHPUT),
        Row(f"  same, from {conc.submitters} concurrent submitters", "executions/s", conc.per_second,
            unit="/s", target=f"> {THROUGHPUT_TARGET:g}/s", met=conc.per_second > THROUGHPUT_TARGET),
        Row(f"(diagnostic) {cap.count} queued in one commit", "executions/s", cap.per_second, unit="/s",
            anchors="what the workers sustain, without the submit loop"),
    ]  # fmt: skip


HEADERS = ("Workload", "Metric", "Flowbuilder", "Raw Celery", "Ratio", "Target", "Met", "Anchors (issue)")


def print_table(table: list[Row], headers: tuple[str, ...] = HEADERS) -> None:
    cells = [
        (
            row.workload,
            row.metric,
            _value(row.ours, row.unit),
            _value(row.baseline, row.unit),
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            row.target or "-",
            {True: "yes", False: "NO", None: "-"}[row.met],
            row.anchors,
        )
        for row in table
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    right = {2, 3, 4}  # numbers

    def line(values: tuple[str, ...]) -> str:
        return " | ".join(
            v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    print(line(headers))
    print("-+-".join("-" * w for w in widths))
    for values in cells:
        print(line(values))


def print_notes(r: Results, *, repetitions: int) -> None:
    t, c = r.throughput, r.capacity
    notes = [
        f"W{r.chain_steps}: medians of {repetitions} alternated engine/raw repetitions after a warm-up. Transition =",
        "  next step's started_at - previous step's completed_at (raw: the tasks' own timestamps, kept in Redis);",
        "  raw Celery = celery.chain of the same GET, one reused httpx.Client per process, acks_late, prefetch 1.",
        "completed_at is stamped when the last step finishes; updated_at is the run's final write just before",
        "  its commit, so both are shown.",
        f"W{r.inline_steps}-inline: {r.inline.runs} runs. Three-step baseline: one raw task inserting a row",
        f"  (apply_async -> row), {r.raw_roundtrip.runs} runs. Wall times poll the database every 1 ms.",
        f"Throughput: {t.count} runs in {t.seconds:.2f}s (first created_at -> last completed_at); creating them",
        f"  took {t.submit_seconds:.2f}s ({t.count / t.submit_seconds:.0f}/s from one process, each its own transaction).",
        f"Diagnostic: {c.count} runs created in {c.submit_seconds:.2f}s in one transaction, then all done",
        f"  {c.seconds:.2f}s after its commit on {c.workers} workers.",
    ]
    print()
    print("\n".join(notes))
