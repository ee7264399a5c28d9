"""Platform deletions and edits reach the lake, end to end (issue 18, item 2): each
platform's deletion, sent the way the platform sends it — a v1.1 ``delete`` line in an
imported or followed file, a Bluesky Jetstream delete commit, Mastodon's ``delete``
stream event, an X edit history, an X batch compliance result file — removes the post
from every table of the lake, and an edit replaces it; other posts are untouched and the
audit log says what went and why."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import serve as serve_ws
from websockets.exceptions import ConnectionClosed

from socialsight.collect import Collector
from socialsight.config import CollectSettings
from socialsight.forget import Forgetter
from socialsight.lake.audit import records
from socialsight.lake.store import Lake
from socialsight.posts.canonical import derived_id
from socialsight.sources.follow import FollowFiles
from tests import test_sources_bluesky as bsky
from tests import test_sources_mastodon as masto
from tests import test_sources_x_api as xapi
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos  # noqa: F401
from tests.test_forget import _holding

pytestmark = pytest.mark.slow

# Three accounts, three posts, each with words found nowhere else.
ANN = (8800001, "ann_keeps", "Ann Keeps")
BEN = (8800002, "ben_deletes", "Ben Deletes")
CAT = (8800003, "cat_stays", "Cat Stays")
P1, P2, P3 = 1500000000000000111, 1500000000000000222, 1500000000000000333
TEXTS = {P1: "Ann's morning espresso qzvrt", P2: "Ben's regrettable rant wxqpl",
         P3: "Cat's garden tulips jhkmv"}
USERS = {P1: ANN, P2: BEN, P3: CAT}
DELETED = "deleted on the platform"


def v1(pid: int, **over: Any) -> dict[str, Any]:
    return {**status(pid, TEXTS[pid], user=USERS[pid]), **over}


def v1_delete(pid: int) -> dict[str, Any]:
    """A v1.1 status deletion notice, as the streaming API sent it."""
    uid = USERS[pid][0] if pid in USERS else 1
    return {"delete": {"status": {"id": pid, "id_str": str(pid), "user_id": uid,
                                  "user_id_str": str(uid)},
                       "timestamp_ms": "1562975237000"}}


def jsonl(path: Path, records_: list[Any], newline_at_end: bool = True) -> Path:
    data = b"\n".join(orjson.dumps(r) for r in records_)
    path.write_bytes(data + (b"\n" if newline_at_end else b""))
    return path


def tweet_ids(lake_dir: Path) -> list[int]:
    return sorted(Lake(str(lake_dir)).read("tweets", ["id"]).column("id").to_pylist())


def table_ids(lake_dir: Path, table: str) -> list[int]:
    return sorted(Lake(str(lake_dir)).read(table, ["tweetid"]).column("tweetid").to_pylist())


def tweet(lake_dir: Path, pid: int) -> dict[str, Any]:
    (row,) = [r for r in Lake(str(lake_dir)).read("tweets").to_pylist() if r["id"] == pid]
    return row


def forgets(lake_dir: Path) -> list[dict[str, Any]]:
    return [r for r in records(Lake(str(lake_dir))) if r["action"] == "forget"]


def assert_gone(lake_dir: Path, pid: int, text: str) -> None:
    """What a user would look for: the post's id in no table, its text in no file."""
    assert pid not in tweet_ids(lake_dir)
    for table in ("tweet_sentiments", "tweet_entities", "tweet_keyphrases",
                  "media_rekognition"):
        assert pid not in table_ids(lake_dir, table)
    assert _holding(lake_dir, text) == []
    assert _holding(lake_dir, str(pid), skip=("_audit/",)) == []


def assert_audited(lake_dir: Path, *pids: int, reason: str = DELETED) -> None:
    """One forget record per deleted post set, naming it by id only (never its text)."""
    found = [r for r in forgets(lake_dir) if set(pids) <= set(r["post_ids"])]
    assert found, forgets(lake_dir)
    assert all(r["reason"] == reason for r in found)
    for record in found:
        body = orjson.dumps(record)
        assert not any(t.encode() in body for t in TEXTS.values())


# --- 1. a v1.1 delete line in an imported file ------------------------------------------


@pytest.mark.parametrize("where", ["first", "middle", "last-without-newline"])
def test_an_imported_delete_line_forgets_its_post_wherever_it_stands(cli, tmp_path,
                                                                     where) -> None:
    lake_dir = tmp_path / "lake"
    posts = [v1(P1), v1(P2), v1(P3)]
    lines: list[Any] = {
        "first": [v1_delete(P2), *posts],  # a stream may send it before the status
        "middle": [v1(P1), v1(P2), v1_delete(P2), v1(P3)],
        "last-without-newline": [*posts, v1_delete(P2)],
    }[where]
    feed = jsonl(tmp_path / "feed.jsonl", lines, newline_at_end=where != "last-without-newline")
    result = cli("import", str(feed))
    assert result.exit_code == 0, result.output
    assert "deletions read" in result.output and "not applied" not in result.output
    assert _row(result.output, "deletions read") == 1
    assert _row(result.output, "posts forgotten") == 1
    assert tweet_ids(lake_dir) == [P1, P3]
    assert_gone(lake_dir, P2, TEXTS[P2])
    assert _holding(lake_dir, TEXTS[P1]) and _holding(lake_dir, TEXTS[P3])
    assert_audited(lake_dir, P2)
    # importing the file again does not bring the post back
    again = cli("import", str(feed))
    assert again.exit_code == 0, again.output
    assert tweet_ids(lake_dir) == [P1, P3]
    assert _holding(lake_dir, TEXTS[P2]) == []


