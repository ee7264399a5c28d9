"""The one exception tree of socialsight.

::

    SocialsightError
    ├── TransientError          worth retrying: the same call may succeed later
    │   └── FetchError          a timeout, a dropped connection, a 5xx or a 429
    └── TerminalError           retrying the same input gives the same failure
        ├── ConfigError         a setting is missing or invalid
        ├── InputError          a record or file cannot be read
        │   └── UnknownFormatError   a record of a shape no adapter knows
        ├── MediaError          a photo that cannot be used (not an image, too big)
        │   └── RefusedURLError  a URL the fetch guard will not reach
        ├── LakeError           the lake cannot be read or written
        │   ├── NotFoundError   what was asked for (a photo, a post, a person) is not there
        │   └── LakeBusyError   another process holds the lake's writer lock
        └── QueryError          SQL that cannot run
            ├── SQLSyntaxError  SQL that does not parse (has line and column)
            └── ForbiddenQueryError  a statement that is not read-only

``socialsight retry`` fetches and analyses every failed photo again: a transient
failure may pass unchanged, a terminal one after a change of settings (say
``fetch.allow_hosts`` or ``fetch.max_bytes``).
"""

from __future__ import annotations


class SocialsightError(Exception):
    """Root of every error socialsight raises on purpose."""

    transient = False


class TransientError(SocialsightError):
    """A failure that may go away: a timeout, a 5xx, a rate limit."""

    transient = True


class FetchError(TransientError):
    """A photo download that failed in a way that may pass: timeout, 5xx, 429."""


class TerminalError(SocialsightError):
    """A failure that the same input will always produce."""


class ConfigError(TerminalError):
    """A setting is missing or invalid."""


class InputError(TerminalError):
    """A record or a file that cannot be read."""


class UnknownFormatError(InputError):
    """A record whose shape no adapter recognises."""


class MediaError(TerminalError):
    """A photo that cannot be used: not an image, too large, too many pixels, a 4xx."""


class RefusedURLError(MediaError):
    """A URL the fetch guard refuses: not http(s), or a non-public address."""


class LakeError(TerminalError):
    """The lake cannot be read or written."""


class NotFoundError(LakeError):
    """What was asked for (a photo, a post, a person) is not in the lake."""


class LakeBusyError(LakeError):
    """Another process holds the lake's writer lock: try again when it is done."""


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
