"""The graded return-to-run plan: how it is built, and how it advances, holds or steps back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from agent.errors import InputError
from agent.rules.plan import MAX_INCREASE, Plan, build_plan

MILE_KM = 1.609344
USUAL = (6 * MILE_KM, 8 * MILE_KM)
CREATED = datetime(2026, 11, 2, 8, tzinfo=UTC)


def build(**options: Any) -> Plan:
    return build_plan(USUAL, start_week=date(2026, 11, 2), created_at=CREATED, **options)


def test_default_plan_starts_at_2_to_3_miles_and_grows_10_percent_a_week() -> None:
    plan = build()
    first, last = plan.weeks[0], plan.weeks[-1]
    assert (first.low_km, first.high_km) == pytest.approx((2 * MILE_KM, 3 * MILE_KM), abs=1e-3)
    assert (last.low_km, last.high_km) == pytest.approx(USUAL, abs=1e-3)
    assert all(week.rpe == "3-4" for week in plan.weeks)
    for before, after in zip(plan.weeks, plan.weeks[1:], strict=False):
        assert after.low_km <= before.low_km * 1.10 + 1e-3
        assert after.high_km <= before.high_km * 1.10 + 1e-3
        assert after.low_km >= before.low_km
    assert len(plan.weeks) == 13  # 2 -> 6 miles at +10 %: 1.1^12 >= 3


def test_a_shorter_plan_may_grow_up_to_15_percent() -> None:
    plan = build(weeks=9)
    growth = [b.low_km / a.low_km - 1 for a, b in zip(plan.weeks, plan.weeks[1:], strict=False)]
    assert max(growth) <= MAX_INCREASE + 1e-3
    assert len(plan.weeks) == 9


def test_too_few_weeks_is_refused_with_the_minimum() -> None:
    with pytest.raises(InputError, match="use --weeks 9 or more"):
        build(weeks=4)


def test_start_above_usual_is_refused() -> None:
    with pytest.raises(InputError, match="--start"):
        build(start_km=(10.0, 14.0))


def test_plan_json_round_trips() -> None:
    plan = build(start_km=(3.0, 4.0), weeks=10)
    assert Plan.from_json(plan.as_json()) == plan


# -- through the CLI ----------------------------------------------------------------------


def log(sw: Any, when: str, distance: str = "3mi") -> int:
    result = sw("log-run", "--at", when, "--distance", distance, "--duration", "30:00")
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def plan_at(sw: Any, at: str) -> dict[str, Any]:
    state = sw("check", "--at", at, "--json").json()
    assert state["plan"] is not None
    plan: dict[str, Any] = state["plan"]
    return plan


def make_plan(sw: Any) -> dict[str, Any]:
    result = sw("plan", "return", "--usual", "6-8mi", "--at", "2026-11-02T08:00", "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def test_no_plan_is_null(sw: Any) -> None:
    assert sw("check", "--at", "2026-11-02T08:00", "--json").json()["plan"] is None
    assert sw("plan", "show", "--json").json() is None
    assert "No return-to-run plan" in sw("plan", "show").stdout


def test_plan_return_stores_and_shows_the_plan(sw: Any) -> None:
    made = make_plan(sw)
    assert made["weeks"][0]["low_km"] == pytest.approx(2 * MILE_KM, abs=1e-3)
    assert made["status"]["week"] == 1
    shown = sw("plan", "show", "--at", "2026-11-03T08:00", "--json").json()
    assert shown["id"] == made["id"]
    assert shown["start_week"] == "2026-11-02"
    human = sw("plan", "show", "--at", "2026-11-03T08:00", env={"STRIDEWATCH_UNITS": "mi"})
    assert "2.0 mi-3.0 mi" in human.stdout
    assert "RPE 3-4" in human.stdout


def test_a_new_plan_replaces_the_old_one(sw: Any) -> None:
    make_plan(sw)
    result = sw("plan", "return", "--usual", "10-13km", "--start", "4-5km", "--weeks", "8")
    assert result.exit_code == 0, result.stderr
    shown = sw("plan", "show", "--json").json()
    assert shown["usual_km"] == [10.0, 13.0]
    assert len(shown["weeks"]) == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--usual", "6-8mi", "--weeks", "3"), "use --weeks"),
        (("--usual", "8-6mi"), "low to high"),
        (("--usual", "lots"), "expected a range"),
        (("--usual", "3-4km", "--start", "5-6km"), "--start"),
        (("--usual", "6-8mi", "--weeks", "x"), "--weeks"),
    ],
)
def test_plan_return_rejects_bad_input(sw: Any, args: tuple[str, ...], message: str) -> None:
    result = sw("plan", "return", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_quiet_weeks_advance_the_plan(sw: Any) -> None:
    make_plan(sw)
    assert plan_at(sw, "2026-11-03T08:00")["week"] == 1
    log(sw, "2026-11-03T07:00")
    log(sw, "2026-11-05T07:00")
    week2 = plan_at(sw, "2026-11-10T08:00")
    assert (week2["week"], week2["status"]) == (2, "on track")
    assert week2["target_low_km"] > 2 * MILE_KM


def test_a_week_without_runs_holds(sw: Any) -> None:
    make_plan(sw)
    held = plan_at(sw, "2026-11-10T08:00")
    assert (held["week"], held["status"]) == (1, "holding")


def test_a_pain_caution_holds_and_a_pain_warning_steps_back(sw: Any) -> None:
    make_plan(sw)
    log(sw, "2026-11-03T07:00")  # week 1: quiet
    run_id = log(sw, "2026-11-10T07:00")  # week 2: pain 5/10 during
    sw("pain", "5", "--when", "during", "--at", "2026-11-10T07:20", "--run", str(run_id))
    during = plan_at(sw, "2026-11-11T08:00")
    assert (during["week"], during["status"]) == (2, "holding")
    back = plan_at(sw, "2026-11-18T08:00")
    assert (back["week"], back["status"]) == (1, "stepped back")
    log(sw, "2026-11-17T07:00")  # week 3: pain 4/10 during, a caution
    sw("pain", "4", "--when", "during", "--at", "2026-11-19T07:20")
    log(sw, "2026-11-19T07:00")
    held = plan_at(sw, "2026-11-27T08:00")
    assert (held["week"], held["status"]) == (1, "holding")
