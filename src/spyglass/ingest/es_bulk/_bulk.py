"""Elasticsearch ``_bulk`` bodies (NDJSON) -> log records, item by item as Elasticsearch answers.

A body is pairs of lines: an action (``{"index": {"_index": "logs", "_id": "1"}}`` or
``create``) and the document. Each document becomes one log record (ECS names first, then the
names Fluent Bit and Filebeat use):

- time: ``@timestamp`` (ISO 8601, or epoch milliseconds as a number: Elasticsearch's default
  ``strict_date_optional_time||epoch_millis``), else ``timestamp``, else the time of receipt;
- line: ``message``, else ``log`` (Fluent Bit's tail input), else ``MESSAGE`` (syslog-ng's
  ``elasticsearch-http()`` default template, which writes syslog-ng's own macro names), else the
  document's JSON as sent;
- level: ``log.level``, else ``level``, else ``severity``, else ``PRIORITY`` (syslog-ng's) (also
  ``detected_level``, lower-cased);
- ``trace.id``/``span.id`` (or ``trace_id``/``span_id``) as the record's ids;
- stream labels, a small documented set so streams stay few: ``index`` (the action's or the
  URL's), ``service_name`` (``service.name``) and ``host_name`` (``host.name``, or syslog-ng's
  ``HOST``);
- every other field, flattened to dotted paths, as structured metadata with LogQL-usable names
  (``http.response.status_code`` -> ``http_response_status_code``); arrays as JSON. Not when the
  line is the document itself: it holds them already.

Each item gets Elasticsearch's answer: 201 ``created``, or a 400 with an ``error`` object for a
document that does not parse or breaks a limit. ``update``/``delete`` actions are refused per
item (logs are append-only). An action line that is not an action fails the whole body, as in
Elasticsearch.
"""

from __future__ import annotations

import base64
import calendar
import functools
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from spyglass.core.errors import BadInput
from spyglass.core.limits import LogLimits
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.ingest.loki import Admission

