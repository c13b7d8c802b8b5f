"""The click classes every stridewatch command and group is made of: usage errors and our
errors said in one line with the right exit status, text refused when it is not UTF-8, and the
library's warnings printed on stderr while a command runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import click

from agent.errors import InputError, StridewatchError


class UsageLine(click.UsageError):
    """A usage error (an unknown option, a missing argument, a bad choice) said in one line,
    as every other bad input is, with the help to read; exit status 2."""

    def show(self, file: Any = None) -> None:
        message = " ".join(self.format_message().split())
        if not message.endswith((".", "?", "!")):
            message += "."  # click ends some without ("... Choose from: a, b")
        path = self.ctx.command_path if self.ctx is not None else "stridewatch"
        command = path.partition(" ")[2]
        where = f"{command}: " if command else ""
        click.echo(f"stridewatch: {where}{message} See '{path} -h'.", err=True)


@contextmanager
def _usage_in_one_line(ctx: click.Context | None = None) -> Iterator[None]:
    """click's usage errors as :class:`UsageLine`; ``ctx`` names the command for the ones
    click raises without a context (an option missing its value)."""
    try:
        yield
    except UsageLine:
        raise
    except click.UsageError as exc:
        raise UsageLine(exc.format_message(), exc.ctx or ctx) from None


# The top level has too many commands to name them all on one line: these are the ones a
# runner starts with (`stridewatch -h` lists every one).
FIRST_COMMANDS = ("log-run", "pain", "check", "summary")


def missing_command(ctx: click.Context, also: str = "") -> str:
    """``Missing command: check, path or show.``: a group called without a command."""
    group = cast(click.Group, ctx.command)
    names = list(FIRST_COMMANDS) if ctx.parent is None else group.list_commands(ctx)
    listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
    lead = "Missing command, such as" if ctx.parent is None else "Missing command:"
    return f"{lead} {listed}{also}."


def _not_utf8(text: str) -> str | None:
    """``byte 0xe9`` for text holding what is not UTF-8 (argv's bytes that are not are
    decoded to lone surrogates), else None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
    return None


def _not_shown(text: str) -> str | None:
    """Why ``text`` could not be shown as it is in a terminal: it holds a control character
    (an escape sequence recolours or rewrites the screen) or a bidirectional override
    (U+202E shows what follows reversed). A newline is text: a note may have lines."""
    from agent.views.text import unsafe_char

    code = unsafe_char(text)
    return None if code is None else f"holds {code}, which a terminal would act on, not show"


def _refuse_undecodable(ctx: click.Context) -> None:
    """Every text option and argument is stored, printed or matched as UTF-8 text a terminal
    shows: one that is not (``--note $'caf\\xe9'`` from a Latin-1 terminal, an escape
    sequence in a note) is refused in one line naming it, before anything is done. Paths
    are not text: a file name need not be UTF-8."""
    for param in ctx.command.params:
        value = ctx.params.get(param.name) if param.name else None
        for text in value if isinstance(value, tuple) else (value,):
            if not isinstance(text, str):
                continue
            bad = _not_utf8(text)
            why = f"is not valid UTF-8 text ({bad})" if bad is not None else _not_shown(text)
            if why is not None:
                command = ctx.command_path.partition(" ")[2]
                where, name = f"{command}: " if command else "", _param_name(param)
                raise InputError(f"{where}{name} {why}", option=name)


def _param_name(param: click.Parameter) -> str:
    """``--note`` for an option, ``SCORE`` for an argument: as its help names it."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.metavar or (param.name or "").upper()).strip("[].")


class StridewatchCommand(click.Command):
    """A command whose usage errors are one line naming it (:class:`UsageLine`) and whose
    text options are refused in one line when they are not UTF-8."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _usage_in_one_line(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        _refuse_undecodable(ctx)
        return super().invoke(ctx)


class StridewatchGroup(click.Group):
    """A group that turns our errors into one line each and the right exit status, click's
    usage errors too (a group called without a command among them: one line naming its
    commands, not its help), and the library's warnings into one line each on stderr."""

    command_class = StridewatchCommand
    group_class = type  # subgroups are StridewatchGroups too

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _usage_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            raise UsageLine(missing_command(ctx), ctx)
        with _usage_in_one_line(ctx):
            rest = super().parse_args(ctx, args)
        if not ctx._protected_args and not self.invoke_without_command:
            raise UsageLine(missing_command(ctx), ctx)  # options only: `config --db x.db`
        return rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            _refuse_undecodable(ctx)
            with _usage_in_one_line(ctx):
                if ctx.parent is not None:
                    return super().invoke(ctx)
                with _warnings_on_stderr():
                    return super().invoke(ctx)
        except StridewatchError as exc:
            for line in str(exc).splitlines():
                click.echo(f"stridewatch: {line}", err=True)
            ctx.exit(exc.exit_code)


# The library's loggers whose warnings a runner must see whatever the command: a stored
# row skipped because its date is unusable (agent/store/).
WARNING_LOGGERS = ("stridewatch.store",)


# A warning's lines after its first are indented so, under ``stridewatch: warning:``.
WARNING_INDENT = 4


def warn(message: str) -> None:
    """``stridewatch: warning: MESSAGE`` on stderr. Unlike an error (one line, the command
    refused), a warning is advice on a command that went through: it is wrapped to the
    terminal as any paragraph, its later lines indented, commands and paths kept whole."""
    from rich.text import Text

    from agent.views import text as views

    out = views.console(err=True)
    room = max(views.DETAIL_MIN, out.width - WARNING_INDENT)
    for n, line in enumerate(views.wrap(f"stridewatch: warning: {message}", room)):
        views.emit(out, Text.assemble(" " * (WARNING_INDENT if n else 0), line))


class _WarningLine(logging.Handler):
    """A stored row the readers skip, and such: one line each, whole, to find and fix (a
    warning of advice, :func:`warn`, wraps)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"stridewatch: warning: {record.getMessage()}", err=True)


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """While a command runs, :data:`WARNING_LOGGERS` print ``stridewatch: warning: ...``
    lines on stderr (and only there: the daemon's log format does not repeat them)."""
    handler = _WarningLine(logging.WARNING)
    loggers = [logging.getLogger(name) for name in WARNING_LOGGERS]
    before = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING)  # whatever a parent logger was set to
    try:
        yield
    finally:
        for logger, (propagate, level) in zip(loggers, before, strict=True):
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(level)


def command(name: str, **settings: Any) -> Callable[[Callable[..., Any]], StridewatchCommand]:
    """``click.command`` for a command of the ``stridewatch`` group: a
    :class:`StridewatchCommand`, as ``cli.command`` would have made it."""
    return click.command(name, cls=StridewatchCommand, **settings)
