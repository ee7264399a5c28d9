"""Comprehend's Detect*, BatchDetect* and ContainsPiiEntities operations on socialsight's
text models.

The answers are the ones ``socialsight enrich`` stores for the same text
(:mod:`socialsight.language`): sentiment is VADER's on the post's readable text,
entities and key phrases spaCy's on the post itself (offsets into it, in code points
as Comprehend counts them), the dominant language fastText's on the readable text.

What differs from AWS (docs/aws-api.md says it to users):

- Sentiment, entities, key phrases, PII and syntax read English only: any other
  ``LanguageCode`` of the operation's list is UnsupportedLanguageException; a value not
  on the list is a ValidationException, as AWS answers it.
- The text is analysed as the language the caller names, as AWS does; ``enrich``
  instead skips posts it detects to be in another language.
- DetectDominantLanguage gives the one most likely language (``[]`` for text with no
  letters); key phrases have no ``Score`` (the tagger gives none).
- DetectPiiEntities and ContainsPiiEntities use :mod:`socialsight.language.pii`: the
  types' formats, checksums and context words, and spaCy's people, places and dates.
- DetectSyntax and BatchDetectSyntax use :mod:`socialsight.language.syntax`: spaCy's
  tagger, each part of speech scored by the tagger's own probability.
- Custom recognisers (``EndpointArn``) and semi-structured documents (``Bytes``) do
  not exist here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socialsight.aws.core import AwsContext, AwsError, Operation

log = logging.getLogger(__name__)

# Comprehend's LanguageCode enum; socialsight's models read the first one only.
LANGUAGE_CODES = ("en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW")
SYNTAX_CODES = ("en", "es", "fr", "de", "it", "pt")  # DetectSyntax's SyntaxLanguageCode
SUPPORTED = ("en",)
MAX_BATCH = 25

Analyse = Callable[[list[str], AwsContext], list[dict[str, Any]]]


@dataclass(frozen=True)
class Analysis:
    """One of Comprehend's analyses: what it reads and how much of it."""

    run: Analyse  # texts → each text's response members
    max_bytes: int  # UTF-8 bytes of one text (Comprehend's own limit)
    language: bool  # takes a LanguageCode
    codes: tuple[str, ...] = LANGUAGE_CODES  # the LanguageCode values its request allows


