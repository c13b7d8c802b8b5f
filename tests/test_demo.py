"""``stridewatch demo``: a training block through the real daemon, on a virtual clock."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.cli.demo import BUILD_WEEKS, JUMP_WEEK, LOGGED_WEEK, MILE_M

if TYPE_CHECKING:
    from tests.desktop_bus import NotificationServer

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
pytest_plugins = ["tests.desktop_bus"]  # one session bus for the run (see test_notify.py)


def words(text: str) -> str:
    """The text with its lines joined: what was said, however it wrapped."""
    return " ".join(text.split())


def stamps(out: str) -> list[tuple[str, list[tuple[int, str]]]]:
    """Each ``Week of ...`` heading with the (day of the week, time) of its lines."""
    weeks: list[tuple[str, list[tuple[int, str]]]] = []
    for line in out.splitlines():
        if line.startswith("Week of "):
            first = line.split()[2]
            weeks.append((line, []))
        elif weeks and re.match(r"  [A-Z][a-z]{2} \d\d:\d\d  ", line):
            day, clock = line.split()[:2]
            offset = (DAYS.index(day) - DAYS.index(first)) % 7
            weeks[-1][1].append((offset, clock))
    return weeks


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_demo_plays_the_block_with_live_alerts_summaries_and_pain(
    sw: Any, tmp_path: Path, notification_server: NotificationServer
) -> None:
    db = tmp_path / "demo.db"
    began = time.monotonic()
    result = sw("demo", "--db", str(db), use_db=False)
    assert time.monotonic() - began < 60
    assert result.exit_code == 0, result.stderr
    out = words(result.stdout)
    assert f"database: {db}" in out
    # Every recorded run, the live spike during the long run, the week's cap, summaries.
    played = sum(len(week) for week in BUILD_WEEKS) + len(JUMP_WEEK)
    everything = rows(db, "select * from runs order by started_at")
    assert {run["source"] for run in everything} == {"simulated"}  # demo data, all of it
    runs = [run for run in everything if run["note"] is None]  # not the week "logged by hand"
    assert len(runs) == played
    assert len(everything) == played + len(LOGGED_WEEK)
    assert all(f"recorded run {run['id']}:" in out for run in runs)
    assert "LIVE Longer than your longest run: 10.7 km: longer than 1.1x your longest run" in out
    assert "LIVE Over this week's cap" in out
    assert "you: stridewatch pain 5 --when morning --where knee" in out
    assert "held at the baseline while pain settles" in out
    # The jump: 15 miles a week to 30 (what the simulated footpod measured, within 2 %).
    assert sum(LOGGED_WEEK) == 14.5
    jump = sum(run["distance_m"] for run in runs[-len(JUMP_WEEK) :]) / MILE_M
    assert abs(jump - 30) < 0.6
    assert "over cap, +76.5%" in out
    # The long run's spike was said live, at its distance, before the run ended.
    [spike] = rows(db, "select * from alerts where key like 'single-run-spike:run:%'")
    long_run = runs[-1]
    assert spike["run_id"] == long_run["id"]
    assert spike["at_distance_m"] < long_run["distance_m"]
    assert spike["raised_at"] < long_run["ended_at"]
    # A nightly summary for every day played, each shown once.
    summaries = rows(db, "select * from summaries")
    assert len(summaries) == 4 * 7 + 1
    assert all(summary["delivered_at"] for summary in summaries)
    assert out.count("nightly summary:") == len(summaries)
    [pain] = rows(db, "select * from pain")
    assert (pain["score"], pain["timing"], pain["location"]) == (5, "morning", "knee")
    # Where a desktop exists, the alerts reached it too.
    # Lines fit 80 columns (the default width through a pipe), wrapped under their time,
    # and come in time order: a run before the check-in a few minutes after it ended.
    # (but for the command naming the database: a path is never cut).
    long = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert long in ([], [f"stridewatch --db {db} history"])
    weeks = stamps(result.stdout)
    assert len(weeks) == len(BUILD_WEEKS) + 2
    for heading, said in weeks:
        assert said == sorted(said), heading
    # The spike's warning came after the week's danger in the same run: it joins the danger
    # on screen, under it, instead of taking its place.
    lines = [line for note in notification_server.received() for line in note.body.splitlines()]
    assert any(line.startswith("10.7 km: longer than 1.1x your longest run") for line in lines)


def test_demo_refuses_a_database_with_a_history_unless_forced(sw: Any, db: Path) -> None:
    logged = sw("log-run", "--distance", "5km", "--duration", "30:00")
    assert logged.exit_code == 0, logged.stderr
    before = db.read_bytes()
    refused = sw("demo")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        f"stridewatch: {db}: holds 1 run and 0 pain reports; the demo would add simulated "
        "runs and a knee pain to them. Use a new file (or no --db), or add --force to play "
        "it into this one anyway"
    ]
    assert db.read_bytes() == before
    assert rows(db, "select count(*) as n from runs")[0]["n"] == 1


def test_demo_refuses_a_database_a_daemon_records_into(sw: Any, db: Path) -> None:
    from tests.daemon_proc import daemon

    env = {"STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5"}
    with daemon(db, "--simulate", "--scenario", "long", "--speedup", "5", env=env) as proc:
        proc.logged("ready: recording to")
        refused = sw("demo", "--force")
        assert refused.exit_code == 2
        assert f"(PID {proc.proc.pid}) is already recording" in refused.stderr
        proc.stop()
