"""Logos found by their local features; word marks found in the text read in a photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from socialsight.errors import InputError
from socialsight.vision import logos, wordmarks
from tests.test_vision_labels import package_photo


def composite(background: str, width: float, angle: float = 0.0,
              at: tuple[float, float] = (0.1, 0.1)) -> tuple[Image.Image, tuple[float, ...]]:
    """scikit-image's logo pasted into one of its photos, ``width`` of the photo wide and
    turned ``angle`` degrees; the photo and the logo's box (relative)."""
    photo = package_photo(background).convert("RGB")
    logo = package_photo("logo.png").convert("RGBA")
    side = round(photo.width * width)
    logo = logo.resize((side, round(logo.height * side / logo.width)), Image.Resampling.LANCZOS)
    logo = logo.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    x, y = round(photo.width * at[0]), round(photo.height * at[1])
    photo.paste(logo, (x, y), logo)
    box = (x / photo.width, y / photo.height, logo.width / photo.width,
           logo.height / photo.height)
    return photo, box


@pytest.fixture(scope="module")
def matcher() -> logos.Matcher:
    return logos.Matcher({"scikit-image": [logos.logo_features(package_photo("logo.png"))]})


@pytest.mark.parametrize(("background", "width", "angle"), [
    ("astronaut.png", 0.35, 0.0), ("coffee.png", 0.25, 15.0), ("chelsea.png", 0.2, -20.0),
])
def test_an_enrolled_logo_is_found_where_it_is(matcher, background, width, angle):
    photo, truth = composite(background, width, angle)
    [found] = matcher.find(logos.photo_features(photo))
    assert found.name == "scikit-image" and found.confidence >= 50
    left, top, w, h = found.box
    centre = (truth[0] + truth[2] / 2, truth[1] + truth[3] / 2)
    assert left <= centre[0] <= left + w and top <= centre[1] <= top + h
    assert 0.5 < (w * h) / (truth[2] * truth[3]) < 2.0


@pytest.mark.parametrize("photo", ["astronaut.png", "coffee.png", "chelsea.png",
                                   "rocket.jpg", "motorcycle_left.png", "page.png"])
def test_no_logo_is_found_in_photos_without_it(matcher, photo):
    assert matcher.find(logos.photo_features(package_photo(photo))) == []


def test_a_mirror_image_of_the_logo_is_not_the_logo(matcher):
    photo, _ = composite("astronaut.png", 0.35)
    mirrored = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert matcher.find(logos.photo_features(mirrored)) == []


def test_features_survive_their_bytes_and_bad_bytes_are_refused():
    photo, _ = composite("coffee.png", 0.3)
    features = logos.photo_features(photo)
    assert 100 < len(features) <= logos.MAX_FEATURES
    again = logos.Features.from_bytes(features.to_bytes())
    assert (again.width, again.height) == (features.width, features.height)
    assert np.array_equal(again.descriptors, features.descriptors)
    assert np.abs(again.points - features.points).max() <= 1 / 32
    data = features.to_bytes()
    for bad in (b"", data[:3], b"JUNK!" + data[5:], data[:-1], data + b"\0"):
        with pytest.raises(InputError):
            logos.Features.from_bytes(bad)


def test_a_photo_with_nothing_in_it_has_no_features_and_matches_nothing(matcher):
    blank = Image.new("RGB", (640, 480), (200, 200, 200))
    features = logos.photo_features(blank)
    assert len(features) == 0
    assert matcher.find(logos.Features.from_bytes(features.to_bytes())) == []


def test_a_logo_without_detail_is_refused_at_enrolment():
    with pytest.raises(InputError, match="too little detail"):
        logos.logo_features(Image.new("RGB", (300, 300), (255, 0, 0)))
    with pytest.raises(InputError, match="transparent"):
        logos.logo_features(Image.new("RGBA", (300, 300), (0, 0, 0, 0)))


def test_a_huge_photo_is_analysed_at_a_bounded_size():
    big = package_photo("astronaut.png").convert("RGB").resize((4000, 4000))
    features = logos.photo_features(big)
    assert max(features.width, features.height) == logos.MAX_SIDE


