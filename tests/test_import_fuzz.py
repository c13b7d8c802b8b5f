"""Fuzzing `stridewatch import` with hostile FIT, TCX and GPX files.

The issue: every input gives a stored run or one line naming the file, never a traceback,
never a negative or non-finite value stored. So for every input here:

- the CLI exits 0 (some run imported or already stored) or 2 (none), never otherwise, and
  no traceback reaches stdout or stderr (``sw`` does not catch exceptions: one escaping the
  command fails the test with its traceback);
- each outcome is one line naming the file (``--json``: every item's ``file`` is the path);
- every stored run and sample holds finite, non-negative totals, a plausible heart rate
  (25-250 bpm) and cadence (above 0, at most 240 steps/min) or none.

FIT files are real ones from the corpus, mutated (byte flips, truncation, byte runs inserted
and deleted, the header's data size changed, checksums recomputed or not so that the
decoder goes past them); TCX and GPX are generated with hostile values. ``read_legs`` is
checked directly on many inputs (fast), the CLI on fewer, each on a fresh database, alone or
over a run logged by hand that the file replaces. Named cases follow: a file name that is
not UTF-8, a FIFO given as a file, a FIT header whose data size is too short, an XML
declaration naming an unknown encoding.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import os
import re
import signal
import sqlite3
import struct
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.files.activity import Activity, ActivityFileError, NotARunError, validated

FAST = settings(
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLI = settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLI_XML = settings(
    max_examples=80,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HR_MIN, HR_MAX = 25.0, 250.0
CADENCE_MAX = 240.0
STATUSES = ("imported", "duplicate", "skipped", "failed")
# Fresh file names across the examples of a test (they share one tmp_path).
_names = itertools.count()


# -- what every import must satisfy -------------------------------------------------------


def reset_db(db: Path) -> None:
    """Each example starts from no database (examples must not depend on each other)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def shown(path: Path) -> str:
    """A path as the importer names it: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(path).decode("utf-8", errors="replace")


def import_checked(
    sw: Any, db: Path, path: Path, *, as_json: bool = True, seed: datetime | None = None
) -> Any:
    """``stridewatch import [--json] PATH`` on a fresh database, with the issue's promises
    checked: exit status, no traceback, one line per outcome naming the file, and only
    finite, plausible values stored. Returns the result.

    ``seed``: first log a run by hand starting then, so that a file of the same run replaces
    its data (any file is a better record than a run logged by hand)."""
    reset_db(db)
    if seed is not None:
        logged = sw("log-run", "--at", seed.isoformat(), "--distance", "5km", "--duration", "30:00")
        assert logged.exit_code == 0, logged.stderr
    result = sw("import", *(["--json"] if as_json else []), str(path))
    context = f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.exit_code in (0, 2), context
    assert "Traceback" not in result.stdout, context
    assert "Traceback" not in result.stderr, context
    name = shown(path)
    if as_json:
        out = result.json()
        items = out["files"]
        assert items, context
        for item in items:
            assert item["file"] == name, context
            assert item["status"] in STATUSES, context
            assert "\n" not in (item["reason"] or ""), context
        counts = {status: sum(i["status"] == status for i in items) for status in STATUSES}
        assert {status: out[status] for status in STATUSES} == counts, context
        stored = counts["imported"] + counts["duplicate"]
    else:
        lines = result.stdout.splitlines()
        assert len(lines) >= 2, context  # at least one outcome, then the counts
        line = re.compile(rf"({'|'.join(STATUSES)}) +{re.escape(name)}(: | \[(leg|activity) )")
        for text in lines[:-1]:
            assert line.match(text), context
        stored = sum(text.startswith(("imported", "duplicate")) for text in lines[:-1])
    assert result.exit_code == (0 if stored else 2), context
    if result.exit_code == 2:
        assert result.stderr.startswith("stridewatch: no run imported"), context
    assert len(result.stderr.splitlines()) <= 1, context
    check_stored(db)
    return result


def finite_at_least_0(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0


def plausible_hr(value: Any) -> bool:
    return value is None or (finite_at_least_0(value) and HR_MIN <= value <= HR_MAX)


def plausible_cadence(value: Any) -> bool:
    return value is None or (finite_at_least_0(value) and 0 < value <= CADENCE_MAX)


def check_stored(db: Path) -> None:
    """Every stored run and sample: finite, non-negative, plausible (or none)."""
    if not db.exists():
        return
    latest = datetime.now(UTC) + timedelta(days=1)
    with closing(sqlite3.connect(db)) as conn:
        runs = conn.execute(
            "select id, started_at, ended_at, distance_m, moving_s, elapsed_s, avg_hr, max_hr,"
            " avg_cadence from runs"
        ).fetchall()
        for run in runs:
            _, started, ended, distance, moving, elapsed, avg_hr, max_hr, cadence = run
            assert finite_at_least_0(distance), run
            assert finite_at_least_0(moving), run
            assert finite_at_least_0(elapsed), run
            assert plausible_hr(avg_hr), run
            assert plausible_hr(max_hr), run
            assert plausible_cadence(cadence), run
            start = datetime.fromisoformat(started)
            assert datetime(1990, 1, 1, tzinfo=UTC) <= start <= latest, run
            assert datetime.fromisoformat(ended) >= start, run
        samples = conn.execute(
            "select run_id, t, distance_m, speed, cadence, hr from samples"
        ).fetchall()
        for sample in samples:
            _, t, distance, speed, cadence, hr = sample
            assert isinstance(t, (int, float)), sample
            assert math.isfinite(t), sample
            assert finite_at_least_0(distance), sample
            assert speed is None or finite_at_least_0(speed), sample
            assert plausible_cadence(cadence), sample
            assert plausible_hr(hr), sample


def check_activity(activity: Activity) -> None:
    """An activity as :func:`validated` lets it through: what may reach the database."""
    for total in (activity.distance_m, activity.moving_s, activity.elapsed_s):
        assert finite_at_least_0(total), activity
    assert activity.started_at.tzinfo is not None
    assert plausible_hr(activity.avg_hr), activity
    assert plausible_hr(activity.max_hr), activity
    assert plausible_cadence(activity.avg_cadence), activity
    for t, distance, speed, cadence, hr in activity.samples:
        assert isinstance(t, (int, float))
        assert math.isfinite(t)
        assert finite_at_least_0(distance)
        assert speed is None or finite_at_least_0(speed)
        assert plausible_cadence(cadence)
        assert plausible_hr(hr)


def check_read_legs(data: bytes) -> None:
    """``read_legs`` raises nothing but the two file errors (each one line), and what it
    returns is either refused by :func:`validated` or finite and plausible once through."""
    from agent.files.importer import read_legs

    said: list[str] = []
    try:
        legs = read_legs(data)
    except (ActivityFileError, NotARunError) as exc:
        said.append(str(exc))
        legs = []
    now = datetime.now(UTC)
    for leg in legs:
        if isinstance(leg, ActivityFileError):
            said.append(str(leg))
            continue
        assert isinstance(leg, Activity)
        try:
            checked = validated(leg, now)
        except ActivityFileError as exc:
            said.append(str(exc))
            continue
        check_activity(checked)
    assert all("\n" not in line for line in said), said


def fresh(tmp_path: Path, suffix: str) -> Path:
    return tmp_path / f"fuzz-{next(_names)}{suffix}"


# -- FIT: real files, mutated -------------------------------------------------------------

# Small enough to decode in milliseconds: mutated as they are.
SMALL_FIT = (
    "garmin-fenix-5-run.fit",
    "garmin-fenix-5-walk.fit",
    "garmin-fenix-5-bike.fit",
    "fr70-footpod-system-time.fit",  # 12-byte header, device clock never set
    "activity-unexpected-eof.fit",
    "activity-settings-corruptheader.fit",
    "Settings.fit",
    "strava-android-app-201.10-b1218918.fit",
)
# Too big to decode 300 times: their first kilobytes (other devices' definitions and
# records), made a whole file again (data size and checksums), then mutated.
BIG_FIT = (
    "fr965-run-2026.fit",
    "fr255-sprint-triathlon.fit",
    "activity-small-fenix2-run.fit",
    "fenix6s-trail-run.fit",
)

# FIT SDK, "FIT file CRC": the nibble table.
_CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def fit_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ _CRC_TABLE[nibble]
    return crc


@cache
def corpus_bytes(folder: Path, name: str) -> bytes:
    return (folder / name).read_bytes()


def header_size(data: bytes | bytearray) -> int:
    return data[0] if data and data[0] in (12, 14) else 12


def set_data_size(data: bytearray, size: int) -> None:
    if len(data) >= 8:
        struct.pack_into("<I", data, 4, size % 2**32)


def fix_crcs(data: bytearray, *, header: str) -> None:
    """Recompute the header's CRC ("fix"), or zero it ("zero": not checked), and the file's
    CRC (its last two bytes) so the decoder reads on past the mutations."""
    if len(data) >= 14 and data[0] == 14:
        value = fit_crc(bytes(data[:12])) if header == "fix" else 0
        struct.pack_into("<H", data, 12, value)
    if len(data) >= 16:
        struct.pack_into("<H", data, len(data) - 2, fit_crc(bytes(data[:-2])))


@cache
def original_start(folder: Path, name: str) -> datetime | None:
    """When the unmutated file's first activity started (None: no dated activity)."""
    from agent.files.importer import read_legs

    try:
        legs = read_legs(corpus_bytes(folder, name))
    except (ActivityFileError, NotARunError):
        return None
    starts = [leg.started_at for leg in legs if isinstance(leg, Activity) and not leg.clock_unset]
    return starts[0] if starts else None


