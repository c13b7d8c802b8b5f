"""The allowance as a pure function: its limits, the return after a break, credited history,
and the properties issue 11 asks for (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.advice.checks import planned_runs, what_if
from agent.config import Settings
from agent.models import DeclaredLevel, PainReport, Run, severity_rank
from agent.rules.allowance import allowance
from agent.rules.load import History
from agent.rules.plan import build_plan
from tests import builders

SETTINGS = Settings(timezone="UTC")
NOW = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)  # a Thursday
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


run = builders.run


def weekly(km: float, weeks: int, last: datetime) -> tuple[Run, ...]:
    """One run a week, the last one at ``last``."""
    return tuple(run(last - timedelta(weeks=weeks - 1 - n), km, n + 1) for n in range(weeks))


# -- the return after a break --------------------------------------------------------------


LAST_RUN = datetime(2026, 9, 14, 7, tzinfo=UTC)
EIGHT_A_WEEK = History(runs=weekly(8.0, 7, LAST_RUN))


@pytest.mark.parametrize(
    ("days", "run_km"),
    [
        (13, None),  # not yet a break: the usual limits
        (14, 4.0),  # 0.5 x 8 km (Daniels: 6-28 days off)
        (28, 4.0),
        (29, 3.218688),  # 0.33 x 8 = 2.64 km, below the 2-mile restart run
        (42, 3.218688),
        (120, 3.218688),
    ],
)
def test_the_return_limit_scales_with_the_break(days: int, run_km: float | None) -> None:
    found = allowance(EIGHT_A_WEEK, SETTINGS, LAST_RUN + timedelta(days=days, hours=1))
    limit = found.limit("return")
    if run_km is None:
        assert limit is None
        assert found.phase == "building"
        return
    assert found.phase == "return"
    assert limit is not None
    assert limit.km == pytest.approx(run_km)
    assert found.next_run_max_km == pytest.approx(run_km)
    assert found.cap_km == pytest.approx(run_km)  # one restart run a week: 8 km weeks
    assert "stridewatch plan return --usual 8km" in limit.reason
    assert found.limit("single-run") is None  # no run since the break to compare with


def test_a_spike_before_a_break_does_not_raise_the_restart() -> None:
    """12 km weeks and then a 30 km spike, 20 days off: the spike counts only up to its
    13.2 km limit, so the restart is at most half of that."""
    runs = (*weekly(12.0, 6, LAST_RUN - timedelta(days=3)), run(LAST_RUN, 30.0, 99))
    found = allowance(History(runs=runs), SETTINGS, LAST_RUN + timedelta(days=20))
    assert found.limit("return").km == pytest.approx(6.6)  # type: ignore[union-attr]


def test_after_the_restart_week_the_weeks_build_from_the_return() -> None:
    """Back after 6 weeks: the restart week is credited up to its return cap, so the next
    week's cap is 1.1 x that, and the single-run limit counts only runs since the break."""
    restart = LAST_RUN + timedelta(days=42)  # a Monday
    runs = (*EIGHT_A_WEEK.runs, run(restart, 3.0, 50), run(restart + timedelta(days=3), 5.0, 51))
    next_week = allowance(History(runs=runs), SETTINGS, restart + timedelta(days=7, hours=8))
    assert next_week.phase == "building"
    assert next_week.baseline_km == pytest.approx(3.218688)  # 8 km run credited to the cap
    assert next_week.cap_km == pytest.approx(3.218688 * 1.1)
    single = next_week.limit("single-run")
    assert single is not None
    assert single.km == pytest.approx(1.1 * 3.218688)  # the 5 km run counted up to 3.219


# -- credited history ----------------------------------------------------------------------


def test_a_spike_does_not_raise_the_next_limit() -> None:
    """10.5 km for weeks, then 17 km: the next limit is 1.1 x the credited 11.55 km."""
    runs = (*weekly(10.5, 6, MONDAY - timedelta(days=1)), run(MONDAY + timedelta(days=1), 17.0, 9))
    found = allowance(History(runs=runs), SETTINGS, MONDAY + timedelta(days=8))
    assert found.longest_30d_km == pytest.approx(11.55)
    assert found.limit("single-run").km == pytest.approx(12.705)  # type: ignore[union-attr]


def test_warm_up_runs_count_up_to_a_doubling() -> None:
    """In the first days a run counts up to 2x the longest before it (the spike rule only
    informs then): a usual long run of the first week stands, a 3x jump does not."""
    usual = (run(MONDAY, 8.0, 1), run(MONDAY + timedelta(days=2), 14.0, 2))
    found = allowance(History(runs=usual), SETTINGS, MONDAY + timedelta(days=3))
    assert found.phase == "warm-up"
    assert found.longest_30d_km == pytest.approx(14.0)
    jump = (run(MONDAY, 5.0, 1), run(MONDAY + timedelta(days=2), 15.0, 2))
    found = allowance(History(runs=jump), SETTINGS, MONDAY + timedelta(days=3))
    assert found.longest_30d_km == pytest.approx(10.0)


def test_runs_after_a_declared_level_count_against_it() -> None:
    declared = DeclaredLevel(MONDAY - timedelta(days=1), 25.0, 10.0)
    history = History(runs=(run(MONDAY + timedelta(hours=7), 20.0, 1),), declared=declared)
    found = allowance(history, SETTINGS, MONDAY + timedelta(days=7))
    assert found.limit("single-run").km == pytest.approx(1.1 * 11.0)  # type: ignore[union-attr]


