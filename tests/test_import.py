"""`stridewatch import`: real FIT, TCX and GPX files from real devices, and files made here."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import pytest

from agent.store import Store

# Real files from real devices (SOURCES.md there), in shared/ beside the checkout.
ACTIVITIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "activities"

SHIPPED = [
    "activity-small-fenix2-run.fit",
    "garmin-fenix-5-run.fit",
    "garmin-fenix-5-walk.fit",
    "garmin-fenix-5-bike.fit",
    "strava-android-app-201.10-b1218918.fit",
    "Settings.fit",
    "activity-settings-corruptheader.fit",
    "activity-unexpected-eof.fit",
    "cerknicko-jezero.gpx",
    "cerknicko-without-times.gpx",
    "track-with-empty-segment.gpx",
    "sup_activity_1.tcx",
]

# One degree of latitude on the mean-radius sphere, in metres: 2 pi R / 360.
METRES_PER_DEGREE = 2 * math.pi * 6_371_008.8 / 360


def shipped(name: str) -> str:
    return str(ACTIVITIES / name)


def by_file(result: Any) -> dict[str, dict[str, Any]]:
    return {Path(item["file"]).name: item for item in result.json()["files"]}


def stored_runs(sw: Any) -> dict[str, dict[str, Any]]:
    return {run["started_at"]: run for run in sw("runs", "--json").json()}


def test_shipped_batch_imports_runs_and_reports_the_rest(sw: Any) -> None:
    result = sw("import", "--json", *map(shipped, SHIPPED))
    assert result.exit_code == 0, result.stderr
    files = by_file(result)
    status = {name: item["status"] for name, item in files.items()}
    assert status == {
        "activity-small-fenix2-run.fit": "imported",
        "garmin-fenix-5-run.fit": "imported",
        "garmin-fenix-5-walk.fit": "skipped",
        "garmin-fenix-5-bike.fit": "skipped",
        "strava-android-app-201.10-b1218918.fit": "imported",
        "Settings.fit": "skipped",
        "activity-settings-corruptheader.fit": "imported",
        "activity-unexpected-eof.fit": "duplicate",
        "cerknicko-jezero.gpx": "imported",
        "cerknicko-without-times.gpx": "skipped",
        "track-with-empty-segment.gpx": "imported",
        "sup_activity_1.tcx": "skipped",
    }
    assert "walking activity" in files["garmin-fenix-5-walk.fit"]["reason"]
    assert "cycling activity" in files["garmin-fenix-5-bike.fit"]["reason"]
    assert "settings file" in files["Settings.fit"]["reason"]
    assert "without times" in files["cerknicko-without-times.gpx"]["reason"]
    assert "other activity" in files["sup_activity_1.tcx"]["reason"]
    corrupt_run = files["activity-settings-corruptheader.fit"]["run_id"]
    assert files["activity-unexpected-eof.fit"]["reason"] == f"same run as run {corrupt_run}"
    summary = result.json()
    assert (summary["imported"], summary["duplicate"], summary["skipped"]) == (6, 1, 5)


def test_imported_runs_carry_the_devices_totals(sw: Any) -> None:
    names = ["activity-small-fenix2-run.fit", "garmin-fenix-5-run.fit"]
    assert sw("import", *map(shipped, names)).exit_code == 0
    runs = stored_runs(sw)
    fenix2 = runs["2015-08-15T14:45:08+00:00"]
    assert fenix2["source"] == "import"
    assert fenix2["distance_km"] == pytest.approx(9.008, abs=0.001)
    assert fenix2["moving_s"] == pytest.approx(2832.0)
    fenix5 = runs["2017-06-11T14:34:09+00:00"]
    assert (fenix5["distance_km"], fenix5["moving_s"], fenix5["avg_hr"]) == (0.158, 56.9, 90)
    assert {run["source"] for run in runs.values()} == {"import"}


def test_samples_are_stored_with_cadence_in_steps(sw: Any, db: Path) -> None:
    result = sw("import", "--json", shipped("activity-small-fenix2-run.fit"))
    run_id = result.json()["files"][0]["run_id"]
    with Store.open(db) as store:
        samples = store.run_samples(run_id)
    assert len(samples) == 2809
    assert samples[-1][1] == pytest.approx(9007.07)  # the last record's distance
    cadences = [s[3] for s in samples if s[3]]
    # SOURCES.md: average cadence 81 strides/min, i.e. about 162 steps/min.
    assert sum(cadences) / len(cadences) == pytest.approx(162, abs=3)


def test_damaged_strava_file_keeps_its_session_totals_and_says_so(sw: Any) -> None:
    result = sw("import", shipped("strava-android-app-201.10-b1218918.fit"))
    assert result.exit_code == 0
    assert "local message 11 not defined" in result.stdout
    assert "kept the device's totals" in result.stdout
    run = stored_runs(sw)["2021-09-27T14:13:10+00:00"]
    assert (run["distance_km"], run["moving_s"]) == (11.274, 3558.0)


def test_damaged_files_are_named_and_the_batch_goes_on(sw: Any, tmp_path: Path) -> None:
    whole = (ACTIVITIES / "activity-small-fenix2-run.fit").read_bytes()
    truncated = tmp_path / "truncated.fit"
    truncated.write_bytes(whole[: len(whole) // 2])  # the session comes last: lost
    garbage = tmp_path / "garbage.fit"
    garbage.write_bytes(b"this is not a FIT file at all")
    broken = tmp_path / "broken.gpx"
    broken.write_text("<gpx><trk><trkseg><trkpt lat='1'", encoding="utf-8")
    paths = [truncated, garbage, broken, ACTIVITIES / "garmin-fenix-5-run.fit"]
    result = sw("import", *map(str, paths))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"failed    {truncated}: damaged FIT file: the file ends early" in lines[0]
    assert lines[1] == f"failed    {garbage}: damaged FIT file: its header has no FIT signature"
    assert lines[2].startswith(f"failed    {broken}: damaged XML:")
    assert lines[3].startswith("imported  ")
    assert lines[-1] == "1 imported, 0 duplicate, 0 skipped, 3 failed"


def test_nothing_imported_exits_2(sw: Any, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.fit"
    garbage.write_bytes(b"\x00" * 40)
    result = sw("import", str(garbage), shipped("garmin-fenix-5-bike.fit"))
    assert result.exit_code == 2
    assert "no run imported from 2 file(s): 1 failed, 1 skipped" in result.stderr
    assert sw("runs", "--json").json() == []


def test_same_file_twice_is_a_duplicate(sw: Any) -> None:
    fenix5 = shipped("garmin-fenix-5-run.fit")
    first = sw("import", "--json", fenix5).json()["files"][0]
    again = sw("import", "--json", fenix5)
    assert again.exit_code == 0  # already there is fine: the history has it
    assert again.json()["files"][0]["reason"] == f"same run as run {first['run_id']}"
    assert len(sw("runs", "--json").json()) == 1


def test_a_run_logged_by_hand_is_found_as_the_same_run(sw: Any) -> None:
    # 22 s later and 0.5% longer than the watch's 9008 m: the same run.
    args = ["--at", "2015-08-15T14:45:30+00:00", "--distance", "9.05km", "--duration", "47:00"]
    manual = int(sw("log-run", *args).stdout)
    # The same start but 2% longer than Strava's 11274 m: a different run.
    sw(
        "log-run",
        "--at",
        "2021-09-27T14:13:10+00:00",
        "--distance",
        "11.5km",
        "--duration",
        "59:00",
    )
    names = ["activity-small-fenix2-run.fit", "strava-android-app-201.10-b1218918.fit"]
    files = by_file(sw("import", "--json", *map(shipped, names)))
    assert files[names[0]]["reason"] == f"same run as run {manual}"
    assert files[names[1]]["status"] == "imported"
    assert len(sw("runs", "--json").json()) == 3


TCX = """<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
  <Activities>
    <Activity Sport="{sport}">
      <Id>2026-03-01T08:00:00Z</Id>
      {laps}
    </Activity>
  </Activities>
