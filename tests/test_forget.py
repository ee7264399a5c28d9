"""``socialsight forget``: a post, an account, a photo and a person leave the lake — no byte
of them is left in any file — while what other posts share stays, and a forget cut off
half-way is finished by the next writer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from socialsight import forget as forget_module
from socialsight.lake.audit import records
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos, rows  # noqa: F401
from tests.test_people import portrait  # noqa: F401

pytestmark = pytest.mark.slow

A, B, C, D, E = 1491000000000000101, 1491000000000000202, 1491000000000000303, \
    1491000000000000404, 1491000000000000505
ALICE = (7700001, "alice_forgetme", "Alice Forgetme")
BOB = (7700002, "bob_stays", "Bob Stays")


def _lake_text(lake_dir: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under the lake as bytes a needle can be looked for in: Parquet decoded
    (every column of every row), anything else as it is on disk."""
    out: dict[str, bytes] = {}
    for path in sorted(lake_dir.rglob("*")):
        rel = path.relative_to(lake_dir).as_posix()
        if not path.is_file() or any(rel.startswith(s) for s in skip):
            continue
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            out[rel] = orjson.dumps(table.to_pylist(), default=repr)
        else:
            out[rel] = path.read_bytes()
    return out


def _holding(lake_dir: Path, needle: str | bytes, skip: tuple[str, ...] = ()) -> list[str]:
    data = needle.encode() if isinstance(needle, str) else needle
    return [rel for rel, body in _lake_text(lake_dir, skip).items() if data in body]


def _sha(photos_dir: Path, name: str) -> str:
    return hashlib.sha256((photos_dir / name).read_bytes()).hexdigest()


@pytest.fixture
def posted(cli, tmp_path, photos, enrich_env):  # noqa: F811
    """Five posts, analysed: Alice's A (coffee) and C (astronaut), Bob's B (coffee too),
    Carol's D (a retweet of A), Dave's E (quoting A)."""
    a = status(A, "Alice's secret latte zqxj", photos=[f"{photos}/coffee.png"], user=ALICE)
    quoted = dict(status(A, "Alice's secret latte zqxj", user=ALICE))
    e = status(E, "Look at this", user=(7700005, "dave", "Dave"))
    e.update(is_quote_status=True, quoted_status_id=A, quoted_status_id_str=str(A),
             quoted_status=quoted)
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        a,
        status(B, "Bob's coffee too", photos=[f"{photos}/coffee.png?bob"], user=BOB),
        status(C, "Alice at launch kwvy", photos=[f"{photos}/astronaut.png"], user=ALICE),
        status(D, f"RT @alice_forgetme: {a['text']}", user=(7700004, "carol", "Carol"),
               retweet_of=a),
        e,
    ])
    assert cli("import", str(posts)).exit_code == 0
    assert cli("enrich").exit_code == 0
    lake_dir = tmp_path / "lake"
    assert len(rows(lake_dir)) == 3
    return posts


def _ids(lake_dir: Path, table: str = "tweets", column: str = "id") -> list[int]:
    return sorted(Lake(str(lake_dir)).read(table).column(column).to_pylist())


def test_forgetting_a_post_leaves_no_byte_of_it_and_keeps_what_others_share(
        cli, tmp_path, posted) -> None:
    lake_dir = tmp_path / "lake"
    coffee = _sha(PhotoHandler.folder, "coffee.png")
    assert _holding(lake_dir, "secret latte zqxj")  # the text is there to begin with

    dry = cli("forget", "--post", str(A), "--dry-run")
    assert dry.exit_code == 0 and "Dry run" in dry.output
    assert A in _ids(lake_dir)

    result = cli("forget", "--post", str(A), "--reason", "user request")
    assert result.exit_code == 0, result.output
    assert _ids(lake_dir) == [B, C, E]  # A and its retweet D went; the quote E stays
    for table in ("tweet_sentiments", "tweet_entities", "media_rekognition"):
        assert A not in _ids(lake_dir, table, "tweetid")
    assert _holding(lake_dir, "secret latte zqxj") == []
    assert _holding(lake_dir, str(A), skip=("_audit/",)) == []
    # Bob's post shows the same photo: it stays, with its analysis
    assert _holding(lake_dir, coffee)
    assert [p.name for p in (lake_dir / "_media").glob(f"*/{coffee}.*")]
    quote = next(r for r in Lake(str(lake_dir)).read("tweets").to_pylist() if r["id"] == E)
    assert quote["quoted_status"] is None and quote["text"] == "Look at this"

    # the seed's queries run, over what is left
    engine = Engine(Lake(str(lake_dir)))
    labels = engine.execute(seed_queries()["top_labels"]).table
    assert labels.num_rows > 0
    # the audit log says what went and why, by id only
    (record,) = records(Lake(str(lake_dir)))
    assert record["action"] == "forget" and record["reason"] == "user request"
    assert sorted(record["post_ids"]) == [A, D]
    assert b"latte" not in orjson.dumps(record)

    # forgetting again changes nothing; a re-import does not bring it back
    again = cli("forget", "--post", str(A))
    assert again.exit_code == 0 and "nothing was forgotten" in again.output
    reimport = cli("import", str(posted))
    assert "posts forgotten before, left out" in reimport.output
    assert _ids(lake_dir) == [B, C, E]


