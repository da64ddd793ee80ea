"""Alertmanager's notification template data and functions.

``notification_data`` builds what Alertmanager passes to a receiver's templates (``.Receiver``,
``.Status``, ``.Alerts`` with ``.Firing``/``.Resolved``, ``.GroupLabels``, ``.CommonLabels``,
``.CommonAnnotations``, ``.ExternalURL``), with the same quirks: the receiver name is regexp-quoted,
a label set's ``SortedPairs`` puts ``alertname`` first, fingerprints are Prometheus' FNV-1a.
``alertmanager_functions`` are the functions of Alertmanager's template reference.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import string
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote_plus

from spyglass.core.template import _text
from spyglass.core.template import _values as values
from spyglass.core.template._gotime import GoDuration, GoTime, TimeError, parse_time
from spyglass.core.template._printing import format_float
from spyglass.core.template._prometheus import SafeHTML, humanize_duration, to_lower, to_upper
from spyglass.core.template._values import StringMap

ALERT_NAME = "alertname"


class Strings(list[str]):
    """Alertmanager's ``Strings``: a list of strings with ``.Join``."""

    __go_type__: ClassVar[str] = "template.Strings"
    __go_fields__: ClassVar[dict[str, str]] = {"Join": "join"}

    def join(self, sep: str) -> str:
        """``strings.Join`` of the elements."""
        return sep.join(self)


class _StringSlice(list[str]):
    __go_type__: ClassVar[str] = "[]string"


@dataclass(frozen=True, slots=True)
class Pair:
    """A label or annotation: ``.Name`` and ``.Value``."""

    name: str
    value: str

    __go_type__: ClassVar[str] = "template.Pair"
    __go_fields__: ClassVar[dict[str, str]] = {"Name": "name", "Value": "value"}


class Pairs(list[Pair]):
    """A list of pairs with ``.Names``, ``.Values`` and ``name=value, ...`` printing."""

    __go_type__: ClassVar[str] = "template.Pairs"
    __go_fields__: ClassVar[dict[str, str]] = {
        "Names": "names",
        "Values": "pair_values",
        "String": "string",
    }

    def names(self) -> Strings:
        """The names, in order."""
        return Strings(p.name for p in self)

    def pair_values(self) -> Strings:
        """The values, in order."""
        return Strings(p.value for p in self)

    def string(self) -> str:
        """``name=value, name=value``."""
        return ", ".join(f"{p.name}={p.value}" for p in self)