def _row(output: str, label: str) -> int:
    """The number on the row ``label`` of a summary table the CLI printed."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) == 4 and cells[1] == label:
            return int(cells[2].replace(",", ""))
    raise AssertionError(f"no row {label!r} in:\n{output}")


def test_with_honour_deletions_off_the_post_stays_and_the_output_says_so(
        cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SOCIALSIGHT_COLLECT_HONOUR_DELETIONS", "false")
    feed = jsonl(tmp_path / "feed.jsonl", [v1(P1), v1(P2), v1_delete(P2)])
    result = cli("import", str(feed))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "deletions read (not applied: collect.honour_deletions is "
                               "false)") == 1
    assert "posts forgotten" not in result.output
    assert tweet_ids(tmp_path / "lake") == [P1, P2]
    assert forgets(tmp_path / "lake") == []


def test_a_delete_line_among_many_statuses_read_in_bulk(cli, tmp_path) -> None:
    """Over 512 lines a file's v1.1 statuses are converted in bulk; the delete lines
    among them still reach the lake, the last one without its newline too."""
    many = [status(2_000_000 + i, f"filler post {i}") for i in range(700)]
    lines = [v1(P1), *many[:300], v1(P2), *many[300:], v1_delete(P2), v1(P3), v1_delete(P1)]
    feed = jsonl(tmp_path / "bulk.jsonl", lines, newline_at_end=False)
    result = cli("import", str(feed))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "deletions read") == 2
    assert _row(result.output, "posts forgotten") == 2
    ids = tweet_ids(tmp_path / "lake")
    assert len(ids) == 701 and P3 in ids and P1 not in ids and P2 not in ids
    assert_gone(tmp_path / "lake", P1, TEXTS[P1])
    assert_gone(tmp_path / "lake", P2, TEXTS[P2])


def test_a_delete_in_a_later_file_forgets_an_analysed_post_from_every_table(
        cli, tmp_path, photos, enrich_env) -> None:  # noqa: F811
    """Ben's post and its photo were analysed before the delete came: the rows of its
    text and its photo go, and the photo's bytes and cached analysis; Ann's photo stays."""
    lake_dir = tmp_path / "lake"
    first = jsonl(tmp_path / "posts.jsonl", [
        v1(P1, **_photo(P1, f"{photos}/coffee.png")),
        v1(P2, **_photo(P2, f"{photos}/astronaut.png")), v1(P3)])
    assert cli("import", str(first)).exit_code == 0
    assert cli("enrich").exit_code == 0
    assert table_ids(lake_dir, "tweet_sentiments") == [P1, P2, P3]
    assert table_ids(lake_dir, "media_rekognition") == [P1, P2]
    astronaut = hashlib.sha256((PhotoHandler.folder / "astronaut.png").read_bytes()).hexdigest()
    coffee = hashlib.sha256((PhotoHandler.folder / "coffee.png").read_bytes()).hexdigest()
    assert list((lake_dir / "_media").rglob(f"{astronaut}*"))
    assert _holding(lake_dir, "regrettable rant")  # in tweets and the text tables
    later = jsonl(tmp_path / "deletes.jsonl", [v1_delete(P2)])
    result = cli("import", str(later))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "posts forgotten") == 1
    assert_gone(lake_dir, P2, TEXTS[P2])
    assert _holding(lake_dir, "regrettable rant") == []
    assert table_ids(lake_dir, "tweet_sentiments") == [P1, P3]
    assert table_ids(lake_dir, "media_rekognition") == [P1]
    assert not list((lake_dir / "_media").rglob(f"{astronaut}*"))  # bytes and cache
    assert _holding(lake_dir, astronaut, skip=("_audit/",)) == []
    assert list((lake_dir / "_media").rglob(f"{coffee}*"))  # Ann's photo stays
    (record,) = forgets(lake_dir)
    assert record["post_ids"] == [P2] and record["reason"] == DELETED
    assert record["rows"]["tweets"] == 1 and record["rows"]["tweet_sentiments"] == 1
    assert record["rows"]["media_rekognition"] == 1 and record["photos_removed"] == 1
    # enrich has nothing to do for it, and does not bring it back
    assert cli("enrich").exit_code == 0
    assert table_ids(lake_dir, "tweet_sentiments") == [P1, P3]
    assert table_ids(lake_dir, "media_rekognition") == [P1]


def _photo(pid: int, url: str) -> dict[str, Any]:
    """The entities of a status that shows the photo at ``url``."""
    shown = status(pid, TEXTS[pid], user=USERS[pid], photos=[url])
    return {"entities": shown["entities"], "extended_entities": shown["extended_entities"]}


# --- 6. the deny list: a forgotten post is not written again --------------------------


def _import_in_batches(cli: Callable[..., Any], tmp_path: Path, files: list[list[Any]],
                       one_batch_each: bool) -> Any:
    """Import ``files`` (lists of records) in one ``socialsight import``: as one batch,
    or each file as a batch of its own."""
    paths = [str(jsonl(tmp_path / f"part{i}.jsonl", lines)) for i, lines in enumerate(files)]
    result = cli("import", *paths, *(["--batch-size", "1"] if one_batch_each else []))
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("one_batch_each", [False, True], ids=["one-batch", "batch-per-file"])
def test_a_status_that_comes_again_after_its_delete_is_not_written(cli, tmp_path,
                                                                   one_batch_each) -> None:
    """A replayed stream: the status, its delete, then the same status again."""
    lake_dir = tmp_path / "lake"
    result = _import_in_batches(cli, tmp_path, [[v1(P1), v1(P2)], [v1_delete(P2)],
                                                [v1(P3), v1(P2)]], one_batch_each)
    assert tweet_ids(lake_dir) == [P1, P3]
    assert_gone(lake_dir, P2, TEXTS[P2])
    if one_batch_each:
        assert _row(result.output, "posts forgotten before, left out") == 1
    (record,) = forgets(lake_dir)
    assert record["post_ids"] == [P2]


@pytest.mark.parametrize("one_batch_each", [False, True], ids=["one-batch", "batch-per-file"])
def test_a_delete_that_comes_before_its_status_keeps_the_status_out(cli, tmp_path,
                                                                    one_batch_each) -> None:
    """X: honour a deletion notice "even in the rare case where [it] arrives earlier in
    the stream than the Tweet it references" — in the same batch or an earlier one."""
    lake_dir = tmp_path / "lake"
    _import_in_batches(cli, tmp_path, [[v1(P1), v1_delete(P2)], [v1(P2), v1(P3)]],
                       one_batch_each)
    assert tweet_ids(lake_dir) == [P1, P3]
    assert _holding(lake_dir, TEXTS[P2]) == []


