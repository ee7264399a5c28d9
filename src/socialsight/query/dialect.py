"""Translate Athena / Presto / Trino SQL into SQL that DuckDB runs with Presto's semantics.

Approach
--------
The SQL is parsed by sqlglot and written back for DuckDB.  sqlglot already maps most
Presto functions correctly; where its mapping is missing or differs from Presto at run
time, the difference is recorded as DATA, never as an if-chain:

* ``FUNCTIONS`` maps a Presto function name to a builder that receives the call's
  argument expressions and returns the DuckDB expression.  The reader dialect drops
  these names from sqlglot's own parser table, so every such call parses as a plain
  ``exp.Anonymous`` with its original arguments; one post-order AST pass
  (``_rewrite_functions``) then replaces each one by its builder's result.
* ``MACROS`` are ``CREATE OR REPLACE MACRO`` statements that the engine runs once per
  connection: the ``url_extract_*`` family (DuckDB has none built in) and a few
  ``presto_*`` helpers whose Presto semantics (NULL handling, order, slice lengths) need
  their argument more than once.
* ``SESSION_SETTINGS`` are the ``SET`` statements each dialect's connection needs,
  e.g. ``integer_division`` so that ``7 / 2`` is ``3`` as in Presto.
* ``UNNEST`` with several arrays (Presto zips them) becomes a lateral sub-query.

``check_read_only`` admits exactly one statement that only reads (the gate is
``guard.py``); ``translate`` calls it first.  Syntax errors become ``SQLSyntaxError``
with a one-line message and the 1-based line and column in the user's original text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, TokenError, UnsupportedError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.tokens import Token, TokenType

from socialsight.errors import QueryError, SQLSyntaxError
from socialsight.query import guard

Schema = Mapping[str, Collection[str]]  # relation name → its column names

__all__ = [
    "DIALECTS",
    "FUNCTIONS",
    "MACROS",
    "SESSION_SETTINGS",
    "check_read_only",
    "locate",
    "translate",
]

Builder = Callable[[list[exp.Expr]], exp.Expr]

DIALECTS: tuple[str, ...] = ("athena", "presto", "trino", "duckdb")

_PRESTO_SETTINGS: dict[str, object] = {"integer_division": True, "TimeZone": "UTC"}

SESSION_SETTINGS: dict[str, dict[str, object]] = {
    "athena": dict(_PRESTO_SETTINGS),
    "presto": dict(_PRESTO_SETTINGS),
    "trino": dict(_PRESTO_SETTINGS),
    "duckdb": {"TimeZone": "UTC"},
}

# RFC 3986, appendix B: 1 scheme, 2 authority, 3 path, 4 query, 5 fragment.
_URL_RE = r"^(?:([a-zA-Z][a-zA-Z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
_URL_OK = r"NOT regexp_matches(u, '\s')"


def _url_part(group: int) -> str:
    return f"regexp_extract(u, '{_URL_RE}', {group})"


MACROS: tuple[str, ...] = (
    # -- the url_extract_* family (java.net.URI semantics: NULL when not a URL) --
    # The authority with a one-group anchored pattern (what _URL_RE's group 2 gives
    # once the scheme and // are known to be there): RE2 runs it several times faster.
    "CREATE OR REPLACE MACRO presto_url_authority(u) AS "
    f"CASE WHEN {_URL_OK} AND regexp_matches(u, '^([a-zA-Z][a-zA-Z0-9+.\\-]*:)?//') "
    "THEN regexp_extract(u, '^(?:[a-zA-Z][a-zA-Z0-9+.\\-]*:)?//([^/?#]*)', 1) END",
    "CREATE OR REPLACE MACRO url_extract_host(u) AS nullif(regexp_extract("
    "presto_url_authority(u), '^(?:[^@]*@)?(\\[[^\\]]*\\]|[^:]*)', 1), '')",
    "CREATE OR REPLACE MACRO url_extract_port(u) AS TRY_CAST(nullif(regexp_extract("
    "presto_url_authority(u), ':([0-9]+)$', 1), '') AS BIGINT)",
    "CREATE OR REPLACE MACRO url_extract_protocol(u) AS "
    f"CASE WHEN {_URL_OK} THEN nullif({_url_part(1)}, '') END",
    "CREATE OR REPLACE MACRO url_extract_path(u) AS "
    f"CASE WHEN {_URL_OK} THEN url_decode({_url_part(3)}) END",
    "CREATE OR REPLACE MACRO presto_url_raw_query(u) AS "
    f"CASE WHEN {_URL_OK} AND regexp_matches(u, '^[^#]*\\?') THEN {_url_part(4)} END",
    "CREATE OR REPLACE MACRO url_extract_query(u) AS url_decode(presto_url_raw_query(u))",
    "CREATE OR REPLACE MACRO url_extract_fragment(u) AS "
    f"CASE WHEN {_URL_OK} AND contains(u, '#') THEN url_decode({_url_part(5)}) END",
    "CREATE OR REPLACE MACRO url_extract_parameter(u, name) AS list_transform("
    "list_filter(string_split(presto_url_raw_query(u), '&'), "
    "LAMBDA p : url_decode(split_part(p, '=', 1)) = name), "
    "LAMBDA p : url_decode(CASE WHEN contains(p, '=') THEN substr(p, strpos(p, '=') + 1) "
    "ELSE '' END))[1]",
    # -- helpers whose Presto semantics DuckDB's built-ins do not have --
    "CREATE OR REPLACE MACRO presto_regexp_extract(s, p, g) AS "
    "CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END",
    "CREATE OR REPLACE MACRO presto_json_extract_scalar(j, p) AS TRY(CASE WHEN "
    "json_type(CAST(j AS JSON), p) IN ('OBJECT', 'ARRAY') THEN NULL "
    "ELSE json_extract_string(CAST(j AS JSON), p) END)",
    "CREATE OR REPLACE MACRO presto_array_distinct(a) AS "
    "list_filter(a, LAMBDA presto_x, presto_i : list_position(a, presto_x) = presto_i)",
    "CREATE OR REPLACE MACRO presto_array_max(a) AS "
    "CASE WHEN list_count(a) = len(a) THEN list_max(a) END",
    "CREATE OR REPLACE MACRO presto_array_min(a) AS "
    "CASE WHEN list_count(a) = len(a) THEN list_min(a) END",
    "CREATE OR REPLACE MACRO presto_any_match(b) AS CASE WHEN list_bool_or(b) THEN TRUE "
    "WHEN list_count(b) < len(b) THEN NULL ELSE FALSE END",
    "CREATE OR REPLACE MACRO presto_all_match(b) AS CASE WHEN NOT list_bool_and(b) THEN FALSE "
    "WHEN list_count(b) < len(b) THEN NULL ELSE TRUE END",
    "CREATE OR REPLACE MACRO presto_slice(a, s, n) AS CASE "
    "WHEN s > 0 THEN a[s : s + n - 1] "
    "WHEN -s <= len(a) THEN a[len(a) + s + 1 : len(a) + s + n] ELSE a[1:0] END",
    "CREATE OR REPLACE MACRO presto_split(s, d, n) AS CASE "
    "WHEN len(string_split(s, d)) <= n THEN string_split(s, d) "
    "ELSE list_append(string_split(s, d)[1 : n - 1], "
    "array_to_string(string_split(s, d)[n:], d)) END",
)


# ---------------------------------------------------------------------------------------
# Function builders
# ---------------------------------------------------------------------------------------


def _call(name: str) -> Builder:
    """A builder that calls DuckDB function or macro ``name`` with the same arguments."""

    def build(args: list[exp.Expr]) -> exp.Expr:
        return exp.Anonymous(this=name, expressions=args)

    return build


def _with_default(name: str, default: exp.Expr, arity: int) -> Builder:
    """Like ``_call`` but appends ``default`` when the call has fewer than ``arity`` args."""

    def build(args: list[exp.Expr]) -> exp.Expr:
        padded = args if len(args) >= arity else [*args, default.copy()]
        return exp.Anonymous(this=name, expressions=padded)

    return build


def _over_transform(name: str) -> Builder:
    """``f(array, lambda)`` -> ``name(list_transform(array, lambda))`` (any/all_match)."""

    def build(args: list[exp.Expr]) -> exp.Expr:
        mapped = exp.Anonymous(this="list_transform", expressions=args)
        return exp.Anonymous(this=name, expressions=[mapped])

    return build


def _is_identity(fn: exp.Expr) -> bool:
    params = fn.expressions if isinstance(fn, exp.Lambda) else []
    body = fn.this if isinstance(fn, exp.Lambda) else None
    return (
        len(params) == 1
        and isinstance(body, exp.Identifier | exp.Column)
        and not body.args.get("table")
        and body.name.lower() == params[0].name.lower()
    )


def _reduce(args: list[exp.Expr]) -> exp.Expr:
    """``reduce(a, init, (s, x) -> .., s -> finish)`` -> ``list_reduce(a, merge, init)``."""
    array, initial, merge, *rest = args
    reduced = exp.Anonymous(this="list_reduce", expressions=[array, merge, initial])
    if not rest or _is_identity(rest[0]):
        return reduced
    boxed = exp.Array(expressions=[reduced])
    wrapped = exp.Anonymous(this="list_transform", expressions=[boxed, rest[0]])
    return exp.Bracket(this=wrapped, expressions=[exp.Literal.number(1)], offset=1)


def _split(args: list[exp.Expr]) -> exp.Expr:
    return exp.Anonymous(this="presto_split" if len(args) > 2 else "string_split", expressions=args)


def _java_to_re2_replacement(replacement: exp.Expr) -> exp.Expr:
    """Presto writes group references as ``$1``; RE2 as ``\\1``."""
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        return exp.Literal.string(re.sub(r"\$(\d)", r"\\\1", replacement.this))
    pattern, target = exp.Literal.string(r"\$(\d)"), exp.Literal.string(r"\\\1")
    flags = exp.Literal.string("g")
    return exp.Anonymous(
        this="regexp_replace", expressions=[replacement, pattern, target, flags]
    )


def _regexp_replace(args: list[exp.Expr]) -> exp.Expr:
    subject, pattern, *rest = args
    replacement = _java_to_re2_replacement(rest[0]) if rest else exp.Literal.string("")
    flags = exp.Literal.string("g")
    return exp.Anonymous(this="regexp_replace", expressions=[subject, pattern, replacement, flags])


def _is_date(node: exp.Expr) -> bool:
    """True when sqlglot can tell, without a schema, that ``node`` is a DATE."""
    typed = annotate_types(node.copy(), dialect="duckdb")
    return typed.type is not None and typed.type.this == exp.DataType.Type.DATE


_DATE_UNITS = frozenset({"day", "week", "month", "quarter", "year"})


def _unit(node: exp.Expr) -> str | None:
    return node.this.lower() if isinstance(node, exp.Literal) and node.is_string else None


def _keep_date(result: exp.Expr, unit: str | None, arg: exp.Expr) -> exp.Expr:
    """Presto keeps DATE in, DATE out; DuckDB widens to TIMESTAMP."""
    if unit in _DATE_UNITS and _is_date(arg):
        return exp.cast(result, exp.DataType.build("DATE"))
    return result


def _date_add(args: list[exp.Expr]) -> exp.Expr:
    unit_arg, amount, value = args
    unit = _unit(unit_arg)
    if unit is None:
        text = exp.DPipe(this=exp.DPipe(this=amount, expression=exp.Literal.string(" ")),
                         expression=unit_arg)
        interval: exp.Expr = exp.cast(text, exp.DataType.build("INTERVAL"))
    else:
        interval = exp.Interval(this=exp.Paren(this=amount), unit=exp.var(unit.upper()))
    return _keep_date(exp.Paren(this=exp.Add(this=value, expression=interval)), unit, value)


def _date_trunc(args: list[exp.Expr]) -> exp.Expr:
    unit_arg, value = args
    trunc = exp.Anonymous(this="date_trunc", expressions=[unit_arg, value])
    return _keep_date(trunc, _unit(unit_arg), value)


def _date_diff(args: list[exp.Expr]) -> exp.Expr:
    """Presto counts whole units elapsed: DuckDB's ``date_sub``, not ``date_diff``."""
    return exp.Anonymous(this="date_sub", expressions=args)


