"""Comprehend-grade text answers, scored against people's own annotations (issue 19).

    python -m bench.textset.fetch      # once: the 260 texts, from VADER's source archive
    python -m bench.comprehend         # entities, their scores, sentiment; Markdown out

The set and its annotations are bench/textset/ (ANNOTATING.md says how they were made:
by reading the texts only, before any output was seen). "dev" is the two thirds every
rule and threshold was chosen on; "held out" the third set aside by the sha256 of the
id (``bench.textset.fetch.held_out``), on which nothing was tuned.

- **Entities**, as DetectEntities answers: a found entity is right when its span and
  type are the annotated ones (exact); also span only (any type), and the numbers —
  annotated QUANTITY and OTHER entities with a digit — found with span and type.
- **Scores**: how well an entity's Score says whether it is right: the expected
  calibration error (ECE, 10 bins; 0 is perfect) and the Brier score, and the mean
  score of right and wrong entities. ``--fit`` fits the calibration on dev and writes
  src/socialsight/language/data/entity_calibration.json.
- **PII**, as DetectPiiEntities and ContainsPiiEntities answer, on the same texts
  (pii.toml) and on 90 texts written with their PII labelled (pii_written.toml: real
  posts rarely hold card or passport numbers, and real ones cannot be shipped): exact
  span and type; the types a text holds (ContainsPiiEntities); recall by type.
- **Sentiment**, as DetectSentiment answers: accuracy over Comprehend's four classes,
  macro F1, each class's precision and recall. ``--fit`` also fits the sentiment model
  (src/socialsight/language/sentiment.py) on the ~23,000 texts people rated in VADER's
  archive, less this set's 260, and writes src/socialsight/language/data/sentiment.json;
  ``--band`` is the mean rating within which a rated text counts as NEUTRAL.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.textset.fetch import SOURCES, held_out, load, rated

HERE = Path(__file__).resolve().parent / "textset"
CLASSES = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
Span = tuple[int, int, str]


@dataclass
class Found:
    """One entity as socialsight answered it, and whether the annotation has it."""
    begin: int
    end: int
    type: str
    score: float
    right: bool = False


def gold_spans(text: str, annotated: list[list[str]]) -> list[Span]:
    """The annotated entities as (begin, end, type): each string found after the last."""
    out, at = [], 0
    for value, kind in annotated:
        begin = text.find(value, at)
        if begin < 0:
            begin = text.find(value)
        if begin < 0:
            raise ValueError(f"{value!r} is not in {text!r}")
        out.append((begin, begin + len(value), kind))
        at = begin + len(value)
    return out


def _prf(right: int, found: int, gold: int) -> tuple[float, float, float]:
    p = right / found if found else 0.0
    r = right / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def ece(found: Sequence[Found], bins: int = 10) -> float:
    """Expected calibration error: |mean score - share right| per score bin, weighted."""
    if not found:
        return 0.0
    total = 0.0
    for b in range(bins):
        inside = [f for f in found if min(int(f.score * bins), bins - 1) == b]
        if inside:
            gap = (sum(f.score for f in inside) - sum(f.right for f in inside)) / len(inside)
            total += abs(gap) * len(inside)
    return total / len(found)


def brier(found: Sequence[Found]) -> float:
    return sum((f.score - f.right) ** 2 for f in found) / len(found) if found else 0.0


def entity_figures(rows: list[dict[str, Any]], answers: list[list[Found]],
                   gold: list[list[Span]]) -> dict[str, float]:
    exact = spans = found_n = gold_n = 0
    numbers_gold = numbers_right = 0
    for row, found, spans_gold in zip(rows, answers, gold, strict=True):
        text = row["text"]
        exact_set = {(s, e, k) for s, e, k in spans_gold}
        span_set = {(s, e) for s, e, _ in spans_gold}
        for f in found:
            f.right = (f.begin, f.end, f.type) in exact_set
            exact += f.right
            spans += (f.begin, f.end) in span_set
        found_n += len(found)
        gold_n += len(spans_gold)
        answered = {(f.begin, f.end, f.type) for f in found}
        for s, e, k in spans_gold:
            if k in ("QUANTITY", "OTHER") and any(c.isdigit() for c in text[s:e]):
                numbers_gold += 1
                numbers_right += (s, e, k) in answered
    p, r, f1 = _prf(exact, found_n, gold_n)
    sp, sr, sf = _prf(spans, found_n, gold_n)
    flat = [f for found in answers for f in found]
    right = [f.score for f in flat if f.right]
    wrong = [f.score for f in flat if not f.right]
    return {
        "precision": p, "recall": r, "f1": f1, "span precision": sp, "span recall": sr,
        "span f1": sf, "numbers right": numbers_right / numbers_gold if numbers_gold else 0,
        "numbers": numbers_gold, "entities annotated": gold_n, "entities found": found_n,
        "ece": ece(flat), "brier": brier(flat),
        "mean score, right": sum(right) / len(right) if right else 0.0,
        "mean score, wrong": sum(wrong) / len(wrong) if wrong else 0.0,
        "scores of 1.0": sum(f.score >= 0.9995 for f in flat) / len(flat) if flat else 0.0,
        "auc": auc(right, wrong),
    }


def auc(right: list[float], wrong: list[float]) -> float:
    """The chance a right entity scores above a wrong one (ties count half): 0.5 is a
    score that says nothing, 1.0 one that ranks every right entity first."""
    if not right or not wrong:
        return 0.0
    above = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return above / (len(right) * len(wrong))


def sentiment_figures(labels: list[str], gold: list[str]) -> dict[str, float]:
    right = sum(a == g for a, g in zip(labels, gold, strict=True))
    out: dict[str, float] = {"accuracy": right / len(gold) if gold else 0.0}
    f1s = []
    for name in CLASSES:
        tp = sum(a == g == name for a, g in zip(labels, gold, strict=True))
        p, r, f1 = _prf(tp, labels.count(name), gold.count(name))
        out[f"{name} precision"], out[f"{name} recall"] = p, r
        f1s.append(f1)
    out["macro f1"] = sum(f1s) / len(f1s)
    return out


def _entities(texts: list[str]) -> list[list[Found]]:
    from socialsight.language import entities

    return [[Found(e.begin, e.end, e.type, e.score) for e in ents]
            for ents, _ in entities.analyse(texts, key_phrases=False)]


def _sentiments(texts: list[str]) -> list[str]:
    from socialsight.language.prepare import readable
    from socialsight.language.sentiment import sentiment

    return [sentiment(readable(t)).label for t in texts]


def fit_sentiment(leave_out: set[str], band: float | None, vocabulary: int = 2_000,
                  penalty: float = 1e-4, iterations: int = 400) -> None:
    """Fit sentiment.py's model on VADER's rated texts (less ``leave_out``), each source
    weighing the same: VADER's features and the ``vocabulary`` most common words, a
    ridge of ``penalty`` on the words' weights, full-batch Adam; write its weights."""
    import numpy as np

    from socialsight.language import sentiment

    band = sentiment.NEUTRAL_BAND if band is None else band
    data = [(source, rating, text) for source in SOURCES
            for key, rating, text in rated(source) if f"{source}:{key}" not in leave_out]
    texts = [text for _, _, text in data]
    seen = Counter(w for text in texts for w in sentiment.words(text))
    vocab = [w for w, _ in seen.most_common(vocabulary)]
    column = {w: i for i, w in enumerate(vocab, len(sentiment.FEATURES))}
    lexicon = sentiment._lexicon()
    x = np.zeros((len(texts), len(sentiment.FEATURES) + len(vocab)), dtype=np.float32)
    for i, (text, vader) in enumerate(zip(texts, sentiment.Vader().predict(texts),
                                          strict=True)):
        x[i, :len(sentiment.FEATURES)] = sentiment.features(text, vader, lexicon)
        x[i, [column[w] for w in sentiment.words(text) if w in column]] = 1.0
    y = np.array([0 if r >= band else 1 if r <= -band else 2 for _, r, _ in data])
    per_source = Counter(source for source, _, _ in data)
    weight = np.array([1 / per_source[source] for source, _, _ in data], dtype=np.float32)
    weight *= len(data) / weight.sum()
    k, d = len(sentiment.LABELS), x.shape[1]
    onehot = np.eye(k, dtype=np.float32)[y]
    ridge = np.full((k, d), penalty, dtype=np.float32)
    ridge[:, :len(sentiment.FEATURES)] = 1.0 / len(data)
    ridge[:, 0] = 0.0  # no penalty on the biases
    w = np.zeros((k, d), dtype=np.float32)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, iterations + 1):
        z = x @ w.T
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        grad = ((p - onehot) * weight[:, None]).T @ x / len(data) + ridge * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= 0.05 * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    counts = Counter(sentiment.LABELS[i] for i in y)
    sentiment.DATA.write_text(json.dumps({
        "features": list(sentiment.FEATURES), "labels": list(sentiment.LABELS),
        "vocabulary": vocab,
        "weights": [[round(float(v), 5) for v in row] for row in w],
        "neutral band": band, "texts": len(data), "classes": dict(counts),
        "fitted by": "python -m bench.comprehend --fit (VADER's rated texts, less "
                     "bench/textset's)"}, ensure_ascii=False) + "\n")
    sentiment.weights.cache_clear()
    print(f"sentiment fitted on {len(data)} rated texts {dict(counts)}, band {band}: "
          f"{sentiment.DATA}", file=sys.stderr)


