"""Text analysis benchmark: posts/s and sentiment accuracy on real, human-rated tweets.

    python -m bench.text [--workers 2] [--posts 8400]

The tweets are the 4,200 in VADER's ground truth (``tweets_GroundTruth.txt``, each the
mean of about twenty people's ratings on -4..+4), which ship in the vaderSentiment
*source* archive, not its wheel: the benchmark downloads that archive into
bench/data/text/ once with ``pip download``. Throughput: enrich's text step
(``socialsight.enrich.analyse_posts``) in ``--workers`` processes, batched, for
sentiment + entities + language, then with key phrases too. Accuracy: each tweet's
label against the raters' (POSITIVE at mean >= 0.5, NEGATIVE at <= -0.5, else
NEUTRAL); per-class precision and recall. VADER was validated on these very tweets,
so this flatters it: read the figures as an upper bound. Prints Markdown for
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "text"
ARCHIVE = "vaderSentiment-3.3.2.tar.gz"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
TWEETS = "hutto_ICWSM_2014/tweets_GroundTruth.txt"
LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")


def rated_tweets() -> list[tuple[float, str]]:
    """(mean rating, text) of VADER's 4,200 human-rated tweets."""
    target = DATA / "tweets_GroundTruth.txt"
    if not target.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        if not (DATA / ARCHIVE).is_file():
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--no-binary", ":all:", "vaderSentiment==3.3.2", "-d", str(DATA)],
                           check=True)
        with tarfile.open(DATA / ARCHIVE) as outer:
            inner = outer.extractfile(INNER)
            assert inner is not None
            with tarfile.open(fileobj=inner) as archive:
                member = archive.extractfile(TWEETS)
                assert member is not None
                target.write_bytes(member.read())
    out = []
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            out.append((float(parts[1]), parts[2].strip()))
    return out


def gold(mean: float) -> str:
    return "POSITIVE" if mean >= 0.5 else "NEGATIVE" if mean <= -0.5 else "NEUTRAL"


def _texts(chunk: list[str], key_phrases: bool) -> int:
    from socialsight.enrich import analyse_posts

    return len(analyse_posts(list(chunk), [None] * len(chunk), key_phrases))


def _warm(key_phrases: bool) -> int:
    return _texts(["warming up: Apple opened a store in Paris"], key_phrases)


def throughput(texts: list[str], workers: int, key_phrases: bool, batch: int = 500) -> float:
    chunks = [texts[i:i + batch] for i in range(0, len(texts), batch)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_warm, [key_phrases] * workers))
        start = time.perf_counter()
        done = sum(pool.map(_texts, chunks, [key_phrases] * len(chunks)))
        return done / (time.perf_counter() - start)


def accuracy(tweets: list[tuple[float, str]]) -> None:
    from socialsight.language.sentiment import sentiment

    pairs = [(gold(mean), sentiment(text).label) for mean, text in tweets]
    hits = sum(g == p for g, p in pairs)
    print(f"\n{len(pairs):,} human-rated tweets: accuracy {hits / len(pairs):.3f}; predicted "
          + ", ".join(f"{k} {v:,}" for k, v in Counter(p for _, p in pairs).most_common()))
    print("\n| class | precision | recall | gold tweets |")
    print("|---|---:|---:|---:|")
    for label in LABELS:
        predicted = sum(p == label for _, p in pairs)
        actual = sum(g == label for g, _ in pairs)
        right = sum(g == p == label for g, p in pairs)
        precision = f"{right / predicted:.3f}" if predicted else "—"
        recall = f"{right / actual:.3f}" if actual else "— (no gold label)"
        print(f"| {label} | {precision} | {recall} | {actual:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--posts", type=int, default=8400)
    args = parser.parse_args()
    tweets = rated_tweets()
    texts = [t for _, t in tweets]
    texts = (texts * (args.posts // len(texts) + 1))[:args.posts]
    print(f"{len(texts):,} real tweets, {args.workers} processes, batches of 500\n")
    print("| text step | posts/s | target |")
    print("|---|---:|---|")
    fast = throughput(texts, args.workers, key_phrases=False)
    print(f"| language + sentiment + entities | {fast:,.0f} | ≥ 2,000 |")
    full = throughput(texts, args.workers, key_phrases=True)
    print(f"| ... and key phrases (enrich's default) | {full:,.0f} | — |")
    from socialsight.language.languages import language
    from socialsight.language.prepare import readable
    from socialsight.language.sentiment import sentiment

    start = time.perf_counter()
    for text in texts:
        language(readable(text))
        sentiment(readable(text))
    alone = len(texts) / (time.perf_counter() - start)
    print(f"| language + sentiment only, one process | {alone:,.0f} | — |")
    accuracy(tweets)


if __name__ == "__main__":
    main()
