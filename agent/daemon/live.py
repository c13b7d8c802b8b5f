"""Live budget alerts during a run: what a runner hears before the jump, not after it.

At the start of a run the daemon reads the history once (run totals, never samples) and
turns the rules' :class:`~agent.rules.allowance.Allowance` into :class:`Threshold` distances
for this run: the week's cap and its escalation steps (``weekly_warn``, ``weekly_alert``,
``weekly_danger``), the single-run limits (``spike_warn``, ``spike_escalate``,
``spike_danger`` x the credited longest run of the past 30 days), the return, plan, pain and
start limits with their escalations, and the heads-up at half of the run's allowance when
that allowance is shorter than the runner's usual run. :class:`LiveWatch` then compares the
growing distance with the next threshold only, so a check costs one comparison.

Pure: no database, no clock. Alert keys are the rules' own keys (``single-run-spike:run:12``,
``weekly-progression:2026-11-16``) with the rules' levels, so a live alert and the nightly
check of the same condition are one stored alert, said once and only escalated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.models import Alert, Severity
from agent.rules.allowance import Allowance, Limit, smallest_run
from agent.rules.limits import SPIKE_SOURCE
from agent.rules.progression import (
    NO_HISTORY,
    PAIN_LIMIT,
    PLAN,
    RETURN,
    SPIKE,
    WEEKLY,
    WEEKLY_SOURCE,
)
from agent.units import (
    budget_json,
    format_against,
    format_budget,
    format_km,
    format_pct,
    km_json,
    pct,
)

if TYPE_CHECKING:
    from agent.config import Settings

HEADS_UP = "heads-up"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A distance into this run (km) past which one alert fires."""

    at_km: float
    rule: str
    key: str
    level: int
    severity: Severity
    limit: Limit | None = None


# The alert rule each run limit raises when a run passes it, and its first severity.
LIMIT_RULES: dict[str, tuple[str, Severity]] = {
    "return": (RETURN, "warning"),
    "pain": (PAIN_LIMIT, "warning"),
    "plan": (PLAN, "caution"),
    "start": (NO_HISTORY, "info"),
}


def thresholds(week: Allowance, settings: Settings, run_ref: str) -> list[Threshold]:
    """Every threshold of one run, nearest first. ``run_ref`` is ``run:<id>``."""
    found = [
        *_spike(week, settings, run_ref),
        *_weekly(week, settings),
        *_limits(week, settings, run_ref),
    ]
    allowance, usual = week.next_run_max_km, week.usual_run_km
    if (
        settings.progression.heads_up
        and allowance is not None
        and usual is not None
        and smallest_run(usual, settings) <= allowance < usual
    ):
        found.append(Threshold(allowance / 2, HEADS_UP, f"{HEADS_UP}:{run_ref}", 0, "caution"))
    return sorted(found, key=lambda t: (t.at_km, t.level))


def _limits(week: Allowance, settings: Settings, run_ref: str) -> list[Threshold]:
    """The return, plan, pain and start limits, each escalating as the spike rule does."""
    p, found = settings.progression, []
    steps = ((1.0, 1), (p.spike_escalate / p.spike_warn, 2), (p.spike_danger / p.spike_warn, 3))
    for limit in week.limits:
        if limit.rule not in LIMIT_RULES:
            continue
        rule, first = LIMIT_RULES[limit.rule]
        for factor, level in steps if limit.km > 0 else ((1.0, 1),):
            severity: Severity = first if level == 1 else "danger" if level == 3 else "warning"
            if first == "info":
                severity = "info"
            found.append(
                Threshold(limit.km * factor, rule, f"{rule}:{run_ref}", level, severity, limit)
            )
    return found


def _spike(week: Allowance, settings: Settings, run_ref: str) -> list[Threshold]:
    longest = week.longest_30d_km
    if not longest or week.limit("single-run") is None:
        return []
    p = settings.progression
    steps = ((p.spike_warn, 1), (p.spike_escalate, 2), (p.spike_danger, 3))
    key = f"{SPIKE}:{run_ref}"
    return [
        Threshold(longest * ratio, SPIKE, key, level, _spike_severity(week, level))
        for ratio, level in steps
    ]


def _spike_severity(week: Allowance, level: int) -> Severity:
    if week.phase == "warm-up":
        return "info"
    return "danger" if level == 3 else "warning"


def _weekly(week: Allowance, settings: Settings) -> list[Threshold]:
    """The week's cap, then the +15 % and +30 % steps on the baseline week (the rules'
    levels 1-3), as distances into this run."""
    if week.cap_km is None:
        return []
    p = settings.progression
    base = week.baseline_km or week.cap_km / (1 + p.weekly_warn)
    totals: tuple[tuple[float, int], ...] = (
        (week.cap_km, 1),
        (base * (1 + p.weekly_alert), 2),
        (base * (1 + p.weekly_danger), 3),
    )
    if week.warm_up_cap:  # no baseline week yet: only the warm-up's guess, for information
        totals = totals[:1]
    key = f"{WEEKLY}:{week.week_start.isoformat()}"
    return [
        Threshold(
            max(0.0, total - week.distance_km), WEEKLY, key, level, _weekly_severity(week, level)
        )
        for total, level in totals
        if total >= week.cap_km
    ]