# --- a delete line in a followed file (socialsight run file:...) ------------------------


def test_a_delete_appended_to_a_followed_file_forgets_the_post(tmp_path) -> None:
    """The delete arrives after the status's batch was committed: a batch of nothing
    but a deletion is applied too."""
    feed = jsonl(tmp_path / "feed.jsonl", [v1(P1), v1(P2), v1(P3)])
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))
    settings = CollectSettings(batch_seconds=0.1)

    async def collect() -> None:
        stop = asyncio.Event()
        collector = Collector(lake, [FollowFiles(str(feed), poll_seconds=0.05)], settings,
                              on_change=Forgetter(lake))
        task = asyncio.create_task(collector.run(stop))
        await _until(lambda: len(tweet_ids(lake_dir)) == 3)
        with feed.open("ab") as handle:
            handle.write(orjson.dumps(v1_delete(P2)) + b"\n")
        await _until(lambda: P2 not in tweet_ids(lake_dir))
        stop.set()
        await task

    asyncio.run(collect())
    assert tweet_ids(lake_dir) == [P1, P3]
    assert_gone(lake_dir, P2, TEXTS[P2])
    assert_audited(lake_dir, P2)


async def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait (on the event loop) until ``check()``; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(_safely, check):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await asyncio.sleep(0.05)


