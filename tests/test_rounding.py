"""One number, one rounding (agent/units.py): a distance done to the nearest, a cap, limit,
what is left or maximum rounded down, a percentage to one decimal and a ratio to two, the
same in a message as in the data and the views beside it.

A tester found ``check`` saying ``last week 48.2 km`` beside an alert saying ``48.3 km``,
``what-if`` printing ``20.9 mi`` beside ``21.0 mi``, a live alert ``takes the week to
6.8 mi, over its 6.8 mi cap`` and ``history`` showing 13.6 mi where the report said 13.7.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from agent.advice.checks import assess, check_json, what_if
from agent.config import Settings
from agent.rules import progression
from agent.rules.evaluate import evaluate
from agent.rules.load import History
from agent.units import (
    format_against,
    format_budget,
    format_km,
    format_pct,
    format_ratio,
    pct,
    ratio,
)
from agent.views import check as check_view
from agent.views.check import print_check, print_what_if
from tests import builders

KM = Settings(timezone="UTC")
MI = Settings(timezone="UTC", units="mi")
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)
MILE = 1.609344


def number(text: str) -> float:
    return float(text.split()[0])


def steady(weeks: int, per_week: tuple[float, ...], first_monday: datetime) -> list[object]:
    """Runs on Mon, Wed and Fri (``per_week`` km each) for ``weeks`` weeks from a Monday."""
    runs = []
    for w in range(weeks):
        for day, km in zip((0, 2, 4), per_week, strict=False):
            at = first_monday + timedelta(weeks=w, days=day, hours=7)
            runs.append(builders.run(at, km, len(runs) + 1))
    return runs


def shown(print_view: object, *args: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None)
    print_view(*args, console)  # type: ignore[operator]
    return " ".join(out.getvalue().split())


# -- the helper ----------------------------------------------------------------------------

limits = st.floats(min_value=0.5, max_value=100.0, allow_nan=False)
deltas = st.floats(min_value=-0.2, max_value=0.2, allow_nan=False)


@given(limits, deltas, st.sampled_from(["km", "mi"]))
def test_a_distance_and_its_limit_read_as_they_compare(
    limit: float, delta: float, unit: str
) -> None:
    """Over the limit (by more than a millimetre) the distance reads more than the limit;
    within it, never more. The limit never reads more than it is."""
    done = limit + delta
    done_text, limit_text = format_against(done, limit, unit)  # type: ignore[arg-type]
    assert done_text.endswith(f" {unit}")
    factor = MILE if unit == "mi" else 1.0
    assert number(limit_text) * factor <= limit + 1e-6
    if done > limit + 1e-6:
        assert number(done_text) > number(limit_text)
        # Rounded to the nearest at the decimals shown (or up, a hair over a limit).
        places = len(done_text.split()[0].split(".")[1])
        assert abs(number(done_text) - done / factor) <= 10.0**-places + 1e-9
    else:
        assert number(done_text) <= number(limit_text)


def test_the_testers_live_case_reads_over() -> None:
    cap = 6.8 * MILE
    assert format_against(cap + 0.001, cap, "mi") == ("6.801 mi", "6.800 mi")
    assert format_against(cap + 0.02, cap, "mi") == ("6.81 mi", "6.80 mi")
    assert format_against(cap + 0.5, cap, "mi") == ("7.1 mi", "6.8 mi")
    assert format_against(cap, cap, "mi") == ("6.8 mi", "6.8 mi")  # at the cap: equal


@given(st.floats(min_value=-5.0, max_value=5.0, allow_nan=False))
def test_a_percentage_reads_as_its_data(fraction: float) -> None:
    text = format_pct(fraction)
    assert float(text.rstrip("%")) == pct(fraction)
    assert text != "-0%"


def test_percentages_and_ratios() -> None:
    assert (format_pct(0.4964), format_pct(0.5), format_pct(-1.0)) == ("+49.6%", "+50%", "-100%")
    assert format_pct(0.364, signed=False) == "36.4%"
    assert (ratio(1.5349), format_ratio(1.5349), format_ratio(2.0)) == (1.53, "1.53", "2.00")


# -- the views and the alerts agree --------------------------------------------------------


def test_check_says_last_week_as_the_alert_does() -> None:
    """Last week 48.25 km over its 44 km cap: ``last week`` in check and the alert about
    that week give the same 48.2 km (to the nearest), never 48.2 beside 48.3."""
    runs = steady(4, (13.0, 13.0, 14.0), MONDAY - timedelta(weeks=5))
    runs += steady(1, (16.0, 16.0, 16.25), MONDAY - timedelta(weeks=1))
    history = History(runs=tuple(runs))  # type: ignore[arg-type]
    at = MONDAY + timedelta(hours=20)
    assessment = assess(history, KM, at)
    [alert] = [a for a in assessment.alerts if a.rule == "weekly-progression"]
    last = format_km(48.25, "km")
    assert f"is at {last}," in alert.message
    assert alert.data["distance_km"] == 48.25
    assert f"last week {last};" in shown(print_check, assessment, KM)


def test_a_week_over_its_cap_by_a_hair_reads_over() -> None:
    """10 mi weeks, then 11.01 mi against an 11 mi cap: the alert and check both show the
    week over its cap (``11.01 mi ... over its 11.00 mi cap``), with the data's +10.1 %."""
    runs = steady(4, (10 * MILE / 3,) * 3, MONDAY - timedelta(weeks=4))
    runs += steady(1, (11.01 * MILE / 3,) * 3, MONDAY)
    history = History(runs=tuple(runs))  # type: ignore[arg-type]
    at = MONDAY + timedelta(days=6, hours=20)
    assessment = assess(history, MI, at)
    [alert] = [a for a in assessment.alerts if a.rule == "weekly-progression"]
    assert "is at 11.01 mi, +10.1% on its 10.0 mi baseline week and over its 11.00 mi cap" in (
        alert.message
    )
    assert alert.data["change_pct"] == 10.1
    text = shown(print_check, assessment, MI)
    assert "11.01 mi" in text
    assert "of its 11.00 mi cap over the cap, +10.1% on the baseline" in text


