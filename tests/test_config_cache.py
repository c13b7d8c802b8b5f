"""The settings as last validated (issue 18: ``check --json`` without pydantic's start-up).

A command whose config files and ``STRIDEWATCH_*`` variables are exactly those of the last
validation takes the settings from the cache; any change, however quick, is validated again;
a missing, damaged or unwritable cache costs only the validation.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import config_cache
from agent.config import Settings, user_config_path
from agent.config_cache import cache_path, settings_as_json
from agent.config_load import load_settings, validate_settings
from agent.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

WEEKLY = "[progression]\nweekly_warn = 0.12\nweekly_alert = 0.2\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cached() -> dict[str, Any]:
    data = json.loads(cache_path().read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def loads_pydantic(env: dict[str, str], *args: str) -> bool:
    """Whether a fresh process loading the settings (``--config`` ``args``) imports pydantic."""
    code = (
        "import sys; from pathlib import Path; from agent.config_load import load_settings; "
        "s = load_settings(*(Path(a) for a in sys.argv[1:])); "
        "print(s.progression.weekly_warn, 'pydantic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    value, imported = done.stdout.split()
    assert float(value) == 0.12
    return imported == "True"


def test_unchanged_sources_skip_pydantic_and_give_the_same_settings() -> None:
    write(user_config_path(), WEEKLY)
    first = load_settings(environ={})
    assert first.progression.weekly_warn == 0.12
    assert cached()["settings"] == settings_as_json(first)
    env = dict(os.environ)
    assert loads_pydantic(env) is False
    assert load_settings(environ={}) == first


def test_no_source_at_all_needs_neither_pydantic_nor_a_cache() -> None:
    assert load_settings(environ={}) == Settings()
    assert not cache_path().exists()
    code = (
        "import sys; from agent.config_load import load_settings; load_settings(); "
        "print('pydantic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip() == "False"


def test_an_edit_that_keeps_size_and_time_is_still_seen() -> None:
    path = write(user_config_path(), WEEKLY)
    assert load_settings(environ={}).progression.weekly_warn == 0.12
    before = path.stat()
    write(path, WEEKLY.replace("0.12", "0.13"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert load_settings(environ={}).progression.weekly_warn == 0.13


def test_a_bad_edit_after_a_good_one_is_refused_not_taken_from_the_cache() -> None:
    path = write(user_config_path(), WEEKLY)
    load_settings(environ={})
    write(path, WEEKLY.replace("0.12", "9.12"))
    with pytest.raises(ConfigError, match=r"progression\.weekly_warn: must be between 0 and 1"):
        load_settings(environ={})
    write(path, WEEKLY)  # back as it was: the cache of the good file serves again
    assert load_settings(environ={}).progression.weekly_warn == 0.12


def test_variables_and_the_config_option_are_part_of_the_key(tmp_path: Path) -> None:
    write(user_config_path(), WEEKLY)
    load_settings(environ={})
    env = {"STRIDEWATCH_PROGRESSION__WEEKLY_WARN": "0.05"}
    assert load_settings(environ=env).progression.weekly_warn == 0.05
    other = write(tmp_path / "other.toml", "[progression]\nweekly_warn = 0.07\n")
    assert load_settings(other, environ={}).progression.weekly_warn == 0.07
    assert load_settings(environ={}).progression.weekly_warn == 0.12
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "missing.toml", environ={})
    with pytest.raises(ConfigError, match=r"progression\.weekly_warn"):
        load_settings(environ={"STRIDEWATCH_PROGRESSION__WEEKLY_WARN": "2"})


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"key": 1}',
        b"\xff\xfe",
    ],
)
def test_a_damaged_cache_is_validated_again_and_replaced(damage: bytes) -> None:
    write(user_config_path(), WEEKLY)
    good = load_settings(environ={})
    cache_path().write_bytes(damage)
    assert load_settings(environ={}) == good
    assert cached()["settings"] == settings_as_json(good)


# Values that do not fit the settings, checksum made again (what only reading them can
# catch), and values edited by hand (which the checksum catches).
FITTING = [
    (lambda s: s["progression"].update(weekly_warn="0.12"), True),  # the wrong type
    (lambda s: s["progression"].pop("weekly_warn"), True),  # a key missing
    (lambda s: s["progression"].update(surprise=1), True),  # a key too many
    (lambda s: s.update(schedule=[]), True),  # a section of the wrong shape
    (lambda s: s["schedule"].update(summary="25:99"), True),  # not a time
    (lambda s: s["progression"].update(weekly_warn=0.05), False),  # not what the file says
    (lambda s: s.update(units="furlongs"), False),  # no unit of ours
    (lambda s: s["sensors"].update(allow=["c0:ff:ee:00:00:01", 5]), False),
]


@pytest.mark.parametrize(("edit", "resigned"), FITTING)
def test_cached_values_that_do_not_fit_or_were_edited_are_a_miss(edit: Any, resigned: bool) -> None:
    write(user_config_path(), WEEKLY)
    good = load_settings(environ={})
    data = cached()
    edit(data["settings"])
    if resigned:
        data["checksum"] = config_cache._checksum(data["key"], data["settings"])
    cache_path().write_text(json.dumps(data), encoding="utf-8")
    assert load_settings(environ={}) == good


def test_the_cache_of_another_year_rules_or_home_is_a_miss() -> None:
    write(user_config_path(), WEEKLY)
    load_settings(environ={})
    others = (("year", datetime.now(UTC).year - 1), ("rules", [0, 0, 0, 0]), ("home", "/x"))
    for part, value in others:
        data = cached()
        data["key"][part] = value
        data["settings"]["progression"]["weekly_warn"] = 0.99  # would show if it were used
        data["checksum"] = config_cache._checksum(data["key"], data["settings"])
        cache_path().write_text(json.dumps(data), encoding="utf-8")
        assert load_settings(environ={}).progression.weekly_warn == 0.12


def test_a_home_folder_of_another_meaning_is_validated_again() -> None:
    write(user_config_path(), '[sync]\nfolders = ["~/runs"]\n')
    load_settings(environ={})
    code = "from agent.config_load import load_settings; load_settings()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": "relative-home"},
        cwd=ROOT,
    )
    assert "sync.folders.0: must be a full path" in done.stderr


def test_a_new_version_of_the_settings_code_is_a_miss(tmp_path: Path) -> None:
    """A changed default in agent/config.py is seen even if the new file has the old file's
    size and modification time (a reinstall, a Nix store)."""
    copy = tmp_path / "code"
    shutil.copytree(ROOT / "agent", copy / "agent", ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "agent" / "config.py"
    env = {**os.environ, "PYTHONPATH": str(copy)}
    code = (
        "from agent.config_load import load_settings; "
        "print(load_settings().progression.weekly_danger)"
    )
    write(user_config_path(), 'units = "mi"\n')

    def danger() -> float:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=tmp_path,  # not the checkout: its agent/ would come first
        )
        return float(done.stdout)

    assert danger() == 0.30
    before = source.stat()
    text = source.read_text()
    assert "weekly_danger: Fraction = 0.30" in text
    source.write_text(
        text.replace("weekly_danger: Fraction = 0.30", "weekly_danger: Fraction = 0.31")
    )
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    assert danger() == 0.31


def test_the_cache_is_private_and_an_unwritable_one_costs_nothing(tmp_path: Path) -> None:
    write(user_config_path(), WEEKLY)
    load_settings(environ={})
    assert stat.S_IMODE(cache_path().stat().st_mode) == 0o600
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    env = {**os.environ, "XDG_CACHE_HOME": str(blocked)}
    assert loads_pydantic(env) is True  # validated every time, and says nothing
    done = subprocess.run(
        [sys.executable, "-m", "agent", "config", "check"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_failed_validation_writes_no_cache() -> None:
    write(user_config_path(), "[progression]\nweekly_warn = 3\n")
    with pytest.raises(ConfigError):
        load_settings(environ={})
    assert not cache_path().exists()


def test_config_show_is_the_same_from_the_cache(sw) -> None:
    write(user_config_path(), WEEKLY + '\n[schedule]\nsummary = "20:30"\n')
    first = sw("config", "show", "--json")
    assert first.exit_code == 0, first.stderr
    assert cache_path().exists()
    again = sw("config", "show", "--json")
    assert again.stdout == first.stdout
    shown = json.loads(again.stdout)
    assert shown["schedule"]["summary"] == "20:30:00"
    assert shown["progression"]["weekly_warn"] == 0.12


# Any valid settings read back from the cache as they were validated.
SECTIONS = st.fixed_dictionaries(
    {},
    optional={
        "units": st.sampled_from(["km", "mi"]),
        "runner": st.fixed_dictionaries(
            {},
            optional={
                "max_hr": st.integers(180, 240),
                "resting_hr": st.integers(25, 120),
                "sex": st.sampled_from(["female", "male"]),
            },
        ),
        "sensors": st.fixed_dictionaries(
            {},
            optional={
                "allow": st.lists(
                    st.binary(min_size=6, max_size=6).map(lambda b: b.hex(":")), max_size=3
                ),
                "scan_timeout_s": st.floats(1, 120),
            },
        ),
        "schedule": st.fixed_dictionaries(
            {},
            optional={"summary": st.times().map(lambda t: t.replace(microsecond=0))},
        ),
        "pain": st.fixed_dictionaries({}, optional={"margin": st.integers(0, 5)}),
        "sync": st.fixed_dictionaries(
            {}, optional={"folders": st.lists(st.sampled_from(["/a", "~/b", "/c d"]))}
        ),
    },
)


@given(SECTIONS)
def test_any_valid_settings_read_back_from_the_cache_as_validated(raw: dict[str, Any]) -> None:
    settings = validate_settings(raw)
    key = config_cache.cache_key([("config.toml", json.dumps(raw, default=str))], {})
    config_cache.save(key, settings)
    back = config_cache.load(key)
    assert back == settings
    for section in ("sensors", "sync"):
        for name, value in vars(getattr(back, section)).items():
            assert not isinstance(value, list), (section, name)  # tuples, as validated
    assert isinstance(back.schedule.summary, time)
    assert config_cache.load({**key, "files": []}) is None
