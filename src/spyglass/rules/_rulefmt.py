"""Reading Prometheus rule files, validated as ``promtool check rules`` validates them.

Two passes, as Prometheus' ``rulefmt`` does: decoding (YAML syntax, field types, unknown fields)
and, only if that succeeded, validation (names, PromQL, which fields fit which kind of rule).
Each pass reports every problem it finds, not just the first, as a ``ConfigError`` naming the
file, the line and the field path (``groups[0].rules[2].expr``). Prometheus' messages are kept
word for word; where a usual mistake is behind one, a hint says how to fix it (``_hints``).

A group may hold LogQL instead of PromQL (``type: logql``, vmalert's group field; or every group
of a file read with ``default_language="logql"``, a Loki ruler file): its expressions are then
checked as Loki's ruler checks them, metric queries only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml

from spyglass.core.config import Node, load_yaml
from spyglass.core.errors import ConfigError, ParseError, SpyglassError
from spyglass.core.labels import LABEL_NAME_RE, METRIC_NAME, METRIC_NAME_RE
from spyglass.rules import _hints as hints
from spyglass.rules._decode import Decoder, join
from spyglass.rules._gofmt import go_quote
from spyglass.rules._language import GROUP_TYPES, QueryLanguage, check_expression
from spyglass.rules._model import GroupSpec, RuleFile, RuleKind, RuleSpec
from spyglass.rules._template import TemplateChecker

NameValidation = Literal["utf8", "legacy"]
"""Prometheus 3 accepts any UTF-8 label and metric name (``utf8``, its default); ``legacy`` is the
``[a-zA-Z_][a-zA-Z0-9_]*`` rule of Prometheus 2 (``metric_name_validation_scheme: legacy``)."""

_FILE_FIELDS = ("groups",)
_GROUP_FIELDS = ("name", "interval", "query_offset", "limit", "rules", "labels", "type")
_RULE_FIELDS = (
    "record",
    "alert",
    "expr",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
)
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")
MULTIPLE_DOCUMENTS = (
    "Multiple document yaml rules files are not supported, only the first document is processed"
)


class RuleFileError(ConfigError):
    """A rule file (or promtool unit-test file) that does not load; ``errors`` holds every
    problem found, in file order.

    It is itself the first of them (file, line, field), and renders as all of them, one a line.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        if not errors:
            raise ValueError("RuleFileError needs at least one error")
        first = errors[0]
        super().__init__(first.message, file=first.file, line=first.line, field=first.field)
        self.errors = tuple(errors)
        self.args = ("\n".join(str(e) for e in self.errors),)


def load_rule_file(
    path: str | Path,
    *,
    name_validation: NameValidation = "utf8",
    ignore_unknown_fields: bool = False,
    check_template: TemplateChecker | None = None,
    default_language: QueryLanguage = "promql",
) -> RuleFile:
    """Read and validate one rule file; raises ``RuleFileError`` listing every problem.

    ``default_language`` is the language of groups that set no ``type`` (``logql`` for a Loki
    ruler file)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RuleFileError(
            [ConfigError(f"cannot read rule file: {exc.strerror or exc}", file=name)]
        ) from None
    return parse_rule_file(
        data,
        file=name,
        name_validation=name_validation,
        ignore_unknown_fields=ignore_unknown_fields,
        check_template=check_template,
        default_language=default_language,
    )


def parse_rule_file(
    text: str | bytes,
    *,
    file: str = "",
    name_validation: NameValidation = "utf8",
    ignore_unknown_fields: bool = False,
    check_template: TemplateChecker | None = None,
    default_language: QueryLanguage = "promql",
) -> RuleFile:
    """Validate rule file text (``file`` names it in errors).

    ``ignore_unknown_fields`` is promtool's flag of that name (for files extended with custom
    metadata); ``check_template`` checks the syntax of alert label and annotation templates.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RuleFileError(
                [ConfigError(f"yaml: invalid UTF-8 at byte {exc.start}", file=file)]
            ) from None
    root, warnings = _load_first_document(text, file)
    reader = _Reader(file, ignore_unknown_fields, default_language)
    groups = reader.document(root)
    if reader.d.errors:
        raise RuleFileError(reader.d.errors)
    validator = _Validator(file, text, name_validation, check_template)
    errors = validator.validate(groups)
    if errors:
        raise RuleFileError(errors)
    return RuleFile(file, tuple(g.spec for g in groups), tuple(warnings))


