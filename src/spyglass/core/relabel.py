"""Prometheus relabeling: ``relabel_configs`` and ``metric_relabel_configs`` as pure functions.

Every action follows Prometheus 3's documented semantics: ``source_labels`` values are joined by
``separator``; ``regex`` is fully anchored (and ``.`` matches newlines, as Prometheus wraps it in
``^(?s:...)$``); ``replacement`` and ``target_label`` expand ``$1``, ``${1}``, ``$name`` and
``${name}`` the way Go's ``regexp.Expand`` does. Label names follow Prometheus 3's UTF-8 rule
(any non-empty name). A configuration is validated when it is built, so a bad one fails at
config load, never during a scrape.

Regexes are written in Go's RE2 syntax. With google-re2 installed they run on RE2 itself (same
syntax, linear time even on hostile label values); otherwise on Python's ``re`` with the common
differences translated (``(?<name>``, ``\\z``, end-of-text ``$``, leading ``(?i)`` flags, ASCII
classes), and RE2-only syntax that ``re`` rejects is reported as an invalid regex.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from spyglass.core.errors import ConfigError
from spyglass.core.labels import LABEL_NAME_RE, Labels

ACTIONS = (
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
)
DEFAULT_REGEX = "(.*)"
DEFAULT_SEPARATOR = ";"
DEFAULT_REPLACEMENT = "$1"

_NEEDS_TARGET = frozenset(
    ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
)
_LEADING_FLAGS = re.compile(r"^\(\?([imsU]+)\)")
_TEMPLATE_VAR = re.compile(r"\$(?:\{\w+\}|\w+)")
# Prometheus' relabelTarget pattern, rewritten without nested repetition: RE2 runs the
# original in linear time, Python's backtracking would not.
_LEGACY_TEMPLATE = re.compile(
    r"^(?:[a-zA-Z_]|\$(?:\{\w+\}|\w++))(?:\w|\$(?:\{\w+\}|\w++))*+\Z", re.ASCII
)


def _go_regex(expr: str) -> str:
    """Translate the RE2 spellings that Python's ``re`` reads differently."""
    out: list[str] = []
    i = 0
    in_class = False
    n = len(expr)
    while i < n:
        c = expr[i]
        if c == "\\" and i + 1 < n:
            nxt = expr[i + 1]
            out.append(r"\Z" if nxt == "z" and not in_class else c + nxt)
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
            # A "]" right after "[" or "[^" is a literal member, not the end of the class.
            if expr.startswith("^]", i + 1):
                out.append("^]")
                i += 2
            elif expr.startswith("]", i + 1):
                out.append("]")
                i += 1
        elif c == "$":
            out.append(r"\Z")  # RE2's "$" is end of text; Python's also matches before "\n"
        elif expr.startswith("(?<", i) and not expr.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Match(Protocol):
    """What relabeling needs of a regex match (``re.Match`` and RE2's match both fit)."""

    def group(self, index: int | str, /) -> Any:
        """The text of group ``index`` (``None`` when it did not take part)."""
        ...


class Pattern(Protocol):
    """A compiled relabel regex: Python's ``re`` or RE2's."""

    @property
    def groups(self) -> int:
        """Number of capturing groups."""
        ...

    @property
    def groupindex(self) -> Mapping[str, int]:
        """Group numbers by name."""
        ...

    def fullmatch(self, text: str, /) -> Match | None:
        """Match the whole of ``text``."""
        ...


def _load_re2() -> Any:
    try:
        return importlib.import_module("re2")
    except ImportError:
        return None


# Prometheus regexes are RE2 (Go's regexp): google-re2, when installed, gives the same syntax and
# linear-time matching, which matters because metric relabeling runs on values a scrape target
# chose. Without it, Python's re runs a translation of the common RE2 spellings.
_RE2 = _load_re2()


def compile_regex(expr: str, *, use_re2: bool | None = None) -> Pattern:
    """Compile a Prometheus relabel regex, anchored at both ends; ``ConfigError`` if invalid.

    ``use_re2`` forces the engine (``None``: RE2 when google-re2 is installed).
    """
    if (_RE2 is not None) if use_re2 is None else use_re2:
        return _compile_re2(expr)
    return _compile_python(expr)


