"""Promtail's one-entry stages: parsing (``json``, ``regex``, ``logfmt``), labelling (``labels``,
``structured_metadata``, ``static_labels``, ``labeldrop``, ``labelallow``), rewriting
(``output``, ``template``) and filtering (``drop``).

Each ``build_*`` reads the stage's YAML the way Promtail does (unknown fields are errors, with
file, line and field) and returns the stage. Semantics follow Promtail's documentation: parsers
write into the extracted map and never fail an entry (a line that does not parse passes
unchanged, unless ``drop_malformed``); ``labels`` and ``structured_metadata`` copy extracted
values converted to strings; ``drop`` drops when every condition it sets holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

from spyglass.agent._entry import Entry, value_text
from spyglass.agent._jmespath import Path, PathError, parse_path, search
from spyglass.agent._logfmt import parse_logfmt
from spyglass.agent._stage import Drops, EntryStage
from spyglass.core.config.fields import Section
from spyglass.core.errors import ConfigError, TemplateError
from spyglass.core.relabel import compile_regex
from spyglass.core.template import Template

# google-re2 (a dependency) has no type stubs. Promtail's regexes are Go's RE2: same syntax,
# and linear time on whatever lines a file holds.
_re2: Any = importlib.import_module("re2")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def search_regex(s: Section, key: str) -> Any:
    """The section's regex field compiled for searching (unanchored, as Go's ``MatchString``
    and ``FindStringSubmatch``); a bad pattern is a ``ConfigError`` in Go's words."""
    expr = s.text(key)
    try:
        compile_regex(expr)  # Go's wording for a pattern RE2 refuses
    except ConfigError as exc:
        raise s.error(key, exc.message) from None
    options = _re2.Options()
    options.log_errors = False
    return _re2.compile(expr, options)


def label_names(s: Section, names: list[str], key: str) -> None:
    """Refuse names Loki cannot take as labels (the error points at ``key``, or at the name
    itself when ``key`` is empty: the names are the section's keys)."""
    for name in names:
        if not _LABEL_NAME.match(name):
            raise s.error(key or name, f"invalid label name: {name}")


def _source(entry: Entry, source: str) -> str | None:
    """The text a parser reads: the line, or the extracted value ``source`` names."""
    if not source:
        return entry.line
    if source not in entry.extracted:
        return None
    return value_text(entry.extracted[source])


# -- parsers -----------------------------------------------------------------------------------
class JSONStage(EntryStage):
    """``json``: JMESPath ``expressions`` over the line (or ``source``) into the extracted map."""

    def __init__(
        self, expressions: list[tuple[str, Path]], source: str, drop_malformed: bool, drops: Drops
    ) -> None:
        self.expressions = expressions
        self.source = source
        self.drop_malformed = drop_malformed
        self.drops = drops

    def apply(self, entry: Entry, now_ns: int) -> bool:
        text = _source(entry, self.source)
        if text is None:
            return True
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, (dict, list)):
            if self.drop_malformed:
                self.drops.add("json_malformed")
                return False
            return True
        for name, path in self.expressions:
            value = search(path, doc)
            if value is None:
                continue
            if isinstance(value, (dict, list)):
                # Promtail marshals objects and arrays back to JSON text (Go sorts map keys).
                value = json.dumps(value, separators=(",", ":"), sort_keys=True)
            entry.extracted[name] = value
        return True


def build_json(s: Section, drops: Drops) -> JSONStage:
    """The ``json`` stage."""
    if "expressions" not in s:
        raise s.error("expressions", "expressions is required")
    exprs = s.strmap("expressions")
    compiled = []
    for name, expr in exprs.items():
        try:
            compiled.append((name, parse_path(expr or name)))
        except PathError as exc:
            raise s.error("expressions", str(exc)) from None
    return JSONStage(compiled, s.text("source"), s.flag("drop_malformed", False), drops)


class RegexStage(EntryStage):
    """``regex``: the named groups of the first match go to the extracted map."""

    def __init__(self, regex: Any, source: str) -> None:
        self.regex = regex
        self.source = source
        self.names = [n for n, _ in sorted(regex.groupindex.items(), key=lambda kv: kv[1])]

    def apply(self, entry: Entry, now_ns: int) -> bool:
        text = _source(entry, self.source)
        if text is None:
            return True
        m = self.regex.search(text)
        if m is None:
            return True
        for name in self.names:
            entry.extracted[name] = m.group(name) or ""
        return True


def build_regex(s: Section) -> RegexStage:
    """The ``regex`` stage."""
    if not s.text("expression"):
        raise s.error("expression", "expression is required")
    regex = search_regex(s, "expression")
    if not regex.groupindex:
        raise s.error("expression", "regex expression requires at least one named capture group")
    return RegexStage(regex, s.text("source"))