FUNCTIONS: dict[str, Builder] = {
    "URL_EXTRACT_HOST": _call("url_extract_host"),
    "URL_EXTRACT_PATH": _call("url_extract_path"),
    "URL_EXTRACT_PORT": _call("url_extract_port"),
    "URL_EXTRACT_PROTOCOL": _call("url_extract_protocol"),
    "URL_EXTRACT_QUERY": _call("url_extract_query"),
    "URL_EXTRACT_FRAGMENT": _call("url_extract_fragment"),
    "URL_EXTRACT_PARAMETER": _call("url_extract_parameter"),
    "REDUCE": _reduce,
    "CARDINALITY": _call("cardinality"),
    "REGEXP_EXTRACT": _with_default("presto_regexp_extract", exp.Literal.number(0), 3),
    "REGEXP_REPLACE": _regexp_replace,
    "JSON_EXTRACT_SCALAR": _call("presto_json_extract_scalar"),
    "ARRAY_DISTINCT": _call("presto_array_distinct"),
    "ARRAY_MAX": _call("presto_array_max"),
    "ARRAY_MIN": _call("presto_array_min"),
    "ANY_MATCH": _over_transform("presto_any_match"),
    "ALL_MATCH": _over_transform("presto_all_match"),
    "NONE_MATCH": lambda args: exp.Not(this=_over_transform("presto_any_match")(args)),
    "SLICE": _call("presto_slice"),
    "SPLIT": _split,
    "DATE_ADD": _date_add,
    "DATE_DIFF": _date_diff,
    "DATE_TRUNC": _date_trunc,
}


