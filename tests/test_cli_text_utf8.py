"""Text that is not UTF-8 (a Latin-1 terminal's bytes, which Python decodes from argv as lone
surrogates) is refused in one line naming the option, exit status 2, nothing stored or
written; never a UnicodeEncodeError traceback. Paths are not text: a file name need not be
UTF-8."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

CAFE = "caf\udce9"  # b"caf\xe9" as Python decodes it from argv
RUN = ("--at", "2026-11-20T07:30", "--distance", "5km", "--duration", "30:00")
POD = "C0:FF:EE:00:00:01"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("log-run", *RUN, "--note", CAFE), "log-run: --note is not valid UTF-8 text (byte 0xe9)"),
        (
            ("log-run", *RUN, "--rpe", "\udcff"),
            "log-run: --rpe is not valid UTF-8 text (byte 0xff)",
        ),
        (
            ("pain", "2", "--when", "after", "--note", "\udcff"),
            "pain: --note is not valid UTF-8 text (byte 0xff)",
        ),
        (("pain", "\udce9", "--when", "after"), "pain: SCORE is not valid UTF-8 text (byte 0xe9)"),
        (("pair", POD, "--name", CAFE), "pair: --name is not valid UTF-8 text (byte 0xe9)"),
        (("pair", CAFE), "pair: ADDRESS is not valid UTF-8 text (byte 0xe9)"),
        (("sync", "add", f"/media/{CAFE}"), "sync add: PATH is not valid UTF-8 text (byte 0xe9)"),
        (("sync", "remove", CAFE), "sync remove: PATH is not valid UTF-8 text (byte 0xe9)"),
        (("show", CAFE), "show: RUN is not valid UTF-8 text (byte 0xe9)"),
        (("decode", "hrm", "16", CAFE), "decode: HEX is not valid UTF-8 text (byte 0xe9)"),
        (("what-if", CAFE), "what-if: DISTANCE is not valid UTF-8 text (byte 0xe9)"),
        (("check", "--at", CAFE), "check: --at is not valid UTF-8 text (byte 0xe9)"),
        (
            ("calibrate", POD, "--factor", CAFE),
            "calibrate: --factor is not valid UTF-8 text (byte 0xe9)",
        ),
        (
            ("baseline", "set", "--week", CAFE, "--long", "8km"),
            "baseline set: --week is not valid UTF-8 text (byte 0xe9)",
        ),
        (
            ("run", "--simulate", "--scenario", CAFE),
            "run: --scenario is not valid UTF-8 text (byte 0xe9)",
        ),
    ],
)
def test_text_that_is_not_utf8_is_refused_in_one_line(
    sw: Any, db: Path, args: tuple[str, ...], said: str
) -> None:
    result = sw(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"stridewatch: {said}"]
    assert not db.exists()  # nothing opened, nothing stored
    assert not (Path.home() / ".config" / "stridewatch" / "config.toml").exists()


@given(st.text(max_size=20), st.integers(0x80, 0xFF), st.text(max_size=20))
def test_any_note_with_a_byte_not_utf8_is_refused_naming_it(
    before: str, byte: int, after: str
) -> None:
    from click.testing import CliRunner

    from agent.cli import cli

    note = before + chr(0xDC00 + byte) + after
    result = CliRunner().invoke(cli, ["log-run", *RUN, "--note", note], catch_exceptions=False)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("stridewatch: log-run: --note is not valid UTF-8 text (byte 0x")
    assert result.stdout == ""


def test_utf8_text_is_stored_as_typed(sw: Any) -> None:
    result = sw("log-run", *RUN, "--note", "café, 膝")
    assert result.exit_code == 0, result.stderr
    assert sw("runs", "--json").json()[0]["note"] == "café, 膝"


def stridewatch(*args: bytes, strict: bool = False) -> subprocess.CompletedProcess[bytes]:
    """The real command, given bytes as a shell gives them, in a UTF-8 locale (``strict``: a
    stdout that refuses what is not UTF-8, as en_US.UTF-8's does)."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONPATH": str(Path(__file__).parents[1])}
    if strict:
        env["PYTHONIOENCODING"] = "utf-8:strict"
    argv = [sys.executable.encode(), b"-m", b"agent", *args]
    return subprocess.run(argv, capture_output=True, env=env, check=False)


def test_a_latin1_terminal_through_a_real_process(db: Path) -> None:
    """The bytes a shell passes for ``--note $'caf\\xe9'``."""
    run = [arg.encode() for arg in RUN]
    done = stridewatch(b"--db", os.fsencode(db), b"log-run", *run, b"--note", b"caf\xe9")
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "stridewatch: log-run: --note is not valid UTF-8 text (byte 0xe9)"
    ]
    assert not db.exists()


def test_a_file_name_need_not_be_utf8(sw: Any, db: Path, tmp_path: Path) -> None:
    """A path is passed on as it is: an export to a Latin-1 file name is written, and said
    in the bytes it was given, even where stdout takes nothing but UTF-8."""
    assert sw("log-run", *RUN).exit_code == 0
    target = os.fsencode(tmp_path) + b"/caf\xe9.fit"
    done = stridewatch(b"--db", os.fsencode(db), b"export", b"1", b"-o", target, strict=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"wrote " + target + b" (FIT")
    assert os.path.exists(target)