ACTIONS_WITH_SOURCE = ("index", "create", "update")
# One encoder for every document: json.dumps with options builds a new one per call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_NAME_CHAR = re.compile(r"[^a-zA-Z0-9_]")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
# Fields a record keeps in its own columns or stream; not repeated as metadata.
_TAKEN = {"@timestamp", "message", "log", "log.level", "level", "severity", "trace.id",
          "span.id", "trace_id", "span_id", "service.name", "host.name",
          "MESSAGE", "PRIORITY", "HOST"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One item of the answer: the action, index, id, HTTP status and the error if any."""

    action: str
    index: str
    id: str
    status: int
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """The item as Elasticsearch writes it in a ``_bulk`` response."""
        body: dict[str, Any] = {"_index": self.index, "_id": self.id, "status": self.status}
        if self.error is None:
            body.update(
                _version=1,
                result="created",
                _shards={"total": 1, "successful": 1, "failed": 0},
                _seq_no=0,
                _primary_term=1,
            )
        else:
            body["error"] = self.error
        return {self.action: body}


@dataclass(frozen=True, slots=True)
class BulkResult:
    """The records to store and the answer's items, in request order."""

    batch: LogBatch
    items: list[BulkItem] = field(default_factory=list)

    @property
    def errors(self) -> bool:
        """Whether any item failed (the response's ``errors`` flag)."""
        return any(i.error is not None for i in self.items)

    def refused(self, status: int, error_type: str, reason: str) -> BulkResult:
        """The answer when the records cannot be stored now: each item that was to be stored
        fails with ``status`` (Elasticsearch answers a full write queue with 429
        ``es_rejected_execution_exception`` per item, which Beats, Logstash and Fluent Bit
        retry); items that failed on their own keep their error. Nothing is left to store."""
        error = {"type": error_type, "reason": reason}
        items = [
            i if i.error is not None else replace(i, status=status, error=error) for i in self.items
        ]
        return BulkResult(LogBatch(), items)

    def limited(self, kept: tuple[bool, ...], reason: str) -> BulkResult:
        """The answer when the stream limit kept only the records ``kept`` marks (one flag per
        record, in order: the items without an error of their own): the others become 429
        items with an ``es_rejected_execution_exception`` naming the limit, as Elasticsearch
        answers what it cannot take now."""
        error = {"type": "es_rejected_execution_exception", "reason": reason}
        flags = iter(kept)
        items = [
            i if i.error is not None or next(flags) else replace(i, status=429, error=error)
            for i in self.items
        ]
        records = tuple(r for r, k in zip(self.batch.records, kept, strict=True) if k)
        return BulkResult(LogBatch(records), items)

    def response_body(self, took_ms: int) -> bytes:
        """The ``_bulk`` response, ``{"took", "errors", "items"}``, as JSON bytes.

        Written by hand because a bulk of thousands of documents answers thousands of items:
        the same text through dicts and ``json.dumps`` cost about as much as decoding them.
        """
        quoted: dict[str, str] = {}
        parts = []
        for item in self.items:
            if item.error is not None:
                parts.append(_COMPACT.encode(item.as_json()))
                continue
            index = quoted.get(item.index)
            if index is None:
                index = quoted[item.index] = _COMPACT.encode(item.index)
            parts.append(
                f'{{"{item.action}":{{"_index":{index},"_id":{_COMPACT.encode(item.id)},'
                f'"_version":1,"result":"created",'
                f'"_shards":{{"total":1,"successful":1,"failed":0}},'
                f'"_seq_no":0,"_primary_term":1,"status":{item.status}}}}}'
            )
        errors = "true" if self.errors else "false"
        items = ",".join(parts)
        return f'{{"took":{took_ms},"errors":{errors},"items":[{items}]}}'.encode()


class BulkRequestError(BadInput):
    """A body Elasticsearch refuses whole (an action line that is not one): a 400 with
    ``illegal_argument_exception``."""


def new_id(prefix: bytes | None = None, n: int = 0) -> str:
    """An id like Elasticsearch's auto-generated ones (20 URL-safe base64 characters): random,
    or the ``n``-th of a request from its random 9-byte ``prefix`` (one ``urandom`` a body)."""
    if prefix is None:
        return base64.urlsafe_b64encode(os.urandom(15)).decode()
    return base64.urlsafe_b64encode(prefix + n.to_bytes(6, "big")).decode()


def decode_bulk(body: bytes, default_index: str, limits: LogLimits, now_ns: int) -> BulkResult:
    """The records and answer items of a ``_bulk`` body; ``BulkRequestError`` for a body that is
    not NDJSON actions."""
    records: list[LogRecord] = []
    items: list[BulkItem] = []
    admission = Admission(limits, now_ns)
    prefix = os.urandom(9)
    lines = _lines(body)
    for number, raw in lines:
        try:
            action_doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise BulkRequestError(
                f"Malformed action/metadata line [{number}], expected START_OBJECT"
            ) from None
        if not isinstance(action_doc, dict) or len(action_doc) != 1:
            raise BulkRequestError(
                f"Malformed action/metadata line [{number}], expected a simple value for field "
                "[_index] or an object with one action"
            )
        ((action, meta),) = action_doc.items()
        if action not in (*ACTIONS_WITH_SOURCE, "delete") or not isinstance(meta, dict):
            raise BulkRequestError(
                f"Malformed action/metadata line [{number}], expected field [create], [delete], "
                f"[index] or [update] but found [{action}]"
            )
        index = meta.get("_index") or default_index
        doc_id = meta.get("_id")
        doc_id = str(doc_id) if doc_id is not None else new_id(prefix, len(items))
        source: bytes | None = None
        if action in ACTIONS_WITH_SOURCE:
            nxt = next(lines, None)
            if nxt is None:
                raise BulkRequestError("The bulk request must be terminated by a newline [\\n]")
            source = nxt[1]
        if not isinstance(index, str) or not index:
            items.append(_failed(action, "", doc_id, "action_request_validation_exception",
                                 "Validation Failed: 1: index is missing;"))  # fmt: skip
            continue
        if action not in ("index", "create"):
            items.append(_failed(action, index, doc_id, "illegal_argument_exception",
                                 f"[{action}] is not supported: logs are append-only"))  # fmt: skip
            continue
        assert source is not None
        try:
            record = document_record(source, index, now_ns)
        except BadInput as exc:
            items.append(_failed(action, index, doc_id, "document_parsing_exception", str(exc)))
            continue
        error = admission.stream_error(record.stream)
        got = error or admission.record(record)
        if isinstance(got, str):
            items.append(_failed(action, index, doc_id, "illegal_argument_exception", got))
            continue
        records.append(got)
        items.append(BulkItem(action, index, doc_id, 201))
    return BulkResult(LogBatch(tuple(records)), items)


def _failed(action: str, index: str, doc_id: str, kind: str, reason: str) -> BulkItem:
    return BulkItem(action, index, doc_id, 400, {"type": kind, "reason": reason})


def _lines(body: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(body.split(b"\n"), 1):
        if line.strip():
            yield number, line


def document_record(source: bytes, index: str, now_ns: int) -> LogRecord:
    """The log record of one document; ``BadInput`` when it is not a JSON object or its
    timestamp does not parse."""
    try:
        doc = json.loads(source)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"failed to parse: {exc}") from None
    if not isinstance(doc, dict):
        raise BadInput("failed to parse: the document is not a JSON object")
    flat = dict(_flatten(doc))
    ts_value = doc.get("@timestamp", flat.get("@timestamp", doc.get("timestamp")))
    ts = now_ns if ts_value is None else parse_timestamp(ts_value)
    found = flat.get("message", flat.get("log", flat.get("MESSAGE")))
    whole = found is None
    # Without a message field the line is the document as the shipper sent it.
    line: str = found if found is not None else source.decode("utf-8", "replace").strip()
    level = (
        flat.get("log.level") or flat.get("level") or flat.get("severity")
        or flat.get("PRIORITY") or ""
    )  # fmt: skip
    labels = {"index": index}
    if flat.get("service.name"):
        labels["service_name"] = flat["service.name"]
    host = flat.get("host.name") or flat.get("HOST")
    if host:
        labels["host_name"] = host
    # A line that is the whole document already holds every field (LogQL's `| json` reads
    # them); repeating them as metadata would store each document twice.
    metadata = {} if whole else {_metadata_name(k): v for k, v in flat.items() if k not in _TAKEN}
    if level:
        metadata["detected_level"] = level.lower()
    trace_id = flat.get("trace.id") or flat.get("trace_id") or ""
    span_id = flat.get("span.id") or flat.get("span_id") or ""
    return LogRecord(
        ts,
        line,
        tuple(sorted(labels.items())),
        metadata,
        severity_text=level,
        trace_id=trace_id.lower(),
        span_id=span_id.lower(),
    )


@functools.lru_cache(maxsize=4096)
def _metadata_name(key: str) -> str:
    """A field's path as a LogQL label name: other characters as ``_``, a leading digit
    prefixed (documents of one shipper repeat the same few fields, hence the cache)."""
    name = _NAME_CHAR.sub("_", key)
    return "key_" + name if name[:1].isdigit() else name


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, path + ".")
        elif value is None:
            continue
        elif isinstance(value, str):
            yield path, value
        elif isinstance(value, bool):
            yield path, "true" if value else "false"
        elif isinstance(value, int):
            yield path, str(value)
        elif isinstance(value, float) and math.isfinite(value):
            yield path, repr(value)  # what json.dumps writes for a finite float
        else:
            yield path, _COMPACT.encode(value)


