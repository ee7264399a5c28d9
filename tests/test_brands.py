"""Brands: enrol a logo and a word, find them in new photos, in past photos, and in SQL."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pytest

from socialsight import brands
from socialsight.brands import Brands
from socialsight.errors import InputError
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos, rows  # noqa: F401
from tests.test_vision_labels import package_photo
from tests.test_vision_logos import composite


@pytest.fixture
def logo_file(tmp_path):
    path = tmp_path / "skimage-logo.png"
    package_photo("logo.png").save(path)
    return path


@pytest.fixture
def served(tmp_path, photos):  # noqa: F811
    """The loopback photo server, serving a folder with a photo that shows the logo."""
    folder = tmp_path / "served"
    folder.mkdir()
    for name in ("coffee.png", "astronaut.png"):
        shutil.copy(PhotoHandler.folder / name, folder / name)
    photo, _ = composite("chelsea.png", 0.3, 10.0)
    photo.save(folder / "shirt.jpg", quality=88)
    PhotoHandler.folder = folder
    return photos


def custom(row):
    return [(c["name"], c["kind"]) for c in row["image_labels"]["customlabels"] or []]


def by_tweet(lake_dir):
    return {r["tweetid"]: r for r in rows(lake_dir)}


def mentions(lake_dir):
    table = Engine(Lake(str(lake_dir))).execute(
        "SELECT tweetid, brand, place, found, matched FROM brand_mentions "
        "ORDER BY tweetid, place, found, matched").table
    return [tuple(r.values()) for r in table.to_pylist()]


def test_brands_add_list_remove(cli, logo_file, tmp_path):
    added = cli("brands", "add", "scikit-image", str(logo_file), "--text", "scikit-image")
    assert added.exit_code == 0, added.output
    assert "enrolled scikit-image" in added.output
    listed = cli("brands", "list")
    assert "scikit-image" in listed.output and " 1 " in listed.output
    # the same logo twice is one logo; a word only brand needs no image
    cli("brands", "add", "Scikit-Image", str(logo_file))
    assert cli("brands", "add", "Acme", "--text", "ACME").exit_code == 0
    enrolled = Brands.load(Lake(str(tmp_path / "lake"))).brands()
    assert [(b.name, b.logos, b.words) for b in enrolled] == [
        ("scikit-image", 1, ("scikit-image",)), ("Acme", 0, ("ACME",))]
    gone = cli("brands", "remove", "SCIKIT-IMAGE")
    assert gone.exit_code == 0 and "removed scikit-image" in gone.output
    missing = cli("brands", "remove", "Nobody")
    assert missing.exit_code == 1 and "brands list" in missing.output
    assert "Acme" in cli("brands", "list").output


def test_a_logo_that_cannot_be_found_again_is_refused_and_nothing_is_enrolled(
        cli, tmp_path):
    plain = tmp_path / "plain.png"
    from PIL import Image

    Image.new("RGB", (200, 200), (0, 90, 200)).save(plain)
    result = cli("brands", "add", "Flat", str(plain))
    assert result.exit_code == 1
    assert "plain.png" in result.output and "too little detail" in result.output
    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("<svg></svg>")
    result = cli("brands", "add", "Svg", str(not_an_image))
    assert result.exit_code == 1 and "not a JPEG, PNG" in result.output
    assert not (tmp_path / "lake" / "_brands").exists()


def test_bad_names_and_words_are_refused():
    for name in ("", "Bad\x07name", "Bad\x7fname", "evil\u202etxt.exe", "zero\u200bwidth",
                 "brands", " Concepts "):
        with pytest.raises(InputError):
            Brands().add(name, ["x"], [])
    with pytest.raises(InputError):
        Brands().add("Many", [f"w{i}" for i in range(30)], [])
    with pytest.raises(InputError, match="word cannot be blank"):
        Brands().add("Blank", [""], [])


def test_names_are_shown_as_typed_and_a_second_add_says_what_the_brand_now_is(
        cli, logo_file):
    """Rich's markup in a name is text, not a tag: the command does not fail after the
    brand is saved, and list and remove show it as typed."""
    added = cli("brands", "add", "Hop[/x]per [bold]", "--text", "[/y]")
    assert added.exit_code == 0, added.output
    assert "enrolled Hop[/x]per [bold]" in added.output and "words: [/y]" in added.output
    listed = cli("brands", "list")
    assert listed.exit_code == 0 and "Hop[/x]per" in listed.output and "[/y]" in listed.output
    more = cli("brands", "add", "hop[/X]PER  [bold]", str(logo_file), "--text", "HOPPER")
    assert more.exit_code == 0, more.output
    assert "added to Hop[/x]per [bold]" in more.output
    assert "1 logo," in more.output and "words: [/y], HOPPER" in more.output
    gone = cli("brands", "remove", "[/x]")
    assert gone.exit_code == 1 and "no enrolled brand is called '[/x]'" in gone.output
    assert cli("brands", "remove", "Hop[/x]per [bold]").exit_code == 0


@pytest.mark.slow
def test_brands_are_found_in_new_photos_in_past_photos_and_in_sql(
        cli, tmp_path, served, enrich_env, logo_file):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "New shirt!", photos=[f"{served}/shirt.jpg"]),
        status(2, "Morning coffee with #scikitimage", photos=[f"{served}/coffee.png"],
               hashtags=["scikitimage"]),
        status(3, "I use scikit-image daily https://x.example/a",
               urls=["https://docs.scikit-image.org/en/stable"]),
        status(4, "Launch day!", photos=[f"{served}/astronaut.png"]),
    ])
    assert cli("import", str(posts)).exit_code == 0
    assert cli("brands", "add", "scikit-image", str(logo_file), "--text", "scikit-image",
               "--text", "scikit image").exit_code == 0
    assert cli("enrich").exit_code == 0
    lake_dir = tmp_path / "lake"
    found = by_tweet(lake_dir)
    assert custom(found[1]) == [("scikit-image", "logo")]
    assert custom(found[2]) == [] and custom(found[4]) == []
    box = found[1]["image_labels"]["customlabels"][0]["geometry"]["boundingbox"]
    assert 0 <= box["left"] < 0.3 and 0.15 < box["width"] < 0.6
    assert found[1]["local_features"] is not None
    assert mentions(lake_dir) == [
        (1, "scikit-image", "photo", "logo", None),
        (2, "scikit-image", "text", "hashtag", "#scikitimage"),
        (3, "scikit-image", "text", "link", "docs.scikit-image.org"),
        (3, "scikit-image", "text", "word", "scikit image"),
    ]

    # Removing the brand takes its labels off every past photo, without fetching any.
    hits = dict(PhotoHandler.hits)
    assert cli("brands", "remove", "scikit-image").exit_code == 0
    assert custom(by_tweet(lake_dir)[1]) == []
    assert mentions(lake_dir) == []
    # Enrolling it again finds it in the photos analysed before, from their features.
    again = cli("brands", "add", "scikit-image", str(logo_file))
    assert again.exit_code == 0 and "1 of 3 photos changed their brands" in again.output
    assert custom(by_tweet(lake_dir)[1]) == [("scikit-image", "logo")]
    assert PhotoHandler.hits == hits


@pytest.mark.slow
def test_photos_analysed_without_features_are_read_from_the_photo_store(
        cli, tmp_path, served, enrich_env, logo_file, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SOCIALSIGHT_VISION_LOCAL_FEATURES", "false")
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "New shirt!", photos=[f"{served}/shirt.jpg"]),
        status(2, "Coffee", photos=[f"{served}/coffee.png"]),
    ])
    cli("import", str(posts))
    assert cli("enrich").exit_code == 0
    lake_dir = tmp_path / "lake"
    assert all(r["local_features"] is None for r in rows(lake_dir))
    hits = dict(PhotoHandler.hits)
    result = cli("brands", "add", "scikit-image", str(logo_file))
    assert result.exit_code == 0, result.output
    assert "2 photos had no local features kept" in result.output
    after = by_tweet(lake_dir)
    assert custom(after[1]) == [("scikit-image", "logo")] and custom(after[2]) == []
    assert all(r["local_features"] is not None for r in after.values())  # kept from now on
    assert PhotoHandler.hits == hits  # from the lake's photo store, not the network
    # a second rescan reads no photo at all
    assert "read from the photo store" not in cli("brands", "rescan").output


@pytest.mark.slow
def test_with_features_off_new_photos_are_still_searched_for_enrolled_logos(
        cli, tmp_path, served, enrich_env, logo_file, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SOCIALSIGHT_VISION_LOCAL_FEATURES", "false")
    cli("import", str(write_jsonl(tmp_path / "before.jsonl", [
        status(1, "Coffee", photos=[f"{served}/coffee.png"])])))
    assert cli("enrich").exit_code == 0  # no brand yet: no features found or kept
    assert by_tweet(tmp_path / "lake")[1]["local_features"] is None
    assert cli("brands", "add", "scikit-image", str(logo_file)).exit_code == 0
    cli("import", str(write_jsonl(tmp_path / "after.jsonl", [
        status(2, "New shirt!", photos=[f"{served}/shirt.jpg"])])))
    assert cli("enrich").exit_code == 0
    after = by_tweet(tmp_path / "lake")
    assert custom(after[2]) == [("scikit-image", "logo")]  # found as it arrived
    assert after[2]["local_features"] is not None  # and kept, as brands add keeps them
    assert custom(after[1]) == []


def test_customlabels_keep_concepts_and_replace_brands():
    labels = {"textdetections": [{"type": "LINE", "detectedtext": "ACME sale",
                                  "confidence": 95.0, "geometry": {"boundingbox": {
                                      "left": 0.1, "top": 0.1, "width": 0.2,
                                      "height": 0.05}}}],
              "customlabels": [{"name": "Old", "kind": "text", "confidence": 90.0},
                               {"name": "Shop front", "kind": "concept", "confidence": 80.0}]}
    enrolled = Brands()
    enrolled.add("Acme", ["ACME"], [])
    out = brands.attach(labels, None, enrolled)["customlabels"]
    assert [(c["name"], c["kind"]) for c in out] == [("Acme", "text"), ("Shop front", "concept")]
    assert brands.attach({"textdetections": None}, None, Brands())["customlabels"] == []


def test_a_lake_without_brands_or_custom_labels_still_has_the_views(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    table = pa.table({"id": pa.array([1], pa.int64()), "text": ["hello acme"]})
    lake.commit({"tweets": table.append_column("dt", pa.array(["2024-01-01"]))})
    engine = Engine(lake)
    assert engine.execute("SELECT count(*) AS n FROM brand_mentions").table.to_pylist() == [
        {"n": 0}]
    assert engine.execute("SELECT * FROM socialanalyticsblog.brands").table.num_rows == 0


def test_damaged_features_do_not_stop_the_word_marks():
    enrolled = Brands()
    logo = package_photo("logo.png")
    from socialsight.vision import logos

    enrolled.add("scikit-image", ["scikit-image"],
                 [("logo.png", "a" * 64, b"", logos.logo_features(logo).to_bytes())])
    lines = [{"type": "LINE", "detectedtext": "made with scikit-image", "confidence": 99.0,
              "geometry": {"boundingbox": {"left": 0, "top": 0, "width": 1, "height": 0.1}}}]
    found = brands.customlabels(enrolled, b"SSLF1 garbage", lines)
    assert [(c["name"], c["kind"]) for c in found] == [("scikit-image", "text")]


@pytest.mark.slow
def test_a_damaged_brands_file_does_not_stop_enrich(cli, tmp_path, served, enrich_env):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "New shirt!", photos=[f"{served}/shirt.jpg"])])
    cli("import", str(posts))
    store = tmp_path / "lake" / "_brands"
    store.mkdir(parents=True)
    (store / "brands.parquet").write_bytes(b"not parquet")
    result = cli("enrich")
    assert result.exit_code == 0, result.output
    [row] = rows(tmp_path / "lake")
    assert row["image_labels"]["labels"] and row["image_labels"]["customlabels"] is None
