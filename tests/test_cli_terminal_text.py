"""What the terminal views print: within 80 display cells (what log-run and pain say on
stderr, history's chart), stored text a terminal would act on refused on the way in and
written out on the way out, one precision for a run's distance and one form for a plan's
range."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from tests import report_history

NARROW = {"COLUMNS": "80"}


def wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if cell_len(line) > 80]


def test_log_run_and_pain_say_it_within_80_columns(sw: Any) -> None:
    """The over week's long run and the pain during it: the longest verdicts there are."""
    for monday in report_history.STEADY_WEEKS:
        report_history.log(sw, f"{monday}T07:00", 6.0)
        report_history.log(sw, f"{monday}T08:00", 6.0)
    report_history.log(sw, "2026-11-03T07:00", 10.0)
    run = sw(*("log-run", "--at", "2026-11-06T07:00", "--distance", "14km"), "--duration", "84m")
    pain = sw("pain", "5", "--when", "during", "--at", "2026-11-06T08:00", env=NARROW)
    for result in (run, pain):
        assert result.exit_code == 0, result.stderr
        assert wide(result.stderr) == []
        assert len(result.stderr.splitlines()) > 3  # long enough to need wrapping
    said = " ".join(pain.stderr.split())
    assert "(stridewatch pain N --when morning)" in said
    assert any("stridewatch pain N --when morning" in line for line in pain.stderr.splitlines())
    assert run.stdout.strip().isdigit()  # stdout stays the id


def test_history_never_cuts_a_number_and_counts_its_weeks(sw: Any) -> None:
    """Miles, a week just over its cap: the bar gives way, the status stays whole."""
    env = {**NARROW, "STRIDEWATCH_UNITS": "mi"}
    for monday in report_history.STEADY_WEEKS:
        report_history.log(sw, f"{monday}T07:00", 10.0)
        report_history.log(sw, f"{monday}T08:00", 10.0)
    report_history.log(sw, "2026-11-03T07:00", 11.0)
    report_history.log(sw, "2026-11-04T07:00", 11.1)
    out = sw("history", "--at", "2026-11-08T20:00", env=env).stdout
    assert "…" not in out
    assert wide(out) == []
    assert "over cap" in out
    assert "(held)" not in out  # no week held: no legend for it
    one = sw("history", "--at", "2026-11-08T20:00", "--weeks", "1", env=env).stdout
    assert "1 week from" in one


def test_the_bar_is_never_wider_than_its_column() -> None:
    from agent.views.history import distance_bar

    for width in (9, 20, 24):
        for cap in (8.0, 9.9, 10.0):
            for distance in (9.95, 10.0, 10.04, 12.0):
                top = max(distance, cap)
                assert distance_bar(distance, cap, top, width).cell_len <= width + 1


BAD = {
    "an escape sequence": "line1\x1b[31mred",
    "a bidirectional override": "ok\u202eLTR",
    "a carriage return": "done\rrewritten",
}


@pytest.mark.parametrize("text", BAD.values(), ids=list(BAD))
def test_text_a_terminal_would_act_on_is_refused(sw: Any, text: str) -> None:
    for args in (
        ("log-run", "--distance", "5km", "--duration", "30:00", "--note", text),
        ("pain", "2", "--when", "after", "--note", text),
    ):
        result = sw(*args)
        assert result.exit_code == 2
        [line] = result.stderr.splitlines()
        assert line.startswith(f"stridewatch: {args[0]}: --note holds U+")
    assert sw("runs").stdout.startswith("No runs yet")


def test_a_note_of_several_lines_is_taken_and_shown(sw: Any) -> None:
    logged = sw("log-run", "--distance", "5km", "--duration", "30:00", "--note", "one\ntwo")
    assert logged.exit_code == 0, logged.stderr
    out = sw("show", logged.stdout.strip()).stdout
    assert "  note" in out
    assert "one" in out
    assert "two" in out


def test_stored_text_from_elsewhere_is_written_out_not_obeyed(sw: Any, db: Path) -> None:
    run_id = sw("log-run", "--distance", "5km", "--duration", "30:00").stdout.strip()
    with sqlite3.connect(db) as conn:  # as an import or an old database could have it
        conn.execute("UPDATE runs SET note = ? WHERE id = ?", ("a\x1b[31mred\u202eRTL", run_id))
    for args in (("runs",), ("show", run_id), ("summary",)):
        out = sw(*args).stdout
        assert "\x1b" not in out, args
        assert "\u202e" not in out, args
        assert "a\\x1b[31mred\\u202eRTL" in out, args


def test_a_runs_distance_is_to_the_nearest_tenth_everywhere(sw: Any) -> None:
    logged = sw("log-run", "--distance", "3.57km", "--duration", "21:00")
    assert "3.6 km in 21:00" in logged.stderr
    run_id = logged.stdout.strip()
    assert "3.6 km" in sw("runs").stdout
    assert "distance  3.6 km" in sw("show", run_id).stdout
    assert "3.6 km" in sw("summary").stdout
    for args in (("runs",), ("show", run_id), ("summary",)):
        assert "3.57" not in sw(*args).stdout, args


def test_a_plan_range_has_one_form(sw: Any) -> None:
    made = sw("plan", "return", "--usual", "8-10km")
    assert made.exit_code == 0, made.stderr
    shown = sw("plan", "show").stdout + sw("summary").stdout
    assert " - " not in shown.replace(" - (", "")
    assert "km-" in shown


def test_a_missing_config_not_named_in_utf8_is_named_as_its_bytes(tmp_path: Path) -> None:
    """As ls, and stdout, show such a name: its bytes, not Python's surrogate escape."""
    config = bytes(tmp_path) + b"/km\xe9.toml"
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--config", config, "--db", tmp_path / "x.db", "check"],
        capture_output=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 2
    assert done.stderr == b"stridewatch: " + config + b": no such config file\n"
