"""One target's scrape loop: fetch, parse, label, limit, track staleness, report.

Each scrape becomes one ``SampleBatch`` for the sink: the target's samples (with the target's
labels attached per ``honor_labels`` and ``metric_relabel_configs`` applied), staleness markers for
series that disappeared, and the synthetic ``up``/``scrape_*`` series. A failed scrape (HTTP
error, timeout, parse error, a limit) writes ``up`` 0 and marks every series of the previous
scrape stale, as Prometheus does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import numpy as np

from spyglass.core.config import ScrapeConfig
from spyglass.core.errors import BadInput, ParseError
from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import (
    LABEL_NAME_RE,
    METRIC_NAME,
    METRIC_NAME_RE,
    Labels,
    fingerprint,
    format_labels,
)
from spyglass.core.relabel import relabel
from spyglass.core.samples import STALE_NAN, MetricMetadata, SampleBatch
from spyglass.core.times import format_duration
from spyglass.ingest.exposition import Exposition
from spyglass.ingest.scrape._http import OAuth2Token, ScrapeFailed, fetch
from spyglass.ingest.scrape._target import Target
from spyglass.storage.ports import ExemplarSink, SampleSink

log = logging.getLogger(__name__)

Parser = Callable[[bytes, "str | None"], Exposition]

REPORT_NAMES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)
_ZERO_TIME = "0001-01-01T00:00:00Z"
_CREATED_TYPES = ("counter", "histogram", "summary", "gaugehistogram")


def rfc3339(ns: int) -> str:
    """Go's RFC3339Nano in UTC (trailing zeros of the fraction trimmed), as Prometheus prints."""
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f".{frac:09d}".rstrip("0") if frac else ""
    return f"{base}{fraction}Z"


@dataclass
class ScrapeResult:
    """What one scrape produced, before it goes to the sink."""

    batch: SampleBatch
    error: str
    duration_s: float
    # OpenMetrics exemplars of the samples kept, on their final (relabeled) series; one
    # without a timestamp takes its sample's, as in Prometheus.
    exemplars: list[Exemplar] = field(default_factory=list)


@dataclass
class _Next:
    """What a successful scrape changes in the loop's state once it is committed."""

    tracked: dict[Labels, int]
    seen: set[Labels]
    metadata: dict[str, MetricMetadata]
    labels_cache: dict[Labels, tuple[Labels, int] | None]


@dataclass
class _State:
    """What survives between scrapes (and across a config reload of the same target)."""

    # series to mark stale when they vanish, with their fingerprints
    tracked: dict[Labels, int] = field(default_factory=dict)
    seen: set[Labels] = field(default_factory=set)
    health: str = "unknown"
    last_error: str = ""
    last_scrape_ns: int = 0
    last_duration_s: float = 0.0
    metadata: dict[str, MetricMetadata] = field(default_factory=dict)