def whole_prefix(data: bytes, length: int) -> bytearray:
    """The first ``length`` bytes of a FIT file as a whole file: data size and CRCs set."""
    head = bytearray(data[: max(length, header_size(data))])
    set_data_size(head, len(head) - header_size(head))
    head += b"\0\0"
    fix_crcs(head, header="fix")
    return head


Mutation = tuple[Any, ...]

# Where a mutation goes: 0 and up counts from the end of the header (taken modulo the
# length of what follows it), -16 to -1 are the header's bytes and the first few after it.
body = st.integers(0, 2**20)
positions = st.one_of(body, body, body, st.integers(-16, -1))
mutations: st.SearchStrategy[Mutation] = st.one_of(
    st.tuples(st.just("flip"), positions, st.integers(1, 255)),
    st.tuples(st.just("set"), positions, st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x0E])),
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("delete"), positions, st.integers(1, 64)),
    st.tuples(st.just("insert"), positions, st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("size"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("size+"), st.integers(-64, 64)),
)


@st.composite
def fit_recipes(draw: st.DrawFn) -> tuple[str, int | None, list[Mutation], str]:
    """(corpus file, prefix length for big files, mutations, checksums: keep/fix/zero)."""
    if draw(st.integers(0, 3)) == 0:
        name, prefix = draw(st.sampled_from(BIG_FIT)), draw(st.integers(16, 12_000))
    else:
        name, prefix = draw(st.sampled_from(SMALL_FIT)), None
    steps = draw(st.lists(mutations, min_size=1, max_size=4))
    crcs = draw(st.sampled_from(["keep", "fix", "zero"]))
    return name, prefix, steps, crcs


