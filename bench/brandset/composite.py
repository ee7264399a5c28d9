"""Composite the issue-17 logos into the issue-16 photos, and cut logo-free negatives.

Usage: ``python -m bench.brandset.composite [--dest DIR] [--photos DIR] [--seed 17]``

Reads ``DIR/logos/<id>.png`` (made by ``python -m bench.brandset.fetch``) and the photos in
``--photos``/photos, and writes, fully determined by the seed:

- ``DIR/composites/<id>.jpg`` and ``DIR/truth.csv``: each logo pasted into different
  photos, once per composite, at 5, 10, 20 and 35 % of the photo's width (every size
  ROUNDS times), rotated, in mild perspective, relit, blurred, sometimes on a white
  sticker plate or partly occluded by a patch of the photo, saved as JPEG 70-92. The box
  in truth.csv is where the logo's own pixels lie (not its plate), relative 0-1.
- ``DIR/negatives/<id>.jpg`` and ``DIR/negatives.csv``: every photo without a logo, plus
  CROPS distinct crops of each (at least 60 % of each side).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.brandset.fetch import DEFAULT_DEST, load_logos
from bench.labels import held_out
from bench.photoset import fetch as photoset

WIDTHS = (0.05, 0.10, 0.20, 0.35)
ROUNDS = 3
CROPS = 2
LONG_SIDE = (800, 1600)
MAX_ROTATION = 25.0
MAX_CORNER_SHIFT = 0.12
BRIGHTNESS = (0.6, 1.3)
CONTRAST = (0.75, 1.25)
MAX_BLUR = 1.5
JPEG_QUALITY = (70, 92)
OCCLUDED_SHARE = 0.25
MAX_OCCLUDED_AREA = 0.20
PLATE_SHARE = 0.5
PLATE_PAD = 0.12
PLACEMENT_TRIES = 16
BOX_ALPHA = 8
# issue-16 photos that show one of the logos: none do, so every photo is a negative
SHOWS_A_LOGO: frozenset[str] = frozenset()

Box = tuple[int, int, int, int]  # left, top, width, height in pixels


@dataclass(frozen=True)
class Params:
    """Everything random about one composite, drawn before any pixel is touched."""

    width_frac: float
    long_side: int
    rotation: float
    corners: tuple[float, ...]  # 8 shifts, in units of the logo's size
    brightness: float
    contrast: float
    blur: float
    plate: bool
    occluded: bool
    jpeg_quality: int


@dataclass(frozen=True)
class TruthRow:
    id: str
    logo: str
    background: str
    width_frac: float
    left: float
    top: float
    width: float
    height: float
    rotation: float
    blur: float
    brightness: float
    occluded: bool
    plate: bool
    jpeg_quality: int
    held: bool


@dataclass(frozen=True)
class NegativeRow:
    id: str
    photo: str
    left: float
    top: float
    width: float
    height: float
    jpeg_quality: int


def draw_params(rng: np.random.Generator, width_frac: float) -> Params:
    return Params(
        width_frac=width_frac,
        long_side=int(rng.integers(LONG_SIDE[0], LONG_SIDE[1] + 1)),
        rotation=round(float(rng.uniform(-MAX_ROTATION, MAX_ROTATION)), 2),
        corners=tuple(float(v) for v in rng.uniform(-MAX_CORNER_SHIFT, MAX_CORNER_SHIFT, 8)),
        brightness=round(float(rng.uniform(*BRIGHTNESS)), 3),
        contrast=round(float(rng.uniform(*CONTRAST)), 3),
        blur=round(float(rng.uniform(0.0, MAX_BLUR)), 2),
        plate=bool(rng.random() < PLATE_SHARE),
        occluded=bool(rng.random() < OCCLUDED_SHARE),
        jpeg_quality=int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)),
    )


def scale_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def _rounded_plate(h: int, w: int, radius: int) -> np.ndarray:
    plate = np.zeros((h, w), np.uint8)
    r = max(1, min(radius, h // 2, w // 2))
    cv2.rectangle(plate, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(plate, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(plate, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    return plate


def _relight(rgb: np.ndarray, params: Params) -> np.ndarray:
    out = (rgb.astype(np.float32) - 128.0) * params.contrast + 128.0
    return np.clip(out * params.brightness, 0, 255)


def render_logo(logo: np.ndarray, width_px: int, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """The logo (RGBA uint8) scaled to width_px, on its plate if any, relit, rotated,
    warped and blurred: an HxWx4 float layer (premultiplied RGB, alpha 0-1) and the alpha
    of the logo's own pixels (without the plate), which gives its box."""
    scale = width_px / logo.shape[1]
    h = max(1, round(logo.shape[0] * scale))
    small = cv2.resize(logo, (width_px, h), interpolation=cv2.INTER_AREA)
    rgb = small[..., :3].astype(np.float32)
    alpha = small[..., 3].astype(np.float32) / 255.0
    own = alpha.copy()
    if params.plate:
        pad = max(2, round(PLATE_PAD * max(width_px, h)))
        ph, pw = h + 2 * pad, width_px + 2 * pad
        plate = _rounded_plate(ph, pw, pad).astype(np.float32) / 255.0
        canvas = np.full((ph, pw, 3), 250.0, np.float32)
        inner = canvas[pad : pad + h, pad : pad + width_px]
        inner[:] = rgb * alpha[..., None] + inner * (1 - alpha[..., None])
        own_full = np.zeros((ph, pw), np.float32)
        own_full[pad : pad + h, pad : pad + width_px] = alpha
        rgb, alpha, own = canvas, plate, own_full
    rgb = _relight(rgb, params)
    return _warp(rgb, alpha, own, params)