</TrainingCenterDatabase>
"""
TCX_LAP = """<Lap StartTime="{start}">
        <TotalTimeSeconds>{seconds}</TotalTimeSeconds>
        <DistanceMeters>{metres}</DistanceMeters>
        <AverageHeartRateBpm><Value>{hr}</Value></AverageHeartRateBpm>
        <MaximumHeartRateBpm><Value>{max_hr}</Value></MaximumHeartRateBpm>
        <Track>{points}</Track>
      </Lap>"""
TCX_POINT = """
          <Trackpoint>
            <Time>{time}</Time>
            <DistanceMeters>{metres}</DistanceMeters>
            <HeartRateBpm><Value>{hr}</Value></HeartRateBpm>
            <Extensions><ns3:TPX><ns3:Speed>3.0</ns3:Speed>
              <ns3:RunCadence>{strides}</ns3:RunCadence></ns3:TPX></Extensions>
          </Trackpoint>"""


def make_tcx(path: Path, sport: str = "Running") -> Path:
    """Two laps of 5 minutes at 3 m/s: 900 m each, a point every minute."""
    laps = []
    for lap in range(2):
        points = "".join(
            TCX_POINT.format(
                time=f"2026-03-01T08:{lap * 5 + minute:02d}:00Z",
                metres=(lap * 5 + minute) * 180.0,
                hr=140 + lap * 10,
                strides=85,
            )
            for minute in range(1 if lap else 0, 6)
        )
        laps.append(
            TCX_LAP.format(
                start=f"2026-03-01T08:{lap * 5:02d}:00Z",
                seconds=300.0,
                metres=900.0,
                hr=140 + lap * 10,
                max_hr=160 + lap,
                points=points,
            )
        )
    path.write_text(TCX.format(sport=sport, laps="\n".join(laps)), encoding="utf-8")
    return path


def test_generated_tcx_run(sw: Any, db: Path, tmp_path: Path) -> None:
    result = sw("import", "--json", str(make_tcx(tmp_path / "morning.tcx")))
    assert result.exit_code == 0, result.stderr
    item = result.json()["files"][0]
    assert (item["status"], item["distance_km"], item["moving_s"]) == ("imported", 1.8, 600.0)
    run = stored_runs(sw)["2026-03-01T08:00:00+00:00"]
    assert (run["source"], run["elapsed_s"], run["avg_hr"]) == ("import", 600.0, 145.0)
    with Store.open(db) as store:
        samples = store.run_samples(item["run_id"])
        row = store.run_row(item["run_id"])
    assert len(samples) == 11
    assert samples[-1][1:] == (1800.0, 3.0, 170.0, 150)  # RunCadence 85 strides = 170 steps
    assert (row["max_hr"], row["avg_cadence"], row["import_file"]) == (161, 170.0, "morning.tcx")


def test_generated_tcx_ride_is_skipped(sw: Any, tmp_path: Path) -> None:
    result = sw("import", str(make_tcx(tmp_path / "ride.tcx", sport="Biking")))
    assert result.exit_code == 2
    assert f"skipped   {tmp_path / 'ride.tcx'}: biking activity, not a run" in result.stdout


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"
  xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
  <trk>{type}<trkseg>{points}</trkseg></trk>
</gpx>
"""
GPX_POINT = """
    <trkpt lat="{lat:.6f}" lon="7.000000">{time}
      <extensions><gpxtpx:TrackPointExtension>
        <gpxtpx:hr>{hr}</gpxtpx:hr><gpxtpx:cad>88</gpxtpx:cad>
      </gpxtpx:TrackPointExtension></extensions>
    </trkpt>"""


