"""Manual logging through the real CLI: every accepted form and every rejection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import __version__
from agent.units import Unit, format_duration, parse_duration


def log(sw, distance: str, duration: str = "36:00", *extra: str, env=None):
    return sw(
        "log-run",
        "--at",
        "2026-11-20T07:30",
        "--distance",
        distance,
        "--duration",
        duration,
        *extra,
        env=env,
    )


@pytest.mark.parametrize(
    ("distance", "unit_env", "km"),
    [
        ("6km", None, 6.0),
        ("6 km", None, 6.0),
        ("6000m", None, 6.0),
        ("3.7mi", None, 5.955),
        ("6", None, 6.0),
        ("3.7", "mi", 5.955),
        ("6.5K", None, 6.5),
        (".5km", None, 0.5),
    ],
)
def test_log_run_distance_forms(sw, distance: str, unit_env: str | None, km: float) -> None:
    env = {"STRIDEWATCH_UNITS": unit_env} if unit_env else None
    result = log(sw, distance, f"{km * 6:.0f}m", env=env)  # about 6:00/km: a run
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1"
    assert sw("runs", "--json").json()[0]["distance_km"] == pytest.approx(km, abs=0.001)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("36:00", 2160),
        ("1:05:00", 3900),
        ("45m", 2700),
        ("1h5m", 3900),
        ("45min", 2700),
        ("1h", 3600),
        ("2700s", 2700),
        ("36:00.5", 2160.5),
        ("1h 5m 30s", 3930),
    ],
)
def test_log_run_duration_forms(sw, duration: str, seconds: float) -> None:
    result = log(sw, "6km", duration)
    assert result.exit_code == 0, result.stderr
    run = sw("runs", "--json").json()[0]
    assert run["moving_s"] == run["elapsed_s"] == pytest.approx(seconds)


def test_log_run_full_contract(sw) -> None:
    result = sw(
        "log-run",
        "--at",
        "2026-11-20T07:30+01:00",
        "--distance",
        "10km",
        "--duration",
        "55:00",
        "--rpe",
        "4",
        "--avg-hr",
        "148",
        "--note",
        "easy",
    )
    assert result.exit_code == 0, result.stderr
    [run] = sw("runs", "--json").json()
    assert {
        k: run[k]
        for k in (
            "id",
            "started_at",
            "distance_km",
            "moving_s",
            "elapsed_s",
            "source",
            "rpe",
            "avg_hr",
            "note",
        )
    } == {
        "id": 1,
        "started_at": "2026-11-20T06:30:00+00:00",
        "distance_km": 10.0,
        "moving_s": 3300.0,
        "elapsed_s": 3300.0,
        "source": "manual",
        "rpe": 4,
        "avg_hr": 148,
        "note": "easy",
    }


def test_log_run_without_at_ends_now(sw) -> None:
    assert sw("log-run", "--distance", "5km", "--duration", "30:00").exit_code == 0
    [run] = sw("runs", "--json").json()
    assert run["source"] == "manual"


def test_same_run_twice_is_refused(sw) -> None:
    assert log(sw, "6km").exit_code == 0
    again = log(sw, "6.01km")
    assert again.exit_code == 2
    assert "already stored as run 1" in again.stderr
    # One person runs one run at a time: whatever its distance, a run overlapping a stored
    # one in time is the same run (agent/files/same_run.py), as on import.
    assert log(sw, "8km").exit_code == 2
    assert len(sw("runs", "--json").json()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--distance", "0km"), "must be more than 0"),
        (("--distance", "-5km"), "must be more than 0"),
        (("--distance", "six"), "expected a number with km, m or mi"),
        (("--distance", "6 parsecs"), "unknown unit 'parsecs'; use km, m or mi"),
        (("--distance", "6yd"), "unknown unit 'yd'"),
        (("--distance", "6000"), "6000 km is not a single run"),
        (("--duration", "0:00"), "must be more than 0"),
        (("--duration", "soon"), "expected a time such as 36:00"),
        (("--duration", "36:75"), "minutes and seconds must be below 60"),
        (("--duration", "1:75:00"), "minutes and seconds must be below 60"),
        (("--duration", "200h"), "longer than a week"),
        (("--duration", "45"), "expected a time such as 36:00"),
        (("--duration", "1:00"), "faster than any human"),
        (("--at", "yesterday"), "expected ISO 8601"),
        (("--at", "2026-13-01T07:00"), "expected ISO 8601"),
        (("--rpe", "11"), "--rpe 11: must be from 0 to 10"),
        (("--rpe", "-1"), "--rpe -1: must be from 0 to 10"),
        (("--rpe", "hard"), "expected a whole number from 0 to 10"),
        (("--avg-hr", "400"), "--avg-hr 400: must be from 25 to 250"),
    ],
)
def test_log_run_rejections_store_nothing(
    sw, db: Path, args: tuple[str, ...], message: str
) -> None:
    base = {"--at": "2026-11-20T07:30", "--distance": "6km", "--duration": "36:00"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]
    result = sw("log-run", *flat)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not db.exists() or sw("runs", "--json").json() == []


def test_log_run_requires_distance_and_duration(sw) -> None:
    result = sw("log-run", "--duration", "30:00")
    assert result.exit_code == 2
    assert "--distance" in result.stderr


@pytest.mark.parametrize("when", ["before", "during", "after", "morning"])
def test_pain_when_forms(sw, when: str) -> None:
    result = sw("pain", "3", "--when", when, "--at", "2026-11-20T10:00", "--where", "knee")
    assert result.exit_code == 0, result.stderr
    [report] = sw("pain-log", "--json").json()
    assert report == {
        "id": 1,
        "at": "2026-11-20T10:00:00+00:00",
        "score": 3,
        "when": when,
        "where": "knee",
        "run_id": None,
        "note": None,
    }


def test_pain_linked_to_a_run(sw) -> None:
    assert log(sw, "6km").exit_code == 0
    result = sw("pain", "0", "--when", "after", "--run", "1", "--note", "fine")
    assert result.exit_code == 0, result.stderr
    [report] = sw("pain-log", "--json").json()
    assert (report["run_id"], report["score"], report["note"]) == (1, 0, "fine")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("11", "--when", "after"), "SCORE 11: must be from 0 to 10"),
        (("-1", "--when", "after"), "SCORE -1: must be from 0 to 10"),
        (("3.5", "--when", "after"), "expected a whole number from 0 to 10"),
        (("3", "--when", "later"), "'later' is not one of"),
        (("3",), "Missing option '--when'"),
        (("3", "--when", "after", "--where", "ankle"), "'ankle' is not one of"),
        (("3", "--when", "after", "--at", "noon"), "expected ISO 8601"),
        (("3", "--when", "after", "--run", "99"), "run 99: no such run"),
    ],
)
def test_pain_rejections_store_nothing(sw, db: Path, args: tuple[str, ...], message: str) -> None:
    result = sw("pain", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not db.exists() or sw("pain-log", "--json").json() == []


def test_listing_empty_and_human_tables(sw) -> None:
    assert "No runs yet" in sw("runs").stdout
    assert "No pain logged" in sw("pain-log").stdout
    assert log(sw, "6km", "36:00", "--note", "tempo").exit_code == 0
    assert sw("pain", "2", "--when", "morning", "--at", "2026-11-21T07:00").exit_code == 0
    table = sw("runs").stdout
    assert "6.0 km" in table
    assert "6:00/km" in table
    assert "tempo" in table
    miles = sw("runs", env={"STRIDEWATCH_UNITS": "mi"}).stdout
    assert "3.7 mi" in miles
    assert "9:39/mi" in miles
    assert "2/10" in sw("pain-log").stdout


def test_db_option_after_the_command(sw, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    result = sw(
        "log-run", "--db", str(other), "--distance", "5km", "--duration", "30:00", use_db=False
    )
    assert result.exit_code == 0, result.stderr
    assert other.exists()


def test_version_and_help_everywhere(sw) -> None:
    assert sw("--version", use_db=False).stdout.strip() == f"stridewatch, version {__version__}"
    top = sw("-h", use_db=False)
    assert top.exit_code == 0
    assert "Example:" in top.stdout
    for command in (
        "log-run",
        "pain",
        "runs",
        "pain-log",
        "demo",
        "config",
        "config check",
        "config show",
        "config path",
    ):
        result = sw(*command.split(), "--help", use_db=False)
        assert result.exit_code == 0, command
        assert "Example: stridewatch" in result.stdout, command


def test_demo_prints_a_recorded_run_into_a_new_empty_file(sw, tmp_path: Path) -> None:
    """A zero-byte file (`touch demo.db`) is a new database, for the demo as for the rest
    (a missing one is played into in test_demo.py)."""
    (tmp_path / "demo.db").touch()
    result = sw("demo", "--db", str(tmp_path / "demo.db"), use_db=False)
    assert result.exit_code == 0, result.stderr
    assert "recorded run 5" in result.stdout  # runs 1-4: the week logged by hand before
    assert str(tmp_path / "demo.db") in result.stdout


@given(st.integers(min_value=1, max_value=6 * 24 * 3600))
def test_formatted_durations_parse_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_log_run_says_what_it_stored_and_refuses_the_future(sw: Any) -> None:
    stored = sw(
        "log-run", "--at", "2026-11-20T07:30", "--distance", "6km", "--duration", "36:00",
        "--rpe", "4", "--avg-hr", "150", env={"STRIDEWATCH_TIMEZONE": "UTC"},
    )  # fmt: skip
    assert stored.exit_code == 0, stored.stderr
    assert stored.stdout == "1\n"  # the id alone on stdout, for scripts
    assert stored.stderr.splitlines()[0] == (
        "stored run 1: Fri 2026-11-20 07:30, 6.0 km in 36:00 (6:00/km), RPE 4, 150 bpm"
    )
    ahead = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = sw("log-run", "--at", ahead, "--distance", "6km", "--duration", "36:00")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        f"stridewatch: --at {ahead}: that run would end in the future; log it once it is "
        "run (or add --future to log it anyway)"
    ]
    planned = sw("log-run", "--at", ahead, "--distance", "6km", "--duration", "36:00", "--future")
    assert planned.exit_code == 0, planned.stderr


def test_pain_says_what_it_stored(sw: Any) -> None:
    result = sw(
        "pain", "3", "--when", "after", "--where", "knee", "--at", "2026-11-20T09:00",
        env={"STRIDEWATCH_TIMEZONE": "UTC"},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "1\n"
    assert result.stderr.splitlines()[0] == (
        "stored pain report 1: 3/10 after, knee, Fri 2026-11-20 09:00"
    )


@pytest.mark.parametrize(
    ("distance", "duration", "said"),
    [
        (
            "1m",
            "30:00",
            "--distance 1m in --duration 30:00 is 500:00:00/km (under 0.01 km/h), slower than "
            "a walk, not a run; 1m is one metre; a mile is 1mi",
        ),
        (
            "5m",
            "45:00",
            "--distance 5m in --duration 45:00 is 150:00:00/km (under 0.01 km/h), slower than "
            "a walk, not a run; 5m is 5 metres; 5 miles is 5mi",
        ),
        (
            "5km",
            "61:00:00",
            "--distance 5km in --duration 61:00:00 is 12:12:00/km (0.08 km/h), slower than a "
            "walk, not a run; 61:00:00 is 61 hours; 61 minutes is 61:00",
        ),
        (
            "10km",
            "3:25:00",  # a hike: 3:25 (minutes) would be 175 km/h
            "--distance 10km in --duration 3:25:00 is 20:30/km (2.9 km/h), slower than a walk, "
            "not a run; check the distance's unit (km, m or mi) and the duration (36:00 is 36 "
            "minutes)",
        ),
        (
            "6km",
            "1:00",
            "--distance 6km in --duration 1:00 is 0:10/km (360.0 km/h), faster than any human "
            "runs (the 5 km world record is 23.8 km/h); 1:00 is 1 minute; 1 hour is 1:00:00",
        ),
        (
            "10km",
            "24:30",
            "--distance 10km in --duration 24:30 is 2:27/km (24.5 km/h), faster than any human "
            "runs (the 5 km world record is 23.8 km/h); check the distance's unit (km, m or "
            "mi) and the duration (36:00 is 36 minutes)",
        ),
        (
            "1m",
            "0:01",
            "--distance 1m: shorter than any run (100 m at least); 1m is one metre; a mile is 1mi",
        ),
        (
            "99m",
            "0:30",
            "--distance 99m: shorter than any run (100 m at least); 99m is 99 metres; 99 miles "
            "is 99mi",
        ),
    ],
)
def test_log_run_refuses_what_is_no_run_saying_the_pace_and_the_unit(
    sw, db: Path, distance: str, duration: str, said: str
) -> None:
    result = log(sw, distance, duration)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"stridewatch: {said}"]
    assert not db.exists() or sw("runs", "--json").json() == []


def test_a_bare_number_in_the_other_unit_is_hinted(sw) -> None:
    """3 in miles is 4.8 km; in 12 minutes a run of 3 km, not of 3 miles (24.1 km/h)."""
    result = log(sw, "3", "12:00", env={"STRIDEWATCH_UNITS": "mi"})
    assert result.exit_code == 2
    assert result.stderr.rstrip().endswith("a bare 3 is in mi (the configured unit); 3km is in km")


@pytest.mark.parametrize(
    ("distance", "duration"),
    [
        ("100m", "0:15"),
        ("100m", "2:00"),
        ("5km", "1:40:00"),
        ("10km", "25:00"),
        ("42.2km", "2:01:09"),
    ],
)
def test_log_run_takes_runs_at_the_edges(sw, distance: str, duration: str) -> None:
    """From 100 m, from 3 km/h (a 20:00/km shuffle) to 24 km/h (the 5 km record, 23.8)."""
    result = log(sw, distance, duration)
    assert result.exit_code == 0, result.stderr


@given(
    st.floats(min_value=0.01, max_value=300, allow_nan=False),  # 300 mi: under 500 km
    st.sampled_from(["m", "km", "mi", "", " km"]),
    st.integers(min_value=1, max_value=6 * 24 * 3600),
    st.sampled_from(["km", "mi"]),
)
def test_check_run_takes_exactly_the_runs(
    number: float, suffix: str, seconds: int, unit: Unit
) -> None:
    """Whatever is typed: taken when from 100 m and 3 to 24 km/h, else refused in one line
    that names the speed or the shortest run (never another error)."""
    from agent.errors import InputError
    from agent.files.manual import check_run
    from agent.units import parse_distance

    distance_text, duration_text = f"{number:g}{suffix}", format_duration(seconds)
    metres, duration_s = parse_distance(distance_text, unit), parse_duration(duration_text)
    kmh = metres / duration_s * 3.6
    texts = {"distance_text": distance_text, "duration_text": duration_text, "unit": unit}
    if metres >= 100 and 3 <= kmh <= 24:
        check_run(metres, duration_s, **texts)  # type: ignore[arg-type]
        return
    with pytest.raises(InputError) as refused:
        check_run(metres, duration_s, **texts)  # type: ignore[arg-type]
    said = str(refused.value)
    assert "\n" not in said
    assert said.startswith(f"--distance {distance_text.strip()}")
    assert "km/h)" in said or "shorter than any run" in said


def test_pain_refuses_the_future_unless_asked(sw, db: Path) -> None:
    ahead = (datetime.now(UTC) + timedelta(days=24)).strftime("%Y-%m-%dT%H:%M")
    refused = sw("pain", "4", "--when", "during", "--at", ahead)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.splitlines() == [
        f"stridewatch: --at {ahead}: that is in the future; log pain once it is felt (or add "
        "--future to log it anyway)"
    ]
    assert not db.exists() or sw("pain-log", "--json").json() == []
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    assert sw("pain", "2", "--when", "morning", "--at", soon).exit_code == 0  # a fast clock
    planned = sw("pain", "4", "--when", "during", "--at", ahead, "--future")
    assert planned.exit_code == 0, planned.stderr
    assert len(sw("pain-log", "--json").json()) == 2


@pytest.mark.parametrize(
    ("when", "about"),
    [("after", "after a run"), ("during", "during a run"), ("morning", "the morning after a run")],
)
def test_pain_about_a_run_is_not_dated_before_it(sw, when: str, about: str) -> None:
    env = {"STRIDEWATCH_TIMEZONE": "UTC"}
    assert sw("log-run", "--at", "2026-03-29T07:00", "--distance", "6km", "--duration", "36:00",
              env=env).exit_code == 0  # fmt: skip
    refused = sw("pain", "3", "--when", when, "--run", "1", "--at", "2026-01-01T00:00", env=env)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.splitlines() == [
        "stridewatch: pain at Thu 2026-01-01 00:00 is before run 1 started (Sun 2026-03-29 "
        f"07:00); pain {about} is dated after its start: give when it was felt with --at"
    ]
    assert sw("pain-log", "--json").json() == []
    at = "2026-03-29T07:20" if when == "during" else "2026-03-30T07:00"
    taken = sw("pain", "3", "--when", when, "--run", "1", "--at", at, env=env)
    assert taken.exit_code == 0, taken.stderr
    assert [p["run_id"] for p in sw("pain-log", "--json").json()] == [1]


def test_pain_before_a_run_may_be_logged_with_the_run_named(sw) -> None:
    """Pain before a run is dated before it (or logged after it, naming it)."""
    assert log(sw, "6km").exit_code == 0  # 2026-11-20T07:30
    for at in ("2026-11-20T07:00", "2026-11-20T09:00"):
        result = sw("pain", "2", "--when", "before", "--run", "1", "--at", at)
        assert result.exit_code == 0, result.stderr
