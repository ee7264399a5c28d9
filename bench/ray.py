"""Ray executor benchmark: `socialsight enrich` on local worker processes and on Ray actors.

    python -m bench.ray [--photos 60] [--workers 2]

The same distinct real photos (bench/vision.py's set, each made unique) served on
loopback, enriched once by each executor with the same number of workers, in one run.
Times include starting the workers and loading their models: on one machine Ray can
only cost (its start-up, its own processes); it is measured to know by how much.
"""

from __future__ import annotations

import argparse

from bench.vision import enrich_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"| `socialsight enrich`, {args.photos} photos, {args.workers} workers | photos/s "
          "| rows with errors |")
    print("|---|---:|---:|")
    for executor in ("local", "ray", "local"):
        rate, failed = enrich_run(args.photos, args.workers, executor)
        print(f"| {executor} | {rate:,.2f} | {failed} |", flush=True)


if __name__ == "__main__":
    main()