def line(text: str, confidence: float = 98.0) -> dict:
    return {"type": "LINE", "detectedtext": text, "confidence": confidence,
            "geometry": {"boundingbox": {"left": 0.1, "top": 0.2, "width": 0.3,
                                         "height": 0.05}}}


@pytest.mark.parametrize(("text", "found"), [
    ("Powered by DEBIAN", True),  # case
    ("debian-based", True),  # a whole word among punctuation
    ("Deb1an 12", True),  # one misread letter in a long word
    ("DEB1AN", True),
    ("Debiann", False),  # a letter more is another word
    ("Debxan", False),  # a letter that does not look like the one it replaces
    ("Mathplotlib", False),
    ("Debianistas unite", False),  # inside a longer word
    ("Dxb1an", False),  # two misread letters
    ("", False),
])
def test_a_word_mark_is_a_whole_word_with_one_letter_forgiven(text, found):
    got = wordmarks.find({"Debian": ["Debian"]}, [line(text)])
    assert bool(got) == found
    if found:
        assert got[0].name == "Debian" and got[0].box == (0.1, 0.2, 0.3, 0.05)
        assert got[0].confidence <= 98.0


def test_any_one_letter_is_forgiven_in_long_words_only():
    assert wordmarks.find({"Matplotlib": ["matplotlib"]}, [line("matplotiib rocks")])
    assert wordmarks.find({"Matplotlib": ["matplotlib"]}, [line("matplxtlib")])
    assert not wordmarks.find({"Black": ["Black"]}, [line("Block party, back soon")])


def test_short_words_must_be_exact_and_phrases_in_order():
    assert wordmarks.find({"Kia": ["KIA"]}, [line("KIA motors")])
    assert not wordmarks.find({"Kia": ["KIA"]}, [line("KIT motors")])
    marks = {"Coca-Cola": ["Coca Cola"]}
    assert wordmarks.find(marks, [line("Drink Coca-Cola")])
    assert wordmarks.find(marks, [line("COCACOLA")])  # written without its space
    assert not wordmarks.find(marks, [line("Cola Coca")])
    exact = wordmarks.find(marks, [line("Coca Cola", 90.0)])[0]
    misread = wordmarks.find(marks, [line("Coca Co1a", 90.0)])
    assert exact.confidence == 90.0 and misread == []  # "cola" is too short to forgive


def test_only_lines_are_read_and_each_brand_once():
    lines = [line("ACME"), {**line("ACME"), "type": "WORD"}, line("acme acme", 80.0)]
    [found] = wordmarks.find({"Acme": ["acme"]}, lines)
    assert found.confidence == 98.0
    assert wordmarks.find({"Acme": ["acme"]}, [{"type": "LINE"}, {}]) == []
    assert wordmarks.find({"Acme": ["acme"]}, None) == []


def hue_only(logo: Image.Image) -> Image.Image:
    """The logo redrawn in two colours of the same brightness (red where it is dark, blue
    where it is light): in gray it is one flat shape."""
    rgba = np.asarray(logo.convert("RGBA"), dtype=np.float32)
    light = (rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))[..., None] / 255
    red, blue = np.array([255, 60, 60], np.float32), np.array([0, 152, 255], np.float32)
    rgb = red * (1 - light) + blue * light
    return Image.fromarray(np.dstack([rgb, rgba[..., 3:]]).round().astype(np.uint8), "RGBA")


def test_a_logo_that_differs_only_in_hue_is_found_by_its_colours():
    logo = hue_only(package_photo("logo.png"))
    gray = np.asarray(logo.convert("L"), dtype=np.float32)[np.asarray(logo)[..., 3] > 0]
    assert gray.std() < 2.0  # no brightness edges to speak of
    found_in = logos.Matcher({"hue": [logos.logo_features(logo)]})
    photo = package_photo("coffee.png").convert("RGB")
    side = round(photo.width * 0.3)
    drawn = logo.resize((side, round(logo.height * side / logo.width)),
                        Image.Resampling.LANCZOS)
    photo.paste(drawn, (40, 40), drawn)
    assert [f.name for f in found_in.find(logos.photo_features(photo))] == ["hue"]
    assert found_in.find(logos.photo_features(photo, colour=False)) == []
    coloured = logos.photo_features(photo)
    again = logos.Features.from_bytes(coloured.to_bytes())
    assert np.array_equal(again.channels(), coloured.channels())
    assert set(np.unique(coloured.channels())) == {0, 1, 2}
    # brightness only is kept as before (SSLF1), which lakes written earlier hold too
    plain = logos.photo_features(photo, colour=False).to_bytes()
    assert plain[:5] == b"SSLF1" and coloured.to_bytes()[:5] == b"SSLF2"
    assert not logos.Features.from_bytes(plain).channels().any()


