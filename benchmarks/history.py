"""History scale: ``check``/``summary`` over 10 years of history, DB size, and a 1,000-file import.

The history is built through the store's own schema (``Store.open`` runs the migrations) with
bulk inserts matching it (samples through the store's own :func:`agent.store.samples.add_samples`):
a run every day with 1 Hz samples as the recorder stores them, a pain report every few days, an
alert every couple of weeks. ``check --json`` and
``summary --json`` then run as whole processes against it, interleaved with
``stridewatch --version`` (the baseline), each the median of N runs.
"""

from __future__ import annotations

import math
import random
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.models import SampleRow
from agent.store import Store
from agent.store.samples import add_samples
from benchmarks.common import (
    STRIDEWATCH,
    Figure,
    Section,
    bench_env,
    interleaved_process_times,
    median_time,
    scratch,
)

# Issue 18's target (issue 7 first asked 1.3x: benchmarks/bounds.md).
TARGET_VS_VERSION = 2.0
RUNNER_CONFIG = """units = "mi"
timezone = "Europe/London"

[runner]
max_hr = 186
resting_hr = 52

[sensors]
allow = ["C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"]

[progression]
weekly_warn = 0.12
"""
END = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # the last day of history, a Friday
AT = "2026-11-20T21:00:00+00:00"


def run(quick: bool) -> Section:
    section = Section("History scale")
    years, repeat, files = (1, 5, 20) if quick else (10, 21, 1000)
    with scratch("history") as folder:
        db = folder / "history.db"
        built_s = _build(db, years, quick)
        size = db.stat().st_size
        env = bench_env(folder)
        _process_figures(section, db, env, repeat, years)
        mb_year = size / years / 1e6
        section.add(
            Figure(
                "history",
                "database size per year of history",
                mb_year,
                None,
                False,
                unit=" MB",
                detail=f"{years} years, {size / 1e6:.0f} MB, built in {built_s:.1f} s",
            )
        )
        _import_figures(section, folder, env, files)
    return section


# -- the synthetic history --------------------------------------------------------------


def _build(db: Path, years: int, quick: bool) -> float:
    start = time.perf_counter()
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute("pragma synchronous = off")
    days = 365 * years
    rng = random.Random(7)
    with conn:
        for i in range(days):
            _add_day(conn, END - timedelta(days=days - 1 - i), rng, quick)
        conn.executemany(_PAIN, _pain_rows(days, rng))
        conn.executemany(_ALERT, _alert_rows(days))
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return time.perf_counter() - start


_RUN = (
    "insert into runs (started_at, ended_at, distance_m, moving_s, elapsed_s, source, status,"
    " device, avg_hr, max_hr, avg_cadence, trimp, created_at) values"
    " (?, ?, ?, ?, ?, 'ble', 'closed', 'C0:FF:EE:00:00:01', ?, ?, ?, ?, ?)"
)
_PAIN = "insert into pain (at, score, timing, location, created_at) values (?, ?, ?, 'knee', ?)"
_ALERT = (
    "insert into alerts (key, rule, severity, message, data, raised_at) "
    "values (?, 'weekly-progression', 'warning', 'over the cap', '{\"level\": 1}', ?)"
)


def _add_day(conn: sqlite3.Connection, start: datetime, rng: random.Random, quick: bool) -> None:
    """One run: 30-70 minutes at 2.6-3.4 m/s, 1 Hz samples (every 60 s with ``quick``)."""
    seconds = rng.randint(1800, 4200)
    speed = rng.uniform(2.6, 3.4)
    stamp = start.isoformat()
    ended = (start + timedelta(seconds=seconds)).isoformat()
    row = (stamp, ended, seconds * speed, seconds, seconds, 150.0, 172.0, 168.0, 60.0, stamp)
    run_id = conn.execute(_RUN, row).lastrowid
    assert run_id is not None
    add_samples(conn, run_id, list(_samples(start.timestamp(), seconds, speed, quick)))


def _samples(t0: float, seconds: int, speed: float, quick: bool) -> Iterator[SampleRow]:
    step = 60 if quick else 1
    for k in range(0, seconds, step):
        v = speed + 0.1 * math.sin(k / 30)
        yield t0 + k, k * speed, v, 168.0 + k % 5, 140 + k % 20


def _pain_rows(days: int, rng: random.Random) -> Iterator[tuple[str, int, str, str]]:
    for i in range(0, days, 3):
        at = (END - timedelta(days=days - 1 - i, hours=-12)).isoformat()
        yield at, rng.randint(0, 4), rng.choice(("after", "morning")), at


