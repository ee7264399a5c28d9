"""Compaction: a partition's small files merged, rows unchanged, enrich's markers carried,
safe after kill -9 at any point, damaged files left alone, and the command."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialsight.enrich.plan import Plan
from socialsight.ingest import import_files
from socialsight.lake import state
from socialsight.lake.compact import FULL, compact
from socialsight.lake.schema import (
    MEDIA_REKOGNITION,
    PARTITION,
    TABLES,
    TWEET_SENTIMENTS,
    TWEETS,
    partitioned,
)
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries
from tests.conftest import status, write_jsonl
from tests.test_seed_queries import BEACH, BOOKFAN, GADGETS, _face, _photo

DAY1, DAY2 = "2024-01-01", "2024-01-02"


def _tweets(ids: list[int], dt: str, noise: int = 0) -> pa.Table:
    """Posts ``ids``; ``noise``: each text gets that many hex digits that do not compress
    away, so the files' data outweighs their footers."""
    rows = [{"id": i, "id_str": str(i), "text": f"post {i} " + _noise(i, noise), "lang": "en",
             PARTITION: dt} for i in ids]
    return pa.Table.from_pylist(rows, schema=partitioned(TWEETS))


def _sentiments(ids: list[int], dt: str) -> pa.Table:
    rows = [{"tweetid": i, "text": f"post {i}", "sentiment": "NEUTRAL",
             "sentimentneuscore": 0.9, "lang": "en", PARTITION: dt} for i in ids]
    return pa.Table.from_pylist(rows, schema=partitioned(TWEET_SENTIMENTS))


def _noise(seed: int, digits: int) -> str:
    chunks = (hashlib.sha256(f"{seed}/{k}".encode()).hexdigest() for k in range(digits // 64 + 1))
    return "".join(chunks)[:digits]


def _run_like(lake: Lake, batches: int, posts: int = 3, noise: int = 0) -> None:
    """``batches`` commits as `run` makes them: a few posts each and their sentiments,
    half on one day, half on the next."""
    for b in range(batches):
        ids = [b * 100 + i for i in range(posts)]
        dt = DAY1 if b % 2 == 0 else DAY2
        lake.commit({"tweets": _tweets(ids, dt, noise),
                     "tweet_sentiments": _sentiments(ids, dt)})


def _mark_all_done(lake: Lake) -> None:
    plan = Plan(lake)
    for path, _ in plan.files:
        plan.mark_done(path)


def _rows(lake: Lake, table: str) -> list[Any]:
    """Every row of ``table`` as readers see it, in a canonical order."""
    rows = Lake(lake.url).read(table).to_pylist()
    return sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS, default=str) for r in rows)


def _snapshot(lake: Lake) -> dict[str, str]:
    """Every file under the lake's root (not the lock) and a hash of its bytes."""
    out = {}
    for folder, _, names in os.walk(lake.root):
        for name in names:
            if name != ".lock":
                path = os.path.join(folder, name)
                out[os.path.relpath(path, lake.root)] = hashlib.sha256(
                    Path(path).read_bytes()).hexdigest()
    return out


# --- the seed's queries ------------------------------------------------------------------


