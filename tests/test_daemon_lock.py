"""One recording daemon per database (issue 15): a second `stridewatch run` on the same
database is refused with one line naming the PID recording, and the first records on; the
CLI's short writes keep working beside it; the lock goes with the process, even kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.daemon_proc import daemon

ENV = {"STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5"}


def second_run(db: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "agent", "--db", str(db), "run", "--simulate"]
    env = {**os.environ, "TZ": "UTC", **ENV}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_a_second_daemon_is_refused_and_the_first_records_on(db: Path) -> None:
    with daemon(db, "--simulate", "--scenario", "short", "--speedup", "10", env=ENV) as first:
        first.logged("ready: recording to")
        refused = second_run(db)
        assert refused.returncode == 2
        assert refused.stderr.splitlines() == [
            f"stridewatch: {db}: another stridewatch daemon (PID {first.proc.pid}) is already "
            "recording into it; stop it first (one recording daemon per database)"
        ]
        # The CLI's short writes work beside the recording daemon.
        logged = subprocess.run(
            [sys.executable, "-m", "agent", "--db", str(db), "pain", "2", "--when", "before"],
            capture_output=True,
            text=True,
            env={**os.environ, "TZ": "UTC"},
            timeout=60,
            check=False,
        )
        assert logged.returncode == 0, logged.stderr
        first.proc.wait(120)
    assert first.proc.returncode == 0
    [run] = first.rows("select * from runs")
    assert run["status"] == "closed"
    distances = [r["distance_m"] for r in first.rows("select distance_m from samples order by t")]
    assert distances == sorted(distances)  # one recorder's samples, never interleaved


def test_the_lock_goes_with_a_killed_daemon(db: Path) -> None:
    with daemon(db, "--simulate", "--scenario", "long", "--speedup", "10", env=ENV) as first:
        first.logged("ready: recording to")
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    with daemon(db, "--simulate", "--scenario", "short", "--speedup", "20", env=ENV) as again:
        again.logged("ready: recording to")
        again.proc.wait(120)
    assert again.proc.returncode == 0
