"""`stridewatch import` of bulk exports as they come: a Strava zip (activities.csv and gzipped
files) and a Garmin Connect zip (zips of FIT files inside), read without unpacking, with a
progress bar on a terminal and plain lines through a pipe."""

from __future__ import annotations

import csv
import gzip
import io
import os
import pty
import select
import sqlite3
import subprocess
import sys
import warnings
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.files.fit_maker import Leg, make_fit
from tests.files.xml_maker import Lap, gpx, north, tcx, tcx_activity

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
# Strava's activities.csv repeats some titles (the second "Distance" is in metres).
HEADER = [
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Max Heart Rate",
    "Relative Effort",
    "Commute",
    "Activity Private Note",
    "Activity Gear",
    "Filename",
    "Athlete Weight",
    "Bike Weight",
    "Elapsed Time",
    "Moving Time",
    "Distance",
]


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def strava_zip(path: Path, extra_runs: int = 0) -> Path:
    """A Strava bulk export: runs as GPX (numeric type), FIT and untyped GPX named by the
    list; a ride as TCX, a walk the list names, a run entered by hand (no file)."""
    files: dict[str, bytes] = {
        "activities/101.gpx.gz": gzip.compress(
            gpx([north(day(0), 1800, 3.0)], sport="9", creator="StravaGPX").encode()
        ),
        "activities/102.fit.gz": gzip.compress(
            make_fit(day(1), [Leg("RUNNING", 2400, 7000.0, hr=150, strides=84)])
        ),
        "activities/103.tcx.gz": gzip.compress(
            tcx([tcx_activity("Biking", [Lap(day(2), 3600, 30000.0)])], prefix=" " * 10).encode()
        ),
        "activities/104.gpx.gz": gzip.compress(gpx([north(day(3), 1800, 1.4)]).encode()),
        "activities/105.gpx": gpx([north(day(4), 1500, 3.2)]).encode(),
    }
    rows = [
        ["101", "Jan 5, 2026, 7:00:00 AM", "Morning Run", "Run", "", "1800", "5.40"],
        ["102", "Jan 6, 2026, 7:00:00 AM", "Tempo", "Run", "", "2400", "7.00"],
        ["103", "Jan 7, 2026, 7:00:00 AM", "Commute", "Ride", "", "3600", "30.0"],
        ["104", "Jan 8, 2026, 7:00:00 AM", "Dog walk", "Walk", "", "1800", "2.5"],
        ["105", "Jan 9, 2026, 7:00:00 AM", "Hill reps", "Run", "", "1500", "4.8"],
        ["106", "Jan 10, 2026, 7:00:00 AM", "Treadmill", "Run", "", "1800", "5.0"],
    ]
    for n in range(extra_runs):
        name = f"activities/{200 + n}.gpx.gz"
        track = gpx([north(day(10 + n), 1200, 3.0)], sport="9", creator="StravaGPX")
        files[name] = gzip.compress(track.encode())
        rows.append([str(200 + n), "", f"Run {n}", "Run", "", "1200", "3.6"])
    names = {row[0]: f"activities/{row[0]}" for row in rows}
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(HEADER)
    for row in rows:
        filename = next((f for f in files if f.startswith(names[row[0]] + ".")), "")
        metres = str(float(row[6]) * 1000)
        writer.writerow([*row, "", "", "", "", "", filename, "", "", row[5], row[5], metres])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("activities.csv", table.getvalue())
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("profile.csv", "Athlete ID\n1\n")
    return path


