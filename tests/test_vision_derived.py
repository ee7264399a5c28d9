"""Labels from faces, people and text: the rules a user can read in docs/labels.md."""

from __future__ import annotations

from socialsight.vision import derived
from socialsight.vision.faces import FaceDetail
from socialsight.vision.text import TextDetection


def face(height: float, gender: str | None = None, ages: tuple[int, int] | None = None,
         sunglasses: bool | None = None, confidence: float = 99.0) -> FaceDetail:
    extra: dict = {}
    if gender:
        extra["gender"] = {"value": gender, "confidence": 97.0}
    if ages:
        extra["agerange"] = {"low": ages[0], "high": ages[1]}
    if sunglasses is not None:
        extra["sunglasses"] = {"value": sunglasses, "confidence": 90.0}
    return FaceDetail((0.3, 0.2, height * 0.8, height), confidence, [], 0.0, 50.0, 50.0, extra)


def names(labels) -> set[str]:
    return {label.name for label in labels}


def test_one_big_face_is_a_portrait_of_a_person():
    found = names(derived.people([face(0.4, "Female", (25, 32))], [95.0]))
    assert {"Person", "Face", "Head", "Portrait", "Woman", "Adult", "Female"} <= found
    assert not {"People", "Crowd", "Man", "Girl", "Sunglasses"} & found


def test_a_child_is_a_boy_or_girl_and_not_an_adult():
    found = names(derived.people([face(0.1, "Male", (4, 8))], []))
    assert {"Boy", "Child", "Male"} <= found
    assert not {"Man", "Adult", "Portrait"} & found  # a small face: not a portrait
    assert "Baby" in names(derived.people([face(0.1, "Female", (0, 2))], []))


def test_an_uncertain_age_gives_only_the_gender():
    found = names(derived.people([face(0.1, "Male", (12, 20))], []))
    assert "Male" in found and not {"Man", "Boy", "Adult", "Child"} & found
    # A wide range mostly past 18 is a grown man's (the estimator's ranges are wide).
    assert {"Man", "Adult"} <= names(derived.people([face(0.1, "Male", (15, 25))], []))


def test_people_and_crowds_are_counted_from_faces_or_person_boxes():
    assert "People" in names(derived.people([], [90.0, 80.0]))
    assert "People" not in names(derived.people([], [90.0]))
    group = names(derived.people([face(0.05) for _ in range(derived.CROWD)], []))
    assert {"People", "Crowd"} <= group
    assert "Crowd" not in names(derived.people([face(0.05)] * (derived.CROWD - 1), []))
    assert "Portrait" not in group


def test_sunglasses_come_from_the_faces_that_wear_them():
    assert "Sunglasses" in names(derived.people([face(0.3, sunglasses=True)], []))
    assert "Sunglasses" not in names(derived.people([face(0.3, sunglasses=False)], []))


def line(text: str, top: float, height: float = 0.03, width: float = 0.5) -> TextDetection:
    return TextDetection(text, "LINE", 0, None, 95.0,
                         [(0.1, top), (0.1 + width, top), (0.1 + width, top + height),
                          (0.1, top + height)])


def test_a_few_lines_are_text_and_a_page_is_a_document():
    assert names(derived.text([])) == set()
    assert names(derived.text([line("SALE", 0.1)])) == {"Text"}
    page = [line(f"line {i}", 0.05 * i) for i in range(derived.DOCUMENT_LINES)]
    assert {"Text", "Document"} <= names(derived.text(page))
    headline = [line("BIG", 0.1, height=0.3, width=0.8)]  # one line, much of the photo
    assert "Document" not in names(derived.text(headline))
    leaflet = [line(f"big {i}", 0.1 + 0.25 * i, height=0.2, width=0.8) for i in range(3)]
    assert "Document" in names(derived.text(leaflet))
    words = [TextDetection("x", "WORD", 1, 0, 90.0, [(0, 0), (1, 0), (1, 1), (0, 1)])]
    assert names(derived.text(words)) == set()  # words alone are not lines


def test_two_lines_in_large_letters_are_a_sign():
    notice = [line("NO", 0.3, height=0.08), line("PARKING", 0.4, height=0.08)]
    assert {"Text", "Sign"} <= names(derived.text(notice))
    small = [line("NO", 0.3), line("PARKING", 0.4)]  # letters under SIGN_HEIGHT
    assert "Sign" not in names(derived.text(small))
    assert "Sign" not in names(derived.text(notice, [face(0.4)]))  # a portrait's name tag


def test_lettering_on_a_boxed_thing_or_at_the_edge_is_no_sign():
    marking = [line("ROYAL NAVY", 0.5, height=0.05, width=0.1),
               line("SX336", 0.56, height=0.05, width=0.1)]
    plane = (0.0, 0.2, 1.0, 0.5)
    assert "Sign" in names(derived.text(marking))
    found = names(derived.text(marking, things=[plane]))
    assert "Sign" not in found and "Text" in found
    # a box elsewhere in the photo changes nothing
    assert "Sign" in names(derived.text(marking, things=[(0.7, 0.0, 0.3, 0.3)]))
    watermark = [line("photo", 0.92, height=0.08), line("credit", 0.8, height=0.08)]
    assert "Sign" not in names(derived.text(watermark))  # the first touches the bottom edge
    # a line without a polygon counts by its height (none), and is inside no box
    shapeless = TextDetection("SALE", "LINE", 0, None, 95.0, [])
    assert names(derived.text([shapeless] * 3, things=[(0.0, 0.0, 1.0, 1.0)])) == {"Text"}
