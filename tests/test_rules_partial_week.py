"""The week a runner's history begins in the middle of is a part of a week, never a baseline.

A tester logged Thu 8, Sat 6 and Sun 12 km, then the same 39 km week every week: the 26 km
part-week became the baseline, and three identical weeks read +50 %, +36 % and +24 % "over
cap" (the credit chain carried the part-week on). Flat training must never read as a jump
once the warm-up is over, whatever weekday the history starts on and whichever day weeks
start on; a real jump still must.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import assume as hypothesis_assume
from hypothesis import strategies as st

from agent.config import Settings
from agent.models import Alert, Run
from agent.rules.allowance import allowance
from agent.rules.evaluate import evaluate
from agent.rules.load import History, partial_week
from agent.units import week_start_of
from tests import builders

ZONE = "America/New_York"
MONDAY = date(2026, 8, 31)
WARM_UP = timedelta(days=14)
# The tester's week: Mon 6, Tue 8, Thu 7, Sat 6, Sun 12 km (39 km).
ROUTINE = {0: 6.0, 1: 8.0, 3: 7.0, 5: 6.0, 6: 12.0}


def config(week_start: str = "monday") -> Settings:
    return Settings(timezone=ZONE, week_start=week_start)  # type: ignore[arg-type]


def local(day: date, hour: int, settings: Settings) -> datetime:
    return datetime.combine(day, time(hour), settings.zone)


def flat(pattern: dict[int, float], first: date, weeks: int, settings: Settings) -> tuple[Run, ...]:
    """The same runs every week (weekday -> km, Monday 0), from ``first`` for ``weeks``
    weeks, at 07:00 local."""
    runs = []
    for n in range(weeks * 7):
        day = first + timedelta(days=n)
        if day.weekday() in pattern:
            at = local(day, 7, settings)
            runs.append(builders.run(at, pattern[day.weekday()], len(runs) + 1))
    return tuple(runs)


def weekly(alerts: list[Alert]) -> list[Alert]:
    return [alert for alert in alerts if alert.rule == "weekly-progression"]


def evenings(runs: tuple[Run, ...], settings: Settings, days: int) -> list[datetime]:
    """20:00 local on every day from the first run's day to ``days`` later."""
    start = runs[0].started_at.astimezone(settings.zone).date()
    return [local(start + timedelta(days=n), 20, settings) for n in range(days)]


# -- the tester's case ---------------------------------------------------------------------


def test_the_tester_s_weeks_are_flat_not_a_jump() -> None:
    """Thu 8, Sat 6, Sun 12 km, then the 39 km routine: the first complete week is measured
    against the warm-up's guess (information only), and every week after it is within its
    cap, at +0 % on a 39 km baseline."""
    settings = config()
    start = flat({3: 8.0, 5: 6.0, 6: 12.0}, date(2026, 9, 3), 1, settings)
    later = flat(ROUTINE, date(2026, 9, 7), 4, settings)
    runs = tuple(
        builders.run(r.started_at, r.distance_km, n + 1) for n, r in enumerate(start + later)
    )
    history = History(runs=runs)
    assert partial_week(runs, settings) == date(2026, 8, 31)
    sunday = local(date(2026, 9, 13), 20, settings)
    week = allowance(history, settings, sunday)
    assert (week.phase, week.baseline_km, week.cap_km) == ("warm-up", None, 36.0)
    assert week.warm_up_cap
    assert week.cap_basis.startswith("warm-up: 3 runs")
    [alert] = weekly(evaluate(history, settings, sunday))
    assert alert.severity == "info"
    assert "rough guess" in alert.message
    for n in (1, 2, 3):
        at = local(date(2026, 9, 13) + timedelta(weeks=n), 20, settings)
        week = allowance(history, settings, at)
        assert week.phase == "building"
        assert (week.distance_km, week.baseline_km) == (pytest.approx(39.0), pytest.approx(39.0))
        assert week.cap_km == pytest.approx(42.9)
        assert weekly(evaluate(history, settings, at)) == []


