"""The recorder driven by the simulator's notifications (real GATT bytes, decoded), checked
against the simulator's ground truth, and stored in a real SQLite file."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.recording.recorder import Recorder, replay
from agent.sensors import sim
from agent.store import Store
from agent.store.writer import FlushSink

EPOCH = 1_795_000_000.0
POD = sim.FootpodSpec()


def record(tmp_path: Path, scenario: sim.Scenario, settings: Settings | None = None) -> Any:
    """Replay the scenario into a fresh database; return (its one run's row, samples, truth)."""
    recorder = Recorder(settings or Settings(), epoch=EPOCH, source="simulated")
    with Store.open(tmp_path / "sim.db") as store:
        replay(sim.iter_items(scenario), recorder, FlushSink(store), batch=500)
        (run,) = store.runs()
        row = store.run_row(run.id)
        samples = store.run_samples(run.id)
    truth = sim.Simulation(scenario).truth
    return row, samples, truth, recorder


def easy(minutes: float = 30, **changes: Any) -> sim.Scenario:
    return replace(sim.Scenario(sim.easy_run(duration_s=minutes * 60), seed=7), **changes)


def assert_distance(row: dict[str, Any], truth: sim.GroundTruth) -> None:
    assert row["distance_m"] == pytest.approx(truth.distance_m, rel=0.01)


def test_steady_run_with_total_distance(tmp_path: Path) -> None:
    row, samples, truth, _ = record(tmp_path, easy())
    assert_distance(row, truth)
    assert row["distance_m"] == pytest.approx(truth.distance_m, rel=0.002)
    assert row["moving_s"] == pytest.approx(truth.moving_time_s, abs=3)
    assert row["status"] == "closed"
    assert row["source"] == "simulated"
    assert row["device"] == POD.address
    assert len(samples) == pytest.approx(truth.duration_s, abs=3)  # one a second


def test_steady_run_without_total_distance(tmp_path: Path) -> None:
    scenario = easy(footpod=replace(POD, total_distance=False, stride=False))
    row, _, truth, _ = record(tmp_path, scenario)
    assert_distance(row, truth)


def test_counter_reset(tmp_path: Path) -> None:
    row, _, truth, _ = record(tmp_path, easy(faults=(sim.CounterReset(900.0),)))
    assert truth.counter_restarts_s == (900.0,)
    assert_distance(row, truth)


def test_dropout_with_the_counter(tmp_path: Path) -> None:
    scenario = easy(faults=(sim.Dropout(600.0, 20.0, "footpod"),))
    row, samples, truth, _ = record(tmp_path, scenario)
    assert_distance(row, truth)
    gaps = [b[0] - a[0] for a, b in pairwise(samples)]
    assert max(gaps) == pytest.approx(21, abs=0.5)


def test_dropout_without_the_counter(tmp_path: Path) -> None:
    # Speed is not integrated across the 20 s gap (~58 m at 2.9 m/s): in a 45-minute run
    # that stays within 1 %.
    footpod = replace(POD, total_distance=False)
    scenario = easy(45, footpod=footpod, faults=(sim.Dropout(600.0, 20.0, "footpod"),))
    row, _, truth, _ = record(tmp_path, scenario)
    assert_distance(row, truth)
    assert truth.distance_m - row["distance_m"] == pytest.approx(20 * 2.9, abs=8)


def test_disconnect_and_reconnect(tmp_path: Path) -> None:
    scenario = easy(faults=(sim.Disconnect(1200.0, 10.0, "footpod"),))
    row, _, truth, _ = record(tmp_path, scenario)
    assert truth.counter_restarts_s == (1210.0,)
    assert_distance(row, truth)
    assert row["distance_m"] < truth.distance_m  # never doubled by the counter restart


def test_pauses_are_excluded_from_moving_time(tmp_path: Path) -> None:
    model = sim.easy_run(duration_s=1800).with_pause(600, 60).with_pause(1200, 120)
    row, _, truth, _ = record(tmp_path, sim.Scenario(model, seed=3))
    assert len(truth.pauses) == 2
    assert_distance(row, truth)
    # The debounce costs a second or two at each stop and start.
    assert row["moving_s"] == pytest.approx(truth.moving_time_s, abs=8)
    assert row["elapsed_s"] == pytest.approx(truth.moving_time_s + 180, abs=8)


def test_per_foot_cadence_is_doubled(tmp_path: Path) -> None:
    both, _, _, _ = record(tmp_path / "a", easy())
    one, _, _, recorder = record(tmp_path / "b", easy(footpod=replace(POD, per_foot=True)))
    assert POD.address in recorder.per_foot
    assert one["avg_cadence"] == pytest.approx(both["avg_cadence"], rel=0.01)
    # Mostly at 2.9 m/s, some warm-up at 2.5 m/s.
    assert sim.cadence_for(2.5) < one["avg_cadence"] < sim.cadence_for(2.9)
    with Store.open(tmp_path / "b" / "sim.db") as store:
        assert store.per_foot_devices() == {POD.address}


def test_malformed_payloads_are_counted_and_skipped(tmp_path: Path) -> None:
    scenario = easy(faults=(sim.Malformed(None, rate=0.02),))
    row, _, truth, recorder = record(tmp_path, scenario)
    assert recorder.decode_failures == len(truth.malformed) > 10
    assert_distance(row, truth)


def test_heart_rate_load_is_recorded(tmp_path: Path) -> None:
    row, samples, truth, _ = record(tmp_path, easy())
    assert row["hr_s"] == pytest.approx(truth.moving_time_s, abs=5)
    runner = sim.Runner()
    assert runner.steady_hr(2.5, 0) < row["avg_hr"] < runner.steady_hr(2.9, 1800)
    assert row["trimp"] > 0
    assert row["edwards_trimp"] > 0
    assert all(s[4] is not None for s in samples[5:])


def test_hr_only_session(tmp_path: Path) -> None:
    row, samples, truth, _ = record(tmp_path, easy(footpod=None))
    assert row["hr_only"] == 1
    assert row["distance_m"] == 0
    assert row["device"] is None
    # The session starts once the heart rate has risen (tens of seconds into the warm-up).
    assert truth.duration_s - 120 < row["elapsed_s"] <= truth.duration_s
    assert row["trimp"] > 0
    assert all(s[2] is None and s[4] for s in samples)


def test_calibrated_footpod(tmp_path: Path) -> None:
    # A footpod reading 4 % long, calibrated with factor 1 / 1.04.
    scenario = easy(footpod=replace(POD, scale=1.04))
    recorder = Recorder(
        Settings(), epoch=EPOCH, source="simulated", calibrations={POD.address: 1 / 1.04}
    )
    with Store.open(tmp_path / "c.db") as store:
        replay(sim.iter_items(scenario), recorder, FlushSink(store))
        (run,) = store.runs()
        row = store.run_row(run.id)
    assert row["distance_m"] == pytest.approx(sim.Simulation(scenario).truth.distance_m, rel=0.005)
    assert row["calibration"] == pytest.approx(1 / 1.04)
