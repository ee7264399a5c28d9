"""Sky and plants from the photo's colours: what no offline model labels.

ImageNet has no sky, tree or grass class and no offline scene model ships (the model
survey), yet a person names Sky first on a landscape. Two colour rules, on a 96-pixel
wide copy of the photo, measured on the development photos of bench/labels.py and
checked on those set aside:

* **Sky**: the top third of the photo is mostly (:data:`SKY_SHARE`) smooth blue, and the
  bottom third is not (a blue studio backdrop or a blue product shot is blue all over);
  or the top third is almost all (:data:`OVERCAST_SHARE`) smooth pale grey with a
  different bottom (an overcast sky; white walls are less uniform or fill the frame).
  A photo with sky is also **Outdoors**.
* **Plant**: a fifth of the photo (:data:`FOLIAGE_SHARE`) or more is textured green
  (leaves, not a green wall).

The confidence grows with the share. Night, Tree and Grass were tried and did not hold
(dark rooms, green circuit boards and lawns alike), so they are not given.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WIDTH = 96
SMOOTH = 0.04  # luminance step (0–1) between neighbours below which a pixel is smooth
SKY_SHARE = 0.5
OVERCAST_SHARE = 0.9
FOLIAGE_SHARE = 0.2


def _confidence(share: float, threshold: float) -> float:
    return round(min(99.0, 60.0 + 80.0 * (share - threshold)), 3)


def scenery(image: Image.Image) -> dict[str, float]:
    """Sky (and Outdoors) and Plant with their confidence (0–100), where the colours
    say so."""
    rgb = image.convert("RGB")
    height = max(8, round(rgb.height * WIDTH / rgb.width))
    small = rgb.resize((WIDTH, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.float32) / 255.0
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32) / 255.0
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    saturation, value = hsv[..., 1], hsv[..., 2]
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    step = (np.abs(np.diff(luminance, axis=0, append=luminance[-1:]))
            + np.abs(np.diff(luminance, axis=1, append=luminance[:, -1:])))
    smooth = step < SMOOTH
    blue = (b > r + 0.06) & (b >= g - 0.02) & (value > 0.35) & smooth
    grey = (saturation < 0.15) & (value > 0.65) & smooth
    top, bottom = slice(0, height // 3), slice(2 * height // 3, height)
    out: dict[str, float] = {}
    for sky, threshold in ((blue, SKY_SHARE), (grey, OVERCAST_SHARE)):
        share = float(sky[top].mean())
        if share >= threshold and float(sky[bottom].mean()) < threshold:
            out["Sky"] = max(out.get("Sky", 0.0), _confidence(share, threshold))
            out["Outdoors"] = out["Sky"]
    green = (g > r + 0.03) & (g > b + 0.03) & (value > 0.12)
    foliage = float((green & ~smooth).mean())
    if foliage >= FOLIAGE_SHARE:
        out["Plant"] = _confidence(foliage, FOLIAGE_SHARE)
    return out
