"""``stridewatch history``: the terminal chart of weekly distance against each week's cap,
from a multi-week history logged through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.units import format_budget, format_distance
from tests.report_history import AT, CURRENT_WEEK, OVER_WEEK, build, check_json, log

WIDE = {"COLUMNS": "100"}


def km(value: float) -> str:
    return format_distance(value * 1000, "km")


def number(value: float, unit: str = "km") -> str:
    """A week's distance or cap as the chart shows it: the unit is in the heading."""
    return format_budget(value, unit).split()[0]  # type: ignore[arg-type]


def row_of(stdout: str, label: str) -> str:
    [line] = [line for line in stdout.splitlines() if label in line]
    return line


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def history(sw: Any) -> Any:
    build(sw)
    return sw


def test_the_over_cap_week_is_marked(history: Any) -> None:
    result = history("history", "--at", AT, env=WIDE)
    assert result.exit_code == 0, result.stderr
    over = row_of(result.stdout, f"{OVER_WEEK:%a %d %b}")
    assert "over cap +60%" in over
    assert "│█" in over  # the bar runs past the cap mark
    assert f" {number(32.0)} " in over
    steady = row_of(result.stdout, "Mon 19 Oct")
    assert "over cap" not in steady
    assert "░│" in steady  # under the cap: the cap mark is after the bar
    assert sum("over cap" in line for line in result.stdout.splitlines()) == 1


def test_the_current_week_matches_check(history: Any) -> None:
    week = check_json(history)["week"]
    result = history("history", "--at", AT, env=WIDE)
    current = row_of(result.stdout, f"{CURRENT_WEEK:%a %d %b} *")
    assert f" {number(week['distance_km'])} " in current
    assert f" {number(week['cap_km'])} " in current
    assert f"{km(week['remaining_km'])} left" in current
    assert (
        f"This week: {km(week['distance_km'])} of its {km(week['cap_km'])} cap, "
        f"{km(week['remaining_km'])} left" in result.stdout
    )


def test_pain_sits_on_the_day_it_was_reported(history: Any) -> None:
    result = history("history", "--at", AT, env=WIDE)
    assert "·2····5" in row_of(result.stdout, f"{OVER_WEEK:%a %d %b}")
    assert "·······" in row_of(result.stdout, "Mon 12 Oct")


def test_json_matches_check(history: Any) -> None:
    state = check_json(history)
    data = history("history", "--at", AT, "--json").json()
    assert [week["start"] for week in data["weeks"]] == [
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
    ]
    current = data["weeks"][-1]
    assert current["current"] is True
    for name in ("distance_km", "cap_km", "remaining_km", "baseline_km"):
        assert current[name] == state["week"][name]
    assert [week["over_cap"] for week in data["weeks"]] == [False] * 4 + [True, False]
    over = data["weeks"][4]
    # Pain 5 during the Sunday run holds that week's cap at its 20 km baseline.
    assert (over["distance_km"], over["cap_km"], over["change_pct"]) == (32.0, 20.0, 60.0)
    assert over["held"] is True
    assert data["weeks"][3]["cap_km"] == 22.0
    # The 10 km Thursday run counts only up to its 8.8 km limit: Sunday's limit is 9.68 km.
    assert (over["pain_max"], over["longest_run_km"], over["longest_limit_km"]) == (5, 14.0, 9.68)
    assert over["longest_over_limit"] is True
    # The first week has no baseline: its warm-up cap is 3 runs of the longest so far.
    assert data["weeks"][0]["cap_km"] == 24.0


def test_the_over_cap_week_is_red(history: Any) -> None:
    env = {**WIDE, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    result = history("history", "--at", AT, env=env)
    over = row_of(result.stdout, f"{OVER_WEEK:%a %d %b}")
    assert f"\x1b[1;31m{OVER_WEEK:%a %d %b}" in over
    assert "\x1b[1;31m▲ over cap +60%" in over
    assert "\x1b[1;31m" not in row_of(result.stdout, "Mon 19 Oct")


def test_weeks_limits_the_rows(history: Any) -> None:
    data = history("history", "--at", AT, "--weeks", "2", "--json").json()
    assert [week["start"] for week in data["weeks"]] == ["2026-11-02", "2026-11-09"]
    result = history("history", "--at", AT, "--weeks", "2", env=WIDE)
    assert "2 weeks from Mon 02 Nov 2026" in result.stdout
    assert "Mon 26 Oct" not in result.stdout


def test_miles(history: Any) -> None:
    env = {**WIDE, "STRIDEWATCH_UNITS": "mi"}
    week = check_json(history)["week"]
    result = history("history", "--at", AT, env=env)
    assert format_budget(week["cap_km"], "mi") in result.stdout  # a cap is rounded down
    assert " km" not in result.stdout


@pytest.mark.parametrize("weeks", ["0", "105", "twelve"])
def test_bad_weeks_is_one_line(sw: Any, weeks: str) -> None:
    result = sw("history", "--weeks", weeks)
    assert result.exit_code == 2
    assert result.stderr.startswith("stridewatch: --weeks")
    assert len(result.stderr.splitlines()) == 1


def test_empty_history_says_how_to_start(sw: Any, db: Path) -> None:
    result = sw("history", "--at", AT)
    assert result.exit_code == 0
    assert "No runs yet: log one with `stridewatch log-run" in result.stdout
    assert "stridewatch import" in result.stdout
    assert not db.exists()  # history reads only: no database is created
    assert "Next run: 4.8 km at most (start: no history to compare against" in words(result.stdout)
    data = sw("history", "--at", AT, "--json").json()
    assert data == {"at": "2026-11-11T20:00:00+00:00", "weeks": [], "message": data["message"]}
    assert words(result.stdout).startswith(data["message"])


def test_one_run_is_a_row_and_a_hint(sw: Any) -> None:
    log(sw, "2026-11-10T07:00", 5.0)
    result = sw("history", "--at", AT, env=WIDE)
    assert result.exit_code == 0
    row = row_of(result.stdout, "Mon 09 Nov *")
    assert f" {number(5.0)} " in row
    assert f"{number(15.0)}  ·······  {km(10.0)} left" in row  # warm-up: 3 runs of the longest
    data = sw("history", "--at", AT, "--json").json()
    assert [(w["start"], w["distance_km"], w["cap_km"]) for w in data["weeks"]] == [
        ("2026-11-09", 5.0, 15.0)
    ]


def test_runs_after_at_are_not_shown(history: Any) -> None:
    data = history("history", "--at", "2026-11-01T20:00", "--json").json()
    assert data["weeks"][-1]["start"] == "2026-10-26"
    assert all(not week["over_cap"] for week in data["weeks"])


def test_help_has_an_example(sw: Any) -> None:
    result = sw("history", "-h")
    assert result.exit_code == 0
    assert "Example: stridewatch history --weeks 16" in result.stdout


@pytest.mark.parametrize(("weeks", "said"), [("1", "(1 week)"), ("2", "(2 weeks)")])
def test_report_counts_its_weeks_in_words(sw: Any, tmp_path: Path, weeks: str, said: str) -> None:
    log(sw, "2026-11-03T07:00", 6.0)  # a run in each of the last two weeks
    log(sw, "2026-11-10T07:00", 6.0)
    path = tmp_path / "r.html"
    result = sw("report", "--at", AT, "--weeks", weeks, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote {path} {said}\n"
