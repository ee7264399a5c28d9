"""Athena (Presto) SQL as Spark SQL: sqlglot's translation plus the functions it leaves out.

sqlglot already writes most of Presto's functions for Spark (``reduce`` as
``aggregate``, ``element_at`` as ``try_element_at``, ``cardinality`` as ``size``,
``position`` as ``locate``, ``date_format`` patterns, ``UNNEST`` as ``LATERAL VIEW
explode``). What it leaves as an unknown call is translated here, as data:
``FUNCTIONS`` maps a Presto function name to a builder of the Spark expression.

* ``url_extract_*`` → ``try_parse_url(url, part)`` (Spark 4.0+; NULL when the text
  is not a URL, as in Presto); ``url_extract_port`` reads the port off the authority.

Known difference left as it is: Presto divides integers as integers, Spark's ``/``
gives a double (``from_unixtime(timestamp_ms / 1000)`` is the same second either way).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

from socialsight.errors import QueryError, SQLSyntaxError

Builder = Callable[[list[exp.Expr]], exp.Expr]


def _parse_url(part: str) -> Builder:
    """``f(url)`` → ``try_parse_url(url, 'PART')``; a second argument is the query key."""

    def build(args: list[exp.Expr]) -> exp.Expr:
        return exp.Anonymous(this="try_parse_url",
                             expressions=[args[0], exp.Literal.string(part), *args[1:2]])

    return build


def _url_port(args: list[exp.Expr]) -> exp.Expr:
    """The port of the authority (``host:port``), NULL when there is none."""
    authority = _parse_url("AUTHORITY")(args)
    port = exp.Anonymous(this="regexp_extract", expressions=[
        authority, exp.Literal.string(":([0-9]+)$"), exp.Literal.number(1)])
    empty = exp.Nullif(this=port, expression=exp.Literal.string(""))
    return exp.TryCast(this=empty, to=exp.DataType.build("BIGINT"))


FUNCTIONS: dict[str, Builder] = {
    "URL_EXTRACT_HOST": _parse_url("HOST"),
    "URL_EXTRACT_PATH": _parse_url("PATH"),
    "URL_EXTRACT_PROTOCOL": _parse_url("PROTOCOL"),
    "URL_EXTRACT_QUERY": _parse_url("QUERY"),
    "URL_EXTRACT_FRAGMENT": _parse_url("REF"),
    "URL_EXTRACT_PARAMETER": _parse_url("QUERY"),
    "URL_EXTRACT_PORT": _url_port,
}


def _rewrite_functions(tree: exp.Expr) -> exp.Expr:
    """Replace every call named in FUNCTIONS by its builder's result, innermost first."""
    calls = [n for n in tree.dfs() if isinstance(n, exp.Anonymous)]
    for node in reversed(calls):
        builder = FUNCTIONS.get(node.name.upper())
        if builder is None:
            continue
        try:
            new = builder(list(node.expressions))
        except IndexError:
            raise QueryError(f"wrong number of arguments to {node.name}") from None
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def to_spark(sql: str, prepare: Callable[[exp.Expr], exp.Expr] | None = None) -> str:
    """One Athena statement as Spark SQL; ``prepare`` may change the parsed tree first."""
    try:
        tree = sqlglot.parse_one(sql, read="athena")
    except (ParseError, TokenError) as exc:
        raise SQLSyntaxError(" ".join(str(exc).split())) from None
    if prepare is not None:
        tree = prepare(tree)
    tree = _rewrite_functions(tree)
    try:
        return tree.sql(dialect="spark", pretty=True, comments=False,
                        unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise QueryError(" ".join(f"cannot translate to Spark: {exc}".split())) from None
