"""Captures and replays: `run --capture` writes every raw notification as JSON lines, and
`replay` feeds one through the same decode, recorder and live alerts into a database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.sensors.base import BASE_UUID, Connected, Notification
from agent.sensors.capture import CaptureWriter, full_uuid, read_capture, short_uuid

ENV = {**os.environ, "TZ": "UTC"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
        check=False,
    )


def run_rows(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        runs = [dict(r) for r in conn.execute("select * from runs order by id")]
        for run in runs:
            run["samples"] = conn.execute(
                "select count(*) from samples where run_id = ?", [run["id"]]
            ).fetchone()[0]
        return runs
    finally:
        conn.close()


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A simulated 5-minute run recorded with a capture beside it."""
    folder = tmp_path_factory.mktemp("capture")
    db, capture = folder / "live.db", folder / "run.jsonl"
    result = cli(
        "--db", str(db), "run", "--simulate", "--scenario", "short", "--speedup", "inf",
        "--capture", str(capture),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return db, capture


def test_a_replay_records_the_same_run(captured: tuple[Path, Path], tmp_path: Path) -> None:
    live_db, capture = captured
    replay_db = tmp_path / "replay.db"
    result = cli("--db", str(replay_db), "replay", str(capture), "--instant")
    assert result.returncode == 0, result.stderr
    [live] = run_rows(live_db)
    [again] = run_rows(replay_db)
    for column in ("started_at", "distance_m", "moving_s", "avg_hr", "avg_cadence", "samples"):
        assert again[column] == pytest.approx(live[column]), column


def test_capture_lines_are_raw_notifications_and_events(captured: tuple[Path, Path]) -> None:
    _, capture = captured
    lines = [json.loads(line) for line in capture.read_text().splitlines()]
    chars = {line["char"] for line in lines if "char" in line}
    assert {"2a53", "2a37"} <= chars  # RSC and Heart Rate Measurement
    events = {line["event"] for line in lines if "event" in line}
    assert "connected" in events
    first = next(line for line in lines if line.get("char") == "2a53")
    assert set(first) == {"t", "address", "kind", "char", "hex"}
    assert bytes.fromhex(first["hex"])
    assert [line["t"] for line in lines] == sorted(line["t"] for line in lines)


def test_a_replay_prints_the_live_alerts(captured: tuple[Path, Path], tmp_path: Path) -> None:
    _, capture = captured
    db = tmp_path / "history.db"
    first_t = json.loads(capture.read_text().splitlines()[0])["t"]
    from datetime import UTC, datetime, timedelta

    before = datetime.fromtimestamp(first_t, UTC) - timedelta(days=3)
    logged = cli(
        "--db", str(db), "log-run", "--at", before.isoformat(), "--distance", "0.5km",
        "--duration", "3:00",
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    result = cli("--db", str(db), "replay", str(capture), "--instant")
    assert result.returncode == 0, result.stderr
    assert "longer than 1.1x your longest run this month (0.5 km)" in result.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not a JSON object"),
        ('{"t": -1, "address": "A", "kind": "footpod", "char": "2a53", "hex": "00"}', '"t"'),
        ('{"t": 1e9, "address": "A", "kind": "bike", "char": "2a53", "hex": "00"}', '"kind"'),
        ('{"t": 1e9, "address": "A", "kind": "hrm", "char": "2a37", "hex": "zz"}', '"hex"'),
        ('{"t": 1e9, "address": "A", "kind": "hrm", "event": "exploded"}', '"event"'),
        ('{"t": 1e300, "address": "A", "kind": "footpod", "event": "connected"}', '"t"'),
        ('{"t": 1796000000000, "address": "A", "kind": "hrm", "event": "connected"}', "1990"),
        ('{"t": 1e9, "address": "A", "kind": "footpod", "event": "battery"}', '"percent"'),
        ('{"t": 1e9, "address": "A", "kind": "hrm", "char": "xyzw", "hex": "00"}', '"char"'),
        ('{"t": 1e9, "address": "A", "kind": "hrm", "char": "hello", "hex": "00"}', '"char"'),
    ],
)
def test_a_bad_capture_line_is_named(sw: Any, tmp_path: Path, line: str, message: str) -> None:
    good = '{"t": 1000000000, "address": "A", "kind": "footpod", "event": "connected"}'
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n{good}\n{line}\n", encoding="utf-8")
    result = sw("replay", str(path), "--instant")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"stridewatch: {path}:3: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_capture_never_overwrites_a_file(sw: Any, tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text("keep me\n", encoding="utf-8")
    result = sw("run", "--simulate", "--speedup", "inf", "--capture", str(path))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert path.read_text() == "keep me\n"


