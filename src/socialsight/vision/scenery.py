"""Sky from the photo's colours: what no offline model labels.

ImageNet has no sky, tree or grass class and no offline scene model ships (the model
survey), yet a person names Sky first on a landscape. One colour rule, on a 96-pixel
wide copy of the photo, measured on the development photos of bench/labels.py and
checked on those set aside:

* **Sky** (and **Outdoors**): the top third of the photo is mostly (:data:`SKY_SHARE`)
  smooth blue, and the bottom third is not (a blue studio backdrop or a blue product
  shot is blue all over). The confidence grows with the share.

Tried and not given, because they did not hold on the development photos or on product
shots from packages: an overcast sky (smooth pale grey: white backdrops and walls),
Plant and Tree (textured green: a green circuit board, a green face mask), Grass (green
at the bottom) and Night (a dark photo: dark rooms).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WIDTH = 96
SMOOTH = 0.04  # luminance step (0–1) between neighbours below which a pixel is smooth
SKY_SHARE = 0.5


def scenery(image: Image.Image) -> dict[str, float]:
    """Sky and Outdoors with their confidence (0–100) where the colours say so."""
    rgb = image.convert("RGB")
    height = min(4 * WIDTH, max(8, round(rgb.height * WIDTH / rgb.width)))  # a strip: squeezed
    small = rgb.resize((WIDTH, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.float32) / 255.0
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32) / 255.0
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    value = hsv[..., 2]
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    step = (np.abs(np.diff(luminance, axis=0, append=luminance[-1:]))
            + np.abs(np.diff(luminance, axis=1, append=luminance[:, -1:])))
    smooth = step < SMOOTH
    blue = (b > r + 0.06) & (b >= g - 0.02) & (value > 0.35) & smooth
    top, bottom = slice(0, height // 3), slice(2 * height // 3, height)
    share = float(blue[top].mean())
    if share < SKY_SHARE or float(blue[bottom].mean()) >= SKY_SHARE:
        return {}
    sure = round(min(99.0, 60.0 + 80.0 * (share - SKY_SHARE)), 3)
    return {"Sky": sure, "Outdoors": sure}
