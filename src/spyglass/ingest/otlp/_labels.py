"""OTLP attributes -> Prometheus label text, shared by the object and the columnar metrics paths.

Attribute values are written as pdata's ``AsString`` writes them (JSON for arrays and maps);
attribute keys become label names through ``label_name``, and keys that sanitise to the same
name are joined with ``;`` in the order of their original keys. The resource's service
attributes become ``job`` and ``instance`` (``_convert``'s docstring has the rules).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from spyglass.core.exemplars import MAX_EXEMPLAR_LABEL_RUNES, Exemplar, exemplar_label_runes
from spyglass.core.labels import METRIC_NAME, Labels
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.otlp._names import format_float, label_name

IDENTIFYING = ("service.name", "service.namespace", "service.instance.id")
# The metadata of the ``target_info`` gauge that carries a resource's other attributes.
TARGET_INFO = MetricMetadata("gauge", "Target metadata", "")


def any_value_text(value: Any) -> str:
    """An OTLP ``AnyValue`` as label text (pdata's ``AsString``: JSON for arrays and maps)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    if kind == "string_value":
        return str(value.string_value)
    return (
        json.dumps(_any_json(value), separators=(",", ":"), ensure_ascii=False)
        if kind
        in (
            "array_value",
            "kvlist_value",
        )
        else _scalar_text(value, kind)
    )


def _scalar_text(value: Any, kind: str) -> str:
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return _js_number(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return ""


def _js_number(v: float) -> str:
    # pdata renders doubles like JavaScript's Number#toString.
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    if 1e-6 <= abs(v) < 1e21:
        return format_float(v)
    mantissa, _, exp = repr(v).partition("e")
    return f"{mantissa}e{'+' if not exp.startswith('-') else ''}{int(exp)}"


def _any_json(value: Any) -> object:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind == "int_value":
        return int(value.int_value)
    if kind == "double_value":
        v = float(value.double_value)
        return v if math.isfinite(v) else _js_number(v)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind == "array_value":
        return [_any_json(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_json(kv.value) for kv in value.kvlist_value.values}
    return None


# Attribute keys, bucket bounds and quantiles repeat in every export: their label text is worked
# out once (bounded, so a flood of distinct keys cannot grow it).
# The caches are keyed by the float's bits, not the float: 0.0 and -0.0 compare (and hash)
# equal, so a cache keyed by value gave both whichever label it saw first ("0" or "-0").
_label_name = functools.lru_cache(maxsize=4096)(label_name)
_float_bits = struct.Struct("<d").pack


@functools.lru_cache(maxsize=4096)
def _bound_label(bits: bytes, bound: float) -> Labels:
    return (("le", format_float(bound)),)


@functools.lru_cache(maxsize=1024)
def _quantile_label(bits: bytes, q: float) -> Labels:
    return (("quantile", format_float(q)),)


def bound_label(bound: float) -> Labels:
    """The ``le`` label of a histogram bucket's upper bound, as Prometheus formats it."""
    return _bound_label(_float_bits(bound), bound)


def quantile_label(q: float) -> Labels:
    """The ``quantile`` label of a summary's quantile, as Prometheus formats it."""
    return _quantile_label(_float_bits(q), q)


INF_BUCKET = (("le", "+Inf"),)


def attribute_labels(attributes: Iterable[Any]) -> dict[str, str]:
    """OTLP ``KeyValue``s as labels (name -> text), before the resource's identity is added."""
    out: dict[str, str] = {}
    for key, text in sorted((kv.key, any_value_text(kv.value)) for kv in attributes):
        name = _label_name(key)
        if not name:
            continue
        out[name] = f"{out[name]};{text}" if name in out else text
    return out


def identity(attributes: Iterable[Any]) -> dict[str, str]:
    """``job`` and ``instance`` from a resource's service attributes (when set)."""
    attrs = {kv.key: any_value_text(kv.value) for kv in attributes}
    out: dict[str, str] = {}
    if attrs.get("service.name"):
        ns = attrs.get("service.namespace", "")
        out["job"] = f"{ns}/{attrs['service.name']}" if ns else attrs["service.name"]
    if attrs.get("service.instance.id"):
        out["instance"] = attrs["service.instance.id"]
    return out


def label_set(base: Mapping[str, str], name: str, extra: tuple[tuple[str, str], ...]) -> Labels:
    """The sorted label set of series ``name`` with the point's labels ``base`` and ``extra``
    (``le``, ``quantile``); empty values mean "no such label"."""
    pairs = dict(base)
    pairs.update(extra)
    pairs[METRIC_NAME] = name
    return tuple(sorted((n, v) for n, v in pairs.items() if v != ""))


def exemplar_of(series: Labels, e: Any) -> Exemplar | None:
    """An OTLP exemplar of ``series``: its filtered attributes, trace and span ids (hex) as
    labels, as Prometheus' translator writes them; ``None`` when they exceed OpenMetrics' 128
    characters, as Prometheus drops them."""
    pairs = attribute_labels(e.filtered_attributes)
    if any(e.trace_id):
        pairs["trace_id"] = e.trace_id.hex()
    if any(e.span_id):
        pairs["span_id"] = e.span_id.hex()
    labels = tuple(sorted((n, v) for n, v in pairs.items() if v))
    if exemplar_label_runes(labels) > MAX_EXEMPLAR_LABEL_RUNES:
        return None
    return Exemplar(series, labels, exemplar_value(e), e.time_unix_nano // 1_000_000)


def exemplar_value(e: Any) -> float:
    """An exemplar's value, whichever of int or double it holds."""
    return float(e.as_int) if e.WhichOneof("value") == "as_int" else float(e.as_double)


# Arrays and maps nested deeper than this in one attribute value are left to the object path.
_MAX_NESTING = 16


def is_shallow(attributes: Iterable[Any]) -> bool:
    """Whether no value nests arrays or maps more than ``_MAX_NESTING`` deep. upb limits how
    deep messages nest (100), counted from the request: attributes read alone start a few
    levels higher, so a value nested near the limit could pass alone and not in the request;
    one this shallow passes in both."""
    return all(_shallow(kv.value, 0) for kv in attributes)


def _shallow(value: Any, depth: int) -> bool:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        inner = list(value.array_value.values)
    elif kind == "kvlist_value":
        inner = [kv.value for kv in value.kvlist_value.values]
    else:
        return True
    return depth < _MAX_NESTING and all(_shallow(v, depth + 1) for v in inner)


__all__ = [
    "IDENTIFYING",
    "INF_BUCKET",
    "TARGET_INFO",
    "any_value_text",
    "attribute_labels",
    "bound_label",
    "exemplar_of",
    "exemplar_value",
    "identity",
    "is_shallow",
    "label_set",
    "quantile_label",
]