def _sentiments(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    from socialsight.language.prepare import readable
    from socialsight.language.sentiment import sentiment

    return [sentiment(readable(text)).comprehend() for text in texts]


def _entities_and_phrases(texts: list[str], key_phrases: bool) -> list[tuple[Any, Any]]:
    from socialsight.language import entities

    return entities.analyse(texts, key_phrases)  # spaCy's turns are the model's own


def _entities(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    found = _entities_and_phrases(texts, ctx.settings.language.key_phrases)
    return [{"Entities": [e.comprehend() for e in ents]} for ents, _ in found]


def _key_phrases(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    found = _entities_and_phrases(texts, True)
    return [{"KeyPhrases": [_phrase(p.comprehend()) for p in phrases]}
            for _, phrases in found]


def _phrase(phrase: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in phrase.items() if v is not None}  # no Score: the tagger has none


def _languages(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    from socialsight.language.languages import language
    from socialsight.language.prepare import readable

    out = []
    for text in texts:
        code, score = language(readable(text))
        out.append({"Languages": [{"LanguageCode": code, "Score": score}] if code else []})
    return out


def _syntax(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    from socialsight.language.syntax import syntax

    return [{"SyntaxTokens": [t.comprehend() for t in tokens]} for tokens in syntax(texts)]


def _pii(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    from socialsight.language.pii import detect

    return [{"Entities": [p.comprehend() for p in found]} for found in detect(texts)]


def _contains_pii(texts: list[str], ctx: AwsContext) -> list[dict[str, Any]]:
    from socialsight.language.pii import detect, labels

    return [{"Labels": labels(found)} for found in detect(texts)]


# Operation name (after Detect / BatchDetect) → its analysis; limits as in AWS's docs.
ANALYSES: dict[str, Analysis] = {
    "Sentiment": Analysis(_sentiments, 5_000, language=True),
    "Entities": Analysis(_entities, 100_000, language=True),
    "KeyPhrases": Analysis(_key_phrases, 100_000, language=True),
    "DominantLanguage": Analysis(_languages, 100_000, language=False),
    "Syntax": Analysis(_syntax, 5_000, language=True, codes=SYNTAX_CODES),
}
# PII has no batch form on AWS: DetectPiiEntities and ContainsPiiEntities, one text each.
PII = Analysis(_pii, 100_000, language=True)
CONTAINS_PII = Analysis(_contains_pii, 100_000, language=True)


def detect(analysis: Analysis, extra: Callable[[dict[str, Any]], None] | None = None,
           ) -> Operation:
    """``Detect<Name>``: one text."""
    def operation(params: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
        if extra is not None:
            extra(params)
        text = _text(params.get("Text"), "text")
        if analysis.language:
            _language(params.get("LanguageCode"), analysis.codes)
        _size(text, analysis.max_bytes)
        return analysis.run([text], ctx)[0]
    return operation


def batch(analysis: Analysis) -> Operation:
    """``BatchDetect<Name>``: up to 25 texts; a text that fails goes to ErrorList."""
    def operation(params: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
        texts = _text_list(params.get("TextList"))
        if analysis.language:
            _language(params.get("LanguageCode"), analysis.codes)
        if len(texts) > MAX_BATCH:
            raise AwsError("BatchSizeLimitExceededException",
                           f"The number of documents in the request ({len(texts)}) exceeds "
                           f"the limit of {MAX_BATCH}. Try your request again with fewer "
                           "documents.")
        for index, text in enumerate(texts):
            _size(text, analysis.max_bytes, index)
        results, errors = _run_batch(analysis.run, texts, ctx)
        return {"ResultList": results, "ErrorList": errors}
    return operation


def _run_batch(run: Analyse, texts: list[str], ctx: AwsContext,
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        return [{"Index": i, **r} for i, r in enumerate(run(texts, ctx))], []
    except Exception:
        log.exception("a batch of %d texts failed; analysing them one by one", len(texts))
    results, errors = [], []
    for index, text in enumerate(texts):
        try:
            results.append({"Index": index, **run([text], ctx)[0]})
        except Exception:
            log.exception("text %d of a batch failed", index)
            errors.append({"Index": index, "ErrorCode": "INTERNAL_SERVER_ERROR",
                           "ErrorMessage": "An internal error occurred on this document"})
    return results, errors


def _entities_request(params: dict[str, Any]) -> None:
    """DetectEntities' members for features that do not exist here."""
    if params.get("EndpointArn") is not None:
        raise AwsError("ResourceUnavailableException",
                       "Custom entity recognizer endpoints do not exist on socialsight; "
                       "leave EndpointArn out to use the built-in entity types.")
    if params.get("Bytes") is not None or params.get("DocumentReaderConfig") is not None:
        raise AwsError("InvalidRequestException",
                       "Semi-structured documents (Bytes) are not supported; send Text.")
    if params.get("Text") is None:
        raise AwsError("InvalidRequestException", "The request must have Text.")
    if params.get("LanguageCode") is None:
        raise AwsError("InvalidRequestException",
                       "LanguageCode is required when the request has Text.")


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: {message}")


def _text(value: Any, member: str) -> str:
    if value is None:
        raise _validation(f"Value null at '{member}' failed to satisfy constraint: "
                          "Member must not be null")
    if not isinstance(value, str):
        raise AwsError("SerializationException", f"{member} must be a string")
    if not value:
        raise _validation(f"Value at '{member}' failed to satisfy constraint: Member must "
                          "have length greater than or equal to 1")
    return value


def _text_list(value: Any) -> list[str]:
    if value is None:
        raise _validation("Value null at 'textList' failed to satisfy constraint: Member "
                          "must not be null")
    if not isinstance(value, list):
        raise AwsError("SerializationException", "textList must be a list of strings")
    if not value:
        raise _validation("Value at 'textList' failed to satisfy constraint: Member must "
                          "have length greater than or equal to 1")
    return [_text(item, f"textList.{i + 1}.member") for i, item in enumerate(value)]


def _language(value: Any, codes: tuple[str, ...] = LANGUAGE_CODES) -> str:
    if value is None:
        raise _validation("Value null at 'languageCode' failed to satisfy constraint: "
                          "Member must not be null")
    if not isinstance(value, str):
        raise AwsError("SerializationException", "languageCode must be a string")
    if value not in codes:
        raise _validation(f"Value '{value}' at 'languageCode' failed to satisfy constraint: "
                          f"Member must satisfy enum value set: [{', '.join(codes)}]")
    if value not in SUPPORTED:
        raise AwsError("UnsupportedLanguageException",
                       f"socialsight's text models read English (en) only, not {value!r}. "
                       "DetectDominantLanguage works on every language.")
    return value


def _size(text: str, limit: int, index: int | None = None) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        which = "request text" if index is None else f"document {index} of the request"
        raise AwsError("TextSizeLimitExceededException",
                       f"Input text size exceeds limit. Max length of {which} allowed is "
                       f"{limit} bytes while in this request the text size is {size} bytes")


OPERATIONS: dict[str, Operation] = {
    **{f"Detect{name}": detect(a) for name, a in ANALYSES.items() if name != "Entities"},
    "DetectEntities": detect(ANALYSES["Entities"], _entities_request),
    **{f"BatchDetect{name}": batch(a) for name, a in ANALYSES.items()},
    "DetectPiiEntities": detect(PII),
    "ContainsPiiEntities": detect(CONTAINS_PII),
}