@pytest.fixture
def seed_lake(tmp_path: Path) -> Lake:
    """The seed's lake (tests/test_seed_queries.py), one small file per post and photo."""
    photo = "https://pbs.twimg.com/media/p.jpg"
    posts = [
        status(101, "Loving my new #kindle novel", user=BOOKFAN, photos=[photo],
               urls=["https://www.amazon.com/dp/B00ABC1234?tag=fan-20"], hashtags=["kindle"]),
        status(102, "Deal alert: half price speaker", user=GADGETS, photos=[photo],
               urls=["https://amazon.com/Echo-Dot/dp/B07FZ8S74R/ref=sr_1_1"]),
        status(103, "Beach day", user=BEACH, photos=[photo],
               urls=["https://www.example.com/blog/beach"]),
        status(104, "Not safe for work?", user=BEACH, photos=[photo], sensitive=True),
        status(105, "RT @bookfan: johndoe signing today", user=GADGETS, photos=[photo],
               urls=["https://www.amazon.com/gp/product/B01"]),
        status(106, "No photo here", user=BOOKFAN, urls=["https://www.amazon.com/dp/B0NOPHOTO"]),
    ]
    lake = Lake(str(tmp_path / "lake"))
    for post in posts:  # one import, one commit, one file per post
        import_files(lake, [str(write_jsonl(tmp_path / f"{post['id']}.jsonl", [post]))])
    photos = [
        _photo(101, 0, labels=("Person", "Face", "Text", "Book", "Novel"),
               text=("THE MIDNIGHT LIBRARY",), faces=(_face({"HAPPY": 97.0}),),
               celebs=(("JohnDoe", 99.0),)),
        _photo(102, 0, labels=("Electronics", "Speaker", "Text"), text=("SALE 50% OFF",)),
        _photo(103, 0, labels=("Person", "Face", "Beach"),
               faces=(_face({"CALM": 90.0}), _face({"SAD": 60.0})),
               moderation=(("Suggestive", ""),)),
        _photo(104, 0, labels=("Poster",)),
        _photo(105, 0, labels=("Person", "Face"), faces=(_face({"CALM": 80.0}),),
               celebs=(("JohnDoe", 60.0),)),
    ]
    for row in photos:
        lake.commit({"media_rekognition": pa.Table.from_pylist(
            [row], schema=partitioned(MEDIA_REKOGNITION))})
    dt = photos[0][PARTITION]
    lake.commit({"tweet_sentiments": _sentiments([101, 102, 103], dt)})
    lake.commit({"tweet_sentiments": _sentiments([104, 105, 106], dt)})
    _mark_all_done(lake)
    return lake


def _answers(lake: Lake) -> dict[str, list[bytes]]:
    engine = Engine(Lake(lake.url))
    try:
        return {name: sorted(orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str)
                             for row in engine.execute(sql).table.to_pylist())
                for name, sql in seed_queries().items()}
    finally:
        engine.close()


def test_the_seed_queries_answer_the_same_from_fewer_files(seed_lake: Lake) -> None:
    before = _answers(seed_lake)
    files = {t: len(seed_lake.files(t)) for t in TABLES}
    assert files["tweets"] == 6 and files["media_rekognition"] == 5
    assert before["top_labels"] and before["top_celebrities"]  # the queries see rows

    summary = compact(seed_lake)

    assert {t: len(seed_lake.files(t)) for t in TABLES} == {
        t: min(n, 1) for t, n in files.items()}
    assert summary.tables["tweets"].files_before == 6
    assert summary.tables["tweets"].files_after == 1
    assert summary.tables["media_rekognition"].rows == 5
    assert _answers(seed_lake) == before
    assert all(pq.read_schema(seed_lake.fs.open(path, "rb")).remove_metadata()
               == TABLES[t] for t in TABLES for path in seed_lake.files(t))


# --- rows, order, schema -----------------------------------------------------------------


def test_rows_are_kept_in_order_and_compacting_again_changes_nothing(lake: Lake) -> None:
    _run_like(lake, 20)
    _mark_all_done(lake)
    before = {t: _rows(lake, t) for t in ("tweets", "tweet_sentiments")}
    sources = lake.files("tweet_sentiments", DAY1)
    order = [i for path in sources for i in lake.read_file(path).column("tweetid").to_pylist()]

    summary = compact(lake)

    assert summary.changed and summary.files_before == 40 and summary.files_after == 4
    assert {t: _rows(lake, t) for t in ("tweets", "tweet_sentiments")} == before
    [merged] = lake.files("tweet_sentiments", DAY1)
    assert os.path.basename(merged).startswith("part-c")
    assert lake.read_file(merged).column("tweetid").to_pylist() == order  # file, then row
    assert summary.tables["tweet_sentiments"].rows == 60
    assert summary.tables["tweet_sentiments"].partitions == 2

    snapshot = _snapshot(lake)
    again = compact(lake)
    assert not again.changed and again.files_before == again.files_after == 4
    assert _snapshot(lake) == snapshot


