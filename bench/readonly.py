"""What the SQL sandbox's second layer costs: every seed query, the lake read through the
write-refusing file system (``query.read_only_files = true``, the default) beside the
same lake read directly, alternating in one run.

    python -m bench.readonly --lake bench/data/1000000/lake [--repeat 5]

Build the lake first with ``python -m bench.run --posts N`` (it lands in
``--data``/N/lake).
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

from socialsight.config import QuerySettings
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries


def _seconds(engine: Engine, sql: str) -> float:
    started = time.perf_counter()
    engine.execute(sql)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lake = Lake(args.lake)
    if not lake.has_data("tweets"):
        raise SystemExit(f"no posts in a lake at {args.lake}: build one with bench.run first")
    guarded = Engine(lake, 3600, QuerySettings(read_only_files=True))
    direct = Engine(lake, 3600, QuerySettings(read_only_files=False))
    rows = []
    for name, sql in seed_queries().items():
        _seconds(guarded, sql), _seconds(direct, sql)  # footers and views warm for both
        times: dict[str, list[float]] = {"guarded": [], "direct": []}
        for _ in range(args.repeat):
            times["guarded"].append(_seconds(guarded, sql))
            times["direct"].append(_seconds(direct, sql))
        g, d = statistics.median(times["guarded"]), statistics.median(times["direct"])
        rows.append((name, g, d))
    total_g, total_d = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"medians of {args.repeat} alternating runs\n")
    print("| seed query | read-only file system (default) | direct | cost |")
    print("|---|---:|---:|---:|")
    for name, g, d in rows:
        print(f"| {name} | {g * 1000:,.0f} ms | {d * 1000:,.0f} ms | {(g / d - 1) * 100:+.0f}% |")
    print(f"| all ten | {total_g * 1000:,.0f} ms | {total_d * 1000:,.0f} ms | "
          f"{(total_g / total_d - 1) * 100:+.0f}% |")


if __name__ == "__main__":
    main()
