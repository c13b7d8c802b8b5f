"""Pain rules as pure functions: thresholds, the return window, the morning check, the hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import PainSettings, Settings
from agent.models import PainReport, PainWhen, Run, severity_rank
from agent.rules import pain
from agent.rules.allowance import allowance
from agent.rules.load import History

SETTINGS = Settings(timezone="UTC")
START = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)  # a Tuesday; the run ends at 07:36


def run(at: datetime = START, km: float = 6.0, run_id: int = 1) -> Run:
    return Run(
        id=run_id,
        started_at=at,
        distance_m=km * 1000,
        moving_s=km * 360,
        elapsed_s=km * 360,
        source="manual",
        ended_at=at + timedelta(seconds=km * 360),
    )


def report(minutes: float, score: int, when: PainWhen, report_id: int = 1) -> PainReport:
    return PainReport(report_id, START + timedelta(minutes=minutes), score, when)


@pytest.mark.parametrize(
    ("score", "expected"),
    [(2, None), (3, None), (4, "caution"), (5, "warning"), (6, "warning"), (7, "danger")],
)
def test_pain_during_thresholds(score: int, expected: str | None) -> None:
    past = History(runs=(run(),), pain=(report(20, score, "during"),))
    alerts = pain.pain_during(past, SETTINGS, START + timedelta(hours=2))
    assert [a.severity for a in alerts] == ([] if expected is None else [expected])


def test_pain_during_thresholds_come_from_settings() -> None:
    lenient = replace(SETTINGS, pain=PainSettings(during_caution=4, during_stop=5))
    past = History(runs=(run(),), pain=(report(20, 5, "during"),))
    [alert] = pain.pain_during(past, lenient, START + timedelta(hours=2))
    assert alert.severity == "caution"
    assert "5/10" in alert.message


def test_a_pain_alert_stays_active_for_the_hold_days() -> None:
    past = History(runs=(run(),), pain=(report(20, 5, "during"),))
    reported = START + timedelta(minutes=20)
    assert pain.active(past, SETTINGS, reported + timedelta(days=7) - timedelta(seconds=1))
    assert not pain.active(past, SETTINGS, reported + timedelta(days=7))


@pytest.mark.parametrize(
    ("minutes_after_end", "score", "fires"),
    [
        (60, 4, False),  # within the 4 h return window pain may still be up
        (4 * 60, 4, True),
        (5 * 60, 3, True),  # above the usual 1/10 by more than the 1-point margin
        (5 * 60, 2, False),  # within a point of the usual: day-to-day noise
        (5 * 60, 1, False),  # back at baseline
    ],
)
def test_after_reports_must_return_to_the_pre_run_score(
    minutes_after_end: int, score: int, fires: bool
) -> None:
    before = report(-30, 1, "before", 1)
    after = report(36 + minutes_after_end, score, "after", 2)
    past = History(runs=(run(),), pain=(before, after))
    alerts = pain.pain_baseline(past, SETTINGS, START + timedelta(hours=12))
    assert bool(alerts) is fires
    if fires:
        assert alerts[0].data["baseline_score"] == 1
        assert alerts[0].key == "pain-baseline:run:1"


def test_only_the_first_morning_after_a_run_counts() -> None:
    first = report(24 * 60, 0, "morning", 1)
    second = report(48 * 60, 3, "morning", 2)  # a baseline for the next run, not this one
    past = History(runs=(run(),), pain=(first, second))
    assert pain.pain_baseline(past, SETTINGS, START + timedelta(days=3)) == []
    usual = report(-30, 0, "before", 3)
    worse = History(runs=(run(),), pain=(usual, report(24 * 60, 2, "morning", 4)))
    [alert] = pain.pain_baseline(worse, SETTINGS, START + timedelta(days=1, hours=1))
    assert "the morning after" in alert.message
    assert "above your usual 0/10" in alert.message


def test_the_usual_pain_is_unknown_without_a_before_or_morning_report() -> None:
    """Nothing is ever "above your 0/10" without a report saying 0: a first after or
    morning score of 1-2 raises nothing."""
    past = History(runs=(run(),), pain=(report(5 * 60, 2, "after", 1),))
    assert pain.usual_pain(past, SETTINGS, START + timedelta(days=1)) is None
    assert pain.evaluate(past, SETTINGS, START + timedelta(days=1)) == []
    morning = History(runs=(run(),), pain=(report(24 * 60, 2, "morning", 1),))
    assert pain.evaluate(morning, SETTINGS, START + timedelta(days=1, hours=1)) == []


def test_the_cap_is_held_at_the_baseline_while_pain_is_active() -> None:
    weeks = tuple(run(START - timedelta(weeks=n), 15.0, n + 10) for n in range(1, 5))
    quiet = History(runs=(*weeks, run()))
    hurt = History(runs=(*weeks, run()), pain=(report(20, 5, "during"),))
    at = START + timedelta(days=1)
    assert allowance(quiet, SETTINGS, at).cap_km == pytest.approx(16.5)
    held = allowance(hurt, SETTINGS, at)
    assert (held.cap_km, held.held) == (15.0, True)


# -- properties (hypothesis) -----------------------------------------------------------------

scores = st.integers(min_value=0, max_value=10)
timings = st.sampled_from(["before", "during", "after", "morning"])
minutes = st.integers(min_value=-24 * 60, max_value=10 * 24 * 60)


@st.composite
def pain_histories(draw: st.DrawFn) -> History:
    items = sorted(draw(st.lists(st.tuples(minutes, scores, timings), max_size=12)))
    reports = tuple(report(m, s, w, n + 1) for n, (m, s, w) in enumerate(items))  # type: ignore[arg-type]
    return History(runs=(run(),), pain=reports)


FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(pain_histories(), st.integers(0, 12 * 24 * 60))
def test_no_alert_claims_a_usual_pain_that_is_unknown(past: History, later: int) -> None:
    now = START + timedelta(minutes=later)
    for alert in pain.evaluate(past, SETTINGS, now):
        if alert.rule == pain.BASELINE:
            assert alert.data["baseline_score"] is not None
        if "above your usual" in alert.message:
            known = alert.data.get("baseline_score", alert.data.get("usual_pain"))
            assert known is not None


@FAST
@given(timings, scores, scores)
def test_a_higher_score_is_never_a_milder_level(when: str, low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)

    def worst(score: int) -> int:
        past = History(runs=(run(),), pain=(report(60, score, when),))  # type: ignore[arg-type]
        found = pain.levels(past, SETTINGS, START + timedelta(hours=2))
        return max((severity_rank(a.severity) for a in found), default=-1)

    assert worst(low) <= worst(high)


@FAST
@given(pain_histories(), st.integers(0, 12 * 24 * 60))
def test_the_cap_is_held_exactly_while_a_warning_or_danger_is_active(
    past: History, later: int
) -> None:
    now = START + timedelta(minutes=later)
    alerts = pain.evaluate(past, SETTINGS, now)
    assert pain.active(past, SETTINGS, now) == any(a.severity in pain.HOLDING for a in alerts)
