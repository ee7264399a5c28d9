"""The issue-17 brand set: logos.csv is well-formed, compositing puts the logo where
truth.csv says and is fixed by the seed. No network, no packages."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from bench.brandset import composite as comp
from bench.brandset.fetch import CSV_PATH, DEFAULT_DEST, KINDS, load_logos, normalise
from bench.photoset.fetch import SOURCES

JPEG_NOISE = 6  # grey levels a q=92 JPEG may move a smooth pixel
JPEG_BLOCK = 16  # the largest JPEG block (8x8 DCT on 2x subsampled chroma)


def _logo() -> np.ndarray:
    """A textured synthetic mark: a dark checker disc with a transparent surround."""
    yy, xx = np.mgrid[0:120, 0:200]
    rgba = np.zeros((120, 200, 4), np.uint8)
    rgba[..., 0] = np.where((xx // 10 + yy // 10) % 2, 20, 230)
    rgba[..., 1] = 40
    rgba[..., 2] = (xx + yy) % 256
    inside = ((xx - 100) / 95.0) ** 2 + ((yy - 60) / 55.0) ** 2 <= 1
    rgba[..., 3] = np.where(inside, 255, 0)
    return rgba


def _background() -> np.ndarray:
    """A smooth gradient, so JPEG noise stays small outside the logo."""
    yy, xx = np.mgrid[0:600, 0:900]
    return np.dstack([xx * 200 // 900 + 30, yy * 150 // 600 + 60, np.full_like(xx, 120)]).astype(
        np.uint8
    )


def _params(**kw: object) -> comp.Params:
    base = comp.draw_params(np.random.default_rng(5), 0.2)
    fields: dict[str, object] = {"plate": False, "occluded": False, "jpeg_quality": 92, **kw}
    return replace(base, **fields)


def _decoded(image: np.ndarray, quality: int) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(comp.encode_jpeg(image, quality))).convert("RGB"))


@pytest.mark.parametrize("width", comp.WIDTHS)
def test_box_covers_the_logo_and_nothing_else_changed(width: float) -> None:
    bg = _background()
    params = _params(width_frac=width)
    image, (left, top, w, h) = comp.composite(bg, _logo(), params, np.random.default_rng(1))
    assert image.shape == bg.shape
    raw = np.abs(image.astype(int) - bg.astype(int)).max(axis=2)
    inside = np.zeros(raw.shape, bool)
    inside[top : top + h, left : left + w] = True
    # outside the box only the faint blurred fringe (alpha <= BOX_ALPHA) may touch pixels
    assert raw[~inside].max() <= comp.BOX_ALPHA
    assert (raw[inside] > 40).mean() > 0.3
    # after JPEG, blocks beside the box ring a little; farther out nothing moves
    out = _decoded(image, params.jpeg_quality).astype(int)
    diff = np.abs(out - bg.astype(int)).max(axis=2)
    near = np.zeros(raw.shape, bool)
    m = JPEG_BLOCK
    near[max(0, top - m) : top + h + m, max(0, left - m) : left + w + m] = True
    assert diff[~near].max() <= JPEG_NOISE
    assert (diff[inside] > 40).mean() > 0.3
    assert 0.6 * width * bg.shape[1] <= w <= 1.6 * width * bg.shape[1]


def test_plate_and_occlusion_stay_near_the_box() -> None:
    bg = _background()
    params = _params(plate=True, occluded=True, width_frac=0.2)
    image, (left, top, w, h) = comp.composite(bg, _logo(), params, np.random.default_rng(2))
    diff = np.abs(image.astype(int) - bg.astype(int)).max(axis=2)
    pad = int(0.5 * max(w, h))
    near = np.zeros(diff.shape, bool)
    near[max(0, top - pad) : top + h + pad, max(0, left - pad) : left + w + pad] = True
    assert diff[~near].max() == 0
    assert diff[near].max() > 100


def test_same_seed_same_pixels() -> None:
    def run(seed: int) -> tuple[bytes, tuple[int, int, int, int]]:
        rng = np.random.default_rng(seed)
        params = comp.draw_params(rng, 0.1)
        image, box = comp.composite(_background(), _logo(), params, rng)
        return image.tobytes(), box

    assert run(17) == run(17)
    assert run(17) != run(18)


def test_plan_uses_every_width_and_never_repeats_a_photo() -> None:
    photos = [f"p{i}" for i in range(40)]
    jobs = comp.plan(["a", "b"], photos, 17)
    assert jobs == comp.plan(["a", "b"], photos, 17)
    for logo in ("a", "b"):
        mine = [(p, w) for lg, p, w in jobs if lg == logo]
        assert len({p for p, _ in mine}) == len(mine) == comp.ROUNDS * len(comp.WIDTHS)
        assert sorted({w for _, w in mine}) == sorted(comp.WIDTHS)


def test_crops_are_large_and_distinct() -> None:
    boxes = comp.crop_boxes(np.random.default_rng(3), 5)
    for left, top, w, h in boxes:
        assert w >= 0.6 and h >= 0.6 and left + w <= 1.0001 and top + h <= 1.0001
    assert len(set(boxes)) == 5


def test_normalise_crops_to_the_visible_part() -> None:
    rgba = np.zeros((300, 400, 4), np.uint8)
    rgba[50:150, 100:300] = (10, 20, 30, 255)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    out = normalise(buf.getvalue())
    assert out.mode == "RGBA" and out.size == (200, 100)


def test_logos_csv_is_well_formed() -> None:
    with CSV_PATH.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "id",
        "source",
        "package",
        "version",
        "path",
        "sha256",
        "licence",
        "kind",
        "text",
        "name",
    ]
    logos = load_logos()
    assert len(logos) >= 24
    assert len({lg.id for lg in logos}) == len(logos)
    assert len({lg.name for lg in logos}) == len(logos)
    assert len({lg.sha256 for lg in logos}) == len(logos)
    for lg in logos:
        assert re.fullmatch(r"[0-9a-f]{64}", lg.sha256), lg.id
        assert lg.kind in KINDS and lg.source in SOURCES and lg.licence and lg.name
        assert bool(lg.text) == (lg.kind != "mark"), lg.id
    assert sum(lg.kind != "mark" for lg in logos) >= 8
    assert sum(lg.kind == "mark" for lg in logos) >= 8


def test_built_set_matches_truth() -> None:
    truth_csv = DEFAULT_DEST / "truth.csv"
    if not truth_csv.is_file():
        pytest.skip(".cache/brandset is absent: run bench.brandset.fetch and .composite")
    with truth_csv.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 260
    for row in rows[:: max(1, len(rows) // 20)]:
        assert (DEFAULT_DEST / "composites" / f"{row['id']}.jpg").is_file()
        left, top, w, h = (float(row[k]) for k in ("left", "top", "width", "height"))
        assert left >= 0 and top >= 0 and left + w <= 1.0001 and top + h <= 1.0001
    with (DEFAULT_DEST / "negatives.csv").open(newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) >= 220
