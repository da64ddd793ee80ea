"""The public surface other layers code against (the scraper, the SDK's tests, exporters)."""

from __future__ import annotations

import dataclasses

import spyglass.ingest.exposition as exposition


def test_exported_names() -> None:
    assert sorted(exposition.__all__) == sorted(
        [
            "OPENMETRICS_CONTENT_TYPE",
            "Exemplar",
            "Exposition",
            "ScrapedSample",
            "format_text",
            "is_valid_openmetrics",
            "parse",
            "parse_openmetrics",
            "parse_text",
            "validate_openmetrics",
        ]
    )
    for name in exposition.__all__:
        assert getattr(exposition, name) is not None


def test_value_types_are_frozen_dataclasses_with_the_agreed_fields() -> None:
    fields = {
        exposition.Exemplar: ["labels", "value", "timestamp_ms"],
        exposition.ScrapedSample: ["labels", "value", "timestamp_ms", "exemplar"],
        exposition.Exposition: ["samples", "metadata"],
    }
    for cls, names in fields.items():
        assert [f.name for f in dataclasses.fields(cls)] == names
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert hasattr(cls, "__slots__")
    sample = exposition.ScrapedSample((("__name__", "up"),), 1.0, None)
    assert sample.exemplar is None
