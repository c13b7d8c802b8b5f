"""``stridewatch show``, ``rpe``, ``calibrate`` and ``run`` through the real CLI entry point."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.recording.recorder import Recorder, replay
from agent.sensors import sim
from agent.store import Store
from agent.store.writer import FlushSink, load_state
from agent.units import format_duration

POD = sim.FootpodSpec().address
EPOCH = 1_795_000_000.0


def record(db: Path, scenario: sim.Scenario) -> int:
    """Record a simulated run into ``db`` the way the daemon does; return its id."""
    with Store.open(db) as store:
        state = load_state(store)
        recorder = Recorder(
            Settings(), epoch=EPOCH, source="simulated", calibrations=state.calibrations
        )
        replay(sim.iter_items(scenario), recorder, FlushSink(store))
        return store.runs()[-1].id


@pytest.fixture
def run_id(db: Path) -> int:
    # 30 min easy with a 2-minute stop at 20 min.
    model = sim.easy_run(duration_s=1800).with_pause(1200, 120)
    return record(db, sim.Scenario(model, seed=5))


def test_show_json_totals_splits_zones(sw: Any, run_id: int) -> None:
    result = sw("show", str(run_id), "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    totals = data["totals"]
    assert data["status"] == "closed"
    assert data["device"] == POD
    assert 4.8 < totals["distance_km"] < 5.3
    splits = data["splits"]
    assert data["splits_unit"] == "km"
    assert len(splits) == math.ceil(totals["distance_km"])
    assert [s["distance_km"] for s in splits[:-1]] == [1.0] * (len(splits) - 1)
    assert sum(s["distance_km"] for s in splits) == pytest.approx(totals["distance_km"], abs=1e-3)
    # Split times are moving time: the 2-minute stop is in none of them.
    assert sum(s["moving_s"] for s in splits) == pytest.approx(totals["moving_s"], abs=5)
    assert all(300 < s["moving_s"] / s["distance_km"] < 420 for s in splits)
    assert [z["zone"] for z in data["zones"]] == [1, 2, 3, 4, 5]
    assert data["zones"][0]["low_bpm"] == 125
    # Heart rate and cadence are whole numbers, as shown.
    assert all(isinstance(totals[name], int) for name in ("avg_hr", "max_hr", "avg_cadence"))
    assert data["load"]["trimp"] > 0
    assert data["load"]["session_rpe"] is None


def test_show_splits_in_miles(sw: Any, run_id: int) -> None:
    data = sw("show", str(run_id), "--json", env={"STRIDEWATCH_UNITS": "mi"}).json()
    assert data["splits_unit"] == "mi"
    assert data["splits"][0]["distance_km"] == pytest.approx(1.609, abs=1e-3)
    assert len(data["splits"]) == math.ceil(data["totals"]["distance_km"] / 1.609344)


def test_show_human(sw: Any, run_id: int) -> None:
    result = sw("show", str(run_id))
    assert result.exit_code == 0, result.stderr
    assert "Splits per km" in result.stdout
    assert "Heart-rate zones" in result.stdout
    assert "TRIMP" in result.stdout


def test_show_zones_add_up_to_the_heart_rate_time(sw: Any, run_id: int) -> None:
    """The time below zone 1 is a row of its own, so the zones and it add up to the time
    with a heart rate (here the whole run, the 2-minute stop included: the strap stays on),
    in JSON and in the table's total."""
    data = sw("show", str(run_id), "--json").json()
    below = data["below_zone1_s"]
    assert below > 0
    total = below + sum(zone["time_s"] for zone in data["zones"])
    assert total == pytest.approx(data["totals"]["elapsed_s"], abs=2)
    lines = sw("show", str(run_id), env={"COLUMNS": "80"}).stdout.splitlines()
    [below_row] = [line for line in lines if line.startswith("below 1")]
    [total_row] = [line for line in lines if line.strip().startswith("total")]
    assert below_row.split()[-1] == format_duration(below)
    assert total_row.split()[-1] == format_duration(total)


def test_show_a_logged_run_has_totals_only(sw: Any) -> None:
    sw("log-run", "--at", "2026-11-20T07:30", "--distance", "6km", "--duration", "36:00")
    data = sw("show", "1", "--json").json()
    assert data["totals"]["distance_km"] == 6.0
    assert data["splits"] == []
    assert data["zones"] == []
    assert "6.0 km" in sw("show", "1").stdout


