"""OpenMetrics 1.0 text format: a lenient reader for scraping and a strict validator.

Both modes read the OpenMetrics ABNF: single spaces between tokens, no blank lines, no spaces in
label sets, timestamps as decimal seconds, exemplars as `` # {labels} value [timestamp]``, only
HELP/TYPE/UNIT comments, and a final ``# EOF`` with nothing after it.

``strict=False`` is what a scraper wants: what Prometheus 3's OpenMetrics parser checks (syntax,
known types, a unit that is a suffix of its family name, ``# EOF``) and what it adds to 1.0
(quoted UTF-8 names, a trailing comma in label sets). ``le``/``quantile`` values are stored
the way Prometheus 3 normalizes them.

``strict=True`` adds the specification's semantic rules, as the OpenMetrics parser suite and
its reference parser (prometheus_client) apply them: families contiguous and declared once,
metadata before samples, no name clashes between families, sample names that fit the type,
counter-like values never negative or NaN, histograms with ordered, cumulative, integer buckets
and a ``+Inf`` bucket equal to ``_count``, ``_sum`` only with ``_count``, quantiles in [0, 1],
infos 1, statesets 0 or 1, exemplars only on ``_total`` and buckets (at most 128 code points of
labels), no ``__`` label names, and MetricPoint groups that are contiguous with consistent,
non-decreasing timestamps.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NoReturn

from spyglass.core.errors import ParseError
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition._lexing import (
    LABEL_NAME_RE,
    METRIC_NAME_RE,
    decode,
    fail,
    labels_from,
    read_quoted,
    unescape_help,
)
from spyglass.ingest.exposition._model import Exemplar, Exposition, ScrapedSample
from spyglass.ingest.exposition._numbers import (
    DECIMAL_RE,
    format_openmetrics_float,
    parse_float,
    seconds_to_ms,
)

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LPAIR = r'[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
_VALUE = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN"
_FAST_RE = re.compile(
    rf"({_NAME})(?:\{{((?:{_LPAIR}(?:,{_LPAIR})*)?)\}})? ({_VALUE})(?: ([^ #]+))?"
)
_FAST_PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')

_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}
_ALL_SUFFIXES = frozenset(s for group in _SUFFIXES.values() for s in group if s)
_MAX_EXEMPLAR_RUNES = 128


def parse_openmetrics(data: bytes | str) -> Exposition:
    """Parse an OpenMetrics 1.0 page as a scraper should: syntax checked, semantics trusted.

    Timestamps (seconds) become milliseconds; exemplars are kept on their samples; metadata is
    keyed by family name (``foo`` for the counter whose samples are ``foo_total``). Raises
    ``ParseError`` with line and column; no other exception escapes.
    """
    return _OpenMetricsParser(decode(data), strict=False).run()


def is_valid_openmetrics(data: bytes | str) -> bool:
    """Whether ``data`` is valid OpenMetrics 1.0 under the specification's strict rules."""
    try:
        _OpenMetricsParser(decode(data), strict=True).run()
    except ParseError:
        return False
    return True


def validate_openmetrics(data: bytes | str) -> Exposition:
    """Parse ``data`` under the strict rules; the ``ParseError`` says what is wrong and where."""
    return _OpenMetricsParser(decode(data), strict=True).run()


@dataclass(slots=True)
class _Group:
    """Per label set (minus ``le``/``quantile``) state of a histogram, for the strict rules."""

    last_le: float = -math.inf
    last_bucket: float = -math.inf
    inf_bucket: float | None = None
    negative_bucket: bool = False
    count: float | None = None
    has_sum: bool = False
    negative_sum: bool = False


@dataclass(slots=True)
class _Family:
    name: str
    type: str | None = None
    help: str | None = None
    unit: str | None = None
    declared: bool = False
    has_samples: bool = False
    suffixes: tuple[str, ...] = ("",)
    # Sample names of this family, for the per-line membership test; lenient mode also lets a
    # family's bare name through (Prometheus does not check sample names against the type).
    names: frozenset[str] = frozenset()
    # Prometheus 3 normalizes le of histogram buckets and quantile of summary quantiles.
    bound_sample: str = ""
    bound_label: str = ""
    groups_seen: set[tuple[tuple[str, str], ...]] = field(default_factory=set)
    group_key: tuple[tuple[str, str], ...] | None = None
    group_ts: Decimal | None = None
    group: _Group | None = None