class KV(StringMap):
    """A label or annotation set (Alertmanager's ``KV``) with its template methods."""

    __go_type__ = "template.KV"
    __go_fields__: ClassVar[dict[str, str]] = {
        "SortedPairs": "sorted_pairs",
        "Remove": "remove",
        "Names": "names",
        "Values": "sorted_values",
        "String": "string",
    }
    __slots__ = ()

    def sorted_pairs(self) -> Pairs:
        """The pairs sorted by name, ``alertname`` first."""
        keys = sorted(k for k in self if k != ALERT_NAME)
        if ALERT_NAME in self:
            keys.insert(0, ALERT_NAME)
        return Pairs(Pair(k, self[k]) for k in keys)

    def remove(self, keys: Sequence[str]) -> KV:
        """A copy without the given names."""
        drop = set(keys)
        return KV({k: v for k, v in self.items() if k not in drop})

    def names(self) -> Strings:
        """The names in ``SortedPairs`` order."""
        return self.sorted_pairs().names()

    def sorted_values(self) -> Strings:
        """The values in ``SortedPairs`` order."""
        return self.sorted_pairs().pair_values()

    def string(self) -> str:
        """``alertname=X, job=y``."""
        return self.sorted_pairs().string()


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of a notification."""

    status: str
    labels: KV
    annotations: KV
    starts_at: GoTime
    ends_at: GoTime
    generator_url: str
    fingerprint: str

    __go_type__: ClassVar[str] = "template.Alert"
    __go_fields__: ClassVar[dict[str, str]] = {
        "Status": "status",
        "Labels": "labels",
        "Annotations": "annotations",
        "StartsAt": "starts_at",
        "EndsAt": "ends_at",
        "GeneratorURL": "generator_url",
        "Fingerprint": "fingerprint",
    }
    __go_json__: ClassVar[dict[str, str]] = {
        "status": "status",
        "labels": "labels",
        "annotations": "annotations",
        "startsAt": "starts_at",
        "endsAt": "ends_at",
        "generatorURL": "generator_url",
        "fingerprint": "fingerprint",
    }


class Alerts(list[Alert]):
    """The alerts of a notification, with ``.Firing`` and ``.Resolved``."""

    __go_type__: ClassVar[str] = "template.Alerts"
    __go_fields__: ClassVar[dict[str, str]] = {"Firing": "firing", "Resolved": "resolved"}

    def firing(self) -> list[Alert]:
        """The alerts that are firing."""
        return _AlertList(a for a in self if a.status == "firing")

    def resolved(self) -> list[Alert]:
        """The alerts that are resolved."""
        return _AlertList(a for a in self if a.status == "resolved")


class _AlertList(list[Alert]):
    __go_type__: ClassVar[str] = "[]template.Alert"


@dataclass(frozen=True, slots=True)
class Data:
    """What a receiver's templates see as dot."""

    receiver: str
    status: str
    alerts: Alerts
    group_labels: KV
    common_labels: KV
    common_annotations: KV
    external_url: str

    __go_type__: ClassVar[str] = "*template.Data"
    __go_pointer__: ClassVar[bool] = True
    __go_fields__: ClassVar[dict[str, str]] = {
        "Receiver": "receiver",
        "Status": "status",
        "Alerts": "alerts",
        "GroupLabels": "group_labels",
        "CommonLabels": "common_labels",
        "CommonAnnotations": "common_annotations",
        "ExternalURL": "external_url",
    }
    __go_json__: ClassVar[dict[str, str]] = {
        "receiver": "receiver",
        "status": "status",
        "alerts": "alerts",
        "groupLabels": "group_labels",
        "commonLabels": "common_labels",
        "commonAnnotations": "common_annotations",
        "externalURL": "external_url",
    }


class NotifiedAlert(Protocol):
    """What ``notification_data`` needs of an alert."""

    @property
    def labels(self) -> Mapping[str, str]:
        """The alert's labels."""
        ...

    @property
    def annotations(self) -> Mapping[str, str]:
        """The alert's annotations."""
        ...

    @property
    def starts_at(self) -> dt.datetime:
        """When it started firing."""
        ...

    @property
    def ends_at(self) -> dt.datetime | None:
        """When it ends (or ended); ``None`` when unknown."""
        ...

    @property
    def generator_url(self) -> str:
        """The link back to what fired it."""
        ...


@dataclass(frozen=True, slots=True)
class AlertInput:
    """A plain ``NotifiedAlert``."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: dt.datetime = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    ends_at: dt.datetime | None = None
    generator_url: str = ""


_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' label-set fingerprint (FNV-1a over sorted name/value pairs), 16 hex digits."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in part:
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


_META = frozenset("\\.+*?()|[]{}^$")


def quote_meta(s: str) -> str:
    """Go's ``regexp.QuoteMeta``."""
    return "".join("\\" + c if c in _META else c for c in s)


def _go_time(value: dt.datetime | None) -> GoTime:
    return GoTime.zero() if value is None else GoTime.from_datetime(value)


