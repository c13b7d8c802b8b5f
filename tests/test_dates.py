"""Dates a runner types (issue 15, item 7): every date-taking option of every command takes
only dates in the configured window (``[dates]``: from 1990 to 10 years ahead by default) and
refuses the rest, and text no calendar can hold, with one line and exit status 2."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.cli import cli
from agent.config import Settings, user_config_path
from agent.errors import InputError
from agent.units import DateWindow, parse_date, parse_datetime

NOW = datetime.now(UTC)
LATEST = NOW.replace(year=NOW.year + 10) if (NOW.month, NOW.day) != (2, 29) else NOW
# Instants and days no runner means: beyond the calendar once converted to UTC, before the
# window (year 1, 1985 before FIT's epoch), after it (2206 for 2026, 11 years ahead).
BAD_INSTANTS = (
    "9999-12-31T23:59-12:00",
    "0001-01-01T00:00+14:00",
    "0001-01-01",
    "1985-06-01T07:00",
    "1989-12-31T23:59",
    "2206-01-01",
    (NOW + timedelta(days=11 * 366)).date().isoformat(),
)
BAD_DAYS = ("0001-01-01", "9999-12-31", "1985-06-01", "2206-01-01", "9999-12-31T23:59-12:00")

# Every option of every command that takes an instant; V is the value.
INSTANT_OPTIONS = {
    "log-run": ("log-run", "--distance", "5km", "--duration", "30:00", "--at", "V"),
    "pain": ("pain", "3", "--when", "after", "--at", "V"),
    "import": ("import", "OUT/run.fit", "--at", "V"),
    "check": ("check", "--at", "V"),
    "summary": ("summary", "--at", "V"),
    "alerts": ("alerts", "--since", "V"),
    "what-if": ("what-if", "5km", "--at", "V"),
    "plan-return": ("plan", "return", "--usual", "6-8mi", "--at", "V"),
    "plan-show": ("plan", "show", "--at", "V"),
    "history": ("history", "--at", "V"),
    "report": ("report", "--at", "V", "-o", "OUT/report.html"),
    "baseline": ("baseline", "set", "--week", "25km", "--long", "10km", "--at", "V"),
}
# ... and every one that takes a calendar day.
DAY_OPTIONS = {
    "summary-week": ("summary", "--week", "V"),
    "what-if-week": ("what-if", "--week", "V 5km"),
}


def args_with(template: tuple[str, ...], value: str, out: Path) -> list[str]:
    return [part.replace("V", value).replace("OUT", str(out)) for part in template]


def assert_one_line_refusal(result: Any) -> None:
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("stridewatch: ")
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("value", BAD_INSTANTS)
@pytest.mark.parametrize("command", sorted(INSTANT_OPTIONS))
def test_every_instant_option_refuses_dates_outside_the_window(
    sw: Any, db: Path, tmp_path: Path, command: str, value: str
) -> None:
    result = sw(*args_with(INSTANT_OPTIONS[command], value, tmp_path))
    assert_one_line_refusal(result)
    assert f"date {value!r}: expected a date from 1990-01-01 to " in result.stderr
    assert "(the config's dates.earliest_year, dates.years_ahead)" in result.stderr
    assert not db.exists()  # nothing stored, nothing created
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("value", BAD_DAYS)
@pytest.mark.parametrize("command", sorted(DAY_OPTIONS))
def test_every_day_option_refuses_days_outside_the_window(
    sw: Any, db: Path, tmp_path: Path, command: str, value: str
) -> None:
    result = sw(*args_with(DAY_OPTIONS[command], value, tmp_path))
    assert_one_line_refusal(result)
    assert repr(value) in result.stderr
    assert not db.exists()


def test_the_window_edges(sw: Any) -> None:
    ok = sw("log-run", "--at", "1990-01-01T00:00", "--distance", "5km", "--duration", "30:00")
    assert ok.exit_code == 0, ok.stderr
    assert sw("check", "--at", (NOW + timedelta(days=9 * 365)).isoformat()).exit_code == 0
    assert sw("summary", "--week", "1990-01-01", "--json").exit_code == 0
    refused = sw("pain", "2", "--when", "morning", "--at", "1989-12-31T23:59:59")
    assert_one_line_refusal(refused)
    assert f"to {LATEST.date().isoformat()} (the config's" in refused.stderr


def test_the_window_is_a_setting(sw: Any) -> None:
    user_config_path().parent.mkdir(parents=True)
    user_config_path().write_text("[dates]\nearliest_year = 1980\nyears_ahead = 30\n")
    old = sw("log-run", "--at", "1985-06-01T07:00", "--distance", "5km", "--duration", "30:00")
    assert old.exit_code == 0, old.stderr
    assert sw("check", "--at", (NOW + timedelta(days=20 * 365)).isoformat()).exit_code == 0
    refused = sw("check", "--at", "1979-12-31T12:00")
    assert_one_line_refusal(refused)
    assert "expected a date from 1980-01-01 to " in refused.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[dates]\nearliest_year = 2999\n",
            "dates.earliest_year: must be between 1970 and 2100, got 2999",
        ),
        (
            f"[dates]\nearliest_year = {NOW.year + 1}\n",
            f"dates.earliest_year: must not be after this year ({NOW.year}): every date "
            f"would be refused, got {NOW.year + 1}",
        ),
        ("[dates]\nyears_ahead = 0\n", "dates.years_ahead: must be between 1 and 100, got 0"),
    ],
)
def test_a_window_that_refuses_everything_is_a_bad_config(
    sw: Any, tmp_path: Path, text: str, expected: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    result = sw("--config", str(config), "config", "check")
    assert_one_line_refusal(result)
    assert result.stderr == f"stridewatch: {config}: {expected}\n"


def test_the_window_follows_the_configured_zone() -> None:
    noon_utc = datetime(2026, 11, 30, 12, tzinfo=UTC)  # 02:00 on 1 December at UTC+14
    window = Settings(timezone="Pacific/Kiritimati").date_window(noon_utc)
    assert window.earliest == datetime(1990, 1, 1, tzinfo=ZoneInfo("Pacific/Kiritimati"))
    assert window.latest.date() == date(2036, 12, 1)


# -- any text: an instant in the window, or one line -----------------------------------------

WINDOW = Settings().date_window(NOW)
ZONES = st.sampled_from([ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"), UTC])
OFFSETS = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
ISO_TEXTS = st.one_of(
    st.datetimes().map(datetime.isoformat),
    st.builds(lambda d, z: d.replace(tzinfo=z).isoformat(), st.datetimes(), OFFSETS),
    st.dates().map(date.isoformat),
    st.text(),
    st.text(alphabet="0123456789-:T+Z. ", max_size=30),
)


def check_instant(text: str, zone: Any, window: DateWindow) -> None:
    try:
        moment, refusal = parse_datetime(text, zone, window), ""
    except InputError as exc:
        moment, refusal = None, str(exc)
    if moment is None:
        assert "\n" not in refusal
        assert refusal.startswith("date ")
    else:
        assert moment.tzinfo is UTC
        assert window.holds(moment)
        moment.astimezone(zone)  # and it can be shown in local time


@given(text=ISO_TEXTS, zone=ZONES)
def test_any_text_is_an_instant_in_the_window_or_one_line(text: str, zone: Any) -> None:
    check_instant(text, zone, WINDOW)


@given(text=ISO_TEXTS)
def test_any_text_is_a_day_in_the_window_or_one_line(text: str) -> None:
    try:
        day, refusal = parse_date(text, WINDOW, "--week"), ""
    except InputError as exc:
        day, refusal = None, str(exc)
    if day is None:
        assert "\n" not in refusal
        assert refusal.startswith("--week ")
    else:
        assert WINDOW.earliest.date() <= day <= WINDOW.latest.date()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ISO_TEXTS)
def test_check_at_any_text_answers_or_refuses_in_one_line(tmp_path: Path, text: str) -> None:
    if text.startswith("-") or "\x00" in text:
        text = " " + text.replace("\x00", "")  # not an option, and a valid argv string
    db = tmp_path / "any.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "check", "--at", text, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1
