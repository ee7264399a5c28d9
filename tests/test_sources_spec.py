"""Sources named in one word: the table of kinds, and settings reaching the sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialsight.config import CollectSettings, load_settings
from socialsight.errors import ConfigError
from socialsight.sources.bluesky import Jetstream
from socialsight.sources.follow import FollowFiles
from socialsight.sources.mastodon import MastodonTag
from socialsight.sources.spec import SOURCES, parse
from socialsight.sources.x_api import XSearch, XStream


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("X_BEARER_TOKEN", "SOCIALSIGHT_X_BEARER_TOKEN", "SOCIALSIGHT_MASTODON_TOKEN",
                 "SOCIALSIGHT_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_every_kind_of_source_is_named_in_one_word(tmp_path: Path) -> None:
    settings = CollectSettings(x_bearer_token="t0ken-for-x")
    cases = {
        "file:posts.jsonl": (FollowFiles, f"file:{tmp_path / 'posts.jsonl'}"),
        "bluesky:#kindle,books": (Jetstream, "bluesky:#kindle,books"),
        "bluesky:*": (Jetstream, "bluesky:*"),
        "Mastodon:mastodon.social#Books": (MastodonTag, "mastodon:mastodon.social#books"),
        "x:search:kindle has:images": (XSearch, "x:search:kindle has:images"),
        "x:stream:kindle": (XStream, "x:stream:kindle"),
    }
    for spec, (kind, key) in cases.items():
        source = parse(spec, settings)
        assert isinstance(source, kind) and source.key == key, spec
    assert set(SOURCES) == {"file", "bluesky", "mastodon", "x"}


@pytest.mark.parametrize("spec", ["ftp:somewhere", "bluesky:", "nothing", "file:  "])
def test_an_unknown_spelling_lists_the_kinds(spec: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse(spec)
    message = str(refused.value)
    assert repr(spec) in message
    for kind in ("file:", "bluesky:", "mastodon:", "x:"):
        assert kind in message


@pytest.mark.parametrize(("spec", "hint"), [
    ("mastodon:mastodon.social", "mastodon:HOST#TAG"),
    ("mastodon:#books", "mastodon:HOST#TAG"),
    ("x:search:", "x:search:QUERY"),
    ("x:follow:someone", "x:stream:RULE")])
def test_a_malformed_spec_says_how_to_write_it(spec: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint):
        parse(spec, CollectSettings(x_bearer_token="t0ken-for-x"))


def test_tokens_and_tunables_come_from_the_settings(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    (tmp_path / "socialsight.toml").write_text(
        "[collect]\nx_poll_seconds = 15\nmastodon_poll_seconds = 5\nbackoff_seconds = 2\n"
        "max_backoff_seconds = 20\n")
    monkeypatch.setenv("SOCIALSIGHT_MASTODON_TOKEN", "mastodon-secret")
    monkeypatch.setenv("X_BEARER_TOKEN", "x-secret")
    collect = load_settings().collect
    search = parse("x:search:kindle", collect)
    assert isinstance(search, XSearch)
    assert search.token == "x-secret" and search.pacing.poll_seconds == 15
    tag = parse("mastodon:mastodon.social#books", collect)
    assert isinstance(tag, MastodonTag)
    assert tag.token == "mastodon-secret" and tag.poll_seconds == 5
    assert (tag.backoff_seconds, tag.max_backoff_seconds) == (2, 20)
    jetstream = parse("bluesky:#kindle", collect)
    assert isinstance(jetstream, Jetstream)
    assert (jetstream.backoff_initial, jetstream.backoff_max) == (2, 20)
    monkeypatch.setenv("SOCIALSIGHT_COLLECT_MASTODON_TOKEN", "newer-name")
    assert parse("mastodon:mastodon.social#books", load_settings().collect).token == "newer-name"
    assert "mastodon-secret" not in repr(load_settings())