# ---------------------------------------------------------------------------------------
# Reader dialects: sqlglot's own, minus the names FUNCTIONS handles
# ---------------------------------------------------------------------------------------


def _reader(base: type[Dialect]) -> Dialect:
    """``base`` whose parser leaves every name in FUNCTIONS as ``exp.Anonymous``."""
    parser = base.parser_class
    table = {k: v for k, v in parser.FUNCTIONS.items() if k not in FUNCTIONS}
    parser_cls = type("Parser", (parser,), {"FUNCTIONS": table})
    dialect_cls = type(f"Socialsight{base.__name__}", (base,), {"Parser": parser_cls})
    return dialect_cls()


def _base(name: str) -> type[Dialect]:
    # Athena parses DDL with Hive and everything else with Trino; only reads get here.
    return type(Dialect.get_or_raise("trino" if name == "athena" else name))


_READERS: dict[str, Dialect] = {
    name: _reader(_base(name)) for name in ("athena", "presto", "trino")
}
_READERS["duckdb"] = Dialect.get_or_raise("duckdb")


def _dialect(name: str) -> Dialect:
    key = name.lower()
    if key not in _READERS:
        raise QueryError(f"unknown SQL dialect {name!r}; expected one of {', '.join(DIALECTS)}")
    return _READERS[key]


