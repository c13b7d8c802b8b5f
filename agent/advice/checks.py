"""The library behind ``check``, ``summary``, ``alerts``, ``what-if`` and ``plan``: one
import for the commands and the daemon, over the modules that do the work.

- :mod:`agent.advice.assess`: the history from the store (run totals, never samples) run
  through the pure load model and rules; what ``check`` raises; the verdict after a run.
- :mod:`agent.advice.what_if`: planned runs judged before they are run.
- :mod:`agent.advice.plans`: starting a graded return, and where it stands.
- :mod:`agent.advice.json_out`: the JSON the commands print.

The CLI only parses and formats; the daemon calls :func:`check` the same way.
"""

from __future__ import annotations

from agent.advice.assess import (
    HISTORY_WINDOW,
    Assessment,
    Summary,
    assess,
    check,
    load_history,
    summary,
    verdict,
)
from agent.advice.json_out import (
    alert_json,
    allowance_json,
    check_json,
    data_json,
    limit_json,
    plan_json,
    plan_status_json,
    stored_alert_json,
    summary_json,
    verdict_json,
    week_json,
    what_if_json,
)
from agent.advice.plans import MAX_USUAL_RUN_KM, parse_range, plan_status, start_plan
from agent.advice.what_if import WhatIf, parse_week, planned_runs, what_if, what_if_at

__all__ = [
    "HISTORY_WINDOW",
    "MAX_USUAL_RUN_KM",
    "Assessment",
    "Summary",
    "WhatIf",
    "alert_json",
    "allowance_json",
    "assess",
    "check",
    "check_json",
    "data_json",
    "limit_json",
    "load_history",
    "parse_range",
    "parse_week",
    "plan_json",
    "plan_status",
    "plan_status_json",
    "planned_runs",
    "start_plan",
    "stored_alert_json",
    "summary",
    "summary_json",
    "verdict",
    "verdict_json",
    "week_json",
    "what_if",
    "what_if_at",
    "what_if_json",
]
