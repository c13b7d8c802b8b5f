"""Scenarios from issue 5, built with the real ``log-run`` and ``pain`` commands and checked
through ``check --json`` (and ``alerts``, ``summary``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

MILE_KM = 1.609344
# Four base weeks, Mondays (2026: no DST change between them in UTC, the fixture's zone).
BASE_WEEKS = (date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26))
WEEK5 = date(2026, 11, 2)


def log(sw: Any, when: str, distance: str, env: dict[str, str] | None = None) -> int:
    """Log a run at an easy pace (about 6:00/km) and return its id."""
    value = float(distance.rstrip("kmi"))
    km = value * (MILE_KM if distance.endswith("mi") else 1.0)
    minutes = max(1, round(km * 6))
    result = sw(
        "log-run", "--at", when, "--distance", distance, "--duration", f"{minutes}m", env=env
    )
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def log_week(sw: Any, monday: date, distances: tuple[str, ...], days=(1, 3, 6)) -> None:
    for day, distance in zip(days, distances, strict=True):
        log(sw, f"{monday + timedelta(days=day)}T07:00", distance)


def base(sw: Any, distances: tuple[str, ...], days=(1, 3, 6)) -> None:
    for monday in BASE_WEEKS:
        log_week(sw, monday, distances, days)


def check(sw: Any, at: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = sw("check", "--at", at, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def rules(state: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [alert for alert in state["alerts"] if alert["rule"] == rule]


def test_json_shape_without_history(sw: Any) -> None:
    """Unknown is null, never 0; the allowance is the graded start, never "no limit"."""
    state = check(sw, "2026-11-20T07:00")
    [start] = state.pop("limits")
    assert start["rule"] == "start"
    assert start["max_km"] == 4.828
    assert "stridewatch import" in start["reason"]
    assert "stridewatch baseline set" in start["reason"]
    assert state == {
        "at": "2026-11-20T07:00:00+00:00",
        "phase": "no-history",
        "week": {
            "start": "2026-11-16",
            "end": "2026-11-22",
            "distance_km": 0.0,
            "baseline_km": None,
            "cap_km": None,
            "remaining_km": None,
            "change_pct": None,
            "held": False,
            "last_week_km": None,  # before the history began: unknown, not 0
        },
        "longest_run_30d_km": None,
        "next_run_max_km": 4.828,
        "binding": "start",
        "load_kind": "distance",
        "acwr": None,
        "monotony": None,
        "strain": None,
        "plan": None,
        "alerts": [],
    }


def test_first_run_ever_raises_nothing(sw: Any) -> None:
    log(sw, "2026-11-17T07:00", "42km")
    state = check(sw, "2026-11-17T12:00")
    assert state["alerts"] == []
    assert state["week"]["distance_km"] == 42.0
    assert state["phase"] == "warm-up"
    assert state["next_run_max_km"] == pytest.approx(46.2)


def test_doubling_the_weekly_distance_is_danger(sw: Any) -> None:
    """4 weeks at 15 mi, then a 30 mi week: weekly-progression at danger (Nielsen 2014)."""
    base(sw, ("5mi", "5mi", "5mi"))
    log_week(sw, WEEK5, ("10mi", "10mi", "10mi"))
    state = check(sw, "2026-11-08T20:00", env={"STRIDEWATCH_UNITS": "mi"})
    [alert] = rules(state, "weekly-progression")
    assert alert["severity"] == "danger"
    assert alert["key"] == "weekly-progression:2026-11-02"
    assert alert["data"]["baseline_km"] == pytest.approx(15 * MILE_KM, abs=0.01)
    assert alert["data"]["change_pct"] == pytest.approx(100.0)
    assert "30.0 mi" in alert["message"]
    assert "15.0 mi" in alert["message"]
    assert "Nielsen et al. 2014" in alert["message"]
    assert state["week"]["distance_km"] == pytest.approx(30 * MILE_KM, abs=0.01)
    assert state["week"]["remaining_km"] == 0.0


def test_a_jump_week_does_not_raise_the_next_weeks_cap(sw: Any) -> None:
    """After 4 x 15 mi and a 30 mi jump, the jump counts only up to its cap (16.5 mi) in the
    next week's baseline: the cap does not ratchet up to 33 mi."""
    base(sw, ("5mi", "5mi", "5mi"))
    log_week(sw, WEEK5, ("10mi", "10mi", "10mi"))
    week = check(sw, "2026-11-09T08:00")["week"]
    assert week["baseline_km"] == pytest.approx(16.5 * MILE_KM, abs=0.01)
    assert week["cap_km"] == pytest.approx(16.5 * 1.1 * MILE_KM, abs=0.01)


