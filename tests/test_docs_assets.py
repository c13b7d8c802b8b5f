"""The README's ``history`` example is what the code prints today: it is rebuilt here from
the same demo history ``docs/make_assets.py`` uses, and compared with ``docs/history.txt``
and the README, so no page shows a number the code no longer gives."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def make_assets() -> Any:
    spec = importlib.util.spec_from_file_location("make_assets", ROOT / "docs" / "make_assets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_history_example_is_what_the_code_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = make_assets()
    env = {"STRIDEWATCH_TIMEZONE": "UTC", "SW_DB": str(tmp_path / "demo.db")}

    def stridewatch(env: dict[str, str], *args: str) -> str:
        result = CliRunner().invoke(cli, ["--db", env["SW_DB"], *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    monkeypatch.setattr(assets, "stridewatch", stridewatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assets.build_history(env)
    capture = tmp_path / "history.txt"
    assets.capture_history(env, capture)
    text = capture.read_text(encoding="utf-8")
    assert text == (ROOT / "docs" / "history.txt").read_text(encoding="utf-8")
    assert f"```\n{text}```" in (ROOT / "README.md").read_text(encoding="utf-8")
