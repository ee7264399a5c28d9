"""``socialsight forget``: posts, users, photos and people leave the lake.

A forget is one atomic change of the lake (:meth:`Lake.change`): every table file that
holds a forgotten post's rows is rewritten without them under the same name (a file
left empty is removed), the photos no remaining post shows leave the photo store and
the analysis cache, the concepts forget them as examples, and an audit record (ids and
counts, never content: :mod:`socialsight.lake.audit`) lands in the same change. A
process killed at any point leaves the change to be finished by the next writer, as a
batch is; forgetting again what is gone changes nothing.

What goes with a post:

- its rows in ``tweets``, ``tweet_sentiments``, ``tweet_entities``,
  ``tweet_keyphrases``, ``media_rekognition`` (its photos' analysis, embeddings,
  local features, brand and concept hits) and ``errors`` (by post id, and any error
  row whose raw input names the post);
- the reposts of it (on X a retweet goes when its tweet goes); a post that *quotes* it
  stays, with the quoted post cut out of its ``quoted_status`` and ``raw_json``;
- its photos, once no remaining post shows them.

``--user`` forgets every post of an account (by id, or ``@handle``); ``--photo`` a photo
wherever it appears (the posts stay, without its analysis); ``--person`` an enrolled
person (the gallery's entry and every match of their face). Forgotten posts and photos
are remembered by id in the audit log, so a re-import or a replayed stream does not
bring them back (:func:`socialsight.lake.audit.forgotten`).

Edits (:func:`replace`) use the same machinery: the old version's rows go (its text
analysis, and the analysis of photos the new version no longer has) and the new
version is written as a fresh file, whose text ``enrich`` analyses again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from socialsight.errors import InputError
from socialsight.lake import audit, state
from socialsight.lake.schema import PARTITION, TABLES
from socialsight.lake.store import Lake, content_id, rows_bytes, split_by_partition
from socialsight.posts.canonical import REASONS, Deletion
from socialsight.progress import NO_PROGRESS, Progress

# The column that names a row's post, per table.
POST_COLUMN = {"tweets": "id", "tweet_sentiments": "tweetid", "tweet_entities": "tweetid",
               "tweet_keyphrases": "tweetid", "media_rekognition": "tweetid",
               "errors": "post_id"}
TEXT_TABLES = ("tweet_sentiments", "tweet_entities", "tweet_keyphrases")
PHOTOS = state.path("photos")
CACHE = state.path("analysis_cache")
MIN_RAW_ID = 8  # shorter native ids are not looked for inside error rows' raw input
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Request:
    """What to forget. Posts by ``tweets.id`` or native id (``id_str``: a tweet id, an
    ``at://`` URI, a Mastodon status URI); users by id, ``id_str`` or ``@handle``;
    photos by sha256; people by name or id; ``deletions`` as the platforms sent them."""

    posts: Sequence[str] = ()
    users: Sequence[str] = ()
    photos: Sequence[str] = ()
    people: Sequence[str] = ()
    deletions: Sequence[Deletion] = ()
    reason: str = "requested"

    def __bool__(self) -> bool:
        return bool(self.posts or self.users or self.photos or self.people or self.deletions)


@dataclass
class Summary:
    """What a forget removed (or, in a dry run, would remove)."""

    posts: int = 0  # posts forgotten (reposts of them included)
    reposts: int = 0  # of which reposts of a forgotten post
    quotes: int = 0  # posts that quoted a forgotten one, kept with the quote cut out
    users: int = 0  # accounts matched
    photos: int = 0  # photos removed from the store
    people: int = 0  # enrolled faces removed
    faces: int = 0  # photos whose known-person matches changed
    rows: dict[str, int] = field(default_factory=dict)
    files_rewritten: int = 0
    files_removed: int = 0
    not_found: list[str] = field(default_factory=list)
    dry_run: bool = False
    ids: set[int] = field(default_factory=set)  # the posts forgotten

    @property
    def changed(self) -> bool:
        return bool(self.posts or self.quotes or self.photos or self.people
                    or any(self.rows.values()))


# --- finding what a request names -------------------------------------------------------


_INDEX_COLUMNS = ["id", "id_str", "user", "retweeted_status", "quoted_status", "platform",
                  "in_reply_to_status_id", "quoted_status_id"]
# The columns of a post that name another post it quotes or replies to: cleared when
# that post is forgotten (the post itself stays).
_REFERENCES = ("quoted_status", "quoted_status_id", "quoted_status_id_str",
               "in_reply_to_status_id", "in_reply_to_status_id_str")
_index_cache: dict[tuple[str, int, float], dict[str, list[Any]]] = {}


def _post_index(lake: Lake, path: str) -> dict[str, list[Any]]:
    """The columns of one tweets file that name its posts and their authors (cached by
    the file's size and time, so a long ``run`` reads each file once)."""
    try:
        info = lake.fs.info(path)
        key = (path, int(info.get("size") or 0), float(info.get("mtime") or info.get("created")
                                                       or 0))
    except (OSError, TypeError, ValueError):
        key = (path, -1, 0.0)
    if key[1] >= 0 and key in _index_cache:
        return _index_cache[key]
    table = lake.read_file(path, columns=_INDEX_COLUMNS)
    users = table.column("user").combine_chunks()
    out = {
        "id": table.column("id").to_pylist(),
        "id_str": table.column("id_str").to_pylist(),
        "user_id": pc.struct_field(users, "id").to_pylist(),
        "user_id_str": pc.struct_field(users, "id_str").to_pylist(),
        "handle": [(h or "").casefold() for h in
                   pc.struct_field(users, "screen_name").to_pylist()],
        "retweet_of": pc.struct_field(table.column("retweeted_status").combine_chunks(),
                                      "id").to_pylist(),
        "quote_of": pc.struct_field(table.column("quoted_status").combine_chunks(),
                                    "id").to_pylist(),
        # Bluesky, Mastodon and X v2 name a quoted post by id only (no quoted_status)
        "quote_id": table.column("quoted_status_id").to_pylist(),
        "reply_to": table.column("in_reply_to_status_id").to_pylist(),
        "platform": table.column("platform").to_pylist(),
    }
    if len(_index_cache) > 20_000:
        _index_cache.clear()
    if key[1] >= 0:
        _index_cache[key] = out
    return out


@dataclass
class _Found:
    posts: set[int] = field(default_factory=set)  # to forget
    reposts: set[int] = field(default_factory=set)
    # a post that quotes or replies to forgotten ones → their ids
    quotes: dict[int, set[int]] = field(default_factory=dict)
    native: dict[int, str] = field(default_factory=dict)  # forgotten post → its id_str
    users: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)  # tweets files holding any of them
    matched: set[str] = field(default_factory=set)  # request items that matched


def _resolve(lake: Lake, request: Request) -> _Found:
    by_id: set[int] = set()
    by_native: set[str] = set()
    for item in request.posts:
        text = str(item).strip()
        by_native.add(text)
        if text.isdigit():
            by_id.add(int(text))
    for deletion in request.deletions:
        if deletion.post_id is not None:
            by_id.add(int(deletion.post_id))
        if deletion.native_id:
            by_native.add(deletion.native_id)
    user_ids = {str(u).strip() for u in request.users if not str(u).strip().startswith("@")}
    handles = {str(u).strip().lstrip("@").casefold() for u in request.users
               if str(u).strip().startswith("@")}
    local = {(d.local_id, d.instance) for d in request.deletions if d.local_id}
    users_whole = {str(d.user_id) for d in request.deletions
                   if d.user_id is not None and d.post_id is None and not d.native_id}
    user_ids |= users_whole

    found = _Found()
    files = lake.files("tweets")
    index = {path: _post_index(lake, path) for path in files}
    for path, cols in index.items():
        for i, pid in enumerate(cols["id"]):
            hit = None
            if pid in by_id:
                hit = str(pid)
            elif cols["id_str"][i] in by_native:
                hit = cols["id_str"][i]
            elif user_ids and (str(cols["user_id"][i]) in user_ids
                               or cols["user_id_str"][i] in user_ids):
                hit = str(cols["user_id"][i]) if str(cols["user_id"][i]) in user_ids \
                    else cols["user_id_str"][i]
                found.users.add(str(cols["user_id_str"][i] or cols["user_id"][i]))
            elif handles and cols["handle"][i] in handles:
                hit = "@" + cols["handle"][i]
                found.users.add(str(cols["user_id_str"][i] or cols["user_id"][i]))
            if hit is not None:
                found.posts.add(pid)
                found.native[pid] = cols["id_str"][i] or str(pid)
                found.files.add(path)
                found.matched.add(hit)
    if local:
        _resolve_local(lake, index, local, found)
    # reposts of a forgotten post go with it; quotes of it stay, with the quote cut out
    for path, cols in index.items():
        for i, pid in enumerate(cols["id"]):
            if pid in found.posts:
                continue
            if cols["retweet_of"][i] in found.posts:
                found.posts.add(pid)
                found.reposts.add(pid)
                found.native[pid] = cols["id_str"][i] or str(pid)
                found.files.add(path)
            else:
                for ref in (cols["quote_of"][i], cols["quote_id"][i], cols["reply_to"][i]):
                    if ref in found.posts:
                        found.quotes.setdefault(pid, set()).add(ref)
                        found.files.add(path)
    return found


def _resolve_local(lake: Lake, index: dict[str, dict[str, list[Any]]],
                   local: set[tuple[str, str | None]], found: _Found) -> None:
    """Mastodon's delete event names a status by its id on one instance: find the posts
    whose raw status (as the collecting instance sent it) has that id. The row does not
    say which instance collected it, so two instances' equal local ids would both match;
    Mastodon's ids are a millisecond time and random bits, so that is all but impossible
    (and the source names the post itself when it read it in this run)."""
    wanted = {lid for lid, _ in local if lid}
    for path, cols in index.items():
        rows = [i for i, p in enumerate(cols["platform"]) if p == "mastodon"]
        if not rows:
            continue
        raws = lake.read_file(path, columns=["raw_json"]).column("raw_json").to_pylist()
        for i in rows:
            raw = raws[i]
            if not raw or not any(lid in raw for lid in wanted):
                continue
            try:
                status = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(status, dict) or str(status.get("id")) not in wanted:
                continue
            pid = cols["id"][i]
            found.posts.add(pid)
            found.native[pid] = cols["id_str"][i] or str(pid)
            found.files.add(path)
            found.matched.add(str(status.get("id")))


# --- cutting rows out ------------------------------------------------------------------


def _redact(raw: str | None, gone: set[str]) -> str | None:
    """``raw`` (a post's JSON) with every object naming a forgotten post taken out."""
    if not raw:
        return raw
    if not any(g in raw for g in gone):
        return raw
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # not JSON: it cannot be cut, so it goes

    def names_gone(obj: dict[str, Any]) -> bool:
        for key in ("id_str", "id", "uri"):
            value = obj.get(key)
            if value is not None and str(value) in gone:
                return True
        return False

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: None if isinstance(v, str | int) and not isinstance(v, bool)
                    and str(v) in gone else walk(v) for k, v in obj.items()
                    if not (isinstance(v, dict) and names_gone(v))}
        if isinstance(obj, list):
            return [walk(v) for v in obj if not (isinstance(v, dict) and names_gone(v))]
        return obj

    text = orjson.dumps(walk(body)).decode()
    return text if not any(g in text for g in gone if len(g) >= MIN_RAW_ID) else None


