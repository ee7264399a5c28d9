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


def _exif_with_a_damaged_field(orientation: int) -> bytes:
    """An EXIF block (big-endian TIFF) with the orientation and a resolution written as
    text, as some cameras' and editors' damaged blocks have it."""
    text = b"seventy-two\x00"
    entries = [(0x0112, 3, 1, orientation.to_bytes(2, "big") + b"\0\0"),
               (0x011B, 2, len(text), (8 + 2 + 12 * 2 + 4).to_bytes(4, "big"))]
    ifd = len(entries).to_bytes(2, "big") + b"".join(
        tag.to_bytes(2, "big") + kind.to_bytes(2, "big") + count.to_bytes(4, "big") + value
        for tag, kind, count, value in entries) + b"\0\0\0\0"
    return b"Exif\0\0" + b"MM\0\x2a" + (8).to_bytes(4, "big") + ifd + text


def test_a_damaged_exif_block_still_turns_the_photo_and_never_fails():
    photo = package_photo("astronaut.png").convert("RGB").resize((300, 200))
    sideways = photo.transpose(Image.Transpose.ROTATE_90)
    # (Pillow's own ImageOps.exif_transpose rewrites this block, and fails with a TypeError)
    data = _bytes(sideways, format="JPEG", exif=_exif_with_a_damaged_field(6), quality=95)
    seen = decode(data, FetchSettings())
    assert seen.size == photo.size
    assert np.abs(np.asarray(seen, np.int16) - np.asarray(photo, np.int16)).mean() < 4
    # an orientation that is no orientation is taken as upright
    odd = decode(_bytes(sideways, format="JPEG", exif=_exif_with_a_damaged_field(77)),
                 FetchSettings())
    assert odd.size == sideways.size