def make_gpx(path: Path, sport: str | None = "running", times: bool = True) -> Path:
    """Eleven points due north, 0.001 degree and 30 s apart (3.7 m/s)."""
    points = "".join(
        GPX_POINT.format(
            lat=46.0 + i * 0.001,
            time=f"<time>2026-03-02T06:{i // 2:02d}:{(i % 2) * 30:02d}Z</time>" if times else "",
            hr=150 + i,
        )
        for i in range(11)
    )
    kind = f"<type>{sport}</type>" if sport else ""
    path.write_text(GPX.format(type=kind, points=points), encoding="utf-8")
    return path


def test_generated_gpx_run_distance_by_haversine(sw: Any, db: Path, tmp_path: Path) -> None:
    result = sw("import", "--json", str(make_gpx(tmp_path / "track.gpx")))
    assert result.exit_code == 0, result.stderr
    item = result.json()["files"][0]
    assert item["status"] == "imported"
    run = stored_runs(sw)["2026-03-02T06:00:00+00:00"]
    expected = 10 * 0.001 * METRES_PER_DEGREE  # along a meridian: exact on the sphere
    assert run["distance_km"] == pytest.approx(expected / 1000, abs=0.001)
    assert (run["moving_s"], run["elapsed_s"], run["avg_hr"]) == (300.0, 300.0, 155.0)
    with Store.open(db) as store:
        samples = store.run_samples(item["run_id"])
    assert samples[-1][1] == pytest.approx(expected, rel=1e-9)
    assert samples[-1][2] == pytest.approx(0.001 * METRES_PER_DEGREE / 30, rel=1e-9)
    assert (samples[-1][3], samples[-1][4]) == (176.0, 160)


