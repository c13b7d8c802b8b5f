"""Every rule at once: the alerts active at an instant, worst first, and how one key's alert
escalates.

Pure: ``(history, settings, now) -> list[Alert]``. A check, a what-if plan, the report and a
test all go through this one function.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from agent.models import Alert, severity_rank
from agent.rules import pain, progression

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.rules.load import History

RULES = (progression.evaluate, pain.evaluate)


def evaluate(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Every alert the rules raise at ``now`` from the history up to ``now``, worst first."""
    history = history.upto(now)
    alerts = [alert for rule in RULES for alert in rule(history, settings, now)]
    return sorted(alerts, key=lambda alert: (-severity_rank(alert.severity), alert.rule, alert.key))


def rank(alert: Alert) -> tuple[int, int]:
    """The order in which one key's alert escalates: severity, then level within it."""
    return severity_rank(alert.severity), int(alert.data.get("level", 0))