def test_an_8_percent_week_raises_no_progression_alert(sw: Any) -> None:
    base(sw, ("5mi", "5mi", "5mi"))
    log_week(sw, WEEK5, ("5.4mi", "5.4mi", "5.4mi"))
    sunday = check(sw, "2026-11-08T20:00")
    assert all(a["severity"] == "caution" for a in rules(sunday, "weekly-progression"))
    assert rules(sunday, "single-run-spike") == []
    assert sunday["week"]["cap_km"] == pytest.approx(16.5 * MILE_KM, abs=0.01)
    next_monday = check(sw, "2026-11-09T08:00")
    assert rules(next_monday, "weekly-progression") == []


def test_a_12_percent_week_is_a_warning_seen_also_from_the_next_week(sw: Any) -> None:
    base(sw, ("5mi", "5mi", "5mi"))
    log_week(sw, WEEK5, ("5.6mi", "5.6mi", "5.6mi"))
    [alert] = rules(check(sw, "2026-11-09T08:00"), "weekly-progression")
    assert (alert["severity"], alert["key"]) == ("warning", "weekly-progression:2026-11-02")
    assert alert["data"]["change_pct"] == pytest.approx(12.0)


def test_caution_before_the_jump_names_the_largest_run(sw: Any) -> None:
    """15 km weeks of 6+6+3 km; this week 14.1 km leaves 2.4 km of the 16.5 km cap."""
    base(sw, ("6km", "6km", "3km"))
    log_week(sw, WEEK5, ("6km", "6km", "2.1km"), days=(0, 2, 4))
    state = check(sw, "2026-11-06T20:00")
    assert state["week"]["cap_km"] == pytest.approx(16.5)
    assert state["week"]["remaining_km"] == pytest.approx(2.4)
    assert (state["next_run_max_km"], state["binding"]) == (pytest.approx(2.4), "week-cap")
    [alert] = rules(state, "weekly-progression")
    assert alert["severity"] == "caution"
    assert alert["data"]["usual_run_km"] == 6.0
    assert alert["data"]["largest_run_km"] == pytest.approx(2.4)
    assert "2.4 km" in alert["message"]
    assert "usual 6.0 km run" in alert["message"]


def test_less_than_a_sensible_run_left_is_rest_not_a_caution(sw: Any) -> None:
    """0.4 km left of the cap is no run (below progression.min_run_km): the allowance says
    rest, and no caution advises a 0.4 km run."""
    base(sw, ("6km", "6km", "3km"))
    log_week(sw, WEEK5, ("6km", "6km", "4.1km"), days=(0, 2, 4))
    state = check(sw, "2026-11-06T20:00")
    assert state["week"]["remaining_km"] == pytest.approx(0.4)
    assert rules(state, "weekly-progression") == []
    assert (state["next_run_max_km"], state["binding"]) == (0.0, "week-cap")
    [cap] = [limit for limit in state["limits"] if limit["rule"] == "week-cap"]
    assert cap["reason"].startswith("rest: the week's cap is reached")
    human = sw("check", "--at", "2026-11-06T20:00").stdout
    assert "next run rest: the week's cap is reached" in " ".join(human.split())


def test_no_caution_after_the_last_run_of_the_week(sw: Any) -> None:
    """On Sunday morning the caution still helps (the long run is ahead); once Sunday's run
    is done there is nothing left for it to prevent."""
    base(sw, ("6km", "6km", "3km"))
    log_week(sw, WEEK5, ("6km", "6km"), days=(0, 2))
    sunday = WEEK5 + timedelta(days=6)
    assert [a["severity"] for a in rules(check(sw, f"{sunday}T06:00"), "weekly-progression")] == [
        "caution"
    ]
    log(sw, f"{sunday}T07:00", "3km")
    assert rules(check(sw, f"{sunday}T20:00"), "weekly-progression") == []


@pytest.mark.parametrize(("distance", "fires"), [("11.7km", True), ("10.8km", False)])
def test_single_run_spike_against_the_30_day_longest(sw: Any, distance: str, fires: bool) -> None:
    base(sw, ("10km", "5km", "5km"))
    run_id = log(sw, "2026-11-03T07:00", distance)
    spikes = rules(check(sw, "2026-11-03T12:00"), "single-run-spike")
    if not fires:
        assert spikes == []
        return
    [alert] = spikes
    assert alert["severity"] == "warning"
    assert alert["key"] == f"single-run-spike:run:{run_id}"
    assert alert["data"]["ratio"] == pytest.approx(1.17)
    assert "17% longer" in alert["message"]
    assert "Frandsen et al. 2025" in alert["message"]


