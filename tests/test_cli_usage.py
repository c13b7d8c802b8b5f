"""Usage errors are one line and exit status 2, as every other bad input (issue 17, item 5):
click's own usage, hint and error lines become one line naming the command and its help."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("runs", "--bogus"), "stridewatch: runs: No such option '--bogus'."),
        (("log-run", "--duration", "36:00"), "stridewatch: log-run: Missing option '--distance'."),
        (("nosuch",), "stridewatch: No such command 'nosuch'."),
        (("plan", "nosuch"), "stridewatch: plan: No such command 'nosuch'."),
        (("sync", "add"), "stridewatch: sync add: Missing argument 'PATH'."),
        (("pain", "3", "--when", "never"), "stridewatch: pain: Invalid value for '--when': "),
        (("decode", "xyz", "00"), "stridewatch: decode: Invalid value for 'KIND': "),
        (("--bogus", "runs"), "stridewatch: No such option '--bogus'."),
    ],
)
def test_a_usage_error_is_one_line_and_exit_status_2(
    sw: Any, args: tuple[str, ...], said: str
) -> None:
    result = sw(*args)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(said)
    assert line.endswith(" -h'.")  # where to read more: the command's help
    assert "Usage:" not in line
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("config",),
            "stridewatch: config: Missing command: check, path or show. "
            "See 'stridewatch config -h'.",
        ),
        (
            ("service",),
            "stridewatch: service: Missing command: install, status or uninstall. "
            "See 'stridewatch service -h'.",
        ),
        (
            ("plan",),
            "stridewatch: plan: Missing command: return or show. See 'stridewatch plan -h'.",
        ),
        (
            ("baseline",),
            "stridewatch: baseline: Missing command: set. See 'stridewatch baseline -h'.",
        ),
        (
            ("sync",),
            "stridewatch: sync: Missing command: add, detect, list, remove or status (or --once "
            "for one pass now). See 'stridewatch sync -h'.",
        ),
        (
            ("sync", "--json"),
            "stridewatch: sync: Missing command: add, detect, list, remove or status (or --once "
            "for one pass now). See 'stridewatch sync -h'.",
        ),
        (
            (),
            "stridewatch: Missing command, such as log-run, pain, check or summary. "
            "See 'stridewatch -h'.",
        ),
        (
            ("--config", "/dev/null"),
            "stridewatch: Missing command, such as log-run, pain, check or summary. "
            "See 'stridewatch -h'.",
        ),
    ],
)
def test_a_group_without_a_command_names_its_commands_in_one_line(
    sw: Any, args: tuple[str, ...], said: str
) -> None:
    result = sw(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [said]


@pytest.mark.parametrize("group", [(), ("config",), ("service",), ("plan",), ("sync",)])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_is_still_help(sw: Any, group: tuple[str, ...], flag: str) -> None:
    result = sw(*group, flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: stridewatch")
    assert "Commands:" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("log-run", "--distance"),
            "stridewatch: log-run: Option '--distance' requires an argument. "
            "See 'stridewatch log-run -h'.",
        ),
        (
            ("pain", "3", "--when"),
            "stridewatch: pain: Option '--when' requires an argument. See 'stridewatch pain -h'.",
        ),
        (
            ("sync", "add", "/x", "--db"),
            "stridewatch: sync add: No such option '--db'. See 'stridewatch sync add -h'.",
        ),
        (
            ("plan", "return", "--usual"),
            "stridewatch: plan return: Option '--usual' requires an argument. "
            "See 'stridewatch plan return -h'.",
        ),
        (
            ("pain", "3"),
            "stridewatch: pain: Missing option '--when'. Choose from: before, during, after, "
            "morning. See 'stridewatch pain -h'.",
        ),
        (
            ("log-run", "--distance", "5", "km", "--duration", "30:00"),
            "stridewatch: log-run: Got unexpected extra argument (km). "
            "See 'stridewatch log-run -h'.",
        ),
        (
            ("show",),
            "stridewatch: show: Missing argument 'RUN'. See 'stridewatch show -h'.",
        ),
        (
            ("--db",),
            "stridewatch: Option '--db' requires an argument. See 'stridewatch -h'.",
        ),
    ],
)
def test_a_usage_line_names_its_command_and_ends_its_sentence(
    sw: Any, args: tuple[str, ...], said: str
) -> None:
    result = sw(*args, use_db=False)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [said]


def test_every_usage_line_has_a_full_stop_before_see(sw: Any) -> None:
    for args in (("pain", "3"), ("runs", "extra"), ("decode", "hrm"), ("export",)):
        [line] = sw(*args).stderr.splitlines()
        message, _, _ = line.partition(" See '")
        assert message.endswith("."), line


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((), 'stridewatch: give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km"'),
        (
            ("18km", "--week", "tue 8km"),
            'stridewatch: give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km", not both',
        ),
    ],
)
def test_what_if_says_what_is_wrong_with_its_arguments(
    sw: Any, args: tuple[str, ...], said: str
) -> None:
    result = sw("what-if", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [said]
