"""`stridewatch import` of small files made here, one per kind of quirk real exports have:
sport names and numbers, bytes before the XML declaration, several activities in one file,
the same run from two sources, lap aggregates, track order, speed, pause markers, an unset
clock, and values no person can have."""

from __future__ import annotations

import itertools
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.files.fit_maker import Leg, make_fit
from tests.files.xml_maker import Lap, Point, gpx, north, tcx, tcx_activity

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def write(path: Path, text: str | bytes) -> str:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def items(result: Any) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = result.json()["files"]
    return files


def one(result: Any) -> dict[str, Any]:
    (item,) = items(result)
    return item


def stored(db: Path, column: str = "*") -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(f"select {column} from runs order by started_at").fetchall()
    finally:
        conn.close()


def run_gpx(sport: str | None = None, creator: str = "tests", **kw: Any) -> str:
    """Twenty minutes at 3 m/s: 3.6 km."""
    return gpx([north(START, 1200, 3.0)], sport=sport, creator=creator, **kw)


# -- 1. sport names and numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sport", "creator", "status", "reason"),
    [
        ("9", "StravaGPX", "imported", None),  # Strava: Run
        ("53", "StravaGPX Android", "imported", None),  # Strava: VirtualRun
        ("1", "StravaGPX", "skipped", "ride activity, not a run"),
        ("16", "StravaGPX iPhone", "skipped", "swim activity, not a run"),
        ("10", "StravaGPX", "skipped", "walk activity, not a run"),
        ("1", "Runtastic: Life is short - live long", "imported", None),  # Runtastic: running
        ("Running", "Runkeeper - http://www.runkeeper.com", "imported", None),
        ("Cycling", "Runkeeper - http://www.runkeeper.com", "skipped", "cycling activity"),
        ("RUNNING", "Endomondo.com", "imported", None),
        ("CYCLING_SPORT", "Endomondo.com", "skipped", "cycling activity"),
        ("running", "OpenTracks", "imported", None),
        ("biking", "OpenTracks", "skipped", "cycling activity"),
        ("trail_running", "Garmin Connect", "imported", None),
        ("walking", "Garmin Connect", "skipped", "walking activity"),
        ("TREADMILL_RUNNING", "Polar Flow", "imported", None),
        ("HIKING", "Polar Flow", "skipped", "hiking activity"),
    ],
)
def test_sport_names_and_numbers_of_many_apps(
    sw: Any, tmp_path: Path, sport: str, creator: str, status: str, reason: str | None
) -> None:
    path = write(tmp_path / "a.gpx", run_gpx(sport, creator))
    item = one(sw("import", "--json", path))
    assert item["status"] == status
    if reason is not None:
        assert reason in item["reason"]
        assert not item["reason"][0].isdigit()  # a readable name, not "9 activity"


def test_a_free_text_category_is_judged_by_speed(sw: Any, tmp_path: Path) -> None:
    # OpenTracks writes the runner's own category: "Laufen" is not a word this knows.
    path = write(tmp_path / "a.gpx", run_gpx("Laufen", "OpenTracks"))
    result = sw("import", path)
    assert result.exit_code == 0
    assert "no sport in the file: taken as a run" in result.stdout


@pytest.mark.parametrize(
    "prefix",
    [" " * 10, "\ufeff\n", "\ufeff", "\n\t \r\n"],
    ids=["strava-spaces", "polar-bom-newline", "bom", "whitespace"],
)
def test_bytes_before_the_xml_declaration(sw: Any, tmp_path: Path, prefix: str) -> None:
    lap = Lap(START, 600, 1800.0, hr=150, points=60)
    tcx_path = write(tmp_path / "a.tcx", tcx([tcx_activity("Running", [lap])], prefix=prefix))
    later = START + timedelta(days=1)
    gpx_text = gpx([north(later, 600, 3.0)], sport="running", prefix=prefix)
    gpx_path = write(tmp_path / "b.gpx", gpx_text)
    result = sw("import", "--json", tcx_path, gpx_path)
    assert [i["status"] for i in items(result)] == ["imported", "imported"], result.stdout


# -- 2. several activities in one file ---------------------------------------------------


def test_a_tcx_with_three_activities_gives_three_runs(sw: Any, tmp_path: Path) -> None:
    days = [START + timedelta(days=d) for d in range(3)]
    acts = [tcx_activity("Running", [Lap(day, 1800, 5000.0, hr=140)]) for day in days]
    path = write(tmp_path / "three.tcx", tcx(acts))
    assert "three.tcx [activity 2 of 3]: run 2, 2026-03-02 08:00 UTC" in sw("import", path).stdout
    result = sw("import", "--json", path)
    assert [(i["status"], i["leg"]) for i in items(result)] == [
        ("duplicate", "activity 1 of 3"),
        ("duplicate", "activity 2 of 3"),
        ("duplicate", "activity 3 of 3"),
    ]
    assert len(sw("runs", "--json").json()) == 3


