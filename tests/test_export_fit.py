"""`stridewatch export RUN --format fit`: every file written is decoded by fitdecode, a library
independent of the writer (fit-tool), and its checksums are recomputed here from the spec."""

from __future__ import annotations

import sqlite3
import struct
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fitdecode
import pytest

from agent.store import Store

FENIX2 = "activity-small-fenix2-run.fit"

# The FIT SDK's CRC-16 nibble table ("FIT File Protocol", section "CRC").
CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip
# Messages Garmin's "Activity file" description requires, or recommends, in every activity.
REQUIRED = {"file_id", "device_info", "event", "record", "lap", "session", "activity"}


def fit_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        for nibble in (byte & 0x0F, byte >> 4):
            tmp = CRC_TABLE[crc & 0x0F]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ CRC_TABLE[nibble]
    return crc


def decode(path: Path) -> list[Any]:
    """All data messages, strictly: any malformed byte or CRC mismatch raises."""
    with fitdecode.FitReader(
        str(path),
        check_crc=fitdecode.CrcCheck.RAISE,
        error_handling=fitdecode.ErrorHandling.RAISE,
    ) as reader:
        return [frame for frame in reader if isinstance(frame, fitdecode.FitDataMessage)]


def only(messages: list[Any], name: str) -> Any:
    found = [m for m in messages if m.name == name]
    assert len(found) == 1, (name, len(found))
    return found[0]


def check_framing(path: Path) -> None:
    """Header and file CRC recomputed here, independently of both libraries."""
    data = path.read_bytes()
    size, proto, _profile, body, signature, header_crc = struct.unpack("<BBHI4sH", data[:14])
    assert (size, proto, signature) == (14, 0x20, b".FIT")
    assert header_crc == fit_crc(data[:12])
    assert len(data) == size + body + 2
    assert struct.unpack("<H", data[-2:])[0] == fit_crc(data[:-2])


def import_fenix2(sw: Any, corpus: Path) -> int:
    result = sw("import", "--json", str(corpus / FENIX2))
    assert result.exit_code == 0, result.stderr
    run_id: int = result.json()["files"][0]["run_id"]
    return run_id


def test_round_trip_of_a_real_run(sw: Any, db: Path, tmp_path: Path, corpus: Path) -> None:
    run_id = import_fenix2(sw, corpus)
    out = tmp_path / "out.fit"
    result = sw("export", str(run_id), "--format", "fit", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out} (FIT, 2809 records, 9.0 km)"
    check_framing(out)
    messages = decode(out)
    counts = Counter(m.name for m in messages)
    assert set(counts) >= REQUIRED
    assert (counts["activity"], counts["session"], counts["record"]) == (1, 1, 2809)
    assert (messages[0].name, messages[-1].name) == ("file_id", "activity")
    with Store.open(db) as store:
        samples = store.run_samples(run_id)
    original = [m for m in decode(corpus / FENIX2) if m.name == "record"]
    check_records([m for m in messages if m.name == "record"], original)
    check_session(only(messages, "session"), samples)


def check_records(written: list[Any], original: list[Any]) -> None:
    assert [m.get_value("timestamp") for m in written] == [
        m.get_value("timestamp") for m in original
    ]
    assert written[-1].get_value("distance") == pytest.approx(9007.07)
    for mine, theirs in zip(written, original, strict=True):
        assert mine.get_value("heart_rate", fallback=None) == theirs.get_value(
            "heart_rate", fallback=None
        )
        # Both in strides/min: stored as steps/min, written back as half; a cadence of 0 is
        # no cadence measured (standing), stored and written as none.
        assert mine.get_value("cadence", fallback=None) == (
            theirs.get_value("cadence", fallback=None) or None
        )
        assert mine.get_value("speed", fallback=None) == pytest.approx(
            theirs.get_value("speed", fallback=None)
        )


