"""The post's text on the dashboard with ``language.redact_pii``: each PII span the lake
marked shows as ``[TYPE]`` on the page and in its JSON twin; without it, as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socialsight.lake.store import Lake
from tests.conftest import status, write_jsonl
from tests.web.conftest import dashboard_settings

CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"
# Emoji and a link before the PII: the masks must land exactly on it.
TEXT = f"🚀👨‍👩‍👧 https://t.co/abc123 Hi Jane Doe, mail {EMAIL} or charge my card {CARD}"
POST, PHOTO = "7", "70"  # status(7, photos=[…]) gives its photo the id 70


@pytest.fixture
def lake(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A post with PII and a photo, enriched; the photo's URL is one the fetch guards
    refuse (loopback), so it has a row and no model reads it."""
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")
    photo = "http://127.0.0.1:9/photo.jpg"
    posts = write_jsonl(tmp_path / "posts.jsonl", [status(int(POST), TEXT, photos=[photo])])
    assert cli("import", str(posts)).exit_code == 0
    result = cli("enrich")
    assert result.exit_code == 0, result.output
    return Lake(str(tmp_path / "lake"))


@pytest.fixture
def client(lake: Lake) -> Iterator[Any]:
    """``client(redact)``: the dashboard on ``lake`` with ``language.redact_pii`` so."""
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    clients = []

    def make(redact: bool) -> Any:
        settings = dashboard_settings(lake)
        settings.language.redact_pii = redact
        test_client = TestClient(create_app(lake, settings), base_url="http://localhost")
        clients.append(test_client.__enter__())
        return clients[-1]

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def test_the_post_shows_its_pii_masked_with_redact_on(client: Any) -> None:
    dashboard = client(True)
    answer = dashboard.get(f"/api/photo/{POST}/{PHOTO}")
    assert answer.status_code == 200, answer.text
    post = answer.json()["post"]
    assert post["text"] == ("🚀👨‍👩‍👧 https://t.co/abc123 Hi [NAME], mail [EMAIL] or "
                            "charge my card [CREDIT_DEBIT_NUMBER]")
    assert {(p["type"], p["entity"]) for p in post["pii"]} >= {
        ("EMAIL", "[EMAIL]"), ("CREDIT_DEBIT_NUMBER", "[CREDIT_DEBIT_NUMBER]"),
        ("URL", "https://t.co/abc123")}
    # Entities over a masked span are masked too; none is a PII row.
    assert not any(e["type"].startswith("PII:") for e in post["entities"])
    shown = " ".join(e["entity"] for e in post["entities"])
    assert EMAIL not in shown and CARD not in shown and "Jane Doe" not in shown
    page = dashboard.get(f"/photo/{POST}/{PHOTO}")
    assert page.status_code == 200
    assert "[EMAIL]" in page.text and "[CREDIT_DEBIT_NUMBER]" in page.text
    for value in (EMAIL, CARD, "Jane Doe"):
        assert value not in page.text


def test_the_post_shows_its_text_as_written_with_redact_off(client: Any) -> None:
    dashboard = client(False)
    post = dashboard.get(f"/api/photo/{POST}/{PHOTO}").json()["post"]
    assert post["text"] == TEXT
    assert ("EMAIL", EMAIL) in {(p["type"], p["entity"]) for p in post["pii"]}
    page = dashboard.get(f"/photo/{POST}/{PHOTO}").text
    assert EMAIL in page and CARD in page and "[EMAIL]" not in page