# ---------------------------------------------------------------------------------------
# Parsing (positions, syntax errors and the read-only gate are in guard.py)
# ---------------------------------------------------------------------------------------


def _parse(sql: str, dialect: str) -> exp.Expr:
    return guard.parse(sql, _dialect(dialect))


def _tokens(sql: str, dialect: str) -> list[Token]:
    return guard.tokenize(sql, _dialect(dialect))


def check_read_only(sql: str, dialect: str = "athena") -> None:
    """Raise ForbiddenQueryError unless ``sql`` is exactly one statement that only reads
    (:func:`socialsight.query.guard.check_read_only`, read with ``dialect``)."""
    guard.check_read_only(sql, _dialect(dialect))


def locate(sql: str, token: str) -> tuple[int, int] | None:
    """1-based (line, col) of the first identifier ``token`` in ``sql`` (quoted or not)."""
    wanted = token.strip().strip('"').split(".")[-1].strip('"').lower()
    if not wanted:
        return None
    try:
        tokens = _READERS["trino"].tokenize(sql)
    except TokenError:
        tokens = []
    for tok in tokens:
        if tok.token_type != TokenType.STRING and tok.text.lower() == wanted:
            return guard.line_col(sql, tok.start)
    match = re.search(rf"(?<![\w$]){re.escape(wanted)}(?![\w$])", sql, re.IGNORECASE)
    return guard.line_col(sql, match.start()) if match else None


