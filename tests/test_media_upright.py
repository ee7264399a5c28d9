"""A decoded photo as a person sees it: turned by its EXIF orientation, 8 bits a channel."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from socialsight.config import FetchSettings
from socialsight.media.photo import decode
from socialsight.vision import logos
from tests.test_vision_labels import package_photo


def _bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def test_a_16_bit_grey_logo_is_seen_as_its_8_bit_self():
    grey = package_photo("logo.png").convert("L")
    wide = Image.fromarray(np.asarray(grey, dtype=np.uint16) * 257)
    data = _bytes(wide, format="PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # Pillow's 16-bit grey
    seen = decode(data, FetchSettings())
    assert seen.mode == "L"
    np.testing.assert_array_equal(np.asarray(seen), np.asarray(grey))
    # it enrols as the 8-bit logo does (it was clipped to black and white before)
    assert len(logos.logo_features(seen).points) == len(logos.logo_features(grey).points)


def test_a_photo_stored_sideways_with_its_orientation_tag_is_turned():
    photo = package_photo("astronaut.png").convert("RGB").resize((300, 200))
    sideways = photo.transpose(Image.Transpose.ROTATE_90)  # as a phone stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to view"
    seen = decode(_bytes(sideways, format="JPEG", exif=exif, quality=95), FetchSettings())
    assert seen.size == photo.size
    difference = np.abs(np.asarray(seen, np.int16) - np.asarray(photo, np.int16)).mean()
    assert difference < 4
    # without the tag, it stays as stored
    plain = decode(_bytes(sideways, format="JPEG", quality=95), FetchSettings())
    assert plain.size == sideways.size
