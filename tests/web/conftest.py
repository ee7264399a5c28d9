"""The dashboard's fixtures: a demo lake built by the real pipeline, the app, a browser.

- ``demo_lake``: ``socialsight demo``'s corpus collected and analysed once per
  session (real models on real photos), shared read-only by every test here.
- ``client``: the app in process (FastAPI's TestClient), for pages and JSON.
- ``server`` and ``browser_page``: the app on a real loopback port under uvicorn,
  and Debian's Chromium driven headless by Playwright. Without Chromium the browser
  tests skip, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socialsight.config import Settings, load_settings
from socialsight.lake.store import Lake
from tests import liveserver

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
# Chromium logs a refused request (400: bad SQL, a bad filter) on the console; pages
# show those to the user on purpose, so they are not errors of the page.
EXPECTED = "Failed to load resource: the server responded with a status of 400"


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    from socialsight.demo import run_demo

    os.environ.setdefault("SOCIALSIGHT_ENRICH_WORKERS", "1")
    settings = load_settings(lake=str(tmp_path_factory.mktemp("dashboard") / "demo-lake"))
    lake = Lake(settings.lake)
    status = run_demo(lake, settings)
    assert status.error is None and status.enrich.photos > 0
    return lake


def dashboard_settings(lake: Lake, **serve: Any) -> Settings:
    settings = load_settings(lake=lake.url)
    for key, value in serve.items():
        setattr(settings.serve, key, value)
    return settings


@pytest.fixture(scope="session")
def client(demo_lake: Lake) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    with TestClient(create_app(demo_lake, dashboard_settings(demo_lake)),
                    base_url="http://localhost") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def server(demo_lake: Lake) -> Iterator[str]:
    """The dashboard on 127.0.0.1 under uvicorn; yields its base URL."""
    from socialsight.web.app import create_app

    uv, thread, port = liveserver.start(create_app(demo_lake, dashboard_settings(demo_lake)))
    yield f"http://localhost:{port}"
    liveserver.stop(uv, thread)


def chromium_path() -> str | None:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser(demo_lake: Lake) -> Iterator[Any]:
    # Playwright keeps an event loop running in this thread while it is open, and the
    # pipeline (the demo lake, asyncio.run) cannot start its own inside it: so the demo
    # lake is built first, and the browser closes with each test module.
    path = chromium_path()
    if path is None:
        message = ("Chromium is not installed (apt-get install chromium; "
                   "`make test` installs it where it can)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh browser tab; fails the test on any JavaScript error the page throws."""
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
           and not msg.text.startswith(EXPECTED) else None)
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
