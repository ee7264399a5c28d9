"""Mastodon's sanitized HTML as plain text, with where each link landed.

``<br>`` is a newline, block elements are apart by a line break (paragraphs by a blank
line), entities are unescaped and link URLs written out whole; each ``<a>`` becomes an
:class:`Anchor` whose offsets point into the text (code points, end exclusive), with the
visible part Mastodon marks (``<span class="invisible">`` hidden, ``…`` added after
``class="ellipsis"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Block elements and the line break each puts between its text and what is around it.
BREAKS = {
    "p": "\n\n", "blockquote": "\n\n", "pre": "\n\n", "ul": "\n\n", "ol": "\n\n",
    "h1": "\n\n", "h2": "\n\n", "h3": "\n\n", "h4": "\n\n", "h5": "\n\n", "h6": "\n\n",
    "div": "\n", "li": "\n",
}


@dataclass
class Anchor:
    """One ``<a>`` of the content: where its text is in the plain text, and its marks."""

    start: int
    end: int
    href: str | None
    classes: frozenset[str]
    rels: frozenset[str]
    display: str


@dataclass
class _OpenAnchor:
    href: str | None
    classes: frozenset[str]
    rels: frozenset[str]
    start: int | None = None
    visible: list[str] = field(default_factory=list)
    ellipsis: bool = False


def _words(value: str | None) -> frozenset[str]:
    return frozenset((value or "").split())


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.owed = ""  # line breaks owed before the next text
        self.anchors: list[Anchor] = []
        self._anchor: _OpenAnchor | None = None
        self._spans: list[frozenset[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in BREAKS:
            self._owe(BREAKS[tag])
        elif tag == "br":
            self._put("\n")
        elif tag == "a" and self._anchor is None:
            self._anchor = _OpenAnchor(values.get("href"), _words(values.get("class")),
                                       _words(values.get("rel")))
        elif tag == "span":
            self._spans.append(_words(values.get("class")))
        elif tag == "img" and values.get("alt"):
            self._put(values["alt"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in BREAKS:
            self._owe(BREAKS[tag])
        elif tag == "a" and self._anchor is not None:
            self._close_anchor(self._anchor)
            self._anchor = None
        elif tag == "span" and self._spans:
            self._spans.pop()

    def handle_data(self, data: str) -> None:
        if data:
            self._put(data)

    def _owe(self, brk: str) -> None:
        if self.size and len(brk) > len(self.owed):
            self.owed = brk

    def _put(self, text: str) -> None:
        if self.owed:
            self._trim()
            self._append(self.owed)
            self.owed = ""
        anchor = self._anchor
        if anchor is not None:
            if anchor.start is None:
                anchor.start = self.size
            if not any("invisible" in classes for classes in self._spans):
                anchor.visible.append(text)
            if any("ellipsis" in classes for classes in self._spans):
                anchor.ellipsis = True
        self._append(text)

    def _trim(self) -> None:
        """Drop the spaces before a line break (``#tag </p>``)."""
        while self.parts and self.parts[-1].endswith((" ", "\t")):
            last = self.parts.pop()
            kept = last.rstrip(" \t")
            self.size -= len(last) - len(kept)
            if kept:
                self.parts.append(kept)
                break
        for anchor in self.anchors:
            anchor.end = min(anchor.end, self.size)

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def _close_anchor(self, anchor: _OpenAnchor) -> None:
        if anchor.start is None:
            return
        display = "".join(anchor.visible) + ("…" if anchor.ellipsis else "")
        self.anchors.append(Anchor(anchor.start, self.size, anchor.href, anchor.classes,
                                   anchor.rels, display))


def render(html: str) -> tuple[str, list[Anchor]]:
    """The plain text of Mastodon HTML content, and its links with their offsets."""
    renderer = _Renderer()
    renderer.feed(html)
    renderer.close()
    text = "".join(renderer.parts).rstrip()
    anchors = [a for a in renderer.anchors if a.start < len(text)]
    for anchor in anchors:
        anchor.end = min(anchor.end, len(text))
    return text, anchors
