"""How Go's standard library reads and writes the texts Alertmanager's formats depend on.

Alertmanager's config and its outputs (group keys, matcher strings, error messages) are shaped by
Go: ``strconv.Quote`` spells label values in group keys, ``strconv.Unquote`` reads quoted matcher
tokens, ``time.ParseDuration`` reads notifier timeouts, ``net/url`` and ``net.SplitHostPort``
validate addresses, ``textproto`` canonicalises e-mail header names and ``regexp`` (RE2) compiles
regexes. This module reproduces exactly the parts those formats use.
"""

from __future__ import annotations

import importlib
import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

from spyglass.core.errors import BadInput

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES["\v"] = "\\v"
_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_UNESCAPES.update({"\\": "\\", '"': '"'})


def quote(text: str) -> str:
    """Go's ``strconv.Quote``: printable runes as they are, the rest escaped (lowercase hex)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch.isprintable():
            # Python's printable set is Go's unicode.IsPrint: letters, marks, numbers,
            # punctuation, symbols and the ASCII space.
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def unquote(token: str) -> str:
    """Go's ``strconv.Unquote`` for a double-quoted string; ``ValueError`` when it is invalid.

    Escapes: ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\"``, octal ``\\ooo``, ``\\xhh``, ``\\uhhhh`` and
    ``\\Uhhhhhhhh``; a raw newline or an unknown escape is an error, and so are bytes that do not
    form UTF-8 (Alertmanager rejects those).
    """
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise ValueError("invalid syntax")
    body = token[1:-1]
    if "\n" in body:
        raise ValueError("invalid syntax")
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            raise ValueError("invalid syntax")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("invalid syntax")
        kind = body[i + 1]
        if kind in _UNESCAPES:
            out += _UNESCAPES[kind].encode()
            i += 2
        elif kind in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) < 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
                raise ValueError("invalid syntax")
            out.append(int(digits, 8))
            i += 4
        elif kind in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[kind]
            digits = body[i + 2 : i + 2 + size]
            if len(digits) < size or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("invalid syntax")
            value = int(digits, 16)
            if kind == "x":
                out.append(value)
            else:
                if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    raise ValueError("invalid syntax")
                out += chr(value).encode()
            i += 2 + size
        else:
            raise ValueError("invalid syntax")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid UTF-8") from None


_DURATION_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*)(\.[0-9]*)?([^0-9.]*)")


def parse_duration_ns(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds (``1h30m``, ``1.5s``, ``300ms``, ``-2m``)."""
    quoted = quote(text)
    rest = text
    sign = 1
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise BadInput(f"time: invalid duration {quoted}")
    total = 0
    while rest:
        m = _DURATION_PART.match(rest)
        assert m is not None  # the pattern matches the empty string
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        if not whole and len(frac) <= 1:
            raise BadInput(f"time: invalid duration {quoted}")
        if not unit:
            raise BadInput(f"time: missing unit in duration {quoted}")
        # The unit runs until the next digit or dot.
        if unit not in _DURATION_UNITS_NS:
            raise BadInput(f"time: unknown unit {quote(unit)} in duration {quoted}")
        size = _DURATION_UNITS_NS[unit]
        total += int(whole or "0") * size
        if len(frac) > 1:
            total += int(float("0" + frac) * size)
        rest = rest[m.end() :]
    if total > (1 << 63) - 1:
        raise BadInput(f"time: invalid duration {quoted}")
    return sign * int(total)


def format_duration_ns(ns: int) -> str:
    """Go's ``time.Duration.String`` for whole milliseconds and above (``1h0m0s``, ``30s``)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("\u00b5s", 1_000), ("ns", 1)):
            if ns >= size:
                return f"{sign}{_trim(ns / size)}{unit}"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _trim(rest / 1_000_000_000)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


def parse_url(text: str) -> SplitResult:
    """Go's ``url.Parse``, for the errors users meet: ``BadInput`` worded as Go words them."""
    prefix = f"parse {quote(text)}: "
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise BadInput(prefix + "net/url: invalid control character in URL")
    if text.startswith(":"):
        raise BadInput(prefix + "missing protocol scheme")
    for m in re.finditer(r"%(.{0,2})", text):
        if not re.fullmatch(r"[0-9a-fA-F]{2}", m.group(1)):
            raise BadInput(prefix + f"invalid URL escape {quote(m.group(0))}")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise BadInput(prefix + "missing ']' in host") from None
    if parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        port = host.rpartition("]")[2] if host.startswith("[") else host
        if ":" in port:
            digits = port.rpartition(":")[2]
            if not digits.isdigit() and digits != "":
                raise BadInput(prefix + f"invalid port {quote(':' + digits)} after host")
    return parts