def test_forgetting_a_user_takes_their_posts_and_the_photos_only_they_showed(
        cli, tmp_path, posted) -> None:
    lake_dir = tmp_path / "lake"
    astronaut = _sha(PhotoHandler.folder, "astronaut.png")
    coffee = _sha(PhotoHandler.folder, "coffee.png")
    result = cli("forget", "--user", "@Alice_ForgetMe")
    assert result.exit_code == 0, result.output
    assert _ids(lake_dir) == [B, E]
    assert _holding(lake_dir, "alice_forgetme") == []
    assert _holding(lake_dir, "kwvy") == []
    assert _holding(lake_dir, astronaut, skip=("_audit/",)) == []
    assert not list((lake_dir / "_media").rglob(f"{astronaut}*"))  # bytes and cache
    assert list((lake_dir / "_media").rglob(f"{coffee}*"))  # Bob's photo stays
    assert [r["tweetid"] for r in rows(lake_dir)] == [B]


def test_forgetting_a_photo_keeps_the_posts_and_enrich_does_not_bring_it_back(
        cli, tmp_path, posted) -> None:
    lake_dir = tmp_path / "lake"
    coffee = _sha(PhotoHandler.folder, "coffee.png")
    assert cli("forget", "--photo", "not-a-sha").exit_code == 1
    result = cli("forget", "--photo", coffee)
    assert result.exit_code == 0, result.output
    assert _ids(lake_dir) == [A, B, C, D, E]
    assert [r["tweetid"] for r in rows(lake_dir)] == [C]
    assert _holding(lake_dir, coffee, skip=("_audit/",)) == []
    assert cli("enrich").exit_code == 0
    assert [r["tweetid"] for r in rows(lake_dir)] == [C]
    assert _holding(lake_dir, coffee, skip=("_audit/",)) == []


def test_forgetting_a_person_removes_their_name_from_every_file(
        cli, tmp_path, posted, portrait) -> None:  # noqa: F811
    lake_dir = tmp_path / "lake"
    assert cli("people", "add", "Eileen Qzollins", str(portrait)).exit_code == 0
    assert cli("people", "rematch").exit_code == 0
    assert _holding(lake_dir, "Eileen Qzollins")
    result = cli("forget", "--person", "Eileen Qzollins")
    assert result.exit_code == 0, result.output
    assert _holding(lake_dir, "Eileen Qzollins") == []
    assert _holding(lake_dir, "eileen qzollins") == []


@pytest.mark.parametrize("dies_at", [1, 2, 3])
def test_a_forget_killed_half_way_is_finished_by_the_next_writer(
        tmp_path, posted, monkeypatch, dies_at) -> None:
    lake_dir = tmp_path / "lake"
    lake = Lake(str(lake_dir))
    lake.recover()
    calls = {"n": 0}
    original = lake.fs.rm

    def dying_rm(path, *args, **kw):
        if "/_staging/" not in str(path) and not str(path).endswith(".tmp"):
            calls["n"] += 1
            if calls["n"] == dies_at:
                raise KeyboardInterrupt  # the process dies here
        return original(path, *args, **kw)

    monkeypatch.setattr(lake.fs, "rm", dying_rm)
    with pytest.raises(KeyboardInterrupt):
        forget_module.forget(lake, forget_module.Request(users=["@alice_forgetme"]))
    monkeypatch.undo()
    # a reader in between sees the lake before or after, never a torn file
    assert _ids(lake_dir) in ([A, B, C, D, E], [B, E])
    reopened = Lake(str(lake_dir))
    reopened.recover()
    assert _ids(lake_dir) == [B, E]
    assert _holding(lake_dir, "kwvy") == []
    assert not (lake_dir / "_journal").exists() or not list((lake_dir / "_journal").iterdir())
    again = forget_module.forget(reopened, forget_module.Request(users=["@alice_forgetme"]))
    assert not again.changed
