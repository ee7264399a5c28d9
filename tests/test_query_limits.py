"""The query engine's bounds: no write into the lake even past the gate, spill files in a
private folder, DuckDB's memory limit, and results read in the memory of one batch."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from socialsight.config import QuerySettings
from socialsight.errors import QueryError
from socialsight.lake.schema import TABLES
from socialsight.lake.store import Lake
from socialsight.query.engine import LOCAL_PROTOCOL, Engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    store = Lake(str(tmp_path / "lake"))
    rows = pa.Table.from_pylist([{"id": i, "text": f"post {i}"} for i in range(3)],
                                schema=TABLES["tweets"])
    store.commit({"tweets": rows.append_column("dt", pa.array(["2024-07-01"] * 3))})
    return store


def _files(root: str) -> list[str]:
    return sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names)


def test_a_statement_past_the_gate_still_cannot_write_the_lake(lake: Lake) -> None:
    """The read-only gate is the first layer; DuckDB itself refuses writes as the second."""
    engine = Engine(lake)
    before = _files(lake.root)
    target = f"{lake.root}/tweets/dt=2024-07-01"
    con = engine.connection()  # straight to DuckDB: no gate
    for sql in (f"COPY (SELECT 1 AS id) TO '{target}/evil.parquet'",
                f"COPY (SELECT 1 AS id) TO '{LOCAL_PROTOCOL}://{target}/evil.parquet'",
                f"COPY (SELECT 1 AS id) TO '{LOCAL_PROTOCOL}://{target}/"
                f"{os.path.basename(before[-1])}' (USE_TMP_FILE false)",
                f"ATTACH '{lake.root}/evil.duckdb'",
                f"ATTACH '{LOCAL_PROTOCOL}://{lake.root}/evil.duckdb'",
                f"EXPORT DATABASE '{LOCAL_PROTOCOL}://{lake.root}/evil'",
                "SET GLOBAL allowed_directories = ['/']",
                "SET GLOBAL enable_external_access = true"):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    assert _files(lake.root) == before
    assert engine.execute("SELECT count(*) AS n FROM tweets").table.to_pylist() == [{"n": 3}]


def test_with_read_only_files_off_the_lake_is_read_directly_and_answers_the_same(
        lake: Lake) -> None:
    """query.read_only_files = false trades the second layer for speed: same rows, and
    DuckDB reads the plain path (so only the gate keeps SQL from writing, as documented)."""
    guarded, direct = Engine(lake), Engine(lake, limits=QuerySettings(read_only_files=False))
    sql = "SELECT id, text FROM tweets ORDER BY id"
    assert direct.execute(sql).table.to_pylist() == guarded.execute(sql).table.to_pylist()
    files = "SELECT count(*) AS n FROM glob('{}/tweets/*/*.parquet')"
    assert direct.execute(files.format(lake.root), "duckdb").table.to_pylist() == [{"n": 1}]
    with pytest.raises(QueryError):  # the plain path is not the guarded engine's
        guarded.execute(files.format(lake.root), "duckdb")


@pytest.mark.s3
@pytest.mark.slow
def test_an_s3_lake_cannot_be_written_past_the_gate_either(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    from tests.s3server import moto_server, new_bucket

    with moto_server() as server:
        s3fs.S3FileSystem.clear_instance_cache()
        url = f"s3://{new_bucket(server, monkeypatch)}/lake"
        rows = pa.Table.from_pylist([{"id": 1}], schema=TABLES["tweets"])
        Lake(url).commit({"tweets": rows.append_column("dt", pa.array(["2024-07-01"]))})
        engine = Engine(Lake(url))
        before = sorted(Lake(url).fs.find(url))
        con = engine.connection()
        for sql in (f"COPY (SELECT 1 AS id) TO '{url}/tweets/dt=2024-07-01/evil.parquet'",
                    f"COPY (SELECT 1 AS id) TO '{url}/evil.csv'"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        assert sorted(Lake(url).fs.find(url)) == before
        assert engine.execute("SELECT count(*) AS n FROM tweets").table.to_pylist() == [{"n": 1}]
        engine.close()
        s3fs.S3FileSystem.clear_instance_cache()


def test_spill_files_go_to_a_private_folder_that_goes_away(lake: Lake, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = Engine(lake, limits=QuerySettings(temp_dir=str(tmp_path / "spill")))
    where = engine.execute("SELECT current_setting('temp_directory') AS t", "duckdb").table
    folder = engine.spill_folder()
    assert where.column("t")[0].as_py().startswith(folder + os.sep)
    assert Path(folder).parent == tmp_path / "spill"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    # The folder is closed to queries (DuckDB's own spill files are in a folder inside).
    with pytest.raises(QueryError, match=r"(?i)permission"):
        engine.execute(f"SELECT * FROM read_text('{folder}/*')", "duckdb")
    engine.close()
    assert not os.path.exists(folder) and not (tmp_path / ".tmp").exists()


def test_a_query_past_the_memory_limit_stops_with_a_clear_message(lake: Lake) -> None:
    engine = Engine(lake, limits=QuerySettings(memory_limit="64MB", max_temp_bytes=0))
    limit = engine.execute("SELECT current_setting('memory_limit') AS m", "duckdb").table
    assert limit.column("m")[0].as_py() == "61.0 MiB"  # DuckDB's way of writing 64MB
    with pytest.raises(QueryError, match=r"more memory than query\.memory_limit \(64MB\)"):
        engine.execute("SELECT * FROM range(30000000) t (i) ORDER BY hash(i)", "duckdb")


def test_a_memory_limit_duckdb_cannot_read_is_a_setting_error() -> None:
    from socialsight.config import load_settings
    from socialsight.errors import ConfigError

    with pytest.raises(ConfigError, match=r"query\.memory_limit"):
        load_settings(query={"memory_limit": "lots"})


# --- memory, measured in a child process with an address-space limit -------------------

ROWS = 4_000_000  # ~380 MB of CSV; the old console held ~4 times that
CHILD = textwrap.dedent("""
    import sys
    from socialsight.config import QuerySettings
    from socialsight.explore import console
    from socialsight.lake.store import Lake
    from socialsight.query.engine import Engine

    what, lake = sys.argv[1], sys.argv[2]
    engine = Engine(Lake(lake), 600, QuerySettings(memory_limit="256MB"))
    sql = "SELECT id, text FROM tweets"
    if what == "page":
        page = console.run_sql(engine, sql, "athena", 1000)
        assert len(page["rows"]) == 1000 and page["truncated"], page["row_count"]
    elif what == "csv":
        size = sum(len(chunk) for chunk in console.csv_stream(engine, sql, "athena"))
        assert size > 300_000_000, size
    else:
        console.run_sql(engine, "SELECT 1", "athena", 1000)
    print(open("/proc/self/status").read())
