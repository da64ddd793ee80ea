"""``pipeline_stages``: the stage list of a scrape config, read and run in order.

``build_pipeline`` reads the YAML list (each item a one-key map naming the stage), refusing
unknown stages by name, and ``Pipeline`` runs entries through the stages: whatever one stage
lets out goes into the next, and ``tick`` releases entries a stage held (``multiline``) into the
stages after it. ``match`` runs a nested stage list on entries whose labels match a LogQL stream
selector, or drops them (``action: drop``).
"""

from __future__ import annotations

from collections.abc import Callable

from spyglass.agent._entry import Entry
from spyglass.agent._multiline import build_multiline
from spyglass.agent._stage import Drops, Stage
from spyglass.agent._stages import (
    LabelFilterStage,
    StaticLabelsStage,
    build_drop,
    build_json,
    build_labels,
    build_logfmt,
    build_output,
    build_regex,
    build_template,
    label_names,
)
from spyglass.agent._timestamp import build_timestamp
from spyglass.core.config import Node
from spyglass.core.config.fields import Section, join, mapping, sequence, string_list
from spyglass.core.matchers import Matcher
from spyglass.logs import LogQLParseError, LogQuery, parse_query

# Promtail's stage names, and the fields of each (its config structs, read strictly).
_FIELDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "json": ("stages.JSONConfig", ("expressions", "source", "drop_malformed")),
    "regex": ("stages.RegexConfig", ("expression", "source")),
    "logfmt": ("stages.LogfmtConfig", ("mapping", "source")),
    "labels": ("stages.LabelsConfig", None),
    "structured_metadata": ("stages.LabelsConfig", None),
    "static_labels": ("stages.StaticLabelConfig", None),
    "labeldrop": ("stages.LabelDropConfig", None),
    "labelallow": ("stages.LabelAllowConfig", None),
    "timestamp": (
        "stages.TimestampConfig",
        ("source", "format", "fallback_formats", "location", "action_on_failure"),
    ),
    "output": ("stages.OutputConfig", ("source",)),
    "template": ("stages.TemplateConfig", ("source", "template")),
    "drop": (
        "stages.DropConfig",
        (
            "source",
            "separator",
            "expression",
            "value",
            "older_than",
            "longer_than",
            "drop_counter_reason",
        ),
    ),
    "multiline": ("stages.MultilineConfig", ("firstline", "max_wait_time", "max_lines")),
    "match": (
        "stages.MatcherConfig",
        ("selector", "stages", "action", "pipeline_name", "drop_counter_reason"),
    ),
}
STAGES = tuple(sorted(_FIELDS))


class Pipeline:
    """A list of stages run in order; an empty one passes entries through."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages

    def feed(self, entry: Entry, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """The entries that come out of the last stage after ``entry`` went in."""
        return self._run([entry], 0, now_ns, gone)

    def tick(self, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """Entries held by a stage that time lets out, run through the stages after it."""
        out: list[Entry] = []
        for i, stage in enumerate(self.stages):
            released = stage.tick(now_ns, gone)
            if released:
                out.extend(self._run(released, i + 1, now_ns, gone))
        return out

    def _run(self, entries: list[Entry], start: int, now_ns: int, gone: list[Entry]) -> list[Entry]:
        for stage in self.stages[start:]:
            if not entries:
                break
            nxt: list[Entry] = []
            for e in entries:
                nxt.extend(stage.feed(e, now_ns, gone))
            entries = nxt
        return entries


class MatchStage:
    """``match``: stages for entries whose labels match ``selector``, or drop them."""

    def __init__(
        self, matchers: tuple[Matcher, ...], nested: Pipeline | None, reason: str, drops: Drops
    ) -> None:
        self.matchers = matchers
        self.nested = nested
        self.reason = reason
        self.drops = drops

    def feed(self, entry: Entry, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """The entry through the nested stages when it matches (or nothing for ``drop``)."""
        if not all(m.matches_value(entry.labels.get(m.name, "")) for m in self.matchers):
            return [entry]
        if self.nested is None:
            self.drops.add(self.reason)
            gone.append(entry)
            return []
        return self.nested.feed(entry, now_ns, gone)

    def tick(self, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """What the nested stages release."""
        return self.nested.tick(now_ns, gone) if self.nested is not None else []


def build_pipeline(node: Node, path: str, drops: Drops, now: Callable[[], int]) -> Pipeline:
    """The stages of a ``pipeline_stages`` list; ``ConfigError`` (file, line, field) when a
    stage is unknown or badly configured."""
    stages: list[Stage] = []
    for i, item in enumerate(sequence(node, path, "[]stages.PipelineStage")):
        where = f"{path}[{i}]"
        entries = mapping(item, "stages.PipelineStage", where)
        if len(entries) != 1:
            raise item.error("pipeline stage must contain only one key", where)
        name, body = next(iter(entries.items()))
        if name not in _FIELDS:
            raise item.error(
                f'unknown pipeline stage "{name}" (spyglass agent supports: {", ".join(STAGES)})',
                join(where, name),
            )
        stages.append(_stage(name, body, join(where, name), drops, now))
    return Pipeline(stages)


def _stage(name: str, node: Node, path: str, drops: Drops, now: Callable[[], int]) -> Stage:
    type_name, allowed = _FIELDS[name]
    if name in ("labeldrop", "labelallow"):
        names = string_list(node, path)
        return LabelFilterStage(names, allow=name == "labelallow")
    s = Section(node, type_name, path, allowed)
    if name == "json":
        return build_json(s, drops)
    if name == "regex":
        return build_regex(s)
    if name == "logfmt":
        return build_logfmt(s)
    if name in ("labels", "structured_metadata"):
        return build_labels(s, metadata=name == "structured_metadata")
    if name == "static_labels":
        labels = {k: s.text(k) for k in s.items}
        label_names(s, list(labels), "")
        return StaticLabelsStage(labels)
    if name == "timestamp":
        return build_timestamp(s, now)
    if name == "output":
        return build_output(s)
    if name == "template":
        return build_template(s)
    if name == "drop":
        return build_drop(s, drops)
    if name == "multiline":
        return build_multiline(s)
    return _match(s, drops, now)


def _match(s: Section, drops: Drops, now: Callable[[], int]) -> MatchStage:
    selector = s.text("selector")
    if not selector:
        raise s.error("selector", "selector statement required for match stage")
    try:
        query = parse_query(selector)
    except LogQLParseError as exc:
        raise s.error("selector", f"invalid selector syntax for match stage: {exc}") from None
    if not isinstance(query, LogQuery) or query.stages:
        raise s.error(
            "selector",
            'spyglass agent\'s match stage takes a stream selector only ({app="api"}), '
            "without line filters",
        )
    action = s.text("action", "keep")
    if action not in ("keep", "drop"):
        raise s.error("action", f"match stage action should be 'keep' or 'drop', not {action}")
    if action == "drop":
        nested = None
    else:
        if "stages" not in s:
            raise s.error("stages", "match stage must define stages when action is keep")
        nested = build_pipeline(s.at("stages"), s.p("stages"), drops, now)
    return MatchStage(
        tuple(query.matchers),
        nested,
        s.text("drop_counter_reason", "match_stage"),
        drops,
    )


__all__ = ["STAGES", "MatchStage", "Pipeline", "build_pipeline"]
