"""Sky from colours: a blue top over a different bottom, not a blue backdrop."""

from __future__ import annotations

import numpy as np
from PIL import Image

from socialsight.vision import eyewear, faces
from socialsight.vision.scenery import scenery
from tests.test_vision_labels import package_photo


def sky_over(photo: Image.Image, colour: tuple[int, int, int] = (110, 160, 225)) -> Image.Image:
    """A real photo under a smooth sky: the top half a gentle blue gradient."""
    photo = photo.convert("RGB")
    height = photo.height
    sky = np.zeros((height // 2, photo.width, 3), dtype=np.float32)
    for row in range(height // 2):
        sky[row] = np.array(colour) + row * 30.0 / height
    out = photo.copy()
    out.paste(Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8)), (0, 0))
    return out


def test_a_blue_sky_over_a_scene_is_sky_and_outdoors():
    found = scenery(sky_over(package_photo("coffee.png")))
    assert found["Sky"] >= 60 and found["Outdoors"] == found["Sky"]


def test_photos_without_sky_and_blue_backdrops_are_not_sky():
    for name in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "page.png"):
        assert scenery(package_photo(name)) == {}, name
    backdrop = Image.new("RGB", (400, 300), (90, 140, 220))  # blue all over
    assert scenery(backdrop) == {}


def test_faces_without_sunglasses_are_judged_and_tiny_ones_are_not():
    photo = package_photo("astronaut.png").convert("RGB")
    found = faces.detect_faces(photo)
    assert [w["value"] for w in eyewear.sunglasses(photo, found)] == [False]
    tiny = photo.resize((40, 40))
    assert eyewear.sunglasses(tiny, [found[0]]) == [None]


def test_odd_photos_go_through_every_new_step():
    from socialsight.vision import labels, moderation

    for size, mode in (((1, 1), "RGB"), ((1, 5000), "RGB"), ((5000, 2), "L"),
                       ((40, 30), "RGBA"), ((40, 30), "P"), ((40, 30), "CMYK")):
        photo = Image.new(mode, size)
        assert set(scenery(photo)) <= {"Sky", "Outdoors"}
        assert moderation.nsfwjs_preprocess(photo).shape == (1, 224, 224, 3)
        assert labels.views(photo.convert("RGB")).shape == (2, 3, 224, 224)
        assert eyewear.sunglasses(photo, []) == []
