"""The lake: atomic batches, crash recovery, content-named files."""

from __future__ import annotations

import pyarrow as pa
import pytest

from socialsight.lake.schema import PARTITION, TWEETS
from socialsight.lake.store import Lake


def _batch(ids: list[int], dts: list[str]) -> pa.Table:
    rows = [{"id": i, "id_str": str(i), "text": f"post {i}", PARTITION: dt}
            for i, dt in zip(ids, dts, strict=True)]
    return pa.Table.from_pylist(rows, schema=TWEETS.append(pa.field(PARTITION, pa.string())))


def test_commit_writes_one_file_per_partition_named_by_content(lake: Lake) -> None:
    files = lake.commit({"tweets": _batch([1, 2, 3], ["2024-01-01", "2024-01-02", "2024-01-01"])})
    assert len(files) == 2
    again = Lake(lake.url).commit({"tweets": _batch([3, 1, 2],
                                                    ["2024-01-01", "2024-01-01", "2024-01-02"])})
    assert sorted(again) == sorted(files)  # same rows → same names, no copies
    assert sorted(lake.read("tweets")["id"].to_pylist()) == [1, 2, 3]
    assert lake.partitions("tweets") == ["2024-01-01", "2024-01-02"]


def test_crash_while_staging_leaves_nothing_visible(lake: Lake) -> None:
    written: list[str] = []

    def dying_write(path: str) -> None:
        written.append(path)
        if len(written) == 2:
            raise KeyboardInterrupt  # the process dies half-way through staging

    dying = Lake(lake.url, on_write=dying_write)
    with pytest.raises(KeyboardInterrupt):
        dying.commit({"tweets": _batch([1, 2], ["2024-01-01", "2024-01-02"])})
    assert all("/_staging/" in path for path in written)  # it died before the journal
    assert lake.read("tweets").num_rows == 0  # readers never see staged files
    reopened = Lake(lake.url)
    reopened.recover()
    assert not lake.fs.exists(lake.path("_staging"))
    assert reopened.read("tweets").num_rows == 0


def test_crash_while_publishing_is_rolled_forward(lake: Lake, monkeypatch) -> None:
    moved = {"n": 0}
    original_mv = lake.fs.mv

    def dying_mv(src, dst, **kw):
        moved["n"] += 1
        if moved["n"] == 2:
            raise KeyboardInterrupt  # killed after the journal, between two renames
        original_mv(src, dst, **kw)

    monkeypatch.setattr(lake.fs, "mv", dying_mv)
    with pytest.raises(KeyboardInterrupt):
        lake.commit({"tweets": _batch([1, 2, 3], ["2024-01-01", "2024-01-02", "2024-01-03"])})
    monkeypatch.setattr(lake.fs, "mv", original_mv)
    assert lake.read("tweets").num_rows < 3
    reopened = Lake(lake.url)
    reopened.recover()
    assert sorted(reopened.read("tweets")["id"].to_pylist()) == [1, 2, 3]
    assert not reopened.fs.exists(reopened.path("_journal", "x"))
    assert reopened.fs.ls(reopened.path("_journal")) == []


def test_a_second_writer_is_refused(lake: Lake) -> None:
    from socialsight.errors import LakeError

    with lake.lock(), pytest.raises(LakeError, match="another socialsight process"), \
            Lake(lake.url).lock():
        pass


def _ids(lake: Lake) -> list[int]:
    return sorted(Lake(lake.url).read("tweets")["id"].to_pylist())


def test_a_change_replaces_and_removes_files_as_one(lake: Lake) -> None:
    first = lake.commit({"tweets": _batch([1, 2], ["2024-01-01", "2024-01-01"])})[0]
    second = lake.commit({"tweets": _batch([3], ["2024-01-01"])})[0]
    merged = lake.path("tweets", f"{PARTITION}=2024-01-01", "part-merged.parquet")
    marker = lake.path("_state", "note.json")
    written = lake.change({merged: _batch([1, 2, 3], ["2024-01-01"] * 3), marker: b"{}"},
                          remove=[first, second])
    assert sorted(written) == sorted([merged, marker])
    assert lake.files("tweets") == [merged]
    assert _ids(lake) == [1, 2, 3]
    assert lake.fs.cat_file(marker) == b"{}"
    assert lake.fs.ls(lake.path("_journal")) == []


@pytest.mark.parametrize("dies_at", ["mv:1", "rm:1", "rm:3", "publish"])
def test_a_change_killed_anywhere_is_seen_whole_then_finished(lake: Lake, monkeypatch,
                                                               dies_at: str) -> None:
    """Readers see the old files or the new ones, never both and never neither, and the
    next writer finishes the change."""
    old = [lake.commit({"tweets": _batch([i], ["2024-01-01"])})[0] for i in (1, 2, 3)]
    merged = lake.path("tweets", f"{PARTITION}=2024-01-01", "part-merged.parquet")
    kind, _, nth = dies_at.partition(":")
    counts = {"mv": 0, "rm": 0}
    original = {"mv": lake.fs.mv, "rm": lake.fs.rm}
    original_write = lake.write_bytes

    def dying(name: str):
        def run(path, *args, **kw):
            if "/_staging/" in str(path) if name == "mv" else "/tweets/" in str(path):
                counts[name] += 1
                if kind == name and counts[name] == int(nth):
                    raise KeyboardInterrupt
            return original[name](path, *args, **kw)
        return run

    def dying_publish(path: str, data: bytes) -> None:
        if kind == "publish" and b'"published":true' in data:
            raise KeyboardInterrupt
        original_write(path, data)

    monkeypatch.setattr(lake.fs, "mv", dying("mv"))
    monkeypatch.setattr(lake.fs, "rm", dying("rm"))
    monkeypatch.setattr(lake, "write_bytes", dying_publish)
    with pytest.raises(KeyboardInterrupt):
        lake.change({merged: _batch([1, 2, 3], ["2024-01-01"] * 3)}, remove=old)
    monkeypatch.undo()
    assert _ids(lake) == [1, 2, 3]  # a reader in between: the old files or the new one
    reopened = Lake(lake.url)
    reopened.recover()
    assert reopened.files("tweets") == [merged]
    assert _ids(reopened) == [1, 2, 3]
    assert reopened.fs.ls(reopened.path("_journal")) == []


def test_a_journal_from_before_removals_is_still_rolled_forward(lake: Lake) -> None:
    import orjson

    staged = lake.path("_staging", "b1", "tweets", f"{PARTITION}=2024-01-01", "part-b1.parquet")
    lake._write_parquet(_batch([7], ["2024-01-01"]).drop_columns([PARTITION]), staged)
    final = lake.path("tweets", f"{PARTITION}=2024-01-01", "part-b1.parquet")
    lake.write_bytes(lake.path("_journal", "b1.json"), orjson.dumps([[staged, final, False]]))
    assert lake.files("tweets") == []
    lake.recover()
    assert _ids(lake) == [7]
