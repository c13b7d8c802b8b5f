"""Shared fixtures: an isolated home for every test, and the real CLI entry point."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings

from agent.cli import cli

# Hypothesis's per-example deadline is a timed assertion: on a loaded 2-core CI machine it
# fails correct code. Speed is measured in benchmarks/, not here.
settings.register_profile("stridewatch", deadline=None)
settings.load_profile("stridewatch")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads or writes the real user's config or data."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("TZ", "UTC")
    for name in list(__import__("os").environ):
        if name.startswith("STRIDEWATCH_"):
            monkeypatch.delenv(name)
    return home


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def sw(db: Path) -> Any:
    """Run ``stridewatch --db <tmp file> ARGS...`` through the real entry point."""

    def run(*args: str, use_db: bool = True, env: dict[str, str] | None = None) -> Result:
        argv = (["--db", str(db)] if use_db else []) + list(args)
        result = CliRunner().invoke(
            cli, argv, env=env, catch_exceptions=False, prog_name="stridewatch"
        )
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


# The real activity files from real devices (SOURCES.md beside them): STRIDEWATCH_CORPUS, or
# shared/data/activities beside the checkout. CI sets STRIDEWATCH_REQUIRE_CORPUS=1 so that a
# missing corpus fails there instead of skipping.
CORPUS_HINT = (
    "real activity files not found: set STRIDEWATCH_CORPUS to a folder of them, or put "
    "the project's shared/ beside the checkout (shared/data/activities)"
)


# Read when the suite starts: every test's isolated_home removes STRIDEWATCH_* variables.
GIVEN_CORPUS = os.environ.get("STRIDEWATCH_CORPUS")
REQUIRE_CORPUS = os.environ.get("STRIDEWATCH_REQUIRE_CORPUS") == "1"


def corpus_dir() -> Path | None:
    """The corpus folder, or None when there is none."""
    given = GIVEN_CORPUS
    folder = (
        Path(given)
        if given
        else Path(__file__).resolve().parents[2] / "shared" / "data" / "activities"
    )
    return folder if folder.is_dir() else None


@pytest.fixture
def corpus() -> Path:
    """The real files' folder; the test is skipped (one line saying where the corpus comes
    from) when it is missing, and fails instead under STRIDEWATCH_REQUIRE_CORPUS=1."""
    folder = corpus_dir()
    if folder is None:
        if REQUIRE_CORPUS:
            pytest.fail(CORPUS_HINT)
        pytest.skip(CORPUS_HINT)
    return folder
