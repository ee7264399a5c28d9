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

Each kind is one entry of :data:`SOURCES`; its maker (a ``from_spec`` classmethod)
takes the rest of the spec and :class:`~socialsight.config.CollectSettings`, which hold
the tokens (``collect.x_bearer_token``, ``collect.mastodon_token``) and the sources'
poll and backoff tunables.
"""

from __future__ import annotations

from collections.abc import Callable

from socialsight.config import CollectSettings
from socialsight.errors import ConfigError
from socialsight.sources import x_api
from socialsight.sources.base import Source
from socialsight.sources.bluesky import Jetstream
from socialsight.sources.follow import FollowFiles
from socialsight.sources.mastodon import MastodonTag

# Each kind of source, by the word before the first colon; each maker takes the rest
# of the spec (never blank) and the settings. A new source adds one line here.
SOURCES: dict[str, Callable[[str, CollectSettings], Source]] = {
    "file": FollowFiles.from_spec,
    "bluesky": Jetstream.from_spec,
    "mastodon": MastodonTag.from_spec,
    "x": x_api.from_spec,  # x:search:QUERY (XSearch) or x:stream:RULE (XStream)
}

EXAMPLES = ("file:posts.jsonl", "bluesky:#kindle", "mastodon:mastodon.social#books",
            "x:search:kindle", "x:stream:kindle has:images")


def parse(spec: str, settings: CollectSettings | None = None) -> Source:
    """The source a spec names; a ConfigError that shows the spellings otherwise."""
    kind, _, rest = spec.partition(":")
    make = SOURCES.get(kind.strip().lower())
    if make is None or not rest.strip():
        raise ConfigError(
            f"unknown source {spec!r}: write one of " + ", ".join(f"{k}:..." for k in SOURCES)
            + " (e.g. " + ", ".join(EXAMPLES) + ")")
    return make(rest, settings or CollectSettings())
