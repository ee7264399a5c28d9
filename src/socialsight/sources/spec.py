"""Sources named in one word, for the command line and the config file.

========================  ===============================================================
``file:PATH``             a JSON-lines file (or a folder of them), followed as it grows
``bluesky:#TAG``          Bluesky's Jetstream, posts with the hashtag (``bluesky:word``
                          matches a word; several filters: ``bluesky:#kindle,#books``;
                          ``bluesky:*`` takes every post)
``mastodon:HOST#TAG``     a Mastodon instance's hashtag stream (``mastodon:mastodon.social#books``)
``x:search:QUERY``        X API v2 recent search, polled (needs ``X_BEARER_TOKEN``)
``x:stream:RULE``         X API v2 filtered stream with this rule (needs ``X_BEARER_TOKEN``)
========================  ===============================================================
"""

from __future__ import annotations

from socialsight.config import CollectSettings
from socialsight.errors import ConfigError
from socialsight.sources.base import Source

EXAMPLES = ("file:posts.jsonl", "bluesky:#kindle", "mastodon:mastodon.social#books",
            "x:search:kindle", "x:stream:kindle has:images")


def parse(spec: str, settings: CollectSettings | None = None) -> Source:
    """The source a spec names; a ConfigError that shows the spellings otherwise."""
    s = settings or CollectSettings()
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not rest.strip():
        raise _unknown(spec)
    if kind == "file":
        from socialsight.sources.follow import FollowFiles

        return FollowFiles(rest)
    if kind == "bluesky":
        from socialsight.sources.bluesky import Jetstream

        filters = [] if rest.strip() == "*" else [f.strip() for f in rest.split(",")
                                                   if f.strip()]
        return Jetstream(endpoint=s.bluesky_endpoint, filters=filters)
    if kind == "mastodon":
        host, hash_, tag = rest.partition("#")
        if not hash_ or not host.strip() or not tag.strip():
            raise ConfigError(f"{spec!r}: write mastodon:HOST#TAG, e.g. "
                              "mastodon:mastodon.social#books")
        from socialsight.sources.mastodon import MastodonTag

        return MastodonTag(host.strip(), tag.strip())
    if kind == "x":
        mode, _, query = rest.partition(":")
        from socialsight.sources import x_api

        if mode == "search" and query.strip():
            return x_api.XSearch(query.strip(), base_url=s.x_base_url)
        if mode == "stream" and query.strip():
            return x_api.XStream([query.strip()], base_url=s.x_base_url)
        raise ConfigError(f"{spec!r}: write x:search:QUERY or x:stream:RULE")
    raise _unknown(spec)


def _unknown(spec: str) -> ConfigError:
    return ConfigError(f"unknown source {spec!r}: use one of " + ", ".join(EXAMPLES))