def test_a_sunday_week_on_a_monday_routine_is_flat() -> None:
    """Weeks from Sunday, the routine from Monday 31 Aug: the first week (Sun 30 Aug to
    Sat 5 Sep) misses its Sunday, so it is a part of a week, and no week after the warm-up
    reads as over its cap."""
    settings = config("sunday")
    runs = flat(ROUTINE, MONDAY, 5, settings)
    history = History(runs=runs)
    assert partial_week(runs, settings) == date(2026, 8, 30)
    after = runs[0].started_at + WARM_UP
    for at in evenings(runs, settings, 35):
        if at >= after:
            assert weekly(evaluate(history, settings, at)) == [], at


def test_a_history_that_begins_on_the_weeks_first_day_is_whole() -> None:
    settings = config()
    runs = flat(ROUTINE, MONDAY, 2, settings)
    assert partial_week(runs, settings) is None
    week = allowance(History(runs=runs), settings, local(date(2026, 9, 8), 20, settings))
    assert week.baseline_km == pytest.approx(39.0)
    assert not week.warm_up_cap


# -- properties ----------------------------------------------------------------------------

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
patterns = st.dictionaries(
    st.integers(0, 6), st.floats(min_value=1.0, max_value=30.0), min_size=1, max_size=7
)


@FAST
@given(patterns, st.integers(0, 6), st.sampled_from(["monday", "sunday"]))
def test_flat_training_never_reads_as_a_jump_after_the_warm_up(
    pattern: dict[int, float], offset: int, week_start: str
) -> None:
    """The same runs every week, the history starting on any weekday, weeks from Monday or
    Sunday: once the warm-up is over no weekly-progression alert goes over a cap (at most
    the caution about what is left of it), and the baseline is the routine's week."""
    settings = config(week_start)
    runs = flat(pattern, MONDAY + timedelta(days=offset), 6, settings)
    history = History(runs=runs)
    after = runs[0].started_at + WARM_UP
    total = sum(pattern.values())
    for at in evenings(runs, settings, 42):
        if at < after:
            continue
        found = weekly(evaluate(history, settings, at))
        assert [(a.severity, a.data["level"]) for a in found if a.data["level"] > 0] == [], at
        assert all(a.severity in ("info", "caution") for a in found), at
        week = allowance(history, settings, at)
        assert week.phase == "building"
        assert week.baseline_km == pytest.approx(total), at


@FAST
@given(st.integers(0, 6), st.sampled_from(["monday", "sunday"]))
def test_a_real_jump_still_warns(offset: int, week_start: str) -> None:
    """15 km weeks (5 km on Mon, Wed, Fri) from any weekday, then a 30 km week: past its
    cap, a danger (+100 % on a 15 km baseline week), whatever the start."""
    settings = config(week_start)
    first = MONDAY + timedelta(days=offset)
    jump_week = week_start_of(first, settings.first_weekday) + timedelta(weeks=4)
    steady = flat({0: 5.0, 2: 5.0, 4: 5.0}, first, 5, settings)
    steady = tuple(r for r in steady if r.started_at < local(jump_week, 0, settings))
    jump = flat({0: 10.0, 2: 10.0, 4: 10.0}, jump_week, 1, settings)
    runs = tuple(
        builders.run(r.started_at, r.distance_km, n + 1) for n, r in enumerate(steady + jump)
    )
    history = History(runs=runs)
    last = max(run.started_at for run in runs) + timedelta(hours=2)
    week = allowance(history, settings, last)
    assert (week.phase, week.distance_km) == ("building", pytest.approx(30.0))
    assert week.baseline_km == pytest.approx(15.0)
    over = [a for a in weekly(evaluate(history, settings, last)) if a.data["level"] > 0]
    assert [(a.severity, a.data["change_pct"]) for a in over] == [("danger", 100.0)]


# -- a jump on the warm-up's guess -----------------------------------------------------------