def _safely(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except FileNotFoundError:  # no lake yet
        return False


# --- 2. Bluesky: Jetstream delete commits ----------------------------------------------

BSKY_TEXT = "Bluesky note about velvet marmalade xkcdq"
BSKY_POST = bsky.commit(bsky.BOB, bsky.T0 + 30, "3l3qoxtextonly", {
    "$type": "app.bsky.feed.post", "text": BSKY_TEXT,
    "createdAt": "2024-09-09T19:47:00.000Z", "langs": ["en"]})
BSKY_DELETE = bsky.commit(bsky.BOB, bsky.T0 + 40, "3l3qoxtextonly", None, operation="delete")
BSKY_KEPT = bsky.QUOTE_POST  # Carol's post stays


def bsky_id(event: dict[str, Any]) -> int:
    return derived_id("bluesky", bsky.uri(event))


def test_a_saved_jetstream_file_with_a_delete_commit_forgets_the_post(cli, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    photo = bsky.PHOTO_POST
    saved = write_jsonl(tmp_path / "jetstream.jsonl", [
        photo, BSKY_KEPT, BSKY_POST, bsky.LIKE, bsky.DELETE, BSKY_DELETE])
    result = cli("import", str(saved))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "deletions read") == 2
    assert _row(result.output, "posts forgotten") == 2
    assert tweet_ids(lake_dir) == [bsky_id(BSKY_KEPT)]
    for event, text in ((photo, bsky.PHOTO_TEXT), (BSKY_POST, BSKY_TEXT)):
        assert _holding(lake_dir, text) == []
        assert _holding(lake_dir, bsky.uri(event), skip=("_audit/",)) == []
        assert _holding(lake_dir, str(bsky_id(event)), skip=("_audit/",)) == []
    assert _holding(lake_dir, bsky.BLOB_1) == []  # the photo's address
    # Carol's post quoted the photo post: it stays, with the quote cut out
    kept = tweet(lake_dir, bsky_id(BSKY_KEPT))
    assert kept["text"] == bsky.QUOTE_TEXT
    assert (kept["quoted_status_id"], kept["quoted_status_id_str"]) == (None, None)
    (record,) = forgets(lake_dir)
    assert sorted(record["post_ids"]) == sorted([bsky_id(photo), bsky_id(BSKY_POST)])
    assert record["reason"] == DELETED
    # the same file again: nothing comes back
    assert cli("import", str(saved)).exit_code == 0
    assert tweet_ids(lake_dir) == [bsky_id(BSKY_KEPT)]


class GatedJetstream(bsky.FakeJetstream):
    """Jetstream on loopback that sends the messages before a None at once, then waits
    for ``gate`` (set by the test) before sending the rest."""

    def __init__(self, messages: list[str | None]) -> None:
        super().__init__([m for m in messages if m is not None])
        self.script = messages
        self.gate = threading.Event()

    async def handler(self, ws: Any) -> None:
        with contextlib.suppress(ConnectionClosed):
            for message in self.script:
                if message is None:
                    while not self.gate.is_set():
                        await asyncio.sleep(0.02)
                else:
                    await ws.send(message)
            await ws.wait_closed()


@contextlib.contextmanager
def gated_jetstream(*events: dict[str, Any] | None) -> Iterator[GatedJetstream]:
    """A GatedJetstream serving ``events`` on its own thread (the pipeline runs its own
    event loop on this one)."""
    fake = GatedJetstream([None if e is None else orjson.dumps(e).decode() for e in events])
    ready, finished = threading.Event(), threading.Event()

    def serve() -> None:
        async def main() -> None:
            async with serve_ws(fake.handler, "127.0.0.1", 0) as server:
                fake.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/subscribe"
                ready.set()
                while not finished.is_set():
                    await asyncio.sleep(0.02)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield fake
    finally:
        fake.gate.set()
        finished.set()
        thread.join(10)


def run_pipeline(lake: Lake, sources: list[Any], enrich: bool,
                 until: Callable[[Any], bool], then: Callable[[], None] | None = None,
                 when: Callable[[Any], bool] | None = None, timeout: float = 60.0) -> Any:
    """``Pipeline(...).run`` over ``sources`` until ``until(status)``; ``then()`` is called
    once, when ``when(status)`` (by default: when the lake holds the first post and, with
    ``enrich``, its analysis)."""
    from socialsight.config import load_settings
    from socialsight.pipeline import Pipeline

    settings = load_settings(lake=lake.url)
    settings.collect.batch_seconds = 0.1
    stop = asyncio.Event()
    pipeline = Pipeline(lake, settings, sources, enrich=enrich)
    started = time.monotonic()
    fired = []

    def tick(state: Any) -> None:
        ready = when(state) if when is not None else state.collect.posts and (
            not enrich or _analysed(lake))
        if then is not None and not fired and ready:
            fired.append(True)
            then()
        if until(state) or time.monotonic() - started > timeout:
            stop.set()

    status_ = pipeline.run(stop=stop, on_tick=tick)
    assert time.monotonic() - started <= timeout, "the pipeline did not get there in time"
    return status_


def _analysed(lake: Lake) -> bool:
    try:
        return lake.read("tweet_sentiments", ["tweetid"]).num_rows > 0
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("enrich", [False, True], ids=["collect-only", "with-enrich"])
def test_a_live_jetstream_delete_forgets_the_post_run_collected(tmp_path, enrich,
                                                                enrich_env) -> None:  # noqa: F811
    """``run`` collects a post from the Jetstream (and analyses it); the delete commit
    comes later, in a batch of its own, and the post leaves every table."""
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))
    with gated_jetstream(BSKY_KEPT, BSKY_POST, None, BSKY_DELETE) as fake:
        state = run_pipeline(lake, [bsky.source(fake.url, batch_size=1)], enrich,
                             until=lambda s: s.forgotten >= 1, then=fake.gate.set)
    assert state.error is None and state.forgotten == 1
    assert tweet_ids(lake_dir) == [bsky_id(BSKY_KEPT)]
    if enrich:
        assert table_ids(lake_dir, "tweet_sentiments") == [bsky_id(BSKY_KEPT)]
    assert _holding(lake_dir, BSKY_TEXT) == []
    assert _holding(lake_dir, "marmalade") == []
    assert _holding(lake_dir, str(bsky_id(BSKY_POST)), skip=("_audit/",)) == []
    (record,) = forgets(lake_dir)
    assert record["post_ids"] == [bsky_id(BSKY_POST)] and record["reason"] == DELETED