def notification_data(
    receiver: str,
    alerts: Iterable[NotifiedAlert],
    *,
    group_labels: Mapping[str, str] | None = None,
    external_url: str = "",
    now: dt.datetime | None = None,
) -> Data:
    """The template data of one notification, as Alertmanager assembles it.

    An alert is resolved when its ``ends_at`` is set and not after ``now`` (default: the
    current time); the group is firing when any alert is. Alerts keep the order given.
    """
    moment = GoTime.from_datetime(now or dt.datetime.now(dt.UTC))
    items = list(alerts)
    out = Alerts()
    for a in items:
        ends = _go_time(a.ends_at)
        resolved = a.ends_at is not None and not ends.after(moment)
        out.append(
            Alert(
                status="resolved" if resolved else "firing",
                labels=KV(a.labels),
                annotations=KV(a.annotations),
                starts_at=_go_time(a.starts_at),
                ends_at=ends,
                generator_url=a.generator_url,
                fingerprint=fingerprint(a.labels),
            )
        )
    common_labels: dict[str, str] = {}
    common_annotations: dict[str, str] = {}
    if items:
        common_labels = dict(items[0].labels)
        common_annotations = dict(items[0].annotations)
        for a in items[1:]:
            if not common_labels and not common_annotations:
                break
            common_labels = {k: v for k, v in common_labels.items() if a.labels.get(k, "") == v}
            common_annotations = {
                k: v for k, v in common_annotations.items() if a.annotations.get(k, "") == v
            }
    return Data(
        receiver=quote_meta(receiver),
        status="firing" if any(a.status == "firing" for a in out) else "resolved",
        alerts=out,
        group_labels=KV(group_labels),
        common_labels=KV(common_labels),
        common_annotations=KV(common_annotations),
        external_url=external_url,
    )


# --- functions -------------------------------------------------------------------------------


class SafeURL(str):
    """``html/template.URL``: text marked as a safe URL (``safeUrl``)."""

    __slots__ = ()
    __go_type__: ClassVar[str] = "template.URL"


def trim_space(s: str) -> str:
    """``strings.TrimSpace``."""
    return s.strip(values.GO_SPACE)


def _safe_html(text: str) -> SafeHTML:
    return SafeHTML(text)


def _safe_url(text: str) -> SafeURL:
    return SafeURL(text)


def _join(sep: str, s: Sequence[str]) -> str:
    return sep.join(s)


def _title(text: str) -> str:
    return _text.title(text, lower_rest=True)


def _re_replace_all(pattern: str, repl: str, text: str) -> str:
    return _text.replace_all(_text.must_compile(pattern), text, repl)


def _string_slice(*s: str) -> list[str]:
    return _StringSlice(s)


def _date(fmt: str, t: GoTime) -> str:
    return t.format(fmt)


def _tz(name: str, t: GoTime) -> GoTime:
    if name in ("", "UTC"):
        return t.utc()
    if name == "Local":
        return t.in_zone(dt.datetime.now().astimezone().tzinfo or dt.UTC)
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name}") from None
    return t.in_zone(zone)


def _url_unescape(text: str) -> str:
    # url.QueryUnescape refuses malformed escapes, which unquote_plus would keep.
    i = text.find("%")
    while i >= 0:
        code = text[i + 1 : i + 3]
        if len(code) < 2 or any(c not in "0123456789abcdefABCDEF" for c in code):
            raise ValueError(f"invalid URL escape {json.dumps(text[i : i + 3])}")
        i = text.find("%", i + 3)
    return unquote_plus(text, errors="replace")


def _to_date(layout: str, s: str) -> GoTime:
    try:
        return parse_time(layout, s)
    except TimeError:
        return GoTime.zero()


def _must_to_date(layout: str, s: str) -> GoTime:
    return parse_time(layout, s)


def _base64encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


_B64 = {
    c: i for i, c in enumerate(string.ascii_uppercase + string.ascii_lowercase + "0123456789-_")
}


def _base64decode(text: str) -> str:
    """``base64.URLEncoding.DecodeString``, with Go's error positions."""

    def corrupt(at: int) -> ValueError:
        return ValueError(f"illegal base64 data at input byte {at}")

    out = bytearray()
    si, n = 0, len(text)
    while True:
        quantum: list[int] = []
        while len(quantum) < 4:
            if si == n:
                if not quantum:
                    return out.decode("utf-8", "replace")
                raise corrupt(si - len(quantum))
            c = text[si]
            si += 1
            if c in "\r\n":
                continue
            if c == "=":
                if len(quantum) < 2:
                    raise corrupt(si - 1)
                if len(quantum) == 2:  # a second "=" must follow
                    while si < n and text[si] in "\r\n":
                        si += 1
                    if si == n:
                        raise corrupt(n)
                    if text[si] != "=":
                        raise corrupt(si - 1)
                    si += 1
                while si < n and text[si] in "\r\n":
                    si += 1
                if si < n:
                    raise corrupt(si)
                value = 0
                for v in quantum:
                    value = value << 6 | v
                value <<= 6 * (4 - len(quantum))
                out += value.to_bytes(3, "big")[: len(quantum) - 1]
                return out.decode("utf-8", "replace")
            code = _B64.get(c)
            if code is None:
                raise corrupt(si - 1)
            quantum.append(code)
        value = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
        out += value.to_bytes(3, "big")


