"""What the daemon says, and making sure it gets said: store first, notify, mark delivered.

Every alert, nightly summary and pain check-in is written to the database before a
notification is attempted, and marked delivered only when the notification call succeeded
(:class:`~agent.daemon.notify.Notifier` reports an unreachable server and plyer's failures). What
did not go out stays undelivered and is retried by the next job. Quiet hours hold everything
but live alerts during a run; the next job after them sends what was held. Deduplication is
by key: the store keeps one alert per key and only escalations are said again; a day has one
summary and a check-in one key.

Each notification carries an urgency and an icon by severity (a danger is critical and stays
on screen until dismissed), and *replaces* the earlier one of its slot on screen instead of
stacking: one slot per run for its live alerts (alerts passed in the same check become one
notification, the most severe first), one per alert key otherwise. Only something as serious
takes the place of what a slot shows: a later, less serious alert joins it, under the more
serious ones it would otherwise hide. A check-in offers buttons (0-10, "later") where the
server has them, and a button pressed goes into the pain log for the run it asked about
(:meth:`Dispatcher.answer`).

The messages and the timetable's jobs (:class:`~agent.daemon.jobs.DaemonJobs`) are in
:mod:`agent.daemon.jobs`. Over 400 lines: :class:`Dispatcher` is one queue (store, show,
speak, mark, retry, answer) whose steps share what is on screen and what was said.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from agent.advice.checks import verdict
from agent.daemon.live import HEADS_UP
from agent.daemon.notify import DISPLAY_S, Actions, Delivery, Notifier, Urgency, in_quiet_hours
from agent.errors import StridewatchError
from agent.models import SEVERITIES, Alert, PainWhen
from agent.rules.progression import SPIKE, WEEKLY
from agent.store import Outgoing, OutgoingKind

if TYPE_CHECKING:
    from agent.clock import Clock
    from agent.config import Settings
    from agent.daemon.speech import Speaker
    from agent.store import Store

K = TypeVar("K")
T = TypeVar("T")
log = logging.getLogger("stridewatch.delivery")

# Undelivered notifications older than this are not retried: a summary or a check-in two
# days late says nothing useful, and a first daemon start must not replay every alert that
# `stridewatch check` ever stored.
RETRY_WINDOW = timedelta(days=2)

LOW_BATTERY = "low-battery"
AFTER_RUN = "after:run:"  # an after-run check-in's key: after:run:<run id>

# Urgency by severity (the notification spec's hint): a danger may stay on screen until
# dismissed and pass do-not-disturb, a warning is an ordinary notification, the rest may
# wait. A check-in asks for an answer; a summary can wait.
URGENCY: dict[str, Urgency] = {
    "danger": Urgency.CRITICAL,
    "warning": Urgency.NORMAL,
    "caution": Urgency.LOW,
    "info": Urgency.LOW,
    "checkin": Urgency.NORMAL,
    "summary": Urgency.LOW,
}
# Icon names from the freedesktop Icon Naming Specification, which every icon theme has.
ICONS = {
    "danger": "dialog-error",
    "warning": "dialog-warning",
    "caution": "dialog-information",
    "info": "dialog-information",
    "checkin": "dialog-question",
    "summary": "x-office-calendar",
}
# What stays on screen until dismissed (display 0) rather than DISPLAY_S seconds: a danger,
# until the runner has seen it, and a check-in, until it is answered.
UNTIL_DISMISSED = frozenset({"danger", "checkin"})
# A check-in's buttons where the server shows them: a score from 0 ("no pain") to 10, or
# "later". The keys come back in ActionInvoked.
LATER = "later"
CHECKIN_ACTIONS: tuple[tuple[str, str], ...] = (
    ("0", "No pain"),
    *((str(score), str(score)) for score in range(1, 11)),
    (LATER, "Later"),
)
# How many slots, check-ins asked and "later"s the dispatcher remembers (a few a day): the
# oldest are forgotten, so a daemon running for months holds no more than this.
REMEMBERED = 64

TITLES = {
    SPIKE: "Longer than your longest run",
    WEEKLY: "Over this week's cap",
    HEADS_UP: "Turn-around point",
    "return-after-break": "Past your return after a break",
    "return-plan": "Past your return plan's run",
    "pain-limit": "Longer than the run that hurt",
    "no-history": "Past a graded start",
    "pain-during": "Pain during the run",
    "pain-level": "Pain reported",
    "pain-baseline": "Pain above your baseline",
    "pain-trend": "Pain rising",
    "acwr": "Training load rising",
    "monotony": "Training load too even",
    LOW_BATTERY: "Sensor battery low",
    "synced": "Run synced",
}


class StoreAccess(Protocol):
    """Runs a function on the thread that owns the store (``RecordingWriter``)."""

    async def call(self, func: Callable[[Store], T]) -> T: ...


@dataclass(frozen=True, slots=True)
class Note:
    """One notification as the desktop shows it: about ``item`` (the first, most severe, of
    the items it says), replacing the notification ``replaces`` (0: none), with ``actions``
    as buttons where the server has them, on screen ``display_s`` seconds (0: until
    dismissed)."""

    item: Outgoing
    title: str
    body: str
    urgency: Urgency
    icon: str
    replaces: int = 0
    actions: Actions = ()
    display_s: int = DISPLAY_S


class Sender(Protocol):
    """Shows one notification; never raises."""

    async def deliver(self, note: Note) -> Delivery: ...


class DesktopSender:
    """The daemon's sender: a desktop notification through :class:`Notifier`."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def deliver(self, note: Note) -> Delivery:
        return await self.notifier.send(
            note.title,
            note.body,
            urgency=note.urgency,
            icon=note.icon,
            replaces_id=note.replaces,
            actions=note.actions,
            display_s=note.display_s,
        )