def _load_first_document(text: str, file: str) -> tuple[Node, list[str]]:
    """The first YAML document; later ones are ignored with Prometheus' warning."""
    try:
        return load_yaml(text, file), []
    except ConfigError as exc:
        if "another document" not in exc.message:
            raise RuleFileError(
                [
                    ConfigError(
                        hints.with_hint(exc.message, hints.yaml_hint(exc.message)),
                        file=file,
                        line=exc.line,
                    )
                ]
            ) from None
    second = _second_document_offset(text)
    if second is None:  # pragma: no cover - load_yaml only complains when there is a second
        raise RuleFileError([ConfigError("yaml: several documents", file=file)])
    return load_yaml(text[:second], file), [MULTIPLE_DOCUMENTS]


def _second_document_offset(text: str) -> int | None:
    seen = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.DocumentStartEvent) and event.start_mark is not None:
                seen += 1
                if seen == 2:
                    return int(event.start_mark.index)
    except yaml.YAMLError:
        return None
    return None


class _Rule:
    """A decoded rule with the nodes validation points at."""

    def __init__(self, node: Node, path: str) -> None:
        self.node = node
        self.path = path
        self.record = ""
        self.alert = ""
        self.expr = ""
        self.for_ms = 0
        self.keep_firing_for_ms = 0
        self.labels: dict[str, str] = {}
        self.annotations: dict[str, str] = {}
        self.fields: dict[str, Node] = {}

    def line(self, key: str) -> int:
        """The line of ``key``'s value, or of the rule when it has no such key."""
        child = self.fields.get(key)
        return child.line if child is not None else self.node.line

    def key_line(self, key: str, sub: str = "") -> int:
        """The line of a key (or of ``sub`` inside the mapping under ``key``)."""
        child = self.fields.get(key)
        if sub and child is not None and sub in child.key_lines:
            return child.key_lines[sub]
        return self.node.key_lines.get(key, self.node.line)


class _Group:
    """A decoded group."""

    def __init__(self, node: Node, path: str, file: str) -> None:
        self.node = node
        self.path = path
        self.file = file
        self.name = ""
        self.interval_ms = 0
        self.query_offset_ms: int | None = None
        self.limit = 0
        self.labels: dict[str, str] = {}
        self.label_nodes: Node | None = None
        self.rules: list[_Rule] = []
        self.type = ""
        self.language: QueryLanguage = "promql"

    @property
    def spec(self) -> GroupSpec:
        rules = []
        for r in self.rules:
            kind: RuleKind = "alerting" if r.alert else "recording"
            rules.append(
                RuleSpec(
                    kind=kind,
                    name=r.alert or r.record,
                    expr=r.expr,
                    for_ms=r.for_ms,
                    keep_firing_for_ms=r.keep_firing_for_ms,
                    labels=dict(r.labels),
                    annotations=dict(r.annotations),
                    line=r.node.line,
                )
            )
        return GroupSpec(
            name=self.name,
            rules=tuple(rules),
            interval_ms=self.interval_ms or None,
            query_offset_ms=self.query_offset_ms,
            limit=self.limit,
            labels=dict(self.labels),
            file=self.file,
            line=self.node.line,
            language=self.language,
        )