def test_show_unknown_run(sw: Any) -> None:
    result = sw("show", "42")
    assert result.exit_code == 2
    assert "run 42: no such run" in result.stderr


def test_rpe_sets_session_load(sw: Any, run_id: int) -> None:
    moving = sw("show", str(run_id), "--json").json()["totals"]["moving_s"]
    result = sw("rpe", str(run_id), "4")
    assert result.exit_code == 0, result.stderr
    assert f"session-RPE load {4 * moving / 60:.0f}" in result.stdout
    data = sw("show", str(run_id), "--json").json()
    assert data["load"]["rpe"] == 4
    assert data["load"]["session_rpe"] == pytest.approx(4 * moving / 60, abs=0.1)
    assert sw("runs", "--json").json()[0]["rpe"] == 4


@pytest.mark.parametrize("value", ["11", "100", "four"])
def test_rpe_out_of_range(sw: Any, run_id: int, value: str) -> None:
    result = sw("rpe", str(run_id), value)
    assert result.exit_code == 2
    assert "from 0 to 10" in result.stderr


def test_calibrate_with_a_factor_applies_to_later_runs_only(sw: Any, db: Path) -> None:
    scenario = sim.Scenario(sim.easy_run(duration_s=900), seed=1)
    first = record(db, scenario)
    result = sw("calibrate", POD.lower(), "--factor", "0.98")
    assert result.exit_code == 0, result.stderr
    assert "calibration factor 0.9800" in result.stdout
    second = record(db, replace(scenario, seed=1))
    old, new = (sw("show", str(i), "--json").json() for i in (first, second))
    assert old["calibration"] == 1.0
    assert new["calibration"] == 0.98
    assert new["totals"]["distance_km"] == pytest.approx(0.98 * old["totals"]["distance_km"], 1e-3)


def test_calibrate_from_a_known_course(sw: Any, db: Path) -> None:
    # A footpod that over-reads by 3 %, run over a course of known length.
    scenario = sim.Scenario(
        sim.easy_run(duration_s=900), seed=2, footpod=replace(sim.FootpodSpec(), scale=1.03)
    )
    run = record(db, scenario)
    course = sim.Simulation(scenario).truth.distance_m
    result = sw("calibrate", POD, "--actual-distance", f"{course:.1f}m", "--run", str(run))
    assert result.exit_code == 0, result.stderr
    with Store.open(db) as store:
        factor = store.calibrations()[POD]
    assert factor == pytest.approx(1 / 1.03, rel=0.003)
    assert f"{factor:.4f}" in result.stdout
    again = record(db, replace(scenario, seed=3))
    recorded = 1000 * sw("show", str(again), "--json").json()["totals"]["distance_km"]
    assert recorded == pytest.approx(
        sim.Simulation(replace(scenario, seed=3)).truth.distance_m, 3e-3
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["C0:FF:EE:00:00:01"], "give either --factor"),
        (["C0:FF:EE:00:00:01", "--factor", "1.01", "--actual-distance", "5km"], "either"),
        (["C0:FF:EE:00:00:01", "--actual-distance", "5km"], "needs --run"),
        (["C0:FF:EE:00:00:01", "--factor", "2"], "between 0.7 and 1.3"),
        (["C0:FF:EE:00:00:01", "--factor", "x"], "expected a number"),
        (["not-an-address", "--factor", "1.01"], "Bluetooth address"),
        (["C0:FF:EE:00:00:09", "--actual-distance", "5km", "--run", "1"], "not recorded with"),
        (["C0:FF:EE:00:00:01", "--actual-distance", "9km", "--run", "1"], "not a footpod error"),
    ],
)
def test_calibrate_refuses(sw: Any, run_id: int, args: list[str], message: str) -> None:
    result = sw("calibrate", *args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("command", ["show", "rpe", "calibrate", "run"])
def test_help_has_an_example(sw: Any, command: str) -> None:
    result = sw(command, "--help")
    assert result.exit_code == 0
    assert "Example: stridewatch " + command in result.stdout


def test_run_refuses_speedup_without_simulation(sw: Any) -> None:
    result = sw("run", "--speedup", "10")
    assert result.exit_code == 2
    assert "--speedup only works with --simulate" in result.stderr


def test_run_refuses_an_unknown_scenario(sw: Any) -> None:
    result = sw("run", "--simulate", "--scenario", "marathon")
    assert result.exit_code == 2
    assert "choose one of" in result.stderr


def test_run_simulated_in_virtual_time(sw: Any, db: Path) -> None:
    # An infinite speedup plays the 5-minute run on a virtual clock, in milliseconds.
    result = sw("run", "--simulate", "--speedup", "inf", "--scenario", "short")
    assert result.exit_code == 0, result.stderr
    (run,) = sw("runs", "--json").json()
    assert run["source"] == "simulated"
    assert run["started_at"][:10] == datetime.now(UTC).date().isoformat()
    truth = sim.Simulation(sim.Scenario(sim.easy_run(duration_s=300.0, warm_up_s=60.0)))
    assert run["distance_km"] * 1000 == pytest.approx(truth.truth.distance_m, rel=0.01)


def test_run_simulated_false_start_is_not_stored(sw: Any) -> None:
    result = sw("run", "--simulate", "--speedup", "inf", "--scenario", "strides")
    assert result.exit_code == 0, result.stderr
    assert sw("runs", "--json").json() == []


def test_run_without_sensors_says_what_to_do(sw: Any) -> None:
    result = sw("run")
    assert result.exit_code == 2
    assert "no sensors to record from" in result.stderr
    assert "--simulate" in result.stderr


@pytest.mark.parametrize("value", ["nan", "1e308", "-1", "0", "1001", "-inf", "fast"])
@pytest.mark.parametrize(
    "command", [("run", "--simulate", "--scenario", "short"), ("replay", "capture.jsonl")]
)
def test_speedup_outside_0_to_1000_is_one_line(
    sw: Any, db: Path, command: tuple[str, ...], value: str
) -> None:
    # issue 15, item 7: nan and 1e308 crashed the simulated daemon.
    result = sw(*command, "--speedup", value)
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"stridewatch: --speedup {value!r}: expected a number above")
    assert not db.exists()