@dataclass(frozen=True, slots=True)
class Shown:
    """One notification attempt, for whoever watches the daemon (the demo prints these)."""

    item: Outgoing
    title: str
    delivery: Delivery
    live: bool


@dataclass(frozen=True, slots=True)
class RunRecorded:
    """A run the daemon closed and stored."""

    run_id: int
    started_at: datetime
    ended_at: datetime
    distance_m: float
    moving_s: float


Event = Shown | RunRecorded
Listener = Callable[[Event], None]


def title_of(item: Outgoing) -> str:
    if item.kind == "summary":
        return "Tonight's summary"
    if item.kind == "checkin":
        return "Pain check-in"
    if item.rule == WEEKLY and item.severity == "caution":
        return "Nearly at this week's cap"
    title = TITLES.get(item.rule or "")
    return title or f"{(item.severity or 'info').capitalize()}: {item.rule}"


def _level(item: Outgoing) -> str:
    """The key of :data:`URGENCY` and :data:`ICONS` for ``item``."""
    return (item.severity or "info") if item.kind == "alert" else item.kind


def _rank(item: Outgoing) -> int:
    return SEVERITIES.index(item.severity) if item.severity in SEVERITIES else 0


@dataclass(frozen=True, slots=True)
class OnScreen:
    """What one slot's last notification shows: the server's id for it and the items it
    says, most severe first."""

    id: int
    items: tuple[Outgoing, ...]


def on_screen_with(shown: OnScreen | None, items: Sequence[Outgoing]) -> list[Outgoing]:
    """What a slot's next notification says when it shows ``items`` (most severe first):
    those, under the earlier items of the slot that are more severe than all of them, or as
    severe and from another rule. The same rule's next alert takes its place (an escalation:
    1.1x, then 1.3x); an alert never hides one of another rule as serious or more, it joins
    it (a spike's danger stays when the week's cap is passed too)."""
    new = {(item.kind, item.ref) for item in items}
    rules = {item.rule for item in items}
    top = max(_rank(item) for item in items)
    kept = [
        item
        for item in (shown.items if shown else ())
        if (item.kind, item.ref) not in new
        and (_rank(item) > top or (_rank(item) == top and item.rule not in rules))
    ]
    return sorted([*items, *kept], key=_rank, reverse=True)  # the newest first of equals


def _remember(found: dict[K, T], key: K, value: T) -> None:
    """``found[key] = value``, forgetting the oldest beyond :data:`REMEMBERED`."""
    found.pop(key, None)
    found[key] = value
    while len(found) > REMEMBERED:
        del found[next(iter(found))]