def test_writer_and_reader_agree(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    writer = CaptureWriter(path)
    writer.write(Connected("C0:FF:EE:00:00:01", "footpod", 5.0), 1_000_000_000.0)
    rsc = BASE_UUID.format(0x2A53)
    note = Notification("C0:FF:EE:00:00:01", "footpod", rsc, 6.0, b"\x02\x2c\x01")
    writer.write(note, 1_000_000_001.0)
    writer.close()
    connected, read = read_capture(path)
    assert (connected.event, connected.t) == ("connected", 1_000_000_000.0)
    assert (read.char, read.data, read.t) == (rsc, b"\x02\x2c\x01", 1_000_000_001.0)
    assert short_uuid(rsc) == "2a53"
    assert full_uuid("2a53") == rsc
    assert short_uuid("6e400003-b5a3-f393-e0a9-e50e24dcca9e") == (
        "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
    )


def write_capture(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def stream(seconds: int, hr_hex: str, t0: float = 1_790_000_000.0) -> list[dict[str, Any]]:
    """A footpod at 3 m/s (4 Hz, total distance in dm) and a strap sending ``hr_hex``."""
    from agent.sensors.gatt import RSCMeasurement, encode_rsc_measurement

    pod, strap = "C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"
    lines: list[dict[str, Any]] = [
        {"t": t0, "address": pod, "kind": "footpod", "event": "connected"},
        {"t": t0, "address": strap, "kind": "hrm", "event": "connected"},
    ]
    for k in range(seconds * 4):
        t = t0 + k / 4
        value = RSCMeasurement(3.0, 170, 1.06, round(k * 0.75, 1), True)
        lines.append(
            {"t": t, "address": pod, "kind": "footpod", "char": "2a53",
             "hex": encode_rsc_measurement(value).hex(" ")}
        )  # fmt: skip
        if k % 4 == 0:
            lines.append({"t": t, "address": strap, "kind": "hrm", "char": "2a37", "hex": hr_hex})
    return lines


def test_a_strap_with_a_dangling_byte_still_gives_heart_rate(sw: Any, tmp_path: Path) -> None:
    # A Web Bluetooth capture's payload: 62 bpm, one RR interval, one odd byte.
    capture = write_capture(tmp_path / "strap.jsonl", stream(90, "10 3e b1 03 de"))
    result = sw("replay", str(capture), "--instant")
    assert result.exit_code == 0, result.stderr
    (run,) = sw("runs", "--json").json()
    assert run["avg_hr"] == 62
    assert run["distance_km"] == pytest.approx(0.27, abs=0.01)


def pod_stream(
    seconds: int, value_at: Any, t0: float = 1_790_000_000.0, rate_hz: int = 4
) -> list[dict[str, Any]]:
    """A footpod's captured stream: ``value_at(k)`` gives the k-th RSC measurement."""
    from agent.sensors.gatt import encode_rsc_measurement

    pod = "C0:FF:EE:00:00:01"
    lines: list[dict[str, Any]] = [
        {"t": t0, "address": pod, "kind": "footpod", "event": "connected"}
    ]
    for k in range(seconds * rate_hz):
        payload = encode_rsc_measurement(value_at(k)).hex(" ")
        lines.append(
            {"t": t0 + k / rate_hz, "address": pod, "kind": "footpod", "char": "2a53",
             "hex": payload}
        )  # fmt: skip
    return lines


def replayed_run(sw: Any, tmp_path: Path, name: str, lines: list[dict[str, Any]]) -> Any:
    capture = write_capture(tmp_path / name, lines)
    result = sw("replay", str(capture), "--instant")
    assert result.exit_code == 0, result.stderr
    return sw("runs", "--json").json()


def test_a_lagging_first_cadence_does_not_make_a_pod_per_foot(
    sw: Any, tmp_path: Path, db: Path
) -> None:
    from agent.sensors.gatt import RSCMeasurement

    def value(k: int) -> RSCMeasurement:
        return RSCMeasurement(2.5, 60 if k == 0 else 170, None, round(k * 0.625, 1), True)

    (_run,) = replayed_run(sw, tmp_path, "lag.jsonl", pod_stream(120, value))
    conn = sqlite3.connect(db)
    cadence, per_foot = conn.execute(
        "select r.avg_cadence, (select max(per_foot) from devices) from runs r"
    ).fetchone()
    conn.close()
    assert cadence == pytest.approx(170, abs=2)
    assert not per_foot


def test_a_frozen_counter_takes_distance_from_speed(sw: Any, tmp_path: Path, db: Path) -> None:
    from agent.sensors.gatt import RSCMeasurement

    # A treadmill emulator: total distance stuck at 10 dm, 2.2 m/s, cadence 1.
    frozen = pod_stream(300, lambda k: RSCMeasurement(2.2, 1, None, 1.0, True))
    (run,) = replayed_run(sw, tmp_path, "frozen.jsonl", frozen)
    assert run["distance_km"] == pytest.approx(0.66, abs=0.02)
    conn = sqlite3.connect(db)
    cadences = conn.execute("select count(*) from samples where cadence is not null").fetchone()
    conn.close()
    assert cadences[0] == 0
    conn = sqlite3.connect(db)
    assert conn.execute("select distance_source from runs").fetchone() == ("speed",)
    conn.close()


def test_a_speed_blip_is_still_moving_time(sw: Any, tmp_path: Path) -> None:
    from agent.sensors.gatt import RSCMeasurement

    def value(k: int) -> RSCMeasurement:
        speed = 0.0 if k % 240 == 120 else 3.0  # a second of 0 every minute
        return RSCMeasurement(speed, 170, None, round(k * 0.75, 1), True)

    (run,) = replayed_run(sw, tmp_path, "blip.jsonl", pod_stream(600, value))
    assert run["moving_s"] == pytest.approx(600, abs=2)


@pytest.mark.parametrize(
    ("speed", "step_m"),
    [(3.0, 15.0), (3.0, 30.0), (3.0, 16.0934), (3.5, 16.0934), (2.5, 16.0934)],
    ids=["5s-steps", "10s-steps", "0.01mi-3.0", "0.01mi-3.5", "0.01mi-2.5"],
)
def test_a_counter_that_moves_in_steps_keeps_the_distance(
    sw: Any, tmp_path: Path, speed: float, step_m: float
) -> None:
    from agent.sensors.gatt import RSCMeasurement

    # Notifications every second, the total distance only in whole steps (a treadmill
    # counting 0.01 mile, a footpod updating its counter every few seconds).
    def value(k: int) -> RSCMeasurement:
        counted = int(k * speed // step_m) * step_m
        return RSCMeasurement(speed, 170, None, round(counted, 1), True)

    (run,) = replayed_run(sw, tmp_path, "steps.jsonl", pod_stream(1800, value, rate_hz=1))
    assert run["distance_km"] == pytest.approx(speed * 1.8, rel=0.02)


def test_a_capture_cut_off_mid_line_replays_the_rest(sw: Any, tmp_path: Path) -> None:
    lines = stream(90, "10 3e b1 03 de")
    text = "".join(json.dumps(line) + "\n" for line in lines)
    path = tmp_path / "killed.jsonl"
    path.write_text(text[:-20], encoding="utf-8")  # killed while writing the last line
    result = sw("replay", str(path), "--instant")
    assert result.exit_code == 0, result.stderr
    (run,) = sw("runs", "--json").json()
    assert run["avg_hr"] == 62


def test_a_replay_never_stores_a_run_twice(captured: tuple[Path, Path], tmp_path: Path) -> None:
    _, capture = captured
    db = tmp_path / "twice.db"
    assert cli("--db", str(db), "replay", str(capture), "--instant").returncode == 0
    again = cli("--db", str(db), "replay", str(capture), "--instant")
    assert again.returncode == 2
    assert "already has run 1 in the capture's time" in again.stderr
    assert len(run_rows(db)) == 1


def test_a_fast_replay_keeps_the_captures_times(
    captured: tuple[Path, Path], tmp_path: Path
) -> None:
    live_db, capture = captured
    db = tmp_path / "fast.db"
    result = cli("--db", str(db), "replay", str(capture), "--speedup", "1000")
    assert result.returncode == 0, result.stderr
    [live] = run_rows(live_db)
    [fast] = run_rows(db)
    from datetime import datetime

    started = [datetime.fromisoformat(r["started_at"]) for r in (live, fast)]
    assert abs((started[1] - started[0]).total_seconds()) <= 2  # the event loop's latency
    assert fast["distance_m"] == pytest.approx(live["distance_m"])
    assert fast["moving_s"] == pytest.approx(live["moving_s"], abs=3)


def test_a_capture_is_private_and_never_written_through_a_link(sw: Any, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.jsonl"
    link = tmp_path / "run.jsonl"
    link.symlink_to(target)  # dangling: the capture would be created at its target
    result = sw("run", "--simulate", "--speedup", "inf", "--capture", str(link))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert not target.exists()
    fresh = tmp_path / "fresh.jsonl"
    result = sw(
        "run", "--simulate", "--speedup", "inf", "--scenario", "short", "--capture", str(fresh)
    )
    assert result.exit_code == 0, result.stderr
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert fresh.read_text(encoding="utf-8")