def test_outputs_stay_under_the_target_and_full_ones_are_never_merged_again(
        lake: Lake) -> None:
    _run_like(lake, 40, posts=20)
    before = _rows(lake, "tweet_sentiments")
    target = 8_000  # bytes of Parquet data: a few source files per output

    first = compact(lake, tables=["tweet_sentiments"], target_bytes=target)

    outputs = lake.files("tweet_sentiments", DAY1)
    assert 1 < len(outputs) < 20 and first.tables["tweet_sentiments"].merged > 20
    kinds = [pq.read_metadata(lake.fs.open(p, "rb")).metadata.get(FULL) for p in outputs]
    assert kinds.count(b"open") <= 1 and b"full" in kinds
    assert _rows(lake, "tweet_sentiments") == before
    snapshot = _snapshot(lake)
    assert not compact(lake, tables=["tweet_sentiments"], target_bytes=target).changed
    assert _snapshot(lake) == snapshot


def test_old_files_gain_the_contracts_new_columns_as_null(lake: Lake) -> None:
    old_labels = pa.struct([("labels", pa.list_(pa.struct([
        ("name", pa.string()), ("confidence", pa.float64())])))])
    old = pa.schema([("image_labels", old_labels), ("tweetid", pa.int64()),
                     ("mediaid", pa.string()), ("media_url", pa.string()),
                     (PARTITION, pa.string())])
    lake.commit({"media_rekognition": pa.Table.from_pylist([
        {"image_labels": {"labels": [{"name": "Book", "confidence": 91.5}]}, "tweetid": 1,
         "mediaid": "10", "media_url": "http://x/10.jpg", PARTITION: DAY1}], schema=old)})
    new = {"tweetid": 2, "mediaid": "20", "media_url": "http://x/20.jpg", "sha256": "ab" * 32,
           "phash": 7, "embedding": [0.5, 0.5], PARTITION: DAY1,
           "image_labels": {"labels": [{"name": "Cat", "confidence": 99.0,
                                        "aliases": [{"name": "Kitten"}]}]}}
    lake.commit({"media_rekognition": pa.Table.from_pylist(
        [new], schema=partitioned(MEDIA_REKOGNITION))})

    compact(lake)

    [merged] = lake.files("media_rekognition")
    table = lake.read_file(merged)
    assert table.schema.remove_metadata() == MEDIA_REKOGNITION
    rows = {r["tweetid"]: r for r in table.to_pylist()}
    assert rows[1]["image_labels"]["labels"] == [
        {"name": "Book", "confidence": 91.5, "instances": None, "parents": None,
         "aliases": None, "categories": None}]
    assert rows[1]["sha256"] is None and rows[1]["embedding"] is None
    assert rows[1]["image_labels"]["facedetails"] is None
    assert rows[2]["phash"] == 7 and rows[2]["embedding"] == [0.5, 0.5]
    assert rows[2]["image_labels"]["labels"][0]["aliases"] == [{"name": "Kitten"}]


def test_a_file_outside_the_contract_is_left_as_it_is(lake: Lake) -> None:
    _run_like(lake, 4)
    odd = lake.path("tweet_sentiments", f"{PARTITION}={DAY1}", "part-odd.parquet")
    pq.write_table(pa.table({"tweetid": [9], "surprise": ["?"]}), lake.fs.open(odd, "wb"))

    summary = compact(lake, tables=["tweet_sentiments"])

    assert summary.unfit == [odd] and lake.fs.exists(odd)
    assert len(lake.files("tweet_sentiments", DAY1)) == 2  # the merged file and the odd one


# --- enrich's markers --------------------------------------------------------------------


def test_markers_move_with_the_merged_file_and_unfinished_files_wait(lake: Lake) -> None:
    _run_like(lake, 8)
    plan = Plan(lake)
    files = [path for path, _ in plan.files]
    waiting = next(p for p in files if f"={DAY1}/" in p)
    for path in files:
        if path != waiting:
            plan.mark_done(path)

    summary = compact(lake, tables=["tweets"])

    assert summary.tables["tweets"].waiting == 1
    day1 = lake.files("tweets", DAY1)
    assert waiting in day1 and len(day1) == 2  # the unfinished file, and the merged one
    assert [path for path, _ in Plan(lake).files] == [waiting]  # planned again, alone
    markers = sorted(os.listdir(lake.path(state.path("enrich_done"))))
    merged = [p for p in lake.files("tweets") if p != waiting]
    assert markers == sorted(os.path.basename(state.done_marker(p)) for p in merged)

    Plan(lake).mark_done(waiting)  # enrich finishes it: the next compaction takes it
    compact(lake, tables=["tweets"])
    assert len(lake.files("tweets", DAY1)) == 1 and Plan(lake).files == []


