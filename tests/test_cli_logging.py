"""`socialsight --log-level`: module log messages reach stderr once, through Rich."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import socialsight.query.engine as engine


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Each test leaves the ``socialsight`` logger as it found it."""
    logger = logging.getLogger("socialsight")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.fixture
def chatty_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """`socialsight examples` with a module that logs a warning and an info line."""
    real = engine.seed_queries

    def seed_queries() -> dict[str, str]:
        engine.log.warning("the seed folder %s looks odd", "sql/")
        engine.log.info("read %d seed queries", len(real()))
        return real()

    monkeypatch.setattr(engine, "seed_queries", seed_queries)


def test_a_warning_is_printed_once_through_rich(cli: Any, chatty_examples: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALSIGHT_LOG_LEVEL", raising=False)
    for _ in range(2):  # the command run again in one process adds no second handler
        result = cli("examples")
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stderr.splitlines() if "looks odd" in line]
        assert len(lines) == 1, result.stderr
        # Rich's level column, then the message: not Python's bare last-resort line
        assert lines[0].split() == ["WARNING", "the", "seed", "folder", "sql/", "looks", "odd"]
        assert "seed queries" not in result.stderr  # INFO is hidden by default
        assert "top_labels" in result.stdout


def test_log_level_info_shows_info_lines(cli: Any, chatty_examples: None) -> None:
    result = cli("--log-level", "INFO", "examples")
    assert result.exit_code == 0, result.output
    info = [line for line in result.stderr.splitlines() if "seed queries" in line]
    assert len(info) == 1, result.stderr
    assert info[0].split() == ["INFO", "read", str(len(engine.seed_queries())), "seed", "queries"]


def test_the_level_can_come_from_the_environment(cli: Any, chatty_examples: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALSIGHT_LOG_LEVEL", "error")
    result = cli("examples")
    assert result.exit_code == 0, result.output
    assert "looks odd" not in result.stderr


def test_an_unknown_level_is_a_one_line_error(cli: Any) -> None:
    result = cli("--log-level", "loud", "examples")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: no log level 'loud': choose one of debug, info, "
                                     "warning, error, critical")
    assert result.stdout == ""
