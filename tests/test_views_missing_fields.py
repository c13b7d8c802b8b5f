"""Every view renders a run with any field missing (issue 13 item 7: ``show`` crashed on a
FIT run with an average cadence and no maximum).

A real database made through the CLI and the recorder, then columns of ``runs`` and
``samples`` set to NULL as an imported file or a dropped sensor leaves them; every view
command must exit 0 and show a missing value as ``-`` (null in JSON), never ``None``/``nan``.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.recording.recorder import Recorder, replay
from agent.sensors import sim
from agent.store import Store
from agent.store.samples import add_samples, delete_samples, read_samples
from agent.store.writer import FlushSink, load_state

AT = "2026-11-20T20:00"
EPOCH = 1_795_000_000.0  # 2026-11-18 11:06 UTC: the recorded run, in the week of AT
MANUAL = (
    "2026-10-27T07:00",
    "2026-10-31T08:00",
    "2026-11-03T07:00",
    "2026-11-07T08:00",
    "2026-11-10T07:00",
    "2026-11-14T08:00",
    "2026-11-17T07:00",
)
# Columns a run may lack (the rest are NOT NULL in the schema).
RUN_FIELDS = (
    "ended_at",
    "moving_s",
    "elapsed_s",
    "device",
    "rpe",
    "avg_hr",
    "max_hr",
    "avg_cadence",
    "trimp",
    "note",
    "max_cadence",
    "avg_speed",
    "max_speed",
    "edwards_trimp",
    "srpe",
    "zone_s",
    "hr_only",
    "calibration",
    "hr_s",
    "cadence_s",
    "last_active_t",
    "flushed_at",
    "import_file",
    "external_id",
    "distance_source",
)
SAMPLE_FIELDS = ("distance_m", "speed", "cadence", "hr")
# What a user must never read: Python's None, a float's nan (NaN in JSON), a traceback.
LEAKS = re.compile(r"\b(None|nan|NaN)\b|Traceback")


def record(db: Path) -> int:
    """A 5-minute simulated run with footpod and strap, recorded as the daemon does."""
    scenario = sim.Scenario(sim.easy_run(duration_s=300), seed=3)
    with Store.open(db) as store:
        recorder = Recorder(
            Settings(), epoch=EPOCH, source="simulated", calibrations=load_state(store).calibrations
        )
        replay(sim.iter_items(scenario), recorder, FlushSink(store))
        return store.runs()[-1].id


@pytest.fixture
def recorded(sw: Any, db: Path) -> int:
    """Manual runs over four weeks (every optional field given), pain, and a recorded run
    with samples; returns the recorded run's id."""
    for n, when in enumerate(MANUAL):
        args = ["--distance", f"{5 + n % 3}km", "--duration", "33:00", "--rpe", "4"]
        result = sw("log-run", "--at", when, *args, "--avg-hr", "145", "--note", "easy")
        assert result.exit_code == 0, result.stderr
    result = sw("pain", "3", "--when", "after", "--at", "2026-11-10T08:00", "--where", "knee")
    assert result.exit_code == 0, result.stderr
    return record(db)


def null_out(db: Path, run_fields: set[str], sample_fields: set[str], every: int) -> None:
    """NULL ``run_fields`` of every run and ``sample_fields`` of every ``every``-th sample
    (samples are packed several to a row: rewritten through agent/store/samples.py)."""
    places = [1 + SAMPLE_FIELDS.index(name) for name in sample_fields]
    with sqlite3.connect(db) as conn:
        for name in run_fields:
            conn.execute(f"update runs set {name} = null")
        n = 0
        run_ids = [r for (r,) in conn.execute("select distinct run_id from samples_packed")]
        for run_id in sorted(run_ids) if places else []:
            rows = [list(sample) for sample in read_samples(conn, run_id)]
            for row in rows:
                n += 1
                for place in places if n % every == 0 else []:
                    row[place] = None
            delete_samples(conn, run_id)
            add_samples(conn, run_id, [tuple(row) for row in rows])
    conn.close()


def text_views(run_ids: list[int]) -> list[list[str]]:
    """The terminal and JSON views: fast, so every example runs them all."""
    shows = [["show", str(run_id), *flag] for run_id in run_ids for flag in ([], ["--json"])]
    dated = [[name, "--at", AT] for name in ("history", "summary", "check")]
    return [*shows, ["runs"], ["runs", "--json"], *dated, *[[*args, "--json"] for args in dated]]


