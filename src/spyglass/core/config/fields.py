"""Typed reads from positioned YAML nodes, with Go-yaml-like error messages.

Prometheus and Alertmanager unmarshal their configs strictly (unknown fields are errors) and name
Go types in their messages (``field foo not found in type config.ScrapeConfig``); these helpers
keep that wording and add what promtool shows: the file, the line and the field path. Every
loader of such a file (``prometheus.yml`` here, ``alertmanager.yml`` in ``spyglass.alerting``)
reads through them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from spyglass.core.config._yaml import Node
from spyglass.core.errors import BadInput, ConfigError
from spyglass.core.times import parse_duration_ms

_KIND = {dict: "!!map", list: "!!seq", str: "!!str", int: "!!int", float: "!!float", bool: "!!bool"}
_SIZE_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([A-Za-z]*)")
# Go's units.ParseBase2Bytes: both KiB and KB mean 1024, names are case-sensitive.
_SIZE_UNITS = {
    "B": 1,
    **{p + s: 1024 ** (i + 1) for i, p in enumerate("KMGTPE") for s in ("B", "iB")},
}


def kind(node: Node) -> str:
    """YAML's name for the node's kind, as Go's yaml errors print it."""
    if node.value is None:
        return "!!null"
    return _KIND.get(type(node.value), "!!str")


def mapping(
    node: Node, type_name: str, path: str, allowed: Iterable[str] | None = None
) -> dict[str, Node]:
    """The node's mapping (null reads as empty); unknown keys are errors when ``allowed`` is set."""
    if node.value is None:
        return {}
    if not isinstance(node.value, dict):
        raise node.error(f"cannot unmarshal {kind(node)} into {type_name}", path)
    if node.duplicate is not None:
        key, line = node.duplicate
        message = (
            f'key "{key}" already set in map'
            if type_name.startswith("map[")
            else f"field {key} already set in type {type_name}"
        )
        raise ConfigError(message, file=node.file, line=line, field=join(path, key))
    if allowed is not None:
        known = set(allowed)
        for key in node.value:
            if key not in known:
                raise ConfigError(
                    f"field {key} not found in type {type_name}",
                    file=node.file,
                    line=node.key_lines.get(key, node.line),
                    field=join(path, key),
                )
    return node.value


def sequence(node: Node, path: str, what: str = "[]") -> list[Node]:
    """The node's list (null reads as empty)."""
    if node.value is None:
        return []
    if not isinstance(node.value, list):
        raise node.error(f"cannot unmarshal {kind(node)} into {what}", path)
    return node.value


def string(node: Node, path: str) -> str:
    """A scalar read as a string, like Go does for ``string`` fields (``1`` reads as ``"1"``)."""
    if node.value is None:
        return ""
    if isinstance(node.value, (dict, list)):
        raise node.error(f"cannot unmarshal {kind(node)} into string", path)
    return node.text


def boolean(node: Node, path: str) -> bool:
    """A YAML boolean."""
    if node.value is None:
        return False
    if not isinstance(node.value, bool):
        raise node.error(f"cannot unmarshal {kind(node)} `{node.text}` into bool", path)
    return node.value


def integer(node: Node, path: str, *, minimum: int = 0) -> int:
    """A non-negative (by default) integer."""
    if node.value is None:
        return 0
    if isinstance(node.value, bool) or not isinstance(node.value, int):
        raise node.error(f"cannot unmarshal {kind(node)} `{node.text}` into uint", path)
    if node.value < minimum or node.value >= 2**64:
        raise node.error(f"cannot unmarshal {kind(node)} `{node.text}` into uint", path)
    return node.value


def duration(node: Node, path: str) -> int:
    """A Prometheus duration in milliseconds (``0`` when null)."""
    if node.value is None:
        return 0
    if isinstance(node.value, (dict, list)):
        raise node.error(f"cannot unmarshal {kind(node)} into model.Duration", path)
    try:
        return parse_duration_ms(node.text)
    except BadInput as exc:
        raise node.error(str(exc), path) from None


