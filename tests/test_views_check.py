"""``check`` and ``summary`` without ``--json``: the week against its cap as a bar, what is
left, and the alerts coloured by severity, in the runner's unit."""

from __future__ import annotations

from typing import Any

import pytest

from agent.units import format_budget, format_distance
from tests.report_history import AT, build, check_json, log, pain

WIDE = {"COLUMNS": "160"}
# Rich's 256-colour escapes for each severity (info dim, caution yellow, warning dark
# orange, danger bold red).
COLOURS = {
    "danger": "\x1b[1;31m",
    "warning": "\x1b[38;5;208m",
    "caution": "\x1b[33m",
    "info": "\x1b[2m",
}
OVER_AT = "2026-11-08T20:00"


def km(value: float) -> str:
    return format_distance(value * 1000, "km")


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def history(sw: Any) -> Any:
    build(sw)
    return sw


def test_check_shows_the_week_against_its_cap(history: Any) -> None:
    week = check_json(history)["week"]
    result = history("check", "--at", AT, env=WIDE)
    assert result.exit_code == 0, result.stderr
    out = words(result.stdout)
    assert f"this week {km(week['distance_km'])} " in out
    assert f"░│ of its {km(week['cap_km'])} cap (held at the baseline while pain settles)" in out
    assert f"left {km(week['remaining_km'])} left this week" in out
    assert "acute:chronic" in out
    assert "(context only)" in out


def test_check_marks_a_week_over_its_cap(history: Any) -> None:
    state = check_json(history, OVER_AT)
    result = history("check", "--at", OVER_AT, env=WIDE)
    out = words(result.stdout)
    assert "│█" in result.stdout
    assert "over the cap, +60% on the baseline" in out
    assert f"{km(state['week']['remaining_km'])} left this week" in out
    assert state["next_run_max_km"] == 0.0  # over the cap: the binding limit says rest
    assert "next run rest: the week's cap is reached" in out
    assert f"({state['binding']})" in out
    for limit in state["limits"]:
        if limit["rule"] != state["binding"]:
            assert f"{limit['rule']}: " in out
    for alert in state["alerts"]:
        assert alert["rule"] in out
        assert alert["severity"].upper() in out


def test_alerts_are_coloured_by_severity(history: Any) -> None:
    env = {**WIDE, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    state = check_json(history, OVER_AT)
    severities = {alert["severity"] for alert in state["alerts"]}
    assert {"danger", "warning", "caution"} <= severities
    result = history("check", "--at", OVER_AT, env=env)
    for alert in state["alerts"]:
        [line] = [line for line in result.stdout.splitlines() if alert["rule"] in line][:1]
        assert COLOURS[alert["severity"]] + alert["severity"].upper() in line


def test_summary_lists_the_week_runs_and_pain(history: Any) -> None:
    data = history("summary", "--at", OVER_AT, "--json").json()
    result = history("summary", "--at", OVER_AT, env=WIDE)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Runs this week" in out
    for run in data["runs"]:
        assert km(run["distance_km"]) in out
    assert "6:00/km" in out
    assert "Pain this week" in out
    assert "5/10" in out
    assert "during" in out
    assert f"of its {km(data['week']['cap_km'])} cap" in words(out)


def test_check_in_miles(history: Any) -> None:
    env = {**WIDE, "STRIDEWATCH_UNITS": "mi"}
    week = check_json(history)["week"]
    out = words(history("check", "--at", AT, env=env).stdout)
    assert f"of its {format_budget(week['cap_km'], 'mi')} cap" in out  # rounded down
    assert " km" not in out


def test_empty_history_says_how_to_start(sw: Any) -> None:
    for command in ("check", "summary"):
        result = sw(command, "--at", AT, env=WIDE)
        assert result.exit_code == 0
        out = words(result.stdout)
        assert "No runs in the last 30 days: log one with `stridewatch log-run" in out
        assert "import your history with `stridewatch import" in out
        assert "No alerts" in out
        assert "░" not in out


def test_first_week_has_a_warm_up_cap(sw: Any) -> None:
    """No complete week yet: the week holds 3 runs of the longest run so far."""
    log(sw, "2026-11-10T07:00", 5.0)
    out = words(sw("check", "--at", AT, env=WIDE).stdout)
    assert f"this week {km(5.0)} " in out
    assert f"of its {km(15.0)} cap" in out
    assert f"next run {km(5.5)} at most (single-run:" in out
    assert "warm-up: 3 runs of your longest run so far" in out


def test_pain_only_still_shows_its_alert(sw: Any) -> None:
    pain(sw, 6, "during", "2026-11-10T07:30")
    stdout = sw("check", "--at", AT, env=WIDE).stdout
    assert "No runs in the last 30 days" in words(stdout)
    [line] = [line for line in stdout.splitlines() if "pain-during" in line]
    assert "WARNING" in line
