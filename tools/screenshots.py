"""Screenshots of the dashboard's main pages, for docs/ and the README.

    python tools/screenshots.py [--lake demo-lake] [--out docs/screenshots]

Serves the lake on a free loopback port and photographs each page with Debian's
Chromium (headless, through Playwright), once every chart has been drawn.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import threading
import time
from pathlib import Path

# (file name, path, what to wait for)
PAGES = (
    ("overview", "/", "#posts-over-time[data-rendered]"),
    ("buzz", "/buzz", ".chart[data-rendered]"),
    ("labels", "/labels", ".chart[data-rendered]"),
    ("label-grid", "/labels/Coffee", "ul.grid img"),
    ("faces", "/faces", ".chart[data-rendered]"),
    ("suspect", "/suspect", "ul.grid img"),
    ("people", "/people", "body"),
    ("sentiment", "/sentiment", ".chart[data-rendered]"),
    ("photo-text", "/photo/9000000000000005/90000000000000050", "svg"),
    ("photo-face", "/photo/9000000000000006/90000000000000060", "svg"),
    ("sql", "/sql?sql=SELECT%20label_name%2C%20count(*)%20AS%20photos%20FROM%20"
            "media_image_labels_query%20GROUP%20BY%201%20ORDER%20BY%202%20DESC%20LIMIT%2012",
     "#sql"),
)


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from socialsight.config import load_settings
    from socialsight.lake.store import Lake
    from socialsight.web.app import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lake", default="demo-lake")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    settings = load_settings(lake=args.lake)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Lake(settings.lake), settings),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        for name, path, ready in PAGES:
            page.goto(f"http://localhost:{port}{path}")
            page.wait_for_selector(ready)
            if name == "sql":
                page.click("#run")
                page.wait_for_selector("#result-table tbody tr")
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
            print(args.out / f"{name}.png")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