class ScrapeLoop:
    """Scrapes one target every interval until stopped."""

    def __init__(
        self,
        target: Target,
        config: ScrapeConfig,
        client: httpx.AsyncClient,
        sink: SampleSink,
        parser: Parser,
        *,
        first_delay_s: float = 0.0,
        token: OAuth2Token | None = None,
        exemplars: ExemplarSink | None = None,
    ) -> None:
        self.target = target
        self.exemplars = exemplars
        self.config = config
        self.client = client
        self.sink = sink
        self.parser = parser
        self.first_delay_s = first_delay_s
        if token is None and config.oauth2 is not None:
            token = OAuth2Token(config.oauth2, client)
        self.token = token
        self.state = _State()
        # Scraped label set -> final label set (or None when relabeling drops it), for the
        # series of the last scrape: most pages repeat their series, so this skips relabeling.
        self._labels_cache: dict[Labels, tuple[Labels, int] | None] = {}
        self.forced_error = ""
        self.next_at = 0.0  # monotonic time of the next scrape
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Begin scraping in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"scrape {self.target.url}"
            )

    async def stop(self) -> None:
        """Stop scraping; a scrape in flight is abandoned and writes nothing."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        interval = self.target.interval_ms / 1000
        self.next_at = time.monotonic() + self.first_delay_s
        while True:
            delay = self.next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await self.scrape_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug or a sink failure must not end the loop silently
                log.exception("scrape of %s failed unexpectedly", self.target.url)
            self.next_at += interval
            now = time.monotonic()
            if self.next_at < now:  # the scrape overran: skip the missed ticks, keep the phase
                self.next_at += math.ceil((now - self.next_at) / interval) * interval

    # -- one scrape ------------------------------------------------------------------------
    async def scrape_once(self) -> ScrapeResult:
        """Scrape now, hand the batch to the sink, update the target's health."""
        start_ns = time.time_ns()
        ts = start_ns // 1_000_000
        t0 = time.perf_counter()
        error = self.forced_error
        body, content_type = b"", None
        if not error:
            try:
                body, content_type = await fetch(self.client, self.target, self.config, self.token)
            except ScrapeFailed as exc:
                error = str(exc)
        duration = time.perf_counter() - t0
        nxt: _Next | None = None
        if error:
            result = ScrapeResult(self._failed(ts, duration, scraped=0), error, duration)
        else:
            # Off the event loop; it only reads the loop's state, which changes below, here,
            # so a scrape abandoned by stop() cannot leave half-updated staleness tracking.
            result, nxt = await asyncio.to_thread(self._process, body, content_type, ts, duration)
        st = self.state
        if nxt is None:
            st.tracked, st.seen = {}, set()
            log.debug("scrape of %s failed: %s", self.target.url, result.error)
        else:
            st.tracked, st.seen, st.metadata = nxt.tracked, nxt.seen, nxt.metadata
            self._labels_cache = nxt.labels_cache
        st.health = "down" if result.error else "up"
        st.last_error = result.error
        st.last_scrape_ns = start_ns
        st.last_duration_s = duration
        # Once a batch is handed over it is written whole, even if the loop is stopped meanwhile.
        await asyncio.shield(self.sink.append(result.batch))
        if result.exemplars and self.exemplars is not None:
            await asyncio.shield(self.exemplars.append_exemplars(result.exemplars))
        return result

    def _process(
        self, body: bytes, content_type: str | None, ts: int, duration: float
    ) -> tuple[ScrapeResult, _Next | None]:
        try:
            page = self.parser(body, content_type)
        except ParseError as exc:
            return ScrapeResult(self._failed(ts, duration, scraped=0), str(exc), duration), None
        cfg = self.config
        skip_created = bool(content_type) and "openmetrics" in (content_type or "").lower()
        rows = _Rows()
        exemplars: list[Exemplar] = []
        tracked: dict[Labels, int] = {}
        seen: set[Labels] = set()
        added = 0
        scraped = len(page.samples)
        old_cache = self._labels_cache
        cache: dict[Labels, tuple[Labels, int] | None] = {}
        try:
            for sample in page.samples:
                if skip_created and _is_created_series(sample.labels, page):
                    scraped -= 1
                    continue
                raw = sample.labels
                if raw in old_cache:  # cached entries passed the limits in an earlier scrape
                    entry = old_cache[raw]
                else:
                    labels = self._sample_labels(raw)
                    entry = None
                    if labels is not None:
                        self._check_limits(labels)
                        entry = (labels, fingerprint(labels))
                cache[raw] = entry
                if entry is None:
                    continue
                labels, fp = entry
                added += 1
                if labels in seen:
                    continue  # Prometheus keeps the first of duplicate samples in one scrape
                seen.add(labels)
                explicit = cfg.honor_timestamps and sample.timestamp_ms is not None
                sample_ts = (
                    sample.timestamp_ms if explicit and sample.timestamp_ms is not None else ts
                )
                if not explicit or cfg.track_timestamps_staleness:
                    tracked[labels] = fp
                rows.add(labels, fp, sample_ts, sample.value)
                e = sample.exemplar
                if e is not None and self.exemplars is not None:
                    e_ts = e.timestamp_ms if e.timestamp_ms is not None else sample_ts
                    exemplars.append(Exemplar(labels, e.labels, e.value, e_ts))
            if cfg.sample_limit and added > cfg.sample_limit:
                raise BadInput("sample limit exceeded")
        except BadInput as exc:
            message = exc.args[0] if exc.args else str(exc)
            batch = self._failed(ts, duration, scraped=scraped, post=added)
            return ScrapeResult(batch, message, duration), None
        previous = self.state.tracked
        for labels in sorted(previous.keys() - tracked.keys()):
            rows.add(labels, previous[labels], ts, STALE_NAN)
        series_added = len(seen - self.state.seen)
        self._report(rows, ts, (1.0, duration, scraped, added, series_added))
        nxt = _Next(tracked, seen, dict(page.metadata), cache)
        return ScrapeResult(rows.build(page.metadata), "", duration, exemplars), nxt

    def _sample_labels(self, labels: Labels) -> Labels | None:
        """Attach the target's labels (``honor_labels`` semantics), then metric relabeling."""
        lb = dict(labels)
        if self.config.honor_labels:
            for name, value in self.target.labels:
                if not lb.get(name):
                    lb[name] = value
        else:
            conflicts = []
            for name, value in self.target.labels:
                existing = lb.get(name, "")
                if existing:
                    conflicts.append((name, existing))
                lb[name] = value
            # Shorter names first, then "exported_" as often as needed to find a free name.
            for name, existing in sorted(conflicts, key=lambda p: len(p[0])):
                new = name
                while True:
                    new = "exported_" + new
                    if not lb.get(new):
                        lb[new] = existing
                        break
        out = relabel(lb.items(), self.config.metric_relabel_configs)
        return out or None

    def _check_limits(self, labels: Labels) -> None:
        cfg = self.config
        name = next((v for n, v in labels if n == METRIC_NAME), "")
        if not name:
            raise BadInput("__name__ label is missing")
        if cfg.metric_name_validation_scheme == "legacy" and not (
            METRIC_NAME_RE.match(name)
            and all(LABEL_NAME_RE.match(n) for n, _ in labels if n != METRIC_NAME)
        ):
            raise BadInput(f"invalid metric name or label names: {format_labels(labels)}")
        if cfg.label_limit and len(labels) > cfg.label_limit:
            raise BadInput(
                f"label_limit exceeded (metric: {name[:50]}, number of labels: "
                f"{len(labels)}, limit: {cfg.label_limit})"
            )
        for n, v in labels:
            if cfg.label_name_length_limit and len(n) > cfg.label_name_length_limit:
                raise BadInput(
                    f"label_name_length_limit exceeded (metric: {name[:50]}, label "
                    f"name: {n[:50]}, length: {len(n)}, limit: "
                    f"{cfg.label_name_length_limit})"
                )
            if cfg.label_value_length_limit and len(v) > cfg.label_value_length_limit:
                raise BadInput(
                    f"label_value_length_limit exceeded (metric: {name[:50]}, label "
                    f"name: {n[:50]}, value: {v[:50]!r}, length: {len(v)}, limit: "
                    f"{cfg.label_value_length_limit})"
                )

    def _failed(self, ts: int, duration: float, *, scraped: int, post: int = 0) -> SampleBatch:
        """Stale-mark every series of the last scrape and report ``up`` 0."""
        rows = _Rows()
        for labels, fp in sorted(self.state.tracked.items()):
            rows.add(labels, fp, ts, STALE_NAN)
        self._report(rows, ts, (0.0, duration, scraped, post, 0))
        return rows.build()

    def _report(self, rows: _Rows, ts: int, values: tuple[float, ...]) -> None:
        """Add the synthetic series: up, duration, scraped, post-relabeling, series added."""
        for name, value in zip(REPORT_NAMES, values, strict=True):
            labels = self._report_labels(name)
            rows.add(labels, fingerprint(labels), ts, value)

    def _report_labels(self, name: str) -> Labels:
        return tuple(sorted(((METRIC_NAME, name), *self.target.labels)))

    def end_of_run_batch(self, ts: int) -> SampleBatch:
        """Staleness markers for everything this target wrote, synthetic series included."""
        rows = _Rows()
        for labels, fp in sorted(self.state.tracked.items()):
            rows.add(labels, fp, ts, STALE_NAN)
        self._report(rows, ts, (STALE_NAN,) * len(REPORT_NAMES))
        self.state.tracked = {}
        return rows.build()

    # -- API view --------------------------------------------------------------------------
    def api_dict(self, global_url: str) -> dict[str, object]:
        """This target as an entry of ``activeTargets`` in ``/api/v1/targets``."""
        st = self.state
        return {
            "discoveredLabels": dict(self.target.discovered_labels),
            "labels": dict(self.target.labels),
            "scrapePool": self.target.scrape_pool,
            "scrapeUrl": self.target.url,
            "globalUrl": global_url,
            "lastError": st.last_error,
            "lastScrape": rfc3339(st.last_scrape_ns) if st.last_scrape_ns else _ZERO_TIME,
            "lastScrapeDuration": st.last_duration_s,
            "health": st.health,
            "scrapeInterval": format_duration(self.target.interval_ms),
            "scrapeTimeout": format_duration(self.target.timeout_ms),
        }