def parse_http_url(text: str) -> SplitResult:
    """Alertmanager's URL check: Go's ``url.Parse``, then an http(s) scheme and a host."""
    parts = parse_url(text)
    if parts.scheme not in ("http", "https"):
        raise BadInput(f"unsupported scheme {quote(parts.scheme)} for URL")
    if not parts.hostname and not parts.netloc.rpartition("@")[2]:
        raise BadInput("missing host for URL")
    return parts


def split_host_port(text: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``; ``BadInput`` with Go's message when it fails."""
    missing = f"address {text}: missing port in address"
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise BadInput(f"address {text}: missing ']' in address")
        if end + 1 == len(text):
            raise BadInput(missing)
        if text[end + 1] != ":":
            if "]" in text[end + 1 :] or "[" in text[1:]:
                raise BadInput(f"address {text}: unexpected ']' in address")
            raise BadInput(missing)
        host, port = text[1:end], text[end + 2 :]
        if "[" in host or "]" in port or "[" in port:
            raise BadInput(f"address {text}: unexpected '[' in address")
        return host, port
    colon = text.rfind(":")
    if colon < 0:
        raise BadInput(missing)
    host, port = text[:colon], text[colon + 1 :]
    if ":" in host:
        raise BadInput(f"address {text}: too many colons in address")
    if "[" in text or "]" in text:
        raise BadInput(f"address {text}: unexpected '[' in address")
    return host, port


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def canonical_header(name: str) -> str:
    """Go's ``textproto.CanonicalMIMEHeaderKey``: ``content-type`` -> ``Content-Type``.

    A name with a character outside HTTP's token set is returned unchanged, as Go does.
    """
    if any(c not in _TOKEN_CHARS for c in name):
        return name
    out = []
    upper = True
    for c in name:
        out.append(c.upper() if upper else c.lower())
        upper = c == "-"
    return "".join(out)


# Go's regexp/syntax messages for RE2's error codes (Alertmanager shows Go's).
_REGEX_CODES = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid named capture group": "invalid named capture",
    "invalid repetition size": "invalid repeat count",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "trailing \\": "trailing backslash at end of expression",
}


def _load_re2() -> Any:
    try:
        return importlib.import_module("re2")
    except ImportError:  # pragma: no cover - google-re2 is a dependency
        return None


_RE2 = _load_re2()


class Regex:
    """A regex compiled as Go's ``regexp.Compile`` would (RE2 syntax, linear time)."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        if _RE2 is not None:
            options = _RE2.Options()
            options.log_errors = False
            try:
                self._compiled: Any = _RE2.compile(pattern, options)
            except _RE2.error as exc:
                detail = exc.args[0] if exc.args else exc
                text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
                code, _, fragment = text.partition(": ")
                raise BadInput(
                    f"error parsing regexp: {_REGEX_CODES.get(code, code)}: `{fragment}`"
                ) from None
        else:  # pragma: no cover - google-re2 is a dependency
            try:
                self._compiled = re.compile(pattern.replace("$", r"\Z"))
            except re.error as exc:
                raise BadInput(f"error parsing regexp: {exc}: `{pattern}`") from None

    def search(self, text: str) -> bool:
        """Whether the regex matches anywhere in ``text`` (anchors decide the rest)."""
        return self._compiled.search(text) is not None


__all__ = [
    "Regex",
    "canonical_header",
    "format_duration_ns",
    "parse_duration_ns",
    "parse_http_url",
    "parse_url",
    "quote",
    "split_host_port",
    "unquote",
]
