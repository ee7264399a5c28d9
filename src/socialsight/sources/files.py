"""Records from files: JSON lines, JSON arrays, or one JSON document; gzip or not.

Each record comes with where it came from (file, 1-based line — or item number in
a JSON array) and its text as received. A record that cannot be decoded comes
back with ``error`` set instead of ``obj``; reading goes on with the next one. A
file that ends early (a truncated .gz, a JSON array that never closes) yields one
last error record. No record costs more than its own size to read: a record over
``MAX_RECORD_BYTES`` is skipped as an error record, and nesting is left to orjson,
which refuses more than 1,024 levels at no cost.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import sys
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import fsspec
import numpy as np
import orjson
import pyarrow as pa

from socialsight.progress import NO_PROGRESS, Progress

MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
BLOCK_BYTES = 64 * 1024 * 1024
ARRAY_CHUNK_BYTES = 1024 * 1024
RAW_BYTES = 4096  # of a record too broken to keep whole (as error rows keep it)

STDIN = "-"
BOM = b"\xef\xbb\xbf"
# What a folder given to `socialsight import` is read for (not its subfolders).
INPUT_PATTERNS = ("*.jsonl", "*.ndjson", "*.json", "*.jsonl.gz", "*.ndjson.gz", "*.json.gz")


@dataclass(slots=True)
class Record:
    source: str
    line: int
    raw: str
    obj: Any = None
    error: str | None = None
    unit: str = "line"  # what ``line`` counts: "line", or "item" of a JSON array


def folder_files(folder: str, patterns: Iterable[str] = INPUT_PATTERNS) -> list[str]:
    """The files of a local folder that match ``patterns``, by name (not its subfolders)."""
    found = {path for pattern in patterns for path in glob.glob(os.path.join(folder, pattern))}
    return sorted(path for path in found if os.path.isfile(path))


def input_files(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(files to read, paths that do not exist): folders listed, ``-`` kept for stdin."""
    files: list[str] = []
    missing: list[str] = []
    for path in paths:
        if path == STDIN:
            files.append(path)
        elif os.path.isdir(path):
            files += folder_files(path)
        elif _exists(path):
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def _exists(path: str) -> bool:
    try:
        fs, fpath = fsspec.core.url_to_fs(path)
        return bool(fs.exists(fpath))
    except (OSError, ValueError, ImportError):
        return False