def test_pain_during_is_a_warning_and_holds_the_cap_for_7_days(sw: Any) -> None:
    base(sw, ("5km", "5km", "5km"))
    run_id = log(sw, "2026-11-03T07:00", "5km")
    result = sw("pain", "5", "--when", "during", "--at", "2026-11-03T07:20", "--run", str(run_id))
    assert result.exit_code == 0, result.stderr
    state = check(sw, "2026-11-04T12:00")
    [alert] = rules(state, "pain-during")
    assert alert["severity"] == "warning"
    assert "shorten or stop" in alert["message"]
    assert state["week"]["held"] is True
    assert state["week"]["cap_km"] == state["week"]["baseline_km"] == 15.0
    still = check(sw, "2026-11-10T07:19")
    assert still["week"]["cap_km"] == still["week"]["baseline_km"]
    after = check(sw, "2026-11-10T07:21")
    assert rules(after, "pain-during") == []
    assert after["week"]["cap_km"] == pytest.approx(after["week"]["baseline_km"] * 1.1)


def test_pain_of_4_during_is_a_caution(sw: Any) -> None:
    log(sw, "2026-11-03T07:00", "5km")
    sw("pain", "4", "--when", "during", "--at", "2026-11-03T07:20")
    [alert] = rules(check(sw, "2026-11-03T09:00"), "pain-during")
    assert alert["severity"] == "caution"


def test_pain_above_the_pre_run_baseline_the_next_morning(sw: Any) -> None:
    sw("pain", "1", "--when", "morning", "--at", "2026-11-03T06:30")
    run_id = log(sw, "2026-11-03T07:00", "5km")
    sw("pain", "2", "--when", "after", "--at", "2026-11-03T08:00")  # within 4 h: allowed
    assert rules(check(sw, "2026-11-03T09:00"), "pain-baseline") == []
    sw("pain", "3", "--when", "morning", "--at", "2026-11-04T07:00")
    [alert] = rules(check(sw, "2026-11-04T08:00"), "pain-baseline")
    assert (alert["severity"], alert["key"]) == ("warning", f"pain-baseline:run:{run_id}")
    assert alert["data"]["baseline_score"] == 1
    assert "3/10" in alert["message"]
    assert "1/10" in alert["message"]


def test_a_recovery_week_does_not_shrink_the_next_weeks_cap(sw: Any) -> None:
    """20 km weeks, then a 14 km recovery week: the next week's cap is the one the recovery
    week had (22 km), so the usual 20 km week raises no progression alert."""
    base(sw, ("8km", "6km", "6km"))
    before = check(sw, "2026-11-02T08:00")["week"]
    log_week(sw, WEEK5, ("6km", "4km", "4km"))
    state = check(sw, "2026-11-09T08:00")
    assert state["week"]["baseline_km"] == pytest.approx(before["baseline_km"]) == 20.0
    assert state["week"]["cap_km"] == pytest.approx(before["cap_km"]) == pytest.approx(22.0)
    log_week(sw, date(2026, 11, 9), ("8km", "6km", "6km"))
    sunday = check(sw, "2026-11-15T20:00")
    assert all(a["severity"] == "caution" for a in rules(sunday, "weekly-progression"))
    assert rules(check(sw, "2026-11-16T08:00"), "weekly-progression") == []


@pytest.mark.parametrize(
    ("week_start", "at", "start", "km"),
    [
        # Sunday 25 Oct 23:30 CET is 22:30 UTC: still the week of Mon 19 Oct. With the CEST
        # offset of that week's start it would be 00:30 Monday and land in the next week.
        ("monday", "2026-10-25T23:59", "2026-10-19", 13.0),
        ("monday", "2026-10-26T12:00", "2026-10-26", 4.0),
        ("sunday", "2026-10-26T12:00", "2026-10-25", 9.0),
        ("sunday", "2026-10-24T23:59", "2026-10-18", 11.0),
    ],
)
def test_weeks_follow_the_configured_start_and_zone_across_dst(
    sw: Any, week_start: str, at: str, start: str, km: float
) -> None:
    env = {"STRIDEWATCH_TIMEZONE": "Europe/Berlin", "STRIDEWATCH_WEEK_START": week_start}
    log(sw, "2026-10-18T23:30", "3km", env)  # Sunday, CEST
    log(sw, "2026-10-19T00:30", "8km", env)  # Monday, CEST
    log(sw, "2026-10-25T23:30", "5km", env)  # Sunday after the change, CET
    log(sw, "2026-10-26T00:30", "4km", env)  # Monday, CET
    state = check(sw, at, env)
    assert state["week"]["start"] == start
    assert state["week"]["distance_km"] == km


def test_at_sees_only_runs_started_by_then(sw: Any) -> None:
    log(sw, "2026-11-17T07:00", "6km")
    assert check(sw, "2026-11-17T06:59:59")["week"]["distance_km"] == 0.0
    assert check(sw, "2026-11-17T07:00")["week"]["distance_km"] == 6.0


