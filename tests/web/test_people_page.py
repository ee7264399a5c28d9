"""People: who is recognised where, enrolling a face from the page, forgetting a person.

Enrolling and forgetting change the lake: those tests run on a copy of the demo lake.
(Named test_people_page.py: tests/test_people.py has the plain name.)
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socialsight import people
from socialsight.explore import known
from socialsight.lake.store import Lake
from socialsight.query.engine import seed_queries
from tests import liveserver
from tests.conftest import status, write_jsonl
from tests.web.conftest import dashboard_settings
from tests.web.test_faces import copy_lake, rewrite_rows

GRACE = "1baa503e"  # Grace Hopper, enrolled in the demo's gallery
ASTRONAUT_POSTS = {"9000000000000002", "9000000000000011", "9000000000000019"}
ASTRONAUT = {"tweetid": "9000000000000002", "mediaid": "90000000000000020", "face": 0}


@pytest.fixture
def own(demo_lake: Lake, tmp_path: Path) -> Iterator[Any]:
    """A client of the app over a copy of the demo lake, which the test may change."""
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    lake = copy_lake(demo_lake, tmp_path)
    with TestClient(create_app(lake, dashboard_settings(lake)),
                    base_url="http://localhost") as test_client:
        yield test_client


def enrol(client: Any, **body: Any) -> Any:
    return client.post("/api/people", json={"name": "Eileen Collins", "faces": [ASTRONAUT],
                                            **body})


def test_known_people_are_counted_as_the_seed_counts_them(client: Any) -> None:
    data = client.get("/api/people").json()
    seed = client.app.state.lakeside.engine.execute(seed_queries()["top_celebrities"])
    assert [(p["name"], p["faces"]) for p in data["people"]] == \
        [(r["celebrity"], r["count"]) for r in seed.table.to_pylist()]
    grace = data["people"][0]
    assert grace == {"id": GRACE, "name": "Grace Hopper", "enrolled_faces": 1, "faces": 2,
                     "photos": 2, "posts": 2, "href": f"/people/{GRACE}",
                     "urls": ["https://en.wikipedia.org/wiki/Grace_Hopper"]}
    # The astronaut's portrait, in three posts, is the one face no one matches.
    [face] = data["unknown"]
    assert face["posts"] == 3 and face["tweetid"] in ASTRONAUT_POSTS
    page = client.get("/people").text
    assert f'href="/people/{GRACE}"' in page and f'data-mediaid="{face["mediaid"]}"' in page


def test_a_person_page_shows_their_photos(client: Any) -> None:
    data = client.get(f"/api/people/{GRACE}").json()
    assert data["person"]["name"] == "Grace Hopper" and data["person"]["enrolled"]
    assert sorted(c["tweetid"] for c in data["cards"]) == ["9000000000000006",
                                                           "9000000000000014"]
    assert all(c["caption"].startswith("match ") for c in data["cards"])
    page = client.get(f"/people/{GRACE}").text
    assert "Forget Grace Hopper" in page and data["cards"][0]["caption"] in page
    assert client.get(f"/api/people/{GRACE}", params={"q": "coffee"}).json()["cards"] == []


def test_unknown_people_are_not_found(client: Any) -> None:
    answer = client.get("/api/people/nobody")
    assert answer.status_code == 404 and "no one known" in answer.json()["error"]
    assert client.get("/people/" + "x" * 5000).status_code == 404
    assert client.delete("/api/people/nobody").status_code == 404


def test_enrolling_a_face_finds_the_person_in_every_photo(own: Any) -> None:
    answer = enrol(own, urls=["https://en.wikipedia.org/wiki/Eileen_Collins"])
    assert answer.status_code == 200, answer.text
    added = answer.json()
    assert added["name"] == "Eileen Collins" and added["faces_added"] == 1
    assert added["photos_rematched"] == 3  # the same portrait in three posts
    # Seen at once by the running app: the rewritten Parquet files are read afresh.
    data = own.get("/api/people").json()
    eileen = next(p for p in data["people"] if p["id"] == added["id"])
    assert (eileen["photos"], eileen["posts"], eileen["enrolled_faces"]) == (3, 3, 1)
    assert eileen["urls"] == ["https://en.wikipedia.org/wiki/Eileen_Collins"]
    assert data["unknown"] == [] and data["totals"]["unknown_faces"] == 0
    assert len(own.get(f"/api/people/{added['id']}").json()["cards"]) == 3
    again = enrol(own)  # the same face again: nothing new
    assert again.json()["faces_added"] == 0

    gone = own.delete(f"/api/people/{added['id']}")
    assert gone.status_code == 200 and gone.json()["faces_removed"] == 1
    assert gone.json()["photos_rematched"] == 3
    data = own.get("/api/people").json()
    assert [p["name"] for p in data["people"]] == ["Grace Hopper"]
    assert len(data["unknown"]) == 1
    assert own.get(f"/api/people/{added['id']}").status_code == 404


def test_a_busy_lake_changes_nothing_and_says_so(own: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The gallery is written under the lake's lock only: another process holding it
    # (`socialsight people add`, `enrich`) could be writing the gallery too.
    monkeypatch.setattr(people, "LOCK_WAIT_SECONDS", 0.3)
    lake = own.app.state.lakeside.lake
    with lake.lock():  # as another socialsight process writing to the lake would
        answer = enrol(own)
        gone = own.delete(f"/api/people/{GRACE}")
    for refused in (answer, gone):
        assert refused.status_code == 409
        assert refused.json()["error"].startswith("the people gallery is not changed: "
                                                  "another socialsight process is writing")
    assert [p["name"] for p in own.get("/api/people").json()["people"]] == ["Grace Hopper"]


def test_a_lake_busy_after_the_enrolment_says_past_photos_wait(
        own: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(people, "LOCK_WAIT_SECONDS", 0.3)
    lake = own.app.state.lakeside.lake

    def taken(*args: Any, **kwargs: Any) -> Any:  # another process takes the lake meanwhile
        with lake.lock():
            return people.rematch(*args, **kwargs)

    monkeypatch.setattr(known, "rematch", taken)
    answer = enrol(own)
    assert answer.status_code == 409
    assert "Eileen Collins is enrolled, but past photos are not matched" in \
        answer.json()["error"] and "socialsight people rematch" in answer.json()["error"]
    eileen = next(p for p in own.get("/api/people").json()["people"]
                  if p["name"] == "Eileen Collins")
    assert (eileen["enrolled_faces"], eileen["photos"]) == (1, 0)


@pytest.fixture
def small_server(cli: Any, tmp_path: Path) -> Iterator[int]:
    """The dashboard under uvicorn over a lake of one post; yields its port."""
    from socialsight.web.app import create_app

    assert cli("import", str(write_jsonl(tmp_path / "posts.jsonl",
                                         [status(1, "hello")]))).exit_code == 0
    lake = Lake(str(tmp_path / "lake"))
    server, thread, port = liveserver.start(create_app(lake, dashboard_settings(lake)))
    yield port
    liveserver.stop(server, thread)


def _post(port: int, headers: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)  # guards a hang
    sock.sendall(f"POST /api/people HTTP/1.1\r\nHost: localhost:{port}\r\n"
                 f"Content-Type: application/json\r\n{headers}\r\n".encode())
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while b"\r\n\r\n" not in data and (got := sock.recv(65536)):
            data += got
    sock.close()
    return data


def test_a_big_body_is_refused_as_it_arrives(small_server: int) -> None:
    total, piece = 100 * 2**20, 2**16
    sock = _post(small_server, "Transfer-Encoding: chunked\r\n")
    sent = 0
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        while sent < total and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (piece, b" " * piece))
            sent += piece
    answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert sent < total, "the answer came only after the whole body"


def test_a_body_declared_too_big_is_refused_before_it_is_sent(small_server: int) -> None:
    answer = _answer(_post(small_server, f"Content-Length: {400 * 2**20}\r\n"))
    assert answer.startswith(b"HTTP/1.1 400"), answer


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "  "}, "needs a name"),
    ({"name": "x" * 101}, "at most 100 characters"),
    ({"name": "Eileen\nCollins"}, "one line"),
    ({"faces": []}, "at least one face"),
    ({"faces": "all"}, "at least one face"),
    ({"faces": [{**ASTRONAUT, "tweetid": "1"}]}, "no analysed photo"),
    ({"faces": [{**ASTRONAUT, "tweetid": "abc"}]}, "tweetid must be"),
    ({"faces": [{**ASTRONAUT, "face": 1}]}, "has 1 face: there is no face 1"),
    ({"faces": [{**ASTRONAUT, "face": 10**40}]}, "there is no face"),
    ({"faces": [{**ASTRONAUT, "face": -1}]}, "face must be"),
    ({"faces": [ASTRONAUT] * 51}, "at most 50 faces"),
    ({"urls": ["javascript:alert(1)"]}, "http:// or https://"),
])
def test_bad_enrolments_get_a_clear_400(own: Any, body: dict[str, Any], message: str) -> None:
    answer = enrol(own, **body)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.text
    assert [p["name"] for p in own.get("/api/people").json()["people"]] == ["Grace Hopper"]


def test_the_body_must_be_json(own: Any) -> None:
    form = own.post("/api/people", data={"name": "Eileen Collins"})
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    broken = own.post("/api/people", content=b"{name:",
                      headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "not JSON" in broken.json()["error"]
    listed = own.post("/api/people", json=["Eileen Collins"])
    assert listed.status_code == 400 and "JSON object" in listed.json()["error"]


def test_a_face_without_an_embedding_cannot_be_enrolled(demo_lake: Lake,
                                                        tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    lake = copy_lake(demo_lake, tmp_path)

    def drop(row: dict[str, Any]) -> None:
        if str(row["tweetid"]) == ASTRONAUT["tweetid"]:
            row["face_embeddings"] = [None]

    rewrite_rows(lake, "media_rekognition", drop)
    with TestClient(create_app(lake, dashboard_settings(lake)),
                    base_url="http://localhost") as client:
        answer = enrol(client)
        assert answer.status_code == 400 and "no embedding" in answer.json()["error"]


@pytest.fixture
def own_page(browser: Any, demo_lake: Lake, tmp_path: Path) -> Iterator[Any]:
    """A browser tab on the dashboard under uvicorn, over a copy of the demo lake."""
    from socialsight.web.app import create_app

    lake = copy_lake(demo_lake, tmp_path)
    server, thread, port = liveserver.start(create_app(lake, dashboard_settings(lake)))
    context = browser.new_context(base_url=f"http://localhost:{port}",
                                  viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    liveserver.stop(server, thread)
    assert not errors, f"the page reported errors: {errors}"


@pytest.mark.slow
def test_enrolling_from_the_page(own_page: Any) -> None:
    page = own_page
    page.goto("/people")
    page.wait_for_selector("#people-photos[data-rendered='true'] .main-svg")
    assert page.inner_text("#total-unknown") == "1"
    page.fill("#enrol-name", "Eileen Collins")
    page.click("#enrol-submit")  # nothing ticked yet: the page says so, sends nothing
    assert "Tick at least one face" in page.inner_text("#enrol-status")
    page.check("#unknown-faces input[name=face]")
    page.fill("#enrol-url", "https://en.wikipedia.org/wiki/Eileen_Collins")
    with page.expect_navigation():
        page.click("#enrol-submit")
    page.wait_for_selector("#people-table a:text('Eileen Collins')")
    assert page.inner_text("#total-unknown") == "0"
    row = page.locator("#people-table tr", has_text="Eileen Collins").inner_text()
    assert row.split()[2:5] == ["3", "3", "3"]  # photos, posts, faces