def test_a_strava_export_zip_imports_each_run_once(sw: Any, tmp_path: Path, db: Path) -> None:
    export = strava_zip(tmp_path / "export_12345.zip")
    result = sw("import", "--json", str(export))
    assert result.exit_code == 0, result.stderr
    by_name = {item["file"].split(":", 1)[1]: item for item in result.json()["files"]}
    manual = "activities.csv [Treadmill (Jan 10, 2026, 7:00:00 AM)]"
    assert {name: item["status"] for name, item in by_name.items()} == {
        manual: "imported",
        "activities/101.gpx.gz": "imported",
        "activities/102.fit.gz": "imported",
        "activities/103.tcx.gz": "skipped",
        "activities/104.gpx.gz": "skipped",
        "activities/105.gpx": "imported",
    }
    assert by_name["activities/103.tcx.gz"]["reason"] == "cycling activity, not a run"
    # The walk's file names no sport: the list's "Walk" does.
    assert by_name["activities/104.gpx.gz"]["reason"] == "walk activity, not a run"
    # A run entered by hand on Strava has no file: the list's totals stand for it.
    treadmill = by_name[manual]
    assert (treadmill["distance_km"], treadmill["moving_s"]) == (5.0, 1800.0)
    assert treadmill["started_at"] == "2026-01-10T07:00:00+00:00"
    assert treadmill["warning"] == "no activity file: totals from the list"
    assert not list(tmp_path.glob("activities*"))  # nothing unpacked beside it
    conn = sqlite3.connect(db)
    notes = [row[0] for row in conn.execute("select note from runs order by started_at")]
    conn.close()
    assert notes == ["Morning Run", "Tempo", "Hill reps", "Treadmill"]
    again = sw("import", "--json", str(export)).json()
    assert (again["imported"], again["duplicate"]) == (0, 4)
    assert len(sw("runs", "--json").json()) == 4


