"""Advice for the mistakes people make when they copy rules out of monitoring guides.

Prometheus' own messages are kept word for word (users search for them); these hints are added
after them and say how to fix the file. Each function returns ``""`` when it has nothing to say.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from spyglass.core.config import Node

_RULE_KEYS = frozenset({"alert", "record", "expr", "for", "keep_firing_for", "annotations"})
_WRAP = (
    "rules must sit in a group: start the file with 'groups:', then '- name: <group name>' and "
    "'rules:', and indent the rules under it"
)


def _keys(node: Node) -> set[str]:
    return set(node.value) if isinstance(node.value, dict) else set()


def _looks_like_rule(node: Node) -> bool:
    return bool(_keys(node) & _RULE_KEYS)


def root_hint(root: Node) -> str:
    """Why a whole file is not a rule file, when it is one of the usual shapes."""
    if isinstance(root.value, list):
        if any(_looks_like_rule(item) for item in root.value):
            return _WRAP
        if any("rules" in _keys(item) or "name" in _keys(item) for item in root.value):
            return "a list of groups must be under 'groups:' at the top of the file"
        return ""
    keys = _keys(root)
    if {"apiVersion", "kind", "spec"} & keys and "groups" not in keys:
        return (
            "this looks like a Kubernetes PrometheusRule resource; a rule file is what is under "
            "its 'spec:' (the 'groups:' list): save that part, unindented, as the rule file"
        )
    if keys & _RULE_KEYS:
        return _WRAP
    if "rules" in keys and "groups" not in keys:
        return (
            "a group's rules go under 'groups:' and '- name: <group name>'; "
            "'rules:' cannot be at the top of the file"
        )
    return ""


def group_field_hint(key: str) -> str:
    """Advice for an unknown field in a group."""
    if key in _RULE_KEYS:
        return (
            f"'{key}' belongs to a rule: put the rule in the group's 'rules:' list "
            "(each group needs 'name:' and 'rules:')"
        )
    if key in ("query_language", "language", "datasource", "source"):
        return "a group of LogQL rules says 'type: logql'"
    return did_you_mean(
        key, ("name", "interval", "query_offset", "limit", "rules", "labels", "type")
    )


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """``did you mean 'annotations'?`` for a misspelt field."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def duration_hint(text: str) -> str:
    """Durations need a unit: ``5`` is not five minutes."""
    stripped = text.strip()
    if stripped.replace(".", "", 1).isdigit():
        return f"durations need a unit, e.g. '{stripped}m' or '{stripped}s'"
    return ""


def expr_hint(expr: str) -> str:
    """Templates belong in labels and annotations, not in the PromQL expression."""
    if "{{" in expr:
        return (
            "the expression is PromQL, not a template: '{{ ... }}' works only in labels and "
            "annotations"
        )
    return ""


def yaml_hint(message: str) -> str:
    """Advice for YAML syntax errors that have a usual cause."""
    if "'\\t'" in message or "tab" in message.lower():
        return "YAML does not allow tabs for indentation: use spaces"
    return ""


def record_name_hint(name: str) -> str:
    """What a recording rule's name usually looks like."""
    if " " in name or "-" in name:
        return (
            "recording rule names look like level:metric:operations, e.g. job:http_requests:rate5m"
        )
    return ""


def with_hint(message: str, hint: str) -> str:
    """The message, followed by the hint when there is one."""
    return f"{message} ({hint})" if hint else message


__all__ = [
    "did_you_mean",
    "duration_hint",
    "expr_hint",
    "group_field_hint",
    "record_name_hint",
    "root_hint",
    "with_hint",
    "yaml_hint",
]