# --- crashes -----------------------------------------------------------------------------


# What the dying file system counts: the moves out of staging; the removals of table
# files and markers.
WATCHED = {"mv": ("/_staging/",), "rm": ("/tweet", "/_state/enrich/")}
TARGET = 200_000  # bytes: a day's six tweets files make two merged files (4 + 2)


@pytest.mark.parametrize("dies_at", ["stage:2", "mv:1", "mv:2", "publish", "rm:1", "rm:4",
                                     "rm:9"])
def test_a_compaction_killed_anywhere_is_seen_whole_then_finished(
        lake: Lake, monkeypatch: pytest.MonkeyPatch, dies_at: str) -> None:
    _run_like(lake, 12, posts=60, noise=1024)
    _mark_all_done(lake)
    before = {t: _rows(lake, t) for t in ("tweets", "tweet_sentiments")}
    clean = Lake(lake.url + "-clean")
    _run_like(clean, 12, posts=60, noise=1024)
    _mark_all_done(clean)
    compact(clean, target_bytes=TARGET)

    kind, _, nth = dies_at.partition(":")
    counts = {"mv": 0, "rm": 0, "stage": 0}
    original = {"mv": lake.fs.mv, "rm": lake.fs.rm}
    original_write = lake.write_bytes

    def dying(name: str) -> Any:
        def run(path: str, *args: Any, **kw: Any) -> Any:
            if any(part in str(path) for part in WATCHED[name]):
                counts[name] += 1
                if kind == name and counts[name] == int(nth):
                    raise KeyboardInterrupt  # kill -9, as far as the lake can tell
            return original[name](path, *args, **kw)
        return run

    def dying_publish(path: str, data: bytes) -> None:
        if kind == "publish" and b'"published":true' in data:
            raise KeyboardInterrupt
        original_write(path, data)

    def dying_stage(path: str) -> None:
        if "/_staging/" in path:
            counts["stage"] += 1
            if kind == "stage" and counts["stage"] == int(nth):
                raise KeyboardInterrupt

    monkeypatch.setattr(lake.fs, "mv", dying("mv"))
    monkeypatch.setattr(lake.fs, "rm", dying("rm"))
    monkeypatch.setattr(lake, "write_bytes", dying_publish)
    lake.on_write = dying_stage
    with pytest.raises(KeyboardInterrupt):
        compact(lake, target_bytes=TARGET)
    monkeypatch.undo()
    lake.on_write = None

    # a reader in between: every row once, and enrich has nothing new to do
    assert {t: _rows(lake, t) for t in ("tweets", "tweet_sentiments")} == before
    assert Plan(Lake(lake.url)).files == []

    again = Lake(lake.url)
    compact(again, target_bytes=TARGET)
    assert {t: _rows(again, t) for t in ("tweets", "tweet_sentiments")} == before
    assert again.fs.ls(again.path("_journal")) == []
    assert not again.fs.exists(again.path("_staging")) or again.fs.find(
        again.path("_staging")) == []
    assert Plan(again).files == []
    snapshot, reference = _snapshot(again), _snapshot(clean)
    assert {k for k in snapshot if not k.startswith("_state")} == {
        k for k in reference if not k.startswith("_state")}  # the same files as no crash
    assert sorted(os.listdir(again.path(state.path("enrich_done")))) == sorted(
        os.listdir(clean.path(state.path("enrich_done"))))
    assert not compact(again, target_bytes=TARGET).changed


def test_a_batch_another_thread_is_staging_is_not_touched(lake: Lake) -> None:
    """`run` compacts on its enrich thread while its collector commits: a lake object that
    has written before is not recovered again, so a batch being staged survives."""
    _run_like(lake, 4)  # this lake object has written (and recovered) already
    staged = lake.path("_staging", "inflight", "tweets", f"{PARTITION}={DAY1}", "part-x.parquet")
    lake.fs.makedirs(os.path.dirname(staged), exist_ok=True)
    lake.fs.pipe_file(staged, b"being written")

    assert compact(lake, tables=["tweet_sentiments"]).changed

    assert lake.fs.cat_file(staged) == b"being written"


# --- what is left alone ------------------------------------------------------------------


