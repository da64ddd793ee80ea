"""Prometheus text format 0.0.4 and OpenMetrics 1.0: parse pages, validate them, write them.

``parse`` picks the format from the scrape response's Content-Type, as Prometheus does:
``application/openmetrics-text`` is OpenMetrics, anything else (``text/plain``, nothing) is the
text format. Every parser raises only ``core.errors.ParseError`` (1-based line and column).
"""

from __future__ import annotations

from spyglass.ingest.exposition._format import format_text
from spyglass.ingest.exposition._model import Exemplar, Exposition, ScrapedSample
from spyglass.ingest.exposition._openmetrics import (
    is_valid_openmetrics,
    parse_openmetrics,
    validate_openmetrics,
)
from spyglass.ingest.exposition._text import parse_text

OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text"


def parse(
    data: bytes | str, content_type: str | None = None, *, lenient: bool = False
) -> Exposition:
    """Parse a scraped page; OpenMetrics when ``content_type`` says so, else the text format.

    ``lenient`` is passed to ``parse_text``: a scraper that should take every page Prometheus'
    own scraper takes sets it; the default follows expfmt (``promtool check metrics``).
    """
    if content_type and content_type.strip().lower().startswith(OPENMETRICS_CONTENT_TYPE):
        return parse_openmetrics(data)
    return parse_text(data, lenient=lenient)


__all__ = [
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