def test_a_collector_with_a_forgetter_applies_a_jetstream_delete(tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))

    async def collect() -> None:
        fake = GatedJetstream([orjson.dumps(e).decode() if e else None
                               for e in (BSKY_POST, BSKY_KEPT, None, BSKY_DELETE)])
        async with serve_ws(fake.handler, "127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/subscribe"
            stop = asyncio.Event()
            collector = Collector(lake, [bsky.source(url, batch_size=1)],
                                  CollectSettings(batch_seconds=0.05), on_change=Forgetter(lake))
            task = asyncio.create_task(collector.run(stop))
            await _until(lambda: len(tweet_ids(lake_dir)) == 2)
            fake.gate.set()
            await _until(lambda: bsky_id(BSKY_POST) not in tweet_ids(lake_dir))
            stop.set()
            await task

    asyncio.run(collect())
    assert tweet_ids(lake_dir) == [bsky_id(BSKY_KEPT)]
    assert _holding(lake_dir, BSKY_TEXT) == []
    assert [(r["post_ids"], r["reason"]) for r in forgets(lake_dir)] == [
        ([bsky_id(BSKY_POST)], DELETED)]


# --- 3. Mastodon: delete events and status.update -------------------------------------

TOOT_KEEP = masto.status("113001000000000301", content="<p>Kept toot about plums vbnmq</p>")
TOOT_GONE = masto.status("113001000000000302",
                         content="<p>Deleted toot about lemons pfhzt</p>")
TOOT_EDIT_BEFORE = masto.status(
    "113001000000000303", content="<p>Terrible awful disaster of a day yxwvq</p>")
TOOT_EDIT_AFTER = {**TOOT_EDIT_BEFORE, "edited_at": "2024-08-20T09:40:00.000Z",
                   "content": "<p>What a wonderful lovely day after all yxwvq</p>"}


def toot_id(toot: dict[str, Any]) -> int:
    return derived_id("mastodon", toot["uri"])


def delete_event(toot: dict[str, Any]) -> tuple[str, str]:
    """Mastodon's streaming ``delete`` event: its data is the status id on this instance."""
    return ("send", f"event: delete\ndata: {toot['id']}\n\n")


@contextlib.contextmanager
def mastodon(*connections: list[Any]) -> Iterator[tuple[masto.FakeMastodon, str,
                                                          threading.Event]]:
    """A Mastodon instance on loopback streaming ``connections`` (one script each). The
    instance answers the timeline catch-up that a connection with a cursor makes before
    reading its stream (so, the stream) only once the yielded event is set."""
    fake = masto.FakeMastodon()
    fake.streams = [list(c) for c in connections]
    gate = threading.Event()

    def hold_back(_: masto.FakeMastodon, number: int) -> None:
        gate.wait(10)

    fake.on_timeline = hold_back
    with masto.instance(fake) as base:
        try:
            yield fake, base, gate
        finally:
            gate.set()


async def _collect_mastodon(lake: Lake, base: str, until: Callable[[], bool],
                            then: Callable[[], None] | None = None,
                            first: Callable[[], bool] | None = None) -> None:
    """A Collector with a Forgetter reading the instance's #books stream until
    ``until()``; ``then()`` once ``first()`` holds."""
    stop = asyncio.Event()
    source = masto.MastodonTag(base, "books", **masto.FAST)
    collector = Collector(lake, [source], CollectSettings(batch_seconds=0.05),
                          on_change=Forgetter(lake))
    task = asyncio.create_task(collector.run(stop))
    try:
        if first is not None and then is not None:
            await _until(first)
            then()
        await _until(until)
    finally:
        stop.set()
        await task


@pytest.mark.parametrize("restarted", [False, True], ids=["same-run", "after-a-restart"])
def test_a_mastodon_delete_event_forgets_the_status(tmp_path, monkeypatch,
                                                    restarted) -> None:
    """The delete event names the status by its id on the instance: the source knows the
    post when it read it in this run; after a restart the lake finds it by that id in the
    raw status it keeps."""
    monkeypatch.delenv("SOCIALSIGHT_MASTODON_TOKEN", raising=False)
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))
    both = lambda: len(tweet_ids(lake_dir)) == 2  # noqa: E731
    gone = lambda: toot_id(TOOT_GONE) not in tweet_ids(lake_dir)  # noqa: E731
    if restarted:
        with mastodon([masto.update(TOOT_KEEP), masto.update(TOOT_GONE), ("hold",)]) as (
                _, base, _):
            asyncio.run(_collect_mastodon(lake, base, until=both))
        with mastodon([delete_event(TOOT_GONE), ("hold",)]) as (_, base, gate):
            gate.set()
            asyncio.run(_collect_mastodon(lake, base, until=gone))
    else:  # the delete comes on the next connection, after the posts' batch is committed
        with mastodon([masto.update(TOOT_KEEP), masto.update(TOOT_GONE)],
                      [delete_event(TOOT_GONE), ("hold",)]) as (_, base, gate):
            asyncio.run(_collect_mastodon(lake, base, until=gone, first=both, then=gate.set))
    assert tweet_ids(lake_dir) == [toot_id(TOOT_KEEP)]
    assert_gone(lake_dir, toot_id(TOOT_GONE), "lemons pfhzt")
    assert _holding(lake_dir, TOOT_GONE["uri"], skip=("_audit/",)) == []
    assert _holding(lake_dir, "plums vbnmq")
    (record,) = forgets(lake_dir)
    assert record["post_ids"] == [toot_id(TOOT_GONE)] and record["reason"] == DELETED


