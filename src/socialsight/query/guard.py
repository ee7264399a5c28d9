"""The read-only gate: exactly one statement that only reads may run.

``check_read_only`` reads the SQL with a sqlglot reader (``socialsight.query.dialect``
gives each dialect's) and admits SELECT, WITH, VALUES, DESCRIBE, SHOW and EXPLAIN of
those, one statement only; anything else is a ForbiddenQueryError that names it. SQL
that does not parse is a SQLSyntaxError with a one-line message and the 1-based line
and column in the user's original text; ``parse`` and ``tokenize`` give those errors to
the translation as well.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from socialsight.errors import ForbiddenQueryError, SQLSyntaxError

# ---------------------------------------------------------------------------------------
# Positions and syntax errors
# ---------------------------------------------------------------------------------------


def line_col(sql: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of ``offset`` in ``sql``."""
    offset = max(0, min(offset, len(sql)))
    return sql.count("\n", 0, offset) + 1, offset - sql.rfind("\n", 0, offset)


_OPENERS = (("--", "\n"), ("/*", "*/"), ("'", "'"), ('"', '"'), ("`", "`"))


def _unterminated(sql: str) -> int:
    """Offset of the quote or comment that never closes (for TokenError), else the end."""
    i = 0
    while i < len(sql):
        opener = next(((o, c) for o, c in _OPENERS if sql.startswith(o, i)), None)
        if opener is None:
            i += 1
            continue
        close = sql.find(opener[1], i + len(opener[0]))
        if close < 0:
            return i if opener[0] != "--" else len(sql)
        i = close + len(opener[1])
    return len(sql)


def one_line(text: str) -> str:
    """An error message of sqlglot's on one line, without its terminal colours."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(text.split())


def _syntax_error(sql: str, error: Exception) -> SQLSyntaxError:
    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        line, col = line_col(sql, len(first.get("start_context") or ""))
        text = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", str(first.get("description")))
        near = first.get("highlight")
        return SQLSyntaxError(one_line(f"{text} near {near!r}" if near else text), line, col)
    line, col = line_col(sql, _unterminated(sql))
    return SQLSyntaxError("unterminated string, quoted identifier or comment", line, col)


def parse(sql: str, reader: Dialect) -> exp.Expr:
    """``sql`` parsed with ``reader``; a SQLSyntaxError says where it does not parse."""
    try:
        tree = sqlglot.parse_one(sql, read=reader, error_message_context=len(sql) + 1)
    except (ParseError, TokenError) as error:
        raise _syntax_error(sql, error) from None
    return tree


def tokenize(sql: str, reader: Dialect) -> list[Token]:
    """``sql``'s tokens as ``reader`` reads them; a SQLSyntaxError for an unclosed quote."""
    try:
        return reader.tokenize(sql)
    except TokenError as error:
        raise _syntax_error(sql, error) from None


# ---------------------------------------------------------------------------------------
# Read-only gate
# ---------------------------------------------------------------------------------------

QUERY_STARTS = frozenset({"SELECT", "WITH", "VALUES", "(", "FROM", "TABLE"})
META_STARTS = frozenset({"DESCRIBE", "DESC", "SHOW", "SUMMARIZE"})
_EXPLAIN_WORDS = frozenset({"EXPLAIN", "ANALYZE", "ANALYSE", "VERBOSE"})

_WRITES: tuple[type[exp.Expr], ...] = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter,
    exp.Command, exp.Into, exp.Copy, exp.Set, exp.Pragma, exp.TruncateTable, exp.Use,
)
_WRITE_WORDS = frozenset({
    "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "COPY", "ATTACH",
    "DETACH", "INSTALL", "LOAD", "SET", "RESET", "PRAGMA", "CALL", "EXPORT", "IMPORT",
    "TRUNCATE", "INTO", "CHECKPOINT", "VACUUM", "USE", "GRANT", "REVOKE",
})

_ALLOWED = "only one read-only statement (SELECT, WITH, VALUES, DESCRIBE, SHOW, EXPLAIN) may run"


def _refuse(kind: str) -> ForbiddenQueryError:
    return ForbiddenQueryError(f"{kind} is not allowed: {_ALLOWED}")


def _statements(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(tok)
    return [s for s in statements if s]


def explained(sql: str, tokens: list[Token], reader: Dialect) -> list[Token]:
    """The tokens after ``EXPLAIN [ANALYZE] [VERBOSE] [(options)]``, offsets kept.

    sqlglot reads the text after a command keyword as one string, so the rest is blanked
    out of the original and tokenized again.
    """
    rest = tokens
    while rest and rest[0].text.upper() in _EXPLAIN_WORDS:
        blanked = re.sub(r"[^\n]", " ", sql[: rest[0].end + 1]) + sql[rest[0].end + 1 :]
        rest = [t for t in tokenize(blanked, reader) if t.token_type != TokenType.SEMICOLON]
    options = len(rest) > 1 and rest[0].token_type == TokenType.L_PAREN
    if options and rest[1].text.upper() not in QUERY_STARTS:
        close = next((i for i, t in enumerate(rest) if t.token_type == TokenType.R_PAREN), -2)
        rest = rest[close + 1 :]
    return rest


def blank(sql: str, tokens: list[Token]) -> str:
    """Only the text of ``tokens``; the rest blanked so offsets and lines stay the same."""
    start, end = tokens[0].start, tokens[-1].end + 1
    return re.sub(r"[^\n]", " ", sql[:start]) + sql[start:end]


def _check_query(sql: str, tokens: list[Token], reader: Dialect) -> None:
    try:
        tree = parse(blank(sql, tokens), reader)
    except SQLSyntaxError:
        if not isinstance(reader, DuckDB):
            raise
        # sqlglot does not know every DuckDB statement: fall back to a keyword scan.
        word = next((t.text.upper() for t in tokens if t.text.upper() in _WRITE_WORDS), None)
        if word:
            raise _refuse(word) from None
        return
    if not isinstance(tree, exp.Query | exp.Values):
        raise _refuse(tree.key.upper())
    write = tree.find(*_WRITES)
    if write is not None:
        raise _refuse(write.key.upper())


def _check_statement(sql: str, tokens: list[Token], reader: Dialect) -> None:
    first = tokens[0].text.upper()
    if first == "EXPLAIN":
        rest = explained(sql, tokens, reader)
        if not rest:
            raise _refuse("EXPLAIN without a statement")
        _check_statement(sql, rest, reader)
    elif first in QUERY_STARTS:
        _check_query(sql, tokens, reader)
    elif first not in META_STARTS:
        raise _refuse(first)


def check_read_only(sql: str, reader: Dialect) -> None:
    """Raise ForbiddenQueryError unless ``sql`` is exactly one statement that only reads."""
    statements = _statements(tokenize(sql, reader))
    if not statements:
        raise ForbiddenQueryError(f"no statement found: {_ALLOWED}")
    if len(statements) > 1:
        kinds = ", ".join(s[0].text.upper() for s in statements)
        raise ForbiddenQueryError(f"{len(statements)} statements ({kinds}): {_ALLOWED}")
    _check_statement(sql, statements[0], reader)
