"""``what-if``: planned runs added to the history and judged by the same rules, before
they are run; and ``--week``'s plan text."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agent import units
from agent.advice.assess import Assessment, assess, load_history
from agent.errors import InputError
from agent.models import Alert, Run
from agent.rules.evaluate import evaluate, rank
from agent.rules.load import History

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store


# A planned run's duration, when the runner has no recent runs to take a pace from: an easy
# 6:00/km, only used by the session-RPE load (planned runs carry no RPE, so it adds 0).
DEFAULT_PACE_S_PER_KM = 360.0


WEEKDAY_NAMES = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}


@dataclass(frozen=True, slots=True)
class WhatIf:
    """What planned runs would raise: the alerts already active before them, the alerts new
    or escalated against the history alone, and the assessment after them."""

    planned: tuple[Run, ...]
    after: Assessment
    alerts: tuple[Alert, ...]
    active: tuple[Alert, ...] = ()


def planned_runs(history: History, plan: Sequence[tuple[datetime, float]]) -> tuple[Run, ...]:
    """Hypothetical runs (ids 0, -1, ...) at the runner's recent median pace."""
    pace = _recent_pace(history)
    runs = []
    for n, (start, metres) in enumerate(sorted(plan)):
        seconds = metres / 1000 * pace
        runs.append(
            Run(
                id=-n,
                started_at=start,
                distance_m=metres,
                moving_s=seconds,
                elapsed_s=seconds,
                source="manual",
                ended_at=start + timedelta(seconds=seconds),
            )
        )
    return tuple(runs)


def _recent_pace(history: History) -> float:
    paces = [run.moving_s / run.distance_km for run in history.runs[-20:] if run.distance_m > 0]
    return statistics.median(paces) if paces else DEFAULT_PACE_S_PER_KM


def what_if(history: History, settings: Settings, planned: Sequence[Run]) -> WhatIf:
    """Evaluate the history plus ``planned`` at each planned run's start, with the same
    rules as ``check``; keep the alerts the plan raises or escalates. Pure, stores nothing."""
    with_plan = history.plus(planned)
    raised: dict[str, Alert] = {}
    for moment in sorted({run.started_at for run in planned}):
        before = {alert.key: alert for alert in evaluate(history, settings, moment)}
        for alert in evaluate(with_plan, settings, moment):
            base, kept = before.get(alert.key), raised.get(alert.key)
            if base is not None and rank(base) >= rank(alert):
                continue
            if kept is None or rank(alert) >= rank(kept):
                raised[alert.key] = alert
    last = max(run.started_at for run in planned)
    alerts = sorted(raised.values(), key=lambda alert: (-rank(alert)[0], alert.rule, alert.key))
    first = min(run.started_at for run in planned)
    active = evaluate(history, settings, first)
    return WhatIf(tuple(planned), assess(with_plan, settings, last), tuple(alerts), tuple(active))


def what_if_from_store(
    store: Store, settings: Settings, plan: Sequence[tuple[datetime, float]]
) -> WhatIf:
    """:func:`what_if` on the stored history up to the last planned run."""
    history = load_history(store, settings, max(start for start, _ in plan))
    return what_if(history, settings, planned_runs(history, plan))


def what_if_at(path: Path, settings: Settings, plan: Sequence[tuple[datetime, float]]) -> WhatIf:
    """:func:`what_if` on the database at ``path``, opened read-only (a missing file is an
    empty history and is not created): the file is left exactly as it was."""
    from agent.store import Store

    if not path.expanduser().exists():
        return what_if(History(), settings, planned_runs(History(), plan))
    with Store.open_read_only(path, busy_timeout_s=settings.database.busy_timeout_s) as store:
        return what_if_from_store(store, settings, plan)


_WEEK_ITEM = re.compile(r"^\s*(\S+)\s+(\S.*?)\s*$")


def parse_week(text: str, settings: Settings, at: datetime) -> list[tuple[datetime, float]]:
    """``"tue 8km, thu 10km, sun 18km"``: each day is the next such day on or after ``at``'s
    local date (or an ISO date), at ``at``'s local time of day. Returns (start, metres)."""
    items = [item for item in text.split(",") if item.strip()]
    if not items:
        raise InputError(f'--week {text!r}: expected runs such as "tue 8km, thu 10km, sun 18km"')
    local = at.astimezone(settings.zone)
    window = settings.date_window()
    plan = []
    for item in items:
        match = _WEEK_ITEM.match(item)
        if match is None:
            raise InputError(
                f"--week {item.strip()!r}: expected a day and a distance, e.g. tue 8km"
            )
        day = _plan_day(match.group(1), local.date(), window)
        metres = units.parse_distance(match.group(2), settings.units)
        start = datetime.combine(day, local.time(), settings.zone)
        plan.append((start.astimezone(at.tzinfo), metres))
    return plan


def _plan_day(token: str, today: date, window: units.DateWindow) -> date:
    name = token.lower()
    if name == "today":
        return today
    if name == "tomorrow":
        return today + timedelta(days=1)
    if name in WEEKDAY_NAMES:
        return today + timedelta(days=(WEEKDAY_NAMES[name] - today.weekday()) % 7)
    day = units.parse_date(token, window)
    if day < today:
        raise InputError(f"--week {token}: that day has passed; plan today or later")
    return day
