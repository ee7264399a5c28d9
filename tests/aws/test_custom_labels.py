"""DetectCustomLabels through boto3 itself, on real photos, against socialsight serve: the
enrolled brands (a logo composited into a photo, a word mark read as text) and learnt
concepts, named by the ProjectVersionArn's project, as ``enrich`` finds them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from socialsight import brands, concepts
from socialsight.analysis import analyse_photos
from socialsight.config import load_settings
from socialsight.lake.store import Lake
from tests.aws.conftest import boto_client, start_server
from tests.aws.shapes import check_shape
from tests.test_vision_labels import package_photo
from tests.test_vision_logos import composite

ARN = "arn:aws:rekognition:us-east-1:123456789012:project/{}/version/v1/1700000000000"


def png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def crops(name: str, count: int, seed: int) -> list[Image.Image]:
    """``count`` different crops (55-90% of each side) of a package photo."""
    image = package_photo(name).convert("RGB")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        share = rng.uniform(0.55, 0.9)
        w, h = int(image.width * share), int(image.height * share)
        x, y = int(rng.integers(0, image.width - w + 1)), int(rng.integers(0, image.height - h + 1))
        out.append(image.crop((x, y, x + w, y + h)))
    return out


def shop_sign() -> Image.Image:
    """A photo-sized picture with a shop's name in large letters."""
    picture = Image.new("RGB", (640, 420), (236, 232, 220))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 120, 600, 300), fill=(250, 250, 250), outline=(40, 40, 40), width=6)
    font = ImageFont.load_default(size=110)
    draw.text((85, 150), "ACME", fill=(20, 20, 20), font=font)
    return picture


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, Any]]:
    """A server on a lake with the scikit-image logo and a word-only brand enrolled, and a
    cat concept learnt from crops of chelsea.png."""
    lake = Lake(str(tmp_path_factory.mktemp("custom") / "lake"))
    logo = package_photo("logo.png")
    brands.enrol(lake, "scikit-image", ["logo.png"], [], lambda _: (logo, "logo-sha"))
    brands.enrol(lake, "Acme Coffee", [], ["ACME"], lambda _: (logo, "unused"))
    cats = {f"cat-{i}": c for i, c in enumerate(crops("chelsea.png", 8, 1))}
    others = [c for i, name in enumerate(("coffee.png", "astronaut.png", "rocket.jpg",
                                          "motorcycle_left.png", "page.png"))
              for c in crops(name, 6, 10 + i)]
    concepts.enrol(lake, "Cat", list(cats), [], lambda s: (cats[s], s),
                   concepts.embed(others))
    uv, thread, url = start_server(lake, load_settings(lake=lake.url))
    yield lake, boto_client("rekognition", url)
    uv.should_exit = True
    thread.join(10)


def test_an_enrolled_logo_is_found_with_its_box_as_enrich_finds_it(served):
    lake, rekognition = served
    photo, truth = composite("coffee.png", 0.3, 10.0)
    data = png(photo)
    for project in ("brands", "scikit-image"):
        answer = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format(project),
                                                  Image={"Bytes": data})
        check_shape(answer, "rekognition", "DetectCustomLabels")
        [label] = answer["CustomLabels"]
        assert label["Name"] == "scikit-image" and label["Confidence"] >= 50
        box = label["Geometry"]["BoundingBox"]
        centre = (truth[0] + truth[2] / 2, truth[1] + truth[3] / 2)
        assert box["Left"] <= centre[0] <= box["Left"] + box["Width"]
        assert box["Top"] <= centre[1] <= box["Top"] + box["Height"]
    # the same as enrich gives for the photo (brands.customlabels over its analysis)
    settings = load_settings(lake=lake.url)
    [enriched] = analyse_photos([data], settings.vision, settings.fetch.max_pixels)
    [entry] = brands.customlabels(brands.Brands.load(lake), enriched.local_features,
                                  (enriched.image_labels or {}).get("textdetections"))
    assert entry["confidence"] == label["Confidence"]
    assert entry["geometry"]["boundingbox"]["left"] == box["Left"]
    # a concept's project does not look for brands
    cats = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("cat"),
                                            Image={"Bytes": data})
    assert cats["CustomLabels"] == []


def test_a_word_only_brand_is_found_in_the_text_of_the_photo(served):
    _, rekognition = served
    data = png(shop_sign())
    answer = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("acme-coffee"),
                                              Image={"Bytes": data})
    check_shape(answer, "rekognition", "DetectCustomLabels")
    [label] = answer["CustomLabels"]
    assert label["Name"] == "Acme Coffee" and "Geometry" in label
    # the other brand's project does not find it
    other = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("scikit-image"),
                                             Image={"Bytes": data})
    assert other["CustomLabels"] == []