def pii_figures(texts: list[str], found: list[list[Span]], gold: list[list[Span]],
                ) -> dict[str, float]:
    right = n_found = n_gold = 0
    kinds_right = kinds_found = kinds_gold = 0
    for answer, truth in zip(found, gold, strict=True):
        right += len(set(answer) & set(truth))
        n_found += len(answer)
        n_gold += len(truth)
        a, t = {k for _, _, k in answer}, {k for _, _, k in truth}
        kinds_right += len(a & t)
        kinds_found += len(a)
        kinds_gold += len(t)
    p, r, f1 = _prf(right, n_found, n_gold)
    tp, tr, _ = _prf(kinds_right, kinds_found, kinds_gold)
    return {"pii annotated": n_gold, "pii found": n_found, "precision": p, "recall": r,
            "f1": f1, "types a text holds: precision": tp, "types a text holds: recall": tr}


def _pii(texts: list[str]) -> list[list[Span]]:
    from socialsight.language import pii

    return [[(x.begin, x.end, x.type) for x in found] for found in pii.detect(texts)]


def pii_report(rows: list[dict[str, Any]]) -> None:
    """PII figures on the real texts (pii.toml) and the written ones (pii_written.toml)."""
    sets: list[tuple[str, list[str], list[str], list[list[Span]]]] = []
    if (HERE / "pii.toml").is_file():
        gold = tomllib.loads((HERE / "pii.toml").read_text())
        sets.append(("real", [r["id"] for r in rows], [r["text"] for r in rows],
                     [gold_spans(r["text"], gold[r["id"]]) for r in rows]))
    if (HERE / "pii_written.toml").is_file():
        written = tomllib.loads((HERE / "pii_written.toml").read_text())["text"]
        sets.append(("written", [w["id"] for w in written], [w["text"] for w in written],
                     [gold_spans(w["text"], w["pii"]) for w in written]))
    for name, ids, texts, gold_list in sets:
        found = _pii(texts)
        parts = {"dev": [i for i, x in enumerate(ids) if not held_out(x)],
                 "held out": [i for i, x in enumerate(ids) if held_out(x)],
                 "all": list(range(len(ids)))}
        figures = {part: pii_figures([texts[i] for i in idx], [found[i] for i in idx],
                                     [gold_list[i] for i in idx])
                   for part, idx in parts.items()}
        print()
        print(_table(f"PII, {name} texts ({len(texts)})", figures, list(figures["all"])))
        by_type: dict[str, list[int]] = {}
        for answer, truth in zip(found, gold_list, strict=True):
            for span in truth:
                hits = by_type.setdefault(span[2], [0, 0])
                hits[0] += span in answer
                hits[1] += 1
        wrong = Counter(k for answer, truth in zip(found, gold_list, strict=True)
                        for (_, _, k) in set(answer) - set(truth))
        print(f"\nrecall by type ({name}, all): " + ", ".join(
            f"{k} {h}/{n}" for k, (h, n) in sorted(by_type.items())))
        print(f"found but not annotated ({name}, all): " + ", ".join(
            f"{k} {n}" for k, n in wrong.most_common()))


