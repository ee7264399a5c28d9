"""Who gets in: loopback by default, a token beyond it, no other site's pages or files."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialsight.errors import ConfigError
from socialsight.lake.store import Lake
from socialsight.web.app import create_app
from tests.web.conftest import dashboard_settings

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def guarded(demo_lake: Lake) -> TestClient:
    settings = dashboard_settings(demo_lake, host="0.0.0.0", token=TOKEN)
    return TestClient(create_app(demo_lake, settings), base_url="http://10.1.2.3:8000",
                      follow_redirects=False)


def test_listening_beyond_loopback_needs_a_token(demo_lake: Lake) -> None:
    with pytest.raises(ConfigError, match="set a token"):
        create_app(demo_lake, dashboard_settings(demo_lake, host="0.0.0.0"))
    with pytest.raises(ConfigError, match="at least 16"):
        create_app(demo_lake, dashboard_settings(demo_lake, host="0.0.0.0", token="short"))


def test_without_the_token_pages_ask_for_it_and_json_is_refused(guarded: TestClient) -> None:
    page = guarded.get("/labels?q=cat")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/labels%3Fq%3Dcat"
    assert guarded.get("/api/overview").status_code == 401
    assert guarded.get("/api/openapi.json").status_code == 401
    docs = guarded.get("/api/docs")  # the footer's link: a page, so to the sign-in page
    assert docs.status_code == 303 and docs.headers["location"] == "/login?next=/api/docs"
    assert guarded.get("/photos/" + "0" * 64).status_code == 401
    assert guarded.get("/api/overview",
                       headers={"Authorization": "Bearer wrong-token-000000"}).status_code == 401


def test_the_token_opens_everything(guarded: TestClient) -> None:
    answer = guarded.get("/api/overview", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json()["totals"]["posts"] == 26


def test_signing_in_sets_a_cookie_and_returns_to_the_page(demo_lake: Lake) -> None:
    settings = dashboard_settings(demo_lake, host="0.0.0.0", token=TOKEN)
    browser = TestClient(create_app(demo_lake, settings), base_url="http://10.1.2.3:8000",
                         follow_redirects=False)
    wrong = browser.post("/login", data={"token": "nope", "next": "/labels"})
    assert wrong.status_code == 401 and "not the token" in wrong.text
    right = browser.post("/login", data={"token": TOKEN, "next": "/labels"})
    assert right.status_code == 303 and right.headers["location"] == "/labels"
    assert "httponly" in right.headers["set-cookie"].lower()
    assert browser.get("/api/overview").status_code == 200  # the cookie now opens it
    # /login never sends anyone to another site
    offsite = browser.post("/login", data={"token": TOKEN, "next": "//evil.example/x"})
    assert offsite.headers["location"] == "/"


def test_on_loopback_other_host_names_are_refused(client: Any) -> None:
    # DNS rebinding: a page on evil.example resolving its name to 127.0.0.1
    assert client.get("/api/overview", headers={"Host": "evil.example"}).status_code == 421
    assert client.get("/api/overview", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_writes_from_another_origin_are_refused(client: Any) -> None:
    answer = client.post("/api/sql", json={"sql": "SELECT 1"},
                         headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403


def test_photos_are_only_read_by_their_sha256(client: Any) -> None:
    for name in ("..%2F..%2F..%2Fetc%2Fpasswd", "x" * 64, "A" * 64, "0" * 63):
        answer = client.get(f"/photos/{name}")
        assert answer.status_code == 404, name


def test_pages_load_nothing_from_other_sites(client: Any) -> None:
    page = client.get("/")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith(("/", "?", "#")) for s in sources), sources
    assert "/static-vendor/plotly.min.js" in sources
    library = client.get("/static-vendor/plotly.min.js")
    assert library.status_code == 200 and b"plotly" in library.content[:2000].lower()
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_serve_refuses_a_public_address_without_a_token(demo_lake: Lake) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "socialsight", "serve", "--lake", demo_lake.url,
         "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert run.returncode == 1
    assert "set a token" in run.stderr


def test_an_empty_token_means_none(demo_lake: Lake) -> None:
    open_app = TestClient(create_app(demo_lake, dashboard_settings(demo_lake, token="")),
                          base_url="http://localhost")
    assert open_app.get("/api/overview").status_code == 200
    with pytest.raises(ConfigError, match="set a token"):
        create_app(demo_lake, dashboard_settings(demo_lake, host="0.0.0.0", token=""))


@pytest.mark.parametrize("token", [" " * 16, " " * 40, "short token\t\t\t\t\t\t\t\t"])
def test_a_token_needs_16_characters_that_are_not_spaces(demo_lake: Lake, token: str) -> None:
    with pytest.raises(ConfigError, match="16 characters that are not spaces"):
        create_app(demo_lake, dashboard_settings(demo_lake, host="0.0.0.0", token=token))
    with pytest.raises(ConfigError, match="16 characters that are not spaces"):
        create_app(demo_lake, dashboard_settings(demo_lake, token=token))


@pytest.mark.parametrize(("host", "base_url"), [
    ("127.0.0.2", "http://127.0.0.2:8000"),
    ("127.0.0.1", "http://127.0.0.1:8000"),
    ("::1", "http://[::1]:8000"),
    ("localhost", "http://localhost:8000"),
])
def test_the_address_it_listens_on_is_a_host_it_answers(demo_lake: Lake, host: str,
                                                         base_url: str) -> None:
    browser = TestClient(create_app(demo_lake, dashboard_settings(demo_lake, host=host)),
                         base_url=base_url)
    assert browser.get("/api/overview").status_code == 200
    # still no other name: a rebinding page's own host is refused
    assert browser.get("/api/overview", headers={"Host": "evil.example"}).status_code == 421
    assert browser.get("/api/overview",
                       headers={"Host": "127.0.0.2.evil.example"}).status_code == 421