class _Rows:
    """Samples of one scrape with their fingerprints already known (cached across scrapes)."""

    __slots__ = ("fps", "series", "timestamps", "values")

    def __init__(self) -> None:
        self.series: dict[int, Labels] = {}
        self.fps: list[int] = []
        self.timestamps: list[int] = []
        self.values: list[float] = []

    def add(self, labels: Labels, fp: int, ts: int, value: float) -> None:
        self.series[fp] = labels
        self.fps.append(fp)
        self.timestamps.append(ts)
        self.values.append(value)

    def build(self, metadata: dict[str, MetricMetadata] | None = None) -> SampleBatch:
        return SampleBatch(
            self.series,
            np.array(self.fps, dtype=np.uint64),
            np.array(self.timestamps, dtype=np.int64),
            np.array(self.values, dtype=np.float64),
            dict(metadata or {}),
        )


def _is_created_series(labels: Labels, page: Exposition) -> bool:
    """An OpenMetrics ``<family>_created`` sample, which Prometheus 3 does not ingest."""
    name = next((v for n, v in labels if n == METRIC_NAME), "")
    if not name.endswith("_created"):
        return False
    md = page.metadata.get(name.removesuffix("_created"))
    return md is not None and md.type in _CREATED_TYPES


__all__ = ["REPORT_NAMES", "Parser", "ScrapeLoop", "ScrapeResult", "rfc3339"]
