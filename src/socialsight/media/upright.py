"""A decoded photo as a person sees it, before any model looks at it.

Two things a viewer applies that Pillow leaves to the caller:

* **EXIF orientation.** A phone stores a portrait photo sideways with a tag saying how
  to turn it; every viewer turns it, and so does Rekognition (its boxes are of the
  turned photo). The platforms turn photos when they re-encode them, but a photo
  enrolled from a phone (a logo, a concept's example, a known person) often still has
  the tag.
* **16-bit grey.** Pillow opens a 16-bit grey PNG in a 16- or 32-bit mode, which its
  conversions to RGB clip to black and white; it is brought to 8 bits by its high byte.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

ORIENTATION = 0x0112  # the EXIF tag
WIDE_GREY = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says and in 8 bits a channel (the same
    object when it needs neither)."""
    try:
        turned = image.getexif().get(ORIENTATION, 1) not in (None, 1)
    except (OSError, ValueError, SyntaxError):  # a damaged EXIF block: taken as upright
        turned = False
    if turned:
        image = ImageOps.exif_transpose(image)
    if image.mode in WIDE_GREY:
        values = np.asarray(image, dtype=np.int64)
        image = Image.fromarray(np.clip(values >> 8, 0, 255).astype(np.uint8), "L")
    return image
