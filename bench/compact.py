"""Compaction benchmark: the seed's queries on a week of `socialsight run`, before and
after `socialsight compact`.

    python -m bench.compact [--batches 10000] [--posts 4] [--repeat 3] [--features-kib 0]

1. builds (once; kept under bench/data) a lake as `run` leaves it after a week: one
   commit a minute, each with a few posts (bench/corpus.py, made canonical by
   `socialsight import`'s code), their tweet_sentiments rows and their photos'
   media_rekognition rows, every tweets file marked done as enrich marks it; so about
   1,440 files per table and day (10,000 batches: ~7 days);
2. copies it twice and compacts one copy with `socialsight compact`, in a child
   process: its time and peak memory;
3. opens both copies (a new engine each: the table views made over every file), then
   runs each seed query on the one and then the other, so both sides share the
   machine's state: cold (an engine's first run of the query; the OS page cache warm)
   and warm (the median of ``--repeat`` more); the row counts must agree;
4. prints Markdown tables (paste them into BENCHMARKS.md).

``--features-kib N`` gives each photo N KiB of incompressible local features, as enrich
keeps them (about 140 KiB a photo): the memory compaction needs stays bounded.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from bench.corpus import DEFAULT_START_MS, generate_posts, rekognition_rows
from socialsight.config import QuerySettings
from socialsight.ingest import import_files
from socialsight.lake import state
from socialsight.lake.schema import MEDIA_REKOGNITION, PARTITION, TWEET_SENTIMENTS, partitioned
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries

MINUTE_MS = 60_000
TABLES = ("tweets", "tweet_sentiments", "media_rekognition")
SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
# The command, run as a child process that reports its own peak memory (VmHWM) on exit.
CHILD = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    print("VmHWM:", re.search(r"VmHWM:\\s+(\\d+)", status)[1], file=sys.stderr)
atexit.register(peak)
from socialsight.cli import main
main()
"""