def test_a_concept_is_found_in_the_whole_photo_without_geometry(served):
    lake, rekognition = served
    data = png(package_photo("chelsea.png"))
    answer = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("concepts"),
                                              Image={"Bytes": data})
    check_shape(answer, "rekognition", "DetectCustomLabels")
    [label] = answer["CustomLabels"]
    assert label["Name"] == "Cat" and "Geometry" not in label
    settings = load_settings(lake=lake.url)
    [enriched] = analyse_photos([data], settings.vision, settings.fetch.max_pixels)
    learnt = concepts.Concepts.load(lake).concepts()
    assert concepts.found(learnt, enriched.embedding) == [("Cat", label["Confidence"])]
    coffee = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("cat"),
                                              Image={"Bytes": png(package_photo("coffee.png"))})
    assert coffee["CustomLabels"] == []


def test_min_confidence_and_max_results_cut_the_answer(served):
    _, rekognition = served
    data = png(package_photo("chelsea.png"))
    arn = ARN.format("concepts")
    [label] = rekognition.detect_custom_labels(ProjectVersionArn=arn,
                                               Image={"Bytes": data})["CustomLabels"]
    above = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": data},
                                             MinConfidence=min(label["Confidence"] + 0.5, 100))
    assert above["CustomLabels"] == []
    # MinConfidence 0: every concept, whatever its threshold (as AWS answers)
    coffee = png(package_photo("coffee.png"))
    every = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": coffee},
                                             MinConfidence=0)
    assert [lb["Name"] for lb in every["CustomLabels"]] == ["Cat"]
    none = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": data},
                                            MaxResults=0)
    assert none["CustomLabels"] == []


def test_unknown_projects_and_malformed_arns_are_refused_as_aws_refuses_them(served):
    _, rekognition = served
    errors = rekognition.exceptions
    data = png(package_photo("coffee.png"))
    with pytest.raises(errors.ResourceNotFoundException):
        rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("nobody"),
                                         Image={"Bytes": data})
    for arn in ("arn:aws:rekognition:us-east-1:123:project/cat/version/v1/1",  # account
                "arn:aws:rekognition:us-east-1:123456789012:project/cat",  # no version
                "arn:aws:s3:::a-bucket-of-photos/cat/version/v1/17"):
        with pytest.raises(errors.InvalidParameterException):
            rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": data})
    with pytest.raises(errors.InvalidParameterException):
        rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("cat"),
                                         Image={"Bytes": data}, MinConfidence=101)


def test_project_names_are_the_names_in_lower_case_with_hyphens():
    from socialsight.aws.rekognition import project_name

    assert project_name("Blue Bottle") == "blue-bottle"
    assert project_name("scikit-image") == "scikit-image"
    assert project_name("  Café & Co. ") == "caf-co."




def test_one_brands_project_answers_as_enrich_does_with_every_brand_enrolled(served):
    """A brand is looked for among every enrolled brand (their logos compete for a
    photo's features, as in enrich), so its own project gives what enrich gives; a name
    with no letter of an ARN (日本) is asked for by its id."""
    lake, rekognition = served
    photo, _ = composite("coffee.png", 0.3, 10.0)
    data = png(photo)
    rival = package_photo("astronaut.png")
    bid = brands.enrol(lake, "日本", ["rival.png"], [], lambda _: (rival, "rival-sha"))
    try:
        settings = load_settings(lake=lake.url)
        [enriched] = analyse_photos([data], settings.vision, settings.fetch.max_pixels)
        expected = [e for e in brands.customlabels(
            brands.Brands.load(lake), enriched.local_features,
            (enriched.image_labels or {}).get("textdetections")) if e["name"] == "scikit-image"]
        answer = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format("scikit-image"),
                                                  Image={"Bytes": data})["CustomLabels"]
        assert [(lb["Name"], lb["Confidence"], lb["Geometry"]["BoundingBox"]["Left"])
                for lb in answer] == [
            (e["name"], e["confidence"], e["geometry"]["boundingbox"]["left"])
            for e in expected]
        by_id = rekognition.detect_custom_labels(ProjectVersionArn=ARN.format(bid),
                                                 Image={"Bytes": png(rival)})["CustomLabels"]
        assert [lb["Name"] for lb in by_id] == ["日本"]
    finally:
        brands.forget(lake, bid)