# ---------------------------------------------------------------------------------------
# Translation
# ---------------------------------------------------------------------------------------

# Athena's metadata statements that DuckDB spells differently: (pattern, replacement).
_META_REWRITES: tuple[tuple[str, str], ...] = (
    (r"SHOW\s+TABLES\s+(?:IN|FROM)\s+(\S+)", r"SHOW TABLES FROM \1"),
    (r"SHOW\s+COLUMNS\s+(?:IN|FROM)\s+(\S+)", r"DESCRIBE \1"),
    (r"SHOW\s+(?:DATABASES|SCHEMAS)", "SELECT schema_name AS database_name "
     "FROM information_schema.schemata ORDER BY 1"),
    (r"(?:DESCRIBE|DESC)\s+(\S+)", r"DESCRIBE \1"),
)


def _rewrite_meta(statement: str) -> str:
    for pattern, replacement in _META_REWRITES:
        match = re.fullmatch(pattern, statement, re.IGNORECASE)
        if match:
            return match.expand(replacement)
    return statement


def _build(builder: Builder, node: exp.Anonymous, sql: str) -> exp.Expr:
    try:
        return builder(list(node.expressions))
    except (ValueError, TypeError, IndexError):
        start = node.meta.get("start")
        line, col = (None, None) if start is None else guard.line_col(sql, start)
        raise SQLSyntaxError(f"wrong number of arguments to {node.name}", line, col) from None


def _rewrite_functions(tree: exp.Expr, sql: str) -> exp.Expr:
    """Replace every call named in FUNCTIONS by its builder's result, innermost first."""
    calls = [n for n in tree.dfs() if isinstance(n, exp.Anonymous)]
    for node in reversed(calls):
        builder = FUNCTIONS.get(node.name.upper())
        if builder is None:
            continue
        new = _build(builder, node, sql)
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def _unnest_columns(unnest: exp.Unnest) -> tuple[list[exp.Expr], list[str], str]:
    """A Presto UNNEST as DuckDB select-list columns: (expressions, their names, alias).

    Presto zips ``UNNEST(a, b) t (x, y)`` (padding with NULL) and numbers rows WITH
    ORDINALITY; several ``unnest`` calls in one DuckDB SELECT list do the same.
    """
    alias = unnest.args.get("alias")
    names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    arrays = [a.copy() for a in unnest.expressions]
    offset = unnest.args.get("offset")
    if offset:
        lengths = [exp.Anonymous(this="len", expressions=[a.copy()]) for a in arrays]
        longest = exp.Anonymous(this="greatest", expressions=lengths)
        upto = exp.Add(this=longest, expression=exp.Literal.number(1))
        arrays.append(exp.Anonymous(this="range", expressions=[exp.Literal.number(1), upto]))
        names.append(offset.name if isinstance(offset, exp.Identifier) else "ordinality")
    names += [f"_col{i}" for i in range(len(names), len(arrays))]
    columns: list[exp.Expr] = [exp.Anonymous(this="unnest", expressions=[a]) for a in arrays]
    table_alias = alias.this.name if isinstance(alias, exp.TableAlias) and alias.this else ""
    return columns, names, table_alias


