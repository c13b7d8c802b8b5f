"""Issue 12: a pain-monitoring model that catches high, rising and lingering pain, never
invents a baseline, and lets go once pain settles. Every history is built through the real
``log-run`` and ``pain`` commands and read back through ``check --json`` and ``what-if``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

WARN_UP = {"warning", "danger"}
# Mondays of five steady weeks of 8 km runs on Tue/Thu/Sun, then the week under test.
STEADY = tuple(date(2026, 10, 5) + timedelta(weeks=n) for n in range(5))
TEST_WEEK = date(2026, 11, 9)


def log(sw: Any, when: str, km: float, rpe: int | None = None) -> int:
    args = ["log-run", "--at", when, "--distance", f"{km}km", "--duration", f"{round(km * 6)}m"]
    if rpe is not None:
        args += ["--rpe", str(rpe)]
    result = sw(*args)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def pain(sw: Any, score: int, when: str, at: str) -> Any:
    result = sw("pain", str(score), "--when", when, "--at", at)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().isdigit()  # stdout stays the id, for scripts
    return result


def steady(sw: Any, weeks: tuple[date, ...] = STEADY, km: float = 8.0) -> None:
    for monday in weeks:
        for day in (1, 3, 6):
            log(sw, f"{monday + timedelta(days=day)}T07:00", km)


def check(sw: Any, at: str) -> dict[str, Any]:
    result = sw("check", "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def pain_alerts(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["rule"], a["severity"]) for a in state["alerts"] if a["rule"].startswith("pain")]


def day(offset: int, clock: str = "08:00") -> str:
    return f"{TEST_WEEK + timedelta(days=offset)}T{clock}"


def test_high_pain_before_and_after_a_run_is_flagged_and_holds(sw: Any) -> None:
    """Case 1: 6/10 before, an 8 km run, 8/10 1 h 50 min after: a warning, then a danger
    that says to stop; the cap is held and the next run is rest."""
    steady(sw)
    said = pain(sw, 6, "before", day(1, "06:30"))
    assert "above the stop level of 4/10" in said.stderr
    assert "Next run at most" in said.stderr
    log(sw, day(1, "07:00"), 8.0)
    after = pain(sw, 8, "after", day(1, "10:38"))
    assert "at or above 7/10: stop running" in after.stderr
    state = check(sw, day(1, "20:00"))
    assert ("pain-level", "danger") in pain_alerts(state)
    assert ("pain-level", "warning") in pain_alerts(state)
    assert state["week"]["held"] is True
    assert state["phase"] == "held"
    assert (state["next_run_max_km"], state["binding"]) == (0.0, "pain")
    text = sw("what-if", "14km", "--at", day(2)).stdout
    assert "go ahead" not in text


def test_rising_morning_pain_without_runs_is_caught(sw: Any) -> None:
    """Case 2: before 0, a run, then mornings 0, 3, 5, 6: a warning by the 5."""
    steady(sw)
    pain(sw, 0, "before", day(0, "06:30"))
    log(sw, day(0, "07:00"), 8.0)
    for offset, score in ((1, 0), (2, 3)):
        pain(sw, score, "morning", day(offset, "07:30"))
    pain(sw, 5, "morning", day(3, "07:30"))
    state = check(sw, day(3, "09:00"))
    assert ("pain-trend", "warning") in pain_alerts(state)
    assert state["week"]["held"] is True
    pain(sw, 6, "morning", day(4, "07:30"))
    later = check(sw, day(4, "09:00"))
    assert {severity for _, severity in pain_alerts(later)} & WARN_UP
    assert "go ahead" not in sw("what-if", "14km", "--at", day(4, "10:00")).stdout


def test_morning_pain_1_3_5_7_warns_by_the_third_and_is_danger_at_7(sw: Any) -> None:
    steady(sw)
    for offset, score in enumerate((1, 3, 5, 7)):
        pain(sw, score, "morning", day(offset, "07:30"))
        severities = {s for _, s in pain_alerts(check(sw, day(offset, "09:00")))}
        if offset == 2:
            assert "warning" in severities
        if offset == 3:
            assert "danger" in severities


def test_lingering_morning_pain_does_not_become_the_new_normal(sw: Any) -> None:
    """Case 3: two weeks of 0/10 mornings, then 4/10 every morning for three weeks: still a
    warning in the third week, never silent."""
    start = date(2026, 9, 28)
    for n in range(14):
        pain(sw, 0, "morning", f"{start + timedelta(days=n)}T07:30")
    lingering = start + timedelta(days=14)
    for n in range(21):
        pain(sw, 4, "morning", f"{lingering + timedelta(days=n)}T07:30")
        if n in (6, 13, 20):
            state = check(sw, f"{lingering + timedelta(days=n)}T09:00")
            assert {s for _, s in pain_alerts(state)} & WARN_UP, n


def test_a_stable_low_pain_from_day_one_never_warns(sw: Any) -> None:
    """Case 4: no usual pain is invented. A runner with a steady 1-2/10 after every run
    (and no before or morning reports) gets no warning and no held cap in 8 weeks."""
    weeks = tuple(date(2026, 9, 14) + timedelta(weeks=n) for n in range(8))
    for monday in weeks:
        for offset, score in ((1, 1), (3, 2), (6, 1)):
            log(sw, f"{monday + timedelta(days=offset)}T07:00", 8.0)
            pain(sw, score, "after", f"{monday + timedelta(days=offset)}T13:00")
        state = check(sw, f"{monday + timedelta(days=6)}T20:00")
        assert not {s for _, s in pain_alerts(state)} & WARN_UP
        assert state["week"]["held"] is False


def test_settled_pain_releases_the_hold_the_next_day(sw: Any) -> None:
    """Case 5: 5/10 during (a warning), then 0 after and 0 the next morning: the alert stays
    as a caution that says it settled, and the cap is no longer held."""
    steady(sw)
    pain(sw, 0, "morning", day(0, "07:00"))
    log(sw, day(1, "07:00"), 8.0)
    pain(sw, 5, "during", day(1, "07:30"))
    assert check(sw, day(1, "12:00"))["week"]["held"] is True
    pain(sw, 0, "after", day(1, "13:00"))
    pain(sw, 0, "morning", day(2, "07:30"))
    state = check(sw, day(2, "09:00"))
    assert state["week"]["held"] is False
    [during] = [a for a in state["alerts"] if a["rule"] == "pain-during"]
    assert during["severity"] == "caution"
    assert "It settled" in during["message"]


def test_a_flare_week_is_not_a_recovery_week(sw: Any) -> None:
    """Case 6: 40 km weeks, a 14 km week with 6/10 during and 4/10 the next morning, then
    straight back to 40 km with a 16 km long run: the week after the flare is capped at the
    baseline plus the normal step, and the long run past the held limit warns."""
    weeks = tuple(date(2026, 9, 21) + timedelta(weeks=n) for n in range(4))
    for monday in weeks:
        for offset, km in ((0, 8.0), (2, 10.0), (4, 8.0), (6, 14.0)):
            log(sw, f"{monday + timedelta(days=offset)}T07:00", km)
    flare = date(2026, 10, 19)
    for offset, km in ((0, 8.0), (4, 6.0)):  # 14 km: down by more than half, yet no layoff
        log(sw, f"{flare + timedelta(days=offset)}T07:00", km)
    pain(sw, 6, "during", f"{flare + timedelta(days=4)}T07:40")
    pain(sw, 4, "morning", f"{flare + timedelta(days=5)}T07:30")
    back = flare + timedelta(weeks=1)
    state = check(sw, f"{back}T06:00")
    assert state["week"]["baseline_km"] == pytest.approx(40.0)
    assert state["week"]["held"] is True
    assert state["week"]["cap_km"] == pytest.approx(40.0)
    what = sw("what-if", "16km", "--at", f"{back + timedelta(days=1)}T07:00", "--json").json()
    assert {a["severity"] for a in what["alerts"]} & WARN_UP


def test_reports_are_linked_to_the_run_they_are_about(sw: Any) -> None:
    """Case 7: a "morning" report 1.5 h after a 06:00 run is not "the morning after", and an
    "after" report 10 days after the last run is tied to no run."""
    steady(sw)
    pain(sw, 0, "before", day(0, "05:30"))
    log(sw, day(0, "06:00"), 8.0)
    pain(sw, 3, "morning", day(0, "08:18"))
    state = check(sw, day(0, "09:00"))
    assert [a for a in state["alerts"] if a["rule"] == "pain-baseline"] == []
    pain(sw, 3, "after", day(10, "08:00"))
    later = check(sw, day(10, "09:00"))
    assert [a for a in later["alerts"] if a["rule"] == "pain-baseline"] == []


def test_the_settling_message_names_the_real_gap(sw: Any) -> None:
    steady(sw)
    pain(sw, 1, "before", day(1, "06:30"))
    log(sw, day(1, "07:00"), 8.0)
    pain(sw, 3, "after", day(1, "13:00"))
    [alert] = [a for a in check(sw, day(1, "14:00"))["alerts"] if a["rule"] == "pain-baseline"]
    assert "5 h after the run" in alert["message"]
    assert "above your usual 1/10" in alert["message"]


def test_log_run_says_what_the_rules_now_say(sw: Any) -> None:
    steady(sw)
    result = sw("log-run", "--at", day(1, "07:00"), "--distance", "16km", "--duration", "96m")
    assert result.exit_code == 0
    assert result.stdout.strip().isdigit()
    said = " ".join(result.stderr.split())  # wrapped to the terminal
    assert "longer than your longest run of the 30 days before it" in said
    assert "Next run at most" in said


def test_pain_during_a_plan_holds_runs_at_the_low_end_of_its_range(sw: Any) -> None:
    made = sw("plan", "return", "--usual", "6-8mi", "--at", "2026-11-02T08:00", "--json")
    assert made.exit_code == 0, made.stderr
    low = made.json()["weeks"][0]["low_km"]
    log(sw, "2026-11-03T07:00", 4.5)
    pain(sw, 5, "during", "2026-11-03T07:20")
    state = check(sw, "2026-11-05T08:00")
    assert state["phase"] == "held"
    [limit] = [limit for limit in state["limits"] if limit["rule"] == "pain"]
    assert limit["max_km"] == pytest.approx(low, abs=1e-3)
    assert (state["binding"], state["next_run_max_km"]) == ("pain", pytest.approx(low, abs=1e-3))


def four_weeks_of_30(sw: Any) -> None:
    for week in range(4):
        monday = date(2026, 10, 19) + timedelta(weeks=week)
        for offset, km in ((0, 8.0), (2, 10.0), (5, 12.0)):
            log(sw, f"{monday + timedelta(days=offset)}T07:00", km)


def test_severe_pain_is_not_cleared_by_one_mild_morning(sw: Any) -> None:
    four_weeks_of_30(sw)
    log(sw, "2026-11-16T07:00", 8.0)
    pain(sw, 9, "during", "2026-11-16T07:30")
    pain(sw, 2, "morning", "2026-11-17T06:30")
    state = check(sw, "2026-11-17T07:00")
    assert state["week"]["held"] is True
    assert (state["binding"], state["next_run_max_km"]) == ("pain", 0.0)
    assert "go ahead" not in sw("what-if", "9km", "--at", "2026-11-17T07:00").stdout


def test_a_flare_week_over_its_held_cap_counts_only_up_to_it(sw: Any) -> None:
    """40 km weeks, then a 44 km week with a 5/10 morning (a flare: its cap held at 40):
    the next week is capped at 40 + 10 %, not 44 + 10 %."""
    for week in range(4):
        monday = date(2026, 10, 12) + timedelta(weeks=week)
        for offset, km in ((0, 10.0), (2, 10.0), (5, 14.0), (6, 6.0)):
            log(sw, f"{monday + timedelta(days=offset)}T07:00", km)
    flare = date(2026, 11, 9)
    for offset, km in ((0, 11.0), (2, 11.0), (5, 14.0), (6, 8.0)):
        log(sw, f"{flare + timedelta(days=offset)}T07:00", km)
    pain(sw, 5, "morning", "2026-11-15T06:30")
    pain(sw, 0, "morning", "2026-11-16T06:30")
    state = check(sw, "2026-11-16T08:00")
    assert state["week"]["cap_km"] == pytest.approx(44.0)


def test_pain_before_a_run_bounds_the_next_run_by_that_run(sw: Any) -> None:
    four_weeks_of_30(sw)
    pain(sw, 6, "before", "2026-11-16T06:50")
    log(sw, "2026-11-16T07:00", 8.0)
    state = check(sw, "2026-11-17T07:00")
    [limit] = [limit for limit in state["limits"] if limit["rule"] == "pain"]
    assert limit["max_km"] == pytest.approx(8.0)


def test_a_steady_one_or_two_out_of_ten_is_not_rising_pain(sw: Any) -> None:
    four_weeks_of_30(sw)
    scores = (1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 2)
    for n, score in enumerate(scores):
        pain(sw, score, "morning", f"{date(2026, 11, 2) + timedelta(days=n)}T06:30")
    state = check(sw, "2026-11-15T20:00")
    assert not {s for _, s in pain_alerts(state)} & WARN_UP
    assert state["week"]["held"] is False


def test_a_morning_back_at_usual_ends_the_trend(sw: Any) -> None:
    four_weeks_of_30(sw)
    for n in range(7):
        pain(sw, 0, "morning", f"{date(2026, 11, 9) + timedelta(days=n)}T06:30")
    for n, score in enumerate((2, 3, 0)):
        pain(sw, score, "morning", f"{date(2026, 11, 16) + timedelta(days=n)}T06:30")
    state = check(sw, "2026-11-18T08:00")
    assert [a for a in state["alerts"] if a["rule"] == "pain-trend"] == []
    assert state["week"]["held"] is False


@pytest.mark.parametrize("score", ["-1", "11", "3.5", "x"])
def test_a_score_outside_0_to_10_is_one_line_and_stores_nothing(sw: Any, score: str) -> None:
    result = sw("pain", score, "--when", "after", "--at", "2026-11-16T08:00")
    assert result.exit_code == 2
    assert result.stderr.startswith("stridewatch: SCORE")
    assert len(result.stderr.strip().splitlines()) == 1
    assert sw("pain-log", "--json").json() == []