def _warp(
    rgb: np.ndarray, alpha: np.ndarray, own: np.ndarray, params: Params
) -> tuple[np.ndarray, np.ndarray]:
    h, w = alpha.shape
    size = max(h, w)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    shift = np.float32(params.corners).reshape(4, 2) * size
    theta = np.deg2rad(params.rotation)
    rot = np.float32([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    centre = np.float32([w / 2, h / 2])
    dst = (src + shift - centre) @ rot.T
    margin = 3 * params.blur + 2
    dst = dst - dst.min(axis=0) + margin
    out_w, out_h = (int(np.ceil(v + margin)) for v in dst.max(axis=0))
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    stack = np.dstack([rgb * alpha[..., None], alpha, own])
    warped = cv2.warpPerspective(
        stack, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=0
    )
    if params.blur > 0:
        warped = cv2.GaussianBlur(warped, (0, 0), params.blur)
    return warped[..., :4], warped[..., 4]


def _logo_luma(layer: np.ndarray) -> float:
    alpha = layer[..., 3]
    weight = float(alpha.sum())
    if weight <= 0:
        return 128.0
    rgb = layer[..., :3].sum(axis=(0, 1)) / weight
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def place(background: np.ndarray, layer: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Top-left corner for the layer: of a few random spots, the one whose surroundings
    differ most in brightness from the logo, so dark marks do not vanish on dark ground."""
    bh, bw = background.shape[:2]
    lh, lw = layer.shape[:2]
    target = _logo_luma(layer)
    gray = cv2.cvtColor(background, cv2.COLOR_RGB2GRAY).astype(np.float32)
    best, best_score = (0, 0), -1.0
    for _ in range(PLACEMENT_TRIES):
        x = int(rng.integers(0, max(1, bw - lw + 1)))
        y = int(rng.integers(0, max(1, bh - lh + 1)))
        region = gray[y : y + lh, x : x + lw]
        score = abs(float(region.mean()) - target) if region.size else 0.0
        if score > best_score:
            best, best_score = (x, y), score
    return best


def _occlude(image: np.ndarray, source: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """Cover at most MAX_OCCLUDED_AREA of the box with a patch of the clean photo."""
    left, top, w, h = box
    area = rng.uniform(0.08, MAX_OCCLUDED_AREA)
    aspect = rng.uniform(0.5, 2.0)
    ow = min(w, max(1, int(np.sqrt(area * w * h * aspect))))
    oh = min(h, max(1, int(area * w * h / ow)))
    x = left + int(rng.integers(0, w - ow + 1))
    y = top + int(rng.integers(0, h - oh + 1))
    sh, sw = source.shape[:2]
    sx = int(rng.integers(0, max(1, sw - ow + 1)))
    sy = int(rng.integers(0, max(1, sh - oh + 1)))
    image[y : y + oh, x : x + ow] = source[sy : sy + oh, sx : sx + ow]


def composite(
    background: np.ndarray, logo: np.ndarray, params: Params, rng: np.random.Generator
) -> tuple[np.ndarray, Box]:
    """Paste the logo (RGBA uint8) into the background (RGB uint8, already at its final
    size); return the new RGB image and the logo's box in pixels."""
    bh, bw = background.shape[:2]
    width_px = max(4, round(params.width_frac * bw))
    layer, own = render_logo(logo, width_px, params)
    if layer.shape[0] > bh or layer.shape[1] > bw:
        fit = min(bh / layer.shape[0], bw / layer.shape[1])
        size = (int(layer.shape[1] * fit), int(layer.shape[0] * fit))
        layer = cv2.resize(layer, size, interpolation=cv2.INTER_AREA)
        own = cv2.resize(own, size, interpolation=cv2.INTER_AREA)
    x, y = place(background, layer, rng)
    lh, lw = layer.shape[:2]
    out = background.astype(np.float32)
    region = out[y : y + lh, x : x + lw]
    alpha = np.clip(layer[..., 3:4], 0.0, 1.0)
    region[:] = layer[..., :3] + region * (1.0 - alpha)
    image = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(own > BOX_ALPHA / 255.0)
    box: Box = (
        x + int(xs.min()),
        y + int(ys.min()),
        int(xs.max() - xs.min()) + 1,
        int(ys.max() - ys.min()) + 1,
    )
    if params.occluded:
        _occlude(image, background, box, rng)
    return image, box


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def read_rgba(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def plan(
    logo_ids: Sequence[str], photo_ids: Sequence[str], seed: int
) -> list[tuple[str, str, float]]:
    """(logo, background, width) per composite: every logo at every width ROUNDS times,
    never twice in the same photo."""
    rng = np.random.default_rng(seed)
    jobs: list[tuple[str, str, float]] = []
    for logo_id in logo_ids:
        n = ROUNDS * len(WIDTHS)
        photos = rng.choice(len(photo_ids), size=n, replace=False)
        widths = [w for _ in range(ROUNDS) for w in WIDTHS]
        jobs.extend((logo_id, photo_ids[p], w) for p, w in zip(photos, widths, strict=True))
    return jobs


def crop_boxes(rng: np.random.Generator, count: int) -> list[tuple[float, float, float, float]]:
    """count crops (relative left, top, width, height), each side at least 60 %, that
    differ in place or scale from each other."""
    boxes: list[tuple[float, float, float, float]] = []
    while len(boxes) < count:
        w, h = (float(v) for v in rng.uniform(0.6, 0.92, 2))
        left, top = float(rng.uniform(0, 1 - w)), float(rng.uniform(0, 1 - h))
        box = (round(left, 4), round(top, 4), round(w, 4), round(h, 4))
        if all(_distinct(box, other) for other in boxes):
            boxes.append(box)
    return boxes


def _distinct(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) >= 0.08


def _write(path: Path, blob: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(blob)
    tmp.replace(path)


def _write_csv(path: Path, rows: Sequence[TruthRow] | Sequence[NegativeRow]) -> None:
    tmp = path.with_suffix(".csv.part")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    tmp.replace(path)


def make_composites(dest: Path, photo_files: dict[str, Path], seed: int) -> list[TruthRow]:
    logos = load_logos()
    out_dir = dest / "composites"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[TruthRow] = []
    jobs = plan([lg.id for lg in logos], sorted(photo_files), seed)
    pixels = {lg.id: read_rgba(dest / "logos" / lg.filename) for lg in logos}
    for index, (logo_id, photo_id, width) in enumerate(jobs):
        rng = np.random.default_rng([seed, index])
        params = draw_params(rng, width)
        background = scale_long_side(read_rgb(photo_files[photo_id]), params.long_side)
        image, (left, top, w, h) = composite(background, pixels[logo_id], params, rng)
        comp_id = f"{logo_id}-{index:04d}"
        _write(out_dir / f"{comp_id}.jpg", encode_jpeg(image, params.jpeg_quality))
        bh, bw = image.shape[:2]
        rows.append(
            TruthRow(
                id=comp_id,
                logo=logo_id,
                background=photo_id,
                width_frac=width,
                left=round(left / bw, 5),
                top=round(top / bh, 5),
                width=round(w / bw, 5),
                height=round(h / bh, 5),
                rotation=params.rotation,
                blur=params.blur,
                brightness=params.brightness,
                occluded=params.occluded,
                plate=params.plate,
                jpeg_quality=params.jpeg_quality,
                held=held_out(logo_id),
            )
        )
    _write_csv(dest / "truth.csv", rows)
    return rows


def make_negatives(dest: Path, photo_files: dict[str, Path], seed: int) -> list[NegativeRow]:
    out_dir = dest / "negatives"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[NegativeRow] = []
    for index, photo_id in enumerate(sorted(photo_files)):
        if photo_id in SHOWS_A_LOGO:
            continue
        rng = np.random.default_rng([seed, 1_000_000 + index])
        photo = read_rgb(photo_files[photo_id])
        ph, pw = photo.shape[:2]
        crops = [(0.0, 0.0, 1.0, 1.0), *crop_boxes(rng, CROPS)]
        for n, (left, top, w, h) in enumerate(crops):
            x, y = round(left * pw), round(top * ph)
            part = photo[y : y + max(1, round(h * ph)), x : x + max(1, round(w * pw))]
            long_side = int(rng.integers(LONG_SIDE[0], LONG_SIDE[1] + 1))
            quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
            neg_id = photo_id if n == 0 else f"{photo_id}-crop{n}"
            blob = encode_jpeg(scale_long_side(part, long_side), quality)
            _write(out_dir / f"{neg_id}.jpg", blob)
            rows.append(NegativeRow(neg_id, photo_id, left, top, w, h, quality))
    _write_csv(dest / "negatives.csv", rows)
    return rows


def backgrounds() -> list[photoset.Photo]:
    """The issue-16 photos the brand set was made from (:data:`photoset.FIRST`)."""
    return photoset.load_photos()[:photoset.FIRST]


def photo_files(photo_dir: Path) -> dict[str, Path]:
    """The issue-16 photos the brand set uses (:func:`backgrounds`) present in photo_dir,
    by id."""
    found = {p.id: photo_dir / p.filename for p in backgrounds()}
    return {pid: path for pid, path in found.items() if path.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help=f"set folder (default: {DEFAULT_DEST})"
    )
    parser.add_argument(
        "--photos",
        type=Path,
        default=photoset.DEFAULT_DEST,
        help=f"issue-16 photo set folder (default: {photoset.DEFAULT_DEST})",
    )
    parser.add_argument("--seed", type=int, default=17, help="random seed (default: 17)")
    args = parser.parse_args(argv)
    dest: Path = args.dest.resolve()
    photos = photo_files(args.photos.resolve() / "photos")
    missing_logos = [lg.id for lg in load_logos() if not (dest / "logos" / lg.filename).is_file()]
    if len(photos) < len(backgrounds()) or missing_logos:
        print("logos or photos missing: run python -m bench.brandset.fetch", file=sys.stderr)
        return 1
    truth = make_composites(dest, photos, args.seed)
    negatives = make_negatives(dest, photos, args.seed)
    held = sum(r.held for r in truth)
    print(
        f"{len(truth)} composites ({held} of a held-out logo), {len(negatives)} negatives in {dest}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
