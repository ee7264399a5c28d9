"""Records from files: JSON lines, a JSON array, or one JSON document; gzip or not.

Each record comes with where it came from (file, 1-based line — or item number in
a JSON array) and its text as received. A record that cannot be decoded comes
back with ``error`` set instead of ``obj``; reading goes on with the next one. A
file that ends early (a truncated .gz) yields one last error record.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any

import fsspec
import orjson
import pyarrow as pa

MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
BLOCK_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class Record:
    source: str
    line: int
    raw: str
    obj: Any = None
    error: str | None = None


def _open(path: str) -> IO[bytes]:
    """The file's decompressed byte stream."""
    fs, fpath = fsspec.core.url_to_fs(path)
    handle: IO[bytes] = fs.open(fpath, "rb")
    if path.endswith(".gz") or _peek(handle, 2) == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle)  # type: ignore[return-value]
    return handle


def _peek(handle: IO[bytes], n: int) -> bytes:
    pos = handle.tell()
    data = handle.read(n)
    handle.seek(pos)
    return data


def _first_char(stream: io.BufferedReader) -> bytes:
    while True:
        chunk = stream.peek(64)
        if not chunk:
            return b""
        stripped = chunk.lstrip()
        if stripped:
            return stripped[:1]
        stream.read(len(chunk))


@dataclass(slots=True)
class Block:
    """Consecutive lines of a JSON-lines file, for converters that take many at once.

    ``lines`` are valid UTF-8, stripped, none empty; ``numbers`` their 1-based lines.
    """

    source: str
    lines: pa.Array
    numbers: pa.Array

    def __len__(self) -> int:
        return len(self.lines)

    def record(self, index: int) -> Record:
        """The line at ``index`` decoded as a single record."""
        text = self.lines[index].as_py().encode()
        return _decode(self.source, self.numbers[index].as_py(), text)


def read_records(path: str, on_bytes: Callable[[int], None] | None = None,
                 blocks: bool = False) -> Iterator[Record | Block]:
    """Every record of one file, in order, with decode errors as error records.

    With ``blocks``, runs of JSON lines come as :class:`Block` objects instead of one
    record each (JSON arrays and single documents still come record by record).
    """
    raw_handle = _open(path)
    tell = getattr(raw_handle, "fileobj", raw_handle).tell  # compressed position for .gz
    last = 0

    def advance() -> None:
        nonlocal last
        if on_bytes is not None:
            try:
                now = tell()
            except (OSError, ValueError):
                return
            on_bytes(now - last)
            last = now

    with raw_handle:
        # GzipFile buffers by itself, a line at a time, so a truncated .gz still
        # gives every line before the cut; other files get a large read buffer.
        stream: Any = (raw_handle if isinstance(raw_handle, gzip.GzipFile)
                       else io.BufferedReader(raw_handle, buffer_size=1 << 20))
        try:
            first = _first_char(stream)
            if first == b"[":
                yield from _json_array(path, stream, advance)
            elif blocks and _lines_from_the_start(stream):
                yield from _line_blocks(path, stream, advance)
            else:
                yield from _json_lines(path, stream, advance)
        except (EOFError, OSError, zlib.error) as exc:
            yield Record(path, 0, "", error=f"file ends early or is corrupt: {exc}")
        advance()


def _json_lines(path: str, stream: Any, advance: Callable[[], None]) -> Iterator[Record]:
    line_no = 0
    lines: Iterator[bytes] = iter(lambda: stream.readline(MAX_RECORD_BYTES + 1), b"")
    while True:
        line = next(lines, b"")
        if not line:
            return
        line_no += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield Record(path, line_no, "", error=f"record larger than {MAX_RECORD_BYTES} bytes")
            continue
        text = line.strip()
        if not text:
            continue
        record = _decode(path, line_no, text)
        if record.error and line_no == 1 and text.startswith(b"{"):
            # Perhaps one pretty-printed document (a saved v2 response, say).
            body = line + stream.read(MAX_DOCUMENT_BYTES)
            document = _decode(path, 1, body.strip())
            if document.error is None:
                yield document
                return
            lines = _replay(body, stream)
            line_no = 0
            continue
        yield record
        if line_no % 1024 == 0:
            advance()


