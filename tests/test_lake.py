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