def test_a_mastodon_status_update_replaces_the_text_and_its_analysis(
        cli, tmp_path, monkeypatch, enrich_env) -> None:  # noqa: F811
    monkeypatch.delenv("SOCIALSIGHT_MASTODON_TOKEN", raising=False)
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))
    edited = toot_id(TOOT_EDIT_BEFORE)
    with mastodon([masto.update(TOOT_KEEP), masto.update(TOOT_EDIT_BEFORE), ("hold",)]) as (
            _, base, _):
        asyncio.run(_collect_mastodon(lake, base, until=lambda: len(tweet_ids(lake_dir)) == 2))
    assert cli("enrich").exit_code == 0
    before = {r["tweetid"]: r for r in lake.read("tweet_sentiments").to_pylist()}
    assert before[edited]["sentiment"] == "NEGATIVE"
    assert _holding(lake_dir, "awful disaster")

    with mastodon([masto.update(TOOT_EDIT_AFTER, "status.update"), ("hold",)]) as (
            _, base, gate):
        gate.set()
        asyncio.run(_collect_mastodon(lake, base, until=lambda: "wonderful" in _texts(lake)))
    row = tweet(lake_dir, edited)
    assert row["text"] == "What a wonderful lovely day after all yxwvq"
    assert orjson.loads(row["raw_json"])["edited_at"] == TOOT_EDIT_AFTER["edited_at"]
    assert tweet_ids(lake_dir) == sorted([toot_id(TOOT_KEEP), edited])  # still one row each
    assert edited not in table_ids(lake_dir, "tweet_sentiments")  # the old analysis went
    assert toot_id(TOOT_KEEP) in table_ids(lake_dir, "tweet_sentiments")
    assert _holding(lake_dir, "awful disaster") == []
    (record,) = [r for r in records(lake) if r["action"] == "edit"]
    assert record["post_ids"] == [edited] and record["rows"]["tweet_sentiments"] == 1
    assert forgets(lake_dir) == []  # an edit is no forget: the post may come again

    assert cli("enrich").exit_code == 0
    after = {r["tweetid"]: r for r in lake.read("tweet_sentiments").to_pylist()}
    assert after[edited]["text"] == "What a wonderful lovely day after all yxwvq"
    assert after[edited]["sentiment"] == "POSITIVE"
    assert sorted(after) == sorted([toot_id(TOOT_KEEP), edited])
    assert lake.read("tweet_sentiments").num_rows == 2


def _texts(lake: Lake) -> str:
    """Every post's text. (While an edit is published a reader may briefly see neither
    version: the file the old one is cut from is renamed into place before the journal
    that hides the new version's file is gone.)"""
    return "\n".join(t or "" for t in lake.read("tweets", ["text"]).column("text").to_pylist())