def _without_quotes(table: pa.Table, quotes: dict[int, set[int]],
                    native: dict[int, str]) -> tuple[pa.Table, int]:
    """Rows of ``tweets`` that quote or reply to a forgotten post, with the reference to
    it cut out (the quoted post, its id, the id replied to; in ``raw_json`` too)."""
    ids = table.column("id").to_pylist()
    hits = [i for i, pid in enumerate(ids) if pid in quotes]
    if not hits:
        return table, 0
    columns = {name: table.column(name).to_pylist() for name in (*_REFERENCES, "raw_json")
               if name in table.column_names}
    for i in hits:
        gone = {str(q) for q in quotes[ids[i]]} | {native[q] for q in quotes[ids[i]]
                                                   if q in native}
        for name in _REFERENCES:
            value = columns[name][i] if name in columns else None
            named = str(value.get("id")) if isinstance(value, dict) else str(value)
            if value is not None and named in gone:
                columns[name][i] = None
        columns["raw_json"][i] = _redact(columns["raw_json"][i], gone)
    for name, values in columns.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pa.array(values, table.schema.field(name).type))
    return table, len(hits)


def _error_mask(table: pa.Table, posts: set[int], native: Iterable[str]) -> pa.Array:
    ids = pa.array(sorted(posts), pa.int64())
    mask = pc.fill_null(pc.is_in(table.column("post_id"), value_set=ids), False)
    raw = table.column("raw")
    for needle in native:
        if len(needle) >= MIN_RAW_ID:
            mask = pc.or_(mask, pc.fill_null(pc.match_substring(raw, needle), False))
    return mask


