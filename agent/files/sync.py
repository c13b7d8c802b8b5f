"""Sync folders: each activity file that lands in one is imported once, and a synced run
gets its verdict at once (issue 16).

The daemon watches the folders (:mod:`agent.files.watch`) and hands each complete file to
:func:`sync_file`, which decides from the ``synced_files`` table:

- a file seen before with the same size and time, or the same content, changes nothing (a
  file copied again, or touched; a file deleted from the watch changes nothing either);
- a file whose content was seen under another path (renamed, or in two folders) is noted as
  ``same file`` and not imported again;
- anything else is imported (:mod:`agent.files.importer`: the same reading, the same-run rule and
  the same outcomes as ``stridewatch import``); a file that fails is noted with its reason
  and tried again only when it changes.

After a pass that stored runs, :func:`verdict` evaluates the rules as the nightly check does
and says in one message what the run was and what comes next: the most severe new alert,
the next run's limit and what is left of the week.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.advice.checks import check
from agent.config import AFTER_RUN_GRACE_S, Settings
from agent.files import importer
from agent.models import SEVERITIES, Alert, Severity, severity_rank
from agent.recording.intensity import HeartProfile
from agent.rules.allowance import Allowance
from agent.rules.load import local_date
from agent.safe_write import kind_of
from agent.store import Store
from agent.units import format_budget, format_distance, utc_iso

log = logging.getLogger("stridewatch.sync")

SYNCED = "synced"  # the rule name of a synced run's verdict (an alert, like the others)
SAME_FILE = "same file"


@dataclass(frozen=True, slots=True)
class Synced:
    """What became of one file: ``status`` (imported, duplicate, skipped, failed, or same
    file), why, the ids of the runs it stored anew (``new_runs``) or matched
    (``run_ids``), and the importer's outcome for each activity in it."""

    path: Path
    status: str
    reason: str | None
    run_ids: tuple[int, ...] = ()
    new_runs: tuple[int, ...] = ()
    outcomes: tuple[importer.Outcome, ...] = field(default=(), repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": path_text(self.path),
            "status": self.status,
            "reason": self.reason,
            "run_ids": list(self.run_ids),
            "new_runs": list(self.new_runs),
        }

    def line(self) -> str:
        tail = f": {self.reason}" if self.reason else ""
        return f"{self.status:<9} {path_text(self.path)}{tail}"


