"""Config: defaults, precedence of sources, and one line per problem for every error path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agent.config import Settings, load_settings, user_config_path

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_toml_documents_exactly_the_embedded_defaults() -> None:
    documented = tomllib.loads((ROOT / "config" / "default.toml").read_text())
    assert Settings.model_validate(documented) == Settings()
    assert set(documented) == set(Settings.model_fields)
    for section, values in documented.items():
        if isinstance(values, dict):
            model = type(getattr(Settings(), section))
            assert set(values) == set(model.model_fields), section


def test_every_default_setting_has_a_comment() -> None:
    lines = (ROOT / "config" / "default.toml").read_text().splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            above = index - 1
            while "=" in lines[above] and not lines[above].startswith("#"):
                above -= 1  # settings grouped under one comment
            assert lines[above].startswith("#"), f"undocumented setting: {line}"


def test_precedence_defaults_user_file_config_option_environment() -> None:
    assert load_settings(environ={}).units == "km"
    write(user_config_path(), 'units = "mi"\n[runner]\nmax_hr = 180\nresting_hr = 50\n')
    settings = load_settings(environ={})
    assert (settings.units, settings.runner.max_hr, settings.runner.resting_hr) == ("mi", 180, 50)
    extra = write(user_config_path().parent / "extra.toml", "[runner]\nmax_hr = 175\n")
    settings = load_settings(extra, environ={})
    assert (settings.units, settings.runner.max_hr, settings.runner.resting_hr) == ("mi", 175, 50)
    env = {"STRIDEWATCH_RUNNER__MAX_HR": "170", "STRIDEWATCH_UNITS": "km", "OTHER": "x"}
    settings = load_settings(extra, environ=env)
    assert (settings.units, settings.runner.max_hr, settings.runner.resting_hr) == ("km", 170, 50)


def test_environment_values_parse_as_toml() -> None:
    env = {
        "STRIDEWATCH_SENSORS__ALLOW": '["c0:ff:ee:00:00:01"]',
        "STRIDEWATCH_NOTIFICATIONS__ENABLED": "false",
        "STRIDEWATCH_TIMEZONE": "Europe/Berlin",
    }
    settings = load_settings(environ=env)
    assert settings.sensors.allow == ("C0:FF:EE:00:00:01",)
    assert settings.notifications.enabled is False
    assert str(settings.zone) == "Europe/Berlin"


def test_the_test_suites_corpus_variables_are_not_settings() -> None:
    env = {"STRIDEWATCH_CORPUS": "/data/activities", "STRIDEWATCH_REQUIRE_CORPUS": "1"}
    assert load_settings(environ=env) == load_settings(environ={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[progression]\nweekly_warn = 10\n",
            "progression.weekly_warn: must be between 0 and 1, got 10",
        ),
        ('units = "miles"\n', "units: must be one of 'km' or 'mi', got 'miles'"),
        (
            "[progresion]\nweekly_warn = 0.1\n",
            "progresion: unknown setting (did you mean 'progression'?)",
        ),
        (
            "[progression]\nweekly_warm = 0.1\n",
            "progression.weekly_warm: unknown setting (did you mean 'weekly_warn'?)",
        ),
        ('[runner]\nmax_hr = "high"\n', "runner.max_hr: must be a whole number, got 'high'"),
        (
            'timezone = "Mars/Olympus"\n',
            "timezone: must be an IANA time zone such as Europe/London, or local, "
            "got 'Mars/Olympus'",
        ),
        (
            '[schedule]\nsummary = "9pm"\n',
            "schedule.summary: must be a time of day such as 21:00, got '9pm'",
        ),
        (
            '[sensors]\nallow = ["not-an-address"]\n',
            "sensors.allow.0: must be a Bluetooth address such as C0:FF:EE:00:00:01",
        ),
        (
            '[notifications]\nenabled = "perhaps"\n',
            "notifications.enabled: must be true or false, got 'perhaps'",
        ),
        ("runner = 3\n", "runner: must be a table of settings, got 3"),
        ('week_start = "someday"\n', "week_start: must be one of"),
    ],
)
def test_bad_config_gets_one_line_naming_file_key_and_expectation(
    tmp_path: Path, sw, db: Path, text: str, expected: str
) -> None:
    config = write(tmp_path / "config.toml", text)
    result = sw("--config", str(config), "config", "check")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"stridewatch: {config}: ")
    assert expected in lines[0]


def test_several_problems_give_one_line_each(tmp_path: Path, sw) -> None:
    config = write(tmp_path / "c.toml", "units = 1\n[pain]\nduring_stop = 12\nfoo = 1\n")
    result = sw("config", "check", "--config", str(config))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 3


def test_problems_name_the_source_that_set_the_value(tmp_path: Path, sw) -> None:
    write(user_config_path(), "[pain]\nduring_caution = 30\n")
    result = sw("config", "check", env={"STRIDEWATCH_PROGRESSION__WEEKLY_DANGER": "3"})
    assert sorted(result.stderr.strip().splitlines()) == sorted(
        [
            "stridewatch: STRIDEWATCH_PROGRESSION__WEEKLY_DANGER: progression.weekly_danger: "
            "must be between 0 and 1, got 3",
            f"stridewatch: {user_config_path()}: pain.during_caution: must be between 0 and 10, "
            "got 30",
        ]
    )


def test_invalid_toml_and_missing_file(tmp_path: Path, sw) -> None:
    broken = write(tmp_path / "broken.toml", "units = \n")
    result = sw("--config", str(broken), "config", "check")
    assert result.exit_code == 2
    assert f"{broken}: not valid TOML" in result.stderr
    result = sw("--config", str(tmp_path / "nope.toml"), "config", "check")
    assert result.exit_code == 2
    assert "nope.toml: no such config file" in result.stderr


def test_bad_config_writes_nothing(tmp_path: Path, sw, db: Path) -> None:
    config = write(tmp_path / "config.toml", "[progression]\nweekly_warn = 10\n")
    before = sorted(p for p in tmp_path.rglob("*"))
    result = sw(
        "--config",
        str(config),
        "log-run",
        "--at",
        "2026-11-20T07:30",
        "--distance",
        "6km",
        "--duration",
        "36:00",
    )
    assert result.exit_code == 2
    assert not db.exists()
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_config_show_and_path(sw) -> None:
    write(user_config_path(), 'units = "mi"\n')
    shown = sw("config", "show")
    assert shown.exit_code == 0
    parsed = tomllib.loads(shown.stdout)
    assert parsed["units"] == "mi"
    assert Settings.model_validate(parsed) == load_settings(environ={})
    path = sw("config", "path")
    assert path.stdout.strip() == str(user_config_path())
    check = sw("config", "check")
    assert check.exit_code == 0
    assert str(user_config_path()) in check.stdout


def test_database_path_from_config(tmp_path: Path, sw) -> None:
    target = tmp_path / "elsewhere" / "mine.db"
    write(user_config_path(), f'[database]\npath = "{target}"\n')
    result = sw("log-run", "--distance", "5km", "--duration", "30:00", use_db=False)
    assert result.exit_code == 0, result.stderr
    assert target.exists()
