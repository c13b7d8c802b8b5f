"""Spoken live alerts: the text as a speech synthesizer should read it, and what happens
where nothing can speak. (A real espeak-ng speaking the daemon's alert into a WAV file is
in test_daemon_notify.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.daemon.speech import NOTHING_TO_SPEAK_WITH, spoken


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "0.6 mi: longer than 1.1x your longest run this month (0.5 mi). Turn back now.",
            "0.6 miles: longer than 1.1 times your longest run this month (0.5 miles). "
            "Turn back now.",
        ),
        (
            "4.4 km: turn around now to stay within 8.8 km today (a 2x limit).",
            "4.4 kilometres: turn around now to stay within 8.8 kilometres today "
            "(a 2 times limit).",
        ),
        # Words that merely start like a unit are left alone.
        ("3 kmh is 2 minutes; mix it up.", "3 kmh is 2 minutes; mix it up."),
    ],
)
def test_spoken_spells_out_units_and_ratios(text: str, said: str) -> None:
    assert spoken(text) == said


def test_nothing_to_speak_with_says_what_to_install() -> None:
    # A fresh interpreter: plyer keeps the speech backend it found first for the process.
    code = "import asyncio; from agent.daemon.speech import speak; print(asyncio.run(speak('hi')))"
    result = subprocess.run(
        [sys.executable, "-c", code], env={"PATH": ""}, capture_output=True, text=True, check=True
    )
    assert (
        result.stdout.strip()
        == f"Delivery(delivered=False, detail={NOTHING_TO_SPEAK_WITH!r}, id=None)"
    )
