"""Live budget alerts: thresholds from the budgets, each fired once, escalations again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from agent.config import Settings
from agent.config_load import validate_settings
from agent.daemon.live import LiveWatch, thresholds
from agent.rules.allowance import Allowance, Limit

MONDAY = date(2026, 11, 16)
CAP_REASON = "what is left of this week's cap"
SPIKE_REASON = "1.1x your longest run this month"


def week(
    *,
    distance_km: float = 0.0,
    baseline_km: float | None = None,
    longest_km: float | None = 8.0,
    held: bool = False,
    warn: float = 0.10,
    usual_km: float | None = 10.0,
    extra: tuple[Limit, ...] = (),
) -> Allowance:
    """An allowance as the rules build it: the week's cap and the single-run limit."""
    cap = None if baseline_km is None else baseline_km * (1 + (0.0 if held else warn))
    limits = list(extra)
    if cap is not None:
        left = max(0.0, cap - distance_km)
        limits.append(Limit("week-cap", left if left >= 2.0 else 0.0, CAP_REASON, "x"))
    if longest_km is not None:
        limits.append(Limit("single-run", longest_km * 1.10, SPIKE_REASON, "x"))
    return Allowance(
        at=datetime(2026, 11, 18, tzinfo=UTC),
        phase="held" if held else "building",
        week_start=MONDAY,
        distance_km=distance_km,
        last_week_km=baseline_km or 0.0,
        baseline_km=baseline_km,
        cap_km=cap,
        held=held,
        longest_30d_km=longest_km,
        usual_run_km=usual_km,
        limits=tuple(limits),
    )


def messages(watch: LiveWatch, km: float) -> list[str]:
    return [alert.message for alert in watch.check(km * 1000)]


def test_spike_heads_up_at_half_then_the_limit_each_once() -> None:
    watch = LiveWatch(week(), Settings(), run_id=12)
    assert messages(watch, 4.3) == []
    assert messages(watch, 4.41) == [
        "4.4 km: turn around now to stay within 8.8 km today (1.1x your longest run this month)."
    ]
    assert messages(watch, 4.5) == []  # once per run
    assert messages(watch, 8.79) == []
    [alert] = watch.check(8810)
    assert alert.message == (
        "8.8 km: longer than 1.1x your longest run this month (8.0 km). Consider turning back."
    )
    assert (alert.rule, alert.severity, alert.key) == (
        "single-run-spike",
        "warning",
        "single-run-spike:run:12",
    )
    assert alert.data["level"] == 1
    assert alert.data["limit_km"] == pytest.approx(8.8)
    assert alert.data["run_id"] == 12
    assert alert.data["distance_km"] == pytest.approx(8.81)
    assert messages(watch, 9.5) == []


def test_escalations_fire_again_with_a_higher_level() -> None:
    watch = LiveWatch(week(), Settings(), run_id=3)
    watch.check(9000)
    [escalated] = watch.check(10_500)  # past 1.3 x 8.0 = 10.4 km
    assert escalated.data["level"] == 2
    assert escalated.severity == "warning"
    assert escalated.message.startswith("10.5 km: longer than 1.3x your longest run")
    assert escalated.message.endswith("Turn back now.")
    [danger] = watch.check(16_100)
    assert danger.severity == "danger"
    assert danger.data["level"] == 3
    assert "longer than 2x your longest run this month (8.0 km)" in danger.message
    assert watch.check(20_000) == []
    assert watch.pending == []


def test_passing_several_levels_at_once_says_only_the_highest() -> None:
    # A run resumed after a crash, already far past its limits.
    watch = LiveWatch(week(), Settings(), run_id=5)
    alerts = watch.check(12_000)
    assert [(a.rule, a.data["level"]) for a in alerts] == [
        ("heads-up", 0),
        ("single-run-spike", 2),
    ]