def test_a_tcx_multisport_session_keeps_its_run_leg(sw: Any, tmp_path: Path, db: Path) -> None:
    bike1 = tcx_activity("Biking", [Lap(START, 1800, 15000.0)])
    run = tcx_activity("Running", [Lap(START + timedelta(minutes=31), 1500, 5000.0, hr=160)])
    bike2 = tcx_activity("Biking", [Lap(START + timedelta(minutes=57), 1800, 15000.0)])
    path = write(tmp_path / "duathlon.tcx", tcx([bike1, run, bike2], multisport=True))
    result = sw("import", "--json", path)
    assert result.exit_code == 0
    assert [(i["status"], i["reason"]) for i in items(result)] == [
        ("skipped", "cycling leg, not a run"),
        ("imported", None),
        ("skipped", "cycling leg, not a run"),
    ]
    (row,) = stored(db)
    assert (row["distance_m"], row["moving_s"], row["avg_hr"]) == (5000.0, 1500.0, 160.0)


def test_a_fit_multisport_file_keeps_each_run_leg_with_its_own_totals(
    sw: Any, tmp_path: Path, db: Path
) -> None:
    legs = [
        Leg("RUNNING", 900, 3000.0, hr=150, strides=84),
        Leg("TRANSITION", 60, 50.0),
        Leg("CYCLING", 1800, 15000.0, hr=140),
        Leg("RUNNING", 600, 2000.0, hr=165, strides=90),
    ]
    path = write(tmp_path / "duathlon.fit", make_fit(START, legs))
    result = sw("import", "--json", path)
    assert [i["status"] for i in items(result)] == ["imported", "skipped", "skipped", "imported"]
    assert items(result)[1]["reason"] == "transition leg, not a run"
    first, second = stored(db)
    assert (first["distance_m"], first["avg_hr"], first["avg_cadence"]) == (3000.0, 150, 168)
    assert (second["distance_m"], second["avg_hr"], second["avg_cadence"]) == (2000.0, 165, 180)
    # Each leg ends where it ends, not where the file does.
    assert second["elapsed_s"] == 600.0
    assert first["ended_at"] == (START + timedelta(seconds=900)).isoformat()


def test_two_running_sessions_are_two_runs(sw: Any, tmp_path: Path, db: Path) -> None:
    legs = [Leg("RUNNING", 1200, 4000.0, hr=140), Leg("RUNNING", 1200, 4200.0, hr=170)]
    result = sw("import", "--json", write(tmp_path / "two.fit", make_fit(START, legs)))
    assert result.json()["imported"] == 2
    assert [row["avg_hr"] for row in stored(db)] == [140, 170]


# -- 3. the same run from two sources ----------------------------------------------------


def _same_run_files(tmp_path: Path) -> tuple[str, str]:
    """A watch run as FIT (3000 m by the device) and as GPX (the GPS track, 1.6% longer,
    started the same second)."""
    fit = write(tmp_path / "run.fit", make_fit(START, [Leg("RUNNING", 1000, 3000.0, hr=150)]))
    track = gpx([north(START, 1000, 3.048)], sport="running")
    return fit, write(tmp_path / "run.gpx", track)


@pytest.mark.parametrize("fit_first", [True, False], ids=["fit-then-gpx", "gpx-then-fit"])
def test_the_same_run_as_fit_and_gpx_is_stored_once_keeping_the_fit(
    sw: Any, tmp_path: Path, db: Path, fit_first: bool
) -> None:
    fit, track = _same_run_files(tmp_path)
    order = [fit, track] if fit_first else [track, fit]
    first = one(sw("import", "--json", order[0]))
    second = one(sw("import", "--json", order[1]))
    assert first["status"] == "imported"
    assert (second["status"], second["run_id"]) == ("duplicate", first["run_id"])
    if fit_first:
        assert second["reason"].endswith("kept the stored FIT")
    else:
        assert second["reason"].endswith("kept this FIT over the stored GPX")
    (row,) = stored(db)
    assert (row["distance_m"], row["import_file"]) == (3000.0, "run.fit")


def test_runs_that_do_not_overlap_are_different_runs(sw: Any, tmp_path: Path) -> None:
    morning = gpx([north(START, 600, 3.0)], sport="running")
    # Starts 4 minutes after the first ended: within minutes, but sharing no time.
    evening = gpx([north(START + timedelta(seconds=840), 600, 3.0)], sport="running")
    result = sw(
        "import", "--json", write(tmp_path / "a.gpx", morning), write(tmp_path / "b.gpx", evening)
    )
    assert result.json()["imported"] == 2


# -- 4. aggregates from laps, cadence units, one average cadence ----------------------------


def test_tcx_average_hr_is_weighted_by_lap_time(sw: Any, tmp_path: Path, db: Path) -> None:
    laps = [
        Lap(START, 142, 142.9, hr=117),
        Lap(START + timedelta(seconds=142), 3368, 4366.0, hr=131),
    ]
    sw("import", write(tmp_path / "polar.tcx", tcx([tcx_activity("Running", laps)])))
    (row,) = stored(db)
    assert row["avg_hr"] == pytest.approx((142 * 117 + 3368 * 131) / 3510)  # 130.4, not 124