def parse_timestamp(value: Any) -> int:
    """Nanoseconds of an ``@timestamp``: ISO 8601 text or epoch milliseconds."""
    if isinstance(value, bool):
        raise BadInput(f"failed to parse field [@timestamp] of type [date]: {value!r}")
    if isinstance(value, int | float):
        # Epoch milliseconds; a value whose nanoseconds do not fit ClickHouse's DateTime64(9).
        if not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value < 9.2e12:
            raise BadInput(f"failed to parse field [@timestamp] of type [date]: {value!r}")
        return int(value * 1_000_000) if isinstance(value, float) else value * 1_000_000
    if isinstance(value, str):
        if value.isdigit():
            return parse_timestamp(int(value))
        m = _ISO.fullmatch(value.strip())
        if m is not None:
            year, month, day, hh, mm, ss, frac, zone = m.groups()
            try:
                secs = calendar.timegm(
                    (int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0))
                )
                if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31 and int(hh or 0) < 24
                        and int(mm or 0) < 60 and int(ss or 0) < 61):  # fmt: skip
                    raise ValueError
            except (ValueError, OverflowError):
                pass
            else:
                if zone and zone not in "Zz":
                    sign = 1 if zone[0] == "+" else -1
                    digits = zone[1:].replace(":", "")
                    offset = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
                    secs -= sign * offset
                ns = secs * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
                if 0 <= ns < 2**63:
                    return ns
    raise BadInput(f"failed to parse field [@timestamp] of type [date]: {str(value)[:64]!r}")


__all__ = [
    "BulkItem",
    "BulkRequestError",
    "BulkResult",
    "decode_bulk",
    "document_record",
    "new_id",
    "parse_timestamp",
]
