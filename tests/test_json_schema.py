"""One JSON vocabulary (issue 17, item 4): every command with ``--json`` is run on a realistic
history, and each object it prints has exactly the keys the README's table under "JSON output"
gives for it; every row of the table is met, and no command has ``--json`` without a row."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest

from agent.cli import cli
from tests import cli_history
from tests.bluez.rig import BluezMock
from tests.cli_history import AT
from tests.files.fit_maker import Leg, make_fit

pytest_plugins = ["tests.bluez.fixtures"]  # scan --json, against a mock BlueZ

ROOT = Path(__file__).resolve().parent.parent
POD = "C0:FF:EE:00:00:01"
Where = tuple[str, str]  # (command, path): path "" is the top, "[]" each item of a list


def readme_table() -> dict[Where, frozenset[str] | None]:
    """The README's JSON table: (command, path) -> its keys, or None for an object whose
    keys are free-form (an alert's data, a settings section)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## JSON output") :]
    section = section[: section.index("\n## ")]
    table: dict[Where, frozenset[str] | None] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not line.startswith("| ") or len(cells) != 3 or cells[0] in ("object", "---"):
            continue
        _name, where, keys = cells
        names = re.findall(r"`([^`]+)`", keys)
        listed = re.fullmatch(r"`\w+`(, `\w+`)*", keys) is not None
        for place in re.findall(r"`([^`]+)`", where):
            command, _, path = place.partition(" → ")
            assert (command, path) not in table, f"{place} is in the table twice"
            table[command, path] = frozenset(names) if listed else None
    return table


def shapes(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in ``value`` with its path (``limits[]``, ``alerts[].data``)."""
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from shapes(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from shapes(item, path + "[]")


def json_commands() -> set[str]:
    """Every command that takes ``--json`` (the sync group's is ``sync --once``)."""
    found = set()

    def walk(command: click.Command, path: str) -> None:
        if any(param.name == "as_json" for param in command.params):
            found.add(f"{path} --once" if isinstance(command, click.Group) else path)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())

    walk(cli, "")
    return found


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sw") as folder:
        yield Path(folder)


@pytest.fixture
def systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``systemctl`` that knows no stridewatch unit (as on a machine without one)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "systemctl"
    script.write_text("#!/bin/sh\necho inactive\nexit 3\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


def run_every_json_command(
    sw: Any, db: Path, tmp_path: Path, short_tmp: Path, bluez: BluezMock
) -> dict[str, Any]:
    """Each ``--json`` command's output, on the history, in an order where each finds
    something to say (a plan to show before a new one replaces it; a new file to sync)."""
    made = cli_history.build(sw, db, short_tmp)
    bluez.add_sensor(POD, "Stryd", "footpod", rssi=-60)
    watch = json.loads(made.sync_env["STRIDEWATCH_SYNC__FOLDERS"])[0]
    (Path(watch) / "new.fit").write_bytes(
        make_fit(datetime(2026, 11, 14, 6, 0, tzinfo=UTC), [Leg("RUNNING", 1500, 4000, hr=140)])
    )
    os.utime(Path(watch) / "new.fit", (0, 1_700_000_000))
    old = tmp_path / "old.fit"
    old.write_bytes(make_fit(datetime(2026, 9, 2, 6, 0, tzinfo=UTC), [Leg("RUNNING", 1800, 5000)]))
    run = str(made.recorded_run)
    calls: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
        "runs": (("runs",), (0,)),
        "pain-log": (("pain-log",), (0,)),
        "check": (("check", "--at", AT), (0,)),
        "summary": (("summary", "--at", AT), (0,)),
        "what-if": (("what-if", "18km", "--at", AT), (0,)),
        "alerts": (("alerts",), (0,)),
        "plan show": (("plan", "show", "--at", AT), (0,)),
        "plan return": (("plan", "return", "--usual", "8-10km", "--at", AT), (0,)),
        "history": (("history", "--at", AT), (0,)),
        "show": (("show", run), (0,)),
        "rpe": (("rpe", run, "4"), (0,)),
        "log-run": (
            ("log-run", "--at", "2026-11-13T07:00", "--distance", "20km", "--duration", "2:00:00"),
            (0,),
        ),
        "pain": (("pain", "6", "--when", "during", "--at", "2026-11-13T08:00"), (0,)),
        "baseline set": (
            ("baseline", "set", "--week", "20km", "--long", "8km", "--at", "2026-09-01T00:00"),
            (0,),
        ),
        "calibrate": (("calibrate", POD, "--factor", "1.01"), (0,)),
        "import": (("import", str(old)), (0,)),
        "export": (("export", run, "-o", str(tmp_path / "run.fit")), (0,)),
        "report": (("report", "--at", AT, "-o", str(tmp_path / "report.html")), (0,)),
        "sync --once": (("sync", "--once"), (0,)),
        "sync status": (("sync", "status"), (0,)),
        "sync list": (("sync", "list"), (0,)),
        "sync detect": (("sync", "detect", str(made.watch_mount)), (0,)),
        "scan": (("scan", "--timeout", "0.4"), (0,)),
        "decode": (("decode", "hrm", "16 3c 11 04"), (0,)),
        "config show": (("config", "show"), (0,)),
        "notify-test": (("notify-test",), (0, 1)),  # 1: no notification server here
        "service status": (("service", "status"), (3,)),  # 3: not installed
    }
    outputs = {}
    for label, (args, codes) in calls.items():
        result = sw(*args, "--json", env=made.sync_env)
        assert result.exit_code in codes, (label, result.stderr)
        outputs[label] = json.loads(result.stdout)
    return outputs


def test_every_json_command_speaks_the_readme_table(
    sw: Any, db: Path, tmp_path: Path, short_tmp: Path, bluez: BluezMock, systemctl: None
) -> None:
    table = readme_table()
    outputs = run_every_json_command(sw, db, tmp_path, short_tmp, bluez)
    assert set(outputs) == json_commands()
    wrong, seen = [], set()
    for command, output in outputs.items():
        for path, found in shapes(output):
            if any(
                path.startswith(f"{free}.")
                for (c, free), keys in table.items()
                if c == command and keys is None
            ):
                continue  # inside a free-form object
            if (command, path) not in table:
                wrong.append(f"{command} → {path or '(top)'}: not in the README's table")
                continue
            seen.add((command, path))
            keys = table[command, path]
            if keys is not None and set(found) != keys:
                extra, missing = sorted(set(found) - keys), sorted(keys - set(found))
                wrong.append(f"{command} → {path or '(top)'}: extra {extra}, missing {missing}")
    assert wrong == []
    assert sorted(set(table) - seen) == []  # every row met: none describes what no longer is
    # config show gives the settings as they are set (3.218688 km is 2 miles).
    assert unrounded({k: v for k, v in outputs.items() if k != "config show"}) == []


# The README's rounding: km to the metre, percentages to one decimal.
DECIMALS = {"_km": 3, "_pct": 1}


def unrounded(value: Any, path: str = "") -> list[str]:
    """Every ``*_km`` or ``*_pct`` number (alone or in a list) with more decimals than the
    README gives it, as ``command → path: value``."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else f"{key} →"
            digits = next((n for end, n in DECIMALS.items() if key.endswith(end)), None)
            numbers = item if isinstance(item, list) else [item]
            if digits is not None:
                found += [
                    f"{where}: {number}"
                    for number in numbers
                    if isinstance(number, float) and round(number, digits) != number
                ]
            found += unrounded(item, where)
    elif isinstance(value, list):
        for item in value:
            found += unrounded(item, path + "[]")
    return found


def test_times_carry_the_runners_offset(sw: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """In Europe/Paris a run logged at 07:30 local is 07:30+01:00 in every JSON, not UTC."""
    env = {"STRIDEWATCH_TIMEZONE": "Europe/Paris"}
    logged = sw(
        "log-run", "--at", "2026-11-10T07:30", "--distance", "5km", "--duration", "30:00", env=env
    )
    assert logged.exit_code == 0, logged.stderr
    [run] = sw("runs", "--json", env=env).json()
    assert run["started_at"] == "2026-11-10T07:30:00+01:00"
    check = sw("check", "--at", "2026-11-10T20:00", "--json", env=env).json()
    assert check["at"] == "2026-11-10T20:00:00+01:00"
    summary = sw("summary", "--at", "2026-11-10T20:00", "--json", env=env).json()
    assert summary["runs"][0]["started_at"] == "2026-11-10T07:30:00+01:00"


def instants(value: Any) -> Iterator[str]:
    """Every string in ``value`` that is an ISO 8601 instant with an offset."""
    if isinstance(value, dict):
        for item in value.values():
            yield from instants(item)
    elif isinstance(value, list):
        for item in value:
            yield from instants(item)
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", value):
        yield value


def test_instants_in_alert_data_carry_the_runners_offset(sw: Any) -> None:
    """In America/New_York (-05:00 in November) a pain alert's ``at`` and ``settled_at``
    are -05:00 in check, summary, what-if, pain and alerts, as every other instant: the
    rules and the store keep them in UTC, which --json never shows."""
    env = {"STRIDEWATCH_TIMEZONE": "America/New_York"}
    for day in ("09", "11", "13"):
        logged = sw(
            *("log-run", "--at", f"2026-11-{day}T07:00", "--distance", "6km"),
            *("--duration", "36:00"),
            env=env,
        )
        assert logged.exit_code == 0, logged.stderr
    said = {
        "pain": sw("pain", "6", "--when", "during", "--at", "2026-11-13T07:20", "--json", env=env),
        "morning": sw("pain", "0", "--when", "morning", "--at", "2026-11-14T07:00", env=env),
        "check": sw("check", "--at", "2026-11-14T10:30", "--json", env=env),
        "summary": sw("summary", "--at", "2026-11-14T10:30", "--json", env=env),
        "what-if": sw("what-if", "5km", "--at", "2026-11-14T10:30", "--json", env=env),
        "alerts": sw("alerts", "--json", env=env),
    }
    assert all(result.exit_code == 0 for result in said.values()), said
    outputs = {name: result.json() for name, result in said.items() if name != "morning"}
    data = [alert["data"] for alert in outputs["check"]["alerts"] if "at" in alert["data"]]
    assert data
    assert data[0]["at"] == "2026-11-13T07:20:00-05:00"
    assert data[0]["settled_at"] == "2026-11-14T07:00:00-05:00"
    stored = [alert["data"] for alert in outputs["alerts"] if "at" in alert["data"]]
    assert stored[0]["at"] == "2026-11-13T07:20:00-05:00"
    for name, output in outputs.items():
        found = list(instants(output))
        assert found, name
        assert all(text.endswith("-05:00") for text in found), (name, found)


def test_heart_rate_is_a_whole_number(sw: Any, db: Path) -> None:
    """A recorded run's average heart rate is stored as measured (152.37...); JSON gives it
    as the table shows it, a whole number."""
    run_id = cli_history.record(db, cli_history.RECORDED_AT)
    [run] = sw("runs", "--json").json()
    shown = sw("show", str(run_id), "--json").json()["totals"]
    assert isinstance(run["avg_hr"], int)
    assert run["avg_hr"] == shown["avg_hr"]
    assert all(isinstance(shown[name], int) for name in ("avg_hr", "max_hr", "avg_cadence"))