@dataclass
class _Change:
    """The files one forget writes and removes, and what it counted."""

    files: dict[str, pa.Table | bytes] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    removed_shas: set[str] = field(default_factory=set)


def _cut(lake: Lake, table: str, path: str, drop: pa.Array, change: _Change,
         rows: pa.Table | None = None) -> None:
    """Rewrite ``path`` without the rows ``drop`` marks (remove it when none is left)."""
    rows = rows if rows is not None else lake.read_file(path)
    drop = pc.fill_null(drop, False)
    gone = pc.sum(drop).as_py() or 0
    if table == "media_rekognition" and gone:
        change.removed_shas.update(s for s in rows.filter(drop).column("sha256").to_pylist()
                                   if s)
    kept = rows.filter(pc.invert(drop)) if gone else rows
    change.rows[table] = change.rows.get(table, 0) + gone
    if kept.num_rows == 0:
        change.remove.append(path)
        if table == "tweets":
            change.remove.append(done_marker(lake, path))
    else:
        change.files[path] = kept


def done_marker(lake: Lake, path: str) -> str:
    """The enrich marker of a tweets file (removed with the file)."""
    return lake.path(state.done_marker(path))


# --- photos ----------------------------------------------------------------------------


def photo_files(lake: Lake, sha256: str) -> list[str]:
    """Every file the lake keeps of one photo: its bytes and its cached analyses."""
    if not _SHA256.match(sha256):
        return []
    found = lake.fs.glob(lake.path(PHOTOS, sha256[:2], f"{sha256}.*"))
    found += lake.fs.glob(lake.path(CACHE, "*", sha256[:2], f"{sha256}.json"))
    return sorted(found)