@pytest.mark.parametrize(
    ("values", "expected"),
    [((85, 85), 170.0), ((160, 170), 165.0), ((118, 178), 148.0)],
    ids=["strides", "steps", "steps-wide"],
)
def test_cadence_units_are_decided_per_file(
    sw: Any, tmp_path: Path, db: Path, values: tuple[int, int], expected: float
) -> None:
    lap1 = Lap(START, 300, 900.0, points=30, run_cadence=values[0])
    lap2 = Lap(START + timedelta(seconds=300), 300, 900.0, points=31, run_cadence=values[1])
    sw("import", write(tmp_path / "c.tcx", tcx([tcx_activity("Running", [lap1, lap2])])))
    (row,) = stored(db)
    assert row["avg_cadence"] == pytest.approx(expected, abs=3)
    assert row["avg_cadence"] <= 240


def test_export_writes_the_stored_average_cadence(sw: Any, tmp_path: Path, db: Path) -> None:
    import fitdecode

    # Standing at the lights for a minute (cadence 0) in the middle of a run at 170.
    points = north(START, 300, 3.0, cad=85)
    stop = points[-1].lat
    points += [Point(START + timedelta(seconds=s), stop, cad=0) for s in range(301, 361)]
    points += [
        Point(p.t + timedelta(seconds=360), p.lat + stop, cad=85)  # type: ignore[operator]
        for p in north(START, 300, 3.0)[1:]
    ]
    run_id = one(sw("import", "--json", write(tmp_path / "l.gpx", gpx([points], "running"))))
    out = tmp_path / "out.fit"
    assert sw("export", str(run_id["run_id"]), "-o", str(out)).exit_code == 0
    (row,) = stored(db)
    with fitdecode.FitReader(str(out)) as reader:
        session = next(
            f for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.name == "session"
        )
    written = session.get_value("avg_cadence") + session.get_value("avg_fractional_cadence")
    assert row["avg_cadence"] == pytest.approx(170.0)
    assert written * 2 == pytest.approx(row["avg_cadence"], abs=0.02)


# -- 5. track order and sport by speed ---------------------------------------------------


def test_points_out_of_time_order_keep_the_file_order(sw: Any, tmp_path: Path) -> None:
    track = north(START, 1200, 3.0, hr=150)
    # Every tenth point is a heart-rate point stamped a minute early, where the app was then.
    mixed = [
        Point(p.t - timedelta(seconds=60), p.lat, hr=140) if i % 10 == 5 else p  # type: ignore[operator]
        for i, p in enumerate(track)
    ]
    item = one(sw("import", "--json", write(tmp_path / "m.gpx", gpx([mixed], "running"))))
    assert item["status"] == "imported"
    assert item["distance_km"] == pytest.approx(3.6, abs=0.01)


def test_a_track_written_backwards_is_sorted(sw: Any, tmp_path: Path) -> None:
    track = list(reversed(north(START, 600, 3.0)))
    item = one(sw("import", "--json", write(tmp_path / "r.gpx", gpx([track], "running"))))
    assert item["distance_km"] == pytest.approx(1.8, abs=0.01)


@pytest.mark.parametrize(("kmh", "forced"), [(23, "imported"), (30, "skipped"), (37, "skipped")])
def test_an_untyped_track_at_riding_or_driving_speed_is_not_a_run(
    sw: Any, tmp_path: Path, kmh: int, forced: str
) -> None:
    path = write(tmp_path / "fast.gpx", gpx([north(START, 1200, kmh / 3.6)]))
    result = sw("import", "--json", path)
    item = one(result)
    assert (result.exit_code, item["status"]) == (2, "skipped")
    assert f"{kmh} km/h" in item["reason"]
    # The runner may know better up to what a runner can do (the 5 km record, 23.8 km/h).
    assert one(sw("import", "--json", "--sport", "run", path))["status"] == forced


@pytest.mark.parametrize("sport", ["9", "running"])
def test_a_ride_labelled_as_a_run_is_not_a_run(sw: Any, tmp_path: Path, sport: str) -> None:
    path = write(tmp_path / "ride.gpx", gpx([north(START, 3600, 30 / 3.6)], sport, "StravaGPX"))
    item = one(sw("import", "--json", path))
    assert item["status"] == "skipped"
    assert (
        item["reason"] == "average 30 km/h is faster than anyone runs: a ride or a drive, not a run"
    )


def test_sport_run_overrides_what_the_file_says(sw: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "mislabelled.gpx", run_gpx("1", "StravaGPX"))
    result = sw("import", "--sport", "run", path)
    assert result.exit_code == 0
    assert "taken as a run (--sport run; the file says ride)" in result.stdout


# -- 6. odd but honest files ---------------------------------------------------------------


