"""Reading a frozen dataclass from a positioned YAML mapping, as Go's yaml.v2 fills a struct.

The notifier configs are tables: each dataclass field says which YAML key it reads, what kind of
value it holds (``setting(kind)``) and its default, which is Alertmanager's. ``decode`` reads a
mapping strictly (an unknown key is ``field X not found in type T``, T being the Go type
Alertmanager names), keeps the default for a null scalar as yaml.v2 does (a null map, list or
pointer becomes empty), then runs the class's ``check`` (its ``UnmarshalYAML`` validation),
which raises ``Invalid`` with Alertmanager's message and the key to point at.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, TypeVar

from spyglass.alerting._golang import parse_duration_ns, parse_http_url, parse_url, split_host_port
from spyglass.alerting._http import HTTPConfig, parse_http_config, parse_tls_config
from spyglass.core.config import Node
from spyglass.core.config.fields import (
    Section,
    boolean,
    duration,
    kind,
    mapping,
    sequence,
    string,
    string_list,
    string_map,
)
from spyglass.core.errors import BadInput

T = TypeVar("T")

# Kinds whose Go type is a pointer, map or slice: YAML null sets them to nil.
_NILABLE = frozenset(
    {
        "url",
        "secret_url",
        "common_url",
        "http",
        "tls",
        "opt_bool",
        "opt_secret",
        "nested_opt",
        "str_map",
        "any_map",
        "str_list",
        "nested_list",
        "any",
    }
)
SECRET_TOKEN = "<secret>"  # noqa: S105 - what Alertmanager prints in place of a secret
_TEMPLATE_ACTION = re.compile(r"\{\{.*?\}\}", re.S)


class Invalid(Exception):
    """A validation failure: Alertmanager's message and the YAML key it is about."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def setting(
    kind: str = "str",
    default: Any = None,
    *,
    key: str = "",
    secret: bool = False,
    of: type | None = None,
    factory: Callable[[], Any] | None = None,
    go: str = "",
) -> Any:
    """A dataclass field read from YAML: its kind, its default and (when not the field's name)
    its key. ``secret`` keeps the value out of ``repr``; ``of`` is the class of nested kinds;
    ``go`` the Go type named in type errors."""
    metadata = {"kind": kind, "key": key, "of": of, "go": go}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata, repr=not secret)
    return dataclasses.field(default=default, metadata=metadata, repr=not secret)


def yaml_key(f: dataclasses.Field[Any]) -> str:
    """The YAML key a dataclass field reads."""
    return str(f.metadata.get("key") or f.name)


def decode(cls: type[T], node: Node, path: str) -> T:
    """Read ``cls`` from a mapping node, then validate it with ``cls.check`` if it has one."""
    table = {yaml_key(f): f for f in dataclasses.fields(cls) if "kind" in f.metadata}  # type: ignore[arg-type]
    s = Section(node, getattr(cls, "GO_TYPE", "plain"), path, table)
    values: dict[str, Any] = {}
    for key, f in table.items():
        if key not in s.items:
            continue
        child = s.items[key]
        kind_ = f.metadata["kind"]
        if child.is_null:
            if kind_ in _NILABLE:
                values[f.name] = _nil(f)
            continue
        values[f.name] = read(kind_, child, s.p(key), f.metadata)
    obj = cls(**values)
    check: Callable[[], T] | None = getattr(obj, "check", None)
    if check is None:
        return obj
    try:
        return check()
    except Invalid as exc:
        if exc.key:
            raise s.error(exc.key, exc.message) from None
        raise node.error(exc.message, path) from None


def _nil(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    kind_ = f.metadata["kind"]
    return () if kind_ in ("str_list", "nested_list") else None


def read(kind_: str, node: Node, path: str, meta: Any) -> Any:
    """One value of the given kind (see ``setting``)."""
    reader = _READERS.get(kind_)
    if reader is None:  # pragma: no cover - a table names a kind that does not exist
        raise KeyError(kind_)
    return reader(node, path, meta)


def _str(node: Node, path: str, meta: Any) -> str:
    return string(node, path)


def _bool(node: Node, path: str, meta: Any) -> bool:
    return boolean(node, path)


def _int(node: Node, path: str, meta: Any) -> int:
    go = meta.get("go") or "int"
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int):
        raise node.error(f"cannot unmarshal {kind(node)} `{_short(node.text)}` into {go}", path)
    low, high = (0, 2**64) if go.startswith("uint") else (-(2**63), 2**63)
    if not low <= value < high:
        raise node.error(f"cannot unmarshal {kind(node)} `{_short(node.text)}` into {go}", path)
    return value


def _short(text: str) -> str:
    return text if len(text) <= 10 else text[:7] + "..."


def _model_duration(node: Node, path: str, meta: Any) -> int:
    return duration(node, path)