def _corpus(folder: Path, batches: int, posts: int, photo_share: float,
            features: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The week's posts (as `import` makes them), sentiments and photos, each row with
    the minute (batch) it is committed in."""
    raw, media = [], []
    days = batches * MINUTE_MS / 86_400_000  # posts spread evenly over `batches` minutes
    for post in generate_posts(batches * posts, days=days, photo_share=photo_share):
        raw.append(post)
        media += rekognition_rows(post)
    jsonl = folder / "posts.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(p, option=orjson.OPT_APPEND_NEWLINE) for p in raw))
    scratch = Lake(str(folder / "scratch"))
    import_files(scratch, [str(jsonl)])
    parts = []
    for dt in scratch.partitions("tweets"):
        part = scratch.read("tweets", dt=dt)
        parts.append(part.append_column(PARTITION, pa.array([dt] * part.num_rows, pa.string())))
    tweets = pa.concat_tables(parts)
    ms = pc.cast(tweets.column("timestamp_ms"), pa.int64())
    tweets = tweets.append_column("minute", pc.divide(pc.subtract(ms, DEFAULT_START_MS),
                                                      MINUTE_MS))
    tweets = tweets.sort_by([("minute", "ascending"), ("id", "ascending")])
    shutil.rmtree(scratch.root)
    jsonl.unlink()
    when = {i: (d, m) for i, d, m in zip(tweets.column("id").to_pylist(),
                                        tweets.column(PARTITION).to_pylist(),
                                        tweets.column("minute").to_pylist(), strict=True)}
    rnd = random.Random(0)
    sentiments = pa.Table.from_pylist([
        {"tweetid": i, "text": t, "originaltext": t, "sentiment": rnd.choice(SENTIMENTS),
         "sentimentposscore": 0.4, "sentimentnegscore": 0.2, "sentimentneuscore": 0.3,
         "sentimentmixedscore": 0.1, "lang": "en", "model": "bench", "langscore": 0.9,
         PARTITION: when[i][0]}
        for i, t in zip(tweets.column("id").to_pylist(), tweets.column("text").to_pylist(),
                        strict=True)], schema=partitioned(TWEET_SENTIMENTS))
    sentiments = sentiments.append_column("minute", tweets.column("minute"))
    for row in media:
        row[PARTITION], row["minute"] = when[row["tweetid"]]
        if features:
            seed = hashlib.sha256(row["mediaid"].encode()).digest()
            row["local_features"] = random.Random(seed).randbytes(features)
    photos = pa.Table.from_pylist(
        media, schema=partitioned(MEDIA_REKOGNITION).append(pa.field("minute", pa.int64())))
    return tweets, sentiments, photos


def build(folder: Path, batches: int, posts: int, photo_share: float,
          features: int) -> Lake:
    """The week's lake, one commit a minute (built once)."""
    lake = Lake(str(folder / "week"))
    if lake.has_data("tweets"):
        return lake
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tables = dict(zip(TABLES, _corpus(folder, batches, posts, photo_share, features),
                      strict=True))
    slices = {name: _by_minute(table) for name, table in tables.items()}
    for minute in range(batches):
        batch = {name: parts[minute].drop_columns(["minute"])
                 for name, parts in slices.items() if minute in parts}
        for path in lake.commit(batch):
            if "/tweets/" in path:  # enrich would mark it done once analysed
                lake.write_bytes(lake.path(state.done_marker(path)), b'{"photos": 0}')
    print(f"built {lake.url}: {batches:,} batches, {tables['tweets'].num_rows:,} posts, "
          f"{tables['media_rekognition'].num_rows:,} photos in {time.perf_counter() - t0:.0f} s")
    return lake


def _by_minute(table: pa.Table) -> dict[int, pa.Table]:
    table = table.sort_by("minute")
    minutes = table.column("minute").to_pylist()
    out, start = {}, 0
    for i in range(1, len(minutes) + 1):
        if i == len(minutes) or minutes[i] != minutes[start]:
            out[minutes[start]] = table.slice(start, i - start)
            start = i
    return out


def _time(run: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


Timings = dict[str, tuple[float, float, float, float]]  # before cold, warm; after cold, warm


def measure(before: Lake, after: Lake, repeat: int) -> tuple[tuple[float, float], Timings]:
    """Both lakes opened (each a new engine: every table's view made over its files), then
    each seed query on one and then the other, so both sides share the machine's state:
    cold (an engine's first run of it) and warm (the median of ``repeat`` more). Each
    query must give as many rows after compaction as before."""
    engines = [Engine(Lake(lake.url), timeout_seconds=3600, limits=QuerySettings())
               for lake in (before, after)]
    out: Timings = {}
    try:
        opened = (_time(engines[0].connection), _time(engines[1].connection))
        print(f"  opened: before {opened[0]:.1f} s, after {opened[1]:.1f} s", flush=True)
        for name, sql in seed_queries().items():
            cold, counts = [], []
            for engine in engines:
                t0 = time.perf_counter()
                counts.append(engine.execute(sql).table.num_rows)
                cold.append(time.perf_counter() - t0)
            if counts[0] != counts[1]:
                raise SystemExit(f"{name}: {counts[1]} rows after compaction, {counts[0]} before")
            warm: list[list[float]] = [[], []]
            for _ in range(repeat):
                for side, engine in enumerate(engines):
                    warm[side].append(_time(lambda e=engine, s=sql: e.execute(s)))
            out[name] = (cold[0], statistics.median(warm[0]), cold[1], statistics.median(warm[1]))
            print(f"  {name} ({counts[0]:,} rows): before {cold[0]:.2f} / {out[name][1]:.2f} s, "
                  f"after {cold[1]:.2f} / {out[name][3]:.2f} s", flush=True)
    finally:
        for engine in engines:
            engine.close()
    return opened, out


def _files(lake: Lake) -> dict[str, int]:
    return {name: len(lake.files(name)) for name in TABLES}


def _sizes(lake: Lake) -> dict[str, int]:
    """Bytes of each table's files."""
    return {name: sum(os.path.getsize(p) for p in lake.files(name)) for name in TABLES}


def _copy(week: Lake, folder: Path, name: str) -> Lake:
    target = folder / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(week.root, target)
    return Lake(str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, default=10_000,
                        help="one-minute commits (10,000: about a week)")
    parser.add_argument("--posts", type=int, default=4, help="posts per batch")
    parser.add_argument("--photo-share", type=float, default=0.3,
                        help="share of posts with 1-4 photos")
    parser.add_argument("--features-kib", type=int, default=0,
                        help="KiB of local features per photo (enrich keeps ~140)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    args = parser.parse_args()
    folder = args.data / (f"compact-{args.batches}x{args.posts}-{args.photo_share:g}"
                          f"-{args.features_kib}k")
    week = build(folder, args.batches, args.posts, args.photo_share, args.features_kib * 1024)
    before, after = _copy(week, folder, "before"), _copy(week, folder, "after")
    files, sizes = _files(after), _sizes(after)
    t0 = time.perf_counter()
    command = [sys.executable, "-c", CHILD, "compact", "--lake", after.url]
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "120"})
    compact_s = time.perf_counter() - t0
    rss = int(done.stderr.rsplit("VmHWM:", 1)[1].split()[0])  # KiB
    print(done.stdout, flush=True)
    print(f"seed queries, before ({sum(files.values()):,} files) and after "
          f"({sum(_files(after).values()):,} files) compaction:", flush=True)
    opened, timings = measure(before, after, args.repeat)
    _report(args, after, opened, timings, files, _files(after), sizes, _sizes(after),
            compact_s, rss)


def _report(args: Any, lake: Lake, opened: tuple[float, float], timings: Timings,
            files: dict[str, int], files_after: dict[str, int], size: dict[str, int],
            size_after: dict[str, int], compact_s: float, rss_kib: int) -> None:
    days = len(lake.partitions("tweets"))
    cpu = platform.processor() or platform.machine()
    print(f"\n{args.batches:,} one-minute batches of {args.posts} posts over {days} days "
          f"({args.features_kib} KiB of local features a photo); {cpu}, {os.cpu_count()} "
          f"cores; cold: an engine's first run of the query, warm: median of {args.repeat} "
          "more\n")
    print("| seed query | before: cold | before: warm | after: cold | after: warm "
          "| speed-up (warm) |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| (opening the lake: views over every file) | {opened[0]:,.1f} s | | "
          f"{opened[1]:,.1f} s | | {opened[0] / opened[1]:,.0f}× |")
    for name, (bc, bw, ac, aw) in timings.items():
        print(f"| {name} | {_ms(bc)} | {_ms(bw)} | {_ms(ac)} | {_ms(aw)} | {bw / aw:,.0f}× |")
    total = [sum(t[k] for t in timings.values()) for k in range(4)]
    print(f"| **all {len(timings)}** | {total[0]:,.1f} s | {total[1]:,.1f} s | "
          f"{total[2]:,.1f} s | {total[3]:,.1f} s | {total[1] / total[3]:,.0f}× |")
    print("\n| table | files before | files after | size before | size after |")
    print("|---|---:|---:|---:|---:|")
    for name in TABLES:
        print(f"| {name} | {files[name]:,} | {files_after[name]:,} | "
              f"{size[name] / 2**20:,.1f} MiB | {size_after[name] / 2**20:,.1f} MiB |")
    print(f"\n`socialsight compact`: {compact_s:.1f} s for {sum(files.values()):,} files "
          f"({sum(files.values()) / compact_s:,.0f} files/s), peak memory (RSS) "
          f"{rss_kib / 1024:,.0f} MiB")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


if __name__ == "__main__":
    main()