def shown_photos(lake: Lake, skip: Iterable[str] = ()) -> set[str]:
    """The sha256 of every photo a ``media_rekognition`` row holds (but in ``skip``)."""
    skipped = set(skip)
    out: set[str] = set()
    for path in lake.files("media_rekognition"):
        if path in skipped:
            continue
        out.update(s for s in lake.read_file(path, ["sha256"]).column("sha256").to_pylist()
                   if s)
    return out


def _concepts_without(lake: Lake, shas: set[str]) -> bytes | None:
    """The concepts file without the examples that are these photos (None: unchanged)."""
    from socialsight.concepts import SCHEMA, Concepts

    concepts = Concepts.load(lake)
    changed = False
    for row in concepts.rows:
        for kind in ("example", "counter"):
            names = row.get(f"{kind}_sha256") or []
            if not any(s in shas for s in names):
                continue
            keep = [i for i, s in enumerate(names) if s not in shas]
            vectors = row.get(f"{kind}_embeddings") or []
            row[f"{kind}_sha256"] = [names[i] for i in keep]
            row[f"{kind}_embeddings"] = [vectors[i] for i in keep if i < len(vectors)]
            changed = True
    if not changed:
        return None
    return rows_bytes(SCHEMA, concepts.rows)


def _drop_photos(lake: Lake, shas: set[str], explicit: set[str], change: _Change,
                 rewritten: set[str]) -> int:
    """Add the files of photos no remaining row shows (and of ``explicit`` ones) to the
    change; returns how many photos go."""
    from socialsight.concepts import STORE

    candidates = shas | explicit
    if not candidates:
        return 0
    still = set()
    if shas - explicit:
        still = shown_photos(lake, skip=rewritten | set(change.remove))
        for path, rows in change.files.items():
            if isinstance(rows, pa.Table) and "/media_rekognition/" in path:
                still.update(s for s in rows.column("sha256").to_pylist() if s)
    going = {s for s in candidates if s in explicit or s not in still}
    for sha in sorted(going):
        change.remove.extend(photo_files(lake, sha))
    concepts = _concepts_without(lake, going)
    if concepts is not None:
        change.files[lake.path(STORE)] = concepts
    return len(going)


