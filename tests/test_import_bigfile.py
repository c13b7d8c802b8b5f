"""Long GPX tracks: read as a stream and stored and exported in chunks (issue 18).

A 70,000-point track as Garmin Connect writes it (the big-file benchmark's generator: a
multi-day race, 19.4 hours of it, the last 3.4 hours asleep) imports with the very totals
the importer stored before it streamed, and exports as a FIT file fitdecode reads back.
Memory is measured in a fresh process (its VmHWM as it ends), never time: speed is the
benchmark's business (``python -m benchmarks --only bigfile``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import fitdecode
import pytest

from benchmarks import garmin_gpx
from benchmarks.common import ROOT

POINTS = 70_000
# What the importer stored for this track before it streamed (whole-tree parsing, commit
# 4a142c8), read from the database: the run, then sums over its samples.
BEFORE_RUN = {
    "started_at": "2026-06-01T06:00:00+00:00",
    "ended_at": "2026-06-02T01:26:39+00:00",
    "distance_m": 66520.40951865222,
    "moving_s": 57599.0,
    "elapsed_s": 69999.0,
    "avg_hr": 107.64241428571428,
    "max_hr": 130.0,
    "avg_cadence": 152.0,
    "trimp": 795.6687660235166,
}
BEFORE_SAMPLES = {
    "count": 70000,
    "distance": 2746348213.0779405,
    "speed": 66520.40951865222,
    "cadence": 8755200.0,
    "hr": 7534969,
    "last_t": 1780363599.0,
    "first_t": 1780293600.0,
    "with_speed": 69999,
    "with_cadence": 57600,
}
# The importer before streaming peaked at 235 MB on this file (the tree, a point object
# and a sample tuple each); streaming it takes some 50 MB, most of it Python and the
# libraries imported. The bound leaves room for any machine's allocator.
PEAK_BOUND_MB = 150


@pytest.fixture(scope="module")
def track(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return garmin_gpx.write_gpx(tmp_path_factory.mktemp("big") / "race.gpx", POINTS)


def in_fresh_process(home: Path, *args: str) -> tuple[dict[str, Any] | str, float]:
    """``stridewatch ARGS`` in a new process: its output (JSON when it is) and peak RSS (MB)."""
    hwm = home / "hwm"
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TZ": "UTC",
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.peak", str(hwm), "agent", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    return (json.loads(out) if out.startswith("{") else out), int(hwm.read_text()) / 1024


def stored(db: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        run = dict(conn.execute(f"select {', '.join(BEFORE_RUN)} from runs").fetchone())
        sums = conn.execute(
            "select count(*), sum(distance_m), sum(speed), sum(cadence), sum(hr), max(t), "
            "min(t), count(speed), count(cadence) from samples"
        ).fetchone()
    return run, dict(zip(BEFORE_SAMPLES, tuple(sums), strict=True))


def test_a_long_track_imports_as_before_and_exports_within_bounded_memory(
    track: Path, tmp_path: Path, isolated_home: Path
) -> None:
    db = tmp_path / "big.db"
    result, peak = in_fresh_process(isolated_home, "--db", str(db), "import", "--json", str(track))
    assert isinstance(result, dict)
    (item,) = result["files"]
    assert (item["status"], item["samples"], item["distance_km"]) == ("imported", POINTS, 66.52)
    run, samples = stored(db)
    for key in ("started_at", "ended_at"):
        assert run.pop(key) == BEFORE_RUN[key]
    assert run == pytest.approx({k: v for k, v in BEFORE_RUN.items() if k in run}, rel=1e-12)
    # The store keeps distances and speeds to the millimetre (samples as whole numbers):
    # each sum may move by half a millimetre a sample; the rest is exact.
    exact = {k: v for k, v in BEFORE_SAMPLES.items() if k not in ("distance", "speed")}
    assert {k: samples[k] for k in exact} == pytest.approx(exact, rel=1e-12)
    for key in ("distance", "speed"):
        assert samples[key] == pytest.approx(BEFORE_SAMPLES[key], abs=POINTS * 0.0005)
    assert peak < PEAK_BOUND_MB

    out = tmp_path / "race.fit"
    said, peak = in_fresh_process(isolated_home, "--db", str(db), "export", "1", "-o", str(out))
    assert said == f"wrote {out} (FIT, {POINTS} records, 66.5 km)\n"
    assert peak < PEAK_BOUND_MB
    with fitdecode.FitReader(str(out), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        messages = [m for m in reader if isinstance(m, fitdecode.FitDataMessage)]
    assert Counter(m.name for m in messages)["record"] == POINTS
    last = next(m for m in reversed(messages) if m.name == "record")
    assert last.get_value("distance") == pytest.approx(BEFORE_RUN["distance_m"], abs=0.01)
    (session,) = (m for m in messages if m.name == "session")
    assert session.get_value("total_distance") == pytest.approx(66520.41, abs=0.01)
    assert session.get_value("total_timer_time") == BEFORE_RUN["moving_s"]
    assert session.get_value("avg_heart_rate") == 108


def test_gpx_and_tcx_are_read_past_the_size_of_a_fit_file(
    sw: Any, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GPX and TCX stream, so they may be longer than a FIT file may (decoded whole); each
    kind has its limit, and the runner hears when a file passed it."""
    from agent.files import reading

    gpx = garmin_gpx.write_gpx(tmp_path / "long.gpx", 600)  # ~200 kB, 10 minutes
    tcx = tmp_path / "long.tcx"
    tcx.write_bytes((corpus / "polar-m400-two-laps-3173437224.tcx").read_bytes())  # 1.3 MB
    fit = corpus / "fenix6s-trail-run.fit"  # 670 kB
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100_000)
    result = sw("import", "--json", str(gpx), str(tcx), str(fit))
    said = {Path(f["file"]).name: (f["status"], f["reason"]) for f in result.json()["files"]}
    assert said == {
        "long.gpx": ("imported", None),
        "long.tcx": ("imported", None),
        "fenix6s-trail-run.fit": ("failed", "too big to be an activity file"),
    }
    monkeypatch.setattr(reading, "MAX_XML_BYTES", 150_000)
    result = sw("import", "--json", str(gpx), str(tcx))
    said = {Path(f["file"]).name: (f["status"], f["reason"]) for f in result.json()["files"]}
    assert said == {
        "long.gpx": ("failed", "too big to be an activity file"),
        "long.tcx": ("failed", "too big to be an activity file"),
    }


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t ", "not a FIT, TCX or GPX file"),  # read past as XML's leading space
        (
            b"\xef\xbb\xbf\n <gpx><trk/></gpx>",
            "GPX file without a track (a route or waypoints only?)",
        ),
        (b" <gpx><trk><trkseg><trkpt lat='1' lon='1'>", "damaged XML: no element found: line 1"),
    ],
)
def test_what_a_stream_starts_with_decides_as_the_whole_file_did(
    sw: Any, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "start.gpx"
    path.write_bytes(content)
    (item,) = sw("import", "--json", str(path)).json()["files"]
    assert item["reason"].startswith(reason)
