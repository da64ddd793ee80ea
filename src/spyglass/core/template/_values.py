"""How Python data looks to a Go template: kinds, type names, fields, methods and zero values.

Go's text/template walks typed data through reflection. Here the data is Python:

- ``None`` is Go's nil (an absent value), ``bool``/``int``/``float``/``complex``/``str`` are Go's
  basic kinds, lists and tuples are slices, mappings are maps (ranged and printed in sorted key
  order), anything else is a struct.
- A struct exposes fields and methods under their Go names. A class says which ones with a
  ``__go_fields__`` mapping (Go name to attribute: a bound method is a method, anything else a
  field); without one, an exported Go name (``GeneratorURL``) is looked up as itself and then in
  snake case (``generator_url``). Names starting with ``_`` are never reachable.
- A mapping's own Go methods (``KV.SortedPairs``) come first, as in Go; then keys.
- ``__go_type__`` names the Go type in error messages (``template.KV``); ``__go_zero__`` on a
  mapping is the value a missing key gives under ``missingkey=zero`` (Go's element zero value:
  ``""`` for ``map[string]string``). Plain dicts behave as ``map[string]interface {}``.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

_SNAKE_1 = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SNAKE_2 = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")


class Kind(enum.Enum):
    """Go's reflect kinds, as far as templates tell them apart."""

    INVALID = "invalid"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    COMPLEX = "complex"
    STRING = "string"
    SLICE = "slice"
    MAP = "map"
    STRUCT = "struct"
    FUNC = "func"


def kind_of(value: object) -> Kind:
    """The Go kind of a Python value."""
    if value is None:
        return Kind.INVALID
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int):
        return Kind.INT
    if isinstance(value, float):
        return Kind.FLOAT
    if isinstance(value, complex):
        return Kind.COMPLEX
    if isinstance(value, str):
        return Kind.STRING
    if isinstance(value, Mapping):
        return Kind.MAP
    if isinstance(value, list | tuple):
        return Kind.SLICE
    if callable(value) and not _is_struct_class(type(value)):
        return Kind.FUNC
    return Kind.STRUCT


def _is_struct_class(cls: type) -> bool:
    return hasattr(cls, "__go_fields__") or dataclasses.is_dataclass(cls)


def type_name(value: object) -> str:
    """Go's spelling of the value's type, for error messages (``string``, ``[]interface {}``)."""
    declared = getattr(type(value), "__go_type__", None)
    if isinstance(declared, str):
        return declared
    match kind_of(value):
        case Kind.INVALID:
            return "<nil>"
        case Kind.BOOL:
            return "bool"
        case Kind.INT:
            return "int"
        case Kind.FLOAT:
            return "float64"
        case Kind.COMPLEX:
            return "complex128"
        case Kind.STRING:
            return "string"
        case Kind.MAP:
            return "map[string]interface {}"
        case Kind.SLICE:
            return "[]interface {}"
        case Kind.FUNC:
            return "func"
        case Kind.STRUCT:
            return type(value).__name__


def snake_case(name: str) -> str:
    """``GeneratorURL`` -> ``generator_url``: how Python spells a Go name."""
    return _SNAKE_2.sub("_", _SNAKE_1.sub("_", name)).lower()


def is_exported(name: str) -> bool:
    """Go exports names that start with an upper-case letter; only those reach methods/fields."""
    return bool(name) and name[0].isupper()


class Member(enum.Enum):
    """What a Go name denotes on a value."""

    NONE = 0
    FIELD = 1
    METHOD = 2


def member(value: object, name: str) -> tuple[Member, Any]:
    """Look ``name`` up on ``value`` as Go does for ``.Name``: a method, then a struct field.

    Map keys are the caller's business (after methods). Python's builtin types (``str``,
    ``list``, ``dict``...) have no Go methods or fields, as Go's basic types have none.
    """
    mapping = getattr(type(value), "__go_fields__", None)
    if isinstance(mapping, Mapping):
        attr = mapping.get(name)
        if not isinstance(attr, str):
            return Member.NONE, None
        return _classify(value, getattr(value, attr))
    if kind_of(value) is not Kind.STRUCT or not is_exported(name):
        return Member.NONE, None
    for candidate in (name, snake_case(name)):
        if candidate.startswith("_"):
            continue
        try:
            found = getattr(value, candidate)
        except AttributeError:
            continue
        return _classify(value, found)
    return Member.NONE, None


def _classify(value: object, found: object) -> tuple[Member, Any]:
    # A bound method of the value is a Go method (called, with arguments); a callable stored in
    # a field is a func-valued field, which Go never calls on its own.
    if inspect.ismethod(found) and found.__self__ is value:
        return Member.METHOD, found
    return Member.FIELD, found


def method(value: object, name: str) -> Callable[..., Any] | None:
    """The bound Go method ``name`` of ``value`` (``String``, ``Error``), if it has one."""
    kind, found = member(value, name)
    return found if kind is Member.METHOD else None


def struct_fields(value: object) -> list[tuple[str, Any]]:
    """The fields of a struct value in declaration order, by their Go names."""
    cls = type(value)
    mapping = getattr(cls, "__go_fields__", None)
    out: list[tuple[str, Any]] = []
    if isinstance(mapping, Mapping):
        for go_name, attr in mapping.items():
            found = getattr(value, attr, None)
            if not (inspect.ismethod(found) and found.__self__ is value):
                out.append((go_name, found))
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    if hasattr(value, "__dict__"):
        return [(k, v) for k, v in vars(value).items() if not k.startswith("_")]
    return []


def map_zero(mapping: Mapping[Any, Any]) -> object:
    """The zero value of a map's element type (``None`` for ``interface {}`` elements)."""
    return getattr(type(mapping), "__go_zero__", None)


def sorted_items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    """A map's entries in Go's print/range order: keys sorted (numbers, strings, bools)."""
    return sorted(mapping.items(), key=lambda kv: _sort_key(kv[0]))


def _sort_key(key: object) -> tuple[int, Any]:
    if isinstance(key, bool):
        return (0, key)
    if isinstance(key, int | float):
        # NaN sorts first, as in Go's fmtsort.
        return (1, (0, 0.0) if math.isnan(key) else (1, key))
    if isinstance(key, str):
        return (2, key)
    return (3, repr(key))


def is_true(value: object) -> bool:
    """Go's truth for if/with/and/or/not: the zero value of any type is false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | complex):
        return value != 0
    if isinstance(value, str | Mapping | list | tuple):
        return len(value) > 0
    return True


# Go's unicode.IsSpace: what strings.TrimSpace and template.IsEmptyTree treat as space.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class StringMap(Mapping[str, str]):
    """A ``map[string]string``: a missing key reads as ``""`` under ``missingkey=zero``."""

    __go_type__ = "map[string]string"
    __go_zero__ = ""
    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"
