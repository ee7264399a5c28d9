"""Files of posts (or users) to forget → deletions, for ``socialsight forget --from FILE``.

What a file may hold, told apart line by line (a file may mix them):

- **X batch compliance results**, as a job's ``download_url`` gives them: JSON Lines,
  one object per post or user that needs action, ``{"id": "1234567890", "action":
  "delete", "created_at": "2024-01-10T12:00:00.000Z", "redacted_at":
  "2024-01-12T08:30:00.000Z", "reason": "deleted"}``
  (https://docs.x.com/x-api/compliance/batch-compliance/quickstart, "Result format";
  the reasons: https://docs.x.com/x-api/compliance/batch-compliance/introduction).
  X documents one action, ``delete``; the reason says why: for a tweets job
  ``deleted``, ``bounced``, ``protected``, ``suspended``, ``scrub_geo``; for a users
  job ``deleted``, ``suspended``, ``protected``, ``deactivated``. A users job's ids are
  user ids, so its results forget every post of those users (``kind="users"``).
  ``scrub_geo`` asks to remove only the location: its deletion says so
  (:attr:`~socialsight.posts.canonical.Deletion.forgets_post` is False) and the
  caller decides. An action other than ``delete`` is a bad line; an unknown reason is
  kept as it is, and counts as deleted.
- **v1.1 status deletion notices** (``{"delete": {"status": {"id", ...}}}``), as a
  saved stream holds them.
- **A plain list**: one id per line (blank lines and ``#`` comments skipped), or a
  JSON array of them (strings, numbers, or result objects as above):

  ======================================================  ================================
  ``1234567890``, ``x:1234567890``                        an X post (a user with
                                                          ``kind="users"``)
  ``user:1234567890``                                     an X user: all their posts
  ``https://x.com/NAME/status/1234567890``                an X post
  ``at://did:plc:…/app.bsky.feed.post/RKEY``              a Bluesky post
  ``https://bsky.app/profile/did:plc:…/post/RKEY``        a Bluesky post (a DID, not a
                                                          handle: handles change)
  ``https://HOST/@NAME/ID``                               a Mastodon status of HOST
                                                          (its uri is
                                                          ``https://HOST/users/NAME/statuses/ID``
                                                          and ID is its local id there)
  ``https://HOST/@NAME@OTHER/ID``                         a status of OTHER as HOST shows
                                                          it: ID is local to HOST
  any other ``https://`` address                          a Mastodon status by its uri
                                                          (``tweets.id_str``)
  ======================================================  ================================

Nothing is read whole: lines (and a JSON array's items) are taken one at a time, from
a file (gzipped or not: by its ``.gz`` name or its first bytes) or from lines already
read. A UTF-8 byte-order mark, CRLF line ends and a last line without its newline are
all fine. What cannot be read — not UTF-8, not JSON, no id, an id that is no positive
63-bit integer, an unknown action, a line over :data:`MAX_LINE_BYTES` — becomes a
:class:`BadLine` with its line number, and reading goes on.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from socialsight.errors import InputError
from socialsight.posts import twitter_v1
from socialsight.posts.bluesky import POST_COLLECTION, did_of, post_uri
from socialsight.posts.canonical import Deletion, checked_id, derived_id

Kind = Literal["tweets", "users"]
KINDS = ("tweets", "users")
# What X's batch compliance results ask for; only "delete" is documented.
ACTIONS = frozenset({"delete"})
MAX_LINE_BYTES = 1 << 20  # a line (or an array item) longer than this is a bad line
RAW_LIMIT = 500  # of a bad line's text kept in its BadLine
CHUNK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"

X_HOSTS = frozenset({"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com"})
BSKY_WEB = re.compile(r"^/profile/(?P<did>did:[^/]+)/post/(?P<rkey>[^/]+)/?$")
X_STATUS = re.compile(r"^/(?:[^/]+|i/web)/status(?:es)?/(?P<id>\d+)")
MASTODON_WEB = re.compile(r"^/@(?P<name>[^/@]+)(?:@(?P<other>[^/]+))?/(?P<id>\d+)/?$")


@dataclass(frozen=True)
class BadLine:
    """A line (or a JSON array's item) that names nothing to forget, and why."""

    line: int  # 1-based; of an array item, the line where it starts
    reason: str
    raw: str  # the line as read (at most RAW_LIMIT characters)


Source = str | os.PathLike[str] | Iterable[str] | Iterable[bytes]


def read_deletions(source: Source, kind: Kind | None = None
                   ) -> tuple[list[Deletion], list[BadLine]]:
    """Every deletion ``source`` names, and its bad lines (see :func:`iter_deletions`)."""
    deletions: list[Deletion] = []
    bad: list[BadLine] = []
    for found in iter_deletions(source, kind):
        if isinstance(found, BadLine):
            bad.append(found)
        else:
            deletions.append(found)
    return deletions, bad


def iter_deletions(source: Source, kind: Kind | None = None) -> Iterator[Deletion | BadLine]:
    """The deletions (and bad lines) of a file — a path — or of lines already read,
    in order, one at a time.

    ``kind`` is the batch compliance job's type: ``"users"`` reads bare ids (and result
    objects) as user ids; ``"tweets"`` or None as post ids.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind is 'tweets', 'users' or None, not {kind!r}")
    reader = _Reader(kind)
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        with open(path, "rb") as raw:  # a file that cannot be opened raises OSError
            gzipped = path.endswith(".gz") or raw.peek(2)[:2] == GZIP_MAGIC
            yield from reader.read(_file_chunks(gzip.GzipFile(fileobj=raw) if gzipped else raw))
    else:
        yield from reader.read(_line_chunks(source))


# --- bytes in -----------------------------------------------------------------------


def _file_chunks(stream: Any) -> Iterator[bytes]:
    """The stream's bytes, as they come (``read1``: a cut .gz still gives what it holds
    before the cut, and then its error)."""
    read = getattr(stream, "read1", None) or stream.read
    while chunk := read(CHUNK_BYTES):
        yield chunk


def _line_chunks(lines: Iterable[str] | Iterable[bytes]) -> Iterator[bytes]:
    for line in lines:
        data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
        yield data if data.endswith(b"\n") else data + b"\n"


class _Reader:
    """Cuts a byte stream into lines (or a JSON array into items) and reads each."""

    def __init__(self, kind: Kind | None) -> None:
        self.kind = kind
        self.line = 0

    def read(self, chunks: Iterator[bytes]) -> Iterator[Deletion | BadLine]:
        try:
            first = self._first(chunks)
            if first is None:
                return
            if first.lstrip()[:1] == b"[":
                yield from _ArrayItems(self).read(first, chunks)
            else:
                yield from self._lines(first, chunks)
        except (EOFError, OSError, zlib.error) as exc:
            yield BadLine(self.line + 1, f"the file ends early or is corrupt: {exc}", "")

    @staticmethod
    def _first(chunks: Iterator[bytes]) -> bytes | None:
        """The first chunk with something other than blank space (its BOM dropped)."""
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= len(BOM) or not BOM.startswith(head):
                head = head.removeprefix(BOM)
                if head.strip():
                    return head
        head = head.removeprefix(BOM)
        return head if head.strip() else None

    def _lines(self, first: bytes, chunks: Iterator[bytes]) -> Iterator[Deletion | BadLine]:
        carry = b""
        skipping = False  # inside a line longer than MAX_LINE_BYTES
        for chunk in _chain(first, chunks):
            data = carry + chunk
            *lines, carry = data.split(b"\n")
            for text in lines:
                self.line += 1
                if skipping:
                    skipping = False
                    continue
                yield from self.take(text)
            if len(carry) > MAX_LINE_BYTES:
                if not skipping:
                    yield BadLine(self.line + 1, f"a line longer than {MAX_LINE_BYTES} bytes",
                                  _shown(carry))
                skipping, carry = True, b""
        if carry and not skipping:
            self.line += 1
            yield from self.take(carry)

    def take(self, data: bytes, line: int | None = None) -> Iterator[Deletion | BadLine]:
        """What one line (or array item) names; nothing for a blank line or a comment."""
        at = self.line if line is None else line
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield BadLine(at, f"not UTF-8 text: {exc.reason} at byte {exc.start}", _shown(data))
            return
        if not text or text.startswith("#"):
            return
        try:
            yield from entry(text, self.kind)
        except InputError as exc:
            yield BadLine(at, str(exc), text[:RAW_LIMIT])


def _chain(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from chunks


def _shown(data: bytes) -> str:
    return data[:RAW_LIMIT].decode("utf-8", "replace").strip()


# A JSON token: a string (escapes included), a structural character, a bare word
# (number, true, ...), or a string the buffer ends in (its end is in the next chunk).
_TOKEN = re.compile(
    rb'(?P<str>"(?:[^"\\]|\\.)*")|(?P<punct>[\[\]{},:])|(?P<bare>[^\s\[\]{},:"]+)'
    rb'|(?P<open>".*\Z)', re.DOTALL)


class _ArrayItems:
    """The items of a JSON array, cut from the stream token by token (an item is
    never more than :data:`MAX_LINE_BYTES`), each read as one entry."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.depth = 0
        self.parts: list[bytes] = []
        self.size = 0
        self.start = 0  # the line the current item starts on
        self.closed = False

    def read(self, first: bytes, chunks: Iterator[bytes]) -> Iterator[Deletion | BadLine]:
        buffer, line = b"", 1
        for chunk in _chain(first, chunks):
            buffer += chunk
            done = 0
            for match in _TOKEN.finditer(buffer):
                if match.end() == len(buffer) and match.lastgroup in ("bare", "open"):
                    break  # it may go on in the next chunk
                line += buffer.count(b"\n", done, match.start())
                yield from self._token(match.group(), line)
                line += match.group().count(b"\n")
                done = match.end()
                if self.closed:
                    break
            buffer = buffer[done:]
            self.reader.line = line  # where a read error would be
            if len(buffer) > 2 * MAX_LINE_BYTES:  # one token that long: no id, and no end
                yield BadLine(line, f"an array item longer than {MAX_LINE_BYTES} bytes; "
                              "the rest of the file is not read", _shown(buffer))
                return
            if self.closed:
                yield from self._after(buffer, chunks, line)
                return
        if buffer.strip():
            self._add(buffer.strip(), line)
        yield BadLine(self.start or line, "the file ends inside the JSON array",
                      _shown(b" ".join(self.parts)))

    @staticmethod
    def _after(rest: bytes, chunks: Iterator[bytes], line: int) -> Iterator[BadLine]:
        """One bad line for anything but blank space after the array (read no further)."""
        for chunk in _chain(rest, chunks):
            text = chunk.lstrip()
            if text:
                at = line + chunk.count(b"\n", 0, len(chunk) - len(text))
                yield BadLine(at, "data after the end of the JSON array", _shown(text))
                return
            line += chunk.count(b"\n")

    def _token(self, token: bytes, line: int) -> Iterator[Deletion | BadLine]:
        if self.depth == 0:  # the array's opening bracket
            self.depth = 1
            return
        if self.depth == 1 and token in (b",", b"]"):
            yield from self._item(line, closing=token == b"]")
            return
        if token in (b"[", b"{"):
            self.depth += 1
        elif token in (b"]", b"}") and self.depth > 1:
            self.depth -= 1
        self._add(token, line)

    def _add(self, token: bytes, line: int) -> None:
        if self.size == 0:
            self.start = line
        self.size += len(token) + 1
        if self.size <= MAX_LINE_BYTES:
            self.parts.append(token)

    def _item(self, line: int, closing: bool) -> Iterator[Deletion | BadLine]:
        parts, size, start = self.parts, self.size, self.start or line
        self.parts, self.size, self.start = [], 0, 0
        if closing:
            self.depth, self.closed = 0, True
        if size > MAX_LINE_BYTES:
            yield BadLine(start, f"an array item longer than {MAX_LINE_BYTES} bytes", "")
        elif parts:
            yield from self._value(b" ".join(parts), start)
        elif not closing:
            yield BadLine(line, "an empty item in the JSON array (a stray comma)", ",")

    def _value(self, text: bytes, line: int) -> Iterator[Deletion | BadLine]:
        if text.isdigit():  # a number, read as an id (orjson makes a float of a huge one)
            yield from self.reader.take(text, line)
            return
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            yield BadLine(line, "not JSON", _shown(text))
            return
        try:
            yield from _value_entry(value, self.reader.kind)
        except InputError as exc:
            yield BadLine(line, str(exc), _shown(text))


