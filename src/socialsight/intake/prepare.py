"""What every incoming post gets before the lake writes it, whether `import` read it
from a file or `run` from a live source: its language where the platform gave none,
its raw JSON, and where it came from (``_source``, ``_line``, for error rows).
"""

from __future__ import annotations

import pyarrow as pa

from socialsight.posts.canonical import Post


def detect_language(text: str) -> str | None:
    """The language of a post the platform did not tag (fills ``tweets.lang``)."""
    from socialsight.language.languages import language
    from socialsight.language.prepare import readable

    return language(readable(text))[0]


def prepare(post: Post, source: str, line: int | None = None, raw: str | None = None) -> Post:
    """``post``, ready for the lake (changed in place): ``lang`` detected where the
    platform gave none, ``raw_json`` set to ``raw`` where the converter kept none, and
    ``_source`` (unless set already) and ``_line`` recorded."""
    if not post.get("lang") and post.get("text"):
        post["lang"] = detect_language(post["text"])
    if post.get("raw_json") is None and raw is not None:
        post["raw_json"] = raw
    post.setdefault("_source", source)
    if line is not None:
        post["_line"] = line
    return post


def with_languages(posts: pa.Table) -> pa.Table:
    """``posts`` (a ``tweets`` table) with ``lang`` detected where the platform gave none:
    :func:`prepare`'s language step for posts converted in bulk."""
    lang = posts.column("lang")
    if not lang.null_count:
        return posts
    values = lang.to_pylist()
    texts = posts.column("text").to_pylist()
    filled = [v if v or not t else detect_language(t) for v, t in zip(values, texts, strict=True)]
    index = posts.schema.get_field_index("lang")
    return posts.set_column(index, "lang", pa.array(filled, lang.type))