def digest(path: Path) -> str:
    """SHA-256 of a regular file, opened without following a link or waiting on a pipe."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    with os.fdopen(os.open(path, flags), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path}: not a regular file")
        return hashlib.file_digest(handle, "sha256").hexdigest()


def path_text(path: Path) -> str:
    """A path as text the database and a terminal take: a name that is not UTF-8 (written by
    a device with another encoding) keeps its odd bytes as ``\\xff`` escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def sync_file(
    store: Store, path: Path, folder: Path, options: importer.ImportOptions
) -> Synced | None:
    """Import ``path`` (found in sync folder ``folder``) unless it was seen before; None if
    nothing changed, or if it is empty (a download not yet written). A link, a pipe or a
    device is never read (``skipped``). Raises OSError if it cannot be read now (it will be
    seen again)."""
    st = os.lstat(path)
    key = path_text(path)
    seen = store.synced_file(key)
    if seen is not None and (seen["size"], seen["mtime_ns"]) == (st.st_size, st.st_mtime_ns):
        return None
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        return None
    if not stat.S_ISREG(st.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else kind_of(st.st_mode)
        reason = f"{what}, not a file: only files in the sync folders are read"
        result = Synced(path, "skipped", reason)
        store.save_synced_file(_row(key, folder, st, "-", result, options))
        return result
    sha256 = digest(path)
    if seen is not None and seen["sha256"] == sha256:  # copied again, or touched
        store.save_synced_file({**seen, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        return None
    twin = store.synced_content(sha256, besides=key)
    if twin is not None:
        ids = tuple(json.loads(twin["run_ids"] or "[]"))
        result = Synced(path, SAME_FILE, f"the same file as {twin['path']}", ids)
    else:
        before = frozenset(json.loads(seen["run_ids"] or "[]")) if seen is not None else None
        result = _import(store, path, folder, replace(options, replaces=before or frozenset()))
    store.save_synced_file(_row(key, folder, st, sha256, result, options))
    return result


def _row(
    key: str,
    folder: Path,
    st: os.stat_result,
    sha256: str,
    result: Synced,
    options: importer.ImportOptions,
) -> dict[str, Any]:
    return {
        "path": key,
        "folder": path_text(folder),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": sha256,
        "seen_at": utc_iso(options.now),
        "status": result.status,
        "reason": result.reason,
        "run_ids": json.dumps(list(result.run_ids)),
        "runs": len(result.new_runs),
    }


def _import(store: Store, path: Path, folder: Path, options: importer.ImportOptions) -> Synced:
    with importer.Batch([path], within=folder) as batch:
        outcomes = [*batch.notes, *importer.import_inputs(store, batch.inputs, options)]
    if not outcomes:
        return Synced(path, "skipped", "no activity in it")
    counts = importer.summary(outcomes)
    status = next(s for s in ("imported", "duplicate", "skipped", "failed") if counts.get(s))
    if len(outcomes) == 1:
        act = outcomes[0].activity
        warning = f"warning: {act.warning}" if act is not None and act.warning else None
        reason = "; ".join(r for r in (outcomes[0].reason, warning) if r) or None
    else:
        reason = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    new = tuple(o.run_id for o in outcomes if o.status == "imported" and o.run_id is not None)
    replaced = tuple(o.run_id for o in outcomes if o.replaced and o.run_id is not None)
    ids = tuple(o.run_id for o in outcomes if o.run_id is not None)
    return Synced(path, status, reason, ids, new + replaced, tuple(outcomes))


def log_result(result: Synced) -> None:
    """The daemon's log line for a file decided (a failure is a warning)."""
    level = logging.WARNING if result.status == "failed" else logging.INFO
    log.log(level, "sync: %s", result.line())


def sync_files(
    store: Store,
    found: Iterable[tuple[Path, Path]],
    options: importer.ImportOptions,
    say: Callable[[Synced], None] = log_result,
) -> list[Synced]:
    """:func:`sync_file` for each ``(path, folder)``, telling ``say`` each file decided; a
    file that cannot be read now (gone again, unreadable) is logged and left for its next
    change."""
    results = []
    for path, folder in found:
        try:
            result = sync_file(store, path, folder, options)
        except OSError as exc:
            log.warning("sync: %s: cannot be read (%s); it is tried again when it changes",
                        path_text(path), exc.strerror or exc)  # fmt: skip
            continue
        if result is None:
            continue
        results.append(result)
        say(result)
    return results


def import_options(settings: Settings, at: datetime) -> importer.ImportOptions:
    """What a synced file is imported with: as ``stridewatch import FILE`` would (the runner's
    heart for TRIMP, the configured date window), at ``at``."""
    runner = settings.runner
    heart = HeartProfile(runner.max_hr, runner.resting_hr, runner.sex)
    return importer.ImportOptions(now=at, heart=heart, window=settings.date_window(at))


def folder_of(path: Path, folders: Sequence[Path]) -> Path:
    """The sync folder ``path`` was found in (the deepest, if they nest)."""
    holding = [folder for folder in folders if folder in path.parents]
    return max(holding, key=lambda folder: len(folder.parts), default=path.parent)


def sync_pass(
    db_path: Path,
    settings: Settings,
    found: Sequence[tuple[Path, Path]],
    at: datetime,
    *,
    keep_verdict: bool = False,
    say: Callable[[Synced], None] = log_result,
) -> tuple[list[Synced], Verdict | None]:
    """One pass on a connection of its own (the daemon runs it on a thread): import the
    ``(path, folder)`` files found complete, then the verdict if runs were stored. With
    ``keep_verdict`` (``sync --once``, no daemon to send it) the verdict is stored as an
    undelivered alert, for the daemon's next retry or ``stridewatch alerts``. Raises
    :class:`~agent.errors.StoreError` if the database refuses (nothing is lost: the files
    not decided are seen again)."""
    with Store.open(db_path, busy_timeout_s=settings.database.busy_timeout_s) as store:
        results = sync_files(store, found, import_options(settings, at), say)
        found_verdict = verdict(store, settings, results, at)
        if keep_verdict and found_verdict is not None:
            store.record_live_alert(
                found_verdict.alert, raised_at=at, run_id=found_verdict.run_id, at_distance_m=None
            )
            store.mark_alerts_delivered(found_verdict.covered, at)
        return results, found_verdict


# -- the verdict -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """The one notification after a pass that stored runs: ``alert`` (rule ``synced``) to
    store and send; ``covered`` the alerts the same check stored, which it speaks for (they
    are marked delivered with it); ``checkins`` the runs recent enough for an after-run
    pain check-in, with their ends."""

    alert: Alert
    run_id: int
    covered: tuple[int, ...]
    checkins: tuple[tuple[int, datetime], ...]


def verdict(
    store: Store, settings: Settings, results: Sequence[Synced], at: datetime
) -> Verdict | None:
    """Evaluate the rules at ``at`` (storing new alerts, as the nightly check does) and say
    what the newest synced run was and what comes next. None if no run was stored."""
    run_ids = sorted({run_id for r in results for run_id in r.new_runs})
    if not run_ids:
        return None
    runs = sorted((store.get_run(run_id) for run_id in run_ids), key=lambda run: run.started_at)
    latest = runs[-1]
    before = store.latest_alert_id()
    assessment, raised = check(store, settings, at)
    top = max(raised, key=lambda a: severity_rank(a.severity), default=None)
    distance = format_distance(latest.distance_m, settings.units, 1)
    head = f"Synced: {_when(latest.started_at, at, settings)} {distance} run"
    if len(runs) > 1:
        head = f"Synced {len(runs)} runs; the latest, {head.removeprefix('Synced: ')}"
    replaced = [r.reason for r in results if r.status == "duplicate" and r.new_runs]
    parts = [head + (f" ({replaced[-1]})" if replaced else "") + "."]
    if top is not None:
        more = len(raised) - 1
        parts.append(top.message + (f" (and {more} more: stridewatch alerts)" if more else ""))
    parts.append(_next(assessment.allowance, settings))
    severity: Severity = top.severity if top is not None else SEVERITIES[0]
    alert = Alert(
        rule=SYNCED,
        severity=severity,
        message=" ".join(parts),
        key=f"{SYNCED}:{latest.id}:{latest.distance_km:.3f}",
        data={"run_ids": run_ids, "alerts": [a.key for a in raised]},
    )
    # A check-in whose time is further back than the timetable's grace for a missed one
    # would never be sent: a run synced that late gets none.
    grace = timedelta(hours=settings.schedule.after_run_checkin_h, seconds=AFTER_RUN_GRACE_S)
    ends = (
        (run.id, run.ended_at or run.started_at + timedelta(seconds=run.elapsed_s)) for run in runs
    )
    checkins = tuple((run_id, ended) for run_id, ended in ends if ended + grace > at)
    return Verdict(alert, latest.id, store.alert_ids_after(before), checkins)


def _km(km: float, settings: Settings) -> str:
    return format_budget(km, settings.units)


def _when(start: datetime, at: datetime, settings: Settings) -> str:
    """``this morning's``, ``yesterday evening's``, ``Tuesday's``, ``2026-11-02's``."""
    zone = settings.zone
    local = start.astimezone(zone)
    days = (local_date(at, zone) - local.date()).days
    part = "morning" if local.hour < 12 else "afternoon" if local.hour < 18 else "evening"
    if days == 0:
        return f"this {part}'s"
    if days == 1:
        return f"yesterday {part}'s"
    if 1 < days < 7:
        return f"{local:%A}'s"
    return f"{local:%Y-%m-%d}'s"


def _next(found: Allowance, settings: Settings) -> str:
    binding = found.binding
    if binding is None:
        head = "Next run: no limit known yet"
    elif binding.km <= 0:
        head = f"Next run: {binding.reason}"
    else:
        head = f"Next run at most {_km(binding.km, settings)} ({binding.reason})"
    if found.remaining_km is None:
        return head + "."
    return f"{head}; {_km(found.remaining_km, settings)} left this week."
