"""A wall clock set while the daemon runs (issue 15, item 6): set back two days, the nightly
summary still comes at its local time of the new day, and the change is logged. The daemon is
a real process whose wall clock is moved by libfaketime (``CLOCK_REALTIME`` only: the
monotonic and boot-time clocks stay real, as when someone sets the date by hand)."""

from __future__ import annotations

import glob
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.daemon.timetable import ClockReading, clock_change
from tests.daemon_proc import daemon

# The Debian package libfaketime (scripts/test installs it).
LIBFAKETIME = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))


def faked(stamp: Path) -> dict[str, str]:
    if not LIBFAKETIME:
        pytest.fail("libfaketime is missing: apt-get install libfaketime (scripts/test does)")
    return {
        "LD_PRELOAD": LIBFAKETIME[0],
        "FAKETIME_TIMESTAMP_FILE": str(stamp),
        "FAKETIME_NO_CACHE": "1",  # read the file on every call: the clock can be set
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "TZ": "UTC",
    }


def summaries(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("select day, created_at from summaries").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def test_a_clock_set_back_two_days_gets_its_summary_at_the_new_days_time(
    tmp_path: Path, db: Path
) -> None:
    stamp = tmp_path / "faketime"
    stamp.write_text("+0\n")
    now = datetime.now(UTC)
    due = now + timedelta(seconds=20)
    env = {
        **faked(stamp),
        "STRIDEWATCH_SCHEDULE__SUMMARY": due.strftime("%H:%M:%S"),
    }
    made = subprocess.run(  # the database, before the daemon
        [sys.executable, "-m", "agent", "--db", str(db), "runs"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    args = ("--simulate", "--scenario", "standing", "--speedup", "1")
    with daemon(db, *args, env=env) as proc:
        proc.logged("ready: recording to")
        stamp.write_text("-2d\n")  # someone sets the date two days back
        proc.logged("the wall clock was set back by 2.0 days", timeout=30)
        # Without rescheduling, the summary would wait for the old date's evening.
        found = proc.wait_for(lambda: summaries(db), 60, "the nightly summary")
        proc.stop(10)
    [(day, at)] = found
    assert day == (due - timedelta(days=2)).date().isoformat()
    assert (
        datetime.fromisoformat(at.replace("Z", "+00:00")) < now
    )  # stamped with the clock as it was set
    assert "Traceback" not in proc.stderr()


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (ClockReading(wall=1000.0, boot=110.0, mono=110.0), (0.0, 0.0)),  # time passes
        (ClockReading(wall=-171_800.0, boot=110.0, mono=110.0), (-172_800.0, 0.0)),  # set back
        (ClockReading(wall=4600.0, boot=3710.0, mono=110.0), (0.0, 3600.0)),  # suspended 1 h
        (ClockReading(wall=8200.0, boot=3710.0, mono=110.0), (3600.0, 3600.0)),  # both
    ],
)
def test_clock_change_tells_a_set_clock_from_a_sleep(
    after: ClockReading, expected: tuple[float, float]
) -> None:
    before = ClockReading(wall=990.0, boot=100.0, mono=100.0)
    assert clock_change(before, after) == pytest.approx(expected)
