"""The Prometheus text format 0.0.4 writer: what ``parse_text`` reads back unchanged.

Samples are written in order, each family's HELP and TYPE just before its first sample. Names
outside Prometheus' legacy grammar use Prometheus 3's quoted form. The text format has no
exemplars, units or OpenMetrics-only types, so exemplars and units are dropped and
info/stateset are written as gauges, gaugehistogram and unknown as untyped. Metadata of an
OpenMetrics counter ``foo`` whose samples are ``foo_total`` is written under ``foo_total``, the
name the text format uses (likewise ``bar`` info under ``bar_info``).
"""

from __future__ import annotations

from spyglass.core.labels import METRIC_NAME
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition._lexing import LABEL_NAME_RE, METRIC_NAME_RE
from spyglass.ingest.exposition._model import Exposition, ScrapedSample
from spyglass.ingest.exposition._numbers import format_float

_TEXT_TYPE = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "info": "gauge",
    "stateset": "gauge",
    "gaugehistogram": "untyped",
    "unknown": "untyped",
}
# Sample names of each OpenMetrics type, so a family's samples are written together.
_MEMBERS: dict[str, tuple[str, ...]] = {
    "counter": ("", "_total", "_created"),
    "histogram": ("", "_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("", "_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("", "_info"),
}


def format_text(exposition: Exposition) -> str:
    """Write ``exposition`` in the Prometheus text format 0.0.4 (ends with a newline).

    Samples keep their order; a family's HELP and TYPE are written just before its first
    sample (so never after it, which expfmt would refuse), and those of families without
    samples at the end.
    """
    names = {_name_of(s) for s in exposition.samples}
    meta: dict[str, MetricMetadata] = {}
    owner: dict[str, str] = {}  # sample name -> the text family it is written under
    for name, md in exposition.metadata.items():
        family = _text_family(name, md, names)
        meta[family] = md
        for suffix in _MEMBERS.get(md.type, ("",)):
            owner.setdefault(name + suffix, family)
    out: list[str] = []
    pending = dict(meta)
    for sample in exposition.samples:
        name = _name_of(sample)
        family = name if name in meta else owner.get(name, name)
        first = pending.pop(family, None)
        if first is not None:
            _write_metadata(out, family, first)
        out.append(_sample_line(sample))
    for family, rest in pending.items():
        _write_metadata(out, family, rest)
    return "".join(out)


def _write_metadata(out: list[str], family: str, md: MetricMetadata) -> None:
    quoted = _quote_name(family)
    if md.help:
        out.append(f"# HELP {quoted} {_escape_help(md.help)}\n")
    out.append(f"# TYPE {quoted} {_TEXT_TYPE.get(md.type, 'untyped')}\n")


def _text_family(name: str, md: MetricMetadata, names: set[str]) -> str:
    """The text format names counters and infos after their samples (``foo_total``)."""
    for kind, suffix in (("counter", "_total"), ("info", "_info")):
        if md.type == kind and name not in names and name + suffix in names:
            return name + suffix
    return name


def _name_of(sample: ScrapedSample) -> str:
    for k, v in sample.labels:
        if k == METRIC_NAME:
            return v
    return ""


def _sample_line(sample: ScrapedSample) -> str:
    name = _name_of(sample)
    pairs = [
        f'{k if LABEL_NAME_RE.fullmatch(k) else _quote(k)}="{_escape(v)}"'
        for k, v in sample.labels
        if k != METRIC_NAME
    ]
    if METRIC_NAME_RE.fullmatch(name):
        head = f"{name}{{{','.join(pairs)}}}" if pairs else name
    else:
        head = "{" + ",".join([_quote(name), *pairs]) + "}"
    value = format_float(sample.value)
    if sample.timestamp_ms is None:
        return f"{head} {value}\n"
    return f"{head} {value} {sample.timestamp_ms}\n"


def _quote_name(name: str) -> str:
    return name if METRIC_NAME_RE.fullmatch(name) else _quote(name)


def _quote(text: str) -> str:
    return '"' + _escape(text) + '"'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
