"""Property-based fuzzing of every reader and converter of the import path.

Converters (v1.1, v2, twarc2, Bluesky Jetstream, Mastodon) get real records with
parts replaced by any JSON value: they give posts a lake can hold, or raise
socialsight's own errors — never anything else. Readers (JSON lines, arrays, single
documents, gzip, cut gzip) get files of such records, broken fragments and junk,
and are run in one long-lived subprocess whose address space is capped: no
exception escapes, every record gives a post or an error row, and no record costs
more memory than the cap (a timeout there only guards against a hang).
"""

from __future__ import annotations

import copy
import gzip
import json
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialsight.errors import SocialsightError
from socialsight.intake.writer import PostWriter
from socialsight.lake.errors import ErrorRow
from socialsight.posts.canonical import MAX_ID, checked_time
from socialsight.posts.detect import convert
from tests.conftest import HERE, status
from tests.test_sources_files import ROOT, bounded_python

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _bases() -> dict[str, Any]:
    """One real record of every format the importer detects."""
    from tests.test_sources_bluesky import PHOTO_POST
    from tests.test_sources_mastodon import status as mastodon_status

    page = json.loads((HERE / "twitter_v2" / "recent_search_page1.json").read_text())
    flat = (HERE / "twarc2" / "flattened.jsonl").read_text().splitlines()
    return {
        "twitter-v1": status(1149825924029980674, "RT @a: hello", photos=["https://p/x.jpg"],
                             hashtags=["tag"], urls=["https://a.example/x"]),
        "twitter-v2": page,
        "twitter-v2-tweet": page["data"][0],
        "twarc2": json.loads(flat[0]),
        "bluesky-jetstream": PHOTO_POST,
        "mastodon": mastodon_status("109999"),
    }


BASES = _bases()

