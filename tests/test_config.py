"""Config: defaults, precedence of sources, and one line per problem for every error path."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.config import Settings, user_config_path
from agent.config_load import load_settings, validate_settings
from agent.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_toml_documents_exactly_the_embedded_defaults() -> None:
    documented = tomllib.loads((ROOT / "config" / "default.toml").read_text())
    assert validate_settings(documented) == Settings()
    assert set(documented) == {f.name for f in fields(Settings)}
    for section, values in documented.items():
        if isinstance(values, dict):
            model = type(getattr(Settings(), section))
            assert set(values) == {f.name for f in fields(model)}, section


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
        # A number is no time of day (pydantic would read 2130 as seconds: 00:35:30).
        ("[schedule]\nsummary = 2130\n", "schedule.summary: must be a time of day such as 21:00"),
        ("[notifications]\nquiet_end = 7\n", "notifications.quiet_end: must be a time of day"),
        (
            '[notifications]\nquiet_start = "22:00Z"\n',
            "notifications.quiet_start: must be a time of day such as 21:00, without an offset",
        ),
        ('[schedule]\nsummary = "21:00+05:00"\n', "schedule.summary: must be a time of day"),
        ('[sync]\nfolders = ["~nosuchuser/runs"]\n', "sync.folders.0: must be a full path"),
        ("[database]\npath = 3\n", "database.path: must be text in quotes"),
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
    assert validate_settings(parsed) == load_settings(environ={})
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


# -- orders between settings (issue 15, item 8) ----------------------------------------------

ORDERED_SECTIONS = {
    field.name: type(getattr(Settings(), field.name))
    for field in fields(Settings)
    if getattr(getattr(Settings(), field.name), "orders", ())
}


# For every order a section declares: values of its low and high keys, each valid alone,
# that break it (and no other order).
BREAKING = {
    ("runner", "resting_hr", "max_hr"): (110, 105),
    ("recording", "pause_below", "resume_above"): (0.8, 0.7),
    ("recording", "pause_below", "start_speed"): (0.5, 0.4),
    ("progression", "weekly_warn", "weekly_alert"): (0.1, 0.05),
    ("progression", "weekly_alert", "weekly_danger"): (0.15, 0.12),
    ("progression", "spike_warn", "spike_escalate"): (1.1, 1.05),
    ("progression", "spike_escalate", "spike_danger"): (1.3, 1.2),
    ("progression", "break_days", "long_break_days"): (14, 10),
    ("progression", "long_break_factor", "return_factor"): (0.33, 0.3),
    **{
        ("pain", f"{timing}_caution", f"{timing}_stop"): (3, 2)
        for timing in ("during", "before", "after", "morning")
    },
    **{
        ("pain", f"{timing}_stop", "severe"): (6, 6)
        for timing in ("during", "before", "after", "morning")
    },
}


def test_every_declared_order_has_a_case() -> None:
    declared = {
        (name, order.low, order.high)
        for name, model in ORDERED_SECTIONS.items()
        for order in model.orders
    }
    assert declared == set(BREAKING)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[progression]\nweekly_warn = 0.2\nweekly_danger = 0.1\n",
            [
                "{c}: progression.weekly_warn: must be below progression.weekly_alert "
                "(0.15 by default), got 0.2",
                "{c}: progression.weekly_danger: must be above progression.weekly_alert "
                "(0.15 by default), got 0.1",
            ],
        ),
        (
            "[progression]\nspike_warn = 2.5\nspike_escalate = 2.8\n",
            [
                "{c}: progression.spike_escalate: must be below progression.spike_danger "
                "(2.0 by default), got 2.8",
            ],
        ),
        (
            "[pain]\nduring_caution = 5\nduring_stop = 4\n",
            ["{c}: pain.during_stop: must be above pain.during_caution (5 from {c}), got 4"],
        ),
        (
            "[recording]\npause_below = 1.2\n",
            [
                "{c}: recording.pause_below: must be below recording.resume_above "
                "(0.9 by default), got 1.2",
                "{c}: recording.pause_below: must be at most recording.start_speed "
                "(1.0 by default), got 1.2",
            ],
        ),
        (
            "[runner]\nmax_hr = 110\nresting_hr = 110\n",
            ["{c}: runner.max_hr: must be above runner.resting_hr (110 from {c}), got 110"],
        ),
        (
            "[progression]\nlong_break_factor = 0.6\n",
            [
                "{c}: progression.long_break_factor: must be at most progression.return_factor "
                "(0.5 by default), got 0.6",
            ],
        ),
        (
            "[pain]\nafter_stop = 8\n",
            ["{c}: pain.after_stop: must be below pain.severe (7 by default), got 8"],
        ),
    ],
    ids=["weekly", "spike", "pain-during", "pause-resume", "heart-rate", "break", "severe"],
)
def test_contradicting_settings_give_one_line_per_broken_order(
    tmp_path: Path, sw, db: Path, text: str, expected: list[str]
) -> None:
    config = write(tmp_path / "config.toml", text)
    result = sw("--config", str(config), "config", "check")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = [line.format(c=config) for line in expected]
    assert result.stderr.splitlines() == [f"stridewatch: {line}" for line in lines]


@pytest.mark.parametrize(("section", "low_key", "high_key"), sorted(BREAKING))
def test_every_order_is_checked_naming_both_keys_values_and_sources(
    sw, section: str, low_key: str, high_key: str
) -> None:
    low, high = BREAKING[section, low_key, high_key]
    (order,) = [
        o for o in ORDERED_SECTIONS[section].orders if (o.low, o.high) == (low_key, high_key)
    ]
    variable = f"STRIDEWATCH_{section.upper()}__{high_key.upper()}"
    write(user_config_path(), f"[{section}]\n{low_key} = {low!r}\n")
    result = sw("config", "check", env={variable: repr(high)})
    assert result.exit_code == 2
    relation = "above" if order.strict else "at least"
    assert result.stderr.splitlines() == [
        f"stridewatch: {variable}: {section}.{high_key}: must be {relation} "
        f"{section}.{low_key} ({low!r} from {user_config_path()}), got {high!r}"
    ]


def test_equal_is_allowed_only_where_the_order_is_not_strict() -> None:
    environ = {
        "STRIDEWATCH_PROGRESSION__LONG_BREAK_FACTOR": "0.5",
        "STRIDEWATCH_RECORDING__START_SPEED": "0.5",
    }
    settings = load_settings(environ=environ)
    assert settings.progression.long_break_factor == settings.progression.return_factor
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"STRIDEWATCH_PROGRESSION__WEEKLY_ALERT": "0.1"})
    assert raised.value.problems == [
        "STRIDEWATCH_PROGRESSION__WEEKLY_ALERT: progression.weekly_alert: must be above "
        "progression.weekly_warn (0.1 by default), got 0.1"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--simulate", "--speedup", "inf", "--scenario", "short"),
        ("check",),
        ("log-run", "--distance", "5km", "--duration", "30:00"),
    ],
    ids=["daemon", "check", "log-run"],
)
def test_commands_refuse_contradicting_settings_as_any_bad_config(
    tmp_path: Path, sw, db: Path, args: tuple[str, ...]
) -> None:
    config = write(tmp_path / "c.toml", "[progression]\nweekly_danger = 0.12\n")
    result = sw("--config", str(config), *args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"stridewatch: {config}: progression.weekly_danger: must be above "
        "progression.weekly_alert (0.15 by default), got 0.12\n"
    )
    assert not db.exists()


@given(
    warn=st.floats(0, 1),
    alert=st.floats(0, 1),
    danger=st.floats(0, 1),
    caution=st.integers(0, 10),
    stop=st.integers(0, 10),
    severe=st.integers(0, 10),
)
def test_settings_load_exactly_when_their_orders_hold(
    warn: float, alert: float, danger: float, caution: int, stop: int, severe: int
) -> None:
    environ = {
        "STRIDEWATCH_PROGRESSION__WEEKLY_WARN": repr(warn),
        "STRIDEWATCH_PROGRESSION__WEEKLY_ALERT": repr(alert),
        "STRIDEWATCH_PROGRESSION__WEEKLY_DANGER": repr(danger),
        "STRIDEWATCH_PAIN__MORNING_CAUTION": str(caution),
        "STRIDEWATCH_PAIN__MORNING_STOP": str(stop),
        "STRIDEWATCH_PAIN__SEVERE": str(severe),
    }
    pairs = {
        ("weekly_warn", "weekly_alert"): warn < alert,
        ("weekly_alert", "weekly_danger"): alert < danger,
        ("morning_caution", "morning_stop"): caution < stop,
        ("morning_stop", "severe"): stop < severe,
        # the other timings' defaults against the drawn severe level
        ("during_stop", "severe"): severe > 4,
        ("before_stop", "severe"): severe > 4,
        ("after_stop", "severe"): severe > 5,
    }
    broken = {frozenset(keys) for keys, holds in pairs.items() if not holds}
    if not broken:
        settings = load_settings(environ=environ)
        assert settings.progression.weekly_warn < settings.progression.weekly_danger
        assert settings.pain.morning_caution < settings.pain.severe
        return
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    named = [
        frozenset(re.findall(r"(?:progression|pain)\.(\w+)", line.partition(" (")[0]))
        for line in raised.value.problems
    ]
    assert sorted(named, key=sorted) == sorted(broken, key=sorted)


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("fifo", "not a config file: a named pipe (FIFO)"),
        ("device", "not a config file: a character device"),
        ("folder", "not a config file: a folder"),
        ("dangling", "not a config file: a link to nothing"),
        ("missing", "no such config file"),
    ],
)
@pytest.mark.parametrize("where", ["option", "user"])
def test_a_config_path_naming_no_regular_file_is_refused_at_once(
    tmp_path: Path, kind: str, said: str, where: str
) -> None:
    """A FIFO or /dev/zero is never read (it would block, or fill memory), and neither they
    nor a folder or a broken link at the user's config path are silently skipped."""
    target = tmp_path / "config.toml" if where == "option" else user_config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/zero")
    elif kind == "folder":
        target.mkdir()
    elif kind == "dangling":
        target.symlink_to(tmp_path / "gone.toml")
    if where == "user" and kind == "missing":
        assert load_settings(environ={}) == Settings()  # no user file: the defaults
        return
    with pytest.raises(ConfigError, match=re.escape(f"{target}: {said}")):
        load_settings(target if where == "option" else None, environ={})


def test_a_config_file_too_long_to_be_one_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "config.toml"
    with huge.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse
    with pytest.raises(ConfigError, match="cannot be read: over 1 MB"):
        load_settings(huge, environ={})


def test_config_show_keeps_a_time_with_seconds(sw) -> None:
    write(user_config_path(), '[schedule]\nsummary = "21:30:15"\nmorning_checkin = "07:45"\n')
    shown = tomllib.loads(sw("config", "show").stdout)
    assert shown["schedule"]["summary"] == "21:30:15"
    assert shown["schedule"]["morning_checkin"] == "07:45"


def test_pair_refuses_a_config_that_does_not_load_before_editing_it(sw, db: Path) -> None:
    text = "[progression]\nweekly_warn = 0.5\n"
    write(user_config_path(), text)
    result = sw("pair", "C0:FF:EE:00:00:01")
    assert result.exit_code == 2
    assert "progression.weekly_warn" in result.stderr
    assert user_config_path().read_text() == text
