"""One settings object: defaults < socialsight.toml < SOCIALSIGHT_* environment < flags.

Environment variables are the setting's path in upper case, joined by ``_`` under
the ``SOCIALSIGHT_`` prefix: ``lake`` is ``SOCIALSIGHT_LAKE``, ``[ingest]
batch_size`` is ``SOCIALSIGHT_INGEST_BATCH_SIZE``. Every setting is documented in
docs/configuration.md (a test keeps the two in step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from socialsight.errors import ConfigError

CONFIG_FILE = "socialsight.toml"


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


# A list that the environment gives as one comma-separated string.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split)]


def _secret_from_env(*names: str) -> SecretStr | None:
    """The first of these environment variables that is set, as a secret (names that
    users set before the secret became a setting)."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return SecretStr(value)
    return None


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


# A token or password: never printed (``**********``); blank means none.
Secret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]


class IngestSettings(BaseModel):
    batch_size: int = Field(
        50_000, ge=1, description="Posts per committed batch (one set of Parquet files) on import."
    )


class FetchSettings(BaseModel):
    allow_hosts: CommaList = Field(
        default_factory=list,
        description="Hosts, addresses or CIDRs a photo URL may reach even though they are "
        "not public (loopback, private networks); comma-separated in the environment.",
    )
    connect_timeout_seconds: float = Field(5.0, gt=0, description="Connect timeout per photo.")
    read_timeout_seconds: float = Field(
        15.0, gt=0, description="Longest wait for the next bytes of a photo.")
    total_timeout_seconds: float = Field(
        30.0, gt=0, description="Longest one photo's fetch may take in all, redirects, "
        "retries and their waits included (a server trickling bytes is cut off).")
    retries: int = Field(
        3, ge=0, description="Retries after a timeout, a dropped connection, a 5xx or a 429.")
    backoff_seconds: float = Field(
        0.5, ge=0, description="First retry delay; it doubles with each retry.")
    max_bytes: int = Field(15_000_000, ge=1, description="Largest photo downloaded, in bytes.")
    max_pixels: int = Field(
        50_000_000, ge=1, description="Most pixels a photo may have (stops decompression bombs).")
    concurrency: int = Field(16, ge=1, description="Photos downloaded at once.")
    per_host: int = Field(4, ge=1, description="Photos downloaded at once from one host.")
    user_agent: str = Field("socialsight",
                            description="The User-Agent header of photo downloads.")


class VisionSettings(BaseModel):
    models_dir: str | None = Field(
        None, description="Folder of the model files (default: the repository's models/).")
    threads: int = Field(1, ge=1, description="Threads per ONNX session.")
    device: Literal["auto", "cuda", "cpu"] = Field(
        "auto", description="Where the models run: auto (the GPU when onnxruntime-gpu finds "
        "one, else the CPU), cuda (the GPU or an error) or cpu.")
    batch_size: int = Field(
        0, ge=0, le=1024, description="Photos one worker analyses together, the labels and "
        "moderation models taking them in one batch; 0: 1 on the CPU, 32 on a GPU.")
    min_confidence: float = Field(
        55.0, ge=0, le=100, description="Labels less confident than this (0-100) are dropped.")
    max_labels: int = Field(20, ge=1, description="Most labels kept per photo.")
    gate: bool = Field(
        True, description="As in the seed: read text only in photos labelled Text, and "
        "look for faces and known people only in photos labelled Person or Face.")
    previews: bool = Field(
        True, description="Analyse the preview image of a video or animated GIF too (its "
        "media_rekognition row says preview = true); false: photos only.")
    local_features: bool = Field(
        True, description="Keep each photo's local features (about 130 bytes a keypoint, "
        "up to 2,000 a photo) with its analysis, so a brand enrolled later is looked for in "
        "every past photo without reading the photo again; false: they are found only once "
        "a brand is enrolled (new photos are then still searched for its logo), which saves "
        "the time (the costliest analysis: about 0.3 s a photo of 1,000 px or more on one "
        "core) and the space, and `brands add` reads the stored photos instead.")
    logo_colour: bool = Field(
        True, description="Find local features on each photo's two colour-opponent planes "
        "too, so logos whose parts differ in hue but not brightness are found (about 0.1 s "
        "a photo more, 12% more bytes); false: luminance only.")
    face_recognition: bool = Field(
        True, description="Keep an embedding of every face, so known people can be "
        "recognised and enrolled later; false: no face embedding is stored at all and no "
        "face is matched (faces are still found, with their age, emotions and pose).")


