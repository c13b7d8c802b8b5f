"""Docs that cannot drift (issue 17, item 5). The README's examples are what the code prints
today: they are rebuilt here from the same demo history ``docs/make_assets.py`` uses and
compared with the README (and ``docs/history.txt``), so no page shows a number, a key or a
message the code no longer gives; and the README's claims about which commands take ``--db``
and ``--json`` are checked against the commands themselves."""

from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from agent.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def make_assets() -> Any:
    spec = importlib.util.spec_from_file_location("make_assets", ROOT / "docs" / "make_assets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_examples_are_what_the_code_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = make_assets()
    env = {"STRIDEWATCH_TIMEZONE": "UTC", "SW_DB": str(tmp_path / "demo.db")}

    def stridewatch(env: dict[str, str], *args: str) -> str:
        result = CliRunner().invoke(cli, ["--db", env["SW_DB"], *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    def capture(env: dict[str, str], *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
        with contextlib.chdir(cwd or Path.cwd()):
            result = CliRunner().invoke(
                cli,
                ["--db", env["SW_DB"], *args],
                env={**env, "COLUMNS": "80"},
                prog_name="stridewatch",
            )
        return result.exit_code, result.stdout, result.stderr

    monkeypatch.setattr(assets, "stridewatch", stridewatch)
    monkeypatch.setattr(assets, "capture", capture)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assets.build_history(env)
    made = assets.examples(env)
    readme = README.read_text(encoding="utf-8")
    assert assets.splice(readme, made) == readme  # `python docs/make_assets.py` rewrites it
    assert made["history"] == (ROOT / "docs" / "history.txt").read_text(encoding="utf-8")
    # What the examples show is what item 4 promised: 80 columns, no padding, one line.
    for name, text in made.items():
        if name != "check-json":  # JSON lines are as long as the messages they hold
            lines = text.splitlines()
            assert all(len(line) <= 80 or name.startswith("config") for line in lines), name
            assert all(line == line.rstrip() for line in lines), name
    assert len(made["usage-error"].splitlines()) == 2  # the command, and its one line


def leaf_commands() -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}

    def walk(command: click.Command, path: str) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = command

    walk(cli, "")
    return found


def readme_list(after: str) -> set[str]:
    """The commands the README names (in backticks) in the bullet that says ``after``."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    start = text.index(after) + len(after)
    return set(re.findall(r"`([^`]+)`", text[start : text.index(".", start)]))


def test_the_commands_that_take_db_after_their_name_are_the_readmes() -> None:
    without = {
        name
        for name, command in leaf_commands().items()
        if not any(param.name == "db" for param in command.params)
    }
    assert without == readme_list("command that opens the database: all but")
    assert any(param.name == "db" for param in cli.params)  # before the name: every command


def test_the_commands_without_json_are_the_readmes() -> None:
    without = {
        name
        for name, command in leaf_commands().items()
        if not any(param.name == "as_json" for param in command.params)
    }
    assert without == readme_list("The others only say what they did:")


def test_the_config_says_how_the_spike_rule_grades_as_the_code_does() -> None:
    """Exactly 2.0x the 30-day longest is a warning, past it danger (Frandsen et al. 2025:
    the hazard ratio of 2.28 is for runs more than 100 % longer): the config says "above",
    never "at", for each step the rules take with ``>``."""
    toml = " ".join((ROOT / "config" / "default.toml").read_text(encoding="utf-8").split())
    assert "danger above 2.0x" in toml
    assert "escalated above 1.3x" in toml
    assert "danger at 2.0x" not in toml
