"""The ``socialsight`` command: each subcommand parses its input and calls one module."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from socialsight import __version__
from socialsight.config import load_settings
from socialsight.errors import ConfigError, SocialsightError
from socialsight.lake.stages import Stage
from socialsight.progress import Kind

console = Console()
err_console = Console(stderr=True)


class _Group(typer.core.TyperGroup):
    """Turns socialsight's own errors into a one-line message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SocialsightError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=_Group,
    name="socialsight",
    help=(
        "Understand what social-media images say, on your own machine.\n\n"
        "Collect posts, keep them in a Parquet lake, analyse every photo with local "
        "models (labels, moderation, text, faces, known people), and explore it all with "
        "the Athena SQL of the AWS 'Exploring images on social media' post.\n\n"
        "Start with:  socialsight import posts.jsonl  then  socialsight enrich  then  "
        "socialsight query --seed top_labels"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

LakeOption = Annotated[
    str | None,
    typer.Option(
        "--lake", help="Lake folder or fsspec URL (s3://bucket/prefix). "
        "Default: SOCIALSIGHT_LAKE, then 'lake' in socialsight.toml, then ./lake.",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (default: ./socialsight.toml if present).",
                 show_default=False),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` (plain text: what a user typed is shown as typed) as an error."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False,
                      soft_wrap=True)
    return typer.Exit(code)


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 photo``, ``2 photos`` (``nouns``: the plural, where it is not noun + s)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def _version(value: bool) -> None:
    if value:
        console.print(f"socialsight {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    log_level: Annotated[str, typer.Option(
        "--log-level", envvar="SOCIALSIGHT_LOG_LEVEL",
        help="Show log messages at this level and above, on stderr: debug, info, warning, "
        "error or critical.")] = "warning",
) -> None:
    from socialsight.logs import configure

    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        configure(log_level, err_console)
    except ConfigError as exc:
        raise _fail(str(exc), 2) from exc


@app.command("import")
def import_(
    files: Annotated[list[str], typer.Argument(
        help="JSONL, JSON array or JSON files (.gz too), folders of them (not their "
        "subfolders), or - for stdin: X API v1.1 statuses, v2 responses, twarc2 flattened "
        "lines, saved Bluesky Jetstream and Mastodon streams. Formats are detected per "
        "record.", show_default=False)],
    lake: LakeOption = None,
    config: ConfigOption = None,
    batch_size: Annotated[int | None, typer.Option(
        help="Posts per committed batch (default: ingest.batch_size, 50000).", min=1,
        show_default=False)] = None,
) -> None:
    """Import posts from files into the lake.

    Posts already in the lake are skipped (by post id), so importing a file twice,
    or files that overlap, never duplicates a post. Unreadable records become rows
    of the errors table (see `socialsight errors`) and the import goes on.
    """
    from socialsight.forget import Forgetter
    from socialsight.ingest import files_to_import, import_files
    from socialsight.lake.store import Lake

    settings = load_settings(config, lake=lake)
    files = files_to_import(files)  # before the lake exists: a typo creates nothing
    store = Lake(settings.lake)
    forgetter = Forgetter(store) if settings.collect.honour_deletions else None
    with _Bars({"bytes": "importing"}, BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn()) as bars:
        summary = import_files(store, files, batch_size or settings.ingest.batch_size, bars,
                               forgetter)
    table = Table(title=f"Imported into {store.url}", show_header=False)
    rows = [("files", summary.files), ("posts written", summary.written),
            ("duplicates skipped", summary.duplicates), ("photos found", summary.photos),
            ("bad records", summary.bad), ("stream control messages", summary.control)]
    if summary.forgotten:
        rows.append(("posts forgotten before, left out", summary.forgotten))
    if summary.deletions or summary.edits:
        applied = forgetter is not None
        rows += [("deletions read" + ("" if applied else " (not applied: "
                                      "collect.honour_deletions is false)"), summary.deletions),
                 ("edits read", summary.edits)]
        if forgetter is not None:
            rows += [("posts forgotten", forgetter.forgotten),
                     ("posts replaced by their edit", forgetter.replaced)]
    for label, value in rows:
        table.add_row(label, f"{value:,}")
    console.print(table)
    if summary.formats:
        console.print("formats: " + ", ".join(f"{k} {v:,}" for k, v in summary.formats.items()))
    if summary.bad:
        console.print(f"[yellow]{summary.bad:,} bad records:[/] see `socialsight errors`")
    if not summary.read_anything:
        raise _fail("nothing could be read from " + ", ".join(files))


# The stages an error row can have (``errors.stage``), as their writers name them.
ERROR_STAGES = tuple(Stage)


@app.command()
def errors(
    lake: LakeOption = None,
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="Most recent rows to show.", min=1)] = 50,
    stage: Annotated[str | None, typer.Option(
        help=f"Only this stage: {', '.join(ERROR_STAGES)}.", show_default=False)] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Also show photo errors that `socialsight retry` has since fixed.")
    ] = False,
) -> None:
    """List what could not be read or analysed: where, and why."""
    from socialsight.api import existing_lake
    from socialsight.lake.errors import unresolved

    if stage is not None and stage not in ERROR_STAGES:
        raise _fail(f"no stage {stage!r}: choose one of {', '.join(ERROR_STAGES)}", 2)
    settings = load_settings(config, lake=lake)
    store = existing_lake(settings.lake)
    rows = unresolved(store, stage=None if stage is None else Stage(stage),
                      include_resolved=show_all)
    if rows.num_rows == 0:
        console.print("no errors recorded")
        return
    total = rows.num_rows
    rows = rows.sort_by([("occurred_at", "descending"), ("source", "ascending"),
                         ("line", "ascending")])
    rows = rows.select(["occurred_at", "stage", "source", "line", "reason"])
    _print_table(rows, limit, title=f"{total:,} errors", total=total)


@app.command()
def query(
    sql: Annotated[str | None, typer.Argument(help="The SQL statement (Athena dialect).",
                                              show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("-f", "--file", help="Read the SQL from a file.",
                                              show_default=False)] = None,
    seed: Annotated[str | None, typer.Option(help="Run one of the seed's queries by name "
                                             "(`socialsight examples` lists them).",
                                             show_default=False)] = None,
    dialect: Annotated[str | None, typer.Option(help="athena, presto, trino or duckdb "
                                                "(default: query.dialect, athena).",
                                                show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file.",
                                                show_default=False)] = None,
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Run read-only SQL over the lake's tables and the seed's views.

    Tables: tweets, tweet_sentiments, tweet_entities, media_rekognition, errors;
    the seed's views: media_image_labels_query, media_image_labels_face_query,
    celeb_view; and tweet_photos, photo_versions (look-alikes), brands, brand_mentions
    and concept_hits — each also as socialanalyticsblog.<name>. SQL is Athena/Presto/
    Trino by default; `socialsight examples` lists ready queries.
    """
    from socialsight.api import open_lake, seed_queries
    from socialsight.query import output as out

    settings = load_settings(config, lake=lake)
    text = _sql_from(sql, file, seed, seed_queries())
    if fmt not in out.FORMATS:
        raise _fail(f"unknown format {fmt!r}: choose one of {', '.join(out.FORMATS)}", 2)
    if fmt == "parquet" and output is None:
        raise _fail("--format parquet needs -o PATH", 2)
    if output is not None and fmt == "table":  # a file: as its name says, else CSV
        fmt = {".json": "json", ".parquet": "parquet"}.get(output.suffix.lower(), "csv")
    # Rows are read batch by batch: a result of any size is written in little memory.
    with open_lake(settings=settings) as handle, handle.stream(text, dialect) as rows:
        if fmt == "table":
            _print_first(rows, settings.query.max_rows)
            return
        written = out.write(rows.schema, rows, fmt, output)
    if output is not None:
        err_console.print(f"{written:,} rows written to {output}")


def _sql_from(sql: str | None, file: Path | None, seed: str | None,
              seeds: dict[str, str]) -> str:
    given = [x for x in (sql, file, seed) if x is not None]
    if len(given) != 1:
        raise _fail("give exactly one of: SQL, -f FILE or --seed NAME", 2)
    if seed is not None:
        if seed not in seeds:
            raise _fail(f"no seed query {seed!r}; known: {', '.join(seeds)}", 2)
        return seeds[seed]
    if file is not None:
        try:
            return file.read_text()
        except OSError as exc:
            raise _fail(f"cannot read {file}: {exc.strerror}", 2) from exc
    return str(sql)


@app.command()
def analyze(
    photo: Annotated[str, typer.Argument(
        help="A photo file, or an http(s) URL (fetched through the same guards as the "
        "pipeline: public addresses only unless fetch.allow_hosts says otherwise).",
        show_default=False)],
    config: ConfigOption = None,
    fmt: Annotated[str, typer.Option("--format", help="rekognition (the API's field names) "
                                     "or lake (the image_labels struct as stored).")
                   ] = "rekognition",
    min_confidence: Annotated[float | None, typer.Option(
        help="Drop labels below this confidence, 0-100 (default: vision.min_confidence).",
        min=0, max=100, show_default=False)] = None,
    max_labels: Annotated[int | None, typer.Option(
        help="Keep at most this many labels (default: vision.max_labels).", min=1,
        show_default=False)] = None,
    gate: Annotated[bool | None, typer.Option(
        "--gate/--no-gate", help="Read text only when there is a Text label and look for "
        "faces only when there is a Person (default: vision.gate, on).",
        show_default=False)] = None,
    lake: LakeOption = None,
) -> None:
    """Show what the local models see in one photo, as JSON.

    Labels with their parents and object boxes, moderation labels, the text in the
    photo, the faces (box, landmarks, pose, quality, age range, gender, smile, eyes,
    mouth, emotions) and the known people of the lake's gallery, under Rekognition's
    field names. What the models cannot tell (eyeglasses, beard, ...) is null. Nothing
    leaves the machine but the download of a URL you give.
    """
    import orjson

    from socialsight.api import photo_result

    if fmt not in ("rekognition", "lake"):
        raise _fail(f"unknown format {fmt!r}: choose rekognition or lake", 2)
    settings = load_settings(config, lake=lake)
    vision = settings.vision.model_copy(update={
        k: v for k, v in (("min_confidence", min_confidence), ("max_labels", max_labels),
                          ("gate", gate)) if v is not None})
    result = photo_result(photo, settings=settings.model_copy(update={"vision": vision}))
    body = result.rekognition() if fmt == "rekognition" else result.image_labels()
    sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
    if result.errors:
        raise typer.Exit(1)


class _Bars:
    """The CLI's one :class:`socialsight.progress.Progress`: a transient Rich display on
    stderr with a bar for each kind of work in ``labels`` (its label first, then
    ``columns``); a kind started with a total of 0 shows no bar, other kinds none."""

    def __init__(self, labels: dict[Kind, str], *columns: ProgressColumn) -> None:
        self.labels = labels
        self.display = Progress(TextColumn("{task.description}"), *columns,
                                console=err_console, transient=True)
        self.tasks: dict[Kind, TaskID] = {}

    def __enter__(self) -> _Bars:
        self.display.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.display.stop()

    def start(self, kind: Kind, total: int | None) -> None:
        if kind in self.labels:
            self.tasks[kind] = self.display.add_task(self.labels[kind], total=total,
                                                     visible=total != 0)

    def advance(self, kind: Kind, n: int = 1) -> None:
        if kind in self.tasks:
            self.display.advance(self.tasks[kind], n)


def _rematch_bars() -> _Bars:
    return _Bars({"files": "rematching"}, BarColumn(), MofNCompleteColumn(), TextColumn("files"))


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        unit = "posts/s" if "post" in str(task.description) else "photos/s"
        return Text("" if speed is None else f"{speed:,.1f} {unit}")


def _enrich_report(title: str, summary: Any, elapsed: float) -> None:
    table = Table(title=title, show_header=False)
    rate = summary.photos / elapsed if elapsed > 0 else 0.0
    for label, value in (
        ("posts read (sentiment, entities, language)", f"{summary.posts:,}"),
        ("photos written", f"{summary.photos:,}"),
        ("distinct photos analysed", f"{summary.analysed:,}"),
        ("already analysed (cache)", f"{summary.cached:,}"),
        ("with errors", f"{summary.failed:,}"),
        ("photos/s", f"{rate:.1f}"),
    ):
        table.add_row(label, value)
    console.print(table)
    if summary.failed or summary.posts_failed:
        console.print(f"[yellow]{summary.failed:,} photos and {summary.posts_failed:,} posts "
                      "could not be fully analysed:[/] see `socialsight errors`, then "
                      "`socialsight retry`")


ExecutorOption = Annotated[
    Literal["local", "ray"] | None,
    typer.Option(help="Analyse in worker processes here (local) or on Ray actors (ray; "
                 "see docs/ray.md). Default: enrich.executor, local.", show_default=False),
]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", help="The Ray cluster to join: auto, HOST:PORT or "
                 "ray://HOST:PORT (implies --executor ray). Default: enrich.ray_address; "
                 "unset, a local cluster is started for the run.", show_default=False),
]


@app.command()
def enrich(
    lake: LakeOption = None,
    config: ConfigOption = None,
    workers: Annotated[int | None, typer.Option(
        help="Processes (or Ray actors) analysing photos (default: enrich.workers; 0 = one "
        "per CPU core).", min=0, show_default=False)] = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
    gate: Annotated[bool | None, typer.Option(
        "--gate/--no-gate", help="Read text only in photos labelled Text and look for "
        "faces only in photos with a Person (default: vision.gate, on).",
        show_default=False)] = None,
) -> None:
    """Analyse every imported post and photo not analysed yet.

    Each post's text gets its language, sentiment, entities and key phrases
    (tweet_sentiments, tweet_entities, tweet_keyphrases; English only, other languages
    get their language and the reason). Each photo is fetched (through the fetch
    guards), kept once in the lake by its sha256, and run through the local models:
    labels and objects, moderation, text, faces with their attributes, and the known
    people you enrolled (`socialsight people add`). Batches commit atomically: stop it
    at any point (even kill -9) and run it again to go on where it stopped, with
    nothing lost or doubled. What fails becomes an error row; `socialsight retry`
    tries those again.
    """
    import time

    from socialsight.enrich import Enricher, Plan
    from socialsight.lake.store import Lake

    settings = _enrich_settings(config, lake, workers, gate, executor, address)
    store = Lake(settings.lake)
    if not store.has_data("tweets"):
        raise _fail(f"no posts in {store.url}: run `socialsight import FILE` first")
    plan = Plan(store, settings.vision.previews)
    if not plan.total and not plan.total_posts:
        console.print("everything is analysed already: no new posts or photos")
        Enricher(store, settings).run(plan)  # marks the files done
        return
    started = time.perf_counter()
    with _Bars({"posts": "reading posts", "photos": "analysing photos"}, BarColumn(),
               MofNCompleteColumn(), _RateColumn(), TimeRemainingColumn()) as bars:
        summary = Enricher(store, settings, bars).run(plan)
    _enrich_report(f"Enriched {store.url}", summary, time.perf_counter() - started)


@app.command()
def run(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Sources to collect from (default: collect.sources in the config): "
        "file:PATH (a JSON-lines file or folder, followed as it grows), bluesky:#TAG, "
        "mastodon:HOST#TAG, x:search:QUERY, x:stream:RULE.", show_default=False)] = None,
    lake: LakeOption = None,
    config: ConfigOption = None,
    enrich_posts: Annotated[bool, typer.Option(
        "--enrich/--no-enrich", help="Analyse posts and photos as they land.")] = True,
    once: Annotated[bool, typer.Option(
        "--once", help="Read file: sources to their end, analyse everything, and exit "
        "(instead of following them).")] = False,
    workers: Annotated[int | None, typer.Option(
        help="Processes analysing photos and text (default: enrich.workers).", min=0,
        show_default=False)] = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
) -> None:
    """Collect posts continuously and analyse them as they land, until Ctrl-C.

    Posts are committed in batches (by count, size or age: collect.batch_*), each
    source's position is saved in the lake after every batch, and a restart goes on
    from there with nothing lost or doubled. New batches are analysed as in
    `socialsight enrich` while collection goes on. Ctrl-C (or SIGTERM) commits what was
    collected and stops after the analysis batch in hand.

    Examples:  socialsight run file:incoming/   ·   socialsight run bluesky:#kindle
    mastodon:mastodon.social#books   ·   socialsight run x:search:kindle
    """
    from rich.live import Live

    from socialsight.lake.store import Lake
    from socialsight.pipeline import Pipeline, Status
    from socialsight.sources.follow import FollowFiles
    from socialsight.sources.spec import parse

    settings = _enrich_settings(config, lake, workers, None, executor, address)
    specs = list(sources or settings.collect.sources)
    if not specs:
        raise _fail("name a source to collect from, e.g. `socialsight run file:posts.jsonl` "
                    "or `socialsight run bluesky:#kindle` (see --help)", 2)
    chosen = [parse(spec, settings.collect) for spec in specs]
    if once:
        for source in chosen:
            if isinstance(source, FollowFiles):
                source.follow = False
    store = Lake(settings.lake)

    def line(status: Status) -> Text:
        c, e = status.collect, status.enrich
        text = (f"collected {c.posts:,} posts ({c.posts_per_second:,.1f}/s, "
                f"{c.duplicates:,} duplicates, {c.problems:,} problems) · analysed "
                f"{e.posts:,} posts and {e.photos:,} photos"
                f"{f' · forgot {status.forgotten:,}' if status.forgotten else ''}"
                f"{f' · {status.replaced:,} edited' if status.replaced else ''}"
                f"{' · analysing…' if status.enriching else ''}")
        return Text(text + (f" · {status.error}" if status.error else ""))

    pipeline = Pipeline(store, settings, chosen, enrich=enrich_posts)
    with Live(line(pipeline.status), console=err_console, transient=True,
              refresh_per_second=4) as live:
        status = pipeline.run(on_tick=lambda st: live.update(line(st)))
    console.print(line(status))
    if status.error:
        raise typer.Exit(1)


FORGET_WAIT_SECONDS = 10.0


@app.command()
def forget(
    post: Annotated[list[str] | None, typer.Option(
        "--post", help="A post: its id (tweets.id) or its platform's id (tweets.id_str: a "
        "tweet id, an at:// URI, a Mastodon status URI). Repeat for more.",
        show_default=False)] = None,
    user: Annotated[list[str] | None, typer.Option(
        "--user", help="Every post of an account: its id, or @handle. Repeat for more.",
        show_default=False)] = None,
    photo: Annotated[list[str] | None, typer.Option(
        "--photo", help="A photo, by its sha256 (media_rekognition.sha256, shown on its "
        "photo page), wherever it appears. Repeat for more.", show_default=False)] = None,
    person: Annotated[list[str] | None, typer.Option(
        "--person", help="An enrolled person (name or id): their faces and every match.",
        show_default=False)] = None,
    from_file: Annotated[Path | None, typer.Option(
        "--from", help="A file of deletions: an X compliance job's result file (JSON "
        "lines), or ids, one a line (tweet ids, at:// URIs, status URLs).",
        show_default=False)] = None,
    users_file: Annotated[bool, typer.Option(
        "--users", help="--from FILE holds accounts (an X users compliance job's result, "
        "or user ids), not posts: every post of each goes.")] = False,
    reason: Annotated[str, typer.Option(
        help="Why, in a few words: kept in the audit log (never the content).")]
        = "requested",
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would go, and change nothing.")] = False,
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove posts, accounts, photos or people from the lake, for good.

    A forgotten post leaves every table (its text analysis, its photos' analysis,
    embeddings, brand and concept hits, its error rows), with its reposts; posts that
    quote it keep their own text with the quote cut out. Its photos leave the photo
    store and the analysis cache once no other post shows them. The change is atomic:
    a reader sees the lake before or after it, and a forget cut off half-way is
    finished by the next command that writes to the lake. The audit log (_audit/ in
    the lake) records what went, when and why, by id and count only; a re-import or a
    replayed stream does not bring a forgotten post or photo back.

    Examples:  socialsight forget --post 1491234567890123456 --reason "user request"
    · socialsight forget --user @someone --dry-run · socialsight forget --from
    compliance-result.json · socialsight forget --person "Ada Lovelace"

    See docs/privacy.md for what is kept where and for how long.
    """
    from socialsight.errors import LakeBusyError
    from socialsight.forget import Request, scrub_geo
    from socialsight.forget import forget as forget_
    from socialsight.lake.store import Lake
    from socialsight.posts.compliance import read_deletions

    deletions: list[Any] = []
    if from_file is not None:
        if not from_file.is_file():
            raise _fail(f"no such file: {from_file}", 2)
        deletions, bad = read_deletions(str(from_file), "users" if users_file else None)
        for line in bad[:5]:
            err_console.print(f"[yellow]{from_file}:{line.line}:[/] {escape(line.reason)}",
                              highlight=False)
        if bad:
            err_console.print(f"[yellow]{len(bad):,} line(s) of {from_file} name nothing "
                              "to forget[/] (the others are applied)")
    blank = [f"--{name}" for name, values in (("post", post), ("user", user),
                                              ("person", person))
             if any(not str(v).strip() or str(v).strip() == "@" for v in values or ())]
    if blank:
        raise _fail(f"{', '.join(blank)} needs a value that is not blank", 2)
    geo = [d for d in deletions if not d.forgets_post]  # X's scrub_geo: the location only
    forgets = [d for d in deletions if d.forgets_post]
    if forgets and reason == "requested":  # X's own reasons, where the file gives them
        reason = "from a deletions file: " + ", ".join(sorted({d.reason for d in forgets}))
    request = Request(posts=post or [], users=user or [], photos=photo or [],
                      people=person or [], deletions=forgets, reason=reason)
    if not request and not geo:
        if from_file is not None:
            raise _fail(f"{from_file} names nothing to forget")
        raise _fail("name what to forget: --post, --user, --photo, --person or --from FILE "
                    "(see --help)", 2)
    settings = load_settings(config, lake=lake)
    store = Lake(settings.lake)
    if store.local and not os.path.isdir(store.root):
        raise _fail(f"there is no lake at {store.url} (nothing to forget; "
                    "--lake names another)")
    try:
        with store.lock_within(FORGET_WAIT_SECONDS):
            store.recover()
            summary = forget_(store, request, dry_run=dry_run)
            scrubbed = scrub_geo(store, geo) if geo and not dry_run else 0
    except LakeBusyError as exc:
        raise _fail(f"{exc} (a running `socialsight run` holds the lake: "
                    "stop it, or let it apply platform deletions itself)") from exc
    verb = "would be" if dry_run else "was"
    table = Table(title=f"{'Dry run: nothing changed in' if dry_run else 'Forgotten from'} "
                  f"{store.url}", show_header=False)
    for label, value in (("posts", summary.posts), ("  of which reposts", summary.reposts),
                         ("accounts", summary.users), ("quoting posts cut", summary.quotes),
                         ("photos removed", summary.photos),
                         ("enrolled faces removed", summary.people),
                         ("photos re-matched", summary.faces),
                         ("table files rewritten", summary.files_rewritten),
                         ("table files removed", summary.files_removed)):
        table.add_row(label, f"{value:,}")
    for name, count in sorted(summary.rows.items()):
        if count:
            table.add_row(f"rows of {name}", f"{count:,}")
    console.print(table)
    if summary.not_found:
        shown = ", ".join(escape(n) for n in summary.not_found[:10])
        err_console.print(f"[yellow]not in the lake:[/] {shown}"
                          f"{' …' if len(summary.not_found) > 10 else ''}", highlight=False)
    if scrubbed:
        console.print(f"location removed from {scrubbed:,} post(s) (scrub_geo)")
    if not summary.changed and not scrubbed:
        console.print(f"nothing {verb} forgotten")


@app.command()
def retry(
    lake: LakeOption = None,
    config: ConfigOption = None,
    workers: Annotated[int | None, typer.Option(
        help="Processes analysing photos (default: enrich.workers).", min=0,
        show_default=False)] = None,
) -> None:
    """Analyse again every photo (fetch, decode, models) and post whose analysis failed.

    Their rows in media_rekognition are replaced in place; errors that are fixed are
    no longer listed by `socialsight errors` (`--all` still shows them).
    """
    import time

    from socialsight.enrich import Enricher
    from socialsight.lake.errors import failed_photos, failed_posts
    from socialsight.lake.store import Lake

    settings = _enrich_settings(config, lake, workers, None)
    store = Lake(settings.lake)
    total = failed_photos(store)
    if not total and not failed_posts(store):
        console.print("nothing to retry: no photo or post has an error")
        return
    started = time.perf_counter()
    with _Bars({"photos": "retrying"}, BarColumn(), MofNCompleteColumn(), TextColumn("photos"),
               _RateColumn(), TimeRemainingColumn()) as bars:
        summary = Enricher(store, settings, bars).retry()
    _enrich_report(f"Retried in {store.url}", summary, time.perf_counter() - started)


COMPACT_LOCK_WAIT_SECONDS = 10.0  # compact waits this long for another writer to finish


@app.command()
def compact(
    lake: LakeOption = None,
    config: ConfigOption = None,
    table: Annotated[list[str] | None, typer.Option(
        "--table", help="Only this table (repeat for more): tweets, tweet_sentiments, "
        "tweet_entities, tweet_keyphrases, media_rekognition or errors. Default: all.",
        show_default=False)] = None,
    dt: Annotated[list[str] | None, typer.Option(
        "--dt", help="Only this day's partition, YYYY-MM-DD (repeat for more). Default: "
        "every day.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would be merged (reading only the files' footers); "
        "change nothing.")] = False,
) -> None:
    """Apply the retention windows, then merge each day's many small Parquet files into a
    few large ones, so queries stay fast.

    Retention (retention.posts_days, photos_days, faces_days; unset by default) removes
    what is older than its window first: see docs/privacy.md.

    `socialsight run` commits a small file per table and day about every minute: after
    weeks, ~1,440 files per table and day, and every query opens them all. compact
    merges a day's small files into files of up to 128 MiB: the same rows, the same
    values, the table's full columns. Each merged file replaces the files it merges in
    one atomic change (queries running meanwhile see the old files or the new one; after
    a kill -9 the next command finishes it), and running it again changes nothing.
    Posts enrich has not finished analysing are left until it has; a file that cannot be
    read is left in place and named.

    `socialsight run` compacts once a day by itself; run this by hand when `run` is not
    running (after many small imports, or after `enrich` has caught up with a
    `run --no-enrich`). It waits a few seconds for another process writing to the lake,
    then stops: it cannot merge while `run` holds the lake.
    """
    from datetime import date

    from socialsight.api import existing_lake
    from socialsight.errors import LakeBusyError
    from socialsight.lake.compact import compact as compact_lake
    from socialsight.lake.schema import TABLES
    from socialsight.retention import apply as retain

    unknown = [name for name in table or () if name not in TABLES]
    if unknown:
        raise _fail(f"no table {unknown[0]!r}: choose from {', '.join(TABLES)}", 2)
    for day in dt or ():
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise _fail(f"--dt {day!r} is not a day: write it as YYYY-MM-DD", 2) from exc
    settings = load_settings(config, lake=lake)
    store = existing_lake(settings.lake)
    try:
        with store.lock_within(COMPACT_LOCK_WAIT_SECONDS), \
                _Bars({"files": "compacting"}, BarColumn(), MofNCompleteColumn(),
                      TextColumn("files")) as bars:
            kept = retain(store, settings.retention, dry_run=dry_run)
            summary = compact_lake(store, tables=table, partitions=dt, progress=bars,
                                   dry_run=dry_run)
    except LakeBusyError as exc:
        raise _fail(f"the lake is busy: another socialsight process (run, enrich, import…) "
                    f"is writing to {store.url}; try again when it is done (`run` compacts "
                    "once a day by itself)") from exc
    if kept.changed:
        verb = "would go" if dry_run else "went"
        console.print(f"retention: {len(kept.partitions):,} day(s) of posts, "
                      f"{kept.photos:,} photo(s), the embeddings of {kept.photo_rows:,} and the "
                      f"face embeddings of {kept.face_rows:,} photo row(s) {verb}")
    _compact_report(store.url, summary)


def _compact_report(url: str, summary: Any) -> None:
    verb = "would merge" if summary.dry_run else "merged"
    view = Table(title=f"What compact would do to {url} (dry run: nothing changed)"
                 if summary.dry_run else f"Compacted {url}")
    for name in ("table", "days changed", "files before → after", "size before → after",
                 f"rows {verb}"):
        view.add_column(name, justify="left" if name == "table" else "right")
    for done in summary.tables.values():
        if not done.files_before:
            continue
        approx = "≈" if summary.dry_run and done.changed else ""
        view.add_row(done.table, f"{done.partitions:,}",
                     f"{done.files_before:,} → {done.files_after:,}",
                     f"{_size(done.bytes_before)} → {approx}{_size(done.bytes_after)}",
                     f"{done.rows:,}")
    console.print(view)
    if not summary.changed:
        console.print("nothing to merge: no day has small files left to merge")
    waiting = summary.tables.get("tweets")
    if waiting is not None and waiting.waiting:
        console.print(f"{waiting.waiting:,} tweets files are left until enrich has analysed "
                      "their posts (`socialsight enrich`)")
    for what, paths in (("cannot be read", summary.damaged),
                        ("do not fit the tables' columns", summary.unfit)):
        if paths:
            console.print(f"[yellow]{len(paths):,} files {what} and were left in place:[/] "
                          + ", ".join(escape(p) for p in paths[:5])
                          + (", …" if len(paths) > 5 else ""), soft_wrap=True)


def _size(n: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    step = 0
    while n >= 1024 and step < len(units) - 1:
        n, step = n / 1024, step + 1
    return f"{n:,.0f} B" if step == 0 else f"{n:,.1f} {units[step]}"


def _enrich_settings(config: Path | None, lake: str | None, workers: int | None,
                     gate: bool | None, executor: Literal["local", "ray"] | None = None,
                     address: str | None = None) -> Any:
    settings = load_settings(config, lake=lake)
    if workers is not None:
        settings.enrich.workers = workers
    if gate is not None:
        settings.vision.gate = gate
    if address is not None:
        if executor == "local":
            raise _fail("--address names a Ray cluster: it goes with --executor ray", 2)
        settings.enrich.ray_address, executor = address, "ray"
    if executor is not None:
        settings.enrich.executor = executor
    if settings.enrich.executor == "ray":
        from socialsight.scale.ray import check

        check(settings)  # a missing Ray or a dead address: one line now, not mid-run
    return settings


brands_app = typer.Typer(cls=_Group, no_args_is_help=True, help=(
    "Brands: enrol a logo or a word mark and find it in every photo.\n\n"
    "socialsight's stand-in for Rekognition Custom Labels: each photo is searched for each "
    "brand's logo (by its local features, whatever its size, angle and lighting) and its "
    "words (in the text read in the photo); what is found lands in media_rekognition's "
    "image_labels.customlabels, and the brand_mentions view puts mentions in photos beside "
    "mentions in the posts' text."))
app.add_typer(brands_app, name="brands")


def _rescan_bars() -> _Bars:
    return _Bars({"photos": "looking for brands"}, BarColumn(), MofNCompleteColumn(),
                 TextColumn("photos"), _RateColumn())


def _rescan(store: Any) -> None:
    from socialsight.brands import rescan

    try:
        with _rescan_bars() as bars:
            done = rescan(store, bars)
    except KeyboardInterrupt:
        err_console.print("interrupted: the brands are saved, but only some past photos were "
                          "searched again; run `socialsight brands rescan` to finish",
                          highlight=False)
        raise typer.Exit(130) from None
    note = ""
    if done.decoded:
        note = (f"; {_plural(done.decoded, 'photo')} had no local features kept and "
                f"{'was' if done.decoded == 1 else 'were'} read from the photo store (kept "
                "from now on)")
    if done.missing:
        note += (f"; {_plural(done.missing, 'photo')} {'was' if done.missing == 1 else 'were'} "
                 "neither kept nor stored, so only their text was searched")
    console.print(f"{done.changed:,} of {_plural(done.photos, 'photo')} changed their brands"
                  f"{note}", highlight=False)


@brands_app.command("add")
def brands_add(
    name: Annotated[str, typer.Argument(help="The brand's name, as queries will show it.",
                                        show_default=False)],
    logos: Annotated[list[str] | None, typer.Argument(
        help="Images of its logo (files or http(s) URLs): a PNG with transparency, cropped "
        "to the logo, is best; one per version of the logo (with and without the word, "
        "light and dark).", show_default=False)] = None,
    text: Annotated[list[str] | None, typer.Option(
        "--text", help="A word or phrase that names the brand in a photo (repeatable; "
        "case does not matter; one misread look-alike letter, such as 1 for i, is forgiven "
        "in words of 5 letters or more, any one letter in words of 8 or more, never a "
        "letter more or less). Default: the brand's name.",
        show_default=False)] = None,
    rescan: Annotated[bool, typer.Option(
        help="Look for the brand in every photo analysed before, now.")] = True,
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Enrol a brand by its logo images and/or its words, and find it in past photos.

    Examples:

      socialsight brands add Acme acme-logo.png acme-logo-dark.png --text ACME

      socialsight brands add "Blue Bottle" --text "Blue Bottle"

    A brand enrolled before (the same name, whatever its case) gets the new logos and
    words added. New photos are searched as `socialsight enrich` and `socialsight run`
    analyse them.
    """
    import hashlib

    from socialsight.brands import Brands, brand_id, enrol
    from socialsight.lake.store import Lake
    from socialsight.media.photo import decode, read_bytes

    settings = load_settings(config, lake=lake)

    def load(source: str) -> tuple[Any, str]:
        data = read_bytes(source, settings.fetch)
        return decode(data, settings.fetch, source), hashlib.sha256(data).hexdigest()

    store = Lake(settings.lake)
    before = brand_id(name) in {b.id for b in Brands.load(store).brands()}
    bid = enrol(store, name, logos or [], text or [], load)
    brand = Brands.load(store).find_brand(bid)
    if brand is None:  # removed by another process the moment it was enrolled
        raise _fail(f"{name} was enrolled, then removed by another process")
    words = ", ".join(brand.words) or brand.name  # with no words, its name is its word mark
    console.print(Text(f"{'added to' if before else 'enrolled'} {brand.name} (id {brand.id}): "
                       f"{_plural(brand.logos, 'logo')}, words: {words}"))
    if rescan and store.has_data("media_rekognition"):
        _rescan(store)


@brands_app.command("list")
def brands_list(lake: LakeOption = None, config: ConfigOption = None) -> None:
    """List the enrolled brands."""
    from socialsight.api import existing_lake
    from socialsight.brands import Brands

    settings = load_settings(config, lake=lake)
    brands = Brands.load(existing_lake(settings.lake)).brands()
    if not brands:
        console.print("no brand is enrolled: add one with `socialsight brands add NAME LOGO.png "
                      "--text WORD`")
        return
    table = Table("name", "id", "logos", "words", "added")
    _unbroken(table, "id", "added")
    for b in brands:
        table.add_row(Text(b.name), b.id, str(b.logos), Text(", ".join(b.words) or b.name),
                      f"{b.added_at:%Y-%m-%d}" if b.added_at else "")
    console.print(table)


@brands_app.command("remove")
def brands_remove(
    who: Annotated[str, typer.Argument(help="The brand's name or id.", show_default=False)],
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Forget a brand; past photos lose its custom labels at once."""
    from socialsight.brands import forget
    from socialsight.lake.store import Lake

    settings = load_settings(config, lake=lake)
    store = Lake(settings.lake)
    brand = forget(store, who)
    if brand is None:
        raise _fail(f"no enrolled brand is called {who!r} (see `socialsight brands list`)")
    console.print(Text(f"removed {brand.name}"))
    if store.has_data("media_rekognition"):
        _rescan(store)


@brands_app.command("rescan")
def brands_rescan(lake: LakeOption = None, config: ConfigOption = None) -> None:
    """Look for every enrolled brand in every photo analysed before.

    Uses the local features kept with each photo; a photo analysed without them is read
    from the lake's photo store once. Nothing is fetched, and no other analysis runs.
    """
    from socialsight.api import existing_lake

    settings = load_settings(config, lake=lake)
    _rescan(existing_lake(settings.lake))


concepts_app = typer.Typer(cls=_Group, no_args_is_help=True, help=(
    "Custom concepts: learn a product's packaging, a store front or a campaign visual from "
    "a few example photos, and find it in every photo.\n\n"
    "socialsight's stand-in for Rekognition Custom Labels' image classification: a concept "
    "is scored over every photo's embedding at once, so the concept_hits view finds it in "
    "past photos as soon as it is learnt."))
app.add_typer(concepts_app, name="concepts")


@concepts_app.command("add")
def concepts_add(
    name: Annotated[str, typer.Argument(help="The concept's name, as queries will show it.",
                                        show_default=False)],
    examples: Annotated[list[str], typer.Argument(
        help="At least 3 photos that show it (files or http(s) URLs); 10 or more, varied, "
        "are better. Adding to a concept learnt before keeps its examples.",
        show_default=False)],
    counter: Annotated[list[str] | None, typer.Option(
        "--not", help="A photo that looks alike but does not show it (repeatable).",
        show_default=False)] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=100.0,
        help="The confidence (0-100) from which a photo is a hit. Default: 50, where "
        "bench/concepts.py's photos reach precision 0.8; lower finds more (on a large "
        "lake, or for a concept common in it), higher finds surer hits. Give it again "
        "when adding examples: without it, the concept is learnt again at the default.",
        show_default=False)] = None,
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Learn a concept from example photos, told from a sample of the lake's photos.

    Examples:

      socialsight concepts add "store front" shop1.jpg shop2.jpg shop3.jpg

      socialsight concepts add "blue can" can*.jpg --not green-can.jpg --not red-can.jpg
    """
    import hashlib

    from socialsight.concepts import BACKGROUND, Concepts, enrol
    from socialsight.lake.store import Lake
    from socialsight.media.photo import decode, read_bytes
    from socialsight.query.concepts import background
    from socialsight.query.engine import Engine

    settings = load_settings(config, lake=lake)
    loaded: dict[str, tuple[Any, str]] = {}
    for source in [*examples, *(counter or [])]:
        data = read_bytes(source, settings.fetch)
        loaded[source] = (decode(data, settings.fetch, source),
                          hashlib.sha256(data).hexdigest())
    store = Lake(settings.lake)
    known = Concepts.load(store).find(name) or {}  # its examples and counter-examples so far
    engine = Engine(store, settings.query.timeout_seconds, settings.query)
    try:  # the examples' own photos (now and before), if the lake has them, are no background
        own = [sha for _, sha in loaded.values()]
        own += [*(known.get("example_sha256") or []), *(known.get("counter_sha256") or [])]
        sample = background(engine, own, BACKGROUND)
    finally:
        engine.close()
    learnt = enrol(store, name, examples, counter or [], loaded.__getitem__, sample,
                   settings.vision.threads, settings.vision.models_dir, threshold)
    hits = _concept_hits(store, settings, learnt.name)
    console.print(Text(f"learnt {learnt.name} from {_plural(learnt.examples, 'example')} and "
                       f"{_plural(learnt.counter_examples, 'counter-example')}; found in "
                       f"{_plural(hits, 'photo')} of the lake (the concept_hits view)"))


def _unbroken(table: Table, *columns: str) -> None:
    """Keep these columns whole however narrow the terminal (an id is copied to remove
    what it names); the others wrap."""
    for column in table.columns:
        if column.header in columns:
            column.no_wrap, column.min_width = True, None
            column.overflow = "ignore"


def _concept_hits(store: Any, settings: Any, name: str | None = None) -> int:
    """How many photos of posts the concept_hits view finds (for one concept, or all)."""
    from socialsight.query.engine import Engine

    engine = Engine(store, settings.query.timeout_seconds, settings.query)
    try:
        rows = engine.rows("SELECT count(*) AS n FROM concept_hits "
                           "WHERE $name IS NULL OR concept = $name", {"name": name})
    finally:
        engine.close()
    return int(rows[0]["n"])


@concepts_app.command("list")
def concepts_list(lake: LakeOption = None, config: ConfigOption = None) -> None:
    """List the learnt concepts."""
    from socialsight.api import existing_lake
    from socialsight.concepts import Concepts

    settings = load_settings(config, lake=lake)
    rows = Concepts.load(existing_lake(settings.lake)).rows
    if not rows:
        console.print("no concept is learnt: add one with `socialsight concepts add NAME "
                      "PHOTO PHOTO PHOTO`")
        return
    table = Table("name", "id", "examples", "counter-examples", "background", "threshold",
                  "added")
    _unbroken(table, "id", "added")
    for r in rows:
        table.add_row(Text(r["name"]), r["id"], str(r["examples"]), str(r["counter_examples"]),
                      str(r["background"]), f"{r['threshold']:g}", f"{r['added_at']:%Y-%m-%d}")
    console.print(table)


@concepts_app.command("remove")
def concepts_remove(
    who: Annotated[str, typer.Argument(help="The concept's name or id.", show_default=False)],
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Forget a concept; the concept_hits view stops finding it at once."""
    from socialsight.concepts import forget
    from socialsight.lake.store import Lake

    settings = load_settings(config, lake=lake)
    row = forget(Lake(settings.lake), who)
    if row is None:
        raise _fail(f"no concept is called {who!r} (see `socialsight concepts list`)")
    console.print(Text(f"removed {row['name']}"))


people_app = typer.Typer(cls=_Group, no_args_is_help=True, help=(
    "Known people: enrol the faces you want recognised in every photo.\n\n"
    "socialsight's stand-in for Rekognition's celebrity recognition: matches land in "
    "media_rekognition's celebrityrecognition.celebrityfaces, the rest in "
    "unrecognizedfaces."))
app.add_typer(people_app, name="people")


@people_app.command("add")
def people_add(
    name: Annotated[str, typer.Argument(help="The person's name, as queries will show it.",
                                        show_default=False)],
    photos: Annotated[list[str], typer.Argument(
        help="Photos of them (files or http(s) URLs); the largest face in each is enrolled. "
        "Several photos (angles, years) make matches surer.", show_default=False)],
    url: Annotated[list[str] | None, typer.Option(
        "--url", help="A link about the person, shown with each match (repeatable).",
        show_default=False)] = None,
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Enrol a person from one or more photos of them.

    New photos are matched as `socialsight enrich` analyses them; run
    `socialsight people rematch` to find the person in photos analysed before.
    """
    import hashlib

    from socialsight.lake.store import Lake
    from socialsight.media.photo import decode, read_bytes
    from socialsight.people import enrol

    settings = load_settings(config, lake=lake)

    def load(source: str) -> tuple[Any, str]:
        data = read_bytes(source, settings.fetch)
        return decode(data, settings.fetch, source), hashlib.sha256(data).hexdigest()

    store = Lake(settings.lake)
    pid, done = enrol(store, name, photos, url or [], load, settings.vision.threads,
                      settings.vision.models_dir, lock=True)  # the lock just for the write
    for item in done:
        if item.faces > 1:
            console.print(f"[yellow]{escape(str(item.photo))} has {item.faces} faces:[/] "
                          "enrolled the largest; crop the photo if that is not them")
    console.print(Text(f"enrolled {name} (id {pid}) from {_plural(len(done), 'photo')}. Run "
                       "`socialsight people rematch` to find them in photos analysed before."))


@people_app.command("list")
def people_list(lake: LakeOption = None, config: ConfigOption = None) -> None:
    """List the enrolled people."""
    from socialsight.api import existing_lake
    from socialsight.people import Gallery

    settings = load_settings(config, lake=lake)
    people = Gallery.load(existing_lake(settings.lake)).people()
    if not people:
        console.print("no one is enrolled: add someone with `socialsight people add NAME PHOTO`")
        return
    table = Table("name", "id", "photos", "urls", "added")
    _unbroken(table, "id", "added")
    for p in people:
        table.add_row(Text(p["name"]), p["id"], str(p["photos"]), Text(" ".join(p["urls"])),
                      f"{p['added_at']:%Y-%m-%d}")
    console.print(table)


@people_app.command("remove")
def people_remove(
    who: Annotated[str, typer.Argument(help="The person's name or id.", show_default=False)],
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Forget a person (their enrolled faces); past photos stop matching them at once."""
    from socialsight.lake.store import Lake
    from socialsight.people import forget

    settings = load_settings(config, lake=lake)
    store = Lake(settings.lake)
    with _rematch_bars() as bars:
        removed, changed = forget(store, who, bars)
    if not removed:
        raise _fail(f"no enrolled person is called {who!r} (see `socialsight people list`)")
    console.print(Text(f"removed {who} ({_plural(removed, 'enrolled face')}); "
                       f"{_plural(changed, 'photo')} changed"))


@people_app.command("rematch")
def people_rematch(lake: LakeOption = None, config: ConfigOption = None) -> None:
    """Match every face already analysed against the gallery as it is now.

    Uses the face embeddings stored with each photo: no photo is fetched or analysed
    again.
    """
    from socialsight.lake.store import Lake
    from socialsight.people import rematch

    settings = load_settings(config, lake=lake)
    store = Lake(settings.lake)
    files = len(store.files("media_rekognition"))
    with _rematch_bars() as bars:
        changed_files, changed_rows = rematch(store, bars)
    console.print(f"{changed_rows:,} photos changed in {changed_files:,} of {files:,} files")


@app.command("analyze-text")
def analyze_text(
    text: Annotated[str, typer.Argument(help="The post's text, as written (or - to read it "
                                        "from standard input).", show_default=False)],
    lang: Annotated[str | None, typer.Option(
        help="The language the platform tagged the post with, used when the text is too "
        "short to tell.", show_default=False)] = None,
    key_phrases: Annotated[bool, typer.Option(
        "--key-phrases/--no-key-phrases", help="Find key phrases too.")] = True,
) -> None:
    """Show what the local text models see in one post, as JSON.

    Sentiment (POSITIVE, NEGATIVE, NEUTRAL or MIXED, four scores summing to 1), entities
    with Comprehend's types and offsets into the text, key phrases and the dominant
    language, under Comprehend's field names. Sentiment and entities are English only:
    other languages get their language and the reason in "Skipped".
    """
    import orjson

    from socialsight.api import analyze_text as run_analysis

    if text == "-":
        text = sys.stdin.read()
    result = run_analysis(text, lang, key_phrases)
    sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")


@app.command()
def demo(
    lake: Annotated[str, typer.Option("--lake", help="Where to put the demo's lake.")
                    ] = "demo-lake",
    config: ConfigOption = None,
) -> None:
    """Collect and analyse the bundled demo corpus, then show the seed's queries on it.

    26 posts written for the demo (20 from X, 3 Mastodon, 3 Bluesky), with real,
    freely licensed photos (examples/demo), go through the same pipeline as
    `socialsight run`: the photos are served on loopback, fetched through the guards,
    and every analysis runs on them. Then `socialsight serve --lake demo-lake` shows it
    all in the dashboard (`make demo` does both).
    """
    from socialsight.demo import QUERIES, run_demo
    from socialsight.lake.store import Lake
    from socialsight.query.engine import Engine, seed_queries

    settings = load_settings(config, lake=lake)
    store = Lake(settings.lake)
    with err_console.status("collecting and analysing the demo posts…") as spinner:
        status = run_demo(store, settings, on_tick=lambda st: spinner.update(
            f"collected {st.collect.posts} posts · analysed {st.enrich.posts} posts and "
            f"{st.enrich.photos} photos"))
    console.print(f"collected {status.collect.posts} posts; analysed {status.enrich.posts} "
                  f"posts and {status.enrich.photos} photos into {store.url}\n")
    engine = Engine(store, settings.query.timeout_seconds, settings.query)
    for name in QUERIES:
        sql = seed_queries()[name]
        title = sql.splitlines()[0].removeprefix("--").strip()
        _print_table(engine.execute(sql).table, 10, title=f"{name}: {title}")
        console.print()


@app.command()
def serve(
    lake: LakeOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(
        help="Address to listen on. Default 127.0.0.1 (this machine only); any other "
        "address needs --token.", show_default=False)] = None,
    port: Annotated[int | None, typer.Option(
        help="Port to listen on, 1 to 65535 (0: any free port). Default 8000.",
        show_default=False)] = None,
    token: Annotated[str | None, typer.Option(
        help="Access token (16+ characters other than spaces) the browser asks for once; "
        "scripts send 'Authorization: Bearer TOKEN'. Better in SOCIALSIGHT_SERVE_TOKEN than "
        "on the command line, where other users can see it.", show_default=False)] = None,
) -> None:
    """Open the dashboard on the lake: charts, photo grids, faces, people and SQL.

    Every page takes the same filters (dates, platform, words or #hashtag) and has a
    JSON twin under /api (see /api/docs). The same address answers boto3's
    Rekognition and Comprehend calls (endpoint_url; see docs/aws-api.md), with or
    without a lake: until there is one, the pages say which command makes it. It listens
    on 127.0.0.1 unless told otherwise, and then only with a token. Stop it with Ctrl-C.
    """
    from socialsight.lake.store import Lake
    from socialsight.web.deps import missing_lake
    from socialsight.web.server import serve as run_server

    settings = load_settings(config, lake=lake)
    settings.serve.host = host or settings.serve.host
    settings.serve.port = settings.serve.port if port is None else port
    settings.serve.token = token or settings.serve.token
    store = Lake(settings.lake)
    missing = missing_lake(store)

    def ready(url: str) -> None:
        console.print(f"the dashboard of {store.url} is at [bold]{url}[/]  (Ctrl-C stops it)"
                      f"\nboto3's Rekognition and Comprehend calls: endpoint_url=\"{url}\"")
        if missing:
            console.print(f"{missing} The AWS API works without one.", highlight=False,
                          markup=False, soft_wrap=True)

    run_server(store, settings, ready)
    console.print("stopped")


@app.command()
def examples() -> None:
    """List the seed's sample queries (run one with `socialsight query --seed NAME`)."""
    from socialsight.query.engine import seed_queries

    table = Table("name", "what it shows")
    for name, text in seed_queries().items():
        first = text.splitlines()[0].removeprefix("--").strip() if text else ""
        table.add_row(name, first)
    console.print(table)


@app.command()
def ddl(
    engine: Annotated[str, typer.Option("--engine", help="athena, trino or spark.",
                                        show_default=False)],
    location: Annotated[str | None, typer.Option(
        help="The lake's URL as the engine reads it (s3://bucket/prefix). Default: the "
        "lake's own URL; file:///… for a folder.", show_default=False)] = None,
    projection: Annotated[bool, typer.Option(
        "--projection", help="Athena only: find dt partitions by partition projection "
        "instead of MSCK REPAIR TABLE.")] = False,
    lake: LakeOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the CREATE statements that open the lake in Athena, Trino or Spark.

    Tables: the seed's four (tweets, tweet_sentiments, tweet_entities,
    media_rekognition) plus socialsight's tweet_keyphrases and errors,
    partitioned by dt, stored as Parquet under --location. Then the seed's
    three views, translated from Athena SQL to the engine's.
    docs/engines.md says how to run them, for example:
    socialsight ddl --engine spark > lake.sql && spark-sql -f lake.sql
    """
    from socialsight.lake.store import Lake
    from socialsight.query import ddl as statements

    settings = load_settings(config, lake=lake)
    opts = statements.options_for(Lake(settings.lake), location, projection)
    typer.echo(statements.render(engine, opts), nl=False)


HEADER_WIDTH = (6, 20)  # a column is at least this wide (or as its name), folded beyond


def _print_first(rows: Any, max_rows: int) -> None:
    """The first ``max_rows`` rows of a streamed result as a table; the rest is not read."""
    import pyarrow as pa

    batches, count = [], 0
    for batch in rows:
        batches.append(batch)
        count += batch.num_rows
        if count > max_rows:
            break
    _print_table(pa.Table.from_batches(batches, rows.schema), max_rows,
                 total=None if count > max_rows else count)


def _print_table(table: Any, max_rows: int, title: str | None = None,
                 total: int | None = None) -> None:
    """Rows as a table that fits the terminal: columns that would squeeze every header
    out of sight are left out, and named. ``total``: the row count, when it is known."""
    from socialsight.query.output import cell_text

    names = table.column_names
    room, fit = console.width - 1, 0
    for name in names:  # each column: its width, two of padding and a border
        room -= min(max(len(name), HEADER_WIDTH[0]), HEADER_WIDTH[1]) + 3
        if room < 0 and fit:
            break
        fit += 1
    view = Table(title=title, show_lines=False)
    for name in names[:fit]:
        view.add_column(name, min_width=min(max(len(name), HEADER_WIDTH[0]), HEADER_WIDTH[1]),
                        overflow="fold")
    shown = table.slice(0, max_rows)
    for row in zip(*(shown.column(i).to_pylist() for i in range(fit)), strict=True):
        view.add_row(*(cell_text(v) for v in row))
    console.print(view)
    if fit < len(names):
        left = names[fit:]
        listed = ", ".join(left[:5]) + (", …" if len(left) > 5 else "")
        console.print(f"{len(left):,} more columns not shown ({listed}): use --format csv or "
                      "json, or -o FILE, to see them all", highlight=False, markup=False)
    if table.num_rows > max_rows:
        more = f"{total - max_rows:,} more rows" if total is not None else "more rows"
        console.print(f"… {more} (use --format csv|json|parquet -o FILE for all)")
    else:
        console.print(f"{table.num_rows:,} rows")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
