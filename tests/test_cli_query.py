"""`socialsight query` (and `errors`, `people list`) on hostile or mistaken input: a
missing lake, bytes, formulas, a missing output folder, more columns than fit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import status, write_jsonl


@pytest.fixture
def small_lake(cli: Any, tmp_path: Path) -> str:
    path = write_jsonl(tmp_path / "posts.jsonl", [status(i, f"post {i}") for i in range(1, 4)])
    assert cli("import", str(path), "--lake", "lake").exit_code == 0
    return "lake"


@pytest.mark.parametrize("command", [
    ["query", "SELECT count(*) FROM tweets"],
    ["errors"],
    ["people", "list"],
])
def test_a_mistyped_lake_is_named_not_read_as_empty(cli: Any, tmp_path: Path,
                                                    command: list[str]) -> None:
    out = cli(*command, "--lake", "lkae")
    assert out.exit_code == 1
    assert out.stderr.strip() == (f"error: no lake at {tmp_path / 'lkae'}; create one with "
                                  "`socialsight import FILE`")
    assert not (tmp_path / "lkae").exists()


def test_bytes_and_intervals_are_written_as_text(cli: Any, small_lake: str) -> None:
    sql = "SELECT unhex('CAFE') AS b, INTERVAL 3 DAY AS i"
    for fmt in ("csv", "table", "json"):
        out = cli("query", sql, "--dialect", "duckdb", "--lake", small_lake, "--format", fmt)
        assert out.exit_code == 0, out.output
        assert "cafe" in out.stdout and "Traceback" not in out.output
    rows = json.loads(cli("query", sql, "--dialect", "duckdb", "--lake", small_lake,
                          "--format", "json").stdout)
    assert rows == [{"b": "cafe", "i": {"months": 0, "days": 3, "nanoseconds": 0}}]


def test_the_csv_does_not_hand_spreadsheets_a_formula(cli: Any, small_lake: str) -> None:
    sql = ("SELECT '=HYPERLINK(\"http://evil.example\")' AS text, '@SUM(A1)' AS at, "
           "-5 AS number, 1 AS \"=cmd()\"")
    out = cli("query", sql, "--lake", small_lake, "--format", "csv")
    header, row = list(csv.reader(io.StringIO(out.stdout)))
    assert header == ["text", "at", "number", "'=cmd()"]
    assert row == ["'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1)", "-5", "1"]


def test_output_into_a_missing_folder_is_one_line(cli: Any, small_lake: str,
                                                  tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.csv"
    out = cli("query", "SELECT 1 AS n", "--lake", small_lake, "--format", "csv",
              "-o", str(target))
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.stderr.strip() == f"error: cannot write {target}: No such file or directory"


def test_a_file_gets_every_row_and_a_count(cli: Any, small_lake: str, tmp_path: Path) -> None:
    sql = "SELECT n FROM UNNEST(sequence(1, 5000)) t (n)"
    out = cli("query", sql, "--lake", small_lake, "-o", "all.csv")  # table → CSV in a file
    assert out.exit_code == 0 and "5,000 rows written to all.csv" in out.stderr
    assert len((tmp_path / "all.csv").read_text().split()) == 5001
    out = cli("query", sql, "--lake", small_lake, "--format", "json", "-o", "all.json")
    assert len(json.loads((tmp_path / "all.json").read_text())) == 5000
    empty = cli("query", "SELECT 1 AS n WHERE false", "--lake", small_lake, "--format", "json")
    assert json.loads(empty.stdout) == []


def test_a_table_shows_the_first_rows_and_says_there_are_more(cli: Any,
                                                              small_lake: str) -> None:
    out = cli("query", "SELECT n FROM UNNEST(sequence(1, 250)) t (n)", "--lake", small_lake)
    assert out.exit_code == 0
    assert "… more rows (use --format csv|json|parquet -o FILE for all)" in out.stdout


def test_a_wide_result_keeps_readable_headers_at_80_columns(
        cli: Any, small_lake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from socialsight.cli import console

    monkeypatch.setattr(console, "width", 80)
    names = [f"column_{i:02d}" for i in range(20)]
    sql = "SELECT " + ", ".join(f"{i} AS {name}" for i, name in enumerate(names))
    out = cli("query", sql, "--lake", small_lake)
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if "column_00" in line)
    shown = [name for name in names if name in header]
    assert len(shown) >= 4 and shown == names[:len(shown)]  # whole names, in order
    assert (f"{20 - len(shown)} more columns not shown ({names[len(shown)]}, "
            in out.stdout.replace("\n", " "))
    assert "use --format csv or json, or -o FILE, to see them all" in out.stdout
