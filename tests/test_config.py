"""Settings: precedence, clear errors, and every setting documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialsight.config import documented_settings, load_settings
from socialsight.errors import ConfigError

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented_with_its_env_var_and_default() -> None:
    text = DOC.read_text()
    for name in documented_settings():
        env = "SOCIALSIGHT_" + name.replace(".", "_").upper()
        assert f"`{name}`" in text, f"{name} is not in docs/configuration.md"
        assert env in text, f"{env} is not in docs/configuration.md"
    # rows of the settings table: | `name` | `SOCIALSIGHT_NAME` | default | what it does |
    documented = set(re.findall(r"^\| `([a-z_.]+)` \| `SOCIALSIGHT_", text, flags=re.M))
    assert documented == set(documented_settings()), "docs list a setting that does not exist"


def test_precedence_file_then_env_then_flags(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("SOCIALSIGHT_LAKE", "SOCIALSIGHT_CONFIG", "SOCIALSIGHT_INGEST_BATCH_SIZE"):
        monkeypatch.delenv(key, raising=False)
    assert load_settings().lake == "lake"
    (tmp_path / "socialsight.toml").write_text('lake = "from-file"\n[ingest]\nbatch_size = 7\n')
    assert load_settings().lake == "from-file"
    assert load_settings().ingest.batch_size == 7
    monkeypatch.setenv("SOCIALSIGHT_LAKE", "from-env")
    monkeypatch.setenv("SOCIALSIGHT_INGEST_BATCH_SIZE", "9")
    assert load_settings().lake == "from-env"
    assert load_settings().ingest.batch_size == 9
    assert load_settings(lake="from-flag").lake == "from-flag"


def test_bad_settings_say_which_and_why(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCIALSIGHT_INGEST_BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match=r"ingest\.batch_size"):
        load_settings()
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_tokens_are_settings_under_old_and_new_names_and_never_printed(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("X_BEARER_TOKEN", "SOCIALSIGHT_X_BEARER_TOKEN", "SOCIALSIGHT_MASTODON_TOKEN",
                "SOCIALSIGHT_COLLECT_X_BEARER_TOKEN", "SOCIALSIGHT_COLLECT_MASTODON_TOKEN",
                "SOCIALSIGHT_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    collect = load_settings().collect
    assert collect.x_bearer_token is None and collect.mastodon_token is None
    monkeypatch.setenv("X_BEARER_TOKEN", "x-secret-one")
    monkeypatch.setenv("SOCIALSIGHT_MASTODON_TOKEN", "m-secret-one")
    settings = load_settings()
    assert settings.collect.x_bearer_token.get_secret_value() == "x-secret-one"
    assert settings.collect.mastodon_token.get_secret_value() == "m-secret-one"
    monkeypatch.setenv("SOCIALSIGHT_X_BEARER_TOKEN", "x-secret-two")
    monkeypatch.setenv("SOCIALSIGHT_COLLECT_MASTODON_TOKEN", " m-secret-two ")
    settings = load_settings()
    assert settings.collect.x_bearer_token.get_secret_value() == "x-secret-two"
    assert settings.collect.mastodon_token.get_secret_value() == "m-secret-two"
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "x-secret" not in shown and "m-secret" not in shown
    monkeypatch.setenv("SOCIALSIGHT_COLLECT_X_POLL_SECONDS", "-1")
    with pytest.raises(ConfigError) as bad:
        load_settings()
    assert "collect.x_poll_seconds" in str(bad.value) and "-secret" not in str(bad.value)
