"""GPU benchmark: the image analysis on the CUDA execution provider beside the CPU.

    python -m bench.gpu [--photos 224] [--cpu-workers 0] [--gpu-workers 1,4,8]

Needs ``onnxruntime-gpu`` in place of ``onnxruntime`` and a CUDA GPU; without one it
measures the CPU rows only. The photos are the demo's seven (examples/demo/photos: faces,
a banner with text, a cat, coffee, a rocket, a galaxy field), repeated to ``--photos``.
Two tables, each measured in one run on one machine:

- the labels and moderation models alone (prepared inputs, no decoding), photos/s at
  batch 1 and batch 32, on the CPU (every core in one session) and on the GPU;
- the whole analysis as ``socialsight enrich`` runs it (its worker pool: decode,
  every model, gating as by default), photos/s: the CPU with one worker per core (its
  ceiling on this machine) beside the GPU with 1, 4, 8 workers sharing it.

Prints Markdown tables for BENCHMARKS.md and, with ``--json FILE``, the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"


def photo_bytes(count: int) -> list[bytes]:
    files = sorted(p for p in PHOTOS.iterdir() if p.suffix in (".jpg", ".png"))
    if not files:
        raise SystemExit(f"no photos in {PHOTOS}")
    data = [p.read_bytes() for p in files]
    return [data[i % len(data)] for i in range(count)]


def gpu_name() -> str | None:
    from socialsight.models import runtime

    runtime.use_device("auto")
    if not runtime.on_gpu():
        return None
    try:
        import subprocess

        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=False)
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "a CUDA GPU"
    except (OSError, subprocess.SubprocessError):
        return "a CUDA GPU"


def models_alone(device: str, batch: int, photos: list[bytes], threads: int) -> float:
    """Photos/s of efficientnet-lite0 + open_nsfw on prepared inputs, ``batch`` a run."""
    import io

    from PIL import Image

    from socialsight.models import runtime
    from socialsight.vision import labels, moderation

    runtime.use_device(device)
    images = [Image.open(io.BytesIO(d)).convert("RGB") for d in photos]
    label_inputs = [labels.preprocess(im) for im in images]
    nsfw_inputs = [moderation.preprocess(im) for im in images]

    def once() -> None:
        for start in range(0, len(images), batch):
            labels.batch_scores(label_inputs[start:start + batch], threads)
            moderation.batch_explicit(nsfw_inputs[start:start + batch], threads)

    once()  # sessions made, CUDA kernels chosen
    started = time.perf_counter()
    once()
    return len(images) / (time.perf_counter() - started)


def whole_analysis(device: str, workers: int, batch: int, photos: list[bytes]) -> float:
    """Photos/s of the enrich worker pool on every photo (decode and all the models)."""
    from socialsight.config import VisionSettings
    from socialsight.scale.local import Analyser

    settings = VisionSettings(device=device, batch_size=batch)  # type: ignore[arg-type]
    analyser = Analyser(settings, 50_000_000, workers)
    try:
        # Warm every worker (model loading, CUDA start-up) on a first pass.
        list(analyser.map(photos[: max(batch, 1) * workers * 2]))
        started = time.perf_counter()
        results = list(analyser.map(photos))
        elapsed = time.perf_counter() - started
    finally:
        analyser.close()
    failed = [r.errors for r in results if r.errors]
    if failed:
        print(f"  ({len(failed)} photos with errors, first: {failed[0]})")
    return len(photos) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--photos", type=int, default=224)
    parser.add_argument("--cpu-workers", type=int, default=0,
                        help="worker processes for the CPU row (0: one per core)")
    parser.add_argument("--gpu-workers", default="1,4,8")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    photos = photo_bytes(args.photos)
    gpu = gpu_name()
    print(f"{platform.node()}: {cores} CPU cores, GPU: {gpu or 'none'}", flush=True)
    figures: dict[str, Any] = {"cores": cores, "gpu": gpu, "photos": len(photos)}

    print("\n| labels + moderation models alone | batch 1 | batch 32 |\n|---|---:|---:|")
    for device in ("cpu", "cuda") if gpu else ("cpu",):
        rates = [models_alone(device, b, photos, cores if device == "cpu" else 1)
                 for b in (1, 32)]
        figures[f"models_{device}"] = rates
        where = f"CPU, {cores} threads" if device == "cpu" else gpu
        print(f"| {where} | {rates[0]:,.1f} photos/s | {rates[1]:,.1f} photos/s |", flush=True)

    print("\n| whole analysis (enrich's workers) | workers | batch | photos/s |"
          "\n|---|---:|---:|---:|")
    cpu_workers = args.cpu_workers or cores
    rate = whole_analysis("cpu", cpu_workers, 1, photos)
    figures["whole_cpu"] = [cpu_workers, rate]
    print(f"| CPU, 1 thread per worker | {cpu_workers} | 1 | {rate:,.1f} |", flush=True)
    if gpu:
        for workers in (int(w) for w in args.gpu_workers.split(",")):
            rate = whole_analysis("cuda", workers, 32, photos)
            figures[f"whole_cuda_{workers}"] = rate
            print(f"| {gpu} | {workers} | 32 | {rate:,.1f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
