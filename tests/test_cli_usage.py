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


def test_a_group_without_a_command_still_shows_its_help(sw: Any) -> None:
    result = sw("plan")
    assert "Usage: stridewatch plan [OPTIONS] COMMAND [ARGS]..." in result.stdout + result.stderr
    assert "return" in result.stdout + result.stderr