def _ratio_by_sorting(matcher: logos.Matcher, photo: logos.Features,
                      channel: int) -> set[tuple[int, int]]:
    """Lowe's ratio test as the matcher defines it, the slow way: every photo feature's
    logo features of its channel sorted by distance, the first one not a near-twin of the
    nearest (another logo, or far enough from it) looked for among the first NEIGHBOURS."""
    ids = np.flatnonzero(matcher.channel == channel)
    mine = np.flatnonzero(photo.channels() == channel)
    descriptors = np.concatenate([logo.descriptors for _, logo in matcher.logos])[ids]
    distance = np.linalg.norm(photo.descriptors[mine].astype(np.float64)[:, None, :]
                              - descriptors.astype(np.float64)[None, :, :], axis=2)
    kept = set()
    for row, query in enumerate(mine):
        order = ids[np.argsort(distance[row], kind="stable")]
        nearest = order[0]
        owner = matcher.owner[nearest]
        distinct = [j for j in order[1:logos.NEIGHBOURS] if matcher.owner[j] != owner
                    or np.linalg.norm(matcher.points[j] - matcher.points[nearest])
                    >= matcher._apart[owner]]
        first = distance[row][np.searchsorted(ids, nearest)]
        if not distinct or first < logos.RATIO * distance[row][np.searchsorted(ids,
                                                                                distinct[0])]:
            kept.add((int(nearest), int(query)))
    return kept


def test_the_quick_exhaustive_search_keeps_the_matches_a_full_sort_keeps():
    """Two logos enrolled (so near-twins and other logos both count), a real photo with
    one of them in it: the search without sorting keeps the same (logo feature, photo
    feature) pairs as sorting every distance would."""
    matcher = logos.Matcher({
        "scikit-image": [logos.logo_features(package_photo("logo.png"))],
        "coins": [logos.logo_features(package_photo("coins.png").crop((0, 0, 160, 160)))]})
    photo, _ = composite("astronaut.png", 0.3, 10.0)
    features = logos.photo_features(photo)
    for channel, index in matcher._channels.items():
        assert index.exact
        mine = np.flatnonzero(features.channels() == channel)
        fast = matcher._ratio(index, features.descriptors[mine], mine)
        pairs = {(int(t), int(q)) for train, query in fast.values()
                 for t, q in zip(train, query, strict=True)}
        assert pairs == _ratio_by_sorting(matcher, features, channel), channel
        assert len(pairs) > 20  # the logo's own matches are among them


def test_a_photo_gets_the_same_matches_from_every_matcher_of_the_same_logos(monkeypatch):
    """Many logos are searched approximately (FLANN, random trees): two matchers of the
    same logos, built one after the other, must find the same matches in a photo, or
    enrich, a rescan and the next run could disagree about it."""
    monkeypatch.setattr(logos, "EXACT_UP_TO", 100)  # the approximate search, as with many
    enrolled = {"scikit-image": [logos.logo_features(package_photo("logo.png"))]}
    photo, _ = composite("coffee.png", 0.25, 15.0)
    features = logos.photo_features(photo)

    def matches(matcher: logos.Matcher) -> dict[int, list[tuple[int, int]]]:
        assert not any(index.exact for index in matcher._channels.values())
        return {owner: sorted(zip(train.tolist(), query.tolist(), strict=True))
                for owner, (train, query) in matcher._candidates(features).items()}

    first = matches(logos.Matcher(enrolled))
    assert first == matches(logos.Matcher(enrolled)) == matches(logos.Matcher(enrolled))
    assert sum(len(pairs) for pairs in first.values()) > 20
