"""Dashboard benchmark: each page's JSON on a big lake, beside the seed query it resembles.

    python -m bench.dashboard [--lake bench/data/10000000/lake] [--repeat 3]

The lake is the one `python -m bench.run` builds (synthetic posts and analyses). Each
endpoint is called in process (FastAPI's TestClient, no network): the first call
(cold: Parquet footers not yet cached) and the median of the next ``--repeat``. The
peer is the seed query closest to what the page shows, run on the same engine in the
same run: a page runs several such queries, so it should cost a small multiple of it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from socialsight.config import load_settings
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries

# (endpoint, the seed query it resembles)
PAGES = (
    ("/api/overview", "top_domains"),
    ("/api/buzz", "top_domains"),
    ("/api/labels", "top_labels"),
    ("/api/labels/Person", "top_labels"),
    ("/api/faces", "top_emotions"),
    ("/api/suspect", "suspect_content"),
    ("/api/people", "top_celebrities"),
    ("/api/sentiment", "sentiment_over_time"),
)
TARGET_SECONDS = 2.0


def _timed(call: object) -> float:
    t0 = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lake", type=Path, default=Path("bench/data/10000000/lake"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--filter", default="", help="a query string added to every call")
    args = parser.parse_args()
    lake = Lake(str(args.lake))
    settings = load_settings(lake=lake.url)
    settings.serve.sql_timeout_seconds = 600
    client = TestClient(create_app(lake, settings), base_url="http://localhost")
    engine = Engine(lake, timeout_seconds=600)
    queries = seed_queries()
    posts = engine.rows("SELECT count(*) AS n FROM tweets")[0]["n"]
    print(f"lake {lake.url}: {posts:,} posts; target ≤ {TARGET_SECONDS:g} s a page (warm)\n")
    side = client.app.state.lakeside  # type: ignore[attr-defined]
    print("| page | cold | new filter (median) | same page again | peer: seed query "
          "| peer time | new filter / peer |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for path, peer in PAGES:
        url = path + (f"?{args.filter}" if args.filter else "")

        def call(url: str = url) -> None:
            answer = client.get(url)
            if answer.status_code != 200:
                raise SystemExit(f"{url}: {answer.status_code} {answer.text[:300]}")

        def uncached(call: object = call) -> None:
            side._cache.clear()
            call()  # type: ignore[operator]

        cold = _timed(uncached)
        warm = statistics.median(_timed(uncached) for _ in range(args.repeat))
        again = statistics.median(_timed(call) for _ in range(args.repeat))
        engine.execute(queries[peer])
        peer_time = statistics.median(
            _timed(lambda p=peer: engine.execute(queries[p])) for _ in range(args.repeat))
        print(f"| `{url}` | {cold * 1000:,.0f} ms | {warm * 1000:,.0f} ms | "
              f"{again * 1000:,.1f} ms | {peer} | {peer_time * 1000:,.0f} ms | "
              f"{warm / peer_time:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