def _go_duration(node: Node, path: str, meta: Any) -> int:
    """A Go ``time.Duration`` field: an integer is nanoseconds, a string is parsed."""
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node.value, str):
        try:
            return parse_duration_ns(node.value)
        except BadInput:
            pass
    raise node.error(
        f"cannot unmarshal {kind(node)} `{_short(node.text)}` into time.Duration", path
    )


def _text_duration(node: Node, path: str, meta: Any) -> int:
    """A duration read through ``UnmarshalText`` (pushover): Go's own error message."""
    try:
        return parse_duration_ns(string(node, path))
    except BadInput as exc:
        raise node.error(str(exc), path) from None


def _url(node: Node, path: str, meta: Any) -> str:
    text = string(node, path)
    try:
        parse_http_url(text)
    except BadInput as exc:
        raise node.error(str(exc), path) from None
    return text


def _secret_url(node: Node, path: str, meta: Any) -> str:
    text = string(node, path)
    # A config Alertmanager printed (amtool, the API) shows secrets as "<secret>".
    return text if text == SECRET_TOKEN else _url(node, path, meta)


def _common_url(node: Node, path: str, meta: Any) -> str:
    text = string(node, path)
    try:
        parse_url(text)
    except BadInput as exc:
        raise node.error(str(exc), path) from None
    return text


def _template_url(node: Node, path: str, meta: Any) -> str:
    """A URL that may be a Go template: only a URL without ``{{`` is checked as a URL."""
    text = string(node, path)
    if not text or text == SECRET_TOKEN:
        return text
    if "{{" in text:
        problem = template_problem(text)
        if problem:
            raise node.error(f"invalid template syntax: {problem}", path)
        return text
    try:
        parse_http_url(text)
    except BadInput as exc:
        raise node.error(f"invalid URL: {exc}", path) from None
    return text


def template_problem(text: str) -> str:
    """What is structurally wrong with a template's actions (``""`` when nothing is).

    Only delimiters are checked here; the actions themselves are parsed when templates render.
    """
    rest = _TEMPLATE_ACTION.sub("", text)
    if "{{" in rest:
        return "unclosed action"
    return ""


def _hostport(node: Node, path: str, meta: Any) -> str:
    text = string(node, path)
    if not text:
        return ""
    try:
        _, port = split_host_port(text)
    except BadInput as exc:
        raise node.error(str(exc), path) from None
    if not port:
        raise node.error(f'address "{text}": port cannot be empty', path)
    return text


def _str_list(node: Node, path: str, meta: Any) -> tuple[str, ...]:
    return tuple(string_list(node, path))


def _str_map(node: Node, path: str, meta: Any) -> dict[str, str]:
    return string_map(node, path)


def _any_map(node: Node, path: str, meta: Any) -> dict[str, Any]:
    mapping(node, meta.get("go") or "map[string]interface {}", path)
    plain = node.plain()
    return plain if isinstance(plain, dict) else {}


def _any(node: Node, path: str, meta: Any) -> Any:
    return node.plain()


def _http(node: Node, path: str, meta: Any) -> HTTPConfig:
    return parse_http_config(node, path)


def _tls(node: Node, path: str, meta: Any) -> Any:
    return parse_tls_config(node, path)


def _nested(node: Node, path: str, meta: Any) -> Any:
    return decode(meta["of"], node, path)


def _str_or_nested(node: Node, path: str, meta: Any) -> Any:
    """A struct that may also be written as a plain string (its first field)."""
    if isinstance(node.value, (dict, list)):
        return decode(meta["of"], node, path)
    return meta["of"](string(node, path))


def _nested_list(node: Node, path: str, meta: Any) -> tuple[Any, ...]:
    items = sequence(node, path, meta.get("go") or "[]")
    cls = meta["of"]
    out = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        # A null entry is a struct left at its defaults (or a nil pointer Alertmanager skips).
        out.append(decode(cls, Node({}, item.line, item.file) if item.is_null else item, where))
    return tuple(out)


_READERS: dict[str, Callable[[Node, str, Any], Any]] = {
    "str": _str,
    "secret": _str,
    "opt_secret": _str,
    "bool": _bool,
    "opt_bool": _bool,
    "int": _int,
    "model_duration": _model_duration,
    "go_duration": _go_duration,
    "text_duration": _text_duration,
    "url": _url,
    "secret_url": _secret_url,
    "common_url": _common_url,
    "template_url": _template_url,
    "hostport": _hostport,
    "str_list": _str_list,
    "str_map": _str_map,
    "any_map": _any_map,
    "any": _any,
    "http": _http,
    "tls": _tls,
    "nested": _nested,
    "nested_opt": _nested,
    "nested_list": _nested_list,
    "str_or_nested": _str_or_nested,
}


__all__ = [
    "SECRET_TOKEN",
    "Invalid",
    "decode",
    "read",
    "setting",
    "template_problem",
    "yaml_key",
]