def test_replay_has_no_infinite_speedup(sw: Any) -> None:
    # run's inf is a virtual clock; replay has --instant for that.
    result = sw("replay", "capture.jsonl", "--speedup", "inf")
    assert result.exit_code == 2
    assert result.stderr == (
        "stridewatch: --speedup 'inf': expected a number above 0 and at most 1000\n"
    )


def steady_run(db: Path, metres: float, speed_mps: float = 3.0) -> int:
    """A run stored with a sample every 10 s at an even pace up to ``metres``."""
    seconds = metres / speed_mps
    samples = [(t, min(t * speed_mps, metres), speed_mps, None, 150) for t in range(0, 10_000, 10)]
    samples = [s for s in samples if s[0] <= seconds] + [(seconds, metres, speed_mps, None, 150)]
    run = {
        "started_at": datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
        "distance_m": metres,
        "moving_s": seconds,
        "elapsed_s": seconds,
    }
    with Store.open(db) as store:
        return store.add_imported_run(run, samples)


def split_labels(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("Splits per")) + 2
    return [line.split()[0] for line in lines[start:] if line.strip()]


@pytest.mark.parametrize(
    ("metres", "unit", "last"),
    [
        (12_870.0, "mi", "0.99"),  # "8.00 mi": 7 miles and 0.997 of one, not a full mile
        (4_998.0, "km", "0.99"),
        (4_990.0, "km", "0.99"),
        (4_400.0, "km", "0.40"),
        (5_000.0, "km", "5"),  # whole: the last km is one
        (5_000.5, "km", "5"),  # half a metre over: no split of its own
    ],
)
def test_a_partial_split_is_never_labelled_as_a_whole_unit(
    sw: Any, db: Path, metres: float, unit: str, last: str
) -> None:
    run_id = steady_run(db, metres)
    result = sw("show", str(run_id), env={"STRIDEWATCH_UNITS": unit, "COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    labels = split_labels(result.stdout.split("Heart-rate zones")[0])
    assert labels[-1] == last
    assert labels[:-1] == [str(n) for n in range(1, len(labels))]


def test_a_whole_split_has_the_pace_of_its_time(sw: Any, db: Path) -> None:
    """A mile in 8:56 is 8:56/mi (a mile rounded to 1.609 km made it 8:57/mi)."""
    run_id = steady_run(db, 12_870.0)
    out = sw("show", str(run_id), env={"STRIDEWATCH_UNITS": "mi"}).stdout
    rows = [line.split() for line in out.splitlines() if re.match(r" +[1-7] ", line)]
    assert len(rows) == 7
    assert all(f"{row[1]}/mi" == row[2] for row in rows), rows