def test_a_damaged_file_is_left_in_place_and_reported(lake: Lake) -> None:
    _run_like(lake, 6)
    damaged = lake.path("tweet_sentiments", f"{PARTITION}={DAY1}", "part-damaged.parquet")
    lake.fs.pipe_file(damaged, b"PAR1 not really parquet")
    truncated = lake.files("tweet_sentiments", DAY2)[0]
    body = lake.fs.cat_file(truncated)
    lake.fs.pipe_file(truncated, body[: len(body) // 2])

    summary = compact(lake, tables=["tweet_sentiments"])

    assert sorted(summary.damaged) == sorted([damaged, truncated])
    assert lake.fs.cat_file(damaged) == b"PAR1 not really parquet"
    assert lake.fs.cat_file(truncated) == body[: len(body) // 2]
    assert len(lake.files("tweet_sentiments", DAY1)) == 2  # merged + damaged
    assert len(lake.files("tweet_sentiments", DAY2)) == 2  # merged + truncated
    assert not compact(lake, tables=["tweet_sentiments"]).changed


def test_an_empty_lake_and_a_lone_file_have_nothing_to_do(tmp_path: Path) -> None:
    empty = Lake(str(tmp_path / "empty"))
    summary = compact(empty)
    assert not summary.changed and summary.files_before == 0
    assert not os.path.exists(empty.root)

    lone = Lake(str(tmp_path / "lone"))
    lone.commit({"tweet_sentiments": _sentiments([1, 2], DAY1)})
    snapshot = _snapshot(lone)
    summary = compact(lone)
    assert not summary.changed and summary.files_before == summary.files_after == 1
    assert _snapshot(lone) == snapshot


def test_a_dry_run_changes_nothing_and_says_what_would_go(lake: Lake) -> None:
    _run_like(lake, 10)
    _mark_all_done(lake)
    snapshot = _snapshot(lake)

    dry = compact(lake, dry_run=True)

    assert _snapshot(lake) == snapshot
    assert dry.dry_run and dry.changed
    real = compact(lake)
    for name in TABLES:
        plan, done = dry.tables[name], real.tables[name]
        assert (plan.files_before, plan.files_after, plan.rows, plan.partitions) == (
            done.files_before, done.files_after, done.rows, done.partitions)


def test_only_the_tables_and_days_asked_for(lake: Lake) -> None:
    _run_like(lake, 8)
    _mark_all_done(lake)
    compact(lake, tables=["tweet_sentiments"], partitions=[DAY2])
    assert len(lake.files("tweet_sentiments", DAY2)) == 1
    assert len(lake.files("tweet_sentiments", DAY1)) == 4
    assert len(lake.files("tweets")) == 8


# --- the command -------------------------------------------------------------------------


def test_the_command_compacts_says_what_it_did_and_waits_for_a_busy_lake(
        cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(str(tmp_path / "lake"))
    _run_like(lake, 6)
    _mark_all_done(lake)

    dry = cli("compact", "--lake", "lake", "--dry-run")
    assert dry.exit_code == 0, dry.output
    # The title wraps where the lake's path is long: read the words, not the layout.
    assert "dry run" in " ".join(dry.stdout.split()) and "6 → 2" in dry.stdout
    assert len(lake.files("tweets")) == 6

    out = cli("compact", "--lake", "lake", "--table", "tweets", "--dt", DAY1)
    assert out.exit_code == 0, out.output
    assert "3 → 1" in out.stdout and len(lake.files("tweets")) == 4
    assert "nothing to merge" in cli("compact", "--lake", "lake", "--table", "tweets",
                                     "--dt", DAY1).stdout

    assert cli("compact", "--lake", "lake", "--table", "tweetz").exit_code == 2
    assert cli("compact", "--lake", "lake", "--dt", "yesterday").exit_code == 2
    monkeypatch.setattr("socialsight.cli.COMPACT_LOCK_WAIT_SECONDS", 0.2)
    with lake.lock():
        busy = cli("compact", "--lake", "lake")
    assert busy.exit_code == 1 and "the lake is busy" in busy.stderr
    assert len(lake.files("tweets")) == 4

    help_text = cli("compact", "--help").stdout
    assert "once a day" in help_text and "--dry-run" in help_text