def test_pause_markers_off_the_globe_are_not_positions(sw: Any, tmp_path: Path) -> None:
    before = north(START, 300, 3.0)
    after = [
        Point(p.t + timedelta(seconds=400), p.lat + 0.01, p.lon)  # type: ignore[operator]
        for p in north(START, 300, 3.0)
    ]
    pause = Point(START + timedelta(seconds=350), 100, 0)
    resume = Point(START + timedelta(seconds=390), 200, 0)
    path = write(tmp_path / "ot.gpx", gpx([[*before, pause, resume, *after]], "running"))
    item = one(sw("import", "--json", path))
    # 900 m before, 900 m after; the pause is not bridged, the markers not visited.
    assert item["distance_km"] == pytest.approx(1.8, abs=0.005)


def test_a_file_from_a_clock_never_set_asks_for_at(sw: Any, tmp_path: Path, db: Path) -> None:
    path = write(tmp_path / "fr70.fit", make_fit(17_217_864, [Leg("RUNNING", 1800, 5400.0)]))
    result = sw("import", path)
    assert result.exit_code == 2
    assert "clock was never set" in result.stdout
    assert "--at" in result.stdout
    assert len(result.stdout.splitlines()) == 2  # its line and the counts
    result = sw("import", "--json", "--at", "2014-05-03T07:30:00+00:00", path)
    assert one(result)["started_at"] == "2014-05-03T07:30:00+00:00"
    (row,) = stored(db)
    assert (row["distance_m"], row["moving_s"]) == (5400.0, 1800.0)
    conn = sqlite3.connect(db)
    first, last = conn.execute("select min(t), max(t) from samples").fetchone()
    conn.close()
    assert (first, last - first) == (datetime(2014, 5, 3, 7, 30, tzinfo=UTC).timestamp(), 1800)


def test_at_leaves_a_dated_file_alone_and_says_so(sw: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "a.gpx", run_gpx("running"))
    result = sw("import", "--at", "2014-05-03T07:30", path)
    assert "2026-03-01 08:00 UTC" in result.stdout
    assert "--at not used" in result.stdout


def test_cadence_of_zero_everywhere_is_no_cadence(sw: Any, tmp_path: Path, db: Path) -> None:
    path = write(tmp_path / "z.gpx", gpx([north(START, 600, 3.0, cad=0)], "running"))
    sw("import", path)
    (row,) = stored(db)
    assert row["avg_cadence"] is None
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from samples where cadence is not null").fetchone()[0] == 0
    conn.close()


# -- 8. values no person can have, refused at the door ----------------------------------------


def test_negative_lap_distance_is_refused(sw: Any, tmp_path: Path, db: Path) -> None:
    lap = Lap(START, 1800, -5000.0, hr=150)
    result = sw("import", write(tmp_path / "neg.tcx", tcx([tcx_activity("Running", [lap])])))
    assert result.exit_code == 2
    assert "distance is -5000" in result.stdout
    assert stored(db) == [] if db.exists() else True


@pytest.mark.parametrize(
    ("hr", "cad"),
    [("1e300", 250.5), ("-5", -3), ("nan", 500), ("inf", 0), ("0", "-0")],
)
def test_impossible_heart_rate_and_cadence_are_stored_as_none(
    sw: Any, tmp_path: Path, db: Path, hr: str, cad: float | str
) -> None:
    points = north(START, 600, 3.0, hr=hr, cad=cad)
    assert (
        one(sw("import", "--json", write(tmp_path / "h.gpx", gpx([points], "running"))))["status"]
        == "imported"
    )
    (row,) = stored(db)
    assert (row["avg_hr"], row["max_hr"], row["avg_cadence"]) == (None, None, None)
    conn = sqlite3.connect(db)
    bad = conn.execute(
        "select count(*) from samples where hr is not null or cadence is not null "
        "or distance_m < 0 or speed < 0"
    ).fetchone()[0]
    conn.close()
    assert bad == 0


@pytest.mark.parametrize(
    "lat", ["inf", "nan", "1e400", "-91"], ids=["inf", "nan", "huge", "south-of-pole"]
)
def test_points_off_the_globe_are_dropped(sw: Any, tmp_path: Path, lat: str) -> None:
    track = north(START, 600, 3.0)
    track[300] = Point(track[300].t, lat, 0.0)
    item = one(sw("import", "--json", write(tmp_path / "p.gpx", gpx([track], "running"))))
    assert item["status"] == "imported"
    assert math.isfinite(item["distance_km"])
    assert item["distance_km"] < 1.81


@pytest.mark.parametrize(
    "when",
    ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "2999-01-01T00:00:00Z"],
    ids=["9999-negative-offset", "0001-positive-offset", "far-future"],
)
def test_dates_no_run_has_give_one_line(sw: Any, tmp_path: Path, when: str) -> None:
    points = [Point(when, 0.0), Point(when, 0.001)]
    path = write(tmp_path / "d.gpx", gpx([points], "running"))
    ok = write(tmp_path / "ok.gpx", run_gpx("running"))
    result = sw("import", path, ok)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first.split()[0] in ("failed", "skipped")
    assert "its date" in first or "not dates a run can have" in first
    assert second.startswith("imported  ")