class _Borrowed(io.RawIOBase):
    """A stream read through without closing it when done (stdin)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return int(self.inner.readinto(buffer))


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``stream``: what was read ahead, given back."""

    def __init__(self, head: bytes, stream: Any) -> None:
        self.head = memoryview(head)
        self.read_more = getattr(stream, "read1", None) or stream.read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.read_more(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _open(path: str) -> tuple[IO[bytes], io.BufferedReader]:
    """The file's decompressed bytes (peekable), and the file itself (to tell how far
    reading is, and to close)."""
    if path == STDIN:
        handle: Any = _Borrowed(sys.stdin.buffer)
    else:
        fs, fpath = fsspec.core.url_to_fs(path)
        handle = fs.open(fpath, "rb")
    buffered = io.BufferedReader(handle, buffer_size=1 << 20)
    if path.endswith(".gz") or buffered.peek(2)[:2] == b"\x1f\x8b":
        # GzipFile buffers by itself, a line at a time, so a truncated .gz still
        # gives every line before the cut.
        return gzip.GzipFile(fileobj=buffered), buffered  # type: ignore[return-value]
    return buffered, buffered


def _skip_blank(stream: Any) -> tuple[bytes, int]:
    """Skip a byte-order mark and blank space; the first byte after, and newlines skipped."""
    if stream.peek(3)[:3] == BOM:
        stream.read(3)
    newlines = 0
    while True:
        chunk = stream.peek(64)
        if not chunk:
            return b"", newlines
        stripped = chunk.lstrip()
        if stripped:
            blank = chunk[:len(chunk) - len(stripped)]
            stream.read(len(blank))
            return stripped[:1], newlines + blank.count(b"\n")
        stream.read(len(chunk))
        newlines += chunk.count(b"\n")


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


def read_records(path: str, progress: Progress = NO_PROGRESS,
                 blocks: bool = False) -> Iterator[Record | Block]:
    """Every record of one file (``-``: stdin), in order, decode errors as error records.

    With ``blocks``, runs of JSON lines come as :class:`Block` objects instead of one
    record each (JSON arrays and single documents still come record by record).
    """
    stream, handle = _open(path)
    last = 0

    def advance() -> None:
        nonlocal last
        try:
            now = handle.tell()
        except (OSError, ValueError):
            return
        progress.advance("bytes", now - last)
        last = now

    with handle, stream:
        try:
            first, skipped = _skip_blank(stream)
            if first == b"[":
                yield from _json_array(path, stream, advance)
            elif blocks and _lines_from_the_start(stream):
                yield from _line_blocks(path, stream, advance, skipped)
            else:
                yield from _json_lines(path, stream, advance, skipped, blocks)
        except (EOFError, OSError, zlib.error) as exc:
            yield Record(path, 0, "", error=f"file ends early or is corrupt: {exc}")
        advance()


# --- JSON lines ---------------------------------------------------------------------


def _json_lines(path: str, stream: Any, advance: Callable[[], None], line_no: int,
                blocks: bool) -> Iterator[Record | Block]:
    """Lines whose first one is not a JSON document by itself: perhaps the file is one
    pretty-printed document (a saved v2 response, say); else a bad first line."""
    line = stream.readline(MAX_RECORD_BYTES + 1)
    if not line:
        return
    line_no += 1
    if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
        _skip_rest_of_line(stream)
        yield Record(path, line_no, "", error=f"record larger than {MAX_RECORD_BYTES} bytes")
    else:
        text = line.strip()
        record = _decode(path, line_no, text)
        if record.error is not None and text.startswith(b"{"):
            body = _read_at_most(stream, MAX_DOCUMENT_BYTES)
            document = _decode(path, line_no, (line + body).strip())
            if document.error is None:
                yield document
                return
            if text == b"{" and len(body) < MAX_DOCUMENT_BYTES:
                # A lone brace is no JSON line: this is one document, broken or cut off.
                reason = (document.error or "").replace("malformed JSON", "", 1).lstrip(": ")
                yield Record(path, line_no, _excerpt(line + body),
                             error=f"malformed JSON document (cut off or broken): {reason}")
                return
            stream = io.BufferedReader(_Prefixed(body, stream), buffer_size=1 << 20)
        yield record
    if blocks:
        yield from _line_blocks(path, stream, advance, line_no)
    else:
        yield from _lines(path, stream, advance, line_no)


def _lines(path: str, stream: Any, advance: Callable[[], None], line_no: int) -> Iterator[Record]:
    """The lines after ``line_no``, one record each."""
    while line := stream.readline(MAX_RECORD_BYTES + 1):
        line_no += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield Record(path, line_no, "", error=f"record larger than {MAX_RECORD_BYTES} bytes")
            continue
        text = line.strip()
        if text:
            yield _decode(path, line_no, text)
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


def _line_blocks(path: str, stream: Any, advance: Callable[[], None],
                 line_no: int = 0) -> Iterator[Record | Block]:
    """The lines after ``line_no`` as blocks of whole lines; a read error is raised after
    what came before it."""
    read = getattr(stream, "read1", None) or stream.read
    block_bytes = BLOCK_BYTES
    tail, eof = b"", False
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


def _read_at_most(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes, read in pieces (``read(limit)`` would set aside ``limit``)."""
    parts, size = [], 0
    while size < limit:
        data = stream.read(min(8 * 1024 * 1024, limit - size))
        if not data:
            break
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def _skip_rest_of_line(stream: Any) -> None:
    while True:
        chunk = stream.readline(MAX_RECORD_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def _excerpt(text: bytes) -> str:
    return text[:RAW_BYTES].decode("utf-8", "replace")


def _decode(path: str, line_no: int, text: bytes, unit: str = "line") -> Record:
    try:
        raw = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Record(path, line_no, _excerpt(text), unit=unit,
                      error=f"not UTF-8 text: {exc.reason} at byte {exc.start}")
    try:
        return Record(path, line_no, raw, obj=orjson.loads(text), unit=unit)
    except orjson.JSONDecodeError as exc:
        return Record(path, line_no, raw, unit=unit, error=f"malformed JSON: {exc}")


# --- JSON arrays --------------------------------------------------------------------

_QUOTE, _BACKSLASH, _COMMA, _OPEN_ARRAY = ord('"'), ord("\\"), ord(","), ord("[")
_DEPTH = np.zeros(256, np.int8)  # how each byte changes the nesting depth
_DEPTH[[ord("["), ord("{")]] = 1
_DEPTH[[ord("]"), ord("}")]] = -1
_STRUCTURE = np.zeros(256, np.bool_)  # the bytes that can end an item
_STRUCTURE[[ord("["), ord("{"), ord("]"), ord("}"), _COMMA]] = True
_BLANK = b" \t\r\n"


def _json_array(path: str, stream: Any, advance: Callable[[], None]) -> Iterator[Record]:
    """The items of a JSON array (or of several, one after another), one record each."""
    read = getattr(stream, "read1", None) or stream.read
    items = _ArrayItems(path)
    while not items.done:
        chunk = read(ARRAY_CHUNK_BYTES)
        if not chunk:
            yield from items.finish()
            return
        yield from items.feed(chunk)
        advance()


class _ArrayItems:
    """Cuts a JSON array into the bytes of its items without parsing them.

    Only quotes (not escaped), brackets and commas outside strings are looked at, a
    chunk at a time with numpy; each item is then decoded by orjson, so its ``raw``
    is the item as written, and an item deeper or larger than a record may be costs
    no more than its own bytes.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.depth = 0  # 0: outside any array; 1: between items; more: inside one
        self.in_string = False
        self.backslashes = 0  # how many the last chunk ended with
        self.parts: list[bytes] = []
        self.size = 0
        self.item_no = 0
        self.commas = 0  # of the current array: tells `[]` from a stray comma
        self.stray = False  # something other than blank space outside the arrays
        self.done = False

    def feed(self, chunk: bytes) -> Iterator[Record]:
        data = np.frombuffer(chunk, np.uint8)
        quotes = self._real_quotes(data)
        marks = np.flatnonzero(_STRUCTURE[data])
        if len(marks):
            inside = (np.searchsorted(quotes, marks) + self.in_string) % 2 == 1
            marks = marks[~inside]
        self.in_string = bool((len(quotes) + self.in_string) % 2)
        delta = _DEPTH[data[marks]].astype(np.int64)
        after = self.depth + np.cumsum(delta)
        before = after - delta
        top = (before == 0) | ((before == 1) & (delta <= 0))
        start = 0
        for pos, depth in zip(marks[top].tolist(), before[top].tolist(), strict=True):
            byte = chunk[pos]
            if depth == 0:
                self._between(chunk[start:pos])
                if byte != _OPEN_ARRAY or self.stray:
                    yield self._stray(chunk[pos:])
                    return
                self.commas = 0
            else:
                self._append(chunk[start:pos])
                yield from self._item(closing=byte != _COMMA)
            start = pos + 1
        self.depth = int(after[-1]) if len(after) else self.depth
        if self.depth > 0:
            self._append(chunk[start:])
        else:
            self._between(chunk[start:])

    def finish(self) -> Iterator[Record]:
        """What the end of the file leaves: a cut-off item, an array never closed."""
        if self.depth > 0:
            self.item_no += 1
            cut = b"".join(self.parts).strip()
            what = f"item {self.item_no} is cut off" if cut or self.size else "it never closes"
            yield Record(self.path, self.item_no, _excerpt(cut), unit="item",
                         error=f"file ends inside a JSON array: {what}")
        elif self.stray:
            yield self._stray(b"")

    def _real_quotes(self, data: np.ndarray) -> np.ndarray:
        """Positions of the quotes that open or close a string (no backslash escapes them)."""
        quotes = np.flatnonzero(data == _QUOTE)
        slashes = np.flatnonzero(data == _BACKSLASH)
        carried = self.backslashes
        if not len(slashes):
            self.backslashes = 0
            return quotes[1:] if carried % 2 and len(quotes) and quotes[0] == 0 else quotes
        runs = slashes[np.concatenate(([True], np.diff(slashes) != 1))]  # where each run starts
        last = int(runs[-1])
        ends_in_run = slashes[-1] == len(data) - 1
        self.backslashes = (len(data) - last + (carried if last == 0 else 0)) if ends_in_run else 0
        after_slash = np.zeros(len(quotes), np.bool_)
        after_slash[quotes > 0] = data[quotes[quotes > 0] - 1] == _BACKSLASH
        suspects = quotes[after_slash]
        start = runs[np.searchsorted(runs, suspects - 1, "right") - 1]
        run = suspects - start + np.where(start == 0, carried, 0)
        escaped = np.zeros(len(quotes), np.bool_)
        escaped[np.flatnonzero(after_slash)[run % 2 == 1]] = True
        if carried % 2 and len(quotes) and quotes[0] == 0:
            escaped[0] = True
        return quotes[~escaped]

    def _append(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size <= MAX_RECORD_BYTES:
            self.parts.append(piece)
        else:
            self.parts.clear()

    def _item(self, closing: bool) -> Iterator[Record]:
        text = b"".join(self.parts).strip()
        size, self.parts, self.size = self.size, [], 0
        if closing and not text and not self.commas and size <= MAX_RECORD_BYTES:
            return  # an empty array
        self.commas = 0 if closing else self.commas + 1
        self.item_no += 1
        if size > MAX_RECORD_BYTES:
            yield Record(self.path, self.item_no, "", unit="item",
                         error=f"record larger than {MAX_RECORD_BYTES} bytes")
        elif not text:
            yield Record(self.path, self.item_no, "", unit="item",
                         error="empty item in a JSON array (a stray comma)")
        else:
            yield _decode(self.path, self.item_no, text, unit="item")

    def _between(self, piece: bytes) -> None:
        if piece.strip(_BLANK):
            self.stray = True

    def _stray(self, rest: bytes) -> Record:
        self.done = True
        return Record(self.path, self.item_no + 1, _excerpt(rest), unit="item",
                      error="data after the end of the JSON array is not read "
                            "(expected another array or the end of the file)")
