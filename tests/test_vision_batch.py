"""Batched analysis and the device setting: the same results, clear refusals.

The GPU itself is measured by bench/gpu.py on a machine that has one; here (no GPU)
the tests check what a user of either would notice: a batch of photos gets exactly the
answers the photos get one by one, one bad photo spoils nothing else, and asking for
the GPU where there is none is a one-line error, never a silent run on the CPU.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from socialsight.config import VisionSettings
from socialsight.enrich import analyse_bytes, analyse_many
from socialsight.errors import ConfigError
from socialsight.models import runtime
from socialsight.vision import labels
from socialsight.vision.analyze import analyze, analyze_batch, batch_size

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"
NAMES = ("coffee.jpg", "astronaut.jpg", "sale-banner.png", "cat.jpg", "grace-hopper.jpg")


@pytest.fixture(autouse=True)
def cpu_again() -> Iterator[None]:
    yield
    runtime.use_device("auto")


def photo(name: str) -> Image.Image:
    return Image.open(PHOTOS / name)


@pytest.mark.slow
def test_a_batch_gives_each_photo_what_it_gets_alone():
    settings = VisionSettings(batch_size=4)
    alone = [analyze(photo(n), VisionSettings(batch_size=1)) for n in NAMES]
    together = analyze_batch([photo(n) for n in NAMES], settings)
    assert [a.image_labels() for a in together] == [a.image_labels() for a in alone]
    assert [a.embeddings for a in together] == [a.embeddings for a in alone]
    # ... and the photos are what they are: coffee, a face, a banner's words.
    assert any(lb.name == "Coffee" for lb in together[0].labels)
    assert together[1].faces and together[2].text


def test_a_failing_batch_is_run_again_photo_by_photo(monkeypatch):
    real = labels.batch_view_scores

    def fails_on_batches(inputs, *args):
        if len(inputs) > 1:  # more than one photo (each of two views)
            raise RuntimeError("out of GPU memory")
        return real(inputs, *args)

    monkeypatch.setattr(labels, "batch_view_scores", fails_on_batches)
    results = analyze_batch([photo(n) for n in NAMES[:3]], VisionSettings(batch_size=3))
    assert all(not r.errors for r in results)
    assert any(lb.name == "Coffee" for lb in results[0].labels)


def test_one_bad_photo_in_a_batch_is_that_photo_s_error_only():
    good = (PHOTOS / "coffee.jpg").read_bytes()
    cut = good[: len(good) // 3]
    out = analyse_many([good, b"not a photo", cut, good], VisionSettings(batch_size=4),
                       50_000_000)
    assert out[0]["image_labels"] and not out[0]["errors"]
    assert out[3]["image_labels"] == out[0]["image_labels"]
    assert out[1]["errors"][0][0] == "decode" and out[1]["image_labels"] is None
    assert out[2]["errors"]  # a cut-off photo: an error (or what could be read), not a crash
    assert out[0] == analyse_bytes(good, VisionSettings(), 50_000_000)


def test_the_cpu_analyses_one_photo_at_a_time_unless_told():
    assert batch_size(VisionSettings(device="cpu")) == 1
    assert batch_size(VisionSettings(device="cpu", batch_size=8)) == 8
    assert batch_size(VisionSettings()) == (32 if runtime.on_gpu() else 1)


def test_asking_for_the_gpu_without_one_is_a_clear_error():
    if runtime.on_gpu():
        pytest.skip("this machine has a GPU")
    settings = VisionSettings(device="cuda")
    with pytest.raises(ConfigError, match="onnxruntime-gpu"):
        analyze(photo("coffee.jpg"), settings)


def test_an_unknown_device_is_refused():
    with pytest.raises(ValueError):
        VisionSettings(device="tpu")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="auto, cuda or cpu"):
        runtime.use_device("tpu")


def test_a_photo_from_bytes_and_from_a_file_agree():
    data = (PHOTOS / "cat.jpg").read_bytes()
    image = Image.open(io.BytesIO(data))
    assert analyse_bytes(data, VisionSettings(), 50_000_000)["image_labels"] == analyze(
        image).image_labels()


def test_enrich_on_a_gpu_that_is_not_there_stops_before_it_starts(cli, monkeypatch, tmp_path):
    if runtime.on_gpu():
        pytest.skip("this machine has a GPU")
    lake = str(tmp_path / "lake")
    assert cli("import", str(PHOTOS.parent / "posts-bluesky.jsonl"), "--lake", lake).exit_code == 0
    monkeypatch.setenv("SOCIALSIGHT_VISION_DEVICE", "cuda")
    result = cli("enrich", "--lake", lake)
    assert result.exit_code != 0
    assert "onnxruntime-gpu" in result.output and "Traceback" not in result.output
