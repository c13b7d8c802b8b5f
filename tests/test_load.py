"""The load model on literal histories: weeks, baseline, longest run, EWMA, monotony."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.config import Settings
from agent.models import Run
from agent.rules import load
from agent.rules.load import History

UTC_SETTINGS = Settings(timezone="UTC")
BERLIN = Settings(timezone="Europe/Berlin")


def run(at: datetime, km: float, run_id: int = 1, **extra: object) -> Run:
    return Run(
        id=run_id,
        started_at=at,
        distance_m=km * 1000,
        moving_s=km * 360,
        elapsed_s=km * 360,
        source="manual",
        **extra,  # type: ignore[arg-type]
    )


def history(*runs: tuple[str, float]) -> History:
    return History(
        runs=tuple(
            run(datetime.fromisoformat(at).replace(tzinfo=UTC), km, n)
            for n, (at, km) in enumerate(runs, 1)
        )
    )


def daily(start: date, kms: list[float]) -> History:
    """One run a day at 07:00 UTC from ``start`` (0 km days are rest days)."""
    return History(
        runs=tuple(
            run(datetime.combine(start + timedelta(days=n), datetime.min.time(), UTC), km, n + 1)
            for n, km in enumerate(kms)
            if km > 0
        )
    )


def test_week_of_uses_local_dates_across_the_dst_change() -> None:
    # 25 Oct 2026, 22:30 UTC is Sunday 23:30 CET: the week of Monday 19 Oct.
    assert load.week_of(datetime(2026, 10, 25, 22, 30, tzinfo=UTC), BERLIN) == date(2026, 10, 19)
    # 25 Oct 2026, 23:30 UTC is Monday 00:30 CET.
    assert load.week_of(datetime(2026, 10, 25, 23, 30, tzinfo=UTC), BERLIN) == date(2026, 10, 26)
    sunday_weeks = Settings(timezone="Europe/Berlin", week_start="sunday")
    assert load.week_of(datetime(2026, 10, 25, 22, 30, tzinfo=UTC), sunday_weeks) == date(
        2026, 10, 25
    )


def test_day_start_is_local_midnight_on_both_sides_of_dst() -> None:
    zone = ZoneInfo("Europe/Berlin")
    assert load.day_start(date(2026, 10, 19), zone).astimezone(UTC).hour == 22  # CEST
    assert load.day_start(date(2026, 10, 26), zone).astimezone(UTC).hour == 23  # CET


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        ({}, None),
        ({date(2026, 11, 9): 10.0}, None),  # only the current week: nothing to compare
        ({date(2026, 11, 2): 10.0}, 10.0),
        # the last week is larger than the mean
        ({date(2026, 10, 12): 10.0, date(2026, 10, 19): 10.0, date(2026, 11, 2): 14.0}, 14.0),
        # one recovery week (14 after 20s) keeps the baseline the week before had (20)
        (
            {
                date(2026, 10, 12): 20.0,
                date(2026, 10, 19): 20.0,
                date(2026, 10, 26): 20.0,
                date(2026, 11, 2): 14.0,
            },
            20.0,
        ),
        # two low weeks in a row do lower it: the mean of the last four (16) wins over 12
        (
            {
                date(2026, 10, 12): 20.0,
                date(2026, 10, 19): 20.0,
                date(2026, 10, 26): 12.0,
                date(2026, 11, 2): 12.0,
            },
            16.0,
        ),
        # a week down by half or more is a layoff, not a recovery week: no carry-forward
        (
            {
                date(2026, 10, 12): 20.0,
                date(2026, 10, 19): 20.0,
                date(2026, 10, 26): 20.0,
                date(2026, 11, 2): 8.0,
            },
            17.0,
        ),
        # weeks before the first run do not dilute the mean
        ({date(2026, 10, 26): 20.0, date(2026, 11, 2): 20.0}, 20.0),
        ({date(2026, 10, 19): 10.0, date(2026, 10, 26): 20.0, date(2026, 11, 2): 24.0}, 24.0),
        # a rest week inside the history counts as 0
        ({date(2026, 10, 19): 20.0, date(2026, 11, 2): 4.0}, 8.0),
        # five or more weeks ago only: no recent baseline
        ({date(2026, 10, 5): 20.0}, None),
    ],
)
def test_baseline_is_max_of_last_week_and_four_week_mean(
    weeks: dict[date, float], expected: float | None
) -> None:
    assert load.baseline_km(weeks, date(2026, 11, 9)) == expected


def test_week_load_counts_only_runs_up_to_the_instant() -> None:
    past = history(("2026-11-02T07:00", 10), ("2026-11-10T07:00", 5), ("2026-11-12T07:00", 7))
    week = load.week_load(past, UTC_SETTINGS, datetime(2026, 11, 11, tzinfo=UTC))
    assert (week.start, week.distance_km, week.last_week_km, week.baseline_km) == (
        date(2026, 11, 9),
        5.0,
        10.0,
        10.0,
    )


def test_longest_run_of_the_past_30_days() -> None:
    past = history(("2026-10-01T07:00", 30), ("2026-10-20T07:00", 12), ("2026-11-01T07:00", 8))
    at = datetime(2026, 11, 1, 7, tzinfo=UTC)
    assert load.longest_run_km(past.runs, at) == 12.0
    assert load.longest_run_km(past.runs, datetime(2026, 11, 25, tzinfo=UTC)) == 8.0
    assert load.longest_run_km(past.runs, datetime(2026, 9, 1, tzinfo=UTC)) is None
    only = history(("2026-11-01T07:00", 8))
    assert load.longest_run_km(only.runs, at, include_at=False) is None


def test_usual_run_is_the_four_week_median() -> None:
    past = history(("2026-10-01T07:00", 30), ("2026-11-01T07:00", 6), ("2026-11-03T07:00", 3))
    at = datetime(2026, 11, 5, tzinfo=UTC)
    assert load.usual_run_km(past.runs, at) == 4.5


def test_ewma_uses_decay_two_over_n_plus_one() -> None:
    assert load.ewma([8.0], 7) == pytest.approx(2.0)  # 2/8 of the first day's load
    assert load.ewma([8.0, 0.0], 7) == pytest.approx(1.5)
    assert load.ewma([10.0] * 400, 28) == pytest.approx(10.0)


def test_acwr_only_after_28_days_of_history() -> None:
    steady = daily(date(2026, 9, 1), [5.0] * 27)
    assert load.acwr(steady, UTC_SETTINGS, datetime(2026, 9, 27, 12, tzinfo=UTC)) is None
    steady = daily(date(2026, 9, 1), [5.0] * 120)
    ratio = load.acwr(steady, UTC_SETTINGS, datetime(2026, 12, 29, 12, tzinfo=UTC))
    assert ratio == pytest.approx(1.0, abs=0.01)
    spike = daily(date(2026, 9, 1), [5.0] * 60 + [15.0] * 7)
    ratio = load.acwr(spike, UTC_SETTINGS, datetime(2026, 11, 6, 12, tzinfo=UTC))
    assert ratio is not None
    assert ratio > 1.5


def test_monotony_and_strain_follow_foster() -> None:
    """On TRIMP load (the configured load; monotony never uses distance)."""
    week = [6.0, 6.0, 0.0, 6.0, 6.0, 6.0, 6.0]
    by_distance = daily(date(2026, 11, 2), week)
    past = replace(
        by_distance, runs=tuple(replace(r, trimp=r.distance_km) for r in by_distance.runs)
    )
    trimp = replace(UTC_SETTINGS, progression=replace(UTC_SETTINGS.progression, load="trimp"))
    value, strain = load.monotony_strain(past, trimp, datetime(2026, 11, 8, 20, tzinfo=UTC))
    mean, sd = 36 / 7, (sum((x - 36 / 7) ** 2 for x in week) / 7) ** 0.5
    assert value == pytest.approx(mean / sd)
    assert strain == pytest.approx(36 * mean / sd)


def test_monotony_is_undefined_without_a_week_or_without_spread() -> None:
    at = datetime(2026, 11, 8, 20, tzinfo=UTC)
    assert load.monotony_strain(daily(date(2026, 11, 4), [5.0] * 5), UTC_SETTINGS, at) == (
        None,
        None,
    )
    assert load.monotony_strain(daily(date(2026, 11, 2), [5.0] * 7), UTC_SETTINGS, at) == (
        None,
        None,
    )


def test_the_load_setting_switches_to_trimp_or_session_rpe() -> None:
    at = datetime(2026, 11, 2, 7, tzinfo=UTC)
    one = run(at, 10.0, trimp=80.0, rpe=5)
    assert load.run_load(one, "distance") == 10.0
    assert load.run_load(one, "trimp") == 80.0
    assert load.run_load(one, "srpe") == 5 * 60.0  # RPE 5 x 60 moving minutes
    assert load.run_load(run(at, 10.0), "trimp") == 0.0


def test_history_plus_and_upto() -> None:
    past = history(("2026-11-02T07:00", 10), ("2026-11-04T07:00", 5))
    extra = run(datetime(2026, 11, 3, 7, tzinfo=UTC), 3.0, run_id=0)
    merged = past.plus([extra])
    assert [r.distance_km for r in merged.runs] == [10.0, 3.0, 5.0]
    assert [r.distance_km for r in merged.upto(datetime(2026, 11, 3, 7, tzinfo=UTC)).runs] == [
        10.0,
        3.0,
    ]
    assert past.upto(datetime(2027, 1, 1, tzinfo=UTC)) is past


def test_acwr_on_session_rpe_sees_a_harder_week_that_distance_does_not() -> None:
    start = datetime(2026, 9, 1, 7, tzinfo=UTC)
    runs = tuple(
        run(start + timedelta(days=n), 5.0, n + 1, rpe=9 if n >= 53 else 3) for n in range(60)
    )
    past, at = History(runs=runs), start + timedelta(days=59, hours=2)
    by_distance = load.acwr(past, UTC_SETTINGS, at)
    by_srpe = load.acwr(
        past, replace(UTC_SETTINGS, progression=replace(UTC_SETTINGS.progression, load="srpe")), at
    )
    assert by_distance == pytest.approx(1.0, abs=0.02)  # chronic EWMA still warming up
    assert by_srpe is not None
    assert by_srpe > 1.5
