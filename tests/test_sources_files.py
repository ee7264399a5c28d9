"""Reading files of records: JSON lines, JSON arrays, single documents, gzip, stdin.

Hostile and broken input gives error records and reading goes on; what a record
costs to read is bounded by its own size, which the tests that could blow up check
in a subprocess whose address space is capped (a timeout there only guards a hang).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from socialsight.sources import files
from socialsight.sources.files import Block, Record, read_records
from tests.conftest import status

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20


def _vm_size() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmSize:\s+(\d+)", text).group(1)) * 1024  # type: ignore[union-attr]


def bounded_python(script: str, budget: int = 512 * MiB) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run ``script`` in a fresh Python whose address
    space is capped (RLIMIT_AS) at what socialsight's imports take plus ``budget``."""
    prelude = textwrap.dedent(f"""
        import re, resource, sys
        import socialsight.ingest, socialsight.sources.files
        from tests.test_sources_files import _vm_size
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + {budget}, hard))
    """)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
           "MALLOC_ARENA_MAX": "2"}
    return [sys.executable, "-c", prelude + textwrap.dedent(script)], env


def run_bounded(script: str, *args: str, budget: int = 512 * MiB,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under a memory cap (see bounded_python) with ``sys.argv[1:]`` =
    ``args``; ``timeout`` only guards against a hang."""
    argv, env = bounded_python(script, budget)
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env, check=False)


READ_ALL = """
    import json
    from socialsight.sources.files import Block, read_records
    out = []
    for path in sys.argv[1:]:
        for r in read_records(path, blocks=True):
            if isinstance(r, Block):
                out += [[n, "line", None] for n in r.numbers.to_pylist()]
            else:
                out.append([r.line, r.unit, r.error])
    print(json.dumps(out))
"""


def read_bounded(*paths: Path, budget: int = 512 * MiB) -> list[list[Any]]:
    """[line, unit, error] of every record of ``paths``, read under a memory cap."""
    done = run_bounded(READ_ALL, *map(str, paths), budget=budget)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def records(path: Path, blocks: bool = False) -> list[Record]:
    out: list[Record] = []
    for item in read_records(str(path), blocks=blocks):
        if isinstance(item, Block):
            out += [item.record(i) for i in range(len(item))]
        else:
            out.append(item)
    return out


def line(obj: Any) -> bytes:
    return json.dumps(obj).encode() + b"\n"


# --- a broken first line -----------------------------------------------------------


@pytest.mark.parametrize("first", [
    b'{"id": 1, broken',  # a cut-off line
    b'{"id": 1, "n": NaN}',  # not JSON
    b'{"deep": ' + b"[" * 1100 + b"]" * 1100 + b"}",  # nesting over 1,024
    b'{"data": [{"id": "1", "text": "a v2 response cut off in its first line',
])
def test_a_broken_first_line_is_one_error_and_the_lines_after_it_are_read(tmp_path, first):
    path = tmp_path / "b.jsonl"
    path.write_bytes(first + b"\n" + line(status(2, "after")) + line(status(3, "and after")))
    # This used to replay line 1 forever at 100% CPU: read in a subprocess, hang-guarded.
    got = read_bounded(path)
    assert [(n, e is None) for n, _, e in got] == [(1, False), (2, True), (3, True)]
    assert "malformed JSON" in got[0][2]


def test_a_broken_first_line_alone(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(b'{"id": 1, broken\n')
    got = read_bounded(path)
    assert len(got) == 1 and got[0][0] == 1 and "malformed JSON" in got[0][2]


def test_a_truncated_pretty_printed_response_is_one_error(tmp_path):
    pretty = json.dumps({"data": [status(i, "x") for i in range(1, 20)]}, indent=2)
    path = tmp_path / "cut.json"
    path.write_text(pretty[: len(pretty) // 2])
    got = read_bounded(path)
    assert len(got) == 1
    assert got[0][0] == 1 and got[0][2].startswith("malformed JSON document (cut off or broken)")


def test_a_whole_pretty_printed_document_is_one_record(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"data": [{"id": "5", "text": "t"}]}, indent=2))
    [record] = records(path, blocks=True)
    assert record.error is None and record.obj == {"data": [{"id": "5", "text": "t"}]}


def test_blank_lines_before_the_first_record_keep_line_numbers(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_bytes(b"\n" * 100 + b"  \n" + line({"a": 1}) + b"oops\n")
    for blocks in (False, True):
        assert [(r.line, r.error is None) for r in records(path, blocks)] == [
            (102, True), (103, False)]


# --- byte-order marks --------------------------------------------------------------------


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_record(tmp_path):
    bom = b"\xef\xbb\xbf"
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(bom + line({"a": 1}) + line({"b": 2}))
    array = tmp_path / "bom.json"
    array.write_bytes(bom + b'\n [{"a": 1}, {"b": 2}]')
    gz = tmp_path / "bom.jsonl.gz"
    gz.write_bytes(gzip.compress(bom + line({"a": 1})))
    for path in (lines, array, gz):
        for blocks in (False, True):
            got = records(path, blocks)
            assert all(r.error is None for r in got), (path, got)
            assert got[0].obj == {"a": 1}


# --- JSON arrays ---------------------------------------------------------------------


def test_deep_nesting_in_an_array_costs_no_more_than_its_bytes(tmp_path):
    # 100,000 '[' (200 KB) took 22.7 GB (quadratic in depth) before being OOM-killed.
    cut = tmp_path / "open.json"
    cut.write_bytes(b"[" * 100_000)
    closed = tmp_path / "closed.json"
    closed.write_bytes(b"[1, " + b"[" * 100_000 + b"]" * 100_000 + b", 3]")
    got = read_bounded(cut, closed, budget=256 * MiB)
    assert got[0] == [1, "item", "file ends inside a JSON array: item 1 is cut off"]
    assert [(n, e is None) for n, _, e in got[1:]] == [(1, True), (2, False), (3, True)]
    assert "depth limit exceeded" in got[2][2]


def test_a_post_nested_deeper_than_255_levels_keeps_its_text_as_raw(tmp_path):
    deep: Any = "bottom"
    for _ in range(300):
        deep = [deep]
    post = {**status(5, "deep"), "junk": deep}
    text = json.dumps([status(4, "plain"), post])
    path = tmp_path / "deep.json"
    path.write_text(text)
    got = records(path)
    assert [r.error for r in got] == [None, None]
    assert got[1].raw == json.dumps(post) and got[1].obj == post and got[1].unit == "item"


def test_an_array_item_larger_than_a_record_is_an_error_and_the_rest_is_read(
        tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_RECORD_BYTES", 3000)
    monkeypatch.setattr(files, "ARRAY_CHUNK_BYTES", 1000)
    items = [status(1, "a"), status(2, "b" * 5000), status(3, "c"), "x" * 10_000]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(items))
    got = records(path)
    assert [(r.line, r.error) for r in got] == [
        (1, None), (2, "record larger than 3000 bytes"), (3, None),
        (4, "record larger than 3000 bytes")]
    assert got[2].obj == items[2]


def test_an_array_item_over_16_mib_is_skipped_in_bounded_memory(tmp_path):
    # A 200 MB post was imported whole (163 s, 2.4 GB); now an item is never held
    # beyond the record limit.
    path = tmp_path / "huge.json"
    with path.open("wb") as out:
        out.write(b'[{"id": 1, "text": "')
        for _ in range(40):
            out.write(b"y" * MiB)
        out.write(b'"}, {"id": 2}]')
    got = read_bounded(path, budget=192 * MiB)
    assert got == [[1, "item", f"record larger than {files.MAX_RECORD_BYTES} bytes"],
                   [2, "item", None]]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_strings_with_quotes_brackets_and_backslashes_split_at_any_chunk(
        tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(files, "ARRAY_CHUNK_BYTES", chunk)
    items = ['a"b', "\\", "\\\\", '\\"', "]", "[{,}]", {"k\\": ['"]', "\\\\\\"]}, [], {},
             "é ✓", 1.5, None, True]
    path = tmp_path / "tricky.json"
    path.write_text(json.dumps(items, indent=1, ensure_ascii=False))
    got = records(path)
    assert [r.obj for r in got] == items and all(r.error is None for r in got)


def test_broken_arrays_give_error_records_where_they_break(tmp_path):
    cases = {
        b"[]": [],
        b"[ ]  \n": [],
        b"[1,,2,]": [(1, None), (2, "empty item in a JSON array (a stray comma)"), (3, None),
                     (4, "empty item in a JSON array (a stray comma)")],
        b"[1, {oops}, 3]": [(1, None), (2, "malformed JSON"), (3, None)],
        b'[1, {"a": [2': [(1, None), (2, "file ends inside a JSON array: item 2 is cut off")],
        b"[1, 2,": [(1, None), (2, None), (3, "file ends inside a JSON array: it never closes")],
        b"[1] [2]\n[3]": [(1, None), (2, None), (3, None)],  # arrays one after another
        b"[1] junk": [(1, None), (2, "data after the end of the JSON array is not read")],
        b"[1]]": [(1, None), (2, "data after the end of the JSON array is not read")],
    }
    for number, (data, expected) in enumerate(cases.items()):
        path = tmp_path / f"a{number}.json"
        path.write_bytes(data)
        got = [(r.line, r.error) for r in records(path)]
        assert len(got) == len(expected), (data, got)
        for (n, error), (want_n, want) in zip(got, expected, strict=True):
            assert n == want_n and (error is None if want is None else want in error), (
                data, got)


def test_a_gzipped_array_reads_like_a_plain_one(tmp_path):
    path = tmp_path / "posts.json.gz"
    path.write_bytes(gzip.compress(json.dumps([status(1, "a"), status(2, "b")]).encode()))
    assert [r.obj["id"] for r in records(path)] == [1, 2]


# --- folders and stdin -------------------------------------------------------------------


def test_a_folder_gives_its_json_files_by_name(tmp_path):
    for name in ("b.jsonl", "a.json", "c.jsonl.gz", "d.ndjson", "notes.txt", ".hidden.jsonl"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.jsonl").write_text("")
    found, missing = files.input_files([str(tmp_path), str(tmp_path / "gone.jsonl"), "-"])
    assert [Path(p).name for p in found[:-1]] == ["a.json", "b.jsonl", "c.jsonl.gz", "d.ndjson"]
    assert found[-1] == "-" and missing == [str(tmp_path / "gone.jsonl")]


def test_stdin_is_read_like_a_file(monkeypatch):
    import io

    data = gzip.compress(line({"a": 1}) + b"broken\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    got = [(r.line, r.error is None) for r in records(Path("-"), blocks=True)]
    assert got == [(1, True), (2, False)]
    assert not sys.stdin.buffer.closed

