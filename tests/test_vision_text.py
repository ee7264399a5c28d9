"""Text in photos: the words a person reads, as Rekognition's LINE and WORD detections."""

from __future__ import annotations

import pytest

from socialsight.vision.text import detect_text
from tests.test_vision_labels import package_photo


def test_a_page_reads_line_by_line_with_its_words():
    found = detect_text(package_photo("page.png"))
    lines = [d for d in found if d.type == "LINE"]
    words = [d for d in found if d.type == "WORD"]
    assert lines[0].detectedtext == "Region-based segmentation" and lines[0].id == 0
    assert [d.id for d in lines] == list(range(len(lines)))
    assert "histogram of grey values:" in [d.detectedtext for d in lines]
    tops = [min(y for _, y in d.polygon) for d in lines]
    assert tops == sorted(tops)  # reading order
    # Words follow the lines, each pointing at the line it belongs to.
    assert min(w.id for w in words) == len(lines)
    by_id = {d.id: d for d in lines}
    for word in ("markers", "coins", "segmentation"):
        hits = [w for w in words if w.detectedtext == word]
        assert hits, word
        assert all(word in by_id[w.parentid].detectedtext for w in hits)
    for detection in found:
        row = detection.as_rekognition()
        box = row["geometry"]["boundingbox"]
        assert 0 <= box["left"] <= box["left"] + box["width"] <= 1
        assert 0 <= box["top"] <= box["top"] + box["height"] <= 1
        assert len(row["geometry"]["polygon"]) == 4 and 0 < row["confidence"] <= 100


def test_a_photo_without_text_has_no_detections():
    assert detect_text(package_photo("astronaut.png")) == []
    assert [d for d in detect_text(package_photo("chelsea.png"), min_confidence=80)
            if d.type == "LINE"] == []


def test_the_quick_look_for_text_finds_the_page_and_passes_over_a_cat_and_a_crowd():
    from socialsight.vision.text import likely_text

    assert likely_text(package_photo("page.png"))
    assert likely_text(package_photo("text.png"))
    for photo in ("chelsea.png", "hubble_deep_field.jpg", "brick.png", "camera.png"):
        assert not likely_text(package_photo(photo)), photo


@pytest.mark.slow
def test_readings_from_many_threads_at_once_are_each_right():
    # The AWS API answers DetectText from a thread pool: one engine, many callers.
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from PIL import Image

    banner = Image.open(Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"
                        / "sale-banner.png")
    alone = [t.detectedtext for t in detect_text(banner) if t.type == "LINE"]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: [t.detectedtext for t in detect_text(banner)
                                            if t.type == "LINE"], range(8)))
    assert "SUMMER SALE" in alone
    assert together == [alone] * 8


def test_textures_read_as_one_character_over_and_over_are_not_text():
    from socialsight.vision.text import _written

    assert _written("SALE 50%") and _written("MA") and _written("105")
    assert not _written("AAAAAA") and not _written("●000") and not _written("O")
