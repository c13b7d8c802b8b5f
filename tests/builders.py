"""Histories for the pure rules: runs at an easy 6:00/km and pain reports, by hand or drawn
by hypothesis."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import strategies as st

from agent.models import PainReport, Run
from agent.rules.load import History

distances = st.floats(min_value=0.5, max_value=45.0, allow_nan=False)
scores = st.integers(min_value=0, max_value=10)
timings = st.sampled_from(["before", "during", "after", "morning"])


def run(at: datetime, km: float, run_id: int, rpe: int | None = None) -> Run:
    """A manual run of ``km`` at 6:00/km starting ``at``."""
    return Run(
        id=run_id,
        started_at=at,
        distance_m=km * 1000,
        moving_s=km * 360,
        elapsed_s=km * 360,
        source="manual",
        rpe=rpe,
    )


@st.composite
def histories(
    draw: st.DrawFn,
    now: datetime,
    *,
    earliest_min: int = 0,
    latest_min: int = 80 * 24 * 60,
    max_runs: int = 40,
    max_reports: int = 6,
) -> History:
    """Runs and pain reports between ``latest_min`` and ``earliest_min`` minutes before
    ``now``, oldest first, numbered from 1."""
    offsets = st.integers(min_value=earliest_min, max_value=latest_min)
    items = sorted(draw(st.lists(st.tuples(offsets, distances), max_size=max_runs)), reverse=True)
    runs = tuple(
        run(now - timedelta(minutes=minutes), km, n + 1) for n, (minutes, km) in enumerate(items)
    )
    drawn = sorted(draw(st.lists(st.tuples(offsets, scores, timings), max_size=max_reports)))
    pain = tuple(
        PainReport(n + 1, now - timedelta(minutes=m), score, when)  # type: ignore[arg-type]
        for n, (m, score, when) in enumerate(reversed(drawn))
    )
    return History(runs=runs, pain=pain)
