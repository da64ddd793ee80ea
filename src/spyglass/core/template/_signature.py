"""Go parameter types for Python callables, so calls check arguments as Go's reflection does.

A template function is a plain Python callable. Its annotations say what Go would have declared
(``str`` is ``string``, ``float`` is ``float64``, ``object`` is ``interface {}``, ``Sequence[str]``
is ``[]string``, a class is itself), so ``{{ toUpper 3 }}`` fails with Go's ``expected string;
found 3`` and ``{{ if gt $value 80 }}`` with Go's ``incompatible types for comparison``. A
``*args`` parameter is Go's variadic one. Functions raise to report an error; the executor adds
``error calling <name>: ``.
"""

from __future__ import annotations

import collections.abc
import contextlib
import inspect
import types
import typing
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spyglass.core.template import _values as values


@dataclass(frozen=True, slots=True)
class GoType:
    """A parameter type: its Go spelling, how literals convert to it, which values it takes."""

    name: str
    kind: str  # any, bool, int, uint, float, complex, string or other
    check: Callable[[object], bool]
    nillable: bool = False
    # A named numeric type (time.Duration) takes literals of its kind, converted by ``make``.
    make: Callable[[Any], Any] | None = None

    def accepts(self, value: object) -> bool:
        """Whether a (non-nil) value is assignable to the type."""
        return self.kind == "any" or self.check(value)


def _named(name: str) -> Callable[[object], bool]:
    return lambda v: values.type_name(v) == name


ANY = GoType("interface {}", "any", lambda v: True, nillable=True)
STRING = GoType("string", "string", _named("string"))
BOOL = GoType("bool", "bool", _named("bool"))
INT = GoType("int", "int", _named("int"))
FLOAT = GoType("float64", "float", _named("float64"))
COMPLEX = GoType("complex128", "complex", _named("complex128"))
STRINGS = GoType(
    "[]string",
    "other",
    lambda v: isinstance(v, list | tuple) and all(isinstance(x, str) for x in v),
    nillable=True,
)
SLICE = GoType("[]interface {}", "other", lambda v: isinstance(v, list | tuple), nillable=True)
MAP = GoType("map[string]interface {}", "other", lambda v: isinstance(v, Mapping), nillable=True)


@dataclass(frozen=True, slots=True)
class Signature:
    """Fixed parameter types and the variadic element type (``None``: not variadic)."""

    params: tuple[GoType, ...]
    variadic: GoType | None


_BASIC = {str: STRING, bool: BOOL, int: INT, float: FLOAT, complex: COMPLEX, object: ANY}
# Weak keys: functions made per expansion (closures over a query) must not pile up.
_cache: weakref.WeakKeyDictionary[Any, Signature] = weakref.WeakKeyDictionary()


def go_type(annotation: object) -> GoType:
    """The Go type a Python annotation stands for."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return ANY
    if isinstance(annotation, type) and annotation in _BASIC:
        return _BASIC[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        rest = [a for a in args if a is not type(None)]
        inner = go_type(rest[0]) if len(rest) == 1 else ANY
        return GoType(inner.name, inner.kind, inner.check, nillable=True)
    if origin in (list, tuple, collections.abc.Sequence):
        return STRINGS if args[:1] == (str,) else SLICE
    if origin in (dict, collections.abc.Mapping):
        return MAP
    if isinstance(annotation, type):
        cls = annotation
        name = str(getattr(cls, "__go_type__", cls.__name__))
        nillable = bool(getattr(cls, "__go_pointer__", False))
        if issubclass(cls, int) and not issubclass(cls, bool):
            return GoType(name, "int", lambda v: isinstance(v, cls), make=cls)
        if issubclass(cls, float):
            return GoType(name, "float", lambda v: isinstance(v, cls), make=cls)
        return GoType(name, "other", lambda v: isinstance(v, cls), nillable=nillable)
    return ANY


def signature_of(fn: Callable[..., Any]) -> Signature:
    """The Go signature of a function or bound method (cached per function)."""
    key = getattr(fn, "__func__", fn)
    try:
        found = _cache.get(key)
    except TypeError:  # not weakly referenceable (a builtin): compute each time
        found = None
    if found is not None:
        return found
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    try:
        hints = typing.get_type_hints(key)
    except Exception:  # noqa: BLE001 - a callable without resolvable hints takes interface {}
        hints = {}
    params: list[GoType] = []
    variadic: GoType | None = None
    if sig is None:
        variadic = ANY
    else:
        for p in sig.parameters.values():
            ann = hints.get(p.name, inspect.Parameter.empty)
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                if p.default is not p.empty:
                    continue  # optional Python arguments are not part of the Go signature
                params.append(go_type(ann))
            elif p.kind is p.VAR_POSITIONAL:
                variadic = go_type(ann)
    out = Signature(tuple(params), variadic)
    with contextlib.suppress(TypeError):
        _cache[key] = out
    return out


def assign_checks(fn: Callable[..., Any], args: Sequence[object]) -> str | None:
    """Check ``call``'s arguments against ``fn`` as Go's ``call`` builtin does; None when fine."""
    sig = signature_of(fn)
    fixed = len(sig.params)
    if sig.variadic is not None:
        if len(args) < fixed:
            return f"got {len(args)} want at least {fixed}"
    elif len(args) != fixed:
        return f"got {len(args)} want {fixed}"
    for i, arg in enumerate(args):
        typ = sig.params[i] if i < fixed else sig.variadic
        assert typ is not None
        if arg is None:
            if not typ.nillable:
                return f"arg {i}: value is nil; should be of type {typ.name}"
        elif not typ.accepts(arg):
            return f"arg {i}: value has type {values.type_name(arg)}; should be {typ.name}"
    return None