def test_a_garmin_export_with_zips_inside(sw: Any, tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("a@b.com_1.fit", make_fit(day(0), [Leg("RUNNING", 1800, 5000.0)]))
        archive.writestr("a@b.com_2.fit", make_fit(day(1), [Leg("CYCLING", 1800, 15000.0)]))
    export = tmp_path / "garmin.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("DI_CONNECT/DI-Connect-Fitness/summary.json", "{}")
        archive.writestr(
            "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue()
        )
    result = sw("import", "--json", str(export))
    assert result.exit_code == 0, result.stderr
    statuses = sorted(item["status"] for item in result.json()["files"])
    assert statuses == ["imported", "skipped"]


def test_a_damaged_zip_and_a_damaged_member(sw: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("activities/1.gpx.gz", b"\x1f\x8b not gzip")
        archive.writestr("activities/2.gpx", gpx([north(day(0), 600, 3.0)], sport="running"))
    result = sw("import", str(broken), str(export))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"failed    {broken}: damaged zip file")
    assert lines[1].startswith(f"failed    {export}:activities/1.gpx.gz: damaged gzip file")
    assert lines[2].startswith(f"imported  {export}:activities/2.gpx: run 1")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", *args]


def test_progress_bar_on_a_terminal_plain_lines_in_a_pipe(tmp_path: Path) -> None:
    export = strava_zip(tmp_path / "big.zip", extra_runs=20)
    env = {**os.environ, "TZ": "UTC", "COLUMNS": "100", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    piped = subprocess.run(
        _cli("--db", str(tmp_path / "piped.db"), "import", str(export)),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert "\x1b[" not in piped.stdout  # no escape codes, no bar
    assert piped.stdout.count("imported  ") == 24
    assert piped.stdout.splitlines()[-1] == "24 imported, 0 duplicate, 2 skipped, 0 failed"

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        _cli("--db", str(tmp_path / "tty.db"), "import", str(export)),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    text = output.decode("utf-8", "replace")
    assert "importing" in text  # rich's bar, over the 29 files
    assert "━" in text
    assert text.count("imported  ") == 24
    assert "24 imported, 0 duplicate, 2 skipped, 0 failed" in text


def _statuses(result: Any) -> dict[str, str]:
    return {item["file"].split(":", 1)[-1]: item["status"] for item in result.json()["files"]}


def test_an_unpacked_export_and_its_loose_files_read_the_list(sw: Any, tmp_path: Path) -> None:
    export = strava_zip(tmp_path / "export.zip")
    folder = tmp_path / "export_12345"
    with zipfile.ZipFile(export) as archive:
        archive.extractall(folder)
    # A loose file of it first: the list one folder up names it a walk.
    walk = folder / "activities" / "104.gpx.gz"
    assert sw("import", "--json", str(walk)).json()["files"][0]["reason"] == (
        "walk activity, not a run"
    )
    result = sw("import", "--json", str(folder / "activities"))
    assert result.json()["imported"] == 4  # three files and the run entered by hand
    assert sw("import", "--json", str(folder)).json()["imported"] == 0


def test_a_zip_with_its_export_in_a_folder(sw: Any, tmp_path: Path) -> None:
    flat = strava_zip(tmp_path / "flat.zip")
    nested = tmp_path / "rezipped.zip"
    with zipfile.ZipFile(flat) as source, zipfile.ZipFile(nested, "w") as target:
        for info in source.infolist():
            target.writestr(f"export_999/{info.filename}", source.read(info))
        target.writestr("__MACOSX/export_999/activities/._101.gpx.gz", b"\x00\x05\x16\x07")
        target.writestr("export_999/activities/._101.gpx.gz", b"\x00\x05\x16\x07")
    result = sw("import", "--json", str(nested))
    statuses = _statuses(result)
    assert statuses["export_999/activities/104.gpx.gz"] == "skipped"  # the list's "Walk"
    assert result.json()["imported"] == 4
    assert result.json()["failed"] == 0  # macOS's resource forks are not activity files


def test_the_list_names_what_the_file_calls_other(sw: Any, tmp_path: Path) -> None:
    table = "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
    table += '7,"Jan 5, 2026, 7:00:00 AM",Easy,Run,activities/7.tcx\n'
    table += '8,"Jan 6, 2026, 7:00:00 AM",Gone,Run,activities/8.gpx\n'
    export = tmp_path / "other.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("activities.csv", table)
        archive.writestr(
            "activities/7.tcx", tcx([tcx_activity("Other", [Lap(day(0), 1800, 5000.0)])])
        )
    result = sw("import", "--json", str(export))
    by_file = {item["file"].split(":", 1)[-1]: item for item in result.json()["files"]}
    assert by_file["activities/7.tcx"]["status"] == "imported"
    assert by_file["activities/8.gpx"]["status"] == "failed"
    assert (
        by_file["activities/8.gpx"]["reason"]
        == "listed in activities.csv (Gone) but not in the zip"
    )


def test_two_imports_at_once_store_each_run_once(tmp_path: Path) -> None:
    export = strava_zip(tmp_path / "export.zip", extra_runs=6)
    db = tmp_path / "once.db"
    env = {**os.environ, "TZ": "UTC"}
    subprocess.run(_cli("--db", str(db), "runs"), env=env, check=False, capture_output=True)
    processes = [
        subprocess.Popen(
            _cli("--db", str(db), "import", str(export)),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert b"Traceback" not in out + err
    conn = sqlite3.connect(db)
    count, distinct = conn.execute(
        "select count(*), count(distinct started_at) from runs"
    ).fetchone()
    conn.close()
    assert count == distinct == 10


def test_a_damaged_or_encrypted_member_is_one_line(sw: Any, tmp_path: Path) -> None:
    good = gpx([north(day(0), 600, 3.0)], sport="running").encode()
    export = tmp_path / "mixed.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("bad.gpx", good.replace(b"running", b"RUNNING"))
        archive.writestr("locked.gpx", good)
        archive.writestr("good.gpx", good)
    data = bytearray(export.read_bytes())
    at = data.index(b"RUNNING")
    data[at] ^= 0xFF  # the stored bytes no longer match their CRC
    # Mark locked.gpx encrypted (a password is needed), in its local and central headers.
    local = data.index(b"locked.gpx") - 30
    central = data.index(b"locked.gpx", local + 40) - 46
    assert data[local : local + 4] == b"PK\x03\x04"
    assert data[central : central + 4] == b"PK\x01\x02"
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    export.write_bytes(bytes(data))
    result = sw("import", str(export))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"failed    {export}:bad.gpx: cannot be read from the zip")
    assert lines[1].startswith(f"failed    {export}:locked.gpx: cannot be read from the zip")
    assert lines[2].startswith(f"imported  {export}:good.gpx: run 1")


def test_two_entries_of_one_name_are_both_read(sw: Any, tmp_path: Path) -> None:
    export = tmp_path / "twice.zip"
    with zipfile.ZipFile(export, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the second name: exports do it
        archive.writestr("a.gpx", gpx([north(day(0), 600, 3.0)], sport="running"))
        archive.writestr("a.gpx", gpx([north(day(1), 600, 3.0)], sport="running"))
    result = sw("import", "--json", str(export))
    assert result.json()["imported"] == 2


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (
            "Activity ID;Activity Date;Activity Name;Activity Type;Filename\n"
            "7;x;Zürich;Walk;activities/7.gpx\n",
            "cp1252",
        ),
        (
            "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
            "7,x,Zürich,Walk,activities/7.gpx\n",
            "utf-8",
        ),
    ],
    ids=["semicolons-cp1252", "strava"],
)
def test_lists_resaved_in_a_spreadsheet(sw: Any, tmp_path: Path, text: str, encoding: str) -> None:
    export = tmp_path / "list.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("activities.csv", text.encode(encoding))
        archive.writestr("activities/7.gpx", gpx([north(day(0), 1800, 1.4)]))
    (item,) = sw("import", "--json", str(export)).json()["files"]
    assert item["reason"] == "walk activity, not a run"


def test_a_list_in_another_language_says_so(sw: Any, tmp_path: Path) -> None:
    export = tmp_path / "de.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(
            "activities.csv", "Aktivitäts-ID,Aktivitätsdatum,Aktivitätsname,Aktivitätsart\n"
        )
        archive.writestr("activities/7.gpx", gpx([north(day(0), 1800, 3.0)], sport="running"))
    result = sw("import", str(export))
    assert result.exit_code == 0
    assert "not those of Strava's English export" in result.stdout
    assert "imported  " in result.stdout


def test_the_list_corrects_the_files_sport(sw: Any, tmp_path: Path) -> None:
    # Recorded as a run, changed to a ride in Strava afterwards (and the other way round).
    table = "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
    table += '1,"Jan 5, 2026, 7:00:00 AM",Commute,Ride,activities/1.fit\n'
    table += '2,"Jan 6, 2026, 7:00:00 AM",Tempo,Run,activities/2.fit\n'
    export = tmp_path / "corrected.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("activities.csv", table)
        archive.writestr("activities/1.fit", make_fit(day(0), [Leg("RUNNING", 2400, 9000.0)]))
        archive.writestr("activities/2.fit", make_fit(day(1), [Leg("CYCLING", 1800, 6000.0)]))
    first, second = sw("import", "--json", str(export)).json()["files"]
    assert first["reason"] == "ride (as activities.csv says) activity, not a run"
    assert second["status"] == "imported"
    assert second["warning"] == "activities.csv calls it a Run; the file says cycling"


def test_names_cannot_drive_the_terminal(sw: Any, tmp_path: Path) -> None:
    table = "Activity ID,Activity Date,Activity Name,Activity Type,Filename,Elapsed Time,"
    table += "Moving Time,Distance,Distance\n"
    table += '1,"Jan 5, 2026, 7:00:00 AM",\x1b]0;pwned\x07Easy\x1b[31m,Run,,1800,1800,5.0,5000\n'
    export = tmp_path / "esc.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("activities.csv", table)
    result = sw("import", str(export))
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
