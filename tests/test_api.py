"""The Python API (socialsight.open_lake, analyze_photo, analyze_text): what a notebook
gets is what the command prints, on a real lake and real photos."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from PIL import ImageOps

import socialsight
from socialsight.config import Settings, load_settings
from socialsight.errors import InputError, LakeError, SQLSyntaxError
from tests.conftest import status, write_jsonl
from tests.test_vision_labels import package_photo


@pytest.fixture
def settings(cli: Any, tmp_path: Path) -> Settings:
    """Settings as the command reads them in tmp_path (no socialsight.toml, no env)."""
    return load_settings(lake=str(tmp_path / "lake"))


@pytest.fixture
def small_lake(cli: Any, tmp_path: Path) -> Path:
    posts = [status(i, f"post {i} #tag", hashtags=["tag"]) for i in range(1, 6)]
    path = write_jsonl(tmp_path / "posts.jsonl", posts)
    assert cli("import", str(path), "--lake", "lake").exit_code == 0
    return tmp_path / "lake"


def test_athena_and_duckdb_sql_give_arrow_tables(small_lake: Path) -> None:
    with socialsight.open_lake(small_lake) as lake:
        table = lake.sql("SELECT id, cardinality(entities.hashtags) AS tags FROM tweets "
                         "ORDER BY id")
        assert isinstance(table, pa.Table)
        assert table.to_pylist() == [{"id": i, "tags": 1} for i in range(1, 6)]
        same = lake.sql("SELECT id, len(entities.hashtags) AS tags FROM tweets ORDER BY id",
                        dialect="duckdb")
        assert same.to_pylist() == table.to_pylist()
        # the database name of the seed's queries works as in Athena
        assert lake.sql("SELECT count(*) AS n FROM socialanalyticsblog.tweets"
                        ).to_pylist() == [{"n": 5}]


def test_every_listed_table_can_be_queried(small_lake: Path) -> None:
    with socialsight.open_lake(small_lake) as lake:
        names = lake.tables()
        assert {"tweets", "media_rekognition", "errors", "celeb_view", "photo_versions",
                "brands", "brand_mentions", "concept_hits"} <= set(names)
        counts = {name: lake.sql(f"SELECT count(*) AS n FROM {name}").column("n")[0].as_py()
                  for name in names}
    assert counts["tweets"] == 5 and counts["media_rekognition"] == 0


def test_seed_queries_run_by_name(small_lake: Path) -> None:
    with socialsight.open_lake(small_lake) as lake:
        for name in socialsight.seed_queries():
            assert isinstance(lake.seed(name), pa.Table)
        with pytest.raises(InputError, match=r"no seed query 'top_lables'; known: .*top_labels"):
            lake.seed("top_lables")


def test_pandas_and_polars(small_lake: Path) -> None:
    with socialsight.open_lake(small_lake) as lake:
        frame = lake.df("SELECT id, user.screen_name AS who FROM tweets ORDER BY id")
        assert list(frame["id"]) == [1, 2, 3, 4, 5] and set(frame["who"]) == {"shopper"}
        polars = lake.pl("SELECT id FROM tweets WHERE id > 3 ORDER BY id")
        assert polars["id"].to_list() == [4, 5]


def test_a_missing_dataframe_library_is_named(small_lake: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    with socialsight.open_lake(small_lake) as lake, \
            pytest.raises(ImportError, match="needs pandas, which is not installed: "
                                             "pip install pandas"):
        lake.df("SELECT 1")


def test_mistakes_are_the_commands_one_line_errors(small_lake: Path, tmp_path: Path) -> None:
    with pytest.raises(LakeError, match=r"no lake at .*lkae; create one with"):
        socialsight.open_lake(tmp_path / "lkae").sql("SELECT 1")
    with socialsight.open_lake(small_lake) as lake, \
            pytest.raises(SQLSyntaxError, match="line 2"):
        lake.sql("SELECT id\nFROM tweets WHERE (id = 1")


def test_a_large_result_can_be_read_batch_by_batch(small_lake: Path) -> None:
    with socialsight.open_lake(small_lake) as lake, \
            lake.stream("SELECT * FROM range(5000) t (n)", "duckdb") as rows:
        assert rows.schema.names == ["n"]
        sizes = [batch.num_rows for batch in rows]
    assert sum(sizes) == 5000 and len(sizes) > 1


@pytest.mark.slow
def test_a_photo_gives_what_socialsight_analyze_prints(cli: Any, tmp_path: Path,
                                                       settings: Settings) -> None:
    path = tmp_path / "coffee.png"
    package_photo("coffee.png").save(path)
    printed = json.loads(cli("analyze", str(path)).stdout)
    from_file = socialsight.analyze_photo(path, settings=settings)
    assert from_file == printed
    assert socialsight.analyze_photo(path.read_bytes(), settings=settings) == printed
    assert "Espresso" in {label["Name"] for label in printed["Labels"]}
    lake_shape = socialsight.analyze_photo(str(path), settings=settings, shape="lake")
    assert lake_shape == json.loads(cli("analyze", str(path), "--format", "lake").stdout)


def test_only_what_is_wanted_is_returned(settings: Settings) -> None:
    buffer = io.BytesIO()
    package_photo("astronaut.png").save(buffer, format="PNG")
    body = socialsight.analyze_photo(buffer.getvalue(), wanted=["labels"], settings=settings)
    assert "Person" in {label["Name"] for label in body["Labels"]}
    assert body["ModerationLabels"] is None and body["FaceDetails"] is None
    assert body["CelebrityRecognition"] is None and body["TextDetections"] is None
    faces = socialsight.analyze_photo(buffer.getvalue(), wanted=["faces"], settings=settings)
    assert len(faces["FaceDetails"]) == 1 and faces["Labels"] is None
    with pytest.raises(InputError, match="cannot analyse 'celebs': choose from labels"):
        socialsight.analyze_photo(buffer.getvalue(), wanted=["celebs"], settings=settings)


def test_a_text_gives_what_socialsight_analyze_text_prints(cli: Any) -> None:
    text = "I love the new Apple store in Paris, John Smith was right!"
    printed = json.loads(cli("analyze-text", text).stdout)
    assert socialsight.analyze_text(text) == printed
    assert printed["Sentiment"] == "POSITIVE"


def test_an_enrolled_person_is_recognised(cli: Any, tmp_path: Path,
                                          settings: Settings) -> None:
    portrait = tmp_path / "eileen.jpg"
    mirrored = ImageOps.mirror(package_photo("astronaut.png").convert("RGB"))
    mirrored.crop((100, 0, 512, 400)).save(portrait, quality=90)
    lake = socialsight.open_lake(settings=settings)
    enrolled = lake.enrol("Eileen Collins", [portrait],
                          urls=["https://en.wikipedia.org/wiki/Eileen_Collins"])
    assert enrolled.photos == [str(portrait)] and enrolled.faces == [1]
    assert enrolled.person_id in cli("people", "list").stdout
    original = tmp_path / "astronaut.png"
    package_photo("astronaut.png").save(original)
    found = socialsight.analyze_photo(original, settings=settings)
    assert [f["Name"] for f in found["CelebrityRecognition"]["CelebrityFaces"]] == [
        "Eileen Collins"]
    coffee = tmp_path / "coffee.png"
    package_photo("coffee.png").save(coffee)
    with pytest.raises(InputError, match=r"no face found in .*coffee\.png"):
        lake.enrol("Someone", [coffee])


def test_more_like_says_what_is_wrong_with_what_it_was_given(small_lake: Path) -> None:
    from socialsight.errors import InputError, MediaError

    with socialsight.open_lake(small_lake) as lake:
        with pytest.raises(InputError, match="neither a photo's sha256"):
            lake.more_like("z" * 64)
        with pytest.raises(InputError, match="k is how many photos"):
            lake.more_like("0" * 64, k="3")  # type: ignore[arg-type]
        with pytest.raises(MediaError) as long:
            lake.more_like("a" * 10_000)
        assert len(str(long.value)) < 400
        # a sha256 in capitals or with spaces round it is the same sha256 (not in this lake)
        assert lake.more_like(" " + "AB" * 32 + " ") == lake.more_like("ab" * 32) == []