def _table(title: str, parts: dict[str, dict[str, float]], keys: list[str]) -> str:
    names = list(parts)
    lines = [f"| {title} | " + " | ".join(names) + " |",
             "| --- |" + " ---: |" * len(names)]
    for key in keys:
        cells = []
        for name in names:
            value = parts[name][key]
            cells.append(f"{value:.0f}" if float(value).is_integer() and value > 1
                         else f"{value:.2f}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _split(rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    dev = [i for i, r in enumerate(rows) if not held_out(r["id"])]
    kept = [i for i, r in enumerate(rows) if held_out(r["id"])]
    return {"dev": dev, "held out": kept, "all": list(range(len(rows)))}


def _by(parts: dict[str, list[int]], figures: Callable[[list[int]], dict[str, float]],
        ) -> dict[str, dict[str, float]]:
    return {name: figures(idx) for name, idx in parts.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true",
                        help="fit the entity score calibration on dev and the sentiment "
                        "model on VADER's rated texts, and write them")
    parser.add_argument("--band", type=float, default=None,
                        help="with --fit: a rated text within this of 0 is NEUTRAL "
                        "(default: sentiment.NEUTRAL_BAND)")
    args = parser.parse_args(argv)
    rows = load()
    ents_gold = tomllib.loads((HERE / "entities.toml").read_text())
    sent_gold = tomllib.loads((HERE / "sentiment.toml").read_text())
    texts = [r["text"] for r in rows]
    gold = [gold_spans(r["text"], ents_gold[r["id"]]) for r in rows]
    parts = _split(rows)

    if args.fit:
        from socialsight.language import calibration, entities

        dev = parts["dev"]
        raw = entities.spans([texts[i] for i in dev])
        found = [[Found(x.begin, x.end, x.type, x.raw) for x in spans] for spans in raw]
        entity_figures([rows[i] for i in dev], found, [gold[i] for i in dev])  # marks right
        examples = [(calibration.features(texts[i], x), f.right)
                    for i, spans, marked in zip(dev, raw, found, strict=True)
                    for x, f in zip(spans, marked, strict=True)]
        path = calibration.fit(examples)
        print(f"calibration fitted on {len(examples)} dev entities: {path}", file=sys.stderr)
        fit_sentiment({r["id"] for r in rows}, args.band)
    answers = _entities(texts)

    def ents(idx: list[int]) -> dict[str, float]:
        return entity_figures([rows[i] for i in idx], [answers[i] for i in idx],
                              [gold[i] for i in idx])

    labels = _sentiments(texts)

    def sents(idx: list[int]) -> dict[str, float]:
        return sentiment_figures([labels[i] for i in idx],
                                 [sent_gold[rows[i]["id"]] for i in idx])

    entity_parts = _by(parts, ents)
    print(f"{len(rows)} texts: {len(parts['dev'])} dev, {len(parts['held out'])} held out\n")
    print(_table("entities (DetectEntities)", entity_parts, [
        "entities annotated", "entities found", "precision", "recall", "f1",
        "span precision", "span recall", "span f1", "numbers", "numbers right"]))
    print()
    print(_table("entity scores", entity_parts, [
        "ece", "brier", "auc", "mean score, right", "mean score, wrong", "scores of 1.0"]))
    print()
    print(_table("sentiment (DetectSentiment)", _by(parts, sents), [
        "accuracy", "macro f1", *(f"{c} {m}" for c in CLASSES
                                  for m in ("precision", "recall"))]))
    pii_report(rows)
    counts = Counter(labels[i] for i in parts["all"])
    print(f"\nanswered: {dict(counts)}; annotated: "
          f"{dict(Counter(sent_gold[r['id']] for r in rows))}")


if __name__ == "__main__":
    main()