class _OpenMetricsParser:
    def __init__(self, text: str, *, strict: bool) -> None:
        self.text = text
        self.strict = strict
        self.samples: list[ScrapedSample] = []
        self.families: dict[str, _Family] = {}
        self.cur: _Family | None = None
        self.lineno = 0
        self.line = ""
        self.bounds: dict[str, str] = {}

    # -- driver ---------------------------------------------------------------------------

    def run(self) -> Exposition:
        lines = self.text.split("\n")
        last = len(lines) - 1
        fast = _FAST_RE.fullmatch
        pairs_of = _FAST_PAIR_RE.findall
        strict = self.strict
        append = self.samples.append
        inf = math.inf
        for idx, line in enumerate(lines):
            self.lineno = idx + 1
            self.line = line
            if line == "# EOF":
                if idx < last and not (idx + 1 == last and lines[last] == ""):
                    fail("text after # EOF", idx + 2, 1, lines[idx + 1])
                self._close_family()
                break
            if not line:
                if idx == last:
                    fail("data does not end with # EOF", self.lineno, 1)
                fail("empty line", self.lineno, 1)
            if line[0] == "#":
                self._metadata(line)
                continue
            m = None if strict else fast(line)
            if m is not None:
                name, block, vtok, ttok = m.groups()
                value = float(vtok)
                ts = None if ttok is None else seconds_to_ms(ttok)
                if (
                    (abs(value) != inf or vtok[-1] == "f")
                    and (ttok is None or ts is not None)
                    and (not block or "__name__" not in block)
                ):
                    pairs: list[tuple[str, str]] = pairs_of(block) if block else []
                    if len(pairs) < 2 or len(dict(pairs)) == len(pairs):
                        cur = self.cur
                        if cur is None or name not in cur.names:
                            cur = self._implicit_family(name)
                        else:
                            cur.has_samples = True
                        if name == cur.bound_sample:
                            self._normalize(pairs, cur.bound_label)
                        append(ScrapedSample(labels_from(name, pairs), value, ts))
                        continue
            self._sample(line)
        else:
            fail("data does not end with # EOF", len(lines), len(lines[-1]) + 1, lines[-1])
        metadata = {
            f.name: MetricMetadata(type=f.type or "unknown", help=f.help or "", unit=f.unit or "")
            for f in self.families.values()
            if f.declared
        }
        return Exposition(self.samples, metadata)

    def _fail(self, message: str, column: int = 1) -> NoReturn:
        fail(message, self.lineno, column, self.line)

    # -- metadata -------------------------------------------------------------------------

    def _metadata(self, line: str) -> None:
        keyword = line[2:6]
        if (
            not line.startswith("# ")
            or keyword not in ("HELP", "TYPE", "UNIT")
            or (line[6:7] != " ")
        ):
            self._fail("comment lines must be # HELP, # TYPE, # UNIT or # EOF")
        if line.startswith('"', 7) and not self.strict:
            # Prometheus 3: a quoted UTF-8 family name.
            name, end = read_quoted(line, 7, self.lineno, strict_escapes=False)
        else:
            m = METRIC_NAME_RE.match(line, 7)
            if m is None:
                self._fail("invalid metric name in " + keyword, 8)
            name, end = m.group(), m.end()
        if end >= len(line) or line[end] != " ":
            self._fail(f"expected a space and a value after the name in {keyword}", end + 1)
        rest = line[end + 1 :]
        fam = self._family_for_metadata(name, keyword)
        if keyword == "HELP":
            fam.help = unescape_help(rest, quote=True)
        elif keyword == "TYPE":
            if rest not in _SUFFIXES:
                self._fail(f'invalid metric type "{rest}"', end + 2)
            self._set_type(fam, rest)
        else:
            if rest and not name.endswith("_" + rest):
                self._fail(f'unit "{rest}" is not a suffix of metric "{name}"', end + 2)
            if self.strict and fam.type in ("info", "stateset") and rest:
                self._fail(f"{fam.type} metrics cannot have a unit")
            fam.unit = rest

    def _family_for_metadata(self, name: str, keyword: str) -> _Family:
        fam = self.families.get(name)
        if fam is None:
            fam = self._new_family(name)
        elif fam is not self.cur:
            if self.strict:
                self._fail(f'metadata for "{name}" after its family ended (or a name clash)')
            self._switch_to(fam)
        elif self.strict:
            if fam.has_samples:
                self._fail(f"{keyword} for {name} after its samples")
            if getattr(fam, keyword.lower()) is not None:
                self._fail(f"repeated {keyword} for {name}")
        fam.declared = True
        return fam

    def _set_type(self, fam: _Family, kind: str) -> None:
        fam.type = kind
        fam.suffixes = _SUFFIXES[kind]
        fam.names = self._names(fam)
        fam.bound_sample, fam.bound_label = {
            "histogram": (fam.name + "_bucket", "le"),
            "summary": (fam.name, "quantile"),
        }.get(kind, ("", ""))
        if not self.strict:
            return
        if fam.unit and kind in ("info", "stateset"):
            self._fail(f"{kind} metrics cannot have a unit")
        for suffix in fam.suffixes:
            if suffix and fam.name + suffix in self.families:
                self._fail(f'family "{fam.name}" clashes with family "{fam.name + suffix}"')

    # -- families -------------------------------------------------------------------------

    def _names(self, fam: _Family) -> frozenset[str]:
        names = {fam.name + suffix for suffix in fam.suffixes}
        if not self.strict:
            names.add(fam.name)
        return frozenset(names)

    def _owner(self, name: str) -> _Family | None:
        """The family ``name`` is a sample of (``x`` for ``x_bucket``), if there is one."""
        for suffix in _ALL_SUFFIXES:
            if name.endswith(suffix):
                other = self.families.get(name[: -len(suffix)])
                if other is not None and name in other.names:
                    return other
        return None

    def _new_family(self, name: str) -> _Family:
        if self.strict:
            # Look up only the families this name could be a sample of: linear, not quadratic,
            # in the number of families.
            other = self._owner(name)
            if other is not None:
                self._fail(f'name "{name}" clashes with family "{other.name}"')
        self._close_family()
        fam = _Family(name)
        fam.names = self._names(fam)
        self.families[name] = fam
        self.cur = fam
        return fam

    def _switch_to(self, fam: _Family) -> None:
        self._close_family()
        self.cur = fam

    def _implicit_family(self, name: str) -> _Family:
        fam = self.families.get(name)
        if fam is None and not self.strict:
            # A family's samples came back after another family: attribute them to it again.
            fam = self._owner(name)
            if fam is not None:
                self._switch_to(fam)
                fam.has_samples = True
                return fam
        if fam is None:
            fam = self._new_family(name)
        elif self.strict:
            self._fail(f'samples of "{name}" are not grouped together (or clash with a family)')
        else:
            self._switch_to(fam)
        fam.has_samples = True
        return fam

    def _close_family(self) -> None:
        fam = self.cur
        if fam is not None and self.strict and fam.group is not None:
            self._finish_group(fam)
        self.cur = None

    # -- samples --------------------------------------------------------------------------

    def _sample(self, line: str) -> None:
        n = len(line)
        pairs: list[tuple[str, str]] = []
        if line[0] == "{" and not self.strict:
            # Prometheus 3: {"my.metric", label="v"} names the metric inside the braces.
            pos, pairs, quoted = self._label_set(line, 1, name_allowed=True)
            if quoted is None:
                self._fail("metric name not set")
            name = quoted
        else:
            m = METRIC_NAME_RE.match(line)
            if m is None:
                self._fail("invalid metric name")
            name = m.group()
            pos = m.end()
            if pos < n and line[pos] == "{":
                pos, pairs, _ = self._label_set(line, pos + 1)
        if pos >= n or line[pos] != " ":
            self._fail("expected a space and a value after the name and labels", pos + 1)
        pos += 1
        end = line.find(" ", pos)
        end = n if end < 0 else end
        value = parse_float(line[pos:end])
        if value is None:
            self._fail(f'invalid value "{line[pos:end]}"', pos + 1)
            return
        ts: int | None = None
        # The strict rules compare timestamps exactly, not at millisecond resolution.
        exact: Decimal | None = None
        exemplar: Exemplar | None = None
        pos = end
        if pos < n:
            pos += 1
            if pos >= n:
                self._fail("trailing space after the value", pos)
            if line[pos] != "#":
                end = line.find(" ", pos)
                end = n if end < 0 else end
                ts = seconds_to_ms(line[pos:end])
                if ts is None:
                    self._fail(f'invalid timestamp "{line[pos:end]}"', pos + 1)
                exact = Decimal(line[pos:end])
                pos = end
                if pos < n:
                    pos += 1
                    if pos >= n or line[pos] != "#":
                        self._fail("expected an exemplar or the end of the line", pos + 1)
            if pos < n:
                exemplar = self._exemplar(line, pos)
        cur = self.cur
        fam = cur if cur is not None and name in cur.names else self._implicit_family(name)
        fam.has_samples = True
        if self.strict:
            self._check(fam, name, pairs, value, ts=exact, exemplar=exemplar)
        if name == fam.bound_sample:
            self._normalize(pairs, fam.bound_label)
        self.samples.append(ScrapedSample(labels_from(name, pairs), value, ts, exemplar))

    def _normalize(self, pairs: list[tuple[str, str]], label: str) -> None:
        """Rewrite the ``le``/``quantile`` value as Prometheus 3 stores it (when it parses)."""
        for i, (n, v) in enumerate(pairs):
            if n == label:
                normal = self.bounds.get(v)
                if normal is None:
                    number = parse_float(v)
                    normal = v if number is None else format_openmetrics_float(number)
                    self.bounds[v] = normal
                pairs[i] = (n, normal)
                return

    def _label_set(
        self, line: str, pos: int, *, name_allowed: bool = False
    ) -> tuple[int, list[tuple[str, str]], str | None]:
        """Labels after ``{``; returns (end, pairs, metric name found inside the braces).

        Strict mode is OpenMetrics 1.0's grammar. The lenient mode also takes what Prometheus 3
        reads: a trailing comma, quoted label names, and (with ``name_allowed``) a lone quoted
        string as the metric name.
        """
        n = len(line)
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        name: str | None = None
        lenient = not self.strict
        if pos < n and line[pos] == "}":
            return pos + 1, pairs, name
        while True:
            lstart = pos
            if lenient and line.startswith('"', pos):
                lname, pos = read_quoted(line, pos, self.lineno, strict_escapes=False)
                if pos < n and line[pos] in ",}" and name_allowed and name is None and not pairs:
                    name = lname
                    if line[pos] == "}":
                        return pos + 1, pairs, name
                    pos += 1
                    continue
                if not lname:
                    self._fail("empty label name", lstart + 1)
            else:
                m = LABEL_NAME_RE.match(line, pos)
                if m is None:
                    self._fail("invalid label name", pos + 1)
                lname = m.group()
                pos = m.end()
            if pos >= n or line[pos] != "=":
                self._fail("expected '=' after label name", pos + 1)
            pos += 1
            if pos >= n or line[pos] != '"':
                self._fail("expected '\"' at start of label value", pos + 1)
            value, pos = read_quoted(line, pos, self.lineno, strict_escapes=False)
            if lname == "__name__" or (self.strict and lname.startswith("__")):
                # OpenMetrics reserves every label name that starts with "__".
                self._fail(f'label name "{lname}" is reserved', lstart + 1)
            if lname in seen:
                self._fail(f'duplicate label name "{lname}"', lstart + 1)
            seen.add(lname)
            pairs.append((lname, value))
            if pos < n and line[pos] == "}":
                return pos + 1, pairs, name
            if pos >= n or line[pos] != ",":
                self._fail("expected ',' or '}' after label value", pos + 1)
            pos += 1
            if lenient and pos < n and line[pos] == "}":
                return pos + 1, pairs, name

    def _exemplar(self, line: str, pos: int) -> Exemplar:
        n = len(line)
        if not line.startswith("# {", pos):
            self._fail("malformed exemplar: expected '# {'", pos + 1)
        start = pos + 2
        pos, pairs, _ = self._label_set(line, pos + 3)
        if self.strict:
            if not pairs:
                self._fail("exemplar without labels", start + 1)
            runes = sum(len(k) + len(v) for k, v in pairs)
            if runes > _MAX_EXEMPLAR_RUNES:
                self._fail(f"exemplar labels have {runes} characters, more than 128", start + 1)
        if pos >= n or line[pos] != " ":
            self._fail("expected a space and a value after the exemplar labels", pos + 1)
        pos += 1
        end = line.find(" ", pos)
        end = n if end < 0 else end
        value = parse_float(line[pos:end])
        if value is None:
            self._fail(f'invalid exemplar value "{line[pos:end]}"', pos + 1)
            value = 0.0
        ts: int | None = None
        if end < n:
            pos = end + 1
            ts = seconds_to_ms(line[pos:])
            if ts is None:
                self._fail(f'invalid exemplar timestamp "{line[pos:]}"', pos + 1)
        return Exemplar(tuple(sorted(p for p in pairs if p[1])), value, ts)

    # -- strict semantics -----------------------------------------------------------------

    def _check(
        self,
        fam: _Family,
        name: str,
        pairs: list[tuple[str, str]],
        value: float,
        *,
        ts: Decimal | None,
        exemplar: Exemplar | None,
    ) -> None:
        kind = fam.type or "unknown"
        suffix = name[len(fam.name) :]
        group = self._group(fam, kind, suffix, pairs, ts)
        allowed_exemplar = (kind == "counter" and suffix == "_total") or (
            kind in ("histogram", "gaugehistogram") and suffix == "_bucket"
        )
        if exemplar is not None and not allowed_exemplar:
            self._fail(f"exemplars are not allowed on {name} ({kind})")
        if kind == "counter":
            if suffix == "_total":
                _counter_value(self, value, name)
        elif kind == "info":
            if value != 1:
                self._fail("info metrics must have the value 1")
        elif kind == "stateset":
            if not any(k == fam.name for k, _ in pairs):
                self._fail(f'stateset samples need a "{fam.name}" label')
            if value not in (0, 1):
                self._fail("stateset values must be 0 or 1")
        elif kind == "summary":
            if suffix == "":
                q = _label(pairs, "quantile")
                qv = None if q is None else _strict_number(q)
                if qv is None or math.isnan(qv) or not 0 <= qv <= 1:
                    self._fail("summary quantile samples need a quantile label in [0, 1]")
                if value < 0:
                    self._fail("summary quantile values cannot be negative")
            else:
                _counter_value(self, value, name)
        elif kind in ("histogram", "gaugehistogram"):
            self._histogram_sample(fam, group, suffix, pairs, value)

    def _group(
        self,
        fam: _Family,
        kind: str,
        suffix: str,
        pairs: list[tuple[str, str]],
        ts: Decimal | None,
    ) -> _Group:
        """Track the MetricPoint group a sample belongs to, as the reference parser does.

        A group is the sample's labels without ``le`` (buckets), ``quantile`` (quantiles) or the
        stateset's own label; all infos of a family form one group. Groups must be contiguous,
        and within one the samples all have timestamps or none do, never going backwards
        (infos excepted). A histogram's bucket checks run per group and timestamp.
        """
        drop = ""
        if kind == "summary" and suffix == "":
            drop = "quantile"
        elif kind == "stateset":
            drop = fam.name
        elif kind in ("histogram", "gaugehistogram") and suffix == "_bucket":
            drop = "le"
        key = () if kind == "info" else tuple(sorted(p for p in pairs if p[0] != drop))
        if fam.group is None or fam.group_key != key:
            if fam.group is not None:
                self._finish_group(fam)
            if key in fam.groups_seen:
                self._fail("samples of a metric are not grouped together")
            fam.groups_seen.add(key)
            fam.group_key = key
        else:
            if (ts is None) != (fam.group_ts is None):
                self._fail("a metric mixes samples with and without timestamps")
            backwards = ts is not None and fam.group_ts is not None and ts < fam.group_ts
            if backwards and kind != "info":
                self._fail("timestamps of a metric go backwards")
            if ts == fam.group_ts:
                return fam.group
            self._finish_group(fam)
            fam.group_key = key
        fam.group_ts = ts
        fam.group = _Group()
        return fam.group

    def _histogram_sample(
        self, fam: _Family, group: _Group, suffix: str, pairs: list[tuple[str, str]], value: float
    ) -> None:
        gauge = fam.type == "gaugehistogram"
        if suffix == "_bucket":
            le = _label(pairs, "le")
            bound = None if le is None else _strict_number(le)
            if (
                le is None
                or bound is None
                or math.isnan(bound)
                or (math.isinf(bound) and le != "+Inf")
            ):
                self._fail('histogram buckets need an "le" label (a number or +Inf)')
                return
            _counter_value(self, value, fam.name + suffix)
            if not value.is_integer():
                self._fail("histogram bucket values must be integers")
            if bound <= group.last_le:
                self._fail("histogram buckets must be in increasing order of le")
            if value < group.last_bucket:
                self._fail("histogram buckets must be cumulative")
            group.last_le = bound
            group.last_bucket = value
            if bound < 0:
                group.negative_bucket = True
            if math.isinf(bound):
                group.inf_bucket = value
        elif suffix in ("_count", "_gcount"):
            _counter_value(self, value, fam.name + suffix)
            if not value.is_integer():
                self._fail(f"{fam.name + suffix} must be an integer")
            group.count = value
        elif suffix in ("_sum", "_gsum"):
            if math.isnan(value):
                self._fail(f"{fam.name + suffix} cannot be NaN")
            if value < 0:
                if not gauge:
                    self._fail(f"{fam.name + suffix} cannot be negative")
                group.negative_sum = True
            group.has_sum = True

    def _finish_group(self, fam: _Family) -> None:
        group = fam.group
        fam.group = None
        if group is None or fam.type not in ("histogram", "gaugehistogram"):
            return
        gauge = fam.type == "gaugehistogram"
        count, total = ("_gcount", "_gsum") if gauge else ("_count", "_sum")
        if group.inf_bucket is None:
            self._fail(f'histogram "{fam.name}" has no +Inf bucket')
        if group.count is not None and group.count != group.inf_bucket:
            self._fail(f"{fam.name}{count} does not match the +Inf bucket")
        if group.has_sum != (group.count is not None):
            self._fail(f"{fam.name}{count} and {fam.name}{total} must come together")
        if not gauge and group.negative_bucket and group.has_sum:
            self._fail(f"{fam.name}_sum is not allowed with negative buckets")
        if gauge and group.negative_sum and not group.negative_bucket:
            self._fail(f"{fam.name}_gsum cannot be negative without negative buckets")


def _counter_value(parser: _OpenMetricsParser, value: float, name: str) -> None:
    if math.isnan(value) or value < 0:
        parser._fail(f"{name} must be a non-negative number")


def _label(pairs: list[tuple[str, str]], name: str) -> str | None:
    for k, v in pairs:
        if k == name:
            return v
    return None


def _strict_number(text: str) -> float | None:
    """A label value that must be an OpenMetrics number (``le``, ``quantile``)."""
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf"))
    if DECIMAL_RE.fullmatch(text) is None:
        return None
    return float(text)
