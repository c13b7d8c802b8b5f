"""An alert's ``data`` in words, for the report: the numbers behind it as short phrases in
the runner's unit and time zone, each written as the alert's message writes it (a distance
run to the nearest 0.1, a cap or limit rounded down, a change to one decimal), and nothing
the message already says said again."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from agent import units
from agent.models import Alert
from agent.rules.allowance import LIMIT_LABELS

if TYPE_CHECKING:
    from agent.config import Settings


# -- alert data in words -------------------------------------------------------------------

# The keys of an alert's ``data`` a reader needs no words for: ids, and the level that orders
# escalations within one severity.
QUIET_KEYS = frozenset({"level", "pain_id", "key"})
PAIN_WHEN = {"before": "before a run", "during": "during a run", "after": "after a run"}
HELD = "held at the baseline while pain settles"
# How far a number in an alert's ``data`` may be from the one its message was written from:
# the rules store km to 3 decimals, percentages to 1, ratios to 3 and means to 2.
KM_EPS = 0.0005
PCT_EPS = 0.05
RATIO_EPS = 0.0005
MEAN_EPS = 0.005


def alert_facts(alert: Alert, settings: Settings) -> list[str]:
    """The numbers behind ``alert`` (its ``data``, distances in km) as short phrases in the
    runner's unit and time zone, in a fixed order: ``["34.0 mi", "cap 15.2 mi, held at the
    baseline while pain settles", "left 0.0 mi"]``. Each number reads as the alert's message
    writes it (:meth:`Said.number`). Unknown values say so; keys without a phrase of their
    own read ``key: value``."""
    said = Said(alert.data, settings, alert.message)
    facts = []
    for key in sorted(alert.data, key=lambda key: (FACT_ORDER.get(key, len(FACT_ORDER)), key)):
        value = alert.data[key]
        if key in QUIET_KEYS or (key == "held" and not value):
            continue
        phrase = FACTS.get(key)
        facts.append(phrase(value, said) if phrase else _plain(key, value))
    return [fact for fact in facts if fact]


def new_facts(alert: Alert, settings: Settings) -> list[str]:
    """:func:`alert_facts` less those whose every number the alert's message already gives
    (the message says "+39% on its 24.5 km baseline week": no "baseline week 24.5 km")."""
    return [
        fact
        for fact in alert_facts(alert, settings)
        if not _told(NUMBER.findall(fact), alert.message)
    ]


# A number as phrases and messages write them: 24.5, 08:20, 5 (of 5/10).
NUMBER = re.compile(r"\d+(?:[.:]\d+)?")


def _told(numbers: Sequence[str], message: str) -> bool:
    """Whether ``message`` gives each of ``numbers`` (none: it does not)."""
    return bool(numbers) and all(_says(message, number) for number in numbers)


def _says(message: str, text: str) -> bool:
    """Whether ``message`` holds ``text`` (``18.2 mi``, ``+77%``, ``1.53``) as a whole number,
    not as part of a longer one (``118.2 mi``, ``1.534``); spaces match any space."""
    pattern = r"\s".join(re.escape(part) for part in text.split())
    return re.search(rf"(?<![\d.:]){pattern}(?![\d]|[.:]\d)", message) is not None


Form: TypeAlias = "Callable[[float], str]"


@dataclass(frozen=True, slots=True)
class Said:
    """What the phrases of one alert's facts read: its ``data``, the settings, and its
    ``message``, whose numbers the phrases write the same way."""

    data: Mapping[str, Any]
    settings: Settings
    message: str

    def number(self, value: float, form: Form, eps: float, *others: Form) -> str:
        """``value`` written by ``form``, as the message writes it.

        The message was written from the exact value, ``data`` holds it rounded (to within
        ``eps``): where the two fall either side of a rounding step (``data`` 76.5 % for a
        message's +77 %), the neighbour the message gives is the one written. ``others``
        are the forms a message may use instead (a limit to the nearest 0.1 where the rule
        for limits is down): used only when the message gives the number in one of them."""
        for way in (form, *others):
            candidates = dict.fromkeys(way(value + step) for step in (0.0, -eps, eps))
            for text in candidates:
                if _says(self.message, text):
                    return text
        return form(value)

    def distance(self, km: float, *, budget: bool = False) -> str:
        """A distance held in km in the runner's unit: one run or week done to the nearest
        0.1, a budget (cap, limit, what is left) rounded down, as the messages write them."""
        unit = self.settings.units

        def done(km: float) -> str:
            return units.format_km(km, unit)

        def down(km: float) -> str:
            return units.format_budget(km, unit)

        first, other = (down, done) if budget else (done, down)
        return self.number(km, first, KM_EPS, other)


def _plain(key: str, value: Any) -> str:
    shown = "not known" if value is None else value
    return f"{key.replace('_', ' ')}: {shown}"


FactPhrase: TypeAlias = "Callable[[Any, Said], str]"


def _fact_km(label: str, budget: bool = False) -> FactPhrase:
    """A phrase for a distance in km: ``"{label} 15.2 mi"`` (rounded down for a budget)."""

    def phrase(value: Any, said: Said) -> str:
        if value is None:
            return f"{label} not known yet".strip()
        return f"{label} {said.distance(value, budget=budget)}".strip()

    return phrase


def _fact_ratio(template: str, digits: int = 2) -> FactPhrase:
    """A phrase for a ratio or mean: ``template`` holding ``{}`` for the number."""

    def phrase(value: Any, said: Said) -> str:
        eps = MEAN_EPS if digits == 1 else RATIO_EPS
        return template.format(said.number(value, lambda v: f"{v:.{digits}f}", eps))

    return phrase


def _fact_change(value: Any, said: Said) -> str:
    if value is None:
        return ""

    def one_decimal(v: float) -> str:
        return units.format_pct(v / 100)

    def whole(v: float) -> str:
        return f"{v:+.0f}%"

    return said.number(value, one_decimal, PCT_EPS, whole) + " on the baseline week"


def _fact_when(value: Any, said: Said) -> str:
    moment = datetime.fromisoformat(value).astimezone(said.settings.zone)
    return moment.strftime("%a %d %b %H:%M")


def _fact_load(value: Any, said: Said) -> str:
    """A daily load of the acute:chronic rule: a distance for the distance load."""
    if said.data.get("load") == "distance":
        return said.distance(value) + " a day"
    return said.number(value, lambda v: f"{v:.1f}", RATIO_EPS) + " a day"


def _fact_limit(value: Any, said: Said) -> str:
    if isinstance(value, str) and said.data.get("limit_km") == 0:
        return "limit: rest"  # the label ("no longer than the run that hurt") would not be
    if isinstance(value, str):
        return f"limit set by {LIMIT_LABELS.get(value, value)}"
    return f"caution above {value:g}"


def _fact_usual(value: Any, said: Said) -> str:
    return "usual pain not known yet" if value is None else f"usual pain {value:g}/10"


def _fact_cap(value: Any, said: Said) -> str:
    held = f", {HELD}" if said.data.get("held") else ""
    return _fact_km("cap", budget=True)(value, said) + held


FACTS: dict[str, FactPhrase] = {
    "week_start": lambda v, a: f"week of {date.fromisoformat(v):%a %d %b}",
    "run_id": lambda v, a: "" if v is None else f"run {v}",
    "distance_km": _fact_km(""),
    "change_pct": _fact_change,
    "baseline_km": _fact_km("baseline week"),
    "cap_km": _fact_cap,
    "held": lambda v, a: "" if "cap_km" in a.data else f"cap {HELD}",
    "remaining_km": _fact_km("left", budget=True),
    "usual_run_km": _fact_km("usual run"),
    "largest_run_km": _fact_km("largest run that fits", budget=True),
    "longest_30d_km": _fact_km("longest of the 30 days before"),
    "ratio": _fact_ratio("{}x that longest run"),
    "limit": _fact_limit,
    "limit_km": _fact_km("limit", budget=True),
    "target_high_km": _fact_km("plan range up to", budget=True),
    "plan_week": lambda v, a: f"plan week {v}",
    "rpe": lambda v, a: "RPE not logged" if v is None else f"RPE {v}/10",
    "score": lambda v, a: f"pain {v}/10",
    "when": lambda v, a: PAIN_WHEN.get(v, f"in the {v}"),
    "at": _fact_when,
    "caution": lambda v, a: f"caution above {v}/10",
    "stop": lambda v, a: f"stop above {v}/10",
    "severe": lambda v, a: f"severe from {v}/10",
    "usual_pain": _fact_usual,
    "baseline_score": _fact_usual,
    "return_window_h": lambda v, a: f"to settle within {v:g} h",
    "settled_at": lambda v, a: "settled " + _fact_when(v, a),
    "mornings": lambda v, a: "mornings " + ", ".join(f"{n}/10" for n in v),
    "week_mean": _fact_ratio("mean {}/10 this week", digits=1),
    "last_week_mean": _fact_ratio("{}/10 the week before", digits=1),
    "acwr": _fact_ratio("ratio {}"),
    "acute": lambda v, a: "7-day load " + _fact_load(v, a),
    "chronic": lambda v, a: "28-day load " + _fact_load(v, a),
    "monotony": _fact_ratio("monotony {}"),
    "strain": lambda v, a: "strain " + a.number(v, lambda v: f"{v:.0f}", RATIO_EPS),
    "load": lambda v, a: f"load counted as {v}",
}
# The order phrases are read in: what it is about, then the numbers, then the thresholds.
FACT_ORDER = {key: n for n, key in enumerate(FACTS)}