def position(data: bytearray, where: int) -> int:
    if not data:
        return 0
    if where < 0:
        return (where + 16) % len(data)
    start = min(header_size(data), len(data) - 1)
    return start + where % (len(data) - start)


def mutated_fit(folder: Path, recipe: tuple[str, int | None, list[Mutation], str]) -> bytes:
    name, prefix, steps, crcs = recipe
    original = corpus_bytes(folder, name)
    data = whole_prefix(original, prefix) if prefix is not None else bytearray(original)
    for step in steps:
        kind = step[0]
        at = position(data, step[1]) if kind not in ("size", "size+") else 0
        if kind == "flip" and data:
            data[at] ^= step[2]
        elif kind == "set" and data:
            data[at] = step[2]
        elif kind == "truncate":
            del data[at:]
        elif kind == "delete":
            del data[at : at + step[2]]
        elif kind == "insert":
            data[at:at] = step[2]
        elif kind == "size":
            set_data_size(data, step[1])
        elif kind == "size+" and len(data) >= 8:
            set_data_size(data, struct.unpack_from("<I", data, 4)[0] + step[1])
    if crcs != "keep":
        fix_crcs(data, header=crcs)
    return bytes(data)


@FAST
@given(recipe=fit_recipes())
def test_read_legs_on_mutated_fit_files(corpus: Path, recipe: Any) -> None:
    check_read_legs(mutated_fit(corpus, recipe))