""")


@pytest.fixture(scope="module")
def big_lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    """ROWS posts (id and text: the other columns read as NULL), written by DuckDB."""
    root = tmp_path_factory.mktemp("big") / "lake"
    folder = root / "tweets" / "dt=2024-01-01"
    folder.mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT i::BIGINT AS id, md5(i::VARCHAR) || ' post ' || i || ' ' || "
               f"md5((i * 7)::VARCHAR) AS text FROM range({ROWS}) t (i)) "
               f"TO '{folder}/part-0.parquet' (ROW_GROUP_SIZE 100000)")
    return str(root)


def _child(what: str, lake: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-c", CHILD, what, lake], preexec_fn=cap,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def _peak_virtual(status: str) -> int:
    line = next(x for x in status.splitlines() if x.startswith("VmPeak:"))
    return int(line.split()[1]) * 1024


@pytest.fixture(scope="module")
def headroom(big_lake: str) -> int:
    """The address space a child needs for a one-row query, and 640 MB more."""
    base = _child("base", big_lake)
    assert base.returncode == 0, base.stderr
    return _peak_virtual(base.stdout) + 640 * 2**20


@pytest.mark.slow
@pytest.mark.parametrize("what", ["page", "csv"])
def test_a_big_result_is_read_in_little_memory(big_lake: str, headroom: int,
                                               what: str) -> None:
    """1,000 rows of 4M for the page, and all 4M as CSV, each in 640 MB more than a
    one-row query needs (the whole result, as Arrow and as CSV, is well over that)."""
    done = _child(what, big_lake, headroom)
    assert done.returncode == 0, done.stderr[-2000:]