# --- the forget itself -----------------------------------------------------------------


def forget(lake: Lake, request: Request, *, dry_run: bool = False,
           progress: Progress = NO_PROGRESS) -> Summary:
    """Forget what ``request`` names, as one atomic change (the caller holds the lake's
    writer lock). ``progress`` hears the table "files" read."""
    for sha in request.photos:
        if not _SHA256.match(str(sha)):
            raise InputError(f"{sha!r} is not a photo's sha256 (64 lower-case hex digits; "
                             "the photo page and media_rekognition.sha256 show it)")
    summary = Summary(dry_run=dry_run)
    found = _resolve(lake, request)
    explicit = {str(s) for s in request.photos}
    summary.posts, summary.reposts = len(found.posts), len(found.reposts)
    summary.ids = set(found.posts)
    summary.quotes, summary.users = len(found.quotes), len(found.users)
    change = _Change()
    tables = [t for t in TABLES if t != "tweets"]
    paths = {t: (sorted(found.files) if t == "tweets" else lake.files(t)) for t in TABLES}
    progress.start("files", sum(len(p) for p in paths.values()))
    posts = pa.array(sorted(found.posts), pa.int64())
    photos = pa.array(sorted(explicit), pa.string())
    for table in ["tweets", *tables]:
        for path in paths[table]:
            progress.advance("files")
            if not found.posts and not (table == "media_rekognition" and explicit):
                continue
            column = POST_COLUMN[table]
            if table == "errors":
                keys = lake.read_file(path, [column, "raw"])
                drop = _error_mask(keys, found.posts, found.native.values())
            else:
                keys = lake.read_file(path, [column, "sha256"] if table == "media_rekognition"
                                      else [column])
                drop = pc.fill_null(pc.is_in(keys.column(column), value_set=posts), False)
                if table == "media_rekognition" and explicit:
                    drop = pc.or_(drop, pc.fill_null(pc.is_in(keys.column("sha256"),
                                                              value_set=photos), False))
            quoting = table == "tweets" and bool(found.quotes) and bool(
                set(found.quotes).intersection(keys.column(column).to_pylist()))
            if not quoting and not pc.any(drop).as_py():
                continue
            rows = lake.read_file(path)
            if quoting:
                rows, _ = _without_quotes(rows, found.quotes, found.native)
                change.files[path] = rows
            if pc.any(drop).as_py():
                _cut(lake, table, path, drop, change, rows)
    rewritten = {p for p in change.files if p.endswith(".parquet")}
    summary.photos = _drop_photos(lake, change.removed_shas, explicit, change, rewritten)
    summary.rows = change.rows
    summary.files_rewritten = len([p for p in change.files if p.endswith(".parquet")])
    summary.files_removed = len([p for p in change.remove if p.endswith(".parquet")])
    summary.not_found = [str(p) for p in request.posts
                         if str(p) not in found.matched and not _matched_by_id(p, found)]
    summary.not_found += [str(u) for u in request.users if not _user_matched(u, found)]
    if request.people:
        summary.people, summary.faces = _forget_people(lake, request.people, dry_run)
    if dry_run or not (change.files or change.remove):
        if not dry_run and (summary.people or summary.photos):
            _record(lake, request, found, summary, explicit, change)
        return summary
    _record(lake, request, found, summary, explicit, change)
    return summary


def _record(lake: Lake, request: Request, found: _Found, summary: Summary,
            explicit: set[str], change: _Change) -> None:
    """Write the audit record with the change it describes (one atomic change)."""
    from socialsight.people import person_id

    record = audit.Record(
        action="forget", reason=request.reason, post_ids=sorted(found.posts),
        user_ids=sorted(found.users), photo_sha256=sorted(explicit),
        person_ids=[person_id(p) for p in request.people] if summary.people else [],
        rows={k: v for k, v in summary.rows.items() if v},
        files={"rewritten": summary.files_rewritten, "removed": summary.files_removed},
        photos_removed=summary.photos)
    change.files[record.path(lake)] = record.dump()
    lake.change(change.files, change.remove)


def _matched_by_id(item: str, found: _Found) -> bool:
    text = str(item).strip()
    return text.isdigit() and int(text) in found.posts


