"""The one exception tree of socialsight.

::

    SocialsightError
    ├── TransientError          worth retrying: the same call may succeed later
    └── TerminalError           retrying the same input gives the same failure
        ├── ConfigError         a setting is missing or invalid
        ├── InputError          a record or file cannot be read
        │   └── UnknownFormatError   a record of a shape no adapter knows
        ├── LakeError           the lake cannot be read or written
        └── QueryError          SQL that cannot run
            ├── SQLSyntaxError  SQL that does not parse (has line and column)
            └── ForbiddenQueryError  a statement that is not read-only

``socialsight retry`` replays the error rows whose class is transient.
"""

from __future__ import annotations


class SocialsightError(Exception):
    """Root of every error socialsight raises on purpose."""

    transient = False


class TransientError(SocialsightError):
    """A failure that may go away: a timeout, a 5xx, a rate limit."""

    transient = True


class TerminalError(SocialsightError):
    """A failure that the same input will always produce."""


class ConfigError(TerminalError):
    """A setting is missing or invalid."""


class InputError(TerminalError):
    """A record or a file that cannot be read."""


class UnknownFormatError(InputError):
    """A record whose shape no adapter recognises."""


class LakeError(TerminalError):
    """The lake cannot be read or written."""


class QueryError(TerminalError):
    """SQL that cannot run."""


class SQLSyntaxError(QueryError):
    """SQL that does not parse; carries the 1-based line and column."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        self.line = line
        self.col = col
        where = f"line {line}, column {col}: " if line is not None else ""
        super().__init__(f"{where}{message}")


class ForbiddenQueryError(QueryError):
    """A statement that would change something: only reads are allowed."""