def test_a_fifo_is_refused_at_once(sw: Any, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.gpx"
    os.mkfifo(fifo)
    result = sw("import", str(fifo), write(tmp_path / "ok.gpx", run_gpx("running")))
    assert result.exit_code == 0
    assert f"failed    {fifo}: not a regular file" in result.stdout


def test_a_file_name_that_is_not_utf8(sw: Any, tmp_path: Path) -> None:
    import os

    name = Path(os.fsdecode(os.fsencode(tmp_path) + b"/run-\xff.gpx"))
    name.write_text(run_gpx("running"), encoding="utf-8")
    result = sw("import", "--json", str(name))
    assert result.exit_code == 0
    assert one(result)["file"].endswith("run-\ufffd.gpx")
    plain = sw("import", str(name))
    assert "run-\ufffd.gpx: same run as run 1" in plain.stdout


def test_a_distance_over_the_globe_is_not_a_run(sw: Any, tmp_path: Path) -> None:
    # Two points half a world apart, a minute between them.
    points = [Point(START, 0.0, 0.0), Point(START + timedelta(minutes=1), 0.0, 179.0)]
    result = sw("import", write(tmp_path / "far.gpx", gpx([points], "running")))
    assert result.exit_code == 2
    # One step, 20,000 km in a minute: the whole track is that fast, so it is no run.
    assert "its distance is 1.99039e+07, which no run can have" in result.stdout


# -- what a runner trying it found ----------------------------------------------------------


@pytest.mark.parametrize("fragment_first", [True, False])
def test_a_fragment_never_replaces_the_whole_run(
    sw: Any, tmp_path: Path, db: Path, fragment_first: bool
) -> None:
    # The phone's hour-long GPX and the watch's 1-minute FIT (a false start) at the same time:
    # one run, and the whole of it is kept whichever came first.
    whole = write(tmp_path / "phone.gpx", gpx([north(START, 3600, 2.8)], sport="running"))
    fragment = write(tmp_path / "watch.fit", make_fit(START, [Leg("RUNNING", 57, 157.0)]))
    order = [fragment, whole] if fragment_first else [whole, fragment]
    sw("import", order[0])
    second = one(sw("import", "--json", order[1]))
    assert second["status"] == "duplicate"
    if fragment_first:
        assert second["reason"].endswith(
            "kept this GPX over the stored FIT, which covers only 0.2 of its 10.1 km"
        )
    else:
        assert second["reason"].endswith("this FIT covers only 0.2 of its 10.1 km")
    (row,) = stored(db)
    assert row["distance_m"] == pytest.approx(10080, abs=5)


@pytest.mark.parametrize(
    ("offset_min", "minutes", "metres"),
    [(0, 35, 5830.0), (25, 35, 5830.0), (40, 60, 10000.0)],
    ids=["first-35-min", "middle", "watch-left-running"],
)
def test_a_part_of_a_run_is_that_run(
    sw: Any, tmp_path: Path, db: Path, offset_min: int, minutes: int, metres: float
) -> None:
    whole = write(tmp_path / "hour.gpx", gpx([north(START, 3600, 2.78)], sport="running"))
    sw("import", whole)
    part = make_fit(START + timedelta(minutes=offset_min), [Leg("RUNNING", minutes * 60, metres)])
    item = one(sw("import", "--json", write(tmp_path / "part.fit", part)))
    assert item["status"] == "duplicate"
    rows = stored(db)
    assert len(rows) == 1
    assert rows[0]["distance_m"] >= 5830.0


def test_log_run_inside_a_stored_run_is_refused(sw: Any, tmp_path: Path) -> None:
    sw("import", write(tmp_path / "hour.gpx", gpx([north(START, 3600, 2.78)], "running")))
    args = ["--at", "2026-03-01T08:20:00+00:00", "--distance", "3km", "--duration", "15:00"]
    result = sw("log-run", *args)
    assert result.exit_code == 2
    assert "already stored as run 1" in result.stderr
    # A cool-down right after the run shares no time with it: a run of its own.
    after = ["--at", "2026-03-01T09:01:00+00:00", "--distance", "1km", "--duration", "8:00"]
    assert sw("log-run", *after).exit_code == 0


def test_a_run_logged_minutes_early_by_hand_is_the_same_run(sw: Any, tmp_path: Path) -> None:
    args = ["--at", "2026-03-01T07:54:00+00:00", "--distance", "11km", "--duration", "75m"]
    manual = int(sw("log-run", *args, "--rpe", "5").stdout)
    fit = make_fit(START, [Leg("RUNNING", 4500, 11232.0, hr=143)])
    item = one(sw("import", "--json", write(tmp_path / "w.fit", fit)))
    assert (item["status"], item["run_id"]) == ("duplicate", manual)
    (run,) = sw("runs", "--json").json()
    assert (run["distance_km"], run["rpe"]) == (11.232, 5)


def test_session_rpe_load_follows_the_better_record(sw: Any, tmp_path: Path, db: Path) -> None:
    track = write(tmp_path / "a.gpx", gpx([north(START, 1800, 3.0)], sport="running"))
    run_id = one(sw("import", "--json", track))["run_id"]
    assert sw("rpe", str(run_id), "5").exit_code == 0
    fit = make_fit(START, [Leg("RUNNING", 2400, 5400.0)])
    sw("import", write(tmp_path / "a.fit", fit))
    (row,) = stored(db)
    assert (row["moving_s"], row["srpe"]) == (2400.0, 5 * 40)


@pytest.mark.parametrize(("seconds", "metres"), [("1e309", "nan"), ("1800", "0"), ("1800", "nan")])
def test_a_lap_without_a_real_distance_stores_nothing(
    sw: Any, tmp_path: Path, db: Path, seconds: str, metres: str
) -> None:
    text = tcx([tcx_activity("Running", [Lap(START, seconds, metres)])])  # type: ignore[arg-type]
    result = sw("import", write(tmp_path / "n.tcx", text))
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert not db.exists() or stored(db) == []


def test_one_bad_time_does_not_lose_the_track(sw: Any, tmp_path: Path) -> None:
    track = north(START, 600, 3.0)
    track[300] = Point("not a time", track[300].lat)
    track[301] = Point("", track[301].lat)
    item = one(sw("import", "--json", write(tmp_path / "t.gpx", gpx([track], "running"))))
    assert item["status"] == "imported"
    assert item["distance_km"] == pytest.approx(1.8, abs=0.01)


def test_samples_outside_the_activity_or_repeated_are_dropped() -> None:
    from agent.files.activity import Activity, validated

    t0 = START.timestamp()
    samples = (
        (t0, 0.0, 3.0, 170.0, 150),
        (t0, 0.0, 3.0, 170.0, 150),  # the same second twice
        (t0 + 1, 3.0, 3.0, 170.0, 150),
        (t0 + 0.5, 1.5, 3.0, 170.0, 150),  # backwards
        (t0 + 60 * 365 * 86400, 900.0, 3.0, 170.0, 150),  # decades later
    )
    activity = Activity(START, 900.0, 300.0, 300.0, samples=samples)
    kept = validated(activity, START + timedelta(days=1)).samples
    assert [s[0] - t0 for s in kept] == [0, 1]


def test_json_says_the_warning_and_no_date_for_a_clock_never_set(sw: Any, tmp_path: Path) -> None:
    untyped = write(tmp_path / "u.gpx", gpx([north(START, 600, 3.0)]))
    clockless = write(tmp_path / "c.fit", make_fit(5000, [Leg("RUNNING", 600, 1800.0)]))
    first, second = items(sw("import", "--json", untyped, clockless))
    assert first["warning"] == "no sport in the file: taken as a run"
    assert (second["status"], second["started_at"]) == ("failed", None)


def test_files_dated_outside_the_configured_window_fail_each_with_its_reason(
    sw: Any, db: Path, tmp_path: Path
) -> None:
    # issue 15, item 7: the window of dates.earliest_year holds for files too.
    old = write(tmp_path / "1985.gpx", gpx([north(datetime(1985, 6, 1, 7, tzinfo=UTC), 1200, 3.0)]))
    ok = write(tmp_path / "ok.gpx", run_gpx("running"))
    result = sw("import", "--json", old, ok)
    assert result.exit_code == 0, result.stderr
    failed, imported = items(result)
    assert failed["status"] == "failed"
    assert failed["reason"] == (
        "its date 1985-06-01 is before 1990-01-01, the earliest date stridewatch takes "
        "(dates.earliest_year in the config): a device clock never set?"
    )
    assert imported["status"] == "imported"
    config = write(tmp_path / "c.toml", "[dates]\nearliest_year = 1980\n")
    again = sw("--config", config, "import", "--json", old)
    assert one(again)["status"] == "imported"
    assert stored(db, "started_at")[0][0].startswith("1985-06-01")


def test_a_utf16_gpx(sw: Any, tmp_path: Path) -> None:
    text = run_gpx("running").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = tmp_path / "u16.gpx"
    path.write_bytes(text.encode("utf-16"))
    assert one(sw("import", "--json", str(path)))["status"] == "imported"


@pytest.mark.parametrize("when", ["9999-12-31 23:59-05:00", "0001-01-01 00:00+05:00"])
def test_at_outside_the_calendar_is_one_line(sw: Any, tmp_path: Path, when: str) -> None:
    path = write(tmp_path / "c.fit", make_fit(5000, [Leg("RUNNING", 600, 1800.0)]))
    for args in (
        ["import", "--at", when, path],
        ["log-run", "--at", when, "--distance", "5km", "--duration", "30:00"],
        ["check", "--at", when],
    ):
        result = sw(*args)
        assert result.exit_code == 2, args
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


def test_a_gps_jump_adds_no_distance(sw: Any, tmp_path: Path) -> None:
    track = north(START, 3600, 2.78)
    # A reflection: one point 5 km off, then back on the track.
    track[1800] = Point(track[1800].t, track[1800].lat + 5000 / 111_195, 0.0)
    cold = [Point(START - timedelta(seconds=1), 0.4, 0.0), *track]  # a cold fix 44 km away
    item = one(sw("import", "--json", write(tmp_path / "j.gpx", gpx([cold], "running"))))
    assert item["status"] == "imported"
    assert item["distance_km"] == pytest.approx(10.0, abs=0.02)


def test_two_days_in_one_gpx_are_two_runs_and_a_stray_fix_is_dropped(
    sw: Any, tmp_path: Path
) -> None:
    monday = north(START, 1800, 3.0)
    tuesday = north(START + timedelta(days=1), 1800, 3.0)
    stray = [Point(START - timedelta(days=700), 0.0, 0.0)]  # a fix dated two years off
    junk = [Point(START + timedelta(days=3000), 0.0, 0.0)]
    path = write(tmp_path / "days.gpx", gpx([stray + monday, tuesday + junk], "running"))
    result = sw("import", "--json", path)
    assert [(i["leg"], i["distance_km"]) for i in items(result)] == [
        ("activity 1 of 2", 5.4),
        ("activity 2 of 2", 5.4),
    ]


def test_tcx_junk_trackpoints_do_not_stretch_the_activity(sw: Any, tmp_path: Path) -> None:
    lap = Lap(START, 1800, 5400.0, hr=150, points=180)
    text = tcx([tcx_activity("Running", [lap])]).replace(
        "<Track>",
        "<Track><Trackpoint><Time>2017-01-01T00:00:00Z</Time></Trackpoint>",
    )
    item = one(sw("import", "--json", write(tmp_path / "j.tcx", text)))
    assert item["status"] == "imported"
    assert item["started_at"] == "2026-03-01T08:00:00+00:00"


def test_a_stray_device_relative_record_does_not_undate_a_file(sw: Any, tmp_path: Path) -> None:
    data = make_fit(START, [Leg("RUNNING", 600, 1800.0)], stray_system_time=True)
    item = one(sw("import", "--json", write(tmp_path / "s.fit", data)))
    assert (item["status"], item["started_at"]) == ("imported", "2026-03-01T08:00:00+00:00")


def test_re_importing_an_export_keeps_the_original_record(
    sw: Any, tmp_path: Path, db: Path
) -> None:
    run_id = one(sw("import", "--json", write(tmp_path / "a.gpx", run_gpx("running"))))["run_id"]
    out = tmp_path / "copy.fit"
    assert sw("export", str(run_id), "-o", str(out)).exit_code == 0
    item = one(sw("import", "--json", str(out)))
    assert item["reason"] == f"same run as run {run_id}; kept the stored GPX"


def test_at_for_two_undated_files_is_refused_for_the_second(sw: Any, tmp_path: Path) -> None:
    a = write(tmp_path / "a.fit", make_fit(5000, [Leg("RUNNING", 600, 1800.0)]))
    b = write(tmp_path / "b.fit", make_fit(9000, [Leg("RUNNING", 900, 2700.0)]))
    result = sw("import", "--json", "--at", "2014-05-03T07:30:00+00:00", a, b)
    first, second = items(result)
    assert first["status"] == "imported"
    assert second["status"] == "failed"
    assert "import files without a date one at a time" in second["reason"]


def test_sport_run_is_for_one_file(sw: Any, tmp_path: Path) -> None:
    a = write(tmp_path / "a.gpx", run_gpx("walking"))
    b = write(tmp_path / "b.gpx", gpx([north(START + timedelta(days=1), 600, 3.0)], "hiking"))
    result = sw("import", "--sport", "run", a, b)
    assert result.exit_code == 2
    assert "--sport run is for one file at a time" in result.stderr


@pytest.mark.parametrize(
    ("label", "is_run"),
    [("treadmill_walking", False), ("Wheelchair run", False), ("treadmill", True)],
)
def test_walking_words_win_over_treadmill(label: str, is_run: bool) -> None:
    from agent.files.sports import classify

    assert classify(label).is_run is is_run


def test_imported_runs_carry_banister_trimp(sw: Any, tmp_path: Path, db: Path) -> None:
    from agent.config import Settings
    from agent.recording.intensity import HeartProfile

    runner = Settings().runner
    heart = HeartProfile(runner.max_hr, runner.resting_hr, runner.sex)
    with_samples = make_fit(START, [Leg("RUNNING", 1800, 5400.0, hr=150)])
    # A TCX summary without trackpoint heart rate: Banister's form from the lap average.
    summary_only = tcx(
        [tcx_activity("Running", [Lap(START + timedelta(days=1), 1800, 5400.0, hr=150)])]
    )
    sw("import", write(tmp_path / "a.fit", with_samples), write(tmp_path / "b.tcx", summary_only))
    first, second = stored(db)
    assert first["trimp"] == pytest.approx(heart.banister(150, 1800), rel=1e-3)
    assert second["trimp"] == pytest.approx(heart.banister(150, 1800), rel=1e-6)
    assert "load -" not in sw("show", str(first["id"])).stdout


# -- records of one outing in every order (a third runner's trial) ---------------------------

OUTING = {
    "run.fit": lambda: make_fit(START, [Leg("RUNNING", 1800, 6000.0)]),
    "cool.fit": lambda: make_fit(START + timedelta(seconds=1860), [Leg("RUNNING", 600, 1500.0)]),
    # Strava's one activity of both, from the phone.
    "strava.gpx": lambda: gpx([north(START, 2460, 7490 / 2460)], sport="9", creator="StravaGPX"),
}


@pytest.mark.parametrize("order", list(itertools.permutations(OUTING)), ids="-".join)
def test_records_of_one_outing_never_count_twice_whatever_the_order(
    sw: Any, tmp_path: Path, db: Path, order: tuple[str, ...]
) -> None:
    for name in order:
        sw("import", write(tmp_path / name, OUTING[name]()))
    total = sum(row["distance_m"] for row in stored(db))
    assert total == pytest.approx(7500, abs=20)


def test_a_watch_left_running_all_day_is_no_run(sw: Any, tmp_path: Path) -> None:
    data = make_fit(START, [Leg("RUNNING", 12 * 3600, 8500.0)])
    item = one(sw("import", "--json", write(tmp_path / "allday.fit", data)))
    assert item["status"] == "skipped"
    assert "a watch left running" in item["reason"]


def test_a_watch_paused_for_hours_does_not_swallow_the_evening_run(sw: Any, tmp_path: Path) -> None:
    paused = make_fit(START, [Leg("RUNNING", 42 * 60, 8000.0)], elapsed_s=12 * 3600)
    evening = gpx([north(START + timedelta(hours=10), 1800, 2.8)], sport="running")
    result = sw(
        "import",
        "--json",
        write(tmp_path / "evening.gpx", evening),
        write(tmp_path / "paused.fit", paused),
    )
    assert [i["status"] for i in items(result)] == ["imported", "imported"]


def test_a_file_replaces_a_rough_hand_log_of_the_run(sw: Any, tmp_path: Path) -> None:
    args = ["--at", "2026-03-01T08:00:00+00:00", "--distance", "8km", "--duration", "45:00"]
    sw("log-run", *args)
    data = make_fit(START, [Leg("RUNNING", 1800, 5000.0)])
    item = one(sw("import", "--json", write(tmp_path / "a.fit", data)))
    assert item["reason"] == "same run as run 1; kept this FIT over the stored run logged by hand"


def test_a_renamed_export_still_ranks_below_the_devices_file(
    sw: Any, tmp_path: Path, db: Path
) -> None:
    sw("log-run", "--at", "2026-03-01T08:00:00+00:00", "--distance", "5km", "--duration", "30:00")
    out = tmp_path / "runner@example.com_77.fit"
    assert sw("export", "1", "-o", str(out)).exit_code == 0
    other = tmp_path / "other.db"
    assert sw("--db", str(other), "import", str(out), use_db=False).exit_code == 0
    device = make_fit(START, [Leg("RUNNING", 1800, 5050.0, hr=150)])
    item = one(
        sw("--db", str(other), "import", "--json", write(tmp_path / "w.fit", device), use_db=False)
    )
    assert item["reason"] == "same run as run 1; kept this FIT over the stored stridewatch export"


def test_gpx_heart_rate_averages_only_what_a_heart_can_do(
    sw: Any, tmp_path: Path, db: Path
) -> None:
    track = north(START, 600, 3.0, hr=150)
    track[100] = Point(track[100].t, track[100].lat, hr=255)
    sw("import", write(tmp_path / "h.gpx", gpx([track], "running")))
    (row,) = stored(db)
    assert (row["avg_hr"], row["max_hr"]) == (150.0, 150.0)


def test_a_tcx_whose_lap_totals_are_broken_falls_back_to_its_track(sw: Any, tmp_path: Path) -> None:
    points = "".join(
        f"<Trackpoint><Time>{START + timedelta(seconds=10 * i):%Y-%m-%dT%H:%M:%SZ}</Time>"
        f"<DistanceMeters>{30.0 * i}</DistanceMeters></Trackpoint>"
        for i in range(181)
    )
    text = tcx([tcx_activity("Running", [Lap(START, "nan", "nan")])]).replace(  # type: ignore[arg-type]
        "<Track></Track>", f"<Track>{points}</Track>"
    )
    item = one(sw("import", "--json", write(tmp_path / "t.tcx", text)))
    assert (item["status"], item["distance_km"], item["moving_s"]) == ("imported", 5.4, 1800.0)


def test_positions_off_the_globe_everywhere_say_so(sw: Any, tmp_path: Path) -> None:
    track = [Point(p.t, "nan", "nan") for p in north(START, 60, 3.0)]
    result = sw("import", write(tmp_path / "n.gpx", gpx([track], "running")))
    assert "its positions are not on the globe" in result.stdout