class CollectSettings(BaseModel):
    sources: CommaList = Field(
        default_factory=list,
        description="What `socialsight run` collects when no source is named on the command "
        "line: file:PATH, bluesky:#TAG, mastodon:HOST#TAG, x:search:QUERY, x:stream:RULE; "
        "comma-separated in the environment.")
    batch_posts: int = Field(10_000, ge=1, description="Posts that close a batch.")
    batch_bytes: int = Field(
        5_000_000, ge=1, description="Bytes of posts (as received) that close a batch.")
    batch_seconds: float = Field(
        60.0, gt=0, description="Age of the oldest buffered post that closes a batch.")
    queue_items: int = Field(
        64, ge=1, description="Items waiting between the sources and the buffer; a full "
        "queue makes the sources wait.")
    bluesky_endpoint: str = Field(
        "wss://jetstream2.us-east.bsky.network/subscribe",
        description="The Jetstream websocket that bluesky: sources read.")
    x_base_url: str = Field("https://api.x.com", description="The X API that x: sources call.")
    x_bearer_token: Secret = Field(
        default_factory=lambda: _secret_from_env("SOCIALSIGHT_X_BEARER_TOKEN", "X_BEARER_TOKEN"),
        description="The X app's Bearer Token that x: sources send (default: the "
        "SOCIALSIGHT_X_BEARER_TOKEN or X_BEARER_TOKEN environment variable).")
    x_poll_seconds: float = Field(
        60.0, gt=0, description="Seconds between two polls of an x:search: source.")
    mastodon_token: Secret = Field(
        default_factory=lambda: _secret_from_env("SOCIALSIGHT_MASTODON_TOKEN"),
        description="The access token that mastodon: sources send, which many instances "
        "require for streaming (default: the SOCIALSIGHT_MASTODON_TOKEN environment variable).")
    mastodon_poll_seconds: float = Field(
        30.0, gt=0, description="Seconds between two polls of a Mastodon timeline where "
        "streaming is refused.")
    backoff_seconds: float = Field(
        1.0, gt=0, description="First wait before a bluesky: or mastodon: source reconnects "
        "after a failure; it doubles with each failure.")
    max_backoff_seconds: float = Field(
        60.0, gt=0, description="Longest wait before a bluesky: or mastodon: source reconnects.")
    honour_deletions: bool = Field(
        True, description="Forget a post when its platform says it was deleted (X's delete "
        "messages, Mastodon's delete events, Bluesky's delete commits) and replace it when it "
        "was edited; false: keep what was collected (check the platform's terms first).")


class RetentionSettings(BaseModel):
    posts_days: int | None = Field(
        None, ge=1, description="Forget posts (every row of them, and photos no other post "
        "shows) older than this many days, by the day they were posted; unset: keep them.")
    photos_days: int | None = Field(
        None, ge=1, description="Drop the bytes, embeddings and local features of photos "
        "in posts older than this many days; their analysis rows stay. Unset: keep them.")
    faces_days: int | None = Field(
        None, ge=1, description="Drop face embeddings and known-person matches of photos in "
        "posts older than this many days; the faces' boxes and attributes stay. Unset: keep.")


class LanguageSettings(BaseModel):
    key_phrases: bool = Field(
        True, description="Find key phrases too (about half the cost of the text analysis).")
    pii: bool = Field(
        True, description="Mark the PII of English posts (e-mails, phone and card numbers, "
        "names, addresses, ...) in tweet_entities, as rows of type PII:<TYPE>.")
    redact_pii: bool = Field(
        False, description="Mask PII: PII rows written from now on hold [TYPE] instead of "
        "the value, and the dashboard shows each PII span of a post's text as [TYPE] "
        "(links and dates excepted). The raw posts (tweets) are kept as they came.")


class EnrichSettings(BaseModel):
    workers: int = Field(
        0, ge=0, description="Processes analysing photos and text (0: one per CPU core).")
    batch_posts: int = Field(
        2000, ge=1, description="Posts per committed batch of text analysis.")
    batch_photos: int = Field(
        128, ge=1, description="Photos per committed batch of `socialsight enrich` "
        "(at most this much work is redone after a crash).")
    executor: Literal["local", "ray"] = Field(
        "local", description="Where photos and text are analysed: local (worker processes "
        "on this machine) or ray (actors on a Ray cluster; see docs/ray.md).")
    ray_address: str | None = Field(
        None, description="The Ray cluster of the ray executor: none starts a local one; "
        "auto, HOST:PORT or ray://HOST:PORT joins an existing one.")
    ray_gpus: float | None = Field(
        None, ge=0, description="GPUs per Ray analysis actor (none: the cluster's GPUs, if "
        "any, shared among the actors; 0: CPU only).")


