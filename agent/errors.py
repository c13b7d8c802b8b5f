"""The one exception tree of stridewatch.

Other libraries' errors are converted once, where they enter our code, into one of these,
with advice a runner can act on. The CLI prints ``str(error)`` as one line and exits with
``error.exit_code``: 2 for bad input (a value, a config file, a file that is not ours),
1 for a problem with the environment (a locked database, a missing service).
"""

from __future__ import annotations

from pathlib import Path


class StridewatchError(Exception):
    """Root of every error stridewatch raises on purpose."""

    exit_code = 1


class InputError(StridewatchError):
    """A value given on the command line is not acceptable."""

    exit_code = 2

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class ConfigError(StridewatchError):
    """One or more configuration problems; ``problems`` holds one line each."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StoreError(StridewatchError):
    """The database cannot be used; ``path`` says which file."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotOurDatabaseError(StoreError):
    """The file exists but is not a stridewatch database, or is damaged. We never touch it."""

    exit_code = 2


class DatabaseLockedError(StoreError):
    """Another process holds the database for longer than the busy timeout."""


class NotFoundError(StridewatchError):
    """A run, device or plan the runner named does not exist."""

    exit_code = 2
