"""Scraping: ``prometheus.yml`` ``scrape_configs`` turned into running scrape loops.

Pipeline, in module order: ``_target`` (discovered groups -> relabeled targets), ``_filesd`` (file
service discovery), ``_http`` (the request), ``_loop`` (one target: parse, label, limit, staleness,
synthetic series -> one ``SampleBatch``), ``_manager`` (pools, reload, the targets API view).
"""

from spyglass.ingest.scrape._filesd import FileSD, parse_target_file
from spyglass.ingest.scrape._http import (
    USER_AGENT,
    HTTPClientSettings,
    OAuth2Token,
    ScrapeFailed,
    accept_header,
    auth_headers,
    make_client,
)
from spyglass.ingest.scrape._loop import REPORT_NAMES, ScrapeLoop, ScrapeResult
from spyglass.ingest.scrape._manager import ScrapeManager
from spyglass.ingest.scrape._target import DroppedTarget, Target, build_targets, populate

__all__ = [
    "REPORT_NAMES",
    "USER_AGENT",
    "DroppedTarget",
    "FileSD",
    "HTTPClientSettings",
    "OAuth2Token",
    "ScrapeFailed",
    "ScrapeLoop",
    "ScrapeManager",
    "ScrapeResult",
    "Target",
    "accept_header",
    "auth_headers",
    "build_targets",
    "make_client",
    "parse_target_file",
    "populate",
]
