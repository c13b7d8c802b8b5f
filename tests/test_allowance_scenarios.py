"""Scenarios from issue 11: one allowance ("how far may I run next") that every view agrees
on, that never goes silent after a break and never contradicts itself.

Every history is built through the real CLI (``log-run``, ``pain``, ``plan return``,
``baseline set``) and read back through ``check --json`` and ``what-if --json``. Where the
exact number depends on implementation details the assertions are relations (``<=``, sets
of severities); where the issue or the README gives the number, they are exact."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

MILE_KM = 1.609344
PHASES = {"no-history", "warm-up", "building", "return", "plan", "held"}
SEVERITIES = ("info", "caution", "warning", "danger")
WARN_UP = {"warning", "danger"}
CAUTION_UP = {"caution", "warning", "danger"}
EPS = 1e-6

# Mondays. All dates are in 2026 (UTC, the fixture's zone) and before the end of November.
JULY_WEEKS = tuple(date(2026, 7, 6) + timedelta(weeks=n) for n in range(9))
PLAN_START = date(2026, 8, 31)


# -- helpers --------------------------------------------------------------------------------


def log(sw: Any, when: str, distance: str | float, rpe: int | None = None) -> int:
    """Log a run at an easy pace (about 6:00/km) and return its id."""
    text = f"{distance}km" if isinstance(distance, float | int) else distance
    value = float(text.rstrip("kmi"))
    km = value * (MILE_KM if text.endswith("mi") else 1.0)
    minutes = max(1, round(km * 6))
    args = ["log-run", "--at", when, "--distance", text, "--duration", f"{minutes}m"]
    if rpe is not None:
        args += ["--rpe", str(rpe)]
    result = sw(*args)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def log_week(
    sw: Any, monday: date, distances: tuple[float, ...], days: tuple[int, ...] = (1, 3, 6)
) -> None:
    for day, km in zip(days, distances, strict=True):
        log(sw, f"{monday + timedelta(days=day)}T07:00", float(km))


def check(sw: Any, at: str) -> dict[str, Any]:
    result = sw("check", "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def check_human(sw: Any, at: str) -> str:
    result = sw("check", "--at", at)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def what_if(sw: Any, distance: str, at: str) -> dict[str, Any]:
    result = sw("what-if", distance, "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def what_if_human(sw: Any, distance: str, at: str) -> str:
    result = sw("what-if", distance, "--at", at)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def km_arg(km: float) -> str:
    return f"{km}km"


def severities(alerts: list[dict[str, Any]]) -> set[str]:
    return {alert["severity"] for alert in alerts}


def limit(state: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [item for item in state["limits"] if item["rule"] == rule]
    assert found, f"no {rule!r} limit in {state['limits']}"
    return found[0]


def texts(state: dict[str, Any]) -> str:
    """Everything a runner reads in a JSON answer: limit reasons and alert messages."""
    parts = [str(item.get("reason", "")) for item in state.get("limits") or []]
    for key in ("alerts", "active_alerts"):
        parts += [str(alert.get("message", "")) for alert in state.get(key) or []]
    return "\n".join(parts)


def assert_consistent(state: dict[str, Any]) -> None:
    """The JSON contract of issue 11, true of every answer."""
    assert state["phase"] in PHASES
    allowance = state["next_run_max_km"]
    assert allowance is not None
    assert allowance >= 0.0
    limits = state["limits"]
    assert limits, "an allowance always comes from at least one named limit"
    for item in limits:
        assert item["max_km"] is not None
        assert item["max_km"] >= 0.0
        assert item["reason"]
        assert "source" in item
    smallest = min(item["max_km"] for item in limits)
    assert allowance == pytest.approx(smallest, abs=EPS)
    binding = {item["rule"] for item in limits if abs(item["max_km"] - smallest) <= EPS}
    assert state["binding"] in binding
    week = state["week"]
    for name in ("baseline_km", "cap_km"):
        assert week[name] is None or week[name] > 0.0, f"{name} is 0.0: unknown must be null"
    if week["remaining_km"] is not None:
        assert week["remaining_km"] >= 0.0
        assert allowance <= week["remaining_km"] + EPS


def new_warnings_at_allowance(sw: Any, at: str) -> list[dict[str, Any]]:
    """``what-if`` of exactly the shown allowance at ``at``: the warnings or dangers it adds."""
    allowance = check(sw, at)["next_run_max_km"]
    if allowance < 0.1:
        return []
    data = what_if(sw, km_arg(allowance), at)
    return [alert for alert in data["alerts"] if alert["severity"] in WARN_UP]


# -- histories ------------------------------------------------------------------------------

# Case 1: seven weeks of one 8 km run a week (Tuesdays), then a break.
BREAK_LAST_RUN = datetime(2026, 8, 18, 7, 0)


def break_runner(sw: Any) -> None:
    for monday in JULY_WEEKS[:7]:
        log(sw, f"{monday + timedelta(days=1)}T07:00", 8.0)


def days_off(days: int) -> str:
    return (BREAK_LAST_RUN + timedelta(days=days, hours=2)).isoformat()


# Histories open with their longest run, so that no base run is itself a spike (a run over
# its limit is credited only up to it, issue 11 "Credited history").
LONG_FIRST = (0, 2, 4)  # Mon, Wed, Fri


# Case 3: weeks of 14 + 8 + 8 km (a 33 km cap), then 8, 5 and 8 km this week.
def week_cap_runner(sw: Any) -> str:
    for monday in JULY_WEEKS[:4]:
        log_week(sw, monday, (14.0, 8.0, 8.0), LONG_FIRST)
    log_week(sw, JULY_WEEKS[4], (8.0, 5.0, 8.0), days=(0, 2, 4))
    return f"{JULY_WEEKS[4] + timedelta(days=5)}T06:00"  # Saturday morning


# Case 4: longest run 10.5 km for weeks, then a 17 km run.
def spike_runner(sw: Any) -> None:
    for monday in JULY_WEEKS[:5]:
        log_week(sw, monday, (10.5, 6.0, 6.0), LONG_FIRST)
    log_week(sw, JULY_WEEKS[5], (6.0, 6.0, 17.0))


# Case 5: 5 weeks of 13 + 10 + 10 km, three weeks off injured, then a return plan.
def plan_runner(sw: Any) -> None:
    for monday in JULY_WEEKS[:5]:
        log_week(sw, monday, (13.0, 10.0, 10.0), LONG_FIRST)
    result = sw("plan", "return", "--usual", "6-8mi", "--at", f"{PLAN_START}T08:00", "--json")
    assert result.exit_code == 0, result.stderr


def plan_day(week: int, weekday: int) -> date:
    return PLAN_START + timedelta(weeks=week - 1, days=weekday)


# Case 6: weeks of 8 + 5 + 5 km, then pain 6/10 during a 5 km run.
PAIN_RUN_AT = "2026-08-04T07:00"


def pain_runner(sw: Any) -> None:
    for monday in JULY_WEEKS[:4]:
        log_week(sw, monday, (8.0, 5.0, 5.0), LONG_FIRST)
    run_id = log(sw, PAIN_RUN_AT, 5.0)
    result = sw("pain", "6", "--when", "during", "--at", "2026-08-04T07:20", "--run", str(run_id))
    assert result.exit_code == 0, result.stderr


# Case 7: weeks of 16 + 7 + 7 km (cap 33 km), then 15.94 km: 17.06 km left.
def rounding_runner(sw: Any) -> str:
    for monday in JULY_WEEKS[:4]:
        log_week(sw, monday, (16.0, 7.0, 7.0), LONG_FIRST)
    log_week(sw, JULY_WEEKS[4], (7.94, 8.0), days=(0, 1))
    return f"{JULY_WEEKS[4] + timedelta(days=2)}T08:00"  # Wednesday


# Case 8: the very first two runs, two days apart.
def cold_start_runner(sw: Any) -> str:
    log(sw, "2026-09-08T07:00", 5.0)
    log(sw, "2026-09-10T07:00", 8.0)
    return "2026-09-10T12:00"


def steady_runner(sw: Any) -> str:
    for monday in JULY_WEEKS[:5]:
        log_week(sw, monday, (10.0, 8.0, 8.0), LONG_FIRST)
    return f"{JULY_WEEKS[5]}T08:00"


# -- case 1: never silent after a break ----------------------------------------------------


@pytest.mark.parametrize("off", [14, 20, 29, 31, 42, 60])
def test_after_a_break_a_long_run_warns_and_the_allowance_comes_from_the_return(
    sw: Any, off: int
) -> None:
    break_runner(sw)
    at = days_off(off)
    state = check(sw, at)
    assert_consistent(state)
    assert state["phase"] == "return"
    returned = limit(state, "return")
    assert returned["max_km"] <= 8.0 + EPS
    allowance = state["next_run_max_km"]
    assert allowance is not None
    assert allowance <= 8.0 + EPS  # never more than the pre-break longest run
    assert allowance >= 3.2 - EPS  # never below a 2-mile restart run (README)
    # The weekly rule uses the return level until new weeks exist: never a 0.0 cap.
    assert state["week"]["cap_km"] is not None
    assert state["week"]["cap_km"] > 0.0
    data = what_if(sw, "20km", at)
    assert severities(data["alerts"]) & WARN_UP, data["alerts"]


def test_thirteen_days_without_a_run_is_not_yet_a_return(sw: Any) -> None:
    break_runner(sw)
    state = check(sw, days_off(13))
    assert_consistent(state)
    assert state["phase"] != "return"


def test_a_longer_break_never_allows_more(sw: Any) -> None:
    break_runner(sw)
    allowances = [
        check(sw, days_off(off))["next_run_max_km"] for off in (14, 20, 28, 29, 31, 42, 60)
    ]
    assert None not in allowances
    assert allowances == sorted(allowances, reverse=True), allowances
    assert allowances[0] <= 8.0 + EPS  # never above the pre-break longest run
    assert allowances[-1] < 8.0  # two months off: well below the pre-break level
    assert min(allowances) >= 3.2 - EPS  # never silent: at least a 2-mile restart run


def test_a_return_offers_the_graded_plan_with_numbers(sw: Any) -> None:
    break_runner(sw)
    at = days_off(42)
    state = check(sw, at)
    shown = texts(state) + "\n" + check_human(sw, at)
    assert re.search(r"stridewatch plan return --usual \S*\d", shown), shown


# -- cases 2 and 9: no history, and null for unknown ---------------------------------------


def test_an_empty_database_never_says_go_ahead(sw: Any) -> None:
    at = "2026-09-10T07:00"
    human = what_if_human(sw, "42km", at)
    assert "go ahead" not in human.lower()
    data = what_if(sw, "42km", at)
    assert data["next_run_max_km"] is not None
    assert "active_alerts" in data


def test_an_empty_database_has_a_start_allowance_and_null_unknowns(sw: Any) -> None:
    state = check(sw, "2026-09-10T07:00")
    assert_consistent(state)
    assert state["phase"] == "no-history"
    assert state["week"]["baseline_km"] is None
    assert state["week"]["cap_km"] is None
    assert state["week"]["remaining_km"] is None
    allowance = state["next_run_max_km"]
    assert allowance is not None
    assert 0.0 < allowance <= 3 * MILE_KM + 1e-3  # a 2-3 mile start (README, `start`)


def test_an_empty_database_points_to_import_and_baseline(sw: Any) -> None:
    at = "2026-09-10T07:00"
    shown = "\n".join((texts(check(sw, at)), check_human(sw, at), what_if_human(sw, "42km", at)))
    assert "stridewatch import" in shown
    assert "stridewatch baseline set" in shown


def test_a_declared_baseline_is_used_until_real_weeks_exist(sw: Any) -> None:
    result = sw("baseline", "set", "--week", "25km", "--long", "10km")
    assert result.exit_code == 0, result.stderr
    result = sw("check", "--json")
    assert result.exit_code == 0, result.stderr
    state = result.json()
    assert_consistent(state)
    assert state["phase"] != "no-history"
    assert state["next_run_max_km"] is not None
    assert 0.0 < state["next_run_max_km"] <= 11.0 + EPS  # 1.1 x the declared 10 km
    assert state["week"]["baseline_km"] == pytest.approx(25.0)
    assert state["week"]["cap_km"] <= 27.5 + EPS


# -- case 3: one number that agrees with everything else -----------------------------------


def test_the_next_run_is_the_smallest_limit_and_fits_in_the_week(sw: Any) -> None:
    at = week_cap_runner(sw)
    state = check(sw, at)
    assert_consistent(state)
    assert state["phase"] == "building"
    assert state["week"]["cap_km"] == pytest.approx(33.0)
    assert state["week"]["remaining_km"] == pytest.approx(12.0, abs=0.1)
    assert limit(state, "single-run")["max_km"] == pytest.approx(15.4, abs=0.1)
    assert state["next_run_max_km"] <= state["week"]["remaining_km"] + EPS
    assert state["next_run_max_km"] == pytest.approx(12.0, abs=0.1)
    assert state["binding"] == "week-cap"
    human = check_human(sw, at)
    assert "15.4 km at most" not in human
    assert f"{state['next_run_max_km']:.1f} km" in human


def test_summary_and_what_if_show_the_same_allowance_as_check(sw: Any) -> None:
    at = week_cap_runner(sw)
    state = check(sw, at)
    result = sw("summary", "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    shown = summary.get("next_run_max_km", (summary.get("load") or {}).get("next_run_max_km"))
    assert shown == pytest.approx(state["next_run_max_km"])
    assert summary["phase"] == state["phase"]
    # what-if shows the allowance after the planned runs: a 1 km run can only lower it.
    data = what_if(sw, "1km", at)
    assert data["phase"] in PHASES
    assert data["limits"]
    assert data["next_run_max_km"] <= state["next_run_max_km"] + EPS


def test_a_usual_long_run_from_the_first_week_is_not_a_spike(sw: Any) -> None:
    """Steady 8 + 8 + 14 km weeks from the first logged week (long run on Sunday): the
    warm-up only informs, so the first 14 km run is not credited down as a spike, and in
    week 5 the usual 14 km long run raises no warning (issue 11, case 3)."""
    for monday in JULY_WEEKS[:4]:
        log_week(sw, monday, (8.0, 8.0, 14.0))
    log_week(sw, JULY_WEEKS[4], (8.0, 8.0), days=(1, 3))
    sunday = f"{JULY_WEEKS[4] + timedelta(days=6)}T07:00"
    state = check(sw, sunday)
    assert_consistent(state)
    assert limit(state, "single-run")["max_km"] >= 14.0
    data = what_if(sw, "14km", sunday)
    assert not severities(data["alerts"]) & WARN_UP, data["alerts"]


# -- case 4: a spike does not ratchet the next limit up ------------------------------------


@pytest.mark.parametrize("at", ["2026-08-17T08:00", "2026-08-24T08:00"])
def test_a_spike_counts_only_up_to_the_limit_in_force(sw: Any, at: str) -> None:
    spike_runner(sw)
    if at >= "2026-08-24":
        log_week(sw, JULY_WEEKS[6], (6.0, 6.0, 10.0))
    state = check(sw, at)
    assert_consistent(state)
    credited = 1.1 * 1.1 * 10.5  # 12.705 km, not 1.1 x 17 = 18.7
    assert limit(state, "single-run")["max_km"] <= credited + EPS
    assert state["next_run_max_km"] <= credited + EPS


def test_after_a_spike_a_14_km_run_still_warns(sw: Any) -> None:
    spike_runner(sw)
    data = what_if(sw, "14km", "2026-08-17T08:00")
    spikes = [a for a in data["alerts"] if a["rule"] == "single-run-spike"]
    assert spikes
    assert severities(spikes) & WARN_UP


# -- case 5: an active return plan bounds the allowance ------------------------------------


def test_an_active_plan_bounds_the_next_run(sw: Any) -> None:
    plan_runner(sw)
    at = f"{plan_day(1, 1)}T06:00"
    state = check(sw, at)
    assert_consistent(state)
    assert state["phase"] == "plan"
    planned = limit(state, "plan")
    assert planned["max_km"] <= 3 * MILE_KM + 1e-3
    assert state["next_run_max_km"] <= 3 * MILE_KM + 1e-3
    # Today a 12 km what-if answers only the ACWR caution: the plan must speak too.
    data = what_if(sw, "12km", at)
    beyond_acwr = [a for a in data["alerts"] if a["rule"] != "acwr" and a["severity"] in CAUTION_UP]
    assert beyond_acwr, data["alerts"]


def test_runs_inside_the_plan_raise_nothing_and_the_plan_advances(sw: Any) -> None:
    plan_runner(sw)
    for weekday in (1, 3, 5):  # Tue, Thu, Sat: never on consecutive days
        day = plan_day(1, weekday)
        log(sw, f"{day}T07:00", 4.5, rpe=4)
        state = check(sw, f"{day}T12:00")
        assert_consistent(state)
        assert not severities(state["alerts"]) & WARN_UP, state["alerts"]
    monday = check(sw, f"{plan_day(2, 0)}T08:00")
    assert (monday["plan"]["week"], monday["plan"]["status"]) == (2, "on track")


@pytest.mark.parametrize(
    ("distance", "rpe"),
    [(10.0, 7), (4.5, 7), (6.0, 4)],
    ids=["10km-rpe7", "in-range-rpe7", "above-range-rpe4"],
)
def test_a_run_above_the_plan_is_a_caution_and_holds_the_plan(
    sw: Any, distance: float, rpe: int
) -> None:
    plan_runner(sw)
    log(sw, f"{plan_day(1, 1)}T07:00", 4.5, rpe=4)
    log(sw, f"{plan_day(1, 3)}T07:00", distance, rpe=rpe)
    state = check(sw, f"{plan_day(1, 3)}T12:00")
    assert_consistent(state)
    assert severities(state["alerts"]) & CAUTION_UP, state["alerts"]
    after = check(sw, f"{plan_day(2, 0)}T08:00")
    assert after["plan"]["status"] != "on track"
    assert after["plan"]["week"] == 1


def test_following_the_plan_allowance_never_warns(sw: Any) -> None:
    """The plan's own top of range, as shown, for six weeks: no warning (issue 11, case 7:
    ranges stored rounded up gave 11 warnings in 13 weeks)."""
    plan_runner(sw)
    for week in range(1, 7):
        for weekday in (1, 3, 5):
            day = plan_day(week, weekday)
            allowance = check(sw, f"{day}T06:00")["next_run_max_km"]
            assert allowance is not None
            if allowance < 2.0:
                continue
            log(sw, f"{day}T07:00", allowance, rpe=4)
            state = check(sw, f"{day}T12:00")
            assert not severities(state["alerts"]) & WARN_UP, (week, day, state["alerts"])
        monday = check(sw, f"{plan_day(week + 1, 0)}T08:00")
        assert monday["plan"]["status"] == "on track", (week, monday["plan"])
        assert monday["plan"]["week"] == week + 1


# -- case 6: what-if shows what is already active ------------------------------------------


def test_what_if_lists_an_active_pain_warning_and_never_says_go_ahead(sw: Any) -> None:
    pain_runner(sw)
    at = "2026-08-05T08:00"
    data = what_if(sw, "3km", at)
    active = [a for a in data["active_alerts"] if a["rule"] == "pain-during"]
    assert active
    assert severities(active) & WARN_UP
    assert "go ahead" not in what_if_human(sw, "3km", at).lower()


def test_an_active_pain_alert_holds_the_week_and_bounds_the_next_run(sw: Any) -> None:
    pain_runner(sw)
    state = check(sw, "2026-08-05T08:00")
    assert_consistent(state)
    assert state["phase"] == "held"
    assert state["week"]["held"] is True
    assert limit(state, "pain")["max_km"] <= 5.0 + EPS  # no longer than the run that hurt
    assert state["next_run_max_km"] <= 5.0 + EPS
    assert state["week"]["cap_km"] == pytest.approx(state["week"]["baseline_km"])


# -- case 7: budgets are rounded down -------------------------------------------------------


def test_budgets_are_rounded_down(sw: Any) -> None:
    at = rounding_runner(sw)
    state = check(sw, at)
    assert_consistent(state)
    assert state["week"]["cap_km"] == pytest.approx(33.0)
    assert 17.0 - EPS <= state["week"]["remaining_km"] <= 17.06 + EPS
    assert 17.0 - EPS <= state["next_run_max_km"] <= 17.06 + EPS
    human = check_human(sw, at)
    assert "17.0 km" in human
    assert "17.1 km" not in human
    for distance in ("17.0km", km_arg(state["next_run_max_km"])):
        data = what_if(sw, distance, at)
        assert not severities(data["alerts"]) & WARN_UP, (distance, data["alerts"])


# -- case 8: cold start and noise ------------------------------------------------------------


def test_two_first_runs_only_inform(sw: Any) -> None:
    at = cold_start_runner(sw)
    state = check(sw, at)
    assert_consistent(state)
    assert state["phase"] == "warm-up"
    assert not severities(state["alerts"]) & WARN_UP, state["alerts"]
    spikes = [a for a in state["alerts"] if a["rule"] == "single-run-spike"]
    assert all(a["severity"] == "info" for a in spikes), spikes


def test_a_mon_wed_sat_runner_is_never_told_to_run_a_few_hundred_metres(sw: Any) -> None:
    tiny = re.compile(r"(?<![\d.])[01]\.\d+ km")
    for monday in JULY_WEEKS:
        for day in (0, 2, 5):
            when = monday + timedelta(days=day)
            log(sw, f"{when}T07:00", 4.0)
            state = check(sw, f"{when}T20:00")
            cautions = [a for a in state["alerts"] if a["severity"] in CAUTION_UP]
            assert not any(tiny.search(a["message"]) for a in cautions), cautions
        sunday = f"{monday + timedelta(days=6)}T08:00"
        state = check(sw, sunday)
        assert_consistent(state)
        allowance = state["next_run_max_km"]
        assert allowance == 0.0 or allowance >= 2.0, allowance  # progression.min_run_km
        human = check_human(sw, sunday)
        assert not re.search(r"(?<![\d.])[01]\.\d+ km at most", human), human
        if allowance == 0.0:
            assert "rest" in human.lower()


def test_a_daily_runner_gets_no_monotony_alert_on_distance(sw: Any) -> None:
    daily = (5.0, 5.2, 4.8, 5.1, 4.9, 5.0, 5.3)  # steady, with a little spread (SD > 0)
    for monday in JULY_WEEKS[:5]:
        for day, km in enumerate(daily):
            log(sw, f"{monday + timedelta(days=day)}T07:00", km)
    for at in (f"{JULY_WEEKS[3]}T08:00", f"{JULY_WEEKS[4] + timedelta(days=6)}T20:00"):
        state = check(sw, at)
        assert not [a for a in state["alerts"] if "monotony" in a["rule"]], state["alerts"]


def test_steady_weeks_are_building(sw: Any) -> None:
    at = steady_runner(sw)
    state = check(sw, at)
    assert_consistent(state)
    assert state["phase"] == "building"
    assert state["week"]["baseline_km"] == pytest.approx(26.0)
    assert not severities(state["alerts"]) & WARN_UP, state["alerts"]


# -- property: a run of exactly the shown allowance never adds a warning -------------------


def _break_42(sw: Any) -> str:
    break_runner(sw)
    return days_off(42)


def _break_20(sw: Any) -> str:
    break_runner(sw)
    return days_off(20)


def _spike(sw: Any) -> str:
    spike_runner(sw)
    return "2026-08-17T08:00"


def _plan(sw: Any) -> str:
    plan_runner(sw)
    return f"{plan_day(1, 1)}T06:00"


def _pain(sw: Any) -> str:
    pain_runner(sw)
    return "2026-08-05T08:00"


def _empty(sw: Any) -> str:
    return "2026-09-10T07:00"


HISTORIES: dict[str, Callable[[Any], str]] = {
    "empty": _empty,
    "cold-start": cold_start_runner,
    "steady": steady_runner,
    "week-cap": week_cap_runner,
    "rounding": rounding_runner,
    "break-20d": _break_20,
    "break-42d": _break_42,
    "spike": _spike,
    "plan": _plan,
    "pain": _pain,
}


@pytest.mark.parametrize("history", list(HISTORIES))
def test_a_run_of_exactly_the_allowance_adds_no_warning(sw: Any, history: str) -> None:
    at = HISTORIES[history](sw)
    assert_consistent(check(sw, at))
    assert new_warnings_at_allowance(sw, at) == []


@pytest.mark.parametrize(
    "history", ["empty", "cold-start", "week-cap", "break-42d", "plan", "pain"]
)
def test_adding_a_run_never_lowers_the_weeks_distance(sw: Any, history: str) -> None:
    at = datetime.fromisoformat(HISTORIES[history](sw))
    before = check(sw, at.isoformat())["week"]["distance_km"]
    log(sw, (at + timedelta(minutes=1)).isoformat(), 3.0)
    after = check(sw, (at + timedelta(hours=2)).isoformat())
    assert_consistent(after)
    assert after["week"]["distance_km"] == pytest.approx(before + 3.0)


# -- found by trying it as a runner ----------------------------------------------------------

SUNDAYS_2026 = tuple(date(2026, 1, 4) + timedelta(weeks=n) for n in range(7))


def eight_km_sundays(sw: Any) -> None:
    for sunday in SUNDAYS_2026:
        log(sw, f"{sunday}T08:00", 8.0)


def test_a_break_longer_than_the_history_window_is_still_a_return(sw: Any) -> None:
    """190 days off is beyond the 180 days the rules read: the level before the break is
    still found, so the runner is in a return, never "no history" with a larger allowance."""
    eight_km_sundays(sw)
    at_120, at_190 = check(sw, "2026-06-15T08:00"), check(sw, "2026-08-24T08:00")
    assert at_120["phase"] == at_190["phase"] == "return"
    assert at_190["next_run_max_km"] <= at_120["next_run_max_km"] <= 8.0
    severities = {a["severity"] for a in what_if(sw, "20km", "2026-08-24T08:00")["alerts"]}
    assert severities & WARN_UP
    history = sw("history", "--at", "2026-08-24T08:00", "--weeks", "3").stdout
    assert "next run 3.2 km at most (return:" in " ".join(history.split())


def test_a_plan_never_starts_above_what_the_history_allows(sw: Any) -> None:
    eight_km_sundays(sw)
    at = "2026-03-30T08:00"  # 43 days after the last run: restart at a 2-mile run
    refused = sw("plan", "return", "--usual", "20-25km", "--start", "15-20km", "--at", at)
    assert refused.exit_code == 2
    assert "--start" in refused.stderr
    assert "3.2 km" in refused.stderr
    made = sw("plan", "return", "--usual", "8km", "--at", at, "--json")
    assert made.exit_code == 0, made.stderr
    first = made.json()["weeks"][0]
    assert first["high_km"] <= 3.218688 + EPS
    assert first["low_km"] < first["high_km"]
    assert check(sw, "2026-03-30T09:00")["next_run_max_km"] <= 3.218688
    too_long = sw("plan", "return", "--usual", "300-400km", "--at", at)
    assert too_long.exit_code == 2


def test_the_plan_table_never_shows_a_top_above_the_plan(sw: Any) -> None:
    """Week 5 of a 6-8 mi plan tops out at 7.0687 km: shown as 7.0 km (4.3 mi), never 7.1."""
    result = sw("plan", "return", "--usual", "6-8mi", "--at", "2026-03-30T08:00", "--json")
    high = result.json()["weeks"][4]["high_km"]
    table = sw("plan", "show", "--at", "2026-03-30T09:00").stdout
    shown = re.search(r"^ +5  [\d.]+ km-([\d.]+) km", table, re.M)
    assert shown is not None
    assert float(shown.group(1)) <= high
    miles = sw("plan", "show", "--at", "2026-03-30T09:00", env={"STRIDEWATCH_UNITS": "mi"})
    shown_mi = re.search(r"^ +5  [\d.]+ mi-([\d.]+) mi", miles.stdout, re.M)
    assert shown_mi is not None
    assert float(shown_mi.group(1)) * MILE_KM <= high


@pytest.mark.parametrize(
    "args",
    [
        ("--week", "500km", "--long", "200km"),
        ("--week", "0.001km", "--long", "0.001km"),
        ("--week", "25km", "--long", "30km"),
        ("--week", "-5km", "--long", "3km"),
    ],
)
def test_a_declared_level_outside_any_runner_is_refused(sw: Any, args: tuple[str, ...]) -> None:
    result = sw("baseline", "set", *args, "--at", "2026-03-01T08:00")
    assert result.exit_code == 2
    assert result.stderr.startswith("stridewatch: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert check(sw, "2026-03-02T08:00")["phase"] == "no-history"  # nothing stored


def test_a_runner_of_short_runs_is_not_told_to_rest_for_good(sw: Any) -> None:
    for day in (4, 11, 18, 25):
        log(sw, f"2026-01-{day:02d}T08:00", 1.5)
    for day in (1, 8, 15):
        log(sw, f"2026-02-{day:02d}T08:00", 1.5)
    state = check(sw, "2026-02-20T08:00")
    assert state["next_run_max_km"] >= 1.5
    assert state["week"]["remaining_km"] >= 1.5


def test_an_old_warning_does_not_make_every_run_not_advised(sw: Any) -> None:
    """A spike warning stays active for a week; a small run within the allowance is said to
    be within it (not "go ahead", not "not advised")."""
    for monday in JULY_WEEKS[:8]:
        log_week(sw, monday, (6.0, 6.0, 10.5))
    log(sw, "2026-09-06T07:00", 17.0)
    at = "2026-09-09T08:00"
    assert any(a["severity"] in WARN_UP for a in check(sw, at)["alerts"])
    text = " ".join(what_if_human(sw, "3km", at).split())
    assert "go ahead" not in text
    assert "Not advised" not in text
    assert "Within your allowance, but mind the alerts already active above." in text


def test_caps_are_shown_rounded_down_like_what_is_left(sw: Any) -> None:
    for monday in JULY_WEEKS[:8]:
        log_week(sw, monday, (6.0, 6.0, 10.5))
    log(sw, "2026-09-06T07:00", 17.0)
    state = check(sw, "2026-09-14T12:00")
    cap = state["week"]["cap_km"]
    shown = re.search(r"of its ([\d.]+) km cap", check_human(sw, "2026-09-14T12:00"))
    assert shown is not None
    assert float(shown.group(1)) <= cap


def test_the_level_before_a_break_is_read_whole_however_long_the_break(sw: Any) -> None:
    """24 km weeks with a 16 km long run, then two 6 km runs and a break: at 120, 178, 180
    and 220 days off the return comes from the same pre-break level (0.33 x 16 km)."""
    for week in range(6):
        monday = date(2026, 8, 3) + timedelta(weeks=week)
        log_week(sw, monday, (6.0, 6.0, 16.0))
    for when in ("2026-09-15T07:00", "2026-09-17T07:00"):
        log(sw, when, 6.0)
    found = {
        at: (state["next_run_max_km"], state["week"]["cap_km"])
        for at in ("2027-01-14", "2027-03-14", "2027-03-16", "2027-04-25")
        for state in [check(sw, f"{at}T08:00")]
    }
    for value in found.values():
        assert value == (pytest.approx(5.28), pytest.approx(7.92))


def test_a_plan_week_run_at_its_shown_top_reads_equal_to_its_cap(sw: Any) -> None:
    """Three runs of 3.0 mi (the shown top) in week 1 of a 6-8 mi plan: the week is at its
    cap, shown equal to it, and the plan says it holds only if a run went over."""
    made = sw("plan", "return", "--usual", "6-8mi", "--at", "2026-11-02T06:00")
    assert made.exit_code == 0, made.stderr
    for day in ("2026-11-02", "2026-11-04", "2026-11-07"):
        log(sw, f"{day}T07:00", "3mi")
    text = " ".join(check_human(sw, "2026-11-08T07:00").split())
    shown = re.search(r"this week ([\d.]+) km .* of its ([\d.]+) km cap", text)
    assert shown is not None
    assert shown.group(1) == shown.group(2)
    assert check(sw, "2026-11-08T07:00")["plan"]["status"] == "on track"


def test_a_run_off_the_plan_holds_the_plan_in_the_same_week(sw: Any) -> None:
    sw("plan", "return", "--usual", "6-8mi", "--at", "2026-11-02T06:00")
    log(sw, "2026-11-02T07:00", 4.8)
    log(sw, "2026-11-04T07:00", 4.5, rpe=7)
    state = check(sw, "2026-11-04T09:00")
    assert state["plan"]["status"] == "holding"
    assert "RPE 7" in state["plan"]["reason"]
    assert any(a["rule"] == "return-plan" for a in state["alerts"])


def test_following_the_allowance_daily_from_no_history_stays_within_a_week(sw: Any) -> None:
    """A new runner who runs exactly the shown allowance every day: the first week is bounded
    (3 runs of the longest so far), so the start cannot compound into a 45 km week."""
    total = 0.0
    for n in range(7):
        day = date(2026, 10, 19) + timedelta(days=n)
        allowance = check(sw, f"{day}T06:00")["next_run_max_km"]
        if allowance >= 0.5:
            log(sw, f"{day}T07:00", round(allowance, 3))
            total += round(allowance, 3)
    state = check(sw, "2026-10-25T20:00")
    assert total <= state["week"]["cap_km"] + EPS
    assert state["week"]["cap_km"] <= 3 * 7.1


def test_running_further_through_pain_felt_before_does_not_raise_the_pain_limit(
    sw: Any,
) -> None:
    for monday in JULY_WEEKS[:6]:
        log_week(sw, monday, (6.0, 6.0, 10.0))
    assert sw("pain", "6", "--when", "before", "--at", "2026-08-18T07:00").exit_code == 0
    log(sw, "2026-08-18T07:30", 16.0)
    state = check(sw, "2026-08-20T08:00")
    assert state["phase"] == "held"
    [limit] = [limit for limit in state["limits"] if limit["rule"] == "pain"]
    assert limit["max_km"] <= 6.0 + EPS
    assert state["next_run_max_km"] <= 6.0 + EPS


def test_the_week_after_a_return_builds_from_the_return_not_from_before_the_break(
    sw: Any,
) -> None:
    for monday in JULY_WEEKS[:6]:
        log_week(sw, monday, (6.0, 6.0, 10.0))
    log(sw, "2026-08-30T08:00", 5.0)  # after 14 days off; the return week's cap was 11 km
    state = check(sw, "2026-08-31T08:00")
    assert state["week"]["cap_km"] <= 11.0 * 1.1 + EPS


def test_the_weeks_numbers_do_not_shift_mid_week_as_the_history_window_slides(
    sw: Any,
) -> None:
    """Half a year and more of runs with a break: with no run between Monday and Friday,
    the week's baseline, cap and allowance are the same all week."""
    start = date(2026, 3, 2)
    for week in range(30):
        if week in (12, 13, 14):
            continue  # a three-week break
        monday = start + timedelta(weeks=week)
        log_week(sw, monday, (5.0 + week % 3, 6.0, 9.0 + (week % 4) * 1.5))
    monday = start + timedelta(weeks=31)
    seen = {
        (s["week"]["baseline_km"], s["week"]["cap_km"], s["next_run_max_km"])
        for s in (check(sw, f"{monday + timedelta(days=n)}T06:00") for n in range(5))
    }
    assert len(seen) == 1
