"""DetectSyntax, offline: each word's part of speech, with the tagger's own probability.

spaCy's small English pipeline (the one :mod:`~socialsight.language.entities` loads,
without its recogniser) tags every token with a Penn Treebank tag; its attribute ruler
turns that tag, and for a few words the word itself, into a Universal Dependencies
part of speech, which :data:`TAGS` maps onto Comprehend's.

A token's ``Score`` is the tagger's softmax probability for that part of speech: the
sum of the probabilities of every Penn tag that means it (NN and NNS are both NOUN).
Where the attribute ruler decided by the word ("was" VBD is AUX, not VERB), the score
is the probability of the tag the tagger chose. Whitespace is not a token, as in
Comprehend; offsets are in code points into the text as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from socialsight.language.entities import PACKAGE
from socialsight.models import runtime
from socialsight.models.base import Model

# spaCy's universal part of speech → Comprehend's PartOfSpeechTag (X, "other", is O).
TAGS: dict[str, str] = {
    "ADJ": "ADJ", "ADP": "ADP", "ADV": "ADV", "AUX": "AUX", "CCONJ": "CCONJ",
    "CONJ": "CCONJ", "DET": "DET", "INTJ": "INTJ", "NOUN": "NOUN", "NUM": "NUM",
    "PART": "PART", "PRON": "PRON", "PROPN": "PROPN", "PUNCT": "PUNCT", "SCONJ": "SCONJ",
    "SYM": "SYM", "VERB": "VERB", "X": "O", "SPACE": "O",
}


@dataclass(frozen=True)
class Token:
    id: int  # 1-based, as Comprehend's TokenId
    text: str
    begin: int
    end: int
    tag: str
    score: float

    def comprehend(self) -> dict[str, Any]:
        return {"TokenId": self.id, "Text": self.text, "BeginOffset": self.begin,
                "EndOffset": self.end, "PartOfSpeech": {"Tag": self.tag, "Score": self.score}}


class Tagger(Model[str, list[Token]]):
    """spaCy's tokenizer, tagger and attribute ruler (the entities model's files)."""

    name = "entities"  # the same spaCy pipeline and files (registry), its recogniser left out

    def _load(self) -> Any:
        import spacy

        for name in ("spacy-tagger", "spacy-tok2vec", "spacy-attribute-ruler"):
            runtime.model_path(name)  # refuse altered weights before spaCy loads them
        nlp = spacy.load(PACKAGE, exclude=["parser", "lemmatizer", "senter", "ner"])
        return nlp, _tag_pos(nlp)

    def _predict(self, loaded: Any, texts: list[str]) -> list[list[Token]]:
        nlp, tag_pos = loaded
        docs = list(nlp.get_pipe("tok2vec").pipe(nlp.make_doc(t) for t in texts))
        tagger = nlp.get_pipe("tagger")
        # The model's scores (spaCy's predict keeps only the best tag): one row of
        # logits per token, over tagger.labels. Its listener reads doc.tensor.
        scores = tagger.model.predict(docs) if docs else []
        tagger.set_annotations(docs, [np.asarray(s).argmax(axis=1) for s in scores])
        docs = list(nlp.get_pipe("attribute_ruler").pipe(docs))
        labels = list(tagger.labels)
        return [_tokens(doc, _softmax(np.asarray(s)), labels, tag_pos)
                for doc, s in zip(docs, scores, strict=True)]


def _tag_pos(nlp: Any) -> dict[str, str]:
    """Penn tag → universal POS, from the attribute ruler's one-tag patterns."""
    out = {}
    for rule in nlp.get_pipe("attribute_ruler").patterns:
        patterns, attrs = rule["patterns"], rule["attrs"]
        if (len(patterns) == 1 and len(patterns[0]) == 1 and set(patterns[0][0]) == {"TAG"}
                and "POS" in attrs and isinstance(patterns[0][0]["TAG"], str)):
            out[patterns[0][0]["TAG"]] = attrs["POS"]
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    if logits.size == 0:
        return logits
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _tokens(doc: Any, probs: np.ndarray, labels: list[str], tag_pos: dict[str, str],
            ) -> list[Token]:
    out: list[Token] = []
    for token, row in zip(doc, probs, strict=True):
        if token.is_space or not token.text.strip():
            continue
        pos = token.pos_ or tag_pos.get(token.tag_, "X")
        if tag_pos.get(token.tag_) == pos:
            score = float(sum(p for label, p in zip(labels, row, strict=True)
                              if tag_pos.get(label) == pos))
        else:
            score = float(row[labels.index(token.tag_)]) if token.tag_ in labels else 0.0
        out.append(Token(len(out) + 1, token.text, token.idx, token.idx + len(token.text),
                         TAGS.get(pos, "O"), round(min(score, 1.0), 6)))
    return out


def syntax(texts: list[str]) -> list[list[Token]]:
    """Each text's tokens (English) with their parts of speech."""
    if not texts:
        return []
    return Tagger().predict(texts)