# --- one entry ----------------------------------------------------------------------


def entry(text: str, kind: Kind | None = None) -> Iterator[Deletion]:
    """The deletions one line names (a JSON object, a JSON string, or an id as text);
    InputError saying why when it names none."""
    if text.startswith(("{", '"')):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc}") from exc
        yield from _value_entry(value, kind)
        return
    yield _text_entry(text, kind)


def _value_entry(value: Any, kind: Kind | None) -> Iterator[Deletion]:
    if isinstance(value, dict):
        yield from _object_entry(value, kind)
    elif isinstance(value, str):
        yield _text_entry(value.strip(), kind)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield _x_id(str(value), kind)
    else:
        raise InputError(f"not an id: a JSON {type(value).__name__}")


def _object_entry(obj: dict[str, Any], kind: Kind | None) -> Iterator[Deletion]:
    """A batch compliance result, or a v1.1 status deletion notice."""
    if twitter_v1.is_delete(obj):
        conversion = twitter_v1.from_delete(obj)
        if conversion.problems:
            raise InputError(conversion.problems[0])
        yield from conversion.deletions
        return
    if obj.get("id") is None:
        raise InputError("a compliance result without an id")
    action = obj.get("action")
    if action not in ACTIONS:
        raise InputError(f"unknown compliance action {action!r} (X documents 'delete')")
    reason = obj.get("reason", "deleted")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"a compliance reason that is no word: {reason!r}")
    yield _x_id(obj["id"], kind, reason.strip())