def _user_matched(item: str, found: _Found) -> bool:
    text = str(item).strip()
    return text in found.matched or "@" + text.lstrip("@").casefold() in found.matched


def _forget_people(lake: Lake, people: Sequence[str], dry_run: bool) -> tuple[int, int]:
    """Remove enrolled people from the gallery and match every face again."""
    from socialsight.people import Gallery, rematch

    gallery = Gallery.load(lake)
    removed = 0
    for who in people:
        removed += gallery.remove(who) if not dry_run else sum(
            1 for p in gallery.people() if who in (p.get("name"), p.get("id")))
    if dry_run or not removed:
        return removed, 0
    gallery.save(lake, lock=False)
    return removed, rematch(lake, lock=False)[1]


# --- edits -----------------------------------------------------------------------------


def replace(lake: Lake, posts: pa.Table, forgotten: set[int] | None = None) -> int:
    """Write ``posts`` (``tweets`` rows with ``dt``: edited versions) in place of the
    versions the lake holds, as one atomic change: the old rows, their text analysis and
    the analysis of photos the new version no longer shows go; the new rows are a new
    file, so ``enrich`` analyses their text (and any new photo). An edit of a post the
    lake does not hold adds nothing (a filtered stream reports every edit on the network;
    :mod:`socialsight.sources.base`), nor one of a post in ``forgotten``. Returns how many
    posts were replaced. The caller holds the lake's writer lock."""
    from socialsight.lake.photos import analysed_items

    if posts.num_rows == 0:
        return 0
    ids = posts.column("id").to_pylist()
    last = {pid: i for i, pid in enumerate(ids)}  # of two edits of a post, the later one
    keep = sorted(i for pid, i in last.items() if pid not in (forgotten or set()))
    posts = posts.take(pa.array(keep, pa.int64())) if len(keep) < len(ids) else posts
    if posts.num_rows == 0:
        return 0
    wanted = set(posts.column("id").to_pylist())
    old: set[int] = set()
    files = set()
    for path in lake.files("tweets"):
        hits = wanted.intersection(_post_index(lake, path)["id"])
        if hits:
            old |= hits
            files.add(path)
    if not old:
        return 0
    if len(old) < len(wanted):
        posts = posts.filter(pc.is_in(posts.column("id"), value_set=pa.array(sorted(old),
                                                                              pa.int64())))
    items, owners = analysed_items(posts)
    media_ids = pc.struct_field(items, "id_str").to_pylist() if len(items) else []
    urls = pc.struct_field(items, "media_url_https").to_pylist() if len(items) else []
    still = {(posts.column("id")[int(o)].as_py(), m or u)
             for o, m, u in zip(owners, media_ids, urls, strict=True)}
    change = _Change()
    ids_array = pa.array(sorted(old), pa.int64())
    if old:
        for path in sorted(files):
            rows = lake.read_file(path)
            _cut(lake, "tweets", path, pc.is_in(rows.column("id"), value_set=ids_array),
                 change, rows)
        for table in TEXT_TABLES:
            for path in lake.files(table):
                keys = lake.read_file(path, ["tweetid"])
                drop = pc.is_in(keys.column("tweetid"), value_set=ids_array)
                if pc.any(pc.fill_null(drop, False)).as_py():
                    _cut(lake, table, path, drop, change)
        for path in lake.files("media_rekognition"):
            keys = lake.read_file(path, ["tweetid", "mediaid"])
            pairs = zip(keys.column("tweetid").to_pylist(), keys.column("mediaid").to_pylist(),
                        strict=True)
            drop = pa.array([t in old and (t, m) not in still for t, m in pairs], pa.bool_())
            if pc.any(drop).as_py():
                _cut(lake, "media_rekognition", path, drop, change)
    batch = content_id({"tweets": posts})
    for dt, part in split_by_partition(posts):
        change.files[lake.path("tweets", f"{PARTITION}={dt}", f"part-e{batch}.parquet")] = part
    rewritten = {p for p in change.files if p.endswith(".parquet")}
    photos = _drop_photos(lake, change.removed_shas, set(), change, rewritten)
    if old:
        record = audit.Record(action="edit", reason="edited on the platform",
                              post_ids=sorted(old), rows={k: v for k, v in change.rows.items()
                                                          if v},
                              photos_removed=photos)
        change.files[record.path(lake)] = record.dump()
    lake.change(change.files, change.remove)
    return len(old)