class _Reader:
    """Reads the node tree into groups and rules, collecting every type and field error."""

    def __init__(self, file: str, ignore_unknown_fields: bool, language: QueryLanguage) -> None:
        self.d = Decoder(file, ignore_unknown_fields=ignore_unknown_fields)
        self.file = file
        self.language = language

    def document(self, root: Node) -> list[_Group]:
        top = self.d.mapping(
            root, "rulefmt.RuleGroups", "", _FILE_FIELDS, lambda _key: hints.root_hint(root)
        )
        if top is None:
            message = self.d.errors[-1].message
            self.d.errors[-1] = ConfigError(
                hints.with_hint(message, hints.root_hint(root)), file=self.file, line=root.line
            )
            return []
        groups_node = top.get("groups")
        if groups_node is None:
            return []
        nodes = self.d.sequence(groups_node, "groups", "[]rulefmt.RuleGroup")
        return [self.group(node, f"groups[{i}]") for i, node in enumerate(nodes)]

    def group(self, node: Node, path: str) -> _Group:
        d = self.d
        g = _Group(node, path, self.file)
        g.language = self.language
        fields = d.mapping(node, "rulefmt.RuleGroup", path, _GROUP_FIELDS, hints.group_field_hint)
        if not fields:
            return g
        if "name" in fields:
            g.name = d.string(fields["name"], join(path, "name"))
        if "interval" in fields:
            g.interval_ms = d.duration(fields["interval"], join(path, "interval"))
        if "query_offset" in fields and not fields["query_offset"].is_null:
            g.query_offset_ms = d.duration(fields["query_offset"], join(path, "query_offset"))
        if "limit" in fields:
            g.limit = d.integer(fields["limit"], join(path, "limit"))
        if "labels" in fields:
            g.labels = d.string_map(fields["labels"], join(path, "labels"))
            g.label_nodes = fields["labels"]
        if "type" in fields:
            g.type = d.string(fields["type"], join(path, "type"))
            g.language = GROUP_TYPES.get(g.type, g.language)
        if "rules" in fields:
            rpath = join(path, "rules")
            nodes = d.sequence(fields["rules"], rpath, "[]rulefmt.Rule")
            g.rules = [self.rule(n, f"{rpath}[{i}]") for i, n in enumerate(nodes)]
        return g

    def rule(self, node: Node, path: str) -> _Rule:
        d = self.d
        r = _Rule(node, path)
        fields = d.mapping(node, "rulefmt.Rule", path, _RULE_FIELDS)
        if not fields:
            return r
        r.fields = fields
        if "record" in fields:
            r.record = d.string(fields["record"], join(path, "record"))
        if "alert" in fields:
            r.alert = d.string(fields["alert"], join(path, "alert"))
        if "expr" in fields:
            r.expr = d.string(fields["expr"], join(path, "expr"))
        if "for" in fields:
            r.for_ms = d.duration(fields["for"], join(path, "for"))
        if "keep_firing_for" in fields:
            r.keep_firing_for_ms = d.duration(
                fields["keep_firing_for"], join(path, "keep_firing_for")
            )
        if "labels" in fields:
            r.labels = d.string_map(fields["labels"], join(path, "labels"))
        if "annotations" in fields:
            r.annotations = d.string_map(fields["annotations"], join(path, "annotations"))
        return r


def _valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, which YAML's "\ud800" escapes can produce
        return False
    return True


