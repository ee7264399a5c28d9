"""What the dashboard shows: one module per page family, each a function of (engine, filters).

Every function returns plain JSON-able data (ids as strings, since post ids pass
JavaScript's 2**53), so the same dict feeds the page's template and its JSON
endpoint. The SQL is DuckDB's, run on the query engine's sandbox (see
:meth:`socialsight.query.engine.Engine.rows`).
"""