def _alert_rows(days: int) -> Iterator[tuple[str, str]]:
    for i in range(0, days, 14):
        at = (END - timedelta(days=days - 1 - i, hours=-14)).isoformat()
        yield f"weekly-progression:{at[:10]}", at


# -- whole-process figures ------------------------------------------------------------------


def _process_figures(
    section: Section, db: Path, env: dict[str, str], repeat: int, years: int
) -> None:
    base = [STRIDEWATCH, "--db", str(db)]
    config = db.with_name("runner.toml")  # a runner's config after `pair` and a few choices
    config.write_text(RUNNER_CONFIG, encoding="utf-8")
    times = interleaved_process_times(
        {
            "version": [STRIDEWATCH, "--version"],
            "check": [*base, "check", "--json", "--at", AT],
            "summary": [*base, "summary", "--json", "--at", AT],
            "configured": [*base, "check", "--json", "--at", AT, "--config", str(config)],
        },
        repeat,
        env=env,
    )
    for name in ("check", "summary"):
        section.add(
            Figure(
                "history",
                f"`{name} --json` / `--version` (whole processes, {years} y history)",
                times[name] / times["version"],
                TARGET_VS_VERSION,
                False,
                detail=f"{name} {times[name] * 1e3:.0f} ms, --version "
                f"{times['version'] * 1e3:.0f} ms, median of {repeat}",
            )
        )
    section.add(
        Figure(
            "history",
            f"`check --json --config FILE` / `--version` (whole processes, {years} y history)",
            times["configured"] / times["version"],
            None,
            False,
            detail=f"check {times['configured'] * 1e3:.0f} ms with a runner's config file "
            "(settings from the cache of the last validation: agent/config_cache.py), "
            f"--version {times['version'] * 1e3:.0f} ms, median of {repeat}",
        )
    )


# -- import -------------------------------------------------------------------------------


def _import_figures(section: Section, folder: Path, env: dict[str, str], files: int) -> None:
    source = folder / "activities"
    source.mkdir()
    paths = [_write_activity(source, i) for i in range(files)]
    db = folder / "import.db"
    start = time.perf_counter()
    subprocess.run(
        [STRIDEWATCH, "--db", str(db), "import", str(source), "--json"],
        stdout=subprocess.DEVNULL,
        check=True,
        env=env,
    )
    elapsed = time.perf_counter() - start
    parse_s = median_time(lambda: [_parse_only(p) for p in paths], 3)
    with sqlite3.connect(db) as conn:
        (imported,) = conn.execute("select count(*) from runs where source = 'import'").fetchone()
    section.add(
        Figure(
            "import",
            f"`import` of {files} files: time / XML parse alone (same files)",
            elapsed / parse_s,
            None,
            False,
            detail=f"{files / elapsed:,.0f} files/s ({elapsed:.2f} s whole process, "
            f"{imported} runs stored); parsing alone {parse_s:.2f} s",
        )
    )


def _parse_only(path: Path) -> object:
    from xml.etree import ElementTree

    return ElementTree.parse(path).getroot()


def _write_activity(folder: Path, i: int) -> Path:
    """A small run file: alternately GPX and TCX, 20 minutes with a point every 10 s."""
    start = END - timedelta(days=i, hours=3)
    if i % 2:
        path = folder / f"run-{i:04d}.tcx"
        path.write_text(_tcx(start))
    else:
        path = folder / f"run-{i:04d}.gpx"
        path.write_text(_gpx(start))
    return path


def _points(start: datetime) -> Iterator[tuple[str, float, float, int, float]]:
    for k in range(0, 1200, 10):
        when = (start + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ")
        # ~2.9 m/s northwards from Ljubljana: 1e-5 degrees of latitude is about 1.11 m.
        yield when, 46.05 + k * 2.9 / 111_195, 14.5, 140 + k % 15, k * 2.9


def _gpx(start: datetime) -> str:
    points = "".join(
        f'<trkpt lat="{lat:.6f}" lon="{lon}"><time>{when}</time></trkpt>'
        for when, lat, lon, _, _ in _points(start)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="bench" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
        f"{points}</trkseg></trk></gpx>"
    )


def _tcx(start: datetime) -> str:
    points = "".join(
        f"<Trackpoint><Time>{when}</Time><DistanceMeters>{d:.1f}</DistanceMeters>"
        f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm></Trackpoint>"
        for when, _, _, hr, d in _points(start)
    )
    begin = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0"?><TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        f'<Activities><Activity Sport="Running"><Id>{begin}</Id><Lap StartTime="{begin}">'
        "<TotalTimeSeconds>1190</TotalTimeSeconds><DistanceMeters>3451</DistanceMeters>"
        f"<Track>{points}</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    )
