"""Settings: one table, CLI over environment over default, errors naming the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.core.errors import ConfigError
from spyglass.core.settings import SETTINGS, Settings


def test_defaults_match_the_table() -> None:
    """The dataclass defaults are exactly what parsing the table's default texts gives."""
    assert Settings.load() == Settings()


def test_every_setting_is_a_field_with_env_and_option() -> None:
    fields = set(Settings.__dataclass_fields__) - {"explicit"}
    assert {s.name for s in SETTINGS} == fields
    s = next(s for s in SETTINGS if s.name == "flush_interval")
    assert s.env == "SPYGLASS_FLUSH_INTERVAL"
    assert s.option == "--flush-interval"


def test_cli_beats_env_beats_default() -> None:
    env = {"SPYGLASS_RETENTION": "30d", "SPYGLASS_DATA_DIR": "/var/lib/x"}
    s = Settings.load({"retention": "2h", "data_dir": None}, env)
    assert s.retention == 2 * 3_600_000
    assert s.data_dir == Path("/var/lib/x")


def test_settings_given_by_option_or_environment_are_known_as_explicit() -> None:
    """A default port that is taken may be skipped; one the user chose may not."""
    s = Settings.load({"otlp_http_address": None, "retention": "2h"}, {"SPYGLASS_DATA_DIR": "/x"})
    assert s.explicit == {"retention", "data_dir"}
    assert s.otlp_http_address == "127.0.0.1:4318"
    assert s.span_metrics is True
    given = Settings.load({"otlp_http_address": "127.0.0.1:4318"})
    assert "otlp_http_address" in given.explicit


def test_sizes_durations_and_bools_parse() -> None:
    s = Settings.load({"max_body_bytes": "8MiB", "scrape_self": "yes", "lookback_delta": "90s"})
    assert s.max_body_bytes == 8 * 1024 * 1024
    assert s.scrape_self is True
    assert s.lookback_delta == 90_000
    assert Settings.load({"max_body_bytes": "1024"}).max_body_bytes == 1024


@pytest.mark.parametrize(
    ("name", "text", "source"),
    [
        ("retention", "fortnight", "--retention"),
        ("max_body_bytes", "lots", "--max-body-bytes"),
        ("scrape_self", "maybe", "--scrape-self"),
        ("flush_max_samples", "-1", "--flush-max-samples"),
    ],
)
def test_bad_values_name_the_option(name: str, text: str, source: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.load({name: text})
    assert info.value.field == source


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.load({}, {"SPYGLASS_QUERY_TIMEOUT": "soon"})
    assert info.value.field == "SPYGLASS_QUERY_TIMEOUT"


def test_ingest_limits_follow_settings() -> None:
    limits = Settings.load({"max_labels_per_series": "10"}).ingest_limits
    assert limits.max_labels_per_series == 10


def test_state_url_takes_empty_postgresql_or_sqlite() -> None:
    for url in ("", "postgresql://u:p@db:5432/spyglass", "postgres://db/s", "sqlite:///s.db"):
        assert Settings.load({"state_url": url}).state_url == url


def test_a_state_url_of_another_database_names_the_option_and_hides_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.load({}, {"SPYGLASS_STATE_URL": "mysql://u:secret@db/spyglass"})
    assert info.value.field == "SPYGLASS_STATE_URL"
    assert "postgresql://" in str(info.value)
    assert "secret" not in str(info.value)


def test_an_empty_head_window_is_left_to_the_runtime() -> None:
    assert Settings.load().head_window is None
    assert Settings.load({"head_window": "0"}).head_window == 0
    assert Settings.load({"head_window": "90m"}).head_window == 90 * 60_000
    assert Settings.load({"head_max_bytes": "256MiB"}).head_max_bytes == 256 * 1024**2


def test_range_cache_settings() -> None:
    """An empty --range-cache is left to the runtime; the flag pair and the variable decide
    otherwise; the budget and the offset parse as a size and a duration."""
    default = Settings.load()
    assert default.range_cache is None
    assert default.range_cache_max_bytes == 256 * 1024**2
    assert default.range_cache_offset == 300_000
    assert Settings.load({"range_cache": "true"}).range_cache is True
    assert Settings.load({}, {"SPYGLASS_RANGE_CACHE": "off"}).range_cache is False
    assert Settings.load({"range_cache_max_bytes": "0"}).range_cache_max_bytes == 0
    assert Settings.load({"range_cache_offset": "90s"}).range_cache_offset == 90_000
    with pytest.raises(ConfigError) as info:
        Settings.load({}, {"SPYGLASS_RANGE_CACHE": "maybe"})
    assert info.value.field == "SPYGLASS_RANGE_CACHE"