# --- a post's location only ------------------------------------------------------------

GEO_COLUMNS = ("coordinates", "geo", "place")


def scrub_geo(lake: Lake, deletions: Sequence[Deletion]) -> int:
    """Remove the location (``coordinates``, ``geo``, ``place``, in the columns and in
    ``raw_json``) of the posts ``deletions`` name — X's ``scrub_geo`` — as one atomic
    change; the posts stay. Returns how many posts changed. The caller holds the lock."""
    found = _resolve(lake, Request(deletions=deletions))
    named = found.posts - found.reposts
    if not named:
        return 0
    change = _Change()
    scrubbed: set[int] = set()  # posts that had a location (scrubbing again changes nothing)
    for path in sorted(found.files):
        rows = lake.read_file(path)
        ids = rows.column("id").to_pylist()
        hits = [i for i, pid in enumerate(ids) if pid in named]
        if not hits:
            continue
        columns = {name: rows.column(name).to_pylist() for name in (*GEO_COLUMNS, "raw_json")}
        for i in hits:
            raw = _without_keys(columns["raw_json"][i], GEO_COLUMNS)
            if raw == columns["raw_json"][i] and all(columns[n][i] is None for n in GEO_COLUMNS):
                continue
            for name in GEO_COLUMNS:
                columns[name][i] = None
            columns["raw_json"][i] = raw
            scrubbed.add(ids[i])
        if not scrubbed.intersection(ids[i] for i in hits):
            continue
        for name, values in columns.items():
            index = rows.schema.get_field_index(name)
            rows = rows.set_column(index, name, pa.array(values, rows.schema.field(name).type))
        change.files[path] = rows
    if not scrubbed:
        return 0
    record = audit.Record(action="scrub_geo", reason="location removed on the platform",
                          post_ids=sorted(scrubbed), rows={"tweets": len(scrubbed)})
    change.files[record.path(lake)] = record.dump()
    lake.change(change.files, change.remove)
    return len(scrubbed)


def _without_keys(raw: str | None, keys: Iterable[str]) -> str | None:
    """``raw`` (a post's JSON) without these keys, at any depth (None if it is not JSON)."""
    if not raw:
        return raw
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    drop = set(keys)
    if not any(f'"{key}"' in raw for key in drop):
        return raw  # as it was (a rewrite would change nothing but its spacing)

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items() if k not in drop}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return orjson.dumps(walk(body)).decode()


# --- platform deletions ----------------------------------------------------------------


class Forgetter:
    """What ``import``, ``collect`` and ``run`` call with the deletions and edits the
    platforms send (``collect.honour_deletions``): forgets and replaces under the lock
    the caller holds, and remembers what it did."""

    def __init__(self, lake: Lake, on_forget: Callable[[Summary], None] | None = None) -> None:
        self.lake = lake
        self.forgotten = 0
        self._deny: set[int] | None = None  # the audit log's forgotten posts, read once
        self.replaced = 0
        self.on_forget = on_forget

    def __call__(self, deletions: Sequence[Deletion], edits: pa.Table | None = None,
                 ) -> set[int]:
        """Apply ``deletions`` and ``edits``; returns the ids of the posts forgotten."""
        gone: set[int] = set()
        geo = [d for d in deletions if not d.forgets_post]
        if geo:
            scrub_geo(self.lake, geo)
        deletions = [d for d in deletions if d.forgets_post]
        if deletions:
            by_reason: dict[str, list[Deletion]] = {}
            for deletion in deletions:
                by_reason.setdefault(deletion.reason, []).append(deletion)
            for reason, group in by_reason.items():
                words = REASONS.get(reason, (reason, True))[0]
                summary = forget(self.lake, Request(deletions=group, reason=words))
                self.forgotten += summary.posts
                gone |= summary.ids
                if self._deny is not None:
                    self._deny |= summary.ids
                if self.on_forget is not None and summary.changed:
                    self.on_forget(summary)
        if edits is not None and edits.num_rows:
            if self._deny is None:
                self._deny = audit.forgotten(self.lake).posts
            self.replaced += replace(self.lake, edits, self._deny)
        return gone