# Values that have broken converters or the lake before: odd times, ids, digits.
SPECIAL = st.sampled_from([
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2022-13-45T99:00:00Z",
    "Fri Jul 12 23:40:37 +0000 99999", "Mon Jan 01 00:00:00 -2400 0001", "", " ", "-1", "0",
    str(2**63), str(2**64), "9" * 40, "²", "١٢٣", "NaN", "\u202e", "at://", "did:plc:",
    "https://", "http://[::1", 2**63, 2**64 - 1, -(2**63), 0, -1, 10**17, -(10**17), 1e300,
    -0.0,
])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | SPECIAL)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _paths(obj: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*here, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _paths(value, (*here, index))


def _set(obj: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


@st.composite
def mutated(draw: st.DrawFn, name: str | None = None) -> Any:
    """A real record with one to four parts replaced by any JSON value, or deleted."""
    obj = copy.deepcopy(BASES[name or draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(_paths(obj))))
        obj = _set(obj, path, draw(VALUES), bool(path) and draw(st.booleans()))
    return obj


# --- converters ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BASES))
@FUZZ
@given(data=st.data())
def test_converters_give_storable_posts_or_their_own_errors(name: str, data: Any) -> None:
    obj = data.draw(mutated(name))
    try:
        _, conversion = convert(obj)
    except SocialsightError:
        return
    for post in conversion.posts:
        assert isinstance(post["id"], int) and 0 < post["id"] <= MAX_ID
        checked_time(post["timestamp_ms"])
    rejected: list[ErrorRow] = []
    table = PostWriter._to_arrow([dict(p) for p in conversion.posts], rejected)
    assert table.num_rows + len(rejected) == len(conversion.posts)
    for row in rejected:
        row.as_row()


# --- readers, in a subprocess with a memory cap ----------------------------------------


def child() -> None:
    """The subprocess: for each request line (a file and a lake), read the file's
    records, import it, and answer with what each gave."""
    from socialsight.ingest import Importer
    from socialsight.lake.store import Lake
    from socialsight.sources.files import Block, Record, read_records

    class Counting(Importer):
        """An importer that notes records which gave neither a post nor an error row."""

        silent: list[int]

        def outcomes(self) -> int:
            held = sum(group.count for group in self._not_posts.values())
            return len(self.writer) + len(self.writer.errors) + self.summary.control + held

        def _take(self, record: Record) -> None:
            before = self.outcomes()
            super()._take(record)
            if self.outcomes() == before:
                self.silent.append(record.line)

    for request in sys.stdin:
        path, lake = json.loads(request)
        try:
            read: list[list[Any]] = []
            for item in read_records(path, blocks=True):
                if isinstance(item, Block):
                    lines = (item.record(i) for i in range(len(item)))
                    read += [[r.line, r.error] for r in lines]
                else:
                    read.append([item.line, item.error])
            importer = Counting(Lake(lake), batch_size=7)
            importer.silent = []
            summary = importer.run([path])
            answer = {"read": read, "silent": importer.silent, "records": summary.records,
                      "bad": summary.bad}
        except BaseException as exc:  # reported to the test, which fails
            import traceback

            answer = {"exception": f"{exc!r}\n{traceback.format_exc()}"}
        print(json.dumps(answer), flush=True)


class Child:
    """The capped subprocess, started once and again after it dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def ask(self, path: Path, lake: Path, timeout: float = 300) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            argv, env = bounded_python(
                "from tests.test_fuzz_readers import child\nchild()\n", budget=512 << 20)
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([str(path), str(lake)]) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:  # only a hang gets here
            self.proc.kill()
            pytest.fail(f"reading {path} did not finish in {timeout} s")
        answer = self.proc.stdout.readline()
        if not answer:
            code = self.proc.wait()
            pytest.fail(f"the reader died (exit {code}) on {path.read_bytes()[:300]!r}")
        return dict(json.loads(answer))

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def reader() -> Iterator[Child]:
    worker = Child()
    yield worker
    worker.close()


def _text(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:  # nested deeper than orjson writes
        return json.dumps(obj).encode()


@st.composite
def record_text(draw: st.DrawFn) -> bytes:
    """One record as it may be written: a post, any JSON value, a cut or broken one."""
    kind = draw(st.sampled_from(["post", "mutated", "value", "cut", "junk", "deep"]))
    if kind == "post":
        return _text(BASES[draw(st.sampled_from(sorted(BASES)))])
    if kind == "mutated":
        return _text(draw(mutated()))
    if kind == "value":
        return _text(draw(VALUES))
    if kind == "deep":
        depth = draw(st.integers(200, 1100))
        return b'{"id": 1, "a": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "cut":
        text = _text(draw(mutated()))
        return text[: draw(st.integers(0, len(text)))]
    return draw(st.binary(max_size=40) | st.sampled_from(
        [b"NaN", b'{"a": NaN}', b"{", b"[", b'"', b"\\", b"}", b",", b"\xef\xbb\xbf"]))


def _one_line(text: bytes) -> bytes:
    return text.replace(b"\r", b" ").replace(b"\n", b" ")


@st.composite
def json_file(draw: st.DrawFn) -> tuple[bytes, str]:
    """The bytes of a file of records, and how they were laid out."""
    layout = draw(st.sampled_from(["lines", "array", "document"]))
    texts = draw(st.lists(record_text(), min_size=1, max_size=12))
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    if layout == "lines":
        newline = draw(st.sampled_from([b"\n", b"\r\n", b"\n\n  \n"]))
        body = newline.join(_one_line(t) for t in texts) + draw(st.sampled_from([b"", b"\n"]))
    elif layout == "array":
        separator = draw(st.sampled_from([b",", b", ", b",\n  "]))
        body = b"[" + separator.join(texts) + b"]" + draw(st.sampled_from([b"", b"\n", b"]"]))
    else:
        body = json.dumps(draw(mutated()), indent=2).encode()
        body = body[: draw(st.integers(1, len(body)))]
    data = bom + body
    if draw(st.booleans()):
        data = gzip.compress(data)
        if draw(st.booleans()):
            data = data[: draw(st.integers(10, len(data)))]
            layout = "cut gzip"
        return data, f"{layout} gzip"
    return data, layout


def _loads(text: bytes) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _expected_lines(data: bytes) -> list[tuple[int, bool]] | None:
    """(line, readable) of every record of a JSON-lines file; None when it is not read
    as JSON lines (it starts with an array)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.lstrip().startswith(b"["):
        return None
    lines = data.split(b"\n")
    out: list[tuple[int, bool]] = []
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text:
            continue
        readable = _loads(text)
        if not out and not readable and text.startswith(b"{"):
            # Perhaps one document written over several lines.
            if _loads(b"\n".join(lines[number - 1:]).strip()):
                return [(number, True)]
            if text == b"{":  # a lone brace opens a document, broken or cut off
                return [(number, False)]
        out.append((number, readable))
    return out


@pytest.mark.slow
@FUZZ
@given(made=json_file())
def test_every_reader_gives_each_record_once_in_bounded_memory(
        reader: Child, tmp_path_factory: pytest.TempPathFactory, made: tuple[bytes, str]) -> None:
    data, layout = made
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / ("input.json.gz" if "gzip" in layout else "input.json")
    path.write_bytes(data)
    answer = reader.ask(path, folder / "lake")
    assert "exception" not in answer, answer.get("exception")
    assert answer["silent"] == [], f"records that gave nothing: {answer['silent']}"
    read = answer["read"]
    assert answer["records"] == len(read)
    if layout == "cut gzip":
        assert read and read[-1][1] is not None
    elif layout == "lines":
        expected = _expected_lines(data)
        if expected is not None:
            assert [(n, error is None) for n, error in read] == expected
    elif layout == "document" and not data.lstrip(b"\xef\xbb\xbf \n").startswith(b"["):
        assert len(read) == 1
    elif layout == "array" and texts_ok(data):
        assert all(error is None for _, error in read)
        assert [n for n, _ in read] == list(range(1, len(read) + 1))


def texts_ok(data: bytes) -> bool:
    """True when ``data`` (an array file, perhaps with a BOM) is one valid JSON array."""
    return _loads(data.removeprefix(b"\xef\xbb\xbf"))


def test_a_hang_or_a_crash_in_the_child_fails_the_test(reader: Child, tmp_path: Path) -> None:
    # The fuzz test's own guard: what it reports when the child answers is real.
    path = tmp_path / "ok.jsonl"
    path.write_bytes(orjson.dumps(status(1, "x")) + b"\n[1, 2]\n")
    answer = reader.ask(path, tmp_path / "lake")
    assert answer["read"] == [[1, None], [2, None]] and answer["silent"] == []
    assert answer["records"] == 2 and answer["bad"] == 1