class LogfmtStage(EntryStage):
    """``logfmt``: the keys ``mapping`` names, from the line (or ``source``)."""

    def __init__(self, mapping: dict[str, str], source: str) -> None:
        # logfmt key -> extracted names (one key may feed several names)
        self.wanted: dict[str, list[str]] = {}
        for name, key in mapping.items():
            self.wanted.setdefault(key or name, []).append(name)
        self.source = source

    def apply(self, entry: Entry, now_ns: int) -> bool:
        text = _source(entry, self.source)
        if text is None:
            return True
        pairs, _ = parse_logfmt(text)
        for key, value in pairs:
            for name in self.wanted.get(key, ()):
                entry.extracted[name] = value
        return True


def build_logfmt(s: Section) -> LogfmtStage:
    """The ``logfmt`` stage."""
    if not s.strmap("mapping"):
        raise s.error("mapping", "logfmt mapping is required")
    return LogfmtStage(s.strmap("mapping"), s.text("source"))


# -- labels ------------------------------------------------------------------------------------
class LabelsStage(EntryStage):
    """``labels`` (into the label set) or ``structured_metadata`` (into the entry's metadata):
    ``name: source`` pairs, the source defaulting to the name."""

    def __init__(self, names: dict[str, str], metadata: bool) -> None:
        self.names = [(name, source or name) for name, source in names.items()]
        self.metadata = metadata

    def apply(self, entry: Entry, now_ns: int) -> bool:
        target = entry.metadata if self.metadata else entry.labels
        for name, source in self.names:
            if source not in entry.extracted:
                continue
            text = value_text(entry.extracted[source])
            if text:
                target[name] = text
        return True


def build_labels(node_section: Section, metadata: bool) -> LabelsStage:
    """The ``labels`` or ``structured_metadata`` stage (a map of name to source)."""
    names = {k: node_section.text(k) for k in node_section.items}
    if not names:
        raise node_section.node.error(
            "labels stage config must contain at least one label", node_section.path
        )
    label_names(node_section, list(names), "")
    return LabelsStage(names, metadata)


class StaticLabelsStage(EntryStage):
    """``static_labels``: fixed labels on every entry."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels

    def apply(self, entry: Entry, now_ns: int) -> bool:
        entry.labels.update(self.labels)
        return True


class LabelFilterStage(EntryStage):
    """``labeldrop`` (remove the names) or ``labelallow`` (keep only the names)."""

    def __init__(self, names: list[str], allow: bool) -> None:
        self.names = frozenset(names)
        self.allow = allow

    def apply(self, entry: Entry, now_ns: int) -> bool:
        for name in list(entry.labels):
            if (name in self.names) != self.allow:
                del entry.labels[name]
        return True


# -- rewriting ---------------------------------------------------------------------------------
class OutputStage(EntryStage):
    """``output``: the extracted value ``source`` becomes the line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def apply(self, entry: Entry, now_ns: int) -> bool:
        if self.source in entry.extracted:
            text = value_text(entry.extracted[self.source])
            if text is not None:
                entry.line = text
        return True


def build_output(s: Section) -> OutputStage:
    """The ``output`` stage."""
    if not s.text("source"):
        raise s.error("source", "output source value is required")
    return OutputStage(s.text("source"))


def _template_functions() -> dict[str, Callable[..., Any]]:
    def to_lower(s: str) -> str:
        return s.lower()

    def to_upper(s: str) -> str:
        return s.upper()

    def replace(s: str, old: str, new: str, n: int) -> str:
        return s.replace(old, new, n if n >= 0 else -1)

    def trim(s: str, cutset: str) -> str:
        return s.strip(cutset)

    def trim_left(s: str, cutset: str) -> str:
        return s.lstrip(cutset)

    def trim_right(s: str, cutset: str) -> str:
        return s.rstrip(cutset)

    def trim_prefix(s: str, prefix: str) -> str:
        return s.removeprefix(prefix)

    def trim_suffix(s: str, suffix: str) -> str:
        return s.removesuffix(suffix)

    def trim_space(s: str) -> str:
        return s.strip()

    def regex_replace_all(regex: str, s: str, repl: str) -> str:
        return str(_re2.compile(regex).sub(repl.replace("$", "\\"), s))

    def regex_replace_all_literal(regex: str, s: str, repl: str) -> str:
        return str(_re2.compile(regex).sub(lambda _m: repl, s))

    def sha2_hash(salt: str, s: str) -> str:
        return hashlib.sha256((salt + s).encode()).hexdigest()

    return {
        "ToLower": to_lower,
        "ToUpper": to_upper,
        "Replace": replace,
        "Trim": trim,
        "TrimLeft": trim_left,
        "TrimRight": trim_right,
        "TrimPrefix": trim_prefix,
        "TrimSuffix": trim_suffix,
        "TrimSpace": trim_space,
        "regexReplaceAll": regex_replace_all,
        "regexReplaceAllLiteral": regex_replace_all_literal,
        "Sha2Hash": sha2_hash,
    }