def test_what_if_says_the_week_as_its_alert_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planned week and the alert about it give the same distance and cap."""
    runs = steady(4, (4.0, 4.0, 5.0), MONDAY - timedelta(weeks=4))
    history = History(runs=tuple(runs))  # type: ignore[arg-type]
    planned = [
        builders.run(MONDAY + timedelta(days=day, hours=7), km * MILE, -n)
        for n, (day, km) in enumerate(((0, 3.3), (2, 3.3), (4, 3.3), (6, 3.33)))
    ]
    result = what_if(history, MI, planned)
    [alert] = [a for a in result.alerts if a.rule == "weekly-progression" and a.data["level"]]
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None)
    monkeypatch.setattr(check_view, "_console", lambda: console)
    print_what_if(result, MI)
    text = " ".join(out.getvalue().split())
    match = re.search(r"the week would be at (\S+ mi) of its (\S+ mi) cap", text)
    assert match is not None
    assert f"is at {match.group(1)}," in alert.message
    assert f"over its {match.group(2)} cap" in alert.message


def test_ratios_in_messages_are_the_datas() -> None:
    """ACWR and monotony say the number their data holds; the spike's percentage is its
    data's ratio."""
    steady_runs = [builders.run(MONDAY - timedelta(days=60 - n), 5.0, n + 1) for n in range(53)]
    surge = [builders.run(MONDAY - timedelta(days=6 - n), 16.0, 100 + n) for n in range(7)]
    past = History(runs=tuple(steady_runs + surge))
    [alert] = progression.acwr(past, KM, MONDAY + timedelta(hours=12))
    assert f"ratio is {alert.data['acwr']:.2f}," in alert.message
    state = check_json(assess(past, KM, MONDAY + timedelta(hours=12)), KM)
    assert state["acwr"] == alert.data["acwr"]
    spike_runs = steady(4, (8.0, 8.0, 10.0), MONDAY - timedelta(weeks=4))
    spike = builders.run(MONDAY + timedelta(hours=7), 13.64, 99)
    history = History(runs=(*spike_runs, spike))  # type: ignore[arg-type]
    [found] = [
        a
        for a in evaluate(history, KM, MONDAY + timedelta(hours=9))
        if a.rule == "single-run-spike"
    ]
    assert found.data["ratio"] == 1.364
    assert "is 36.4% longer" in found.message
    assert f"limit {format_budget(11.0, 'km')})" in found.message


def test_history_and_report_show_a_week_to_the_nearest() -> None:
    """13.65 mi run in a week shows as 13.7 mi in ``history`` (as in the report), not
    rounded down to 13.6 as a cap would be."""
    from agent.views.history import _week_numbers
    from agent.views.overview_build import overview

    runs = steady(1, (5 * MILE,) * 3, MONDAY - timedelta(weeks=1))
    runs += steady(1, (4.55 * MILE,) * 3, MONDAY)
    history = History(runs=tuple(runs))  # type: ignore[arg-type]
    view = overview(history, MI, MONDAY + timedelta(days=6, hours=20), 4)
    row = view.weeks[-1]
    distance, cap = _week_numbers(row, MI)
    assert (distance, cap) == ("13.7", "16.5")
    assert distance == format_km(row.distance_km, "mi").split()[0]


@pytest.mark.parametrize("settings", [KM, MI])
def test_json_budgets_are_rounded_down_and_distances_to_the_nearest(settings: Settings) -> None:
    runs = steady(4, (5.0005, 5.0005, 5.0005), MONDAY - timedelta(weeks=4))
    runs += steady(1, (5.0006,), MONDAY)
    history = History(runs=tuple(runs))  # type: ignore[arg-type]
    state = check_json(assess(history, settings, MONDAY + timedelta(hours=20)), settings)
    week = state["week"]
    assert week["distance_km"] == 5.001  # 5.0006 to the nearest metre
    assert week["baseline_km"] == 15.002  # 15.0015 to the nearest metre
    assert week["cap_km"] == 16.501  # 16.50165 rounded down
    assert week["remaining_km"] == 11.501  # 11.50105 rounded down