def file_views(recorded: int, out: Path) -> list[list[str]]:
    """The HTML report and the FIT export: a second or so each (matplotlib, fit-tool)."""
    return [
        ["report", "--at", AT, "--weeks", "4", "-o", str(out / "report.html"), "--force"],
        ["export", str(recorded), "-o", str(out / "run.fit"), "--force"],
    ]


def assert_renders(sw: Any, db: Path, views: list[list[str]], env: dict[str, str]) -> None:
    for args in views:
        result = sw("--db", str(db), *args, use_db=False, env=env)
        shown = result.stdout + result.stderr
        assert result.exit_code == 0, (args, shown)
        assert not LEAKS.search(shown), (args, shown)


missing = st.fixed_dictionaries(
    {
        "run_fields": st.sets(st.sampled_from(RUN_FIELDS)),
        "sample_fields": st.sets(st.sampled_from(SAMPLE_FIELDS)),
        "every": st.sampled_from([1, 2, 7]),
    }
)
envs = st.fixed_dictionaries(
    {
        "STRIDEWATCH_UNITS": st.sampled_from(["km", "mi"]),
        "STRIDEWATCH_PROGRESSION__LOAD": st.sampled_from(["distance", "trimp", "srpe"]),
    }
)


def test_text_views_render_runs_with_any_fields_missing(
    sw: Any, db: Path, tmp_path: Path, recorded: int
) -> None:
    copy = tmp_path / "copy.db"
    views = text_views([1, len(MANUAL), recorded])

    @settings(max_examples=25, deadline=None)
    @given(missing=missing, env=envs)
    def check(missing: dict[str, Any], env: dict[str, str]) -> None:
        shutil.copy(db, copy)
        null_out(copy, **missing)
        assert_renders(sw, copy, views, env)

    check()


def test_report_and_export_render_runs_with_any_fields_missing(
    sw: Any, db: Path, tmp_path: Path, recorded: int
) -> None:
    copy, out = tmp_path / "copy.db", tmp_path / "out"
    out.mkdir()
    views = file_views(recorded, out)

    @settings(max_examples=3, deadline=None)
    @given(missing=missing, env=envs)
    def check(missing: dict[str, Any], env: dict[str, str]) -> None:
        shutil.copy(db, copy)
        null_out(copy, **missing)
        assert_renders(sw, copy, views, env)
        assert not LEAKS.search((out / "report.html").read_text(encoding="utf-8"))

    check()


def test_show_a_run_with_average_cadence_and_no_maximum(sw: Any, db: Path, recorded: int) -> None:
    """The reported case: heart rate and cadence each with an average and no maximum."""
    null_out(db, {"max_hr", "max_cadence"}, set(), 1)
    result = sw("show", str(recorded))
    assert result.exit_code == 0, result.stderr
    [cadence] = [line for line in result.stdout.splitlines() if "cadence" in line]
    assert re.fullmatch(r"\s*cadence\s+avg \d+, max -", cadence)
    totals = sw("show", str(recorded), "--json").json()["totals"]
    assert totals["max_cadence"] is None
    assert totals["avg_cadence"] > 0


def test_show_an_imported_fit_run(sw: Any, db: Path, tmp_path: Path, recorded: int) -> None:
    """A FIT file's run as the importer stores it (no maximum cadence), shown in full."""
    fit = tmp_path / "run.fit"
    assert sw("export", str(recorded), "-o", str(fit)).exit_code == 0
    other = tmp_path / "other.db"
    imported = sw("--db", str(other), "import", str(fit), use_db=False)
    assert imported.exit_code == 0, imported.stderr
    result = sw("--db", str(other), "show", "1", use_db=False)
    assert result.exit_code == 0, result.stderr
    assert not LEAKS.search(result.stdout)


def test_a_missing_time_shows_as_a_dash(sw: Any, db: Path, recorded: int) -> None:
    null_out(db, {"moving_s", "elapsed_s"}, set(), 1)
    shown = sw("show", "1").stdout
    for label in ("moving", "elapsed", "pace"):
        assert re.search(rf"^\s*{label}\s+-$", shown, re.MULTILINE), label
    assert sw("show", "1", "--json").json()["totals"]["moving_s"] is None
    row = next(line for line in sw("runs").stdout.splitlines() if "easy" in line)
    assert "0:00" not in row
