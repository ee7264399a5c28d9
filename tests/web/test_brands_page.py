"""Brands: mentions in photos beside mentions in text, enrolling a brand from the page.

The demo lake gets two brands, and custom labels written straight into its
``media_rekognition`` rows (as a rescan would put them there):

- Kindle (word ``Kindle``): its logo on the sale banner of posts 5 and 13 (13 is marked
  sensitive), its word mark read in post 5's banner too; post 11 names it in the text,
  post 13 by #kindle. Posts: 5 image-only, 11 text only, 13 both.
- Brewlab (word ``brewlab``): its logo on the coffee photo of posts 3, 9 and the
  Mastodon post; post 3 links to brewlab.example.com, and so does the Bluesky post,
  which also names it. Posts: 9 and the Mastodon one image-only, 3 both, Bluesky text.

A third brand is named ``<script>alert(1)</script>``. Labels of a brand that is not
enrolled (Oldco) and of a concept are left out. Changing tests work on a copy.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socialsight import brands
from socialsight.lake.store import Lake
from socialsight.query.engine import seed_queries
from socialsight.web.views import brands as brand_views
from tests import liveserver
from tests.web.conftest import dashboard_settings
from tests.web.test_faces import copy_lake, rewrite_rows

EVIL = "<script>alert(1)</script>"
MASTODON = 5305577497820762793
BLUESKY = 8509540387988098114
BANNER = "ec31d0f493764c76608e477108f5c6d716ea969bbf7584363622818d5043fdb2"
COFFEE = "ec7f5595c6ced2dddd077dc1578e3c7d6bb6a362d3b4181a4985a64f932969d7"


def _label(name: str, kind: str, confidence: float,
           box: tuple[float, float, float, float] = (0.1, 0.2, 0.3, 0.25)) -> dict[str, Any]:
    left, top, width, height = box
    return {"name": name, "confidence": confidence, "kind": kind, "geometry": {
        "boundingbox": {"left": left, "top": top, "width": width, "height": height}}}


CUP = (0.6, 0.6, 0.2, 0.2)
LABELS = {
    9000000000000005: [_label("Kindle", "logo", 91.0),
                       _label("Kindle", "text", 88.0, (0.5, 0.1, 0.4, 0.1))],
    9000000000000013: [_label("Kindle", "logo", 90.0)],
    9000000000000003: [_label("Brewlab", "logo", 84.0, CUP),
                       _label("Shop front", "concept", 80.0)],
    9000000000000009: [_label("Brewlab", "logo", 80.0, CUP)],
    MASTODON: [_label("Brewlab", "logo", 70.0, CUP)],
    9000000000000004: [_label("Oldco", "logo", 99.0)],  # not enrolled: left out
}


def brand_lake(demo_lake: Lake, folder: Path) -> Lake:
    """A copy of the demo lake with Kindle, Brewlab and EVIL enrolled and labels set."""
    lake = Lake(str(shutil.copytree(demo_lake.root, folder / "lake")))
    enrolled = brands.Brands()
    for name, word in (("Kindle", "Kindle"), ("Brewlab", "brewlab"), (EVIL, EVIL)):
        enrolled.add(name, [word], [])
    enrolled.save(lake)

    def label(row: dict[str, Any]) -> None:
        if row["tweetid"] in LABELS:
            row["image_labels"]["customlabels"] = LABELS[row["tweetid"]]

    rewrite_rows(lake, "media_rekognition", label)
    return lake


def app_client(lake: Lake) -> Any:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    return TestClient(create_app(lake, dashboard_settings(lake)), base_url="http://localhost")


@pytest.fixture(scope="module")
def mentioned(demo_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A client over the brand lake, which no test here changes."""
    with app_client(brand_lake(demo_lake, tmp_path_factory.mktemp("brands"))) as client:
        yield client


@pytest.fixture
def own(demo_lake: Lake, tmp_path: Path) -> Iterator[Any]:
    """A client over a copy of the brand lake, which the test may change."""
    with app_client(brand_lake(demo_lake, tmp_path)) as client:
        yield client


@pytest.fixture
def plain(demo_lake: Lake, tmp_path: Path) -> Iterator[Any]:
    """A client over a copy of the demo lake, where no brand is enrolled yet (the demo's
    own, Brewlab and Kindle, are taken out)."""
    lake = copy_lake(demo_lake, tmp_path)
    shutil.rmtree(Path(lake.root) / "_brands")
    with app_client(lake) as client:
        yield client


