"""The text a model reads, made from a post's text as a person would read it.

Two forms:

- :func:`readable` — for sentiment and language: the retweet prefix (``RT @name: ``) and
  links go, HTML entities are decoded, whitespace is collapsed. This is what
  ``tweet_sentiments.text`` stores; ``originaltext`` keeps the post as written.
- :func:`masked` — for entities and key phrases: a copy *of the same length* in which
  every character of an emoji, a link, an @mention, a whole #hashtag and a retweet
  marker is a space. Offsets found in it are offsets into the post's own text, and
  none of those pieces can come out as a person or a place. A post shouted in capitals
  is lower-cased (same length), which spares "SHOUTOUT" from becoming a PERSON.
"""

from __future__ import annotations

import html
import re

URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
HASHTAG = re.compile(r"(?<![\w#&])#\w+")
RETWEET = re.compile(r"^\s*RT\s+@\w{1,30}:?\s*")
MARKER = re.compile(r"(?<!\w)(?:RT|MT|via)(?=\s+@)")
SPACE = re.compile(r"\s+")
SHOUTING = 0.8  # share of upper-case letters that makes a post "shouted"


def readable(text: str) -> str:
    """The post without its retweet prefix and links, entities decoded, one line."""
    text = RETWEET.sub("", text or "")
    text = URL.sub(" ", text)
    return SPACE.sub(" ", html.unescape(text)).strip()


def _emoji_spans(text: str) -> list[tuple[int, int]]:
    if text.isascii():
        return []
    import emoji

    spans = [(e["match_start"], e["match_end"]) for e in emoji.emoji_list(text)]
    # Joiners, variation selectors and tag characters left between or after emoji.
    spans += [(m.start(), m.end()) for m in re.finditer(
        "[\u200d\ufe0e\ufe0f\u20e3\U000e0020-\U000e007f\U0001f3fb-\U0001f3ff]", text)]
    return spans


def masked(text: str) -> str:
    """``text`` with emoji, links, mentions, hashtags and RT markers blanked (same length)."""
    chars = list(text)
    spans = _emoji_spans(text)
    for pattern in (URL, MENTION, HASHTAG, MARKER):
        spans += [(m.start(), m.end()) for m in pattern.finditer(text)]
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    out = "".join(chars)
    letters = [c for c in out if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) >= SHOUTING * len(letters):
        lower = out.lower()
        if len(lower) == len(out):
            return lower
    return out


def pieces(original: str, blank: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of ``[start, end)`` not blanked in ``blank``, trimmed, with a letter or digit.

    A model may stretch a span across blanked characters ("RT @x Jamie Lee @y"); the
    span is cut at them, so only words the post really has are reported.
    """
    def cut(k: int) -> bool:  # blanked by the mask, or a line break
        return (blank[k] == " " and not original[k].isspace()) or original[k] in "\r\n"

    out = []
    i = start
    while i < end:
        while i < end and (cut(i) or original[i].isspace()):
            i += 1
        j = i
        while j < end and not cut(j):
            j += 1
        e = j
        while e > i and original[e - 1].isspace():
            e -= 1
        if e > i and any(c.isalnum() for c in original[i:e]):
            out.append((i, e))
        i = j
    return out