# -- pain, plan, declared level, no history -------------------------------------------------


def test_pain_holds_the_cap_and_bounds_the_next_run_by_the_run_that_hurt() -> None:
    runs = (*weekly(10.0, 6, MONDAY - timedelta(days=1)), run(MONDAY + timedelta(days=1), 6.0, 9))
    hurt = PainReport(1, MONDAY + timedelta(days=1, minutes=40), 5, "during", run_id=9)
    found = allowance(History(runs=runs, pain=(hurt,)), SETTINGS, MONDAY + timedelta(days=2))
    assert (found.phase, found.held) == ("held", True)
    assert found.cap_km == pytest.approx(10.0)  # the baseline, not + 10 %
    assert (found.binding.rule, found.next_run_max_km) == ("week-cap", pytest.approx(4.0))  # type: ignore[union-attr]
    assert found.limit("pain").km == pytest.approx(6.0)  # type: ignore[union-attr]


def test_an_active_plan_bounds_runs_and_asks_for_rest_days() -> None:
    plan = build_plan((9.656, 12.875), start_week=MONDAY.date(), created_at=MONDAY)
    monday_run = run(MONDAY + timedelta(hours=7), 4.0, 1)
    history = History(runs=(monday_run,), plan=plan)
    tuesday = allowance(history, SETTINGS, MONDAY + timedelta(days=1, hours=8))
    assert tuesday.phase == "plan"
    assert tuesday.limit("plan").km == 0.0  # type: ignore[union-attr]
    assert "rest day" in tuesday.limit("plan").reason  # type: ignore[union-attr]
    wednesday = allowance(history, SETTINGS, MONDAY + timedelta(days=2, hours=8))
    assert wednesday.limit("plan").km == pytest.approx(plan.weeks[0].high_km)  # type: ignore[union-attr]
    assert wednesday.cap_km == pytest.approx(3 * plan.weeks[0].high_km)
    assert wednesday.limit("single-run") is None  # the plan is the prescription


def test_a_declared_level_stands_in_until_real_weeks_exist() -> None:
    declared = DeclaredLevel(MONDAY - timedelta(days=1), 25.0, 10.0)
    found = allowance(History(declared=declared), SETTINGS, MONDAY)
    assert found.phase == "building"
    assert found.cap_km == pytest.approx(27.5)
    assert found.limit("single-run").km == pytest.approx(11.0)  # type: ignore[union-attr]


def test_no_history_is_a_graded_start_not_no_limit() -> None:
    found = allowance(History(), SETTINGS, NOW)
    assert found.phase == "no-history"
    assert (found.binding.rule, found.next_run_max_km) == ("start", pytest.approx(4.828032))  # type: ignore[union-attr]
    assert found.cap_km is None


# -- properties ----------------------------------------------------------------------------


def histories(with_pain: bool = True) -> st.SearchStrategy[History]:
    return builders.histories(NOW, earliest_min=60, max_runs=30, max_reports=5 if with_pain else 0)


@FAST
@given(histories())
def test_the_allowance_is_the_smallest_limit_never_negative(past: History) -> None:
    found = allowance(past, SETTINGS, NOW)
    assert found.limits, "never silent: some limit is always known"
    assert found.next_run_max_km is not None
    assert found.next_run_max_km >= 0.0
    assert all(found.next_run_max_km <= limit.km for limit in found.limits)
    if found.remaining_km is not None:
        assert found.next_run_max_km <= found.remaining_km + 1e-9


@FAST
@given(histories(with_pain=False), st.integers(0, 200), st.integers(1, 200))
def test_a_longer_break_never_allows_more(past: History, after: int, longer: int) -> None:
    if not past.runs:
        return
    start = past.runs[-1].started_at + timedelta(days=SETTINGS.progression.break_days)
    early = allowance(past, SETTINGS, start + timedelta(days=after))
    late = allowance(past, SETTINGS, start + timedelta(days=after + longer))
    assert early.phase == late.phase == "return"
    assert late.next_run_max_km <= early.next_run_max_km + 1e-9  # type: ignore[operator]


@FAST
@given(histories(), st.integers(1, 36 * 60))
def test_what_if_of_exactly_the_allowance_raises_no_warning(past: History, later: int) -> None:
    at = NOW + timedelta(minutes=later)
    found = allowance(past, SETTINGS, at)
    km = found.next_run_max_km
    if km is None or km < 0.01:
        return
    metres = int(km * 1000)  # what a runner can type: rounded down to the metre
    result = what_if(past, SETTINGS, planned_runs(past, [(at, metres)]))
    added = [a for a in result.alerts if severity_rank(a.severity) >= severity_rank("warning")]
    assert added == []


def test_no_acwr_caution_while_the_chronic_load_rebuilds_after_a_break() -> None:
    """After six weeks off, three restart runs a week at the allowance: the acute:chronic
    ratio is high (the chronic load is near zero), but it says nothing about risk yet."""
    from agent.rules import progression

    restart = LAST_RUN + timedelta(days=42)
    runs = list(EIGHT_A_WEEK.runs)
    for n in range(9):
        runs.append(run(restart + timedelta(days=2 * n + (n // 3)), 3.2, 100 + n))
    history = History(runs=tuple(runs))
    at = restart + timedelta(days=20)
    assert progression.acwr(history, SETTINGS, at) == []
