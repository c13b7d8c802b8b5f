"""`stridewatch import` of files made here (the real devices' files: test_import_corpus.py)."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import pytest

from agent.store import Store

# One degree of latitude on the mean-radius sphere, in metres: 2 pi R / 360.
METRES_PER_DEGREE = 2 * math.pi * 6_371_008.8 / 360


def by_file(result: Any) -> dict[str, dict[str, Any]]:
    return {Path(item["file"]).name: item for item in result.json()["files"]}


def stored_runs(sw: Any) -> dict[str, dict[str, Any]]:
    return {run["started_at"]: run for run in sw("runs", "--json").json()}


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


@pytest.mark.parametrize("damaged", ["1e300", "1e8"])
def test_a_sample_distance_no_run_can_have_is_zero_and_the_run_shows(
    sw: Any, db: Path, tmp_path: Path, damaged: str
) -> None:
    """A trackpoint's distance past any run (10,000 km) is a damaged number: stored as 0, as
    a negative one is, so `show` does not try to split 1e300 km into kilometres."""
    path = make_tcx(tmp_path / "damaged.tcx")
    text = path.read_text().replace(
        "<DistanceMeters>540.0</DistanceMeters>", f"<DistanceMeters>{damaged}</DistanceMeters>", 1
    )
    path.write_text(text)
    result = sw("import", "--json", str(path))
    assert result.exit_code == 0, result.stderr
    run_id = result.json()["files"][0]["run_id"]
    with Store.open(db) as store:
        distances = [sample[1] for sample in store.run_samples(run_id)]
    assert distances[3] == 0.0
    assert max(distances) == 1800.0
    shown = sw("show", str(run_id), "--json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["totals"]["distance_km"] == 1.8
    assert len(shown.json()["splits"]) <= 2


def test_generated_tcx_ride_is_skipped(sw: Any, tmp_path: Path) -> None:
    result = sw("import", str(make_tcx(tmp_path / "ride.tcx", sport="Biking")))
    assert result.exit_code == 2
    assert f"skipped   {tmp_path / 'ride.tcx'}: cycling activity, not a run" in result.stdout


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
    # Samples keep distances and speeds to the millimetre (agent/store/samples.py).
    assert samples[-1][1] == pytest.approx(expected, abs=0.0005)
    assert samples[-1][2] == pytest.approx(0.001 * METRES_PER_DEGREE / 30, abs=0.0005)
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
    result = sw("import", str(tmp_path / "nope.fit"), str(make_tcx(tmp_path / "run.tcx")))
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