def test_check_stores_alerts_once_and_only_escalates(sw: Any) -> None:
    base(sw, ("6km", "6km", "3km"))
    log_week(sw, WEEK5, ("6km", "6km", "2.1km"), days=(0, 2, 4))
    check(sw, "2026-11-06T20:00")
    check(sw, "2026-11-06T21:00")
    [stored] = sw("alerts", "--json").json()
    assert (stored["rule"], stored["severity"], stored["delivered"]) == (
        "weekly-progression",
        "caution",
        False,
    )
    assert stored["raised_at"] == "2026-11-06T20:00:00+00:00"
    log(sw, "2026-11-07T07:00", "6.5km")
    check(sw, "2026-11-07T12:00")
    check(sw, "2026-11-07T13:00")
    [escalated] = [a for a in sw("alerts", "--json").json() if a["rule"] == "weekly-progression"]
    assert (escalated["severity"], escalated["key"]) == ("danger", stored["key"])
    assert escalated["raised_at"] == "2026-11-07T12:00:00+00:00"
    assert sw("alerts", "--since", "2026-11-07T12:30", "--json").json() == []


def test_alerts_lists_the_run_of_a_spike(sw: Any) -> None:
    """Two runs two days apart: a spike, but the warm-up only informs."""
    log(sw, "2026-11-02T07:00", "5km")
    run_id = log(sw, "2026-11-04T07:00", "12km")
    check(sw, "2026-11-04T09:00")
    [stored] = sw("alerts", "--json").json()
    assert (stored["rule"], stored["severity"], stored["run_id"]) == (
        "single-run-spike",
        "info",
        run_id,
    )
    human = sw("alerts")
    assert human.exit_code == 0
    assert "single-run" in human.stdout
    assert "no" in human.stdout


def test_human_check_uses_the_configured_unit(sw: Any) -> None:
    base(sw, ("5mi", "5mi", "5mi"))
    result = sw("check", "--at", "2026-11-03T08:00", env={"STRIDEWATCH_UNITS": "mi"})
    assert result.exit_code == 0, result.stderr
    assert "15.0 mi" in result.stdout
    assert "16.5 mi" in result.stdout
    assert " km" not in result.stdout


def test_summary_reports_the_week(sw: Any) -> None:
    base(sw, ("5km", "5km", "5km"))
    log_week(sw, WEEK5, ("5km", "6km", "5.5km"))
    sw("pain", "2", "--when", "after", "--at", "2026-11-05T09:00")
    data = sw("summary", "--week", "2026-11-04", "--at", "2026-11-20T07:00", "--json").json()
    assert data["week"]["start"] == "2026-11-02"
    assert data["week"]["end"] == "2026-11-08"
    assert data["week"]["distance_km"] == 16.5
    assert data["week"]["last_week_km"] == 15.0
    assert data["week"]["remaining_km"] == 0.0
    assert data["week"]["change_pct"] == 10.0
    assert [run["distance_km"] for run in data["runs"]] == [5.0, 6.0, 5.5]
    assert [report["score"] for report in data["pain"]] == [2]
    assert data["at"] == datetime(2026, 11, 8, 23, 59, 59).isoformat() + "+00:00"
    human = sw("summary", "--at", "2026-11-05T12:00")
    assert human.exit_code == 0
    assert "11.0 km" in human.stdout


def test_summary_of_a_future_week_is_refused(sw: Any) -> None:
    result = sw("summary", "--week", "2026-12-30", "--at", "2026-11-20T07:00")
    assert result.exit_code == 2
    assert "not started" in result.stderr


@pytest.mark.parametrize("command", ["check", "summary", "alerts", "what-if", "plan"])
def test_help_has_an_example(sw: Any, command: str) -> None:
    result = sw(command, "-h")
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_a_held_cap_and_its_baseline_read_as_one_number(sw: Any) -> None:
    """While pain holds the cap at the baseline week, `check` never shows one number rounded
    two ways ("baseline week 9.3 mi" beside a "9.2 mi cap"): a baseline that is last week
    is said as last week's, once."""
    mi = {"STRIDEWATCH_UNITS": "mi"}
    for week in range(3):
        monday = date(2026, 11, 2) + timedelta(weeks=week)
        for day in (0, 2, 4):
            log(sw, f"{monday + timedelta(days=day)}T07:00", "4.979km", env=mi)
    pain = sw("pain", "8", "--when", "morning", "--at", "2026-11-23T07:00", env=mi)
    assert pain.exit_code == 0, pain.stderr
    out = " ".join(sw("check", "--at", "2026-11-23T09:00", env=mi).stdout.split())
    assert "last week 9.3 mi; baseline week last week's, the cap held" in out
    assert "baseline week 9.3 mi" not in out
