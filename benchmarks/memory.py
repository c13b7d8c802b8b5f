"""Memory: the daemon's peak RSS on a simulated 10-hour run, against a minimal BLE process.

Both run as fresh processes (:mod:`benchmarks.memory_proc`) on the same SQLite file: the
floor is a minimal asyncio process that imports bleak and opens the file; the daemon is the
real :class:`~agent.daemon.supervisor.Daemon` with a virtual clock (``run --simulate
--speedup inf``).
It runs twice: with a sensor stream that makes each notification when due, as real sensors
do (the daemon's own footprint: the target), and with the simulator's driver, which
precomputes the whole scenario in memory (reported). VmRSS is read at every simulated hour
and VmHWM at the end, from /proc/self/status.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Figure, Section, scratch

TARGET_FLOOR = 1.5
TARGET_GROWTH_MB = 5.0


def run(quick: bool) -> Section:
    section = Section("Memory")
    hours = 1.0 if quick else 10.0
    with scratch("memory") as folder:
        db = folder / "memory.db"
        stream = _proc("daemon-stream", db, hours, section)
        floor = _proc("floor", db, None, section)
        simulated = _proc("daemon", folder / "simulated.db", hours, section)
    if floor is None:
        return section
    base = floor["hwm_kb"]
    if stream is not None and not _whole_run(stream, hours):
        section.notes.append(
            f"The streamed daemon did not record one whole run ({stream['runs']} runs, "
            f"{stream['samples']} samples): its figures are left out, and the `run --simulate` "
            "figure is held to the target instead."
        )
        stream = None
    for label, result, target in (
        ("daemon, sensors streamed", stream, TARGET_FLOOR),
        (
            "daemon, `run --simulate` (scenario precomputed)",
            simulated,
            None if stream is not None else TARGET_FLOOR,
        ),
    ):
        if result is None:
            continue
        section.add(
            Figure(
                "memory",
                f"peak RSS / floor ({label}, {hours:g} h)",
                result["hwm_kb"] / base,
                target,
                False,
                detail=f"VmHWM {result['hwm_kb'] / 1024:.1f} MB vs floor {base / 1024:.1f} MB; "
                f"recorded {result['runs']} run(s), {result['samples']} samples",
            )
        )
    if stream is None:
        return section
    rss = stream["rss_kb"] or [stream["hwm_kb"]]
    last = len(rss) - 1
    section.add(
        Figure(
            "memory",
            f"RSS after hour {last + 1} - RSS after hour 1 (sensors streamed)",
            (rss[-1] - rss[0]) / 1024,
            TARGET_GROWTH_MB,
            False,
            unit=" MB",
            detail="hourly VmRSS MB: " + ", ".join(f"{kb / 1024:.1f}" for kb in rss),
        )
    )
    return section


def _whole_run(result: dict[str, Any], hours: float) -> bool:
    """One run with a sample for (nearly) every second: the daemon recorded what was sent."""
    return bool(result["runs"] == 1 and result["samples"] >= 0.99 * hours * 3600)


def _proc(mode: str, db: Path, hours: float | None, section: Section) -> dict[str, Any] | None:
    """Run one measured process (twice if it fails: the daemon is a moving target); None and
    a note with its error if it fails both times."""
    argv = [sys.executable, "-m", "benchmarks.memory_proc", mode, str(db)]
    if hours is not None:
        argv.append(str(hours))
    for attempt in (1, 2):
        for stale in db.parent.glob(db.name + "*"):
            if mode != "floor":
                stale.unlink()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        if done.returncode == 0:
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            return result
        error = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        section.notes.append(f"`{mode}` attempt {attempt} failed: {error[0]}")
        print(f"memory: {mode} attempt {attempt} failed: {error[0]}", flush=True)
    return None
