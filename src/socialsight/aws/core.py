"""What every AWS operation shares: its signature, its context and its errors.

An operation takes the request's JSON body (already parsed) and an :class:`AwsContext`,
and returns the response body as AWS shapes it. A request it cannot answer raises
:class:`AwsError` with the service's own exception name and HTTP status, which the
protocol layer (:mod:`socialsight.aws.protocol`) sends back in AWS's error shape::

    {"__type": "InvalidParameterException", "Message": "..."}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socialsight.config import Settings
from socialsight.lake.store import Lake


class AwsError(Exception):
    """An error AWS would return: ``code`` is its exception name (``__type``)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class AwsContext:
    """What an operation may use: the settings and the lake the server was started on."""

    settings: Settings
    lake: Lake


Operation = Callable[[dict[str, Any], AwsContext], dict[str, Any]]