def test_weekly_cap_is_the_allowance_when_smaller() -> None:
    # Baseline 25 km, cap 27.5 km, 22 km run so far: 5.5 km left, less than 8.8 km.
    budget = week(distance_km=22.0, baseline_km=25.0)
    assert budget.next_run_max_km == pytest.approx(5.5)
    watch = LiveWatch(budget, Settings(), run_id=7)
    [heads_up] = watch.check(2800)
    assert heads_up.message == (
        "2.8 km: turn around now to stay within 5.5 km today (what is left of this week's cap)."
    )
    [over] = watch.check(5600)
    assert over.key == "weekly-progression:2026-11-16"
    assert over.data["level"] == 1
    assert over.message.startswith(
        "5.6 km: this run takes the week to 27.6 km, over its 27.5 km cap: +10.4% on its "
        "25.0 km baseline week"
    )
    # +15 % of the baseline is 28.75 km (6.75 km in), +30 % is 32.5 km (10.5 km in).
    [alert_level] = watch.check(6800)
    assert alert_level.data["level"] == 2
    assert alert_level.severity == "warning"
    # From 6.8 to 10.6 km in one check: the spike's 8.8 and 10.4 km limits passed too.
    found = watch.check(10_600)
    assert sorted((a.rule, a.data["level"], a.severity) for a in found) == [
        ("single-run-spike", 2, "warning"),
        ("weekly-progression", 3, "danger"),
    ]


def test_a_week_just_over_its_cap_reads_over_it() -> None:
    """27.53 km against a 27.5 km cap is over it: never "27.5 km, over its 27.5 km cap"."""
    watch = LiveWatch(week(distance_km=22.0, baseline_km=25.0), Settings(), run_id=7)
    watch.check(2800)
    [over] = watch.check(5530)
    assert "takes the week to 27.53 km, over its 27.50 km cap" in over.message
    assert over.data["cap_km"] == 27.5
    assert over.data["change_pct"] == 10.1


def test_over_the_warm_up_guess_only_informs() -> None:
    """Before a complete week the cap is the warm-up's guess, no baseline week: passing it
    informs (the weekly rule says info too), with no steps on a baseline that is not there."""
    guess = replace(
        week(distance_km=10.0, baseline_km=None),
        phase="warm-up",
        cap_km=18.0,
        warm_up_cap=True,
        cap_basis="warm-up: 3 runs of your longest run so far (6.0 km)",
    )
    watch = LiveWatch(guess, Settings(), run_id=7)
    found = [alert for alert in watch.check(20_000) if alert.rule == "weekly-progression"]
    assert [(a.severity, a.data["level"]) for a in found] == [("info", 1)]
    assert "not yet a baseline week" in found[0].message
    assert found[0].data["baseline_km"] is None
    assert found[0].data["change_pct"] is None


def test_held_cap_and_runner_units() -> None:
    settings = Settings(units="mi")
    budget = week(distance_km=20.0, baseline_km=24.0, held=True)  # cap held at 24 km
    watch = LiveWatch(budget, settings, run_id=1)
    [heads_up] = watch.check(2100)
    assert heads_up.message.startswith("1.2 mi: turn around now to stay within 2.4 mi today")
    [over] = watch.check(4100)
    assert "held at the baseline while pain settles" in over.message
    assert over.message.startswith("2.5 mi: this run takes the week to 15.0 mi")


def test_no_history_no_thresholds_and_heads_up_can_be_off() -> None:
    assert thresholds(week(longest_km=None), Settings(), "run:1") == []
    quiet = validate_settings({"progression": {"heads_up": False}})
    assert [t.rule for t in thresholds(week(), quiet, "run:1")] == ["single-run-spike"] * 3


def test_nothing_left_of_the_week_fires_as_soon_as_the_run_moves() -> None:
    watch = LiveWatch(week(distance_km=28.0, baseline_km=25.0), Settings(), run_id=2)
    [over] = watch.check(50)
    assert over.rule == "weekly-progression"
    assert over.data["level"] == 1