def _compile_re2(expr: str) -> Pattern:
    options = _RE2.Options()
    options.log_errors = False
    try:
        compiled: Pattern = _RE2.compile(f"(?s:{expr})", options)
    except _RE2.error as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        code, _, fragment = text.partition(": ")
        code = _GO_ERROR_CODES.get(code, code)
        if not fragment or "(?s:" in fragment:  # our own wrapper: show the user's regex
            fragment = expr
        raise ConfigError(f"error parsing regexp: {code}: `{fragment}`", field="regex") from None
    return compiled


# RE2's error codes, spelled as Go's regexp/syntax spells them (Prometheus shows Go's).
_GO_ERROR_CODES = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid named capture group": "invalid named capture",
    "invalid repetition size": "invalid repeat count",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "trailing \\": "trailing backslash at end of expression",
}


def _compile_python(expr: str) -> Pattern:
    body = expr
    flags = ""
    m = _LEADING_FLAGS.match(body)
    if m:
        flags = m.group(1).replace("U", "")  # RE2's ungreedy flag has no Python equivalent
        body = body[m.end() :]
    translated = _go_regex(body)
    if flags:
        translated = f"(?{flags}:{translated})"
    try:
        # RE2's \d, \w, \s and \b are ASCII-only; Python's are Unicode unless told otherwise.
        return re.compile(f"(?s:{translated})", re.ASCII)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ConfigError(f"error parsing regexp: {exc}: `{expr}`", field="regex") from None