def test_doubling_after_a_partial_week_is_a_warning_not_information() -> None:
    """Weeks from Sunday; Mon/Wed/Fri 2-6 Nov at 5 km (the first week misses its Sunday),
    then six 5 km runs 9-14 Nov: 30 km against the 15 km guess and against 15 km on the
    same days: a warning (no danger: the guess is no measured baseline), said again once
    the week is over."""
    settings = config("sunday")
    first = flat({0: 5.0, 2: 5.0, 4: 5.0}, date(2026, 11, 2), 1, settings)
    more = flat(dict.fromkeys(range(6), 5.0), date(2026, 11, 9), 1, settings)
    runs = tuple(
        builders.run(r.started_at, r.distance_km, n + 1) for n, r in enumerate(first + more)
    )
    history = History(runs=runs)
    for day in (14, 16):
        [alert] = weekly(evaluate(history, settings, local(date(2026, 11, day), 20, settings)))
        assert (alert.severity, alert.data["level"]) == ("warning", 3)
        assert alert.key == "weekly-progression:2026-11-08"
        assert "first week was partial" in alert.message
        assert "guess by 100%" in alert.message
        assert "30.0 km on the days your first, partial week covered against 15.0 km" in (
            alert.message
        )


@pytest.mark.parametrize(
    ("week_start", "first"), [("sunday", MONDAY), ("monday", date(2026, 9, 1))]
)
def test_a_routine_whose_partial_week_misses_the_long_run_stays_information(
    week_start: str, first: date
) -> None:
    """The 39 km routine begun the day after the week's first day (its first week misses
    Sunday's 12 km, or Monday's 6 km): over the 36 km guess by 8 %, the same days flat:
    information only, in the warm-up and after."""
    settings = config(week_start)
    runs = flat(ROUTINE, first, 4, settings)
    history = History(runs=runs)
    for at in evenings(runs, settings, 28):
        found = [a for a in weekly(evaluate(history, settings, at)) if a.data["level"] > 0]
        assert {a.severity for a in found} <= {"info"}, at


@FAST
@given(patterns, st.integers(0, 6), st.sampled_from(["monday", "sunday"]))
def test_flat_training_in_the_warm_up_is_information_at_most(
    pattern: dict[int, float], offset: int, week_start: str
) -> None:
    """However many runs a week: flat training over the warm-up's guess only informs."""
    settings = config(week_start)
    runs = flat(pattern, MONDAY + timedelta(days=offset), 3, settings)
    history = History(runs=runs)
    for at in evenings(runs, settings, 21):
        found = [a for a in weekly(evaluate(history, settings, at)) if a.data["level"] > 0]
        assert {a.severity for a in found} <= {"info"}, at


@FAST
@given(
    st.lists(st.floats(min_value=2.0, max_value=20.0), min_size=2, max_size=6),
    st.integers(1, 6),
    st.sampled_from(["monday", "sunday"]),
)
def test_a_doubling_after_a_partial_week_is_at_least_a_warning(
    kms: list[float], offset: int, week_start: str
) -> None:
    """Runs on the days a partial first week covers, then the first complete week with
    every one of them run twice (the same days, twice the distance, no run longer): once
    that week is over the warm-up's guess by more than ``weekly_danger``, at least a warning
    by its end."""
    settings = config(week_start)
    days = list(range(offset, 7))[: len(kms)]
    hypothesis_assume(len(days) >= 2)
    kms = kms[: len(days)]
    runs_per_week = settings.plan.runs_per_week
    hypothesis_assume(
        2 * sum(kms) > runs_per_week * max(kms) * (1.01 + settings.progression.weekly_danger)
    )
    week0 = week_start_of(MONDAY, settings.first_weekday)
    stamps = []
    for n, day in enumerate(days):
        at = local(week0 + timedelta(days=day), 7, settings)
        stamps.append((at, kms[n]))
        for again in (at + timedelta(weeks=1), at + timedelta(weeks=1, hours=4)):
            stamps.append((again, kms[n]))
    runs = tuple(builders.run(at, km, n + 1) for n, (at, km) in enumerate(sorted(stamps)))
    history = History(runs=runs)
    assert partial_week(runs, settings) == week0
    end = local(week0 + timedelta(days=13), 23, settings)
    found = [a for a in weekly(evaluate(history, settings, end)) if a.data["level"] > 0]
    assert {a.severity for a in found} & {"warning", "danger"}, found