@CLI
@given(recipe=fit_recipes(), as_json=st.booleans(), seeded=st.booleans())
def test_import_of_mutated_fit_files(
    sw: Any, db: Path, tmp_path: Path, corpus: Path, recipe: Any, as_json: bool, seeded: bool
) -> None:
    """Each mutated file imported alone, or over a run logged by hand when the original
    started (which the file then replaces)."""
    path = fresh(tmp_path, ".fit")
    path.write_bytes(mutated_fit(corpus, recipe))
    name, prefix = recipe[0], recipe[1]
    seed = original_start(corpus, name) if seeded and prefix is None else None
    import_checked(sw, db, path, as_json=as_json, seed=seed)


def test_unmutated_corpus_files_keep_the_promises(sw: Any, db: Path, corpus: Path) -> None:
    """The baseline the mutations start from, and every TCX and GPX of the corpus."""
    xml = sorted(p.name for p in corpus.iterdir() if p.suffix in (".tcx", ".gpx"))
    assert xml
    for name in (*SMALL_FIT, *xml):
        import_checked(sw, db, corpus / name, as_json=name.endswith(".fit"))


# -- TCX and GPX: generated with hostile values ---------------------------------------------

BASE = datetime(2025, 6, 1, 7, 0, tzinfo=UTC)
HOSTILE_TIMES = (
    "9999-12-31T23:59:59-05:00",  # past datetime.max once in UTC
    "0001-01-01T00:00:00+05:00",  # before datetime.min once in UTC
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z",
    "2025-06-01T07:00:00",  # no offset
    "2025-02-30T07:00:00Z",
    "2025-06-01T07:00:00+25:00",
    "not a time",
    " ",
)
HOSTILE_NUMBERS = ("inf", "-inf", "nan", "1e400", "-1e400", "1e300", "-5", "-5000", "0", "x", " ")
HOSTILE_DEGREES = ("inf", "-inf", "nan", "1e400", "100", "200", "-91", "181", "-181", "x")
HOSTILE_HR = ("1e300", "-5", "nan", "inf", "0", "300", "24", "1e400")
HOSTILE_CADENCE = ("0", "-3", "500", "241", "nan", "1e300")
PREFIXES = ("", "", " ", "\n\n  ", "\ufeff", "\ufeff\n", " \ufeff", "\t\r\n\ufeff\ufeff ")
UTF8_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
DECLARATIONS = (
    '<?xml version="1.0"?>',
    "",
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n',
    '<?xml version="1.0" encoding="UTF-16"?>\n',  # but the bytes are UTF-8
    '<?xml version="1.0" encoding="bogus"?>\n',
)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def element(tag: str, value: str | None) -> str:
    """``<tag>value</tag>``; empty for ``""``; absent for None."""
    if value is None:
        return ""
    return f"<{tag}/>" if value == "" else f"<{tag}>{value}</{tag}>"


def attribute(name: str, value: str | None) -> str:
    return "" if value is None else f' {name}="{value}"'


def numbers(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high).map(lambda v: f"{v:.3f}")