def size(node: Node, path: str) -> int:
    """A byte size in Go's base-2 spelling (``10MB``, ``1GiB``, ``1GB512MB``; ``0`` alone)."""
    if node.value is None:
        return 0
    if isinstance(node.value, (dict, list)):
        raise node.error(f"cannot unmarshal {kind(node)} into units.Base2Bytes", path)
    text = node.text.strip()
    if text == "0":
        return 0
    total = 0.0
    pos = 0
    while pos < len(text):
        m = _SIZE_PART.match(text, pos)
        if m is None:
            raise node.error(f"units: invalid size {text!r}", path)
        unit = m.group(2)
        if unit not in _SIZE_UNITS:
            raise node.error(f"units: unknown unit {unit} in {text}", path)
        total += float(m.group(1)) * _SIZE_UNITS[unit]
        pos = m.end()
    if not text:
        raise node.error(f"units: invalid size {text!r}", path)
    return int(total)


def string_list(node: Node, path: str) -> list[str]:
    """A list of scalars read as strings."""
    return [string(item, f"{path}[{i}]") for i, item in enumerate(sequence(node, path, "[]string"))]


def string_map(node: Node, path: str) -> dict[str, str]:
    """A mapping of strings to strings."""
    items = mapping(node, "map[string]string", path)
    return {k: string(v, join(path, k)) for k, v in items.items()}


def resolve(directory: Path | None, name: str) -> str:
    """A file path relative to the config file's directory, as Prometheus resolves them."""
    if not name or directory is None or Path(name).is_absolute():
        return name
    return str(directory / name)


def join(path: str, key: str) -> str:
    """``scrape_configs[0]`` + ``job_name`` -> ``scrape_configs[0].job_name``."""
    return f"{path}.{key}" if path else key


__all__ = [
    "Section",
    "boolean",
    "duration",
    "integer",
    "join",
    "kind",
    "mapping",
    "resolve",
    "sequence",
    "size",
    "string",
    "string_list",
    "string_map",
]


class Section:
    """A mapping node with typed getters that default when a key is absent or null."""

    def __init__(
        self, node: Node, type_name: str, path: str, allowed: Iterable[str] | None = None
    ) -> None:
        self.node = node
        self.path = path
        self.items = mapping(node, type_name, path, allowed)

    def __contains__(self, key: str) -> bool:
        return key in self.items and not self.items[key].is_null

    def p(self, key: str) -> str:
        """The field path of ``key``."""
        return join(self.path, key)

    def at(self, key: str) -> Node:
        """The node of ``key``, or the section's own node (for errors about a missing key)."""
        return self.items.get(key, self.node)

    def error(self, key: str, message: str) -> ConfigError:
        """A ``ConfigError`` at ``key``'s line (or at the section when the key is absent)."""
        line = self.node.key_lines.get(key, self.node.line)
        return ConfigError(message, file=self.node.file, line=line, field=self.p(key))

    def text(self, key: str, default: str = "") -> str:
        """A string field."""
        return string(self.items[key], self.p(key)) if key in self else default

    def flag(self, key: str, default: bool) -> bool:
        """A boolean field."""
        return boolean(self.items[key], self.p(key)) if key in self else default

    def count(self, key: str) -> int:
        """A non-negative integer field (0 when absent)."""
        return integer(self.items[key], self.p(key)) if key in self else 0

    def dur(self, key: str) -> int:
        """A duration field in milliseconds (0 when absent)."""
        return duration(self.items[key], self.p(key)) if key in self else 0

    def size(self, key: str) -> int:
        """A byte-size field (0 when absent)."""
        return size(self.items[key], self.p(key)) if key in self else 0

    def strs(self, key: str) -> list[str]:
        """A list-of-strings field."""
        return string_list(self.items[key], self.p(key)) if key in self else []

    def strmap(self, key: str) -> dict[str, str]:
        """A string-to-string mapping field."""
        return string_map(self.items[key], self.p(key)) if key in self else {}

    def sub(self, key: str, type_name: str, allowed: Iterable[str] | None = None) -> Section:
        """The section under ``key``; an absent or null key reads as an empty one."""
        node = self.items[key] if key in self else Node(None, self.node.line, self.node.file)
        return Section(node, type_name, self.p(key), allowed)

    def seq(self, key: str, what: str = "[]") -> list[Node]:
        """A list field's nodes."""
        return sequence(self.items[key], self.p(key), what) if key in self else []
