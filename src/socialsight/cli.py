"""The ``socialsight`` command: each subcommand parses its input and calls one module."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from socialsight import __version__
from socialsight.config import load_settings
from socialsight.errors import SocialsightError

console = Console()
err_console = Console(stderr=True)


class _Group(typer.core.TyperGroup):
    """Turns socialsight's own errors into a one-line message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SocialsightError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=_Group,
    name="socialsight",
    help=(
        "Understand what social-media images say, on your own machine.\n\n"
        "Collect posts, keep them in a Parquet lake, and explore them with the "
        "Athena SQL of the AWS 'Exploring images on social media' post.\n\n"
        "Start with:  socialsight import posts.jsonl  then  socialsight query --seed top_domains"
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
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"socialsight {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


@app.command("import")
def import_(
    files: Annotated[list[str], typer.Argument(
        help="JSONL, JSON array or JSON files (.gz too): X API v1.1 statuses, v2 responses, "
        "twarc2 flattened lines. Formats are detected per record.", show_default=False)],
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
    from socialsight.ingest import import_files, total_bytes
    from socialsight.lake.store import Lake

    settings = load_settings(config, lake=lake)
    store = Lake(settings.lake)
    size = total_bytes(files)
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("import", total=size or None)
        summary = import_files(store, files, batch_size or settings.ingest.batch_size,
                               on_bytes=lambda n: bar.advance(task, n))
    table = Table(title=f"Imported into {store.url}", show_header=False)
    for label, value in (
        ("files", summary.files), ("posts written", summary.written),
        ("duplicates skipped", summary.duplicates), ("photos found", summary.photos),
        ("bad records", summary.bad), ("stream control messages", summary.control),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    if summary.formats:
        console.print("formats: " + ", ".join(f"{k} {v:,}" for k, v in summary.formats.items()))
    if summary.bad:
        console.print(f"[yellow]{summary.bad:,} bad records:[/] see `socialsight errors`")
    if not summary.read_anything:
        raise _fail("nothing could be read from " + ", ".join(files))


@app.command()
def errors(
    lake: LakeOption = None,
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="Most recent rows to show.", min=1)] = 50,
    stage: Annotated[str | None, typer.Option(help="Only this stage (import, fetch, ...).",
                                              show_default=False)] = None,
) -> None:
    """List what could not be read or analysed: where, and why."""
    import pyarrow.compute as pc

    from socialsight.lake.store import Lake

    settings = load_settings(config, lake=lake)
    rows = Lake(settings.lake).read("errors")
    if stage:
        rows = rows.filter(pc.equal(rows["stage"], stage))
    if rows.num_rows == 0:
        console.print("no errors recorded")
        return
    total = rows.num_rows
    rows = rows.sort_by([("occurred_at", "descending"), ("source", "ascending"),
                         ("line", "ascending")])
    rows = rows.select(["occurred_at", "stage", "source", "line", "reason"])
    _print_table(rows, limit, title=f"{total:,} errors")


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
    views: media_image_labels_query, media_image_labels_face_query, celeb_view — also
    as socialanalyticsblog.<name>. SQL is Athena/Presto/Trino by default.
    """
    from socialsight.lake.store import Lake
    from socialsight.query import output as out
    from socialsight.query.engine import Engine, seed_queries

    settings = load_settings(config, lake=lake)
    text = _sql_from(sql, file, seed, seed_queries())
    if fmt not in out.FORMATS:
        raise _fail(f"unknown format {fmt!r}: choose one of {', '.join(out.FORMATS)}", 2)
    if fmt == "parquet" and output is None:
        raise _fail("--format parquet needs -o PATH", 2)
    engine = Engine(Lake(settings.lake), settings.query.timeout_seconds)
    result = engine.execute(text, dialect or settings.query.dialect)
    if fmt == "table" and output is None:
        _print_table(result.table, settings.query.max_rows)
        return
    out.write(result.table, fmt, output)
    if output is not None:
        err_console.print(f"{result.table.num_rows:,} rows written to {output}")


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
) -> None:
    """Show what the local models see in one photo, as JSON.

    Labels with their parents, moderation labels, the text in the photo and the faces
    (box, landmarks, quality), under Rekognition's field names. Known people and face
    attributes (age, emotions, ...) are not in the model pack yet and stay null.
    Nothing leaves the machine but the download of a URL you give.
    """
    import orjson

    from socialsight.media.photo import load_photo
    from socialsight.vision.analyze import analyze as run_analysis

    if fmt not in ("rekognition", "lake"):
        raise _fail(f"unknown format {fmt!r}: choose rekognition or lake", 2)
    settings = load_settings(config)
    vision = settings.vision.model_copy(update={
        k: v for k, v in (("min_confidence", min_confidence), ("max_labels", max_labels))
        if v is not None})
    image = load_photo(photo, settings.fetch)
    result = run_analysis(image, vision)
    body = result.rekognition() if fmt == "rekognition" else result.image_labels()
    sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
    if result.errors:
        raise typer.Exit(1)


@app.command()
def examples() -> None:
    """List the seed's sample queries (run one with `socialsight query --seed NAME`)."""
    from socialsight.query.engine import seed_queries

    table = Table("name", "what it shows")
    for name, text in seed_queries().items():
        first = text.splitlines()[0].removeprefix("--").strip() if text else ""
        table.add_row(name, first)
    console.print(table)


def _print_table(table: Any, max_rows: int, title: str | None = None) -> None:
    from socialsight.query.output import cell_text

    view = Table(*table.column_names, title=title, show_lines=False)
    for row in table.slice(0, max_rows).to_pylist():
        view.add_row(*(cell_text(v) for v in row.values()))
    console.print(view)
    if table.num_rows > max_rows:
        console.print(f"… {table.num_rows - max_rows:,} more rows "
                      "(use --format csv|json|parquet -o FILE for all)")
    else:
        console.print(f"{table.num_rows:,} rows")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
