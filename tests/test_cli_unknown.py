"""Unknown is null, never 0 (README, "JSON output"): last week before the history began is not
a week of 0 km, and a week just begun with nothing run yet has no change on its baseline
(not -100 %). A finished week without a run is a known 0 km, -100 %."""

from __future__ import annotations

from typing import Any

import pytest


def log(sw: Any, when: str, km: float) -> None:
    result = sw("log-run", "--at", when, "--distance", f"{km}km", "--duration", f"{round(km * 6)}m")
    assert result.exit_code == 0, result.stderr


def test_a_new_database_knows_no_last_week(sw: Any) -> None:
    state = sw("check", "--at", "2026-11-20T07:00", "--json").json()
    assert state["phase"] == "no-history"
    assert state["week"]["last_week_km"] is None
    assert state["week"]["change_pct"] is None
    assert "last week" not in sw("check", "--at", "2026-11-20T07:00").stdout


def test_the_week_before_the_first_run_is_unknown(sw: Any) -> None:
    log(sw, "2026-11-17T07:00", 6.0)
    week = sw("check", "--at", "2026-11-20T07:00", "--json").json()["week"]
    assert (week["distance_km"], week["last_week_km"]) == (6.0, None)
    out = " ".join(sw("check", "--at", "2026-11-20T07:00").stdout.split())
    assert "last week -; baseline week none yet" in out


@pytest.fixture
def rest_week(sw: Any) -> Any:
    """Two 20 km weeks from Monday 2 Nov, a week without a run (16-22 Nov), then Monday
    23 Nov just after midnight, nothing run yet."""
    for monday in ("2026-11-02", "2026-11-09"):
        day = int(monday[-2:])
        for offset, km in ((0, 6.0), (2, 6.0), (5, 8.0)):
            log(sw, f"2026-11-{day + offset:02d}T07:00", km)
    return sw


def test_a_week_just_begun_has_no_change_yet(rest_week: Any) -> None:
    at = "2026-11-23T00:30"
    week = rest_week("check", "--at", at, "--json").json()["week"]
    assert (week["distance_km"], week["last_week_km"]) == (0.0, 0.0)
    assert week["baseline_km"] is not None
    assert week["change_pct"] is None
    weeks = rest_week("history", "--at", at, "--json").json()["weeks"]
    assert weeks[-1]["current"]
    assert weeks[-1]["change_pct"] is None
    # The finished week without a run is known: 0 km, -100 % on its baseline week.
    assert (weeks[-2]["distance_km"], weeks[-2]["change_pct"]) == (0.0, -100.0)
    assert "-100%" not in rest_week("check", "--at", at).stdout


def test_a_run_this_week_gives_a_change(rest_week: Any) -> None:
    log(rest_week, "2026-11-23T07:00", 5.0)
    week = rest_week("check", "--at", "2026-11-23T20:00", "--json").json()["week"]
    assert week["change_pct"] == pytest.approx(100 * (5.0 / week["baseline_km"] - 1), abs=0.05)