def check_session(session: Any, samples: list[Any]) -> None:
    assert (session.get_value("sport"), session.get_value("sub_sport")) == ("running", "treadmill")
    assert session.get_value("total_distance") == pytest.approx(9008.22)
    assert session.get_value("total_timer_time") == pytest.approx(2832.0)
    assert session.get_value("start_time") == datetime(2015, 8, 15, 14, 45, 8, tzinfo=UTC)
    hrs = [s[4] for s in samples if s[4]]
    assert session.get_value("avg_heart_rate") == round(sum(hrs) / len(hrs))
    # One average cadence: the one stored (the watch's session said 81 strides/min), not a
    # second mean of the samples computed on the way out.
    strides = session.get_value("avg_running_cadence") + session.get_value("avg_fractional_cadence")
    assert strides == pytest.approx(81.0, abs=1 / 128)


def test_fractional_cadence_and_timer_events(sw: Any, db: Path, tmp_path: Path) -> None:
    start = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    t0 = start.timestamp()
    # 171 steps/min is 85.5 strides/min: 85 and a fraction of 64/128.
    samples = [(t0 + i, 3.0 * i, 3.0, 171.0, 150) for i in range(61)]
    run = {"started_at": start, "distance_m": 180.0, "moving_s": 60.0, "elapsed_s": 60.0}
    with Store.open(db) as store:
        run_id = store.add_imported_run(run, samples)
    out = tmp_path / "cadence.fit"
    assert sw("export", str(run_id), "-o", str(out)).exit_code == 0
    check_framing(out)
    messages = decode(out)
    records = [m for m in messages if m.name == "record"]
    assert len(records) == 61
    assert {(r.get_value("cadence"), r.get_value("fractional_cadence")) for r in records} == {
        (85, 0.5)
    }
    timers = [
        (m.get_value("event"), m.get_value("event_type")) for m in messages if m.name == "event"
    ]
    assert timers == [("timer", "start"), ("timer", "stop_all")]
    lap = only(messages, "lap")
    assert (lap.get_value("avg_running_cadence"), lap.get_value("avg_fractional_cadence")) == (
        85,
        0.5,
    )
    activity = only(messages, "activity")
    assert (activity.get_value("num_sessions"), activity.get_value("type")) == (1, "manual")


def test_manual_run_exports_its_totals_as_two_records(sw: Any, tmp_path: Path) -> None:
    at = ["--at", "2026-03-04T18:00:00+00:00"]
    run_id = sw("log-run", *at, "--distance", "6km", "--duration", "36:00", "--avg-hr", "148")
    out = tmp_path / "manual.fit"
    assert sw("export", run_id.stdout.strip(), "-o", str(out)).exit_code == 0
    check_framing(out)
    messages = decode(out)
    records = [m for m in messages if m.name == "record"]
    assert [r.get_value("distance") for r in records] == [0.0, 6000.0]
    times = [r.get_value("timestamp") for r in records]
    assert (times[1] - times[0]).total_seconds() == 2160
    session = only(messages, "session")
    assert session.get_value("total_timer_time") == 2160.0
    assert session.get_value("avg_heart_rate") == 148
    assert session.get_value("avg_speed") == pytest.approx(6000 / 2160, abs=0.001)
    assert set(Counter(m.name for m in messages)) == REQUIRED


def test_reimport_of_an_export(sw: Any, tmp_path: Path, corpus: Path) -> None:
    run_id = import_fenix2(sw, corpus)
    out = tmp_path / "again.fit"
    assert sw("export", str(run_id), "-o", str(out)).exit_code == 0
    same_db = sw("import", "--json", str(out)).json()["files"][0]
    assert same_db["reason"] == f"same run as run {run_id}; kept the stored FIT"
    other = tmp_path / "other.db"
    result = sw("--db", str(other), "import", "--json", str(out), use_db=False)
    assert result.json()["files"][0]["status"] == "imported"
    before = sw("runs", "--json").json()[0]
    after = sw("--db", str(other), "runs", "--json", use_db=False).json()[0]
    for key in ("started_at", "distance_km", "moving_s", "elapsed_s", "source"):
        assert after[key] == before[key], key
    assert after["avg_hr"] == pytest.approx(before["avg_hr"], abs=0.5)


