"""Spoken live alerts (``notifications.speak``), for runs near the computer: on a treadmill
with headphones the screen is out of sight, and a notification unseen.

Through plyer's TTS facade, which on Linux runs ``espeak`` (or ``flite``) and ignores its
exit status. Where plyer finds neither (Debian's ``espeak-ng`` package installs only an
``espeak-ng`` program; ``espeak-ng-espeak`` adds ``espeak``), we run ``espeak-ng`` or
speech-dispatcher's ``spd-say`` ourselves. Speaking blocks until the sentence is said, so it
runs on a thread, one sentence at a time, in the order the alerts were raised.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
import warnings

from agent.daemon.notify import Delivery

log = logging.getLogger("stridewatch.speech")

# A sentence takes a few seconds to say; a speech program hung on a busy audio device must
# not hold the next alert for ever.
SPEAK_TIMEOUT_S = 60.0
# Our own fallbacks when plyer has no speech backend, best first: espeak-ng speaks and
# returns; spd-say (speech-dispatcher) returns at once unless told to wait (--wait).
PROGRAMS: tuple[tuple[str, ...], ...] = (("espeak-ng",), ("spd-say", "--wait"))
NOTHING_TO_SPEAK_WITH = (
    "no speech program found (install espeak-ng, or speech-dispatcher for spd-say)"
)

# Abbreviations as a speech synthesizer should say them: espeak-ng 1.51 reads "0.6 mi" as
# "zero point six my", "3.2 km" as "... kay em" and "1.1x" as "one point one ex".
_SPOKEN = (
    (re.compile(r"(\d)\s*km\b"), r"\1 kilometres"),
    (re.compile(r"(\d)\s*mi\b"), r"\1 miles"),
    (re.compile(r"(\d)x\b"), r"\1 times"),
)


def spoken(text: str) -> str:
    """``text`` as it should be said: ``0.6 mi: longer than 1.1x`` becomes ``0.6 miles:
    longer than 1.1 times``."""
    for pattern, words in _SPOKEN:
        text = pattern.sub(words, text)
    return text


async def speak(text: str) -> Delivery:
    """Say ``text`` (already :func:`spoken`); never raises. ``detail`` names what spoke it,
    or why nothing did."""
    try:
        how = await asyncio.to_thread(_speak, text)
    except subprocess.TimeoutExpired:
        return Delivery(False, f"the speech program took over {SPEAK_TIMEOUT_S:g} s")
    except (OSError, subprocess.CalledProcessError) as exc:
        return Delivery(False, f"the speech program failed ({exc})")
    if how is None:
        return Delivery(False, NOTHING_TO_SPEAK_WITH)
    return Delivery(True, f"spoken by {how}")


def _speak(text: str) -> str | None:
    from plyer import tts

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plyer may warn while choosing a backend
            tts.speak(message=text)
    except NotImplementedError:  # plyer found no espeak or flite program
        pass
    else:
        backend = type(getattr(tts.speak, "__self__", None)).__name__
        return f"plyer's {backend.removesuffix('TextToSpeech').lower()} backend"
    for program, *options in PROGRAMS:
        path = shutil.which(program)
        if path is not None:
            subprocess.run(
                [path, *options, text],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=SPEAK_TIMEOUT_S,
            )
            return program
    return None


class Speaker:
    """Says live alerts one at a time, in order, off the event loop. :meth:`say` queues a
    text; :meth:`run` is the task that speaks (the daemon's ``speak`` task). A failure is
    logged once per cause, as undelivered notifications are."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._failure: str | None = None

    def say(self, text: str) -> None:
        self._queue.put_nowait(spoken(text))

    async def run(self) -> None:
        while True:
            text = await self._queue.get()
            result = await speak(text)
            if result.delivered:
                log.info("%s: %s", result.detail, text)
                self._failure = None
            elif result.detail != self._failure:
                log.warning("not spoken (%s): %s", result.detail, text)
                self._failure = result.detail