def logo_png() -> bytes:
    """scikit-image's logo, a real logo image with detail enough to be found again."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-image (the test logo) is not installed")
    return (Path(spec.origin).parent / "data" / "logo.png").read_bytes()


def enrol(client: Any, name: str, words: str = "", logos: list[tuple[str, bytes]] | None = None,
          **headers: str) -> Any:
    files = [("logo", (filename, data, "image/png")) for filename, data in logos or []]
    return client.post("/api/brands", data={"name": name, "words": words},
                       files=files or [("logo", ("", b"", "application/octet-stream"))],
                       headers=headers)


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["name"]: b for b in data["brands"]}


def test_the_counts_are_what_the_rows_say(mentioned: Any) -> None:
    data = mentioned.get("/api/brands").json()
    assert [b["name"] for b in data["brands"]] == ["Brewlab", "Kindle", EVIL]  # most posts first
    kindle, brewlab = by_name(data)["Kindle"], by_name(data)["Brewlab"]
    fields = ("posts", "photo_posts", "text_posts", "both_posts", "image_only_posts", "photos",
              "logo_photos")
    assert [kindle[f] for f in fields] == [3, 2, 2, 1, 1, 2, 2]
    assert kindle["image_only_share"] == pytest.approx(1 / 3)
    assert kindle["found"] == {"logo": 2, "text": 1, "word": 1, "hashtag": 1}
    assert [brewlab[f] for f in fields] == [4, 3, 2, 1, 2, 3, 3]
    assert brewlab["image_only_share"] == pytest.approx(1 / 2)
    assert brewlab["found"] == {"logo": 3, "link": 2, "word": 1}
    assert by_name(data)[EVIL]["posts"] == 0 and by_name(data)[EVIL]["image_only_share"] is None
    assert data["totals"] == {"brands": 3, "posts": 7, "photo_posts": 5, "text_posts": 4,
                              "image_only_posts": 3, "image_only_share": pytest.approx(3 / 7)}
    # By platform and by day: posts in photos and in text, per brand.
    split = {(r["brand"], r["platform"]): (r["photo"], r["text"], r["image_only"])
             for r in data["by_platform"]}
    assert split == {("Brewlab", "x"): (2, 1, 1), ("Brewlab", "mastodon"): (1, 0, 1),
                     ("Brewlab", "bluesky"): (0, 1, 0), ("Kindle", "x"): (2, 2, 1)}
    days = {(r["brand"], r["t"]): (r["photo"], r["text"]) for r in data["by_day"]}
    assert days == {("Kindle", "2024-07-01"): (1, 1), ("Kindle", "2024-07-02"): (1, 1),
                    ("Brewlab", "2024-07-02"): (1, 1), ("Brewlab", "2024-07-03"): (2, 1)}
    # tweet_sentiments of the posts showing the brand beside those naming it
    assert kindle["sentiment"]["photo"] == {"POSITIVE": 0, "NEGATIVE": 0, "NEUTRAL": 2,
                                            "MIXED": 0}
    assert brewlab["sentiment"]["photo"]["NEUTRAL"] == 2
    assert brewlab["sentiment"]["text"]["POSITIVE"] == 1


def test_the_example_queries_count_as_the_page_does(mentioned: Any) -> None:
    engine = mentioned.app.state.lakeside.engine
    page = by_name(mentioned.get("/api/brands").json())
    shares = engine.execute(seed_queries()["image_only_brand_mentions"]).table.to_pylist()
    assert [(r["brand"], r["posts"], r["image_only"]) for r in shares] == [
        ("Brewlab", 4, 2), ("Kindle", 3, 1), ("Oldco", 1, 1)]  # SQL sees every label
    for row in shares[:2]:
        brand = page[row["brand"]]
        assert row["image_only_share"] == round(100 * brand["image_only_share"], 1)
    days = engine.execute(seed_queries()["brand_mentions_by_day"]).table.to_pylist()
    assert {(r["day"], r["brand"]): (r["in_photos"], r["in_text"]) for r in days
            if r["brand"] != "Oldco"} == {
        (r["t"], r["brand"]): (r["photo"], r["text"])
        for r in mentioned.get("/api/brands").json()["by_day"]}


def test_top_photos_are_each_image_once_with_its_box(mentioned: Any) -> None:
    photos = mentioned.get("/api/brands").json()["photos"]
    assert [(p["brand"], p["sha256"], p["posts"], p["sensitive"]) for p in photos] == [
        ("Kindle", BANNER, 2, True), ("Brewlab", COFFEE, 3, False)]
    assert photos[0]["box"] == {"left": 10.0, "top": 20.0, "width": 30.0, "height": 25.0}
    assert photos[0]["caption"] == "Kindle · logo 91% · in 2 posts"
    page = mentioned.get("/brands").text
    # The sensitive banner is sent blurred (its box shows once revealed); the cup is not.
    assert f'src="/photos/{BANNER}?size=640&amp;blur=1"' in page
    assert f'src="/photos/{COFFEE}?size=640"' in page
    assert 'style="left:60.0%;top:60.0%;width:20.0%;height:20.0%"' in page


def test_the_filters_narrow_the_mentions(mentioned: Any) -> None:
    on_mastodon = by_name(mentioned.get("/api/brands", params={"platform": "mastodon"}).json())
    assert on_mastodon["Brewlab"]["posts"] == 1 and on_mastodon["Brewlab"][
        "image_only_share"] == 1.0
    assert on_mastodon["Kindle"]["posts"] == 0  # still listed, for comparison
    kindle = by_name(mentioned.get("/api/brands", params={"q": "kindle"}).json())["Kindle"]
    assert (kindle["posts"], kindle["photo_posts"], kindle["image_only_posts"]) == (2, 1, 0)
    day = mentioned.get("/api/brands", params={"start": "2024-07-03"}).json()
    assert day["totals"]["posts"] == 2 and [p["brand"] for p in day["photos"]] == ["Brewlab"]


def test_the_page_escapes_brand_names_and_lists_every_brand(mentioned: Any) -> None:
    page = mentioned.get("/brands")
    assert page.status_code == 200
    assert EVIL not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'href="/brands"' in page.text  # in the navigation
    assert page.text.count('<tr data-id="') == 3
    paths = mentioned.get("/api/openapi.json").json()["paths"]
    assert paths["/api/brands"]["get"]["description"]
    assert "post" in paths["/api/brands"] and "delete" in paths["/api/brands/{bid}"]


def test_empty_states_say_what_to_do(plain: Any) -> None:
    data = plain.get("/api/brands").json()
    assert data["brands"] == [] and data["totals"]["posts"] == 0 and data["photos"] == []
    page = plain.get("/brands").text
    assert 'id="no-brands"' in page and "socialsight brands add NAME" in page
    assert 'id="brand-enrol"' in page
    added = enrol(plain, "Zebracorp")  # a brand no post mentions
    assert added.status_code == 200, added.text
    page = plain.get("/brands").text
    assert 'id="no-mentions"' in page and "Zebracorp" in page


def test_enrolling_a_logo_from_the_form_rescans_every_photo(own: Any) -> None:
    answer = enrol(own, "scikit-image", "scikit-image, skimage", [("logo.png", logo_png())])
    assert answer.status_code == 200, answer.text
    added = answer.json()
    assert (added["name"], added["logos"], added["logos_added"]) == ("scikit-image", 1, 1)
    assert added["words"] == ["scikit-image", "skimage"]
    assert added["rescan"]["photos"] == 22 and added["rescan"]["missing"] == 0
    # The rescan found every brand again from the photos: none of the demo's photos shows
    # these logos, so the labels written by hand are gone, and the text mentions stay.
    assert added["rescan"]["changed"] == 6
    data = own.get("/api/brands").json()
    assert by_name(data)["scikit-image"]["logos"] == 1
    assert (by_name(data)["Kindle"]["photo_posts"], by_name(data)["Kindle"]["text_posts"]) == \
        (0, 2)
    again = enrol(own, "Scikit-Image", logos=[("same.png", logo_png())])
    assert again.json()["logos_added"] == 0  # the same image is one logo
    bid = added["id"]
    gone = own.delete(f"/api/brands/{bid}")
    assert gone.status_code == 200 and gone.json()["name"] == "scikit-image"
    assert "scikit-image" not in by_name(own.get("/api/brands").json())
    assert own.delete(f"/api/brands/{bid}").status_code == 404


def test_a_text_only_brand_is_seen_at_once(plain: Any) -> None:
    assert plain.get("/api/brands").json()["brands"] == []  # the engine is made first
    answer = enrol(plain, "Kindle", "Kindle")
    assert answer.status_code == 200, answer.text
    assert answer.json()["logos"] == 0 and answer.json()["rescan"]["changed"] == 0
    kindle = by_name(plain.get("/api/brands").json())["Kindle"]
    assert (kindle["posts"], kindle["text_posts"], kindle["image_only_posts"]) == (2, 2, 0)


@pytest.mark.parametrize(("name", "logos", "message"), [
    ("Svg", [("logo.svg", b"<svg></svg>")], "logo.svg is not a JPEG, PNG, GIF or WebP"),
    ("Empty", [("empty.png", b"")], "empty.png is not a JPEG, PNG"),
    ("", [], "name"),
    ("Bad\x07name", [], "printable characters: it holds U+0007"),
    ("brands", [], "is taken"),
    ("Many", [(f"l{i}.png", b"x") for i in range(6)], "Too many files"),
])
def test_a_bad_enrolment_is_refused_and_nothing_is_saved(
        plain: Any, name: str, logos: list[tuple[str, bytes]], message: str) -> None:
    answer = enrol(plain, name, logos=logos)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.text
    assert plain.get("/api/brands").json()["brands"] == []


def test_a_logo_with_too_little_detail_is_refused(plain: Any) -> None:
    import io

    from PIL import Image

    flat = io.BytesIO()
    Image.new("RGB", (200, 200), (0, 90, 200)).save(flat, format="PNG")
    answer = enrol(plain, "Flat", logos=[("flat.png", flat.getvalue())])
    assert answer.status_code == 400 and "flat.png" in answer.json()["error"]
    assert "too little detail" in answer.json()["error"]
    assert plain.get("/api/brands").json()["brands"] == []


def test_uploads_are_size_limited_and_must_be_a_form(plain: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(brand_views, "MAX_LOGO_BYTES", 1000)
    big = enrol(plain, "Big", logos=[("big.png", logo_png())])
    assert big.status_code == 400 and "big.png is larger than" in big.json()["error"]
    monkeypatch.setattr(brand_views, "MAX_BODY", 2000)
    bigger = enrol(plain, "Big", logos=[("big.png", logo_png())])
    assert bigger.status_code == 400 and "larger than" in bigger.json()["error"]
    as_json = plain.post("/api/brands", json={"name": "Acme"})
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json()["error"]
    assert plain.get("/api/brands").json()["brands"] == []


def test_a_form_cut_short_is_refused_not_read_as_far_as_it_goes(plain: Any) -> None:
    boundary = "xYzBoundary"
    whole = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nCut\r\n"
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; "
             f"filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n").encode()
    whole += logo_png() + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    for body in (whole[:-len(boundary) - 8], whole[:len(whole) // 2]):
        cut = plain.post("/api/brands", content=body, headers=headers)
        assert cut.status_code == 400 and "closing boundary" in cut.json()["error"], cut.text
    assert plain.get("/api/brands").json()["brands"] == []
    whole_form = plain.post("/api/brands", content=whole, headers=headers)
    assert whole_form.status_code == 200, whole_form.text
    assert whole_form.json()["logos"] == 1
    # a quoted boundary with a ';' in it, other parameters, and an epilogue: all well formed
    quoted = whole.replace(boundary.encode(), b"a;b").replace(b"name=\"name\"\r\n\r\nCut",
                                                              b"name=\"name\"\r\n\r\nCut2")
    answer = plain.post("/api/brands", content=quoted + b"an epilogue\r\n", headers={
        "Content-Type": 'multipart/form-data; boundary="a;b" ; charset=utf-8'})
    assert answer.status_code == 200 and answer.json()["name"] == "Cut2", answer.text


def test_other_sites_cannot_enrol_or_forget(own: Any) -> None:
    other = {"Origin": "http://evil.example"}
    assert enrol(own, "Evil", **other).status_code == 403
    bid = by_name(own.get("/api/brands").json())["Kindle"]["id"]
    assert own.delete(f"/api/brands/{bid}", headers=other).status_code == 403
    assert [b["name"] for b in own.get("/api/brands").json()["brands"]] == [
        "Brewlab", "Kindle", EVIL]


def test_a_busy_lake_changes_nothing_and_says_so(own: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(brands, "LOCK_WAIT_SECONDS", 0.3)
    lake = own.app.state.lakeside.lake
    bid = by_name(own.get("/api/brands").json())["Kindle"]["id"]
    with lake.lock():  # as another socialsight process writing to the lake would
        added = enrol(own, "Acme", "ACME")
        gone = own.delete(f"/api/brands/{bid}")
    for refused in (added, gone):
        assert refused.status_code == 409
        assert refused.json()["error"].startswith("the brands are not changed: ")
    assert len(own.get("/api/brands").json()["brands"]) == 3


# --- in the browser ----------------------------------------------------------------------


@pytest.fixture
def brand_page(browser: Any, demo_lake: Lake, tmp_path: Path) -> Iterator[Any]:
    """A browser tab on the dashboard under uvicorn, over a copy of the brand lake; no
    dialog may open (a brand name run as a script would open one)."""
    from socialsight.web.app import create_app

    lake = brand_lake(demo_lake, tmp_path)
    server, thread, port = liveserver.start(create_app(lake, dashboard_settings(lake)))
    context = browser.new_context(base_url=f"http://localhost:{port}",
                                  viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
           and "status of 400" not in msg.text else None)

    def dialog(shown: Any) -> None:  # Forget's confirm is accepted; nothing else may open
        if shown.type == "confirm":
            shown.accept()
        else:
            errors.append(f"a {shown.type} opened: {shown.message}")
            shown.dismiss()

    tab.on("dialog", dialog)
    yield tab
    context.close()
    liveserver.stop(server, thread)
    assert not errors, f"the page reported errors: {errors}"


@pytest.mark.slow
def test_the_page_draws_its_charts_and_boxes(brand_page: Any) -> None:
    page = brand_page
    page.goto("/brands")
    for chart in ("brand-over-time", "brand-platforms", "brands-side-by-side",
                  "brand-sentiment"):
        page.wait_for_selector(f"#{chart}[data-rendered='true'] .main-svg")
    assert page.inner_text("#total-image-only") == "43%"
    assert page.locator("#brand-pick option").all_inner_texts() == ["Brewlab", "Kindle", EVIL]
    page.select_option("#brand-pick", label=EVIL)  # no mentions: the charts say so
    page.wait_for_selector("#brand-over-time[data-rendered='empty']")
    page.select_option("#brand-pick", label="Kindle")
    page.wait_for_selector("#brand-over-time[data-rendered='true'] .main-svg")
    # The cup's box is drawn on it; the sensitive banner's only once it is revealed.
    banner, cup = page.locator("#brand-photos .frame").all()
    assert cup.locator(".logo-box").is_visible()
    assert not banner.locator(".logo-box").is_visible()
    frame, box = cup.bounding_box(), cup.locator(".logo-box").bounding_box()
    assert box["x"] == pytest.approx(frame["x"] + 0.6 * frame["width"], abs=3)
    assert box["width"] == pytest.approx(0.2 * frame["width"], abs=3)
    banner.locator("img").click()
    assert banner.locator(".logo-box").is_visible()


@pytest.mark.slow
def test_enrolling_and_forgetting_from_the_page(brand_page: Any, tmp_path: Path) -> None:
    page = brand_page
    page.goto("/brands")
    bad = tmp_path / "logo.png"
    bad.write_text("<svg></svg>")
    page.fill("#brand-name", "scikit-image")
    page.set_input_files("#brand-logos", str(bad))
    page.click("#brand-submit")
    page.wait_for_selector("#brand-status.error")
    assert "logo.png is not a JPEG, PNG, GIF or WebP" in page.inner_text("#brand-status")
    logo = tmp_path / "skimage.png"
    logo.write_bytes(logo_png())
    page.set_input_files("#brand-logos", str(logo))
    page.fill("#brand-words", "scikit-image, skimage")
    with page.expect_navigation():
        page.click("#brand-submit")
    page.wait_for_selector("#brand-change:not([hidden])")
    said = page.inner_text("#brand-change")
    assert said.startswith("scikit-image is enrolled (1 logo; words: scikit-image, skimage)")
    assert "22 photos searched again, 6 changed" in said
    assert page.inner_text("#total-brands") == "4"
    row = page.locator("#brands-table tr", has_text="scikit-image")
    with page.expect_navigation():
        row.locator("button.forget").click()  # the confirm is accepted
    page.wait_for_selector("#brand-change:not([hidden])")
    assert page.inner_text("#brand-change").startswith("scikit-image is forgotten")
    assert page.inner_text("#total-brands") == "3"
