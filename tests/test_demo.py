"""`make demo`: the bundled corpus through the real pipeline shows every analysis."""

from __future__ import annotations

import pytest

from socialsight.config import load_settings
from socialsight.demo import QUERIES, run_demo
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries


@pytest.mark.slow
def test_the_demo_shows_results_from_every_analysis(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")
    settings = load_settings(lake=str(tmp_path / "demo-lake"))
    lake = Lake(settings.lake)
    status = run_demo(lake, settings)
    assert status.collect.posts == 26 and status.error is None  # 20 from X, 3 Mastodon, 3 Bluesky
    engine = Engine(lake)

    def column(name: str) -> list:
        return [next(iter(r.values())) for r in engine.execute(seed_queries()[name])
                .table.to_pylist()]

    assert {"Person", "Coffee", "Cat", "Text"} <= set(column("top_labels"))
    assert "HAPPY" in column("top_emotions")
    assert column("top_celebrities") == ["Grace Hopper"]
    assert len(column("suspect_content")) == 1  # the post its author marked sensitive
    assert column("sentiment_over_time")  # every day has its shares
    platforms = engine.execute("SELECT platform, count(*) FROM tweets GROUP BY 1").table
    assert dict(zip(*platforms.to_pydict().values(), strict=True)) == {
        "x": 20, "mastodon": 3, "bluesky": 3}
    lines = [t["detectedtext"] for r in lake.read("media_rekognition").to_pylist()
             if r["media_url"].endswith("sale-banner.png")
             for t in r["image_labels"]["textdetections"] if t["type"] == "LINE"]
    assert "SUMMER SALE" in lines
    errors = lake.read("errors").to_pylist()
    assert errors == [], errors
    for name in QUERIES:
        engine.execute(seed_queries()[name])  # every query the demo prints runs