class Values:
    """Draws a file's values: each one plausible, or with the file's ``level`` (percent)
    hostile, empty or missing. Values shrink towards plausible (and the level towards 0),
    so a failing file shrinks to the hostile values it needs."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.level = draw(st.sampled_from([0, 2, 5, 15, 40]))

    def hostile(self) -> bool:
        return self.draw(st.integers(0, 99)) >= 100 - self.level

    def value(self, plausible: st.SearchStrategy[str], bad: Sequence[str]) -> str | None:
        if self.hostile():
            return self.draw(st.sampled_from([*bad, "", None]))
        return self.draw(plausible)

    def time(self, index: int, step_s: int) -> str | None:
        """The ``index``-th time of a track, or one out of order, hostile or missing."""
        if self.hostile():
            seconds = self.draw(st.integers(-3600, 4 * 3600))
            shuffled = iso(BASE + timedelta(seconds=seconds))
            return self.draw(st.sampled_from([shuffled, shuffled, *HOSTILE_TIMES, "", None]))
        return iso(BASE + timedelta(seconds=index * step_s))


def xml_file(values: Values, body: str) -> bytes:
    """``body`` behind a declaration and leading bytes, maybe gzipped."""
    draw = values.draw
    prefix = draw(st.sampled_from(PREFIXES))
    declaration = draw(st.sampled_from(DECLARATIONS)) if values.hostile() else UTF8_DECLARATION
    data = (prefix + declaration + body).encode("utf-8")
    return gzip.compress(data, mtime=0) if draw(st.booleans()) else data


def tcx_point(values: Values, index: int) -> str:
    """A trackpoint a minute after the last, 180 m further: 3 m/s."""
    hr = values.value(st.integers(60, 200).map(str), HOSTILE_HR)
    speed = values.value(numbers(0, 6), HOSTILE_NUMBERS)
    strides = values.value(numbers(50, 95), HOSTILE_CADENCE)
    extensions = (
        "<Extensions><ns3:TPX>"
        + element("ns3:Speed", speed)
        + element("ns3:RunCadence", strides)
        + "</ns3:TPX></Extensions>"
    )
    cadence = values.draw(st.sampled_from(HOSTILE_CADENCE)) if values.hostile() else None
    return (
        "<Trackpoint>"
        + element("Time", values.time(index, 60))
        + element("DistanceMeters", values.value(st.just(f"{index * 180}"), HOSTILE_NUMBERS))
        + element("HeartRateBpm", element("Value", hr) if hr else hr)
        + element("Cadence", cadence)
        + (extensions if values.draw(st.booleans()) else "")
        + "</Trackpoint>"
    )


def tcx_lap(values: Values, index: int, points: list[str]) -> str:
    draw = values.draw
    avg_hr = values.value(numbers(60, 200), HOSTILE_HR)
    max_hr = values.value(numbers(60, 200), HOSTILE_HR)
    track = (
        "<Track>" + "".join(points) + "</Track>"
        if points
        else draw(st.sampled_from(["", "<Track/>"]))
    )
    return (
        f"<Lap{attribute('StartTime', values.time(index, 60))}>"
        + element("TotalTimeSeconds", values.value(numbers(0, 4000), HOSTILE_NUMBERS))
        + element("DistanceMeters", values.value(numbers(0, 12000), HOSTILE_NUMBERS))
        + element("AverageHeartRateBpm", element("Value", avg_hr) if avg_hr else avg_hr)
        + element("MaximumHeartRateBpm", element("Value", max_hr) if max_hr else max_hr)
        + track
        + "</Lap>"
    )


@st.composite
def tcx_files(draw: st.DrawFn) -> bytes:
    """One or two activities (a multisport file) of up to three laps of up to five points."""
    values = Values(draw)
    activities = []
    index = 0
    for _ in range(draw(st.integers(1, 2))):
        laps = []
        for _ in range(draw(st.integers(0, 3)) if values.hostile() else draw(st.integers(1, 3))):
            first = index
            points = []
            for _ in range(draw(st.integers(0, 5))):
                points.append(tcx_point(values, index))
                index += 1
            laps.append(tcx_lap(values, first, points))
        sport = (
            draw(st.sampled_from(["Running", "Biking", "Other", "", None]))
            if values.hostile()
            else "Running"
        )
        activities.append(
            f"<Activity{attribute('Sport', sport)}>"
            + element("Id", values.time(0, 60))
            + "".join(laps)
            + "</Activity>"
        )
    body = (
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
        'TrainingCenterDatabase/v2" xmlns:ns3="http://www.garmin.com/xmlschemas/'
        'ActivityExtension/v2"><Activities>' + "".join(activities) + "</Activities>"
        "</TrainingCenterDatabase>"
    )
    return xml_file(values, body)


def gpx_point(values: Values, index: int) -> str:
    """A point 0.001 degree north of the last, 30 s later: 3.7 m/s."""
    lat = values.value(st.just(f"{46 + index * 0.001:.6f}"), HOSTILE_DEGREES)
    lon = values.value(st.just("7.000000"), HOSTILE_DEGREES)
    hr = values.value(st.integers(60, 200).map(str), HOSTILE_HR)
    cadence = values.value(st.integers(70, 95).map(str), HOSTILE_CADENCE)
    return (
        f"<trkpt{attribute('lat', lat)}{attribute('lon', lon)}>"
        + element("ele", values.value(numbers(-100, 3000), HOSTILE_NUMBERS))
        + element("time", values.time(index, 30))
        + "<extensions><gpxtpx:TrackPointExtension>"
        + element("gpxtpx:hr", hr)
        + element("gpxtpx:cad", cadence)
        + "</gpxtpx:TrackPointExtension></extensions></trkpt>"
    )


@st.composite
def gpx_files(draw: st.DrawFn) -> bytes:
    """One or two tracks (of one sport or two) of one or two segments of up to 8 points."""
    values = Values(draw)
    tracks = []
    index = 0
    for _ in range(draw(st.integers(1, 2))):
        segments = []
        for _ in range(draw(st.integers(1, 2))):
            points = []
            for _ in range(draw(st.integers(0, 8))):
                points.append(gpx_point(values, index))
                index += 1
            segments.append("<trkseg>" + "".join(points) + "</trkseg>")
        kinds = [None, "running", "cycling", "9", "", "walking"]
        kind = draw(st.sampled_from(kinds)) if values.hostile() else "running"
        tracks.append("<trk>" + element("type", kind) + "".join(segments) + "</trk>")
    body = (
        '<gpx version="1.1" creator="fuzz" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        + "".join(tracks)
        + "</gpx>"
    )
    return xml_file(values, body)


@FAST
@given(data=st.one_of(tcx_files(), gpx_files()))
def test_read_legs_on_hostile_xml(data: bytes) -> None:
    check_read_legs(data)


@CLI_XML
@given(data=tcx_files(), as_json=st.booleans(), seeded=st.booleans())
def test_import_of_hostile_tcx(
    sw: Any, db: Path, tmp_path: Path, data: bytes, as_json: bool, seeded: bool
) -> None:
    check_read_legs(data)
    path = fresh(tmp_path, ".tcx")
    path.write_bytes(data)
    import_checked(sw, db, path, as_json=as_json, seed=BASE if seeded else None)


@CLI_XML
@given(data=gpx_files(), as_json=st.booleans(), seeded=st.booleans())
def test_import_of_hostile_gpx(
    sw: Any, db: Path, tmp_path: Path, data: bytes, as_json: bool, seeded: bool
) -> None:
    check_read_legs(data)
    path = fresh(tmp_path, ".gpx")
    path.write_bytes(data)
    import_checked(sw, db, path, as_json=as_json, seed=BASE if seeded else None)


# -- named hostile cases --------------------------------------------------------------------


def plain_gpx_run() -> bytes:
    """Eleven points due north, 0.001 degree and 30 s apart: a run of 1.1 km in 5 minutes."""
    points = "".join(
        f'<trkpt lat="{46 + i * 0.001:.6f}" lon="7.0"><time>{iso(BASE + timedelta(seconds=30 * i))}'
        "</time></trkpt>"
        for i in range(11)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
        f"{points}</trkseg></trk></gpx>"
    ).encode()


@pytest.mark.parametrize("content", ["run", "garbage"])
@pytest.mark.parametrize("as_json", [False, True])
def test_file_name_that_is_not_utf8(
    sw: Any, db: Path, tmp_path: Path, content: str, as_json: bool
) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/run\xff\xfe.gpx"))
    path.write_bytes(plain_gpx_run() if content == "run" else b"<gpx><trk><trkseg><trkpt")
    result = import_checked(sw, db, path, as_json=as_json)
    assert result.exit_code == (0 if content == "run" else 2)
    if as_json:
        json.loads(result.stdout)  # valid JSON (no lone surrogates)
        assert result.json()["files"][0]["file"].endswith("/run\ufffd\ufffd.gpx")


@contextmanager
def fails_after(seconds: int) -> Iterator[None]:
    """Fail (rather than hang the suite) when the block blocks longer than ``seconds``."""

    def expired(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", ["pipe.fit", "pipe.gpx.gz", "pipe.zip"])
def test_fifo_is_refused_without_blocking(sw: Any, db: Path, tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    started = time.monotonic()
    with fails_after(20):
        result = import_checked(sw, db, fifo, as_json=False)
    assert time.monotonic() - started < 20
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith(f"failed    {fifo}: not a regular file")


@pytest.mark.parametrize(
    ("name", "size", "header_crc"),
    [
        *(
            ("garmin-fenix-5-run.fit", size, crc)  # 14-byte header, with its own CRC
            for size in ("0", "1", "half", "one short")
            for crc in ("fix", "zero", "keep")
        ),
        *(
            ("fr70-footpod-system-time.fit", size, "none")  # 12-byte header: no CRC
            for size in ("0", "1", "half", "one short")
        ),
    ],
)
def test_fit_header_data_size_too_short(
    sw: Any, db: Path, tmp_path: Path, corpus: Path, name: str, size: str, header_crc: str
) -> None:
    """The header says the data is shorter than it is: the decoder meets a record that
    runs past the stated end, or a second header where the data goes on. The header's CRC
    is recomputed, zeroed (not checked) or kept stale; the file's CRC stays the device's."""
    data = bytearray(corpus_bytes(corpus, name))
    real = len(data) - header_size(data) - 2
    set_data_size(data, {"0": 0, "1": 1, "half": real // 2, "one short": real - 1}[size])
    if header_crc in ("fix", "zero"):
        crc = fit_crc(bytes(data[:12])) if header_crc == "fix" else 0
        struct.pack_into("<H", data, 12, crc)
    check_read_legs(bytes(data))
    path = fresh(tmp_path, ".fit")
    path.write_bytes(bytes(data))
    import_checked(sw, db, path)


def test_fit_data_size_shorter_than_its_first_record(sw: Any, db: Path, tmp_path: Path) -> None:
    """The smallest such file (no corpus needed): a 12-byte header saying 1 byte of data,
    then a 9-byte definition message and a CRC."""
    header = b"\x0c\x10\x00\x00" + struct.pack("<I", 1) + b".FIT"
    definition = b"\x40\x00\x00\x00\x00\x01\x00\x01\x00"
    data = header + definition + b"\x00\x00"
    check_read_legs(data)
    path = tmp_path / "short.fit"
    path.write_bytes(data)
    result = import_checked(sw, db, path, as_json=False)
    assert result.stdout.startswith(f"failed    {path}: ")


@pytest.mark.parametrize("encoding", ["bogus", "UTF-16", "ISO-8859-1", "ascii"])
@pytest.mark.parametrize("root", ["gpx", "TrainingCenterDatabase"])
def test_xml_declaring_an_encoding(
    sw: Any, db: Path, tmp_path: Path, encoding: str, root: str
) -> None:
    """An XML declaration naming an encoding Python does not know, or one the bytes are not
    in: one line (failed, or read as it is), no traceback."""
    data = f'<?xml version="1.0" encoding="{encoding}"?><{root}/>'.encode()
    check_read_legs(data)
    path = tmp_path / "declared.gpx"
    path.write_bytes(data)
    import_checked(sw, db, path, as_json=False)