def _zip_unnest(unnest: exp.Unnest) -> exp.Expr:
    """``UNNEST(...) t (x)`` as a lateral ``(SELECT unnest(...) AS x) t``."""
    columns, names, alias = _unnest_columns(unnest)
    select = exp.select(*[exp.alias_(c, n) for c, n in zip(columns, names, strict=True)])
    return exp.Subquery(this=select, alias=exp.TableAlias(
        this=exp.to_identifier(alias or "_unnest")))


def _is_cross_unnest(join: exp.Join) -> bool:
    return (isinstance(join.this, exp.Unnest) and not join.args.get("on")
            and not join.args.get("side") and join.args.get("kind") in (None, "", "CROSS"))


def _own_nodes(select: exp.Select) -> list[exp.Expr]:
    """The nodes of ``select`` outside its sub-queries (its own scope)."""
    out: list[exp.Expr] = []
    stack = [v for v in select.iter_expressions()]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Select | exp.Subquery | exp.Union):
            continue
        out.append(node)
        stack.extend(node.iter_expressions())
    return out


def _unqualify(select: exp.Select, aliases: set[str]) -> None:
    """``t.x`` → ``x`` for the UNNEST aliases that became columns of the source."""
    for node in _own_nodes(select):
        if isinstance(node, exp.Column):
            parts = node.parts
            if 1 < len(parts) <= 5 and parts[0].name in aliases:
                rest = [p.copy() for p in reversed(parts[1:])]
                node.replace(exp.Column(**dict(zip(("this", "table", "db", "catalog"), rest,
                                                   strict=False))))


def _unnest_owner(unnest: exp.Unnest, columns: dict[str, set[str] | None]) -> str | None:
    """The one FROM member (by alias) whose columns ``unnest`` reads; None if unsure."""
    if len(columns) == 1:
        return next(iter(columns))
    owners = set()
    for column in unnest.find_all(exp.Column):
        first = column.parts[0].name
        if len(column.parts) > 1 and first in columns:
            owners.add(first)
            continue
        having = [alias for alias, names in columns.items() if names is None or first in names]
        if len(having) != 1 or columns[having[0]] is None:
            return None
        owners.add(having[0])
    return owners.pop() if len(owners) == 1 else None


def _wrap_unnests(select: exp.Select, schema: Schema) -> None:
    """``FROM s, UNNEST(e) t (x)`` → ``FROM (SELECT *, unnest(e) AS x FROM s) AS s``.

    DuckDB plans a lateral UNNEST as a dependent join that first de-duplicates every
    column the UNNEST reads (a whole ``image_labels`` struct, say), and reads whole
    structs it could have pruned; in a SELECT list over its own table the same
    UNNEST streams. After inner joins, an UNNEST moves into the one joined table
    whose columns it reads (known from ``schema``); when that is unclear, or after
    an outer join, it keeps the lateral form, which is always correct.
    """
    source = select.args.get("from_")
    joins = select.args.get("joins") or []
    first = next((i for i in range(len(joins)) if all(
        _is_cross_unnest(j) for j in joins[i:])), len(joins))
    relational, unnests = joins[:first], joins[first:]
    if source is None or not unnests or any(
            j.args.get("side") or j.args.get("kind") not in (None, "", "CROSS", "INNER")
            for j in relational):
        return
    members = [source.this, *(j.this for j in relational)]
    if len(members) > 1 and not all(isinstance(m, exp.Table) for m in members):
        return
    if not isinstance(members[0], exp.Table | exp.Subquery):
        return
    nodes = {m.alias_or_name or "_source": m for m in members}
    columns: dict[str, set[str] | None] = {
        alias: set(schema[m.name]) if isinstance(m, exp.Table) and m.name in schema else None
        for alias, m in nodes.items()}
    moved, aliases = 0, set()
    for join in unnests:
        owner = _unnest_owner(join.this, columns)
        if owner is None:
            break
        exprs, names, table_alias = _unnest_columns(join.this)
        inner = exp.select(exp.Star(), *[exp.alias_(c, n) for c, n in
                                         zip(exprs, names, strict=True)]).from_(nodes[owner].copy())
        wrapped = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(owner)))
        nodes[owner].replace(wrapped)
        nodes[owner] = wrapped
        if columns[owner] is not None:
            columns[owner] = columns[owner] | set(names)  # type: ignore[operator]
        aliases.add(table_alias)
        moved += 1
    if moved:
        select.set("joins", relational + unnests[moved:] or None)
        _unqualify(select, aliases - {""} - set(nodes))