def test_gpx_sport_and_times_decide(sw: Any, tmp_path: Path) -> None:
    ride = make_gpx(tmp_path / "ride.gpx", sport="cycling")
    untimed = make_gpx(tmp_path / "route.gpx", times=False)
    unlabelled = make_gpx(tmp_path / "plain.gpx", sport=None)
    files = by_file(sw("import", "--json", str(ride), str(untimed), str(unlabelled)))
    assert files["ride.gpx"]["reason"] == "cycling activity, not a run"
    assert "without times" in files["route.gpx"]["reason"]
    assert files["plain.gpx"]["status"] == "imported"  # GPX often names no sport


def test_gzip_and_folders_as_in_a_strava_export(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "export" / "activities"
    folder.mkdir(parents=True)
    plain = make_gpx(tmp_path / "a.gpx").read_bytes()
    (folder / "123.gpx.gz").write_bytes(gzip.compress(plain))
    make_tcx(folder / "456.tcx")
    (folder / "notes.txt").write_text("not an activity", encoding="utf-8")
    result = sw("import", "--json", str(tmp_path / "export"))
    assert result.exit_code == 0, result.stderr
    assert sorted(by_file(result)) == ["123.gpx.gz", "456.tcx"]
    assert result.json()["imported"] == 2


def test_xml_entities_are_refused(sw: Any, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gpx"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<gpx><trk><name>&b;</name></trk></gpx>',
        encoding="utf-8",
    )
    result = sw("import", str(bomb))
    assert result.exit_code == 2
    assert f"failed    {bomb}: refused: the XML declares entities" in result.stdout


def test_missing_file_and_empty_folder(sw: Any, tmp_path: Path) -> None:
    result = sw("import", str(tmp_path / "nope.fit"), shipped("garmin-fenix-5-run.fit"))
    assert result.exit_code == 0
    assert f"failed    {tmp_path / 'nope.fit'}: no such file" in result.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    result = sw("import", str(empty))
    assert result.exit_code == 2
    assert "no FIT, TCX or GPX files found" in result.stderr


def test_import_help_has_an_example(sw: Any) -> None:
    result = sw("import", "--help", use_db=False)
    assert result.exit_code == 0
    assert "Example: stridewatch import" in result.stdout
