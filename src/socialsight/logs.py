"""Logging for the ``socialsight`` command: configured once, through Rich, on stderr.

Every module logs to ``logging.getLogger(__name__)``, under the ``socialsight``
logger. The library itself (and so the Python API in a notebook) configures
nothing; the command calls :func:`configure` once, before any subcommand runs, so
that warnings are printed by the same Rich console as the progress bars (a
message printed while a bar is live goes above it, instead of tearing it) and
``--log-level info`` shows what is otherwise silent (X's pacing, Ray actors, models
loaded).
"""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

from socialsight.errors import ConfigError

LEVELS = ("debug", "info", "warning", "error", "critical")
ROOT = "socialsight"


def parse_level(name: str) -> int:
    """A level's name (any case) as logging's number; ConfigError for anything else."""
    key = name.strip().lower()
    if key not in LEVELS:
        raise ConfigError(f"no log level {name!r}: choose one of {', '.join(LEVELS)}")
    return int(logging.getLevelName(key.upper()))


class _Handler(RichHandler):
    """socialsight's own handler, so configuring again replaces it instead of adding one."""


def configure(level: str, console: Console) -> None:
    """Send the ``socialsight`` loggers at ``level`` and above to ``console`` via Rich.

    Idempotent: calling it again (the command run twice in one process, as tests do)
    replaces the handler, so each message is printed once.
    """
    number = parse_level(level)
    logger = logging.getLogger(ROOT)
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    handler = _Handler(console=console, level=number, show_time=False, show_path=False,
                       markup=False, rich_tracebacks=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(number)