class _Validator:
    """Prometheus' semantic checks, every error with its position."""

    def __init__(
        self,
        file: str,
        text: str,
        name_validation: NameValidation,
        check_template: TemplateChecker | None,
    ) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.legacy = name_validation == "legacy"
        self.check_template = check_template
        self.errors: list[ConfigError] = []

    def label_name_ok(self, name: str) -> bool:
        if self.legacy:
            return LABEL_NAME_RE.match(name) is not None
        return bool(name) and _valid_utf8(name)

    def metric_name_ok(self, name: str) -> bool:
        if self.legacy:
            return METRIC_NAME_RE.match(name) is not None
        return bool(name) and _valid_utf8(name)

    def add(self, line: int, path: str, message: str) -> None:
        self.errors.append(ConfigError(message, file=self.file, line=line, field=path))

    def validate(self, groups: list[_Group]) -> list[ConfigError]:
        seen: set[str] = set()
        for g in groups:
            if not g.name:
                self.add(g.node.line, join(g.path, "name"), "Groupname must not be empty")
            if g.name in seen:
                self.add(
                    g.node.line,
                    join(g.path, "name"),
                    f"groupname: {go_quote(g.name)} is repeated in the same file",
                )
            seen.add(g.name)
            if g.type and g.type not in GROUP_TYPES:
                self.add(
                    g.node.key_lines.get("type", g.node.line),
                    join(g.path, "type"),
                    f"group {go_quote(g.name)}: unknown type {go_quote(g.type)} "
                    "(want prometheus or logql)",
                )
            for key, value in g.labels.items():
                line = g.label_nodes.key_lines.get(key, g.node.line) if g.label_nodes else 0
                lpath = join(join(g.path, "labels"), key)
                if not self.label_name_ok(key) or key == METRIC_NAME:
                    self.add(line, lpath, f"invalid label name: {key}")
                if not _valid_utf8(value):
                    self.add(line, lpath, f"invalid label value: {value}")
            for i, r in enumerate(g.rules):
                self.rule(g, i, r)
        return self.errors

    def rule(self, g: _Group, index: int, r: _Rule) -> None:
        name = r.alert or r.record
        prefix = f"group {go_quote(g.name)}, rule {index + 1}, {go_quote(name)}: "

        def add(line: int, key: str, message: str) -> None:
            self.add(line, join(r.path, key) if key else r.path, prefix + message)

        if r.record and r.alert:
            add(r.line("record"), "record", "only one of 'record' and 'alert' must be set")
        if not r.record and not r.alert:
            add(r.node.line, "", "one of 'record' or 'alert' must be set")
        if not r.expr:
            add(r.line("expr"), "expr", "field 'expr' must be set in rule")
        else:
            try:
                check_expression(g.language, r.expr)
            except ParseError as exc:
                # The hints know PromQL's usual mistakes, not LogQL's.
                hint = hints.expr_hint(r.expr) if g.language == "promql" else ""
                add(
                    self.expr_line(r, exc.line),
                    "expr",
                    hints.with_hint(f"could not parse expression: {exc}", hint),
                )
        if r.record:
            if r.annotations:
                add(
                    r.key_line("annotations"),
                    "annotations",
                    "invalid field 'annotations' in recording rule",
                )
            if r.for_ms:
                add(r.key_line("for"), "for", "invalid field 'for' in recording rule")
            if r.keep_firing_for_ms:
                add(
                    r.key_line("keep_firing_for"),
                    "keep_firing_for",
                    "invalid field 'keep_firing_for' in recording rule",
                )
            if not self.metric_name_ok(r.record):
                add(
                    r.line("record"),
                    "record",
                    hints.with_hint(
                        f"invalid recording rule name: {r.record}", hints.record_name_hint(r.record)
                    ),
                )
            if "{" in r.record or "}" in r.record:
                add(
                    r.line("record"),
                    "record",
                    "braces present in the recording rule name; should it be in expr?: " + r.record,
                )
        for key, value in r.labels.items():
            line = r.key_line("labels", key)
            if not self.label_name_ok(key) or key == METRIC_NAME:
                add(line, f"labels.{key}", f"invalid label name: {key}")
            if not _valid_utf8(value):
                add(line, f"labels.{key}", f"invalid label value: {value}")
        for key in r.annotations:
            if not self.label_name_ok(key):
                add(
                    r.key_line("annotations", key),
                    f"annotations.{key}",
                    f"invalid annotation name: {key}",
                )
        if r.alert and self.check_template is not None:
            for what, items in (("label", r.labels), ("annotation", r.annotations)):
                section = "labels" if what == "label" else "annotations"
                for key, value in items.items():
                    try:
                        self.check_template(value)
                    except SpyglassError as exc:
                        add(r.key_line(section, key), f"{section}.{key}", f'{what} "{key}": {exc}')

    def expr_line(self, r: _Rule, expr_line: int) -> int:
        """The file line of a line inside the expression (block scalars start below the key)."""
        node = r.fields.get("expr")
        if node is None:
            return r.node.line
        offset = max(expr_line, 1) - 1
        start = node.line
        if 0 < start <= len(self.lines) and _BLOCK_SCALAR.search(self.lines[start - 1]):
            start += 1
        return start + offset


__all__ = [
    "MULTIPLE_DOCUMENTS",
    "NameValidation",
    "RuleFileError",
    "load_rule_file",
    "parse_rule_file",
]