def test_default_name_refusal_and_force(
    sw: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["--at", "2026-03-04T18:00:00+00:00", "--distance", "5km", "--duration", "30:00"]
    run_id = sw("log-run", *args).stdout.strip()
    first = sw("export", run_id)
    name = f"stridewatch-run-{run_id}-2026-03-04.fit"
    assert first.stdout.startswith(f"wrote {name} ")
    decode(tmp_path / name)
    again = sw("export", run_id)
    assert again.exit_code == 2
    assert "already exists; choose another name with -o, or add --force" in again.stderr
    assert sw("export", run_id, "--force").exit_code == 0


def test_unknown_run_and_help(sw: Any) -> None:
    result = sw("export", "99")
    assert result.exit_code == 2
    assert "run 99: no such run" in result.stderr
    assert "Example: stridewatch export" in sw("export", "--help", use_db=False).stdout


def test_a_changed_byte_is_caught_by_the_checksum(sw: Any, tmp_path: Path) -> None:
    run_id = sw("log-run", "--distance", "5km", "--duration", "30:00").stdout.strip()
    out = tmp_path / "run.fit"
    sw("export", run_id, "-o", str(out))
    data = bytearray(out.read_bytes())
    data[40] ^= 0x01
    out.write_bytes(bytes(data))
    with pytest.raises(fitdecode.FitCRCError):
        decode(out)
    result = sw("--db", str(tmp_path / "other.db"), "import", str(out), use_db=False)
    assert "warning: damaged file (checksum mismatch" in result.stdout


def insert_run(db: Path, started_at: str) -> int:
    """A 30-minute manual run stored as an older version or a hand edit could have."""
    with sqlite3.connect(db) as conn:
        cursor = conn.execute(
            "insert into runs (started_at, ended_at, distance_m, moving_s, elapsed_s, source, "
            "status, created_at) values (?, null, 5000, 1800, 1800, 'manual', 'closed', ?)",
            [started_at, "2026-11-20T07:00:00+00:00"],
        )
        run_id = cursor.lastrowid
    conn.close()
    assert run_id is not None
    return run_id


@pytest.mark.parametrize(
    ("started_at", "expected"),
    [
        ("1985-06-01T07:00:00+00:00", "started 1985-06-01, and a FIT file can only hold times"),
        ("1998-07-01T07:00:00+00:00", "started 1998-07-01, and a FIT file can only hold times"),
        ("2150-06-01T07:00:00+00:00", "started 2150-06-01, and a FIT file can only hold times"),
        ("2206-06-01T07:00:00+00:00", "cannot be used, its started_at '2206-06-01T07:00:00"),
        ("0001-01-01T00:00:00+14:00", "cannot be used, its started_at '0001-01-01T00:00:00"),
    ],
)
def test_a_run_fit_cannot_date_is_refused_in_one_line(
    sw: Any, db: Path, tmp_path: Path, started_at: str, expected: str
) -> None:
    # issue 15, item 7: such runs failed inside the FIT encoder.
    sw("log-run", "--distance", "5km", "--duration", "30:00")
    run_id = insert_run(db, started_at)
    out = tmp_path / "old.fit"
    result = sw("export", str(run_id), "-o", str(out))
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"stridewatch: run {run_id}: {expected}")
    assert list(tmp_path.glob("old.fit*")) == []


def test_the_first_and_last_times_fit_holds_are_exported(sw: Any, db: Path, tmp_path: Path) -> None:
    sw("log-run", "--distance", "5km", "--duration", "30:00")
    for started_at in ("1998-07-04T00:00:00+00:00", "2126-02-04T00:00:00+00:00"):
        run_id = insert_run(db, started_at)
        out = tmp_path / f"{run_id}.fit"
        result = sw("export", str(run_id), "-o", str(out))
        assert result.exit_code == 0, result.stderr
        session = only(decode(out), "session")
        assert session.get_value("start_time") == datetime.fromisoformat(started_at)
