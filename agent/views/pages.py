"""What the report's two pages hold: twelve weeks print on two pages however much was
logged, so page one names the few most serious active alerts and the details list the
latest runs, the alerts grouped by rule and the latest pain notes, each with a pointer to
the command that has them all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from agent.models import Alert, PainReport, Run
from agent.rules.evaluate import rank
from agent.views.overview import Overview, PeriodAlert, RunRow

if TYPE_CHECKING:
    from agent.config import Settings


# Page one names the few most serious active alerts, one per rule and per pain report; the
# details count the rest, by rule. Three leave page one room for its chart.
GLANCE_ALERTS = 3
# The pain notes the details quote, the latest first, and how much of each (about a line):
# `stridewatch pain-log` holds them all, whole.
PAIN_NOTES = 5
NOTE_CHARS = 72
# The runs the details list one per row (one 8 pt line each), the latest. Fifteen (three
# weeks of five runs) is what page two of Letter holds, with about two lines to spare, besides
# the alerts, pain notes and sources of twelve crowded weeks (five runs a week, pain every
# day, alerts by the dozen: tests/test_report_print.py); seventeen spill onto a third page.
# `stridewatch runs` lists them all.
RUN_ROWS = 15
WEEKDAY_LETTERS = "MTWTFSS"


def _latest(alert: Alert) -> str:
    """When an alert's condition arose, as its data says, for ordering (ISO text)."""
    return str(alert.data.get("at") or alert.data.get("week_start") or "")


def glance_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """The active alerts page one says in words: the most serious (the latest of equals),
    one per rule and one per pain report (a pain report above the runner's usual and above
    the caution level is one story), at most :data:`GLANCE_ALERTS`."""
    chosen: list[Alert] = []
    rules: set[str] = set()
    reports: set[object] = set()
    for alert in sorted(alerts, key=lambda alert: (rank(alert), _latest(alert)), reverse=True):
        report = alert.data.get("pain_id")
        if alert.rule in rules or (report is not None and report in reports):
            continue
        chosen.append(alert)
        rules.add(alert.rule)
        reports.add(report)
        if len(chosen) == GLANCE_ALERTS:
            break
    return chosen


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """One rule's alerts in the weeks shown: the most serious (``head``, the latest of
    equals) said in full, the others counted by the week they were raised in."""

    head: PeriodAlert
    others: tuple[PeriodAlert, ...]

    @property
    def active(self) -> int:
        return sum(item.active for item in (self.head, *self.others))

    @property
    def weeks(self) -> list[tuple[date, int]]:
        """(week, how many of the others were raised in it), oldest first."""
        counts: dict[date, int] = {}
        for item in sorted(self.others, key=lambda item: item.week):
            counts[item.week] = counts.get(item.week, 0) + 1
        return list(counts.items())


def alert_groups(alerts: Sequence[PeriodAlert]) -> list[AlertGroup]:
    """The period's alerts, one group per rule, the most serious group first."""
    by_rule: dict[str, list[PeriodAlert]] = {}
    for item in alerts:
        by_rule.setdefault(item.alert.rule, []).append(item)

    def weight(item: PeriodAlert) -> tuple[tuple[int, int], bool, date, str]:
        return rank(item.alert), item.active, item.week, _latest(item.alert)

    groups = []
    for items in by_rule.values():
        items.sort(key=weight, reverse=True)
        groups.append(AlertGroup(items[0], tuple(items[1:])))
    return sorted(groups, key=lambda group: weight(group.head), reverse=True)


def pain_notes(view: Overview) -> tuple[list[PainReport], int]:
    """The pain reports the report quotes, the latest first, at most :data:`PAIN_NOTES`, and
    how many there are: those with a note, or with no runs to chart (``empty_message``)
    every report."""
    quoted = [report for report in view.pain if report.note or view.empty_message]
    return quoted[::-1][:PAIN_NOTES], len(quoted)


def clip(text: str, chars: int = NOTE_CHARS) -> str:
    """``text`` cut at a word before ``chars``, with an ellipsis (about a printed line)."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    return text[: chars - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def rest_words(reason: str) -> tuple[str, str]:
    """A reason to rest as its head word(s) and the rest: ``rest day: the plan asks ...``
    is ``("rest day", "the plan asks ...")``, so "rest" is not said twice; a reason that
    does not start with it (``the plan's 3 runs this week are done: ...``) is the rest."""
    head, colon, tail = reason.partition(": ")
    if colon and head.startswith("rest"):
        return head, tail
    return "rest", reason


def weekday_letters(settings: Settings) -> list[str]:
    """The initials of the week's days from its first (``M T W T F S S``)."""
    return [WEEKDAY_LETTERS[(settings.first_weekday + n) % 7] for n in range(7)]


def latest_runs(view: Overview) -> tuple[list[RunRow], int]:
    """The runs the details list, oldest first: the latest :data:`RUN_ROWS` of the weeks
    shown, and how many earlier runs of those weeks are left out."""
    rows = list(view.run_rows)
    return rows[-RUN_ROWS:], max(0, len(rows) - RUN_ROWS)


def week_runs(rows: Sequence[RunRow], longest: Run | None) -> list[RunRow]:
    """The runs a week's row names: its longest and any other over its limit, in order."""
    return [row for row in rows if row.run == longest or row.over_limit]
