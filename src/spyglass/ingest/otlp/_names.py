"""OTLP metric and attribute names -> Prometheus names, as Prometheus' OTLP receiver builds them.

Follows the OpenTelemetry "Prometheus and OpenMetrics Compatibility" spec with Prometheus' default
translation strategy (legacy names, with suffixes): characters outside ``[a-zA-Z0-9:]`` split the
name into words joined by single underscores; the unit becomes a suffix (``s`` -> ``seconds``,
``By/s`` -> ``bytes_per_second``, units in braces are annotations and dropped); monotonic counters
end in ``_total``; gauges with unit ``1`` end in ``_ratio``.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from enum import Enum

# UCUM units (OTel semantic conventions) -> Prometheus base-unit words.
_UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "TiBy": "tibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "TBy": "terabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
# The denominator of a rate unit reads in the singular: "By/s" -> "bytes_per_second".
_PER_UNITS = {
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "mo": "month",
    "y": "year",
}

_NOT_METRIC_CHAR = re.compile(r"[^a-zA-Z0-9:]+")
_NOT_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9]+")
_UNDERSCORES = re.compile(r"_+")


class Kind(Enum):
    """What a metric is, as far as naming cares."""

    GAUGE = "gauge"
    COUNTER = "counter"  # monotonic cumulative sum: gets _total
    OTHER = "other"  # non-monotonic sums, histograms, summaries: unit suffix only


def _unit_parts(unit: str) -> tuple[str, str]:
    main, _, per = unit.partition("/")
    main = main.strip()
    per = per.strip()
    main_word = _UNITS.get(main, main) if main and "{" not in main and "}" not in main else ""
    per_word = ""
    if per and "{" not in per and "}" not in per:
        per_word = "per_" + _PER_UNITS.get(per, per)
    return _clean_unit(main_word), _clean_unit(per_word)


def _clean_unit(word: str) -> str:
    return _UNDERSCORES.sub("_", _NOT_METRIC_CHAR.sub("_", word)).removeprefix("_")


@functools.lru_cache(maxsize=1024)
def unit_name(unit: str) -> str:
    """The Prometheus unit word for an OTLP unit (``"By/s"`` -> ``"bytes_per_second"``)."""
    main, per = _unit_parts(unit)
    word = f"{main}_{per}" if main and per else main or per
    return word.strip("_")


@functools.lru_cache(maxsize=4096)
def metric_name(name: str, unit: str, kind: Kind) -> str:
    """The Prometheus metric name for an OTLP metric; ``""`` when nothing valid remains."""
    words = [w for w in _NOT_METRIC_CHAR.split(name) if w]
    main, per = _unit_parts(unit)
    if main in words:
        main = ""
    if per == "per_":
        per = ""
    else:
        per = per.removesuffix("_")
        if per in words:
            per = ""
    if per:
        main = main.removesuffix("_")
    if main:
        words.append(main)
    if per:
        words.append(per)
    if kind is Kind.COUNTER:
        words = [w for w in words if w != "total"] + ["total"]
    if unit == "1" and kind is Kind.GAUGE:
        words = [w for w in words if w != "ratio"] + ["ratio"]
    out = "_".join(words)
    if out and out[0].isdigit():
        out = "_" + out
    if out.strip("_") == "":
        return ""
    return out


@functools.lru_cache(maxsize=4096)
def label_name(key: str) -> str:
    """The Prometheus label name for an attribute key; ``""`` when nothing valid remains.

    Invalid characters (and runs of them, underscores included) become one ``_``; a leading digit
    gets a ``key_`` prefix; ``__reserved__`` names keep their double underscores.
    """
    if not key:
        return ""
    if len(key) >= 4 and key.startswith("__") and key.endswith("__"):
        inner = _NOT_LABEL_CHAR.sub("_", key[2:-2])
        out = f"__{inner}__"
    else:
        out = _NOT_LABEL_CHAR.sub("_", key)
    if out[0].isdigit():
        out = "key_" + out
    if out.strip("_") == "":
        return ""
    return out


def format_float(value: float) -> str:
    """A float as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it (``le``/``quantile``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


__all__ = ["Kind", "format_float", "label_name", "metric_name", "unit_name"]
