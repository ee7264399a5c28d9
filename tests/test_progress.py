"""One progress protocol: import, enrich, retry and rematch report through it, with totals
that add up, and the CLI shows it as the same bars as before."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import socialsight.cli
from socialsight import people
from socialsight.config import load_settings
from socialsight.enrich import enrich, retry
from socialsight.ingest import import_files
from socialsight.lake.store import Lake
from socialsight.progress import NO_PROGRESS, Kind
from tests.conftest import status, write_jsonl
from tests.test_enrich import enrich_env, photos  # noqa: F401


class Recorder:
    """A Progress that keeps what it heard."""

    def __init__(self) -> None:
        self.totals: dict[Kind, int | None] = {}
        self.done: Counter[Kind] = Counter()

    def start(self, kind: Kind, total: int | None) -> None:
        assert kind not in self.totals, f"{kind} started twice"
        self.totals[kind] = total

    def advance(self, kind: Kind, n: int = 1) -> None:
        assert n >= 0
        self.done[kind] += n


def test_no_progress_listens_to_nothing() -> None:
    NO_PROGRESS.start("photos", 3)
    NO_PROGRESS.advance("photos", 3)


def test_import_reports_the_bytes_of_its_files(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [status(i, f"post {i}") for i in range(1, 3001)])
    b = write_jsonl(tmp_path / "b.jsonl", [status(5000, "one more")])
    heard = Recorder()
    summary = import_files(Lake(str(tmp_path / "lake")), [str(a), str(b)], progress=heard)
    assert summary.written == 3001
    size = a.stat().st_size + b.stat().st_size
    assert heard.totals == {"bytes": size}
    assert heard.done == {"bytes": size}


@pytest.mark.slow
def test_enrich_retry_and_rematch_report_what_they_did(
        tmp_path: Path, photos: str, enrich_env: None) -> None:  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "Morning fuel #coffee", photos=[f"{photos}/coffee.png"]),
        status(2, "Launch day!", photos=[f"{photos}/astronaut.png"]),
        status(3, "Gone", photos=[f"{photos}/missing.png"]),  # 404: an error row
        status(4, "no photo here"),
    ])
    lake = Lake(str(tmp_path / "lake"))
    import_files(lake, [str(posts)])
    settings = load_settings(None, lake=lake.url)

    heard = Recorder()
    summary = enrich(lake, settings, heard)
    assert summary.photos == 3 and summary.posts == 4
    assert heard.totals == {"posts": 4, "photos": 3}
    assert heard.done == {"posts": 4, "photos": 3}

    heard = Recorder()
    retry(lake, settings, heard)  # the missing photo is still missing
    assert heard.totals["photos"] == heard.done["photos"] == 1

    heard = Recorder()
    people.rematch(lake, heard)
    files = len(lake.files("media_rekognition"))
    assert files >= 1
    assert heard.totals == {"files": files}
    assert heard.done == {"files": files}


def test_the_cli_import_still_shows_its_bar_and_summary(
        cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(socialsight.cli, "err_console",
                        Console(file=terminal, force_terminal=True, width=120))
    posts = write_jsonl(tmp_path / "posts.jsonl", [status(i, f"post {i}") for i in range(1, 51)])
    result = cli("import", str(posts), "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert "importing" in terminal.getvalue()  # the bar, drawn on the (fake) terminal
    size = posts.stat().st_size
    assert f"{size / 1000:.1f}/{size / 1000:.1f} kB" in terminal.getvalue()
    assert "posts written" in result.stdout and "50" in result.stdout
