"""Big files: ``import`` of a 200 MB GPX track and ``export`` of that run as FIT.

The track is a multi-day race as Garmin Connect writes it (:mod:`benchmarks.garmin_gpx`):
some 580,000 points with time, position, elevation, heart rate and cadence, made in a
scratch folder (never in the repository). Each step runs as a fresh process, and its peak
RSS is its VmHWM read from /proc/self/status as it ends (:mod:`benchmarks.peak`). The
baseline, measured in the same run on the same file: a plain pass of defusedxml's
``iterparse`` over it, each element cleared as it ends (``python -m benchmarks.bigfile
FILE``): the least any reader of the file must do. Times are medians; the runs are
interleaved so that load drifts hit all alike.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import garmin_gpx
from benchmarks.common import ROOT, Figure, Section, bench_env, scratch

SIZE_BYTES = 200_000_000
QUICK_BYTES = 2_000_000
TARGET_PEAK_MB = 300.0
# Measured on this machine before the import and export streamed (the same 200 MB file,
# whole-tree parsing, samples and FIT messages held in memory), for RESULTS.md's notes.
BEFORE = (
    "Before (same file and machine, 2 cores shared and loaded, before this change): "
    "`import` 54.5 s and 1,616 MB peak RSS (the file parsed into one tree, every point an "
    "object, every sample a tuple, the rows a list); `export` 828 s and 21,367 MB (a "
    "fit-tool object per record, the file's CRC a nibble at a time); a plain iterparse pass "
    "over the file took 18-27 s in that session. The importer then also refused files over "
    "128 MB: measured with that limit lifted."
)


@dataclass(slots=True)
class Step:
    """The runs of one measured command: wall seconds, peak RSS (kB)."""

    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024


def run(quick: bool) -> Section:
    section = Section("Big files (streaming import and export)")
    size, repeat = (QUICK_BYTES, 1) if quick else (SIZE_BYTES, 3)
    with scratch("bigfile") as folder:
        path = garmin_gpx.write_gpx(folder / "race.gpx", garmin_gpx.points_for(size))
        steps, stored = _measure(folder, path, repeat)
        size = path.stat().st_size
    mb = size / 1e6
    parse, starts = steps["parse"], steps["starts"]
    imported, exported = steps["import"], steps["export"]
    what = f"{stored['samples']:,.0f} points ({mb:.0f} MB)"
    for label, step in (("`import`", imported), ("`export --format fit` of that run", exported)):
        section.add(
            Figure(
                "bigfile",
                f"{label} of a {mb:.0f} MB GPX: time / plain iterparse pass",
                step.median_s / parse.median_s,
                None,
                False,
                detail=f"{what}: {step.median_s:.1f} s vs {parse.median_s:.1f} s, "
                f"median of {repeat}",
            )
        )
        section.add(
            Figure(
                "bigfile",
                f"{label} of a {mb:.0f} MB GPX: peak RSS",
                step.peak_mb,
                TARGET_PEAK_MB,
                False,
                unit=" MB",
                detail=f"{what}; the iterparse pass alone peaks at {parse.peak_mb:.0f} MB",
            )
        )
    section.notes.append(
        f"The run stored: {stored['samples']:,.0f} samples, {stored['distance_km']:.1f} km, "
        f"{stored['moving_s'] / 3600:.1f} h moving. The importer follows the file's "
        "structure (a point counts only in a track's segment), so it asks the parser for "
        f"start events too: that pass alone takes {starts.median_s:.1f} s "
        f"({starts.median_s / parse.median_s:.2f}x the plain pass); on top of it the import "
        "reads the points into columns, makes, checks and writes the samples to SQLite. "
        f"{BEFORE}"
    )
    return section


def _measure(folder: Path, path: Path, repeat: int) -> tuple[dict[str, Step], dict[str, float]]:
    """Each step ``repeat`` times, interleaved; and what the import stored."""
    env = bench_env(folder)
    env["PYTHONPATH"] = str(ROOT)
    steps = {name: Step() for name in ("parse", "starts", "import", "export")}
    stored: dict[str, float] = {}
    for i in range(repeat):
        db, out = folder / f"big-{i}.db", folder / f"big-{i}.fit"
        commands = {
            "parse": ["benchmarks.bigfile", str(path)],
            "starts": ["benchmarks.bigfile", str(path), "--starts"],
            "import": ["agent", "--db", str(db), "import", "--json", str(path)],
            "export": ["agent", "--db", str(db), "export", "1", "-o", str(out)],
        }
        for name, argv in commands.items():
            seconds, peak_kb, output = _child(argv, env, folder / f"{name}.out")
            steps[name].seconds.append(seconds)
            steps[name].peak_kb.append(peak_kb)
            if name == "import":
                stored = _stored(output)
        for stale in folder.glob(f"big-{i}.*"):
            stale.unlink()
    return steps, stored


def _child(module: list[str], env: dict[str, str], output: Path) -> tuple[float, int, str]:
    """Run ``python -m MODULE ARGS...``: wall seconds, its peak RSS (kB), its output."""
    errors, hwm = output.with_suffix(".err"), output.with_suffix(".hwm")
    argv = [sys.executable, "-m", "benchmarks.peak", str(hwm), *module]
    with output.open("wb") as out, errors.open("wb") as err:
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=out, stderr=err, env=env, cwd=ROOT, check=False)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        said = errors.read_text(errors="replace")[-500:]
        raise RuntimeError(f"{' '.join(module[:4])}... exited {done.returncode}: {said}")
    return seconds, int(hwm.read_text()), output.read_text()


def _stored(output: str) -> dict[str, float]:
    """What ``import --json`` said it stored (one run, or the benchmark measured nothing)."""
    (item,) = json.loads(output)["files"]
    if item["status"] != "imported":
        raise RuntimeError(f"the big file was not imported: {item['reason']}")
    return {key: item[key] for key in ("samples", "distance_km", "moving_s")}


def parse(path: Path, *, starts: bool = False) -> int:
    """The baseline: defusedxml's ``iterparse`` over ``path``, each element cleared as it
    ends; the number of events. ``starts``: with the start events too (what a reader that
    follows the file's structure, as the importer does, must ask the parser for)."""
    from defusedxml.ElementTree import iterparse

    count = 0
    for event, element in iterparse(str(path), events=("start", "end") if starts else ("end",)):
        if event == "end":
            element.clear()
        count += 1
    return count


if __name__ == "__main__":
    print(parse(Path(sys.argv[1]), starts="--starts" in sys.argv[2:]))