def _x_id(value: Any, kind: Kind | None, reason: str = "deleted",
          user: bool = False) -> Deletion:
    if user or kind == "users":
        return Deletion("x", None, None, reason=reason,
                        user_id=checked_id(_digits(value), "user"))
    post_id = checked_id(_digits(value), "post")
    return Deletion("x", post_id, str(post_id), reason=reason)


def _digits(value: Any) -> Any:
    """``value``, unless it is text with other characters than ASCII digits (which
    ``int()`` would take: signs, blanks, other scripts' digits)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        return None
    return value


def _text_entry(text: str, kind: Kind | None) -> Deletion:
    """An id, an ``at://`` uri or a link, as text."""
    if text.startswith("user:"):
        return _x_id(text[len("user:"):].strip(), kind, user=True)
    if text.startswith("x:"):
        return _x_id(text[len("x:"):].strip(), kind)
    if text.isascii() and text.isdigit():
        return _x_id(text, kind)
    if text.startswith("at://"):
        return _bluesky(text)
    if text.startswith(("https://", "http://")):
        return _link(text, kind)
    if text.startswith("@"):
        raise InputError(f"{text[:80]} is a handle: forget a user with --user")
    raise InputError("not a post id, an at:// uri or a link to a post")


def _bluesky(uri: str) -> Deletion:
    did = did_of(uri)
    parts = uri[len("at://"):].split("/")
    if did is None:
        raise InputError("an at:// uri must name its author by DID, not by handle")
    if len(parts) != 3 or parts[1] != POST_COLLECTION or not parts[2]:
        raise InputError(f"an at:// uri that is no post ({POST_COLLECTION})")
    return Deletion("bluesky", derived_id("bluesky", uri), uri)