def _lines_from_the_start(stream: Any) -> bool:
    """True when the file's first line is a whole JSON document (so: JSON lines)."""
    head = stream.peek(1 << 20)
    if b"\n" not in head:
        return False
    try:
        orjson.loads(head.split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return False
    return True


def _line_blocks(path: str, stream: Any, advance: Callable[[], None]) -> Iterator[Record | Block]:
    """The file as blocks of whole lines; a read error is raised after what came before it."""
    read = getattr(stream, "read1", None) or stream.read
    block_bytes = BLOCK_BYTES
    line_no, tail, eof = 0, b"", False
    failure: BaseException | None = None
    while not eof:
        parts, size = [tail], len(tail)
        target = size + block_bytes
        try:
            while size < target:
                data = read(target - size)
                if not data:
                    eof = True
                    break
                parts.append(data)
                size += len(data)
        except (EOFError, OSError, zlib.error) as exc:
            failure, eof = exc, True
        buf = b"".join(parts)
        cut = len(buf) if eof else buf.rfind(b"\n") + 1
        if cut == 0:  # one line longer than a block
            if len(buf) <= MAX_RECORD_BYTES:
                tail = buf
                continue
            _skip_rest_of_line(stream)
            line_no += 1
            yield Record(path, line_no, "", error=f"record larger than {MAX_RECORD_BYTES} bytes")
            tail = b""
            continue
        body, tail = buf[:cut], buf[cut:]
        line_no = yield from _split_lines(path, body, line_no)
        advance()
    if failure is not None:
        raise failure


def _split_lines(path: str, body: bytes, line_no: int) -> Generator[Record | Block, None, int]:
    """``body`` (whole lines, after line ``line_no``) as one Block and error records.

    Returns the number of the last line of ``body``.
    """
    import numpy as np
    import pyarrow.compute as pc

    ends, find, pos = [], body.find, 0
    while (end := find(b"\n", pos)) >= 0:
        ends.append(end + 1)
        pos = end + 1
    if pos < len(body):
        ends.append(len(body))
    offsets = np.array([0, *ends], dtype=np.int64)
    count = len(ends)
    numbers = np.arange(line_no + 1, line_no + count + 1, dtype=np.int64)
    binary = pa.LargeBinaryArray.from_buffers(pa.large_binary(), count, [
        None, pa.py_buffer(offsets), pa.py_buffer(body)])
    try:
        lines = pc.ascii_trim_whitespace(binary.cast(pa.large_string()))
    except pa.ArrowInvalid:  # some line is not UTF-8: take this block line by line
        for i in range(count):
            text = body[offsets[i]:offsets[i + 1]].strip()
            if text:
                yield _decode(path, line_no + i + 1, text)
        return line_no + count
    huge = np.diff(offsets) > MAX_RECORD_BYTES
    for number in numbers[huge].tolist():
        yield Record(path, number, "", error=f"record larger than {MAX_RECORD_BYTES} bytes")
    keep = (pc.binary_length(lines).to_numpy() > 0) & ~huge
    if keep.any():
        yield Block(path, lines.filter(pa.array(keep)), pa.array(numbers[keep]))
    return line_no + count


def _replay(body: bytes, stream: io.BufferedReader) -> Iterator[bytes]:
    """The lines of ``body`` then of ``stream``, joining the line cut between them."""
    head = body.split(b"\n")
    for part in head[:-1]:
        yield part + b"\n"
    tail = head[-1] + stream.readline(MAX_RECORD_BYTES + 1)
    if tail:
        yield tail
    yield from iter(lambda: stream.readline(MAX_RECORD_BYTES + 1), b"")


def _skip_rest_of_line(stream: io.BufferedReader) -> None:
    while True:
        chunk = stream.readline(MAX_RECORD_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def _decode(path: str, line_no: int, text: bytes) -> Record:
    try:
        raw = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Record(path, line_no, text[:4096].decode("utf-8", "replace"),
                      error=f"not UTF-8 text: {exc.reason} at byte {exc.start}")
    try:
        return Record(path, line_no, raw, obj=orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        return Record(path, line_no, raw, error=f"malformed JSON: {exc}")


def _json_array(path: str, stream: Any, advance: Callable[[], None]) -> Iterator[Record]:
    import ijson

    item_no = 0
    try:
        for item_no, obj in enumerate(ijson.items(stream, "item", use_float=True), 1):
            raw = orjson.dumps(obj).decode()
            yield Record(path, item_no, raw, obj=obj)
            if item_no % 1024 == 0:
                advance()
    except ijson.JSONError as exc:
        reason = f"malformed JSON array after item {item_no}: {exc}"
        yield Record(path, item_no + 1, "", error=reason)