class TemplateStage(EntryStage):
    """``template``: a Go template over the extracted map sets the extracted value ``source``
    (``.Value`` is its current value, ``.Entry`` the line)."""

    def __init__(self, source: str, template: Template) -> None:
        self.source = source
        self.template = template

    def apply(self, entry: Entry, now_ns: int) -> bool:
        data: dict[str, Any] = {}
        for key, value in entry.extracted.items():
            text = value_text(value)
            if text is not None:
                data[key] = text
        if self.source in data:
            data["Value"] = data[self.source]
        data["Entry"] = entry.line
        # A template that fails on this entry leaves it as it was (Promtail logs and goes on).
        with contextlib.suppress(TemplateError):
            entry.extracted[self.source] = self.template.execute(data)
        return True


def build_template(s: Section) -> TemplateStage:
    """The ``template`` stage."""
    if not s.text("source"):
        raise s.error("source", "template source value is required")
    template = Template("pipeline", funcs=_template_functions(), missing_key="zero")
    try:
        template.parse(s.text("template"))
    except TemplateError as exc:
        raise s.error("template", str(exc)) from None
    return TemplateStage(s.text("source"), template)


# -- filtering ---------------------------------------------------------------------------------
class DropStage(EntryStage):
    """``drop``: drops an entry when every condition set holds."""

    def __init__(
        self,
        *,
        sources: list[str],
        separator: str,
        regex: Any,
        value: str | None,
        older_than_ns: int,
        longer_than: int,
        reason: str,
        drops: Drops,
    ) -> None:
        self.sources = sources
        self.separator = separator
        self.regex = regex
        self.value = value
        self.older_than_ns = older_than_ns
        self.longer_than = longer_than
        self.reason = reason
        self.drops = drops

    def apply(self, entry: Entry, now_ns: int) -> bool:
        if self._matches(entry, now_ns):
            self.drops.add(self.reason)
            return False
        return True

    def _matches(self, entry: Entry, now_ns: int) -> bool:
        if self.older_than_ns and entry.ts_ns >= now_ns - self.older_than_ns:
            return False
        if self.longer_than and len(entry.line.encode()) <= self.longer_than:
            return False
        if self.sources:
            values = []
            for source in self.sources:
                if source not in entry.extracted:
                    return False
                values.append(value_text(entry.extracted[source]) or "")
            joined = self.separator.join(values)
            if self.value is not None and joined != self.value:
                return False
            if self.regex is not None and self.regex.search(joined) is None:
                return False
        elif self.regex is not None and self.regex.search(entry.line) is None:
            return False
        return True


def build_drop(s: Section, drops: Drops) -> DropStage:
    """The ``drop`` stage."""
    sources: list[str] = []
    if "source" in s:
        node = s.at("source")
        sources = s.strs("source") if isinstance(node.value, list) else [s.text("source")]
    if "expression" in s and "value" in s:
        raise s.error("value", "drop stage config cannot have both a value and an expression")
    if "value" in s and not sources:
        raise s.error("value", "drop stage config must contain a source if value is specified")
    conditions = ("source", "expression", "older_than", "longer_than")
    if not any(k in s for k in conditions):
        raise s.node.error(
            "drop stage config must contain at least one of `source`, `expression`, "
            "`older_than` or `longer_than`",
            s.path,
        )
    regex = search_regex(s, "expression") if "expression" in s else None
    return DropStage(
        sources=sources,
        separator=s.text("separator", ";"),
        regex=regex,
        value=s.text("value") if "value" in s else None,
        older_than_ns=s.dur("older_than") * 1_000_000,
        longer_than=s.size("longer_than"),
        reason=s.text("drop_counter_reason", "drop_stage"),
        drops=drops,
    )


__all__ = [
    "DropStage",
    "JSONStage",
    "LabelFilterStage",
    "LabelsStage",
    "LogfmtStage",
    "OutputStage",
    "RegexStage",
    "StaticLabelsStage",
    "TemplateStage",
    "build_drop",
    "build_json",
    "build_labels",
    "build_logfmt",
    "build_output",
    "build_regex",
    "build_template",
    "label_names",
    "search_regex",
]