def _link(url: str, kind: Kind | None) -> Deletion:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        raise InputError("a link without a host")
    if host in X_HOSTS:
        found = X_STATUS.match(parts.path)
        if found is None:
            raise InputError("an X link that is no post (…/status/ID)")
        return _x_id(found["id"], None)
    if host == "bsky.app":
        web = BSKY_WEB.match(parts.path)
        if web is None:
            raise InputError("a bsky.app link that is no post by a DID (/profile/did:…/post/…)")
        return _bluesky(post_uri(web["did"], web["rkey"]))
    web = MASTODON_WEB.match(parts.path)
    if web is not None and not parts.query:
        return _mastodon_web(parts.scheme, parts.netloc, web)
    return Deletion("mastodon", derived_id("mastodon", url), url)


def _mastodon_web(scheme: str, netloc: str, web: re.Match[str]) -> Deletion:
    """A status as a Mastodon instance's web pages show it (``/@name/ID``)."""
    if web["other"]:  # another instance's status: ID is only this one's local id
        return Deletion("mastodon", None, None, local_id=web["id"], instance=netloc)
    uri = f"{scheme}://{netloc}/users/{web['name']}/statuses/{web['id']}"
    return Deletion("mastodon", derived_id("mastodon", uri), uri, local_id=web["id"],
                    instance=netloc)