def expand(template: str, match: Match, pattern: Pattern) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``.

    A name runs as long as letters, digits and ``_`` do (``$1x`` means group ``1x``); groups that
    do not exist or did not take part expand to ``""``; a malformed ``$`` is kept literally.
    """
    if "$" not in template:
        return template
    out: list[str] = []
    rest = template
    groupindex = pattern.groupindex
    ngroups = pattern.groups
    while True:
        before, dollar, after = rest.partition("$")
        out.append(before)
        if not dollar:
            break
        rest = after
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        name, remainder = _extract(rest)
        if name is None:
            out.append("$")
            continue
        rest = remainder
        value: str | None = None
        if name.isdigit() and name.isascii() and not (len(name) > 1 and name[0] == "0"):
            num = int(name) if len(name) < 9 else -1
            if 0 <= num <= ngroups:
                value = match.group(num)
        elif name in groupindex:
            value = match.group(name)
        if value:
            out.append(value)
    return "".join(out)


def _extract(text: str) -> tuple[str | None, str]:
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (body[i].isalnum() or body[i] == "_"):
        i += 1
    if i == 0:
        return None, text
    name = body[:i]
    if brace:
        if i >= len(body) or body[i] != "}":
            return None, text
        i += 1
    return name, body[i:]


@dataclass(frozen=True, slots=True)
class RelabelConfig:
    """One relabeling step, validated like Prometheus validates it at config load.

    ``source_labels`` is ``None`` when the config does not set it (``labeldrop``/``labelkeep``
    must not set it). Raises ``ConfigError`` (``field`` names the offending key) when invalid.
    """

    source_labels: tuple[str, ...] | None = None
    separator: str = DEFAULT_SEPARATOR
    regex: str = DEFAULT_REGEX
    target_label: str = ""
    replacement: str = DEFAULT_REPLACEMENT
    modulus: int = 0
    action: str = "replace"
    pattern: Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        action = self.action.lower()
        object.__setattr__(self, "action", action)
        if not action:
            raise ConfigError("relabel action cannot be empty", field="action")
        if action not in ACTIONS:
            raise ConfigError(f'unknown relabel action "{self.action}"', field="action")
        object.__setattr__(self, "pattern", compile_regex(self.regex))
        if action == "hashmod" and self.modulus == 0:
            raise ConfigError(
                "relabel configuration for hashmod requires non-zero modulus", field="modulus"
            )
        if action in _NEEDS_TARGET and not self.target_label:
            raise ConfigError(
                f"relabel configuration for {action} action requires 'target_label' value",
                field="target_label",
            )
        if action == "labelmap" and not self.replacement:
            raise ConfigError(
                f"\"{self.replacement}\" is invalid 'replacement' for {action} action",
                field="replacement",
            )
        defaults = (
            self.regex == DEFAULT_REGEX
            and self.modulus == 0
            and self.separator == DEFAULT_SEPARATOR
            and self.replacement == DEFAULT_REPLACEMENT
        )
        if action in ("lowercase", "uppercase") and self.replacement != DEFAULT_REPLACEMENT:
            raise ConfigError(
                f"'replacement' can not be set for {action} action", field="replacement"
            )
        if action in ("keepequal", "dropequal") and not defaults:
            raise ConfigError(
                f"{action} action requires only 'source_labels' and `target_label`, "
                "and no other fields",
                field="action",
            )
        if action in ("labeldrop", "labelkeep") and (
            self.source_labels is not None
            or self.target_label
            or self.modulus != 0
            or self.separator != DEFAULT_SEPARATOR
            or self.replacement != DEFAULT_REPLACEMENT
        ):
            raise ConfigError(
                f"{action} action requires only 'regex', and no other fields", field="action"
            )

    def check_legacy_names(self) -> None:
        """Under ``metric_name_validation_scheme: legacy``, names written must be legacy names.

        A ``replace`` target (and a ``labelmap`` replacement) may use ``$1``/``${name}``
        templates in place of characters, as long as the rest is a legacy name.
        """
        if self.action in _NEEDS_TARGET and not (
            (
                self.action == "replace"
                and uses_template(self.target_label)
                and _LEGACY_TEMPLATE.match(self.target_label)
            )
            or LABEL_NAME_RE.match(self.target_label)
        ):
            raise ConfigError(
                f"\"{self.target_label}\" is invalid 'target_label' for {self.action} action",
                field="target_label",
            )
        if self.action == "labelmap" and not _LEGACY_TEMPLATE.match(self.replacement):
            raise ConfigError(
                f"\"{self.replacement}\" is invalid 'replacement' for {self.action} action",
                field="replacement",
            )


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' ``hashmod``: the last 8 bytes of MD5(value), big-endian, modulo ``modulus``."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def relabel(
    labels: Labels | Iterable[tuple[str, str]], configs: Sequence[RelabelConfig]
) -> Labels | None:
    """Apply ``configs`` in order. ``None`` when a keep/drop step drops the set.

    The result is sorted with empty-valued labels removed (an empty value means "absent").
    """
    builder = {n: v for n, v in labels if v != ""}
    for cfg in configs:
        if not _apply(builder, cfg):
            return None
    return tuple(sorted(builder.items()))


def _apply(lb: dict[str, str], cfg: RelabelConfig) -> bool:
    action = cfg.action
    sources = cfg.source_labels or ()
    value = cfg.separator.join(lb.get(name, "") for name in sources)
    if action == "replace":
        m = cfg.pattern.fullmatch(value)
        if m is None:
            return True
        target = expand(cfg.target_label, m, cfg.pattern)
        if not target:
            return True
        result = expand(cfg.replacement, m, cfg.pattern)
        if result:
            lb[target] = result
        else:
            # Prometheus deletes the unexpanded target_label here, not the expanded one.
            lb.pop(cfg.target_label, None)
    elif action == "keep":
        return cfg.pattern.fullmatch(value) is not None
    elif action == "drop":
        return cfg.pattern.fullmatch(value) is None
    elif action == "keepequal":
        return lb.get(cfg.target_label, "") == value
    elif action == "dropequal":
        return lb.get(cfg.target_label, "") != value
    elif action == "hashmod":
        lb[cfg.target_label] = str(hashmod(value, cfg.modulus))
    elif action == "lowercase":
        _set(lb, cfg.target_label, value.lower())
    elif action == "uppercase":
        _set(lb, cfg.target_label, value.upper())
    elif action == "labelmap":
        for name, val in list(lb.items()):
            m = cfg.pattern.fullmatch(name)
            if m is not None:
                new_name = expand(cfg.replacement, m, cfg.pattern)
                if new_name:
                    lb[new_name] = val
    elif action == "labeldrop":
        for name in [n for n in lb if cfg.pattern.fullmatch(n) is not None]:
            del lb[name]
    elif action == "labelkeep":
        for name in [n for n in lb if cfg.pattern.fullmatch(n) is None]:
            del lb[name]
    return True


def _set(lb: dict[str, str], name: str, value: str) -> None:
    if value:
        lb[name] = value
    else:
        lb.pop(name, None)


def uses_template(text: str) -> bool:
    """Whether ``text`` refers to a regex group (``$1``, ``${name}``)."""
    return _TEMPLATE_VAR.search(text) is not None


__all__ = [
    "ACTIONS",
    "DEFAULT_REGEX",
    "DEFAULT_REPLACEMENT",
    "DEFAULT_SEPARATOR",
    "Match",
    "Pattern",
    "RelabelConfig",
    "compile_regex",
    "expand",
    "hashmod",
    "relabel",
    "uses_template",
]
