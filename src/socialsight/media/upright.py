"""A decoded photo as a person sees it, before any model looks at it.

Two things a viewer applies that Pillow leaves to the caller:

* **EXIF orientation.** A phone stores a portrait photo sideways with a tag saying how
  to turn it; every viewer turns it, and so does Rekognition (its boxes are of the
  turned photo). The platforms turn photos when they re-encode them, but a photo
  enrolled from a phone (a logo, a concept's example, a known person) often still has
  the tag. Only the tag is read: the rest of the EXIF block, damaged or not, is not
  rewritten (Pillow's ``exif_transpose`` rewrites it, and fails on some damaged blocks).
* **16-bit grey.** Pillow opens a 16-bit grey PNG in a 16- or 32-bit mode, which its
  conversions to RGB clip to black and white; it is brought to 8 bits by its high byte.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

VERSION = "upright-1"  # bump with any change to what a decoded photo looks like
ORIENTATION = 0x0112  # the EXIF tag
# how to turn a photo for each EXIF orientation (1, or none: as stored)
TURNS: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
WIDE_GREY = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def orientation(image: Image.Image) -> int:
    """The photo's EXIF orientation (1: as stored; so is a damaged or odd tag)."""
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # any damage in the EXIF block: taken as upright
        return 1
    return value if isinstance(value, int) and value in TURNS else 1


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says and in 8 bits a channel (the same
    object when it needs neither)."""
    turn = TURNS.get(orientation(image))
    if turn is not None:
        image = image.transpose(turn)
    if image.mode in WIDE_GREY:
        values = np.asarray(image)
        high = values >> 8 if values.dtype.itemsize == 2 else np.clip(values, 0, 65535) >> 8
        image = Image.fromarray(high.astype(np.uint8), "L")
    return image
