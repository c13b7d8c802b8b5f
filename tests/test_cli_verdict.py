"""The verdict printed right after ``log-run`` and ``pain`` (stderr, and ``alerts`` in
``--json``): every active alert the new run or report caused or is part of (its own, its
week's weekly-progression alert, a pain trend it ends), never older unrelated ones."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

MONDAYS = (date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16))


def log(sw: Any, when: str, km: float, *extra: str) -> Any:
    args = ["log-run", "--at", when, "--distance", f"{km}km", "--duration", f"{round(km * 6)}m"]
    result = sw(*args, *extra)
    assert result.exit_code == 0, result.stderr
    return result


def flat_weeks(sw: Any) -> None:
    """Mon/Wed/Sat 5 km for three weeks: a 15 km baseline week."""
    for monday in MONDAYS:
        for offset in (0, 2, 5):
            log(sw, f"{monday + timedelta(days=offset)}T07:00", 5.0)


def jump(sw: Any) -> None:
    flat_weeks(sw)
    log(sw, "2026-11-23T07:00", 7.5)
    log(sw, "2026-11-25T07:00", 7.5)


def test_a_run_that_takes_its_week_over_the_cap_says_so_at_once(sw: Any) -> None:
    jump(sw)
    said = " ".join(log(sw, "2026-11-27T07:00", 7.5).stderr.split())  # wrapped to the width
    check = sw("check", "--at", "2026-11-27T08:00", "--json").json()
    [week] = [a for a in check["alerts"] if a["rule"] == "weekly-progression"]
    assert week["severity"] == "danger"
    assert week["message"] in said
    assert "+50% on its 15.0 km baseline week" in said
    assert "The run of Fri 27 Nov" in said
    # The earlier runs' spikes are still active on check, but are not about this run.
    assert "The run of Mon 23 Nov" not in said
    assert "The run of Wed 25 Nov" not in said


def test_the_json_verdict_carries_the_weeks_alert(sw: Any) -> None:
    jump(sw)
    data = log(sw, "2026-11-27T07:00", 7.5, "--json").json()
    found = {(a["rule"], a["severity"]) for a in data["alerts"]}
    assert ("weekly-progression", "danger") in found
    assert ("single-run-spike", "warning") in found
    run_ids = {a["data"].get("run_id") for a in data["alerts"] if a["rule"] == "single-run-spike"}
    assert run_ids == {data["run"]["id"]}


def test_a_run_inside_the_cap_of_a_flat_week_has_no_alert(sw: Any) -> None:
    flat_weeks(sw)
    data = log(sw, "2026-11-23T07:00", 5.0, "--json").json()
    assert data["alerts"] == []
    said = log(sw, "2026-11-25T07:00", 5.0).stderr
    assert "over its" not in said
    assert "longer than" not in said
    assert said.startswith("stored run ")
    assert "\nNext run at most" in said  # what was stored, then the next run, nothing else


def test_a_run_in_a_week_already_over_its_cap_is_part_of_that_alert(sw: Any) -> None:
    """The week is over its cap before this short run: the run adds to it, so the verdict
    repeats the week's alert (the runner logging it must hear it)."""
    jump(sw)
    log(sw, "2026-11-27T07:00", 7.5)
    said = log(sw, "2026-11-28T07:00", 2.0).stderr
    assert "The week of 23 Nov is at 24.5 km" in said


def test_a_pain_report_that_completes_a_rising_trend_says_so(sw: Any) -> None:
    flat_weeks(sw)
    for day, score in ((23, 0), (24, 3)):
        result = sw("pain", str(score), "--when", "morning", "--at", f"2026-11-{day}T06:30")
        assert result.exit_code == 0, result.stderr
    result = sw("pain", "5", "--when", "morning", "--at", "2026-11-25T06:30", "--json")
    assert result.exit_code == 0, result.stderr
    rules = {a["rule"] for a in result.json()["alerts"]}
    assert "pain-trend" in rules
    said = sw("pain", "6", "--when", "morning", "--at", "2026-11-26T06:30").stderr
    assert "Morning pain is rising" in said


def test_a_pain_report_leaves_out_older_run_alerts(sw: Any) -> None:
    jump(sw)
    said = sw("pain", "1", "--when", "after", "--at", "2026-11-25T10:00").stderr
    assert "longer than your longest run" not in said


def test_a_held_cap_and_its_baseline_are_one_number(sw: Any) -> None:
    """Weeks of 14.9375 km (a baseline week that rounds differently down and to the nearest),
    then pain 6/10 during a run and 8/10 the next morning: the cap is held at the baseline
    week, and json and text show that one number once, rounded down."""
    mi = {"STRIDEWATCH_UNITS": "mi"}
    for monday in MONDAYS:
        for offset in (0, 2, 5):
            day = monday + timedelta(days=offset)
            log(sw, f"{day}T07:00", 4.979166)
    log(sw, "2026-11-23T07:00", 5.5)
    assert sw("pain", "6", "--when", "during", "--at", "2026-11-23T07:20").exit_code == 0
    assert sw("pain", "8", "--when", "morning", "--at", "2026-11-24T06:30").exit_code == 0
    log(sw, "2026-11-25T07:00", 5.5)
    log(sw, "2026-11-27T07:00", 5.5)
    state = sw("summary", "--json", "--week", "2026-11-23", env=mi).json()
    week = state["week"]
    assert week["held"] is True
    assert week["baseline_km"] == week["cap_km"] == 14.937
    text = sw("check", "--at", "2026-11-27T08:00", env=mi).stdout
    _, line = text.split("Alerts")
    assert "9.2 mi cap (held at your baseline week" in " ".join(line.split())
    assert "9.3 mi" not in line
    said = sw("check", "--at", "2026-11-27T08:00", "--json", env=mi).json()
    [alert] = [a for a in said["alerts"] if a["rule"] == "weekly-progression"]
    assert alert["data"]["baseline_km"] == alert["data"]["cap_km"] == 14.937
    assert "on its baseline week and over its 9.2 mi cap" in alert["message"]


@pytest.mark.parametrize("usual", ["0.1km", "0.5-3km", "1.9km", "100mi"])
def test_plan_return_refuses_a_usual_run_that_is_no_run(sw: Any, usual: str) -> None:
    """Below the smallest run (progression's min_run_km, 2 km by default) or above 100 km:
    one line, exit 2, no plan stored."""
    result = sw("plan", "return", "--usual", usual, "--at", "2026-11-02T08:00")
    assert result.exit_code == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "usual run" in result.stderr
    assert sw("plan", "return", "--usual", "2-3km", "--at", "2026-11-02T08:00").exit_code == 0
