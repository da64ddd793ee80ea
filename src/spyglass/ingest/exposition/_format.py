"""The Prometheus text format 0.0.4 writer: what ``parse_text`` reads back unchanged.

Families are written in the order their metadata (or, without metadata, their first sample)
appears, each with its HELP and TYPE lines and then its samples. Names outside Prometheus'
legacy grammar use Prometheus 3's quoted form. The text format has no exemplars, units or
OpenMetrics-only types, so exemplars and units are dropped and info/stateset are written as
gauges, gaugehistogram and unknown as untyped. Metadata of an OpenMetrics counter ``foo`` whose
samples are ``foo_total`` is written under ``foo_total``, the name the text format uses.
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
_COMPOUND_SUFFIXES = ("_bucket", "_count", "_sum")


def format_text(exposition: Exposition) -> str:
    """Write ``exposition`` in the Prometheus text format 0.0.4 (ends with a newline)."""
    meta = {_text_family(name, md, exposition): md for name, md in exposition.metadata.items()}
    groups: dict[str, list[ScrapedSample]] = {name: [] for name in meta}
    for sample in exposition.samples:
        name = _name_of(sample)
        family = name
        if name not in meta:
            for suffix in _COMPOUND_SUFFIXES:
                base = name[: -len(suffix)]
                if name.endswith(suffix) and base in meta and meta[base].type in (
                    "histogram",
                    "summary",
                ):
                    family = base
                    break
        groups.setdefault(family, []).append(sample)
    out: list[str] = []
    for family, samples in groups.items():
        md = meta.get(family)
        if md is not None:
            quoted = _quote_name(family)
            if md.help:
                out.append(f"# HELP {quoted} {_escape_help(md.help)}\n")
            out.append(f"# TYPE {quoted} {_TEXT_TYPE.get(md.type, 'untyped')}\n")
        out.extend(_sample_line(s) for s in samples)
    return "".join(out)


def _text_family(name: str, md: MetricMetadata, exposition: Exposition) -> str:
    if md.type == "counter":
        names = {_name_of(s) for s in exposition.samples}
        if name not in names and name + "_total" in names:
            return name + "_total"
    if md.type == "info":
        names = {_name_of(s) for s in exposition.samples}
        if name not in names and name + "_info" in names:
            return name + "_info"
    return name


def _name_of(sample: ScrapedSample) -> str:
    for k, v in sample.labels:
        if k == METRIC_NAME:
            return v
    return ""


def _sample_line(sample: ScrapedSample) -> str:
    name = _name_of(sample)
    pairs = [
        f"{k if LABEL_NAME_RE.fullmatch(k) else _quote(k)}=\"{_escape(v)}\""
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
