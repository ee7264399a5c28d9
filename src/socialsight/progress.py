"""How long work says how far it got: one small protocol, :class:`Progress`.

``import``, ``enrich``, ``retry`` and ``people rematch`` (and ``people remove``, which
rematches) take a ``progress`` argument and report through it, whoever is listening:
the CLI's bars, a notebook, a test. Each kind of work is started once with its total
(``None`` where it is not known, as for stdin; ``0`` where there is nothing to do),
then advanced as it goes::

    progress.start("photos", 1_200)
    progress.advance("photos", 50)

A kind may be advanced without being started (its total unknown); a listener ignores
the kinds it does not show. :data:`NO_PROGRESS`, which does nothing, is the default
everywhere, so the Python API passes nothing.

``socialsight run``'s live line is not progress: it is a snapshot of an open-ended
collection (posts per second, duplicates, the last error) with no total to count
towards, so :mod:`socialsight.pipeline` keeps its ``on_tick(Status)``.
"""

from __future__ import annotations

from typing import Literal, Protocol

Kind = Literal["bytes", "posts", "photos", "files"]
"""What is counted: bytes of input read, posts or photos analysed, lake files rematched."""


class Progress(Protocol):
    """Receives how far long work got; see the module's docstring."""

    def start(self, kind: Kind, total: int | None) -> None:
        """``kind`` of work begins; ``total`` units of it (None: not known)."""

    def advance(self, kind: Kind, n: int = 1) -> None:
        """``n`` more units of ``kind`` are done."""


class _NoProgress:
    """Listens to nothing."""

    def start(self, kind: Kind, total: int | None) -> None:
        pass

    def advance(self, kind: Kind, n: int = 1) -> None:
        pass


NO_PROGRESS: Progress = _NoProgress()
"""The default everywhere: progress that nobody watches."""