def _list(*args: object) -> list[object]:
    return list(args)


def _append(slice_: Sequence[Any], *args: object) -> list[object]:
    return [*slice_, *args]


def _dict(*pairs: object) -> dict[str, object]:
    if len(pairs) % 2:
        raise ValueError("dict requires an even number of arguments")
    out: dict[str, object] = {}
    for i in range(0, len(pairs), 2):
        key = pairs[i]
        if not isinstance(key, str):
            raise ValueError("dict keys must be strings")
        out[key] = pairs[i + 1]
    return out


def to_json(v: object) -> str:
    """Go's ``json.Marshal`` of a template value: compact, keys sorted, ``<>&`` escaped."""
    out: list[str] = []
    _encode(v, out)
    return "".join(out)


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _json_string(s: str) -> str:
    out = ['"']
    for c in s:
        esc = _JSON_ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _json_float(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"json: unsupported value: {format_float(v, 'g', -1)}")
    a = abs(v)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = format_float(v, "e", -1)
        # Go writes 1e-07 as 1e-7 (and keeps 1e+21).
        if len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return format_float(v, "f", -1)


def _encode(v: object, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, GoTime):
        out.append(_json_string(v.format("2006-01-02T15:04:05.999999999Z07:00")))
    elif isinstance(v, int):
        out.append(str(int(v)))
    elif isinstance(v, float):
        out.append(_json_float(v))
    elif isinstance(v, str):
        out.append(_json_string(v))
    elif isinstance(v, Mapping):
        out.append("{")
        for i, (k, val) in enumerate(values.sorted_items(v)):
            if i:
                out.append(",")
            out.append(_json_string(str(k)) + ":")
            _encode(val, out)
        out.append("}")
    elif isinstance(v, list | tuple):
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        names = getattr(type(v), "__go_json__", None)
        pairs = (
            [(key, getattr(v, attr)) for key, attr in names.items()]
            if isinstance(names, Mapping)
            else values.struct_fields(v)
        )
        out.append("{")
        for i, (key, val) in enumerate(pairs):
            if i:
                out.append(",")
            out.append(_json_string(key) + ":")
            _encode(val, out)
        out.append("}")


def alertmanager_functions(
    clock: Callable[[], dt.datetime] | None = None,
) -> dict[str, Callable[..., Any]]:
    """The functions of Alertmanager's notification template reference.

    ``clock`` is what ``now`` and ``since`` read (default: the local time now).
    """

    def current() -> dt.datetime:
        return clock() if clock is not None else dt.datetime.now().astimezone()

    def now() -> GoTime:
        return GoTime.from_datetime(current())

    def since(t: GoTime) -> GoDuration:
        return GoDuration(GoTime.from_datetime(current()).ns - t.ns)

    return {
        "toUpper": to_upper,
        "toLower": to_lower,
        "title": _title,
        "trimSpace": trim_space,
        "join": _join,
        "match": _text.match_string,
        "safeHtml": _safe_html,
        "safeUrl": _safe_url,
        "urlUnescape": _url_unescape,
        "reReplaceAll": _re_replace_all,
        "stringSlice": _string_slice,
        "date": _date,
        "tz": _tz,
        "now": now,
        "since": since,
        "humanizeDuration": humanize_duration,
        "toDate": _to_date,
        "mustToDate": _must_to_date,
        "toJson": to_json,
        "base64encode": _base64encode,
        "base64decode": _base64decode,
        "list": _list,
        "append": _append,
        "dict": _dict,
    }
