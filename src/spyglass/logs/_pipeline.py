"""A log query's pipeline, run over stored records one line at a time.

Each line carries its labels through the stages: the stream labels, then the structured
metadata, then whatever parsers extract. A name can come from several of those sources; as in
Loki the base name goes to the highest-precedence source (stream > metadata > parsed) and a
value that loses it moves to ``<name>_extracted``, where a parsed value wins over metadata.
A stage that fails on a line sets ``__error__`` (and ``__error_details__``) and the line goes
on; only a label filter can drop it. Metric queries refuse lines that still carry an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from spyglass.core.errors import TemplateError
from spyglass.core.logs import LogRecord
from spyglass.logs._ast import (
    Decolorize,
    DropKeep,
    FilterValue,
    LabelBinary,
    LabelExpr,
    LabelFilter,
    LabelFormat,
    LineFilter,
    LineFormat,
    Parser,
    Stage,
)
from spyglass.logs._ip import IPRange, check_ip_pattern, contains_ip_in
from spyglass.logs._parsers import (
    ExtractError,
    json_all,
    json_paths,
    logfmt,
    pattern_extractor,
    regexp_extractor,
    unpack,
)
from spyglass.logs._patterns import compile_pattern
from spyglass.logs._regex import anchored, compile_go_regex
from spyglass.logs._templates import compile_template
from spyglass.logs._units import go_duration_seconds, go_parse_bytes, go_parse_float

ERROR = "__error__"
ERROR_DETAILS = "__error_details__"

# Loki's decolorize expression (ANSI CSI and OSC sequences).
_ANSI = re.compile(
    "[\u001b\u009b][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\u0007)"
    "|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))"
)


def metadata_of(record: LogRecord) -> Mapping[str, str]:
    """The structured metadata LogQL sees: the record's own, plus the OpenTelemetry fields Loki 3
    keeps as structured metadata when it ingests OTLP (``severity_text``, ``severity_number``,
    ``trace_id``, ``span_id``), where the record has them and its metadata does not."""
    extra = {
        "severity_text": record.severity_text,
        "severity_number": str(record.severity_number) if record.severity_number else "",
        "trace_id": record.trace_id,
        "span_id": record.span_id,
    }
    if not any(extra.values()):
        return record.metadata
    merged = dict(record.metadata)
    for key, value in extra.items():
        if value:
            merged.setdefault(key, value)
    return merged


class Line:
    """One line on its way through the pipeline: text, labels and where they came from."""

    __slots__ = ("base", "labels", "line", "ts")

    def __init__(self, record: LogRecord) -> None:
        self.ts = record.timestamp_ns
        self.line = record.line
        labels = dict(record.stream)
        for key, value in metadata_of(record).items():
            if key in labels:
                labels.setdefault(f"{key}_extracted", value)
            else:
                labels[key] = value
        self.labels = labels
        self.base = frozenset(labels)

    def set_error(self, kind: str, details: str) -> None:
        if ERROR not in self.labels:
            self.labels[ERROR] = kind
            self.labels[ERROR_DETAILS] = details

    def add_parsed(self, pairs: Iterable[tuple[str, str]]) -> None:
        seen: set[str] = set()
        for name, value in pairs:
            key = f"{name}_extracted" if name in self.base else name
            if key in seen:
                continue
            seen.add(key)
            self.labels[key] = value


Step = Callable[[Line], bool]


@dataclass(frozen=True, slots=True)
class CompiledPipeline:
    """The runnable stages: ``run`` gives the line with its labels, or ``None`` if dropped."""

    steps: tuple[Step, ...]

    def run(self, record: LogRecord) -> Line | None:
        line = Line(record)
        for step in self.steps:
            if not step(line):
                return None
        return line


# -- line filters ------------------------------------------------------------------------------
def _value_test(op: str, value: FilterValue) -> Callable[[str], bool]:
    if value.ip:
        ranges: tuple[IPRange, ...] = (check_ip_pattern(value.value),)
        return lambda text: contains_ip_in(text, ranges)
    if op in ("|=", "!="):
        needle = value.value
        return lambda text: needle in text
    if op in ("|~", "!~"):
        regex = compile_go_regex(value.value)
        return lambda text: regex.search(text) is not None
    pattern = compile_pattern(value.value, line_filter=True)
    return pattern.matches


def line_filter_test(stage: LineFilter) -> Callable[[str], bool]:
    """Whether a line passes ``stage`` (or-ed operands; a negated filter matches none)."""
    tests = [_value_test(stage.op, v) for v in stage.values]
    if stage.op in ("|=", "|~", "|>"):
        return lambda text: any(t(text) for t in tests)
    return lambda text: not any(t(text) for t in tests)


def _line_filter(stage: LineFilter) -> Step:
    test = line_filter_test(stage)
    return lambda line: test(line.line)


# -- parsers -----------------------------------------------------------------------------------
def _parser(stage: Parser) -> Step:
    kind = stage.kind
    if kind == "json":
        params = stage.params

        def run_json(line: Line) -> bool:
            try:
                line.add_parsed(json_paths(line.line, params) if params else json_all(line.line))
            except ExtractError as exc:
                line.set_error(exc.kind, exc.details)
            return True

        return run_json
    if kind == "logfmt":
        strict = "--strict" in stage.flags
        keep_empty = "--keep-empty" in stage.flags
        lf_params = stage.params

        def run_logfmt(line: Line) -> bool:
            try:
                pairs = logfmt(line.line, lf_params, strict=strict, keep_empty=keep_empty)
            except ExtractError as exc:
                line.set_error(exc.kind, exc.details)
                return True
            line.add_parsed(pairs)
            return True

        return run_logfmt
    if kind == "unpack":

        def run_unpack(line: Line) -> bool:
            try:
                pairs, entry = unpack(line.line)
            except ExtractError as exc:
                line.set_error(exc.kind, exc.details)
                return True
            line.add_parsed(pairs)
            if entry is not None:
                line.line = entry
            return True

        return run_unpack
    extract = (regexp_extractor if kind == "regexp" else pattern_extractor)(stage.expression)

    def run_extract(line: Line) -> bool:
        line.add_parsed(extract(line.line))
        return True

    return run_extract


# -- label filters -----------------------------------------------------------------------------
def _compare(op: str, a: float, b: float) -> bool:
    if op in ("==", "="):
        return a == b
    if op == "!=":
        return a != b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "<":
        return a < b
    return a <= b


_CONVERTERS: dict[str, Callable[[str], float]] = {
    "number": go_parse_float,
    "duration": go_duration_seconds,
    "bytes": go_parse_bytes,
}


def label_test(expr: LabelExpr) -> Callable[[Line], bool]:
    """A label filter expression as a test on a line (it may set ``__error__``)."""
    if isinstance(expr, LabelBinary):
        left, right = label_test(expr.left), label_test(expr.right)
        if expr.op == "and":
            return lambda line: left(line) and right(line)
        return lambda line: left(line) or right(line)
    name, op = expr.name, expr.op
    if expr.kind == "string":
        if op in ("=", "!="):
            wanted_text, equal = expr.value, op == "="
            return lambda line: (line.labels.get(name, "") == wanted_text) == equal
        regex = anchored(expr.value)
        positive = op == "=~"
        return lambda line: (regex.fullmatch(line.labels.get(name, "")) is not None) == positive
    if expr.kind == "ip":
        ranges = (check_ip_pattern(expr.value),)
        positive = op == "="

        def ip_test(line: Line) -> bool:
            # Loki's ip() filter keeps any line that already failed.
            if ERROR in line.labels:
                return True
            value = line.labels.get(name)
            if value is None:
                return False
            return contains_ip_in(value, ranges) == positive

        return ip_test
    convert = _CONVERTERS[expr.kind]
    wanted = expr.number

    def numeric_test(line: Line) -> bool:
        # A converting filter needs its label (the error labels are not readable to it).
        value = None if name in (ERROR, ERROR_DETAILS) else line.labels.get(name)
        if value is None:
            return False
        try:
            got = convert(value)
        except ValueError as exc:
            line.set_error("LabelFilterErr", str(exc))
            return True
        return _compare(op, got, wanted)

    return numeric_test


def _label_filter(stage: LabelFilter) -> Step:
    return label_test(stage.expr)


# -- formatters --------------------------------------------------------------------------------
def _line_format(stage: LineFormat) -> Step:
    template = compile_template(stage.template)

    def run(line: Line) -> bool:
        try:
            line.line = template.render(line.labels, line.line, line.ts)
        except TemplateError as exc:
            line.set_error("TemplateFormatErr", str(exc))
        return True

    return run


def _label_format(stage: LabelFormat) -> Step:
    items = [
        (item.dst, compile_template(item.src) if item.template else None, item.src)
        for item in stage.items
    ]

    def run(line: Line) -> bool:
        before = dict(line.labels)
        for dst, template, src in items:
            if template is None:
                value = before.get(src)
                if src != dst:
                    line.labels.pop(src, None)
                if value is not None:
                    line.labels[dst] = value
                continue
            try:
                line.labels[dst] = template.render(before, line.line, line.ts)
            except TemplateError as exc:
                line.set_error("TemplateFormatErr", str(exc))
        return True

    return run


def _drop_keep(stage: DropKeep) -> Step:
    names = frozenset(stage.names)
    matchers = stage.matchers
    if stage.kind == "drop":

        def drop(line: Line) -> bool:
            for name in names:
                line.labels.pop(name, None)
            for m in matchers:
                value = line.labels.get(m.name)
                if value is not None and m.matches_value(value):
                    del line.labels[m.name]
            return True

        return drop

    def keep(line: Line) -> bool:
        kept: dict[str, str] = {}
        for name, value in line.labels.items():
            if name in names:
                kept[name] = value
        for m in matchers:
            found = line.labels.get(m.name)
            if found is not None and m.matches_value(found):
                kept[m.name] = found
        line.labels = kept
        return True

    return keep


def _decolorize_step(line: Line) -> bool:
    line.line = _ANSI.sub("", line.line)
    return True


def compile_stage(stage: Stage) -> Step:
    """One stage as a step; raises ``TemplateError``/``BadInput`` for what cannot run."""
    if isinstance(stage, LineFilter):
        return _line_filter(stage)
    if isinstance(stage, Parser):
        return _parser(stage)
    if isinstance(stage, LabelFilter):
        return _label_filter(stage)
    if isinstance(stage, LineFormat):
        return _line_format(stage)
    if isinstance(stage, LabelFormat):
        return _label_format(stage)
    if isinstance(stage, DropKeep):
        return _drop_keep(stage)
    assert isinstance(stage, Decolorize)
    return _decolorize_step


def compile_pipeline(stages: Iterable[Stage]) -> CompiledPipeline:
    """The stages, compiled in order."""
    return CompiledPipeline(tuple(compile_stage(s) for s in stages))


__all__ = [
    "ERROR",
    "ERROR_DETAILS",
    "CompiledPipeline",
    "Line",
    "compile_pipeline",
    "compile_stage",
    "label_test",
    "line_filter_test",
]
