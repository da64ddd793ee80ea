"""YAML loading that remembers where every value came from.

Config errors must name file, line and field like ``promtool check config``; PyYAML's constructed
objects forget their positions, so this module composes the node graph and converts it into
``Node`` values that keep the 1-based line of each scalar, sequence and mapping (and of each
mapping key). Aliases are converted once and shared, so an alias bomb stays linear in size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from spyglass.core.errors import ConfigError


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """A YAML value with its position.

    ``value`` is ``None``, a ``bool``/``int``/``float``/``str`` (scalars, typed by YAML 1.1's
    resolver as Go's yaml.v2 does), a ``list[Node]`` or a ``dict[str, Node]`` (keys are the
    scalar text of the key). ``text`` is the raw scalar text (what Go unmarshals durations from).
    ``key_lines`` holds the line of every mapping key.
    """

    value: Any
    line: int
    file: str
    tag: str = ""
    text: str = ""
    key_lines: dict[str, int] = field(default_factory=dict)
    # The first repeated key and its line: an error, reported by whoever reads the mapping
    # because Go's message names the type the mapping is read into.
    duplicate: tuple[str, int] | None = None

    @property
    def is_null(self) -> bool:
        """An absent value (``~``, ``null`` or nothing after the colon)."""
        return self.value is None

    def error(self, message: str, field: str = "") -> ConfigError:
        """A ``ConfigError`` pointing at this node."""
        return ConfigError(message, file=self.file, line=self.line, field=field)

    def plain(self) -> Any:
        """The value as plain Python data (dicts, lists, scalars) without positions."""
        return _plain(self, set())


def _plain(node: Node, active: set[int]) -> Any:
    if id(node) in active:
        raise node.error("recursive YAML alias")
    if isinstance(node.value, list):
        active.add(id(node))
        out_list = [_plain(n, active) for n in node.value]
        active.discard(id(node))
        return out_list
    if isinstance(node.value, dict):
        if node.duplicate is not None:
            key, line = node.duplicate
            raise ConfigError(f'key "{key}" already set in map', file=node.file, line=line)
        active.add(id(node))
        out = {k: _plain(v, active) for k, v in node.value.items()}
        active.discard(id(node))
        return out
    return node.value


class _Converter:
    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.memo: dict[int, Node] = {}

    def convert(self, node: yaml.Node) -> Node:
        done = self.memo.get(id(node))
        if done is not None:
            return done
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self.loader.construct_object(node, deep=True)
            # PyYAML's scalar constructors raise assorted plain Python errors on odd input
            # ("!!bool" or "!!timestamp" with no value); all of them mean "bad value here".
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(
                    f"cannot read value {node.value!r}: {exc}", file=self.file, line=line
                ) from None
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                # Timestamps, binary: Prometheus reads these fields as strings.
                value = str(node.value)
            out = Node(value, line, self.file, node.tag, str(node.value))
            self.memo[id(node)] = out
            return out
        if isinstance(node, yaml.SequenceNode):
            items: list[Node] = []
            out = Node(items, line, self.file, node.tag)
            self.memo[id(node)] = out
            items.extend(self.convert(child) for child in node.value)
            return out
        if isinstance(node, yaml.MappingNode):
            explicit = sum(
                1 for k, _ in node.value if not (isinstance(k, yaml.ScalarNode) and k.value == "<<")
            )
            try:
                self.loader.flatten_mapping(node)
            except yaml.YAMLError as exc:
                raise ConfigError(str(exc), file=self.file, line=line) from None
            mapping: dict[str, Node] = {}
            duplicate: list[tuple[str, int]] = []
            out = Node(mapping, line, self.file, node.tag)
            self.memo[id(node)] = out
            merged = len(node.value) - explicit
            explicit_keys: set[str] = set()
            for index, (key_node, value_node) in enumerate(node.value):
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ConfigError("mapping keys must be scalars", file=self.file, line=key_line)
                key = str(key_node.value)
                # Keys pulled in by a "<<" merge may be overridden; explicit keys may not repeat.
                if index >= merged and key in explicit_keys:
                    duplicate.append((key, key_line))
                    continue
                if index >= merged:
                    explicit_keys.add(key)
                out.key_lines[key] = key_line
                mapping[key] = self.convert(value_node)
            if duplicate:
                object.__setattr__(out, "duplicate", duplicate[0])
            return out
        raise ConfigError("unsupported YAML node", file=self.file, line=line)  # pragma: no cover


def load_yaml(text: str | bytes, file: str = "") -> Node:
    """Parse one YAML document into a positioned ``Node`` tree.

    An empty document is a null ``Node``. Any YAML problem (syntax, several documents, unknown
    tags, runaway nesting) is a ``ConfigError`` with the line where YAML noticed it.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"yaml: {exc}", file=file) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return Node(None, 1, file)
        return _Converter(loader, file).convert(root)
    except yaml.MarkedYAMLError as exc:
        # A parser error ("while parsing a flow sequence") is best shown where the construct
        # began, as Go's yaml (and so promtool) does; scanner errors where they happen.
        prefer_context = isinstance(exc, yaml.parser.ParserError) and exc.context_mark
        mark = exc.context_mark if prefer_context else (exc.problem_mark or exc.context_mark)
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"yaml: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"yaml: {exc}", file=file) from None
    except RecursionError:
        raise ConfigError("yaml: document nested too deeply", file=file) from None
    finally:
        loader.dispose()


__all__ = ["Node", "load_yaml"]
