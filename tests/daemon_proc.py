"""A real ``stridewatch run`` subprocess for the daemon's end-to-end tests.

Its stderr is read line by line on a thread, so a test can wait for a log line while the
daemon runs; the database is read with read-only connections (WAL lets them in while the
daemon writes).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# How many times its idle-machine figure a wait may take before the test fails.
DEADLINE_SCALE = 4.0


@dataclass
class DaemonProcess:
    proc: subprocess.Popen[str]
    db: Path
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``predicate`` until it returns something truthy; fail if the daemon dies.

        ``timeout`` is what the wait takes on an idle machine; the deadline is
        :data:`DEADLINE_SCALE` times that, so a CI machine running four test workers on two
        cores waits longer rather than fails. Nothing here measures time: a wait that ends
        early passes at once, and only a wait that never ends fails."""
        timeout *= DEADLINE_SCALE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            if self.proc.poll() is not None:
                found = predicate()
                if found:
                    return found
                pytest.fail(
                    f"the daemon exited ({self.proc.returncode}) before {what}:\n" + self.stderr()
                )
            time.sleep(0.02)
        pytest.fail(f"timed out after {timeout} s waiting for {what}:\n{self.stderr()}")

    def logged(self, text: str, timeout: float = 20.0) -> str:
        return str(
            self.wait_for(
                lambda: next((line for line in list(self.lines) if text in line), None),
                timeout,
                repr(text),
            )
        )

    def stop(self, timeout: float = 5.0) -> float:
        """SIGTERM; return how long the daemon took to exit (it must exit 0)."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        assert code == 0, self.stderr()
        return time.monotonic() - sent

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []
        finally:
            conn.close()


# The daemon holds non-live notifications in quiet hours (22:00-07:00 by default): the
# tests must not depend on the time of day they run at.
QUIET_HOURS_OFF = {
    "STRIDEWATCH_NOTIFICATIONS__QUIET_START": "00:00",
    "STRIDEWATCH_NOTIFICATIONS__QUIET_END": "00:00",
}


@contextmanager
def daemon(
    db: Path,
    *args: str,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    wrap: Sequence[str] = (),
) -> Iterator[DaemonProcess]:
    """``python -m agent --db DB run ARGS`` with ``env`` added (and ``preexec_fn`` run in the
    child before it starts, e.g. to set a resource limit; ``wrap`` the command it runs under,
    e.g. ``unshare``); killed if still running."""
    argv = [*wrap, sys.executable, "-m", "agent", "--db", str(db), "run", *args]
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", **QUIET_HOURS_OFF, **(env or {})}
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, text=True, env=environ, preexec_fn=preexec_fn
    )
    handle = DaemonProcess(proc, db)
    handle.reader = threading.Thread(target=handle.read, daemon=True)
    handle.reader.start()
    try:
        yield handle
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        handle.reader.join(10)
        assert proc.stderr is not None
        proc.stderr.close()
