"""A multi-week history built through the real CLI, shared by the report and history tests.

Four steady weeks of 20 km (Tue 6 km, Thu 6 km, Sun 8 km), then a 32 km week (+60 % on the
baseline, over its 22 km cap: danger) whose Sunday run of 14 km is 40 % longer than the
30-day longest, with pain 2 after a run on its Tuesday and 5 during the Sunday run; then one
5 km run in the current week. Times are UTC (the fixture's zone).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

STEADY_WEEKS = (date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26))
OVER_WEEK = date(2026, 11, 2)
CURRENT_WEEK = date(2026, 11, 9)
AT = "2026-11-11T20:00"
DAYS = (1, 3, 6)


def log(sw: Any, when: str, km: float, env: dict[str, str] | None = None) -> int:
    """Log a run at 6:00/km through ``stridewatch log-run``; return its id."""
    result = sw(
        "log-run",
        "--at",
        when,
        "--distance",
        f"{km}km",
        "--duration",
        f"{round(km * 6)}m",
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def pain(sw: Any, score: int, when: str, at: str) -> None:
    result = sw("pain", str(score), "--when", when, "--at", at, "--where", "knee")
    assert result.exit_code == 0, result.stderr


def build(sw: Any) -> None:
    for monday in STEADY_WEEKS:
        for day, km in zip(DAYS, (6.0, 6.0, 8.0), strict=True):
            log(sw, f"{monday + timedelta(days=day)}T07:00", km)
    for day, km in zip(DAYS, (8.0, 10.0, 14.0), strict=True):
        log(sw, f"{OVER_WEEK + timedelta(days=day)}T07:00", km)
    pain(sw, 2, "after", "2026-11-03T09:00")
    pain(sw, 5, "during", "2026-11-08T08:00")
    log(sw, f"{CURRENT_WEEK + timedelta(days=1)}T07:00", 5.0)


def check_json(sw: Any, at: str = AT, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = sw("check", "--at", at, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data
