"""Live path cost: CPU per notification while recording, and that it does not grow with the run.

The live path is what the daemon does for each notification: decode it into an event
(:func:`~agent.sensors.base.decode_notification`), hand it to :meth:`Recorder.handle`, and
compare the run's distance with the single-run spike limits (the live rule check: warn,
escalate and danger at ``spike_warn``/``spike_escalate``/``spike_danger`` x the longest run
of 30 days), with a flush to SQLite every ``recording.flush_interval_s`` as the daemon does.
CPU time (``time.thread_time``) is summed per hour of simulated time; the figure is the last
hour's cost per notification against the first hour's, in the same run.
"""

from __future__ import annotations

import importlib.util
import statistics
import time

from agent.config import Settings
from agent.recording.recorder import Recorder
from agent.sensors import sim
from agent.sensors.base import Notification, QueueItem, decode_notification
from agent.store import Store
from agent.store.writer import FlushSink
from benchmarks.common import Figure, Section, scratch
from benchmarks.ingest import EPOCH

TARGET_GROWTH = 1.2
# The longest run of the past 30 days, for the spike limits (any value: only the comparisons
# are timed). 15 km is a plausible longest run for a runner doing a 10-hour ultra.
LONGEST_KM = 15.0


def run(quick: bool) -> Section:
    section = Section("Live path cost")
    hours, segment_s = (0.5, 600.0) if quick else (10.0, 3600.0)
    items = list(sim.iter_items(sim.Scenario(sim.easy_run(duration_s=hours * 3600.0))))
    costs, counts = _per_segment(items, segment_s, hours * 3600.0)
    first, last = costs[0] / counts[0], costs[-1] / counts[-1]
    label = "hour" if segment_s == 3600.0 else f"{segment_s / 60:g} min"
    section.add(
        Figure(
            "live",
            f"CPU per notification, last {label} / first {label}",
            last / first,
            TARGET_GROWTH,
            False,
            detail=f"{hours:g} h run, {sum(counts)} notifications: first {first * 1e6:.1f} us, "
            f"last {last * 1e6:.1f} us, median {_median_us(costs, counts):.1f} us",
        )
    )
    per_s = sum(costs) / (hours * 3600.0)
    section.add(
        Figure(
            "live",
            "CPU share of one core while recording (footpod + strap at 1 Hz)",
            per_s * 100,
            None,
            False,
            unit="%",
            detail=f"{sum(costs) * 1e3:.0f} ms CPU for {hours:g} h of running",
        )
    )
    if importlib.util.find_spec("agent.daemon.live") is None:
        section.notes.append(
            "agent/daemon/live.py (the daemon's live alerts) did not exist when this ran: the rule "
            "check timed is the spike-limit comparison on the run's distance it will make."
        )
    return section


def _per_segment(
    items: list[QueueItem], segment_s: float, duration_s: float
) -> tuple[list[float], list[int]]:
    """CPU seconds and notification counts per ``segment_s`` of simulated time."""
    settings = Settings()
    limits = settings.progression
    spikes = [
        LONGEST_KM * 1000 * f
        for f in (limits.spike_warn, limits.spike_escalate, limits.spike_danger)
    ]
    interval = settings.recording.flush_interval_s
    with scratch("live") as folder:
        store = Store.open(folder / "live.db")
        try:
            recorder = Recorder(settings, epoch=EPOCH, source="simulated")
            sink = FlushSink(store)
            clock = _Segments(segment_s, duration_s)
            _play(items, recorder, sink, spikes, interval, clock)
            costs, counts = clock.costs, clock.counts
        finally:
            store.close()
    return costs, counts


def _median_us(costs: list[float], counts: list[int]) -> float:
    return statistics.median(c / n for c, n in zip(costs, counts, strict=True)) * 1e6


class _Segments:
    """CPU time and notifications per segment of simulated time (the last one closes at the
    run's end, so notifications stamped exactly at the end join it)."""

    def __init__(self, segment_s: float, duration_s: float) -> None:
        self.segment_s, self.end = segment_s, segment_s
        self.last_end = duration_s - segment_s / 2
        self.costs: list[float] = []
        self.counts: list[int] = []
        self.n = 0
        self.start = time.thread_time()

    def tick(self, t: float) -> None:
        if t >= self.end and self.end < self.last_end:
            self.close()
            self.end += self.segment_s
        self.n += 1

    def close(self) -> None:
        now = time.thread_time()
        self.costs.append(now - self.start)
        self.counts.append(self.n)
        self.start, self.n = now, 0


def _play(
    items: list[QueueItem],
    recorder: Recorder,
    sink: FlushSink,
    spikes: list[float],
    interval: float,
    clock: _Segments,
) -> None:
    """The daemon's per-notification work, in one thread, timed per segment."""
    next_flush, level = interval, 0
    for item in items:
        if not isinstance(item, Notification):
            recorder.handle(item)  # type: ignore[arg-type]
            continue
        t = item.received_at
        clock.tick(t)
        recorder.handle(decode_notification(item))
        run = recorder.active
        if run is not None and level < len(spikes) and run.distance_m > spikes[level]:
            level += 1  # the live alert would be raised here
        if t >= next_flush:
            recorder.tick(t)
            sink.write(recorder.take_flushes())
            next_flush += interval
    clock.close()
