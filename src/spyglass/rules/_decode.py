"""Typed reads from positioned YAML nodes that collect every error instead of stopping.

Prometheus decodes rule files and promtool's test files with Go's yaml, strict about unknown
fields, and reports every type error of a file at once ("yaml: unmarshal errors: line 3: ...").
These reads keep Go's wording and add what a user needs to find the spot: file, line and the
field path. A failed read records its error and returns a neutral value so decoding goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from spyglass.core.config import Node
from spyglass.core.errors import BadInput, ConfigError
from spyglass.core.times import parse_duration_ms
from spyglass.rules import _hints as hints

_KINDS = {
    dict: "!!map",
    list: "!!seq",
    str: "!!str",
    int: "!!int",
    float: "!!float",
    bool: "!!bool",
}
# Go's yaml reads plain scalars such as 1e3 or -1_000.5 as numbers; PyYAML (YAML 1.1) does not.
_GO_FLOAT = re.compile(r"^[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?$")
_GO_SPECIAL = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}


def kind(node: Node) -> str:
    """YAML's name for the node's kind, as Go's yaml errors print it."""
    if node.value is None:
        return "!!null"
    return _KINDS.get(type(node.value), "!!str")


def join(path: str, key: str) -> str:
    """``groups[0]`` + ``name`` -> ``groups[0].name``."""
    return f"{path}.{key}" if path else key


class Decoder:
    """Reads values of one file; ``errors`` collects what did not fit."""

    def __init__(self, file: str, *, ignore_unknown_fields: bool = False) -> None:
        self.file = file
        self.ignore_unknown = ignore_unknown_fields
        self.errors: list[ConfigError] = []

    def error(self, line: int, path: str, message: str) -> None:
        """Record one error."""
        self.errors.append(ConfigError(message, file=self.file, line=line, field=path))

    def cannot(self, node: Node, path: str, type_name: str) -> None:
        """Go's "cannot unmarshal !!kind `text` into type"."""
        text = "" if isinstance(node.value, (dict, list)) or node.is_null else f" `{node.text}`"
        self.error(node.line, path, f"cannot unmarshal {kind(node)}{text} into {type_name}")

    def mapping(
        self,
        node: Node,
        type_name: str,
        path: str,
        allowed: Sequence[str] | None = None,
        hint: Callable[[str], str] | None = None,
    ) -> dict[str, Node] | None:
        """The known fields of a mapping (null reads as empty); ``None`` if it is no mapping."""
        if node.value is None:
            return {}
        if not isinstance(node.value, dict):
            self.cannot(node, path, type_name)
            return None
        if node.duplicate is not None:
            key, line = node.duplicate
            first = node.key_lines.get(key, node.line)
            self.error(
                line, join(path, key), f'mapping key "{key}" already defined at line {first}'
            )
        if allowed is not None and not self.ignore_unknown:
            for key in node.value:
                if key not in allowed:
                    advice = hint(key) if hint else hints.did_you_mean(key, allowed)
                    self.error(
                        node.key_lines.get(key, node.line),
                        join(path, key),
                        hints.with_hint(f"field {key} not found in type {type_name}", advice),
                    )
        return {k: v for k, v in node.value.items() if allowed is None or k in allowed}

    def sequence(self, node: Node, path: str, type_name: str) -> list[Node]:
        """A list (null reads as empty)."""
        if node.value is None:
            return []
        if not isinstance(node.value, list):
            self.cannot(node, path, type_name)
            return []
        return list(node.value)

    def string(self, node: Node, path: str) -> str:
        """A scalar read as a string, as Go does for ``string`` fields (``1`` reads ``"1"``)."""
        if node.value is None:
            return ""
        if isinstance(node.value, (dict, list)):
            self.cannot(node, path, "string")
            return ""
        return node.text

    def duration(self, node: Node, path: str) -> int:
        """A Prometheus duration in milliseconds (``0`` when null)."""
        if node.value is None:
            return 0
        if isinstance(node.value, (dict, list)):
            self.cannot(node, path, "string")
            return 0
        try:
            return parse_duration_ms(node.text)
        except BadInput as exc:
            self.error(node.line, path, hints.with_hint(str(exc), hints.duration_hint(node.text)))
            return 0

    def integer(self, node: Node, path: str) -> int:
        """A Go ``int``."""
        if node.value is None:
            return 0
        if (
            isinstance(node.value, bool)
            or not isinstance(node.value, int)
            or not -(2**63) <= node.value < 2**63
        ):
            self.cannot(node, path, "int")
            return 0
        return node.value

    def boolean(self, node: Node, path: str) -> bool:
        """A YAML boolean."""
        if node.value is None:
            return False
        if not isinstance(node.value, bool):
            self.cannot(node, path, "bool")
            return False
        return node.value

    def floating(self, node: Node, path: str) -> float:
        """A Go ``float64``: YAML numbers, ``.inf``/``.nan``, and plain numbers such as ``1e3``."""
        if node.value is None:
            return 0.0
        if isinstance(node.value, (bool, dict, list)):
            self.cannot(node, path, "float64")
            return 0.0
        if isinstance(node.value, (int, float)):
            return float(node.value)
        text = node.text.strip()
        if text in _GO_SPECIAL:
            return _GO_SPECIAL[text]
        if _GO_FLOAT.match(text) and any(c.isdigit() for c in text):
            return float(text.replace("_", ""))
        self.cannot(node, path, "float64")
        return 0.0

    def string_map(self, node: Node, path: str) -> dict[str, str]:
        """A ``map[string]string``."""
        items = self.mapping(node, "map[string]string", path)
        if not items:
            return {}
        return {k: self.string(v, join(path, k)) for k, v in items.items()}

    def strings(self, node: Node, path: str) -> list[str]:
        """A ``[]string``."""
        return [
            self.string(item, f"{path}[{i}]")
            for i, item in enumerate(self.sequence(node, path, "[]string"))
        ]


__all__ = ["Decoder", "join", "kind"]
