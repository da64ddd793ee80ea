"""Go's predefined template functions: and or not len index slice print printf println eq ne lt
le gt ge html js urlquery call.

``and``, ``or`` and ``call`` need the executor (short-circuiting, the callee's name), which
handles them itself; the rest are plain functions that raise ``FuncError`` with Go's message.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any
from urllib.parse import quote_plus

from spyglass.core.template import _values as values
from spyglass.core.template._printing import sprint, sprintf, sprintln


class _Byte(int):
    """A byte of a string (what ``index`` of a string gives): Go's ``uint8``."""

    __go_type__ = "uint8"


class FuncError(Exception):
    """A template function failed; the message is Go's, without ``error calling <name>: ``."""


def _special(arg0: object, *args: object) -> object:  # pragma: no cover - never called
    raise AssertionError("and/or are evaluated by the executor")


def _call(fn: object, *args: object) -> object:  # pragma: no cover - never called
    raise AssertionError("call is evaluated by the executor")


def _basic_kind(v: object) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, complex):
        return "complex"
    if isinstance(v, str):
        return "string"
    return ""


def _is_nil(v: object) -> bool:
    return v is None


def eq(arg1: object, *arg2: object) -> bool:
    """arg1 == arg2 || arg1 == arg3 || ..."""
    if not arg2:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        k2 = _basic_kind(arg)
        truth = False
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise FuncError(
                    "incompatible types for comparison: "
                    f"{values.type_name(arg1)} and {values.type_name(arg)}"
                )
        elif k1:
            truth = arg1 == arg
        else:
            if values.kind_of(arg1) is not values.kind_of(arg) and not (
                arg1 is None or arg is None
            ):
                raise FuncError(
                    f"non-comparable types {sprintf('%s', arg1)}: {values.type_name(arg1)}, "
                    f"{values.type_name(arg)}: {sprintf('%v', arg)}"
                )
            if _is_nil(arg1) or _is_nil(arg):
                truth = _is_nil(arg) == _is_nil(arg1)
            else:
                if values.kind_of(arg) in (values.Kind.MAP, values.Kind.SLICE, values.Kind.FUNC):
                    raise FuncError(
                        f"non-comparable type {sprintf('%s', arg)}: {values.type_name(arg)}"
                    )
                truth = arg1 == arg
        if truth:
            return True
    return False


def ne(arg1: object, arg2: object) -> bool:
    """arg1 != arg2"""
    return not eq(arg1, arg2)


def lt(arg1: object, arg2: object) -> bool:
    """arg1 < arg2, for basic types of the same kind."""
    k1 = _basic_kind(arg1)
    k2 = _basic_kind(arg2)
    if not k1 or not k2:
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError(
            "incompatible types for comparison: "
            f"{values.type_name(arg1)} and {values.type_name(arg2)}"
        )
    if k1 in ("bool", "complex"):
        raise FuncError("invalid type for comparison")
    return bool(arg1 < arg2)  # type: ignore[operator]


def le(arg1: object, arg2: object) -> bool:
    """arg1 <= arg2"""
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: object, arg2: object) -> bool:
    """arg1 > arg2"""
    return not le(arg1, arg2)


def ge(arg1: object, arg2: object) -> bool:
    """arg1 >= arg2"""
    return not lt(arg1, arg2)


def not_(arg: object) -> bool:
    """The boolean negation of the argument's truth."""
    return not values.is_true(arg)


def length(item: object) -> int:
    """len: bytes of a string, elements of a slice or map."""
    if item is None:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogatepass"))
    if isinstance(item, Mapping | list | tuple):
        return len(item)
    raise FuncError(f"len of type {values.type_name(item)}")


def _index_arg(index: object, cap: int) -> int:
    if index is None:
        raise FuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {values.type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return int(index)


def index(item: object, *indexes: object) -> object:
    """index x 1 2 is x[1][2]: slices and strings by position, maps by key."""
    if item is None:
        raise FuncError("index of untyped nil")
    for i in indexes:
        if item is None:
            raise FuncError("index of nil pointer")
        if isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            x = _index_arg(i, len(data))
            if x >= len(data):
                raise FuncError("reflect: string index out of range")
            item = _Byte(data[x])
        elif isinstance(item, list | tuple):
            x = _index_arg(i, len(item))
            if x >= len(item):
                raise FuncError("reflect: slice index out of range")
            item = item[x]
        elif isinstance(item, Mapping):
            if i is None:
                raise FuncError("value is nil; should be of type string")
            string_keys = all(isinstance(k, str) for k in item)
            if not isinstance(i, str) and (string_keys or not isinstance(i, Hashable)):
                raise FuncError(f"value has type {values.type_name(i)}; should be string")
            item = item[i] if i in item else values.map_zero(item)
        else:
            raise FuncError(f"can't index item of type {values.type_name(item)}")
    return item


def slice_(item: object, *indexes: object) -> object:
    """slice x 1 2 is x[1:2]; a string slices by bytes."""
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    data: bytes | list[Any] | tuple[Any, ...]
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data = item.encode("utf-8", "surrogatepass")
    elif isinstance(item, list | tuple):
        data = item
    else:
        raise FuncError(f"can't slice item of type {values.type_name(item)}")
    idx = [0, len(data), 0]
    for k, i in enumerate(indexes):
        idx[k] = _index_arg(i, len(data))
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = data[idx[0] : idx[1]]
    if isinstance(part, bytes):
        # A cut through a multi-byte character cannot be text; Go would keep the raw bytes.
        return part.decode("utf-8", "replace")
    return list(part)


def eval_args(args: tuple[object, ...]) -> str:
    """The text html/js/urlquery escape: one string as is, else Sprint (nil as <no value>)."""
    if len(args) == 1 and type(args[0]) is str:
        return args[0]
    return sprint(*("<no value>" if a is None else a for a in args))


def html_escape(s: str) -> str:
    """Go's template.HTMLEscapeString."""
    if not any(c in s for c in "'\"&<>\0"):
        return s
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\0", "\ufffd")
    )


_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def js_escape(s: str) -> str:
    """Go's template.JSEscapeString."""
    out = []
    for c in s:
        if c in _JS:
            out.append(_JS[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04X}")
        elif c < "\x80" or c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def html(*args: object) -> str:
    """The HTML-escaped text of the arguments."""
    return html_escape(eval_args(args))


def js(*args: object) -> str:
    """The JavaScript-escaped text of the arguments."""
    return js_escape(eval_args(args))


def urlquery(*args: object) -> str:
    """The arguments' text escaped for a URL query (Go's url.QueryEscape)."""
    return quote_plus(eval_args(args), safe="")


def print_(*args: object) -> str:
    """fmt.Sprint"""
    return sprint(*args)


def printf(format: str, *args: object) -> str:  # noqa: A002 - Go's parameter name
    """fmt.Sprintf"""
    return sprintf(format, *args)


def println(*args: object) -> str:
    """fmt.Sprintln"""
    return sprintln(*args)


BUILTINS: Mapping[str, Callable[..., Any]] = {
    "and": _special,
    "call": _call,
    "html": html,
    "index": index,
    "slice": slice_,
    "js": js,
    "len": length,
    "not": not_,
    "or": _special,
    "print": print_,
    "printf": printf,
    "println": println,
    "urlquery": urlquery,
    "eq": eq,
    "ge": ge,
    "gt": gt,
    "le": le,
    "lt": lt,
    "ne": ne,
}
