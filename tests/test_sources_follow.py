"""A followed file reports what its lines say is gone or edited, beside its posts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from socialsight.posts.bluesky import post_uri
from socialsight.posts.canonical import Deletion, derived_id
from socialsight.sources.base import Item
from socialsight.sources.follow import FollowFiles

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
T0 = 1_725_911_162_329_308


def jetstream(operation: str, rkey: str, time_us: int, text: str | None = None) -> dict:
    commit: dict = {"rev": "3l3qo2vutsw01", "operation": operation,
                    "collection": "app.bsky.feed.post", "rkey": rkey}
    if text is not None:
        commit["record"] = {"$type": "app.bsky.feed.post", "text": text,
                            "createdAt": "2024-09-09T19:46:02.102Z"}
        commit["cid"] = "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"
    return {"did": DID, "time_us": time_us, "kind": "commit", "commit": commit}


def read(path: Path) -> list[Item]:
    async def go() -> list[Item]:
        return [item async for item in FollowFiles(str(path), follow=False).stream(None)]

    return asyncio.run(go())


def test_delete_notices_and_updates_in_a_followed_file(tmp_path: Path, shared_v1: Path) -> None:
    statuses = [json.loads(line) for line in
                (shared_v1 / "search_tweets.jsonl").read_text().splitlines()[:3]]
    gone = statuses[0]
    lines = [
        json.dumps(statuses[0]), json.dumps(statuses[1]),
        json.dumps({"delete": {"status": {"id": gone["id"], "id_str": gone["id_str"],
                                          "user_id": gone["user"]["id"],
                                          "user_id_str": gone["user"]["id_str"]},
                               "timestamp_ms": "1562975300000"}}),
        json.dumps({"delete": {"status": {"id_str": "not a number"}}}),
        json.dumps(jetstream("create", "3l3qo2vuowo2b", T0, "first draft")),
        json.dumps(jetstream("update", "3l3qo2vuowo2b", T0 + 1, "second draft")),
        json.dumps(jetstream("delete", "3l3qo2vuowo2b", T0 + 2)),
        json.dumps(statuses[2]),
    ]
    path = tmp_path / "saved.jsonl"
    path.write_text("\r\n".join(lines))  # CRLF, and no newline after the last line yet
    items = read(path)
    posts = [p for item in items for p in item.posts]
    uri = post_uri(DID, "3l3qo2vuowo2b")
    assert [p["id_str"] for p in posts] == [gone["id_str"], statuses[1]["id_str"], uri]
    assert [d for item in items for d in item.deletions] == [
        Deletion("x", int(gone["id_str"]), gone["id_str"]),
        Deletion("bluesky", derived_id("bluesky", uri), uri)]
    assert next(d.post_id for item in items for d in item.deletions) == posts[0]["id"]
    assert [(e["id_str"], e["text"]) for item in items for e in item.edits] == [
        (uri, "second draft")]
    (problem,) = [p for item in items for p in item.problems]
    assert problem.reason.startswith("a delete message without a usable status id")
    assert problem.location == f"{path}@{sum(len(x) + 2 for x in lines[:3])}"

    # the writer finishes its last line: it is read, and nothing before it again
    with path.open("a") as handle:
        handle.write("\n")
    again = asyncio.run(_resume(path, items[-1].cursor))
    assert [p["id_str"] for item in again for p in item.posts] == [statuses[2]["id_str"]]
    assert [d for item in again for d in item.deletions] == []


async def _resume(path: Path, cursor: str | None) -> list[Item]:
    return [item async for item in FollowFiles(str(path), follow=False).stream(cursor)]