class Dispatcher:
    """Stores, sends and marks notifications; holds the non-live ones in quiet hours.

    It remembers the server's id of the last notification in each slot (a run's live
    alerts, an alert key, a summary, a check-in) and has the next one of the slot replace
    it; and which check-ins were asked with buttons, to take their answers. ``speaker``
    also says each live alert (``notifications.speak``)."""

    def __init__(
        self,
        settings: Settings,
        store: StoreAccess,
        sender: Sender,
        clock: Clock,
        listener: Listener | None = None,
        *,
        speaker: Speaker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sender = sender
        self.clock = clock
        self.listener = listener
        self.speaker = speaker
        self._failure: str | None = None
        # One notification at a time: a retry must not resend what a live alert is sending.
        self._lock = asyncio.Lock()
        self._screen: dict[str, OnScreen] = {}  # slot -> its last notification
        self._slots: dict[tuple[str, str], str] = {}  # (kind, ref) -> slot, for retries
        self._asked: dict[int, Outgoing] = {}  # the server's id -> the check-in it shows
        self._later: dict[str, tuple[Outgoing, datetime]] = {}  # check-in key -> ask again at

    def quiet(self, at: datetime) -> bool:
        n = self.settings.notifications
        return in_quiet_hours(at.astimezone(self.settings.zone).time(), n.quiet_start, n.quiet_end)

    async def live(
        self, alert: Alert, *, run_id: int, distance_m: float, at: datetime | None = None
    ) -> Shown | None:
        """Store a live alert (raised ``at``, default now) and show it at once, quiet hours
        or not. None when its key was already said at this level."""
        shown = await self.live_all([alert], run_id=run_id, distance_m=distance_m, at=at)
        return shown[0] if shown else None

    async def live_all(
        self,
        alerts: Sequence[Alert],
        *,
        run_id: int,
        distance_m: float,
        at: datetime | None = None,
    ) -> list[Shown]:
        """Store the live alerts of run ``run_id`` raised together (``at``, default now, at
        ``distance_m`` metres) and show those not already said at their level at once,
        quiet hours or not: one notification, the most severe first, replacing the run's
        previous one. One :class:`Shown` per alert shown."""
        at = at or self.clock.wall()
        async with self._lock:
            items = []
            for alert in alerts:
                item = await self._record(alert, at, run_id, distance_m)
                if item is not None:
                    _remember(self._slots, (item.kind, item.ref), f"run:{run_id}")
                    items.append(item)
            if not items:
                return []
            items.sort(key=_rank, reverse=True)
            if self.speaker is not None:
                for item in items:
                    self.speaker.say(item.message)
            return await self._send(items, live=True)

    async def _record(
        self, alert: Alert, at: datetime, run_id: int | None, distance_m: float | None
    ) -> Outgoing | None:
        """Store ``alert``; None when its key was already said at this level."""
        alert_id = await self.store.call(
            lambda s: s.record_live_alert(
                alert, raised_at=at, run_id=run_id, at_distance_m=distance_m
            )
        )
        if alert_id is None:
            log.debug("%s: already said at this level", alert.key)
            return None
        return Outgoing("alert", str(alert_id), at, alert.severity, alert.rule, alert.message)

    async def notice(
        self, alert: Alert, *, at: datetime | None = None, run_id: int | None = None
    ) -> Shown | None:
        """Store an alert that is not about a run in progress (a sensor's low battery, a
        synced run ``run_id``) and show it unless it is quiet hours; held ones go out with
        the next retry. None when its key was already said."""
        at = at or self.clock.wall()
        async with self._lock:
            item = await self._record(alert, at, run_id, None)
            if item is None:
                return None
            _remember(self._slots, (item.kind, item.ref), f"alert:{alert.key}")
            if self.quiet(at):
                return None
            [shown] = await self._send([item])
            return shown

    async def _send(self, items: list[Outgoing], *, live: bool = False) -> list[Shown]:
        """Show stored items (most severe first) as one notification in the first one's
        slot, with what the slot shows that is more severe; mark them delivered if that
        worked."""
        slot = self._slot(items[0])
        screen = self._screen.get(slot)
        lines = on_screen_with(screen, items)
        note = self._note(lines, screen.id if screen else 0)
        delivery = await self.sender.deliver(note)
        if delivery.delivered:
            at = self.clock.wall()
            refs = [(item.kind, item.ref) for item in items]
            await self.store.call(lambda s: _mark_delivered(s, refs, at))
            self._shown_as(slot, note, delivery.id, lines)
            for item in items:
                log.info("notified: %s: %s", title_of(item), item.message)
            self._failure = None
        else:
            # One warning per cause, not one per retry: the retries go on quietly.
            level = logging.DEBUG if delivery.detail == self._failure else logging.WARNING
            log.log(
                level,
                "not delivered (%s): %s; kept, retrying every %g s",
                delivery.detail,
                note.title,
                self.settings.notifications.retry_interval_s,
            )
            self._failure = delivery.detail
        shown = [Shown(item, title_of(item), delivery, live) for item in items]
        if self.listener is not None:
            for event in shown:
                self.listener(event)
        return shown

    def _note(self, lines: list[Outgoing], replaces: int) -> Note:
        """The notification saying ``lines`` (most severe first), in the first's urgency."""
        head = lines[0]
        level = _level(head)
        return Note(
            head,
            title_of(head),
            "\n".join(item.message for item in lines),
            URGENCY[level],
            ICONS[level],
            replaces=replaces,
            actions=CHECKIN_ACTIONS if head.kind == "checkin" else (),
            display_s=0 if level in UNTIL_DISMISSED else DISPLAY_S,
        )

    def _slot(self, item: Outgoing) -> str:
        return self._slots.get((item.kind, item.ref), f"{item.kind}:{item.ref}")

    def _shown_as(
        self, slot: str, note: Note, shown_id: int | None, lines: Sequence[Outgoing]
    ) -> None:
        """Remember the server's id for ``note`` and what it says (None: shown without an
        id, so the next one of the slot is a new notification, and this one stays)."""
        if shown_id is None:
            self._screen.pop(slot, None)
            return
        if shown_id != note.replaces:
            log.debug("%s: notification %d", slot, shown_id)
        _remember(self._screen, slot, OnScreen(shown_id, tuple(lines)))
        if note.actions:
            _remember(self._asked, shown_id, note.item)

    async def pending(self) -> list[Shown]:
        """Send what is undelivered (oldest first; the items of one slot, such as a run's
        live alerts, as one notification), then the check-ins put off with "later" whose
        time has come, unless it is quiet hours; stop at the first failure, since the rest
        would fail the same way."""
        now = self.clock.wall()
        if self.quiet(now):
            return []
        async with self._lock:
            items = await self.store.call(lambda s: s.undelivered(since=now - RETRY_WINDOW))
            items += [item for item, due in self._later.values() if due <= now]
            slots: dict[str, list[Outgoing]] = {}
            for item in items:
                slots.setdefault(self._slot(item), []).append(item)
            shown: list[Shown] = []
            for group in slots.values():
                group.sort(key=_rank, reverse=True)
                shown += await self._send(group)
                if not shown[-1].delivery.delivered:
                    break
                for item in group:
                    self._later.pop(item.ref, None)
            return shown

    async def answer(self, notification_id: int, action: str) -> None:
        """A button pressed (``action``, ActionInvoked) on notification ``notification_id``:
        on a check-in, a score from 0 to 10 goes into the pain log for the run the check-in
        asked about, and a notification replacing it says what the rules now say; "later"
        asks again ``notifications.later_min`` minutes on (at the first retry after). Other
        buttons, other notifications' and a second press are ignored."""
        async with self._lock:
            item = self._asked.get(notification_id)
            if item is None or action not in dict(CHECKIN_ACTIONS):
                log.debug("notification %d: button %r ignored", notification_id, action)
                return
            del self._asked[notification_id]
            now = self.clock.wall()
            if action == LATER:
                minutes = self.settings.notifications.later_min
                _remember(self._later, item.ref, (item, now + timedelta(minutes=minutes)))
                log.info("check-in %s: asking again in %g min", item.ref, minutes)
                return
            score = int(action)
            try:
                pain_id, lines = await self.store.call(
                    lambda s: answer_checkin(s, self.settings, item, score, now)
                )
            except StridewatchError as exc:
                log.error("check-in %s: pain %d/10 not stored: %s", item.ref, score, exc)
                return
            log.info(
                "check-in %s answered: pain %d/10 stored (report %d)", item.ref, score, pain_id
            )
            note = Note(
                item,
                "Pain logged",
                " ".join([f"{score}/10 {_pain_when(item)}, in your pain log.", *lines]),
                Urgency.LOW,
                ICONS["info"],
                replaces=notification_id,
            )
            delivery = await self.sender.deliver(note)
            if not delivery.delivered:
                log.warning("check-in %s: the answer was stored; %s", item.ref, delivery.detail)


def _mark_delivered(store: Store, refs: list[tuple[OutgoingKind, str]], at: datetime) -> None:
    for kind, ref in refs:
        store.mark_delivered(kind, ref, at)


def checkin_run(key: str) -> int | None:
    """The run an after-run check-in (key ``after:run:<id>``) asks about; None for others."""
    return int(key.removeprefix(AFTER_RUN)) if key.startswith(AFTER_RUN) else None


def _pain_when(item: Outgoing) -> str:
    return "this morning" if item.rule == "morning" else "after your run"


def answer_checkin(
    store: Store, settings: Settings, item: Outgoing, score: int, at: datetime
) -> tuple[int, list[str]]:
    """Store the pain ``score`` (0-10) a check-in's button gave, at ``at``, as ``stridewatch
    pain SCORE --when after --run ID`` (or ``--when morning``) would; return the report's id
    and what the rules now say (:func:`agent.advice.checks.verdict`). :class:`NotFoundError` if the
    run is gone."""
    when: PainWhen = "morning" if item.rule == "morning" else "after"
    pain_id = store.add_pain(at=at, score=score, when=when, run_id=checkin_run(item.ref))
    return pain_id, verdict(store, settings, at, pain_id=pain_id)
