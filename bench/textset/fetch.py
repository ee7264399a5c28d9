"""Re-create the labelled text set from VADER's source archive (MIT, pinned).

    python -m bench.textset.fetch

The texts are real: tweets, New York Times editorial snippets, Amazon review snippets
and movie review snippets that ship, with their human ratings, inside the
vaderSentiment 3.3.2 *source* archive (``additional_resources/hutto_ICWSM_2014``).
Only their ids and this set's own annotations (annotations.toml) are committed; the
texts are written to bench/data/textset/texts.jsonl. The choice is fixed: in each
source, the texts ordered by the sha256 of their id, the first ones taken — plus, from
every source, texts with a digit in them (prices, dates, counts, phone numbers), so
number typing is measured. A third of the set, chosen by the sha256 of the id alone,
is set aside (:func:`held_out`): no rule or threshold is chosen on it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path

from bench.text import ARCHIVE, DATA, rated_tweets

OUT = Path(__file__).resolve().parents[1] / "data" / "textset"
TEXTS = OUT / "texts.jsonl"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
# source → (file in the archive, texts taken, texts with a digit taken on top)
SOURCES = {
    "tweet": ("tweets_GroundTruth.txt", 80, 20),
    "nyt": ("nytEditorialSnippets_GroundTruth.txt", 60, 20),
    "amazon": ("amazonReviewSnippets_GroundTruth.txt", 35, 15),
    "movie": ("movieReviewSnippets_GroundTruth.txt", 25, 5),
}
DIGIT = re.compile(r"\d")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def held_out(text_id: str) -> bool:
    """A third of the set, by the id's sha256 alone (never by its text or its answers)."""
    return int(_digest("held-out:" + text_id)[:8], 16) % 3 == 0


def rated(source: str) -> list[tuple[str, float, str]]:
    """(id within the source, mean rating -4..4, text) of every rated text of a source."""
    return [(key, float(rating), text) for key, rating, text in _rows(SOURCES[source][0])]


def _lines(name: str) -> list[tuple[str, str]]:
    return [(key, text) for key, _, text in _rows(name)]


def _rows(name: str) -> list[tuple[str, str, str]]:
    rated_tweets()  # downloads the archive into bench/data/text once
    with tarfile.open(DATA / ARCHIVE) as outer:
        inner = outer.extractfile(INNER)
        assert inner is not None
        with tarfile.open(fileobj=inner) as archive:
            member = archive.extractfile(f"hutto_ICWSM_2014/{name}")
            assert member is not None
            raw = member.read().decode("utf-8", errors="replace")
    out = []
    for line in raw.splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[2].strip():
            out.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return out


def texts() -> list[dict[str, str]]:
    """The set, in a fixed order: {"id", "source", "text"}."""
    out = []
    for source, (name, count, with_digit) in SOURCES.items():
        rows = sorted(_lines(name), key=lambda row: _digest(f"{source}:{row[0]}"))
        chosen = rows[:count]
        chosen += [row for row in rows[count:] if DIGIT.search(row[1])][:with_digit]
        out += [{"id": f"{source}:{key}", "source": source, "text": text}
                for key, text in chosen]
    return out


def load() -> list[dict[str, str]]:
    """The set from bench/data/textset (re-created first when missing)."""
    if not TEXTS.is_file():
        main()
    return [json.loads(line) for line in TEXTS.read_text().splitlines()]


def main() -> None:
    rows = texts()
    OUT.mkdir(parents=True, exist_ok=True)
    TEXTS.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    kept = sum(held_out(row["id"]) for row in rows)
    print(f"{len(rows)} texts in {TEXTS} ({kept} set aside)")


if __name__ == "__main__":
    main()