def _weekly_severity(week: Allowance, level: int) -> Severity:
    """As the weekly rule grades it: over the warm-up's guess only informs."""
    if week.warm_up_cap:
        return "info"
    return "danger" if level == 3 else "warning"


class LiveWatch:
    """One run's thresholds; :meth:`check` returns the alerts its distance has just passed."""

    def __init__(self, week: Allowance, settings: Settings, run_id: int) -> None:
        self.week = week
        self.settings = settings
        self.run_id = run_id
        self.pending = thresholds(week, settings, f"run:{run_id}")

    def check(self, distance_m: float) -> list[Alert]:
        """Alerts for thresholds passed since the last check: each fires once; several
        levels of one key passed at once give only the highest."""
        km = distance_m / 1000
        if not self.pending or km <= self.pending[0].at_km:
            return []
        passed: dict[str, Threshold] = {}
        while self.pending and km > self.pending[0].at_km:
            threshold = self.pending.pop(0)
            kept = passed.get(threshold.key)
            if kept is None or threshold.level > kept.level:
                passed[threshold.key] = threshold
        return [self._alert(threshold, km) for threshold in passed.values()]

    def _alert(self, threshold: Threshold, km: float) -> Alert:
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "distance_km": round(km, 3),
            "threshold_km": round(threshold.at_km, 3),
            "level": threshold.level,
            "live": True,
        }
        if threshold.rule == SPIKE:
            message, extra = self._spike_message(threshold, km)
        elif threshold.rule == WEEKLY:
            message, extra = self._weekly_message(threshold, km)
        elif threshold.limit is not None:
            message, extra = self._limit_message(threshold, threshold.limit, km)
        else:
            message, extra = self._heads_up_message(threshold)
        return Alert(threshold.rule, threshold.severity, message, threshold.key, data | extra)

    def _dist(self, km: float) -> str:
        return format_km(km, self.settings.units)

    def _spike_message(self, threshold: Threshold, km: float) -> tuple[str, dict[str, Any]]:
        longest = self.week.longest_30d_km or 0.0
        p = self.settings.progression
        ratio = (p.spike_warn, p.spike_escalate, p.spike_danger)[threshold.level - 1]
        advice = {
            1: "Consider turning back.",
            2: "Turn back now.",
            3: f"The injury risk more than doubles here ({SPIKE_SOURCE}): walk back.",
        }[threshold.level]
        message = (
            f"{self._dist(km)}: longer than {ratio:g}x your longest run this month "
            f"({self._dist(longest)}). {advice}"
        )
        extra = {
            "longest_30d_km": round(longest, 3),
            "limit_km": budget_json(longest * p.spike_warn),
            "ratio": round(km / longest, 3) if longest else None,
        }
        return message, extra

    def _weekly_message(self, threshold: Threshold, km: float) -> tuple[str, dict[str, Any]]:
        week, base = self.week, self.week.baseline_km
        total = week.distance_km + km
        change = total / base - 1 if base else None
        held = " (held at the baseline while pain settles)" if week.held else ""
        advice = {1: "Consider turning back.", 2: "Turn back now.", 3: "Walk back."}
        done, cap = format_against(total, week.cap_km or 0.0, self.settings.units)
        if change is not None and base:
            against = f"{format_pct(change)} on its {self._dist(base)} baseline week"
        else:
            against = f"the {week.cap_basis or 'warm-up guess'}, not yet a baseline week"
        message = (
            f"{self._dist(km)}: this run takes the week to {done}, over its {cap} cap{held}: "
            f"{against} ({WEEKLY_SOURCE}). {advice[threshold.level]}"
        )
        extra = {
            "week_start": week.week_start.isoformat(),
            "week_km": km_json(total),
            "baseline_km": km_json(base),
            "cap_km": budget_json(week.cap_km),
            "change_pct": None if change is None else pct(change),
        }
        return message, extra

    def _limit_message(
        self, threshold: Threshold, limit: Limit, km: float
    ) -> tuple[str, dict[str, Any]]:
        advice = {1: "Consider turning back.", 2: "Turn back now.", 3: "Walk back."}
        message = (
            f"{self._dist(km)}: past today's {format_budget(limit.km, self.settings.units)} "
            f"limit ({limit.reason}; {limit.source}). {advice[threshold.level]}"
        )
        return message, {"limit": limit.rule, "limit_km": budget_json(limit.km)}

    def _heads_up_message(self, threshold: Threshold) -> tuple[str, dict[str, Any]]:
        week = self.week
        allowance = week.next_run_max_km or threshold.at_km * 2
        binding = week.binding
        why = binding.reason if binding is not None else ""
        message = (
            f"{self._dist(threshold.at_km)}: turn around now to stay within "
            f"{format_budget(allowance, self.settings.units)} today ({why})."
        )
        return message, {
            "allowance_km": budget_json(allowance),
            "limit": None if binding is None else binding.rule,
        }
