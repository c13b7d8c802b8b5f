"""A realistic history, made through the real CLI, for the tests that run every command on it.

:mod:`tests.report_history`'s six weeks (four steady weeks, a 32 km jump with knee pain, the
current week), then what a runner adds over time: a run with a long note and its RPE, a
morning pain report with a note, a graded return plan, the alerts ``check`` stored on three
evenings, a run recorded from the simulated footpod and strap (splits and heart-rate zones),
and a sync folder holding one watch file, synced once.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.recording.recorder import Recorder, replay
from agent.sensors import sim
from agent.store import Store
from agent.store.writer import FlushSink, load_state
from tests import report_history
from tests.files.fit_maker import Leg, make_fit

AT = report_history.AT
OVER_AT = "2026-11-08T20:00"
NOTE = (
    "felt heavy on the hills after a long day at work; the left knee was tight for the first "
    "two kilometres, then fine, and the last one was the easiest of the week"
)
PAIN_NOTE = "stiff on the stairs, eased after ten minutes of walking the dog"
# The recorded run: Tuesday evening of the current week, after the morning's 5 km.
RECORDED_AT = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
# The watch file in the sync folder: the morning after AT (so it changes nothing at AT).
SYNCED_AT = datetime(2026, 11, 12, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    recorded_run: int
    sync_env: dict[str, str]
    watch_mount: Path


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


def record(db: Path, start: datetime) -> int:
    """A 30-minute easy run from the simulated footpod and strap, stored as the daemon
    stores it; its id."""
    scenario = sim.Scenario(sim.easy_run(duration_s=1800).with_pause(1200, 60), seed=7)
    with Store.open(db) as store:
        state = load_state(store)
        recorder = Recorder(
            Settings(),
            epoch=start.timestamp(),
            source="simulated",
            calibrations=state.calibrations,
        )
        replay(sim.iter_items(scenario), recorder, FlushSink(store))
        return max(run.id for run in store.runs())


def build(sw: Any, db: Path, short_tmp: Path) -> Made:
    """The history, in ``db``; the sync folder and a watch's drive under ``short_tmp`` (a
    short path, so a file's path fits a line)."""
    report_history.build(sw)
    ok(
        sw(
            "log-run",
            *("--at", "2026-11-11T07:00", "--distance", "6km", "--duration", "37:00"),
            *("--rpe", "4", "--note", NOTE),
        )
    )
    ok(sw("pain", "3", "--when", "morning", "--at", "2026-11-11T07:45", "--note", PAIN_NOTE))
    ok(sw("plan", "return", "--usual", "8-10km", "--at", "2026-11-09T08:00"))
    for evening in ("2026-11-03T20:00", OVER_AT, AT):
        ok(sw("check", "--at", evening))
    recorded = record(db, RECORDED_AT)
    folder = short_tmp / "Sync"
    folder.mkdir()
    watch_file = folder / "2026-11-12-06-00-00.fit"
    watch_file.write_bytes(make_fit(SYNCED_AT, [Leg("RUNNING", 1800, 5000, hr=148)]))
    then = time.time() - 60  # complete: older than sync.settle_s
    os.utime(watch_file, (then, then))
    mount = short_tmp / "media" / "GARMIN"
    (mount / "GARMIN" / "Activity").mkdir(parents=True)
    (mount / "GARMIN" / "Activity" / "1.FIT").write_bytes(b"x")
    sync_env = {"STRIDEWATCH_SYNC__FOLDERS": json.dumps([str(folder)])}
    ok(sw("sync", "--once", env=sync_env))
    return Made(recorded, sync_env, mount)