def test_an_edit_of_a_post_the_lake_does_not_hold_adds_nothing(tmp_path) -> None:
    """A filtered Jetstream reports every update commit on the network (the lake may hold
    the version that matched): one whose post the lake never took stays out."""
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))

    async def collect() -> None:
        fake = GatedJetstream([orjson.dumps(e).decode() for e in (
            bsky.PHOTO_POST, bsky.GERMAN_POST, bsky.OTHER_UPDATE, bsky.UPDATE)])
        async with serve_ws(fake.handler, "127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/subscribe"
            stop = asyncio.Event()
            forgetter = Forgetter(lake)
            collector = Collector(lake, [bsky.source(url, "#kindle", batch_size=1)],
                                  CollectSettings(batch_seconds=0.05), on_change=forgetter)
            task = asyncio.create_task(collector.run(stop))
            await _until(lambda: forgetter.replaced == 1)  # the other update came before
            stop.set()
            await task

    asyncio.run(collect())
    photo = tweet(lake_dir, bsky_id(bsky.PHOTO_POST))
    assert photo["text"] == "edited"  # the post it holds is replaced
    assert tweet_ids(lake_dir) == [bsky_id(bsky.PHOTO_POST)]  # the other one stays out
    assert _holding(lake_dir, "Nichts mehr") == []


def test_two_edits_of_a_post_in_one_batch_leave_one_row_the_latest(cli, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    photo = bsky.PHOTO_POST
    again = bsky.commit(bsky.ALICE, bsky.T0 + 50, "3l3qo2vuowo2b", {
        "$type": "app.bsky.feed.post", "text": "edited twice",
        "createdAt": "2024-09-09T19:46:02.102Z"}, operation="update")
    assert cli("import", str(write_jsonl(tmp_path / "a.jsonl", [photo]))).exit_code == 0
    result = cli("import", str(write_jsonl(tmp_path / "b.jsonl", [bsky.UPDATE, again])))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "edits read") == 2
    rows = Lake(str(lake_dir)).read("tweets").to_pylist()
    assert [(r["id"], r["text"]) for r in rows] == [(bsky_id(photo), "edited twice")]
    assert _holding(lake_dir, bsky.PHOTO_TEXT) == []


# --- 4. X v2: an edited tweet replaces its older version ------------------------------

X_OLD, X_NEW, X_OTHER = "1583093100000000000", "1583093862759017276", "1583094000000000000"


def v2_tweet(tweet_id: str, text: str, history: list[str]) -> dict[str, Any]:
    """A v2 response with one tweet (as the search and lookup endpoints answer)."""
    response = xapi.photo_response(tweet_id, "2022-10-20T13:52:44.000Z", text,
                                   "A shelf of paperbacks")
    response["data"][0]["edit_history_tweet_ids"] = history
    return response


@pytest.mark.parametrize("order", ["old-first", "new-first"])
def test_an_edited_x_post_forgets_its_older_version(cli, tmp_path, order) -> None:
    lake_dir = tmp_path / "lake"
    old = v2_tweet(X_OLD, "Frist draft with a tpyo hjkqz", [X_OLD])
    new = v2_tweet(X_NEW, "First draft without the typo", [X_OLD, X_NEW])
    other = v2_tweet(X_OTHER, "Unrelated shelfie", [X_OTHER])
    lines = [old, other, new] if order == "old-first" else [new, other, old]
    feed = jsonl(tmp_path / "v2.jsonl", lines)
    result = cli("import", str(feed))
    assert result.exit_code == 0, result.output
    assert tweet_ids(lake_dir) == sorted([int(X_NEW), int(X_OTHER)])
    assert "without the typo" in tweet(lake_dir, int(X_NEW))["text"]
    assert _holding(lake_dir, "tpyo hjkqz") == []
    (record,) = forgets(lake_dir)
    assert record["post_ids"] == [int(X_OLD)]
    assert record["reason"] == "replaced by an edit (X gives each version a new id)"
    # the older version does not come back
    assert cli("import", str(feed)).exit_code == 0
    assert int(X_OLD) not in tweet_ids(lake_dir)
    assert _holding(lake_dir, "tpyo hjkqz") == []


# --- 5. X batch compliance: socialsight forget --from FILE ----------------------------

P4 = 1500000000000000444
SF = {"id": "5a110d312052166f", "url": "https://api.twitter.com/1.1/geo/id/5a110d312052166f.json",
      "place_type": "city", "name": "San Francisco", "full_name": "San Francisco, CA",
      "country_code": "US", "country": "United States",
      "bounding_box": {"type": "Polygon", "coordinates": [[
          [-122.514926, 37.708075], [-122.357031, 37.708075],
          [-122.357031, 37.833238], [-122.514926, 37.833238]]]}}
WHERE = {"coordinates": {"type": "Point", "coordinates": [-122.41942, 37.77493]},
         "geo": {"type": "Point", "coordinates": [37.77493, -122.41942]}, "place": SF}


def result_line(pid: int | str, reason: str, action: str = "delete") -> dict[str, Any]:
    """One line of an X batch compliance job's result file, as X documents it."""
    return {"id": str(pid), "action": action, "created_at": "2019-07-12T23:40:37.000Z",
            "redacted_at": "2024-01-12T08:30:00.000Z", "reason": reason}


@pytest.fixture
def compliance_lake(cli, tmp_path) -> Path:
    """Ann's P1, Ben's P2 and P4, Cat's P3 (posted in San Francisco)."""
    posts = jsonl(tmp_path / "posts.jsonl", [
        v1(P1), v1(P2), v1(P3, **WHERE),
        status(P4, "Ben's second post qwmzx", user=BEN)])
    assert cli("import", str(posts)).exit_code == 0
    lake_dir = tmp_path / "lake"
    assert tweet(lake_dir, P3)["place"]["name"] == "San Francisco"
    return lake_dir


def test_a_compliance_result_file_forgets_posts_and_scrubs_a_location(
        cli, tmp_path, compliance_lake) -> None:
    lake_dir = compliance_lake
    results = tmp_path / "r.json"  # (named from tmp_path, the cli's folder: short lines)
    results.write_text("\n".join([
        orjson.dumps(result_line(P1, "deleted")).decode(),
        orjson.dumps(result_line(P3, "scrub_geo")).decode(),
        orjson.dumps(result_line(P4, "archived", action="archive")).decode(),  # bad action
        '{"id": "150000000000000',  # cut short
        orjson.dumps(result_line(1500000000000000999, "protected")).decode(),  # not held
    ]) + "\n")
    result = cli("forget", "--from", "r.json", "--reason", "x compliance job")
    assert result.exit_code == 0, result.output
    assert "r.json:3: unknown compliance action 'archive'" in result.output
    assert "r.json:4: not JSON" in result.output
    assert "2 line(s) of" in result.output and "the others are applied" in result.output
    assert "location removed from 1 post(s)" in result.output
    assert tweet_ids(lake_dir) == [P2, P3, P4]  # the bad line's post stays
    assert_gone(lake_dir, P1, TEXTS[P1])
    # scrub_geo: the post stays, its location goes — from the columns and raw_json
    row = tweet(lake_dir, P3)
    assert row["text"] == TEXTS[P3]
    assert (row["coordinates"], row["geo"], row["place"]) == (None, None, None)
    raw = orjson.loads(row["raw_json"])
    assert not {"coordinates", "geo", "place"} & set(raw)
    for needle in ("San Francisco", "5a110d312052166f", "-122.41942", "37.77493"):
        assert _holding(lake_dir, needle) == [], needle
    actions = {r["action"]: r for r in records(Lake(str(lake_dir)))}
    assert set(actions) == {"forget", "scrub_geo"}
    assert actions["forget"]["post_ids"] == [P1]
    assert actions["forget"]["reason"] == "x compliance job"
    assert actions["scrub_geo"]["post_ids"] == [P3]
    assert actions["scrub_geo"]["reason"] == "location removed on the platform"
    # the same file again changes nothing
    again = cli("forget", "--from", "r.json")
    assert again.exit_code == 0 and "nothing was forgotten" in again.output
    assert "location removed" not in again.output
    assert len(records(Lake(str(lake_dir)))) == 2


def test_a_users_compliance_result_forgets_every_post_of_the_user(
        cli, tmp_path, compliance_lake) -> None:
    lake_dir = compliance_lake
    results = jsonl(tmp_path / "users-result.json", [result_line(BEN[0], "suspended")])
    dry = cli("forget", "--from", str(results), "--users", "--dry-run")
    assert dry.exit_code == 0 and "Dry run" in dry.output
    assert tweet_ids(lake_dir) == [P1, P2, P3, P4]
    result = cli("forget", "--from", str(results), "--users")
    assert result.exit_code == 0, result.output
    assert tweet_ids(lake_dir) == [P1, P3]
    assert_gone(lake_dir, P2, TEXTS[P2])
    assert_gone(lake_dir, P4, "Ben's second post qwmzx")
    assert _holding(lake_dir, BEN[1]) == [] and _holding(lake_dir, BEN[2]) == []
    assert _holding(lake_dir, TEXTS[P1]) and _holding(lake_dir, TEXTS[P3])
    (record,) = forgets(lake_dir)
    assert sorted(record["post_ids"]) == [P2, P4] and record["user_ids"] == [str(BEN[0])]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# nothing yet\n",
                                     b'{"id": "1", "action": "archive"}\n'],
                         ids=["empty", "blank-lines", "comment", "only-bad-lines"])
