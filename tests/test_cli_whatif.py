"""``what-if``: the alerts planned runs would raise, by the same rules as ``check``, with the
database file left exactly as it was."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

BASE_WEEKS = (date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26))


def log(sw: Any, when: str, km: float) -> None:
    result = sw("log-run", "--at", when, "--distance", f"{km}km", "--duration", f"{round(km * 6)}m")
    assert result.exit_code == 0, result.stderr


def base(sw: Any, distances: tuple[float, ...] = (8.0, 8.0, 10.0)) -> None:
    for monday in BASE_WEEKS:
        for day, km in zip((1, 3, 6), distances, strict=True):
            log(sw, f"{monday + timedelta(days=day)}T07:00", km)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def comparable(alert: dict[str, Any]) -> tuple[Any, ...]:
    """An alert without what names the run (a planned run has no id yet)."""
    data = {name: value for name, value in alert["data"].items() if name != "run_id"}
    key = alert["key"] if alert["rule"] != "single-run-spike" else "single-run-spike"
    return alert["rule"], alert["severity"], key, sorted(data.items())


def raised_by_logging(sw: Any, planned: list[dict[str, Any]], at: str) -> list[tuple[Any, ...]]:
    """Log the planned runs and check: the alerts that are new or escalated at ``at``."""
    order = ("info", "caution", "warning", "danger")
    before = {a["key"]: a for a in sw("check", "--at", at, "--json").json()["alerts"]}
    for run in planned:
        log(sw, run["started_at"], run["distance_km"])
    after = sw("check", "--at", at, "--json").json()["alerts"]
    return sorted(
        comparable(alert)
        for alert in after
        if alert["key"] not in before
        or order.index(alert["severity"]) > order.index(before[alert["key"]]["severity"])
        or alert["data"].get("level", 0) > before[alert["key"]]["data"].get("level", 0)
    )


@pytest.mark.parametrize(
    "plan",
    [
        ("--week", "tue 8km, thu 10km, sun 18km"),
        ("--week", "tue 9km, thu 9km, sat 9.5km"),
        ("--week", "wed 8km, thu 8km, sun 10km"),
        ("16km",),
        ("9km",),
    ],
)
def test_what_if_matches_logging_the_runs_and_checking(sw: Any, plan: tuple[str, ...]) -> None:
    base(sw)
    result = sw("what-if", *plan, "--at", "2026-11-02T07:00", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    expected = raised_by_logging(sw, data["planned"], data["at"])
    assert sorted(comparable(alert) for alert in data["alerts"]) == expected


def test_a_planned_long_run_is_flagged_before_the_jump(sw: Any) -> None:
    base(sw)
    data = sw("what-if", "--week", "tue 8km, thu 10km, sun 18km", "--at", "2026-11-02T07:00")
    assert data.exit_code == 0, data.stderr
    assert "single-run-spike" in data.stdout
    assert "planned run" in data.stdout
    found = sw(
        "what-if", "--week", "tue 8km, thu 10km, sun 18km", "--at", "2026-11-02T07:00", "--json"
    ).json()
    assert [p["started_at"] for p in found["planned"]] == [
        "2026-11-03T07:00:00+00:00",
        "2026-11-05T07:00:00+00:00",
        "2026-11-08T07:00:00+00:00",
    ]
    severities = {a["rule"]: a["severity"] for a in found["alerts"]}
    assert severities["single-run-spike"] == "warning"
    assert severities["weekly-progression"] == "danger"
    assert severities.get("acwr", "caution") == "caution"
    assert found["week"]["distance_km"] == 36.0
    assert found["week"]["remaining_km"] == 0.0


def test_what_if_within_budget_says_go_ahead(sw: Any) -> None:
    base(sw)
    result = sw("what-if", "8km", "--at", "2026-11-03T07:00")
    assert result.exit_code == 0, result.stderr
    assert "No rule would fire" in result.stdout


def test_what_if_stores_nothing(sw: Any, db: Path) -> None:
    base(sw)
    sw("pain", "2", "--when", "morning", "--at", "2026-11-02T06:00")
    sw("check", "--at", "2026-11-01T20:00")
    stored = sw("alerts", "--json").json()
    before = digest(db)
    for args in (("30km",), ("--week", "tue 8km, thu 10km, sun 18km"), ("5km", "--json")):
        result = sw("what-if", *args, "--at", "2026-11-02T07:00")
        assert result.exit_code == 0, result.stderr
    assert digest(db) == before
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name)) == [db.name]
    assert sw("alerts", "--json").json() == stored


def test_what_if_without_a_database_does_not_create_one(sw: Any, db: Path) -> None:
    result = sw("what-if", "10km", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["phase"] == "warm-up"  # after the planned run: it would start the warm-up
    assert [(a["rule"], a["severity"]) for a in data["alerts"]] == [("no-history", "info")]
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a DISTANCE"),
        (("5km", "--week", "tue 5km"), "give a DISTANCE"),
        (("--week", "someday 5km"), "date 'someday'"),
        (("--week", "tue"), "expected a day and a distance"),
        (("--week", "tue 5 furlongs"), "distance"),
        (("--week", "2026-01-01 5km"), "has passed"),
        (("fivekm",), "distance 'fivekm'"),
    ],
)
def test_what_if_rejects_bad_plans(sw: Any, args: tuple[str, ...], message: str) -> None:
    result = sw("what-if", *args, "--at", "2026-11-02T07:00")
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
