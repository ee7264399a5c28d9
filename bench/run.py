"""Import and query benchmarks: the lake against the seed's layout (raw JSON lines).

    python -m bench.run --posts 1000000 [--photo-share 0.05] [--repeat 5] [--direct]

1. generates the synthetic corpus (bench/corpus.py) unless it is already there;
2. imports posts.jsonl with `socialsight import`'s code path, timing posts/s;
3. commits the matching media_rekognition rows to the lake;
4. runs every seed query on the lake (DuckDB over Parquet) and, as the peer, on the
   same data as JSON lines read by DuckDB (the seed's Athena layout), in one run;
5. prints a Markdown table of medians and ratios (paste it into BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.corpus import write_corpus
from socialsight.config import QuerySettings
from socialsight.ingest import import_files
from socialsight.lake.schema import PARTITION, TABLES
from socialsight.lake.store import Lake
from socialsight.query import dialect as dialects
from socialsight.query.engine import Engine, catalog, create_seed_views, prepare, seed_queries

TWITTER_EPOCH_MS = 1_288_834_974_657


def _duckdb_types(schema: pa.Schema) -> dict[str, str]:
    con = duckdb.connect()
    con.register("e", schema.empty_table())
    return {name: typ for name, typ, *_ in con.execute("DESCRIBE e").fetchall()}


def json_connection(data: Path) -> duckdb.DuckDBPyConnection:
    """The seed's layout: raw JSON lines, read by DuckDB with the tables' declared types."""
    con = duckdb.connect()
    prepare(con, "athena")
    for name, path in (("tweets", data / "posts.jsonl"),
                       ("media_rekognition", data / "media_rekognition.jsonl")):
        types = {k: v for k, v in _duckdb_types(TABLES[name]).items() if k != "raw_json"}
        cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_json('{path}', "
                    f"format = 'newline_delimited', columns = {cols})")
    for name in ("tweet_sentiments", "tweet_entities", "errors"):
        con.register(f"__{name}", TABLES[name].empty_table())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM __{name}")
    create_seed_views(con)
    return con


def _median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def build(data: Path, posts: int, photo_share: float) -> tuple[Lake, float]:
    if not (data / "posts.jsonl").exists():
        stats = write_corpus(data, posts, photo_share=photo_share)
        print(f"corpus: {posts:,} posts, {int(stats['rows']):,} photos in {stats['seconds']:.0f}s")
    lake_dir = data / "lake"
    lake = Lake(str(lake_dir))
    import_rate = float("nan")
    if not lake.has_data("tweets"):
        t0 = time.perf_counter()
        summary = import_files(lake, [str(data / "posts.jsonl")])
        elapsed = time.perf_counter() - t0
        import_rate = summary.written / elapsed
        print(f"import: {summary.written:,} posts in {elapsed:.1f}s = {import_rate:,.0f} posts/s")
        media = pq.read_table(data / "media_rekognition.parquet")
        ms = pc.add(pc.shift_right(media["tweetid"], 22), TWITTER_EPOCH_MS)
        dt = pc.strftime(pc.cast(ms, pa.timestamp("ms", tz="UTC")), "%Y-%m-%d")
        lake.commit({"media_rekognition": media.append_column(PARTITION, dt)})
        duckdb.sql(f"COPY (SELECT * FROM read_parquet('{data / 'media_rekognition.parquet'}')) "
                   f"TO '{data / 'media_rekognition.jsonl'}' (FORMAT json)")
    return lake, import_rate


def _load(path: Path) -> dict[str, float]:
    return json.loads(path.read_text()) if path.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--photo-share", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--side", choices=("both", "lake", "json"), default="both",
                        help="measure the lake, the JSON-lines peer, or both (results are "
                        "kept in bench/out, so the two can run at different times)")
    parser.add_argument("--direct", action="store_true",
                        help="read the lake's files directly (query.read_only_files = false) "
                        "instead of through the write-refusing file system")
    args = parser.parse_args()
    data = args.data / f"{args.posts}"
    lake, import_rate = build(data, args.posts, args.photo_share)
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    engine = Engine(lake, timeout_seconds=3600,
                    limits=QuerySettings(read_only_files=not args.direct))
    peer_runs = max(1, args.repeat // 2)
    if args.side in ("both", "lake"):
        ours = {name: _median_seconds(lambda s=sql: engine.execute(s), args.repeat)
                for name, sql in seed_queries().items()}
        (out / f"{args.posts}-lake.json").write_text(json.dumps(ours))
    if args.side in ("both", "json"):
        peer = json_connection(data)
        schema = catalog(peer)
        theirs = {}
        for name, sql in seed_queries().items():
            translated = dialects.translate(sql, "athena", schema)
            theirs[name] = _median_seconds(lambda t=translated: peer.sql(t).fetchall(), peer_runs)
            print(f"peer {name}: {theirs[name]:.1f} s", flush=True)
        (out / f"{args.posts}-json.json").write_text(json.dumps(theirs))
    ours, theirs = _load(out / f"{args.posts}-lake.json"), _load(out / f"{args.posts}-json.json")
    n_photos = engine.execute("SELECT count(*) n FROM media_rekognition").table[0][0].as_py()
    cpu = platform.processor() or platform.machine()
    print(f"\n{args.posts:,} posts, {n_photos:,} photos; {cpu}, "
          f"{os.cpu_count()} cores; medians of {args.repeat} runs (JSON peer: {peer_runs})\n")
    print("| seed query | lake (Parquet) | peer: JSON lines | speed-up | target |")
    print("|---|---:|---:|---:|---|")
    for name in seed_queries():
        lake_s, json_s = ours.get(name, float("nan")), theirs.get(name, float("nan"))
        print(f"| {name} | {lake_s * 1000:,.0f} ms | {json_s * 1000:,.0f} ms | "
              f"{json_s / lake_s:,.1f}× | ≤ 1 s, ≥ 20× |")
    if import_rate == import_rate:
        print(f"\nimport: {import_rate:,.0f} posts/s (target ≥ 50,000)")


if __name__ == "__main__":
    main()