class QuerySettings(BaseModel):
    dialect: Literal["athena", "presto", "trino", "duckdb"] = Field(
        "athena", description="SQL dialect that `socialsight query` accepts by default."
    )
    timeout_seconds: float = Field(
        60.0, gt=0, description="A query still running after this many seconds is interrupted."
    )
    max_rows: int = Field(
        100, ge=1, description="Rows printed by `socialsight query` as a table (files get all)."
    )
    memory_limit: str = Field(
        "2GB", pattern=r"^\s*\d+(\.\d+)?\s*(%|[KMGT]i?B)\s*$",
        description="Most memory DuckDB may hold for queries (per SQL dialect in use), as "
        "'2GB' or '25%' of RAM; beyond it, sorts and joins spill to query.temp_dir.")
    temp_dir: str | None = Field(
        None, description="Folder in which each query engine makes a private folder (mode "
        "0700, removed when it closes) for DuckDB's spill files. Default: the system's "
        "temporary folder.")
    max_temp_bytes: int = Field(
        10_000_000_000, ge=0, description="Most bytes of spill files DuckDB may keep on disk "
        "(per SQL dialect in use); a query that needs more stops with an error.")
    read_only_files: bool = Field(
        True, description="DuckDB reads the lake only through a file system that refuses "
        "every write: a second layer behind the read-only SQL gate. Off, it reads the "
        "files directly: the seed's queries run about 20% faster.")


class ServeSettings(BaseModel):
    host: str = Field(
        "127.0.0.1", description="Address `socialsight serve` listens on; any address but "
        "loopback needs a token.")
    port: int = Field(8000, ge=0, le=65535, description="Port `socialsight serve` listens on.")
    token: str | None = Field(
        None, description="The dashboard's access token (at least 16 characters that are not "
        "spaces; empty: none): asked for once by the browser, or sent as `Authorization: "
        "Bearer TOKEN`. Required to listen on anything but loopback.")
    sql_timeout_seconds: float = Field(
        30.0, gt=0, description="A query of the dashboard's SQL console still running after "
        "this many seconds is stopped.")
    sql_max_rows: int = Field(
        1000, ge=1, description="Rows the SQL console shows (its CSV download has them all).")
    sql_max_cell_bytes: int = Field(
        10_000, ge=16, description="Longest cell the SQL console shows, in bytes of text; "
        "a longer one is cut, saying how long it was (the CSV download has it whole).")
    photos_per_page: int = Field(
        60, ge=1, le=1000, description="Photos in one page of a photo grid.")
    aws_access_key_id: str | None = Field(
        None, description="The access key id that AWS API requests (boto3 pointed at "
        "`serve` with endpoint_url) must be signed with (SigV4). Set with "
        "serve.aws_secret_access_key; needed for the AWS API beyond loopback.")
    aws_secret_access_key: str | None = Field(
        None, description="The secret of serve.aws_access_key_id (at least 16 characters).")
    aws_concurrency: int = Field(
        4, ge=1, le=256, description="AWS API requests analysed at once; more wait their "
        "turn (each holds its photo, or up to 25 texts of 100 KB, in memory).")


class Settings(BaseSettings):
    """Every setting socialsight reads."""

    model_config = SettingsConfigDict(
        env_prefix="SOCIALSIGHT_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
    )

    lake: str = Field(
        "lake", description="Where the lake lives: a folder, or an fsspec URL such as s3://bucket/x."
    )
    ingest: IngestSettings = Field(default_factory=lambda: IngestSettings())
    query: QuerySettings = Field(default_factory=lambda: QuerySettings())
    fetch: FetchSettings = Field(default_factory=lambda: FetchSettings())
    vision: VisionSettings = Field(default_factory=lambda: VisionSettings())
    enrich: EnrichSettings = Field(default_factory=lambda: EnrichSettings())
    language: LanguageSettings = Field(default_factory=lambda: LanguageSettings())
    collect: CollectSettings = Field(default_factory=lambda: CollectSettings())
    serve: ServeSettings = Field(default_factory=lambda: ServeSettings())
    retention: RetentionSettings = Field(default_factory=lambda: RetentionSettings())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("SOCIALSIGHT_CONFIG", CONFIG_FILE)
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the config file (``config`` or ./socialsight.toml), env and overrides."""
    if config is not None and not config.is_file():
        raise ConfigError(f"config file not found: {config}")
    previous = os.environ.get("SOCIALSIGHT_CONFIG")
    try:
        if config is not None:
            os.environ["SOCIALSIGHT_CONFIG"] = str(config)
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read settings: {exc}") from exc
    finally:
        if config is not None:
            if previous is None:
                os.environ.pop("SOCIALSIGHT_CONFIG", None)
            else:
                os.environ["SOCIALSIGHT_CONFIG"] = previous


def documented_settings() -> dict[str, str]:
    """Every setting's dotted name and description (for docs and their test)."""
    out: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        key = name
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, subfield in annotation.model_fields.items():
                out[f"{key}.{sub}"] = subfield.description or ""
        else:
            out[key] = field.description or ""
    return out