def test_a_compliance_file_that_names_nothing_is_a_clear_error(cli, tmp_path,
                                                               compliance_lake,
                                                               content) -> None:
    results = tmp_path / "result.json"
    results.write_bytes(content)
    result = cli("forget", "--from", str(results))
    assert result.exit_code != 0
    assert "names nothing to forget" in result.output
    assert tweet_ids(compliance_lake) == [P1, P2, P3, P4]
    assert records(Lake(str(compliance_lake))) == []


def test_forget_from_a_file_that_is_not_there(cli, tmp_path) -> None:
    result = cli("forget", "--from", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "no such file" in result.output


# --- run: deletions are applied even when its analysis has stopped ----------------------


def test_run_applies_deletions_when_its_analysis_has_stopped(tmp_path, monkeypatch,
                                                            enrich_env) -> None:  # noqa: F811
    """``run`` goes on collecting when analysis fails; the deletions that come then are
    still applied (not queued for an analysis thread that is gone)."""
    from socialsight.enrich import Enricher

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a model file is damaged")

    monkeypatch.setattr(Enricher, "run", broken)
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))
    with gated_jetstream(BSKY_KEPT, BSKY_POST, None, BSKY_DELETE) as fake:
        state = run_pipeline(lake, [bsky.source(fake.url, batch_size=1)], True,
                             until=lambda s: s.forgotten >= 1, then=fake.gate.set,
                             when=lambda s: s.collect.posts >= 2 and s.error is not None,
                             timeout=20)
    assert "enrichment failed" in (state.error or "")
    assert tweet_ids(lake_dir) == [bsky_id(BSKY_KEPT)]
    assert _holding(lake_dir, BSKY_TEXT) == []
    assert [r["post_ids"] for r in forgets(lake_dir)] == [[bsky_id(BSKY_POST)]]