def _rewrite_unnests(tree: exp.Expr, schema: Schema) -> exp.Expr:
    """Presto UNNESTs in FROM and JOIN in the forms DuckDB runs fast.

    UNNESTs move into a SELECT list over the table whose columns they read (see
    ``_wrap_unnests``); any other becomes a lateral ``(SELECT unnest(...) AS x) t``,
    never a table-function UNNEST, which DuckDB plans as a dependent join that
    de-duplicates whole rows (30-100x slower).
    """
    for select in list(tree.find_all(exp.Select)):
        _wrap_unnests(select, schema)
    for unnest in list(tree.find_all(exp.Unnest)):
        if isinstance(unnest.parent, exp.From | exp.Join):
            unnest.replace(_zip_unnest(unnest))
    return tree


def _to_duckdb(tree: exp.Expr) -> str:
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE, comments=False)
    except UnsupportedError as error:
        raise QueryError(guard.one_line(f"cannot translate to DuckDB: {error}")) from None


def _strip(sql: str) -> str:
    return sql.strip().rstrip(";").strip()


def _first_word(sql: str, dialect: str) -> str:
    tokens = _tokens(sql, dialect)
    return tokens[0].text.upper() if tokens else ""


def _translate_query(sql: str, dialect: str, schema: Schema) -> str:
    tree = _parse(sql, dialect)
    tree = _rewrite_unnests(_rewrite_functions(tree, sql), schema)
    return _to_duckdb(tree)


def translate(sql: str, dialect: str = "athena", schema: Schema | None = None) -> str:
    """Translate one read-only Athena/Presto/Trino statement into DuckDB SQL.

    ``schema`` (relation name → its column names) lets an UNNEST that follows a join
    move next to the table it reads, DuckDB's fast form (see ``_wrap_unnests``).
    """
    schema = schema or {}
    dialect = dialect.lower()
    _dialect(dialect)
    check_read_only(sql, dialect)
    if dialect == "duckdb":
        return _strip(sql)
    word = _first_word(sql, dialect)
    if word in guard.META_STARTS:
        return _rewrite_meta(" ".join(_strip(sql).split()))
    if word == "EXPLAIN":
        return _translate_explain(sql, dialect, schema)
    return _translate_query(sql, dialect, schema)


def _translate_explain(sql: str, dialect: str, schema: Schema) -> str:
    tokens = _tokens(sql, dialect)
    rest = guard.explained(sql, tokens, _dialect(dialect))
    head = sql[: rest[0].start].upper()
    analyze = re.search(r"\bANALY[SZ]E\b", head) is not None
    inner = guard.blank(sql, rest)
    prefix = "EXPLAIN ANALYZE " if analyze else "EXPLAIN "
    if rest[0].text.upper() in guard.META_STARTS:
        return prefix + _rewrite_meta(" ".join(inner.split()))
    return prefix + _translate_query(inner, dialect, schema)
