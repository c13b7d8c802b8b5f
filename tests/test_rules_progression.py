"""Progression rules as pure functions, and the properties issue 5 asks for (hypothesis)."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.advice.checks import assess, check_json, planned_runs
from agent.config import Settings
from agent.models import Run
from agent.rules import load, progression
from agent.rules.evaluate import evaluate
from agent.rules.load import History
from tests import builders

SETTINGS = Settings(timezone="Europe/Berlin")
NOW = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)  # a Thursday


run = builders.run


def weeks_of(*weeks: tuple[float, ...], last_monday: datetime) -> History:
    """Weeks of runs on Tue/Thu/Sun, the last week starting ``last_monday``."""
    runs = []
    for w, distances in enumerate(weeks):
        monday = last_monday - timedelta(weeks=len(weeks) - 1 - w)
        for day, km in zip((1, 3, 6), distances, strict=False):
            runs.append(run(monday + timedelta(days=day, hours=6), km, len(runs) + 1))
    return History(runs=tuple(runs))


MONDAY = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("this_week", "expected"),
    [
        ((5.0, 5.0, 6.0), None),  # 16 km, +6.7 %: within the 16.5 km cap
        ((6.0, 6.0, 5.0), ("warning", 1)),  # +13.3 %
        ((6.0, 6.0, 6.0), ("warning", 2)),  # +20 %: past the 15 % escalation
        ((7.0, 7.0, 6.0), ("danger", 3)),  # +33 %
    ],
)
def test_weekly_progression_severity_and_level(
    this_week: tuple[float, ...], expected: tuple[str, int] | None
) -> None:
    past = weeks_of(*((5.0, 5.0, 5.0),) * 4, this_week, last_monday=MONDAY)
    sunday = MONDAY + timedelta(days=6, hours=12)
    alerts = progression.weekly_progression(past, SETTINGS, sunday)
    found = [(a.severity, a.data["level"]) for a in alerts if a.severity != "caution"]
    assert found == ([] if expected is None else [expected])


def settled(*later: Run) -> History:
    """Weekly 10 km runs for five weeks up to five days before MONDAY (past the warm-up)."""
    weekly = [run(MONDAY - timedelta(days=5 + 7 * n), 10.0, 90 - n) for n in range(5, 0, -1)]
    return History(runs=(*weekly, run(MONDAY - timedelta(days=5), 10.0, 1), *later))


def test_spike_levels_follow_the_ratio() -> None:
    """Each step is passed, not reached: exactly 2.0x (100 % longer, Frandsen's 30-100 %
    band) is still a warning, as config/default.toml says ("danger above 2.0x")."""
    steps = (
        (11.0, None, 0),
        (11.5, "warning", 1),
        (13.0, "warning", 1),
        (14.0, "warning", 2),
        (20.0, "warning", 2),
        (20.5, "danger", 3),
    )
    for km, severity, level in steps:
        past = settled(run(MONDAY, km, 2))
        alerts = progression.run_limits(past, SETTINGS, MONDAY + timedelta(hours=2))
        assert [(a.severity, a.data["level"]) for a in alerts] == (
            [] if severity is None else [(severity, level)]
        ), km
    for km, severity, level in ((11.5, "warning", 1), (14.0, "warning", 2), (21.0, "danger", 3)):
        past = settled(run(MONDAY, km, 2))
        [alert] = progression.run_limits(past, SETTINGS, MONDAY + timedelta(hours=2))
        assert (alert.severity, alert.data["level"]) == (severity, level)
        assert alert.key == "single-run-spike:run:2"


def test_a_spike_in_the_warm_up_only_informs() -> None:
    past = History(runs=(run(MONDAY - timedelta(days=5), 4.0, 1), run(MONDAY, 6.0, 2)))
    [alert] = progression.run_limits(past, SETTINGS, MONDAY + timedelta(hours=2))
    assert (alert.rule, alert.severity) == ("single-run-spike", "info")
    assert "for information only" in alert.message


def test_a_spike_stays_on_the_state_for_a_week() -> None:
    past = settled(run(MONDAY, 12.0, 2))
    assert progression.run_limits(past, SETTINGS, MONDAY + timedelta(days=6, hours=23))
    assert not progression.run_limits(past, SETTINGS, MONDAY + timedelta(days=7, hours=1))


def test_a_long_break_makes_the_next_long_run_a_return_danger() -> None:
    """40 days off, then 30 km: no spike to compare with, but the return limit (0.33 x the
    10 km before the break, at least a 2-mile restart run) is far exceeded."""
    past = History(runs=(run(MONDAY - timedelta(days=40), 10.0, 1), run(MONDAY, 30.0, 2)))
    [alert] = progression.run_limits(past, SETTINGS, MONDAY + timedelta(hours=1))
    assert (alert.rule, alert.severity, alert.data["level"]) == ("return-after-break", "danger", 3)
    assert alert.data["limit_km"] == pytest.approx(3.3)
    assert "40 days without a run" in alert.message


def test_acwr_is_never_more_than_a_caution() -> None:
    steady = [run(MONDAY - timedelta(days=60 - n), 5.0, n + 1) for n in range(53)]
    surge = [run(MONDAY - timedelta(days=6 - n), 16.0, 100 + n) for n in range(7)]
    past = History(runs=tuple(steady + surge))
    [alert] = progression.acwr(past, SETTINGS, MONDAY + timedelta(hours=12))
    assert alert.severity == "caution"
    assert alert.data["acwr"] > 1.5
    assert "Williams et al. 2017" in alert.message


def test_monotony_above_two_is_a_caution() -> None:
    """On session-RPE load (RPE x minutes), as Foster defined it."""
    days = [
        replace(run(MONDAY + timedelta(days=n, hours=7), km, n + 1), rpe=4)
        for n, km in enumerate([6] * 6)
    ]
    past = History(runs=tuple(days))
    [alert] = progression.monotony(past, SETTINGS, MONDAY + timedelta(days=6, hours=20))
    assert alert.data["load"] == "srpe"
    assert alert.severity == "caution"
    loads = [6.0] * 6 + [0.0]
    expected = statistics.fmean(loads) / statistics.pstdev(loads)
    assert alert.data["monotony"] == pytest.approx(expected, abs=1e-3)
    assert "Foster 1998" in alert.message


def test_monotony_is_never_computed_on_distance() -> None:
    """A steady daily runner with no RPE logged: distance alone never flags monotony."""
    days = [run(MONDAY + timedelta(days=n, hours=7), 5.0, n + 1) for n in range(7)]
    past = History(runs=tuple(days))
    assert progression.monotony(past, SETTINGS, MONDAY + timedelta(days=6, hours=20)) == []


def test_rules_are_pure_and_ignore_later_history() -> None:
    past = weeks_of(*((5.0, 5.0, 5.0),) * 4, (10.0, 10.0, 10.0), last_monday=MONDAY)
    early = MONDAY + timedelta(days=1)
    assert evaluate(past, SETTINGS, early) == evaluate(past.upto(early), SETTINGS, early)


# -- properties ---------------------------------------------------------------------------

distances = builders.distances
offsets = st.integers(min_value=0, max_value=80 * 24 * 60)  # minutes before NOW


def histories() -> st.SearchStrategy[History]:
    return builders.histories(NOW)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(offsets, distances, st.integers(0, 120 * 24 * 60))
def test_no_alert_for_the_first_run_ever(minutes: int, km: float, later: int) -> None:
    """One run: no spike (nothing before it) and nothing at all within its own week (the
    first stored run starts the warm-up; only a *planned* first run gets the no-history
    information)."""
    first = History(runs=(run(NOW - timedelta(minutes=minutes), km, 1),))
    assert evaluate(first, SETTINGS, first.runs[0].started_at) == []
    at = NOW + timedelta(minutes=later)
    alerts = evaluate(first, SETTINGS, at)
    assert [a for a in alerts if a.rule != "weekly-progression"] == []
    if load.week_of(at, SETTINGS) == load.week_of(first.runs[0].started_at, SETTINGS):
        assert alerts == []


@FAST
@given(st.lists(st.tuples(st.integers(0, 3 * 24 * 60), distances), min_size=1, max_size=6))
def test_no_progression_alert_without_a_week_before(items: list[tuple[int, float]]) -> None:
    """Runs only in the current week (Mon 2 Nov to NOW), the first ever: no baseline; the
    warm-up cap is 3 runs of the longest so far, and a weekly alert only past it."""
    runs = tuple(
        run(NOW - timedelta(minutes=m), km, n + 1)
        for n, (m, km) in enumerate(sorted(items, reverse=True))
    )
    alerts = evaluate(History(runs=runs), SETTINGS, NOW)
    week = check_json(assess(History(runs=runs), SETTINGS, NOW), SETTINGS)["week"]
    assert week["baseline_km"] is None
    longest = max(r.distance_km for r in runs)
    assert week["cap_km"] == pytest.approx(3 * longest, abs=1e-3)
    weekly = [a for a in alerts if a.rule == "weekly-progression" and a.severity != "caution"]
    assert bool(weekly) == (sum(r.distance_km for r in runs) > 3 * longest + 1e-6)


@FAST
@given(histories())
def test_remaining_is_never_negative(past: History) -> None:
    week = check_json(assess(past, SETTINGS, NOW), SETTINGS)["week"]
    if week["cap_km"] is None:
        assert week["remaining_km"] is None
        return
    assert week["remaining_km"] >= 0.0
    assert week["remaining_km"] <= week["cap_km"]
    if week["distance_km"] > week["cap_km"]:
        assert week["remaining_km"] == 0.0


@FAST
@given(histories(), offsets, distances)
def test_adding_a_run_never_lowers_the_weeks_distance(
    past: History, minutes: int, km: float
) -> None:
    before = check_json(assess(past, SETTINGS, NOW), SETTINGS)["week"]["distance_km"]
    extra = planned_runs(past, [(NOW - timedelta(minutes=minutes), km * 1000)])
    after = check_json(assess(past.plus(extra), SETTINGS, NOW), SETTINGS)["week"]["distance_km"]
    assert after >= before
