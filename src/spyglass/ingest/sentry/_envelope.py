"""Sentry's envelope format: a header line, then items of a header line and a payload each.

Sentry SDKs send events, transactions, attachments, sessions and client reports to
``/api/<project>/envelope/`` as one envelope (develop.sentry.dev, "Envelopes")::

    {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://key@host/42"}\\n
    {"type":"event","length":41}\\n
    {"message":"hello","level":"error"}......\\n
    {"type":"attachment","length":10,"filename":"a.txt"}\\n
    helloworld\\n

An item's payload is ``length`` bytes when its header gives a length, else everything up to the
next newline. Headers are JSON objects on one line. Unknown item types are kept (the caller
skips what it does not store), as Sentry's own ingestion drops them rather than refusing the
envelope.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spyglass.core.errors import BadInput, LimitExceeded

MAX_ITEMS = 1000
MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class EnvelopeItem:
    """One item: its ``type`` (``event``, ``transaction``, ``attachment``...), headers, payload."""

    type: str
    headers: Mapping[str, Any]
    payload: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed envelope: its headers (``event_id``, ``dsn``, ``sdk``, ``sent_at``) and items."""

    headers: Mapping[str, Any]
    items: tuple[EnvelopeItem, ...]


def parse_envelope(body: bytes, *, max_items: int = MAX_ITEMS) -> Envelope:
    """Split an envelope into its headers and items; ``BadInput`` saying where it went wrong."""
    line, pos = _line(body, 0)
    headers = _header(line, "envelope header")
    items: list[EnvelopeItem] = []
    while pos < len(body):
        line, pos = _line(body, pos)
        if not line.strip():
            continue  # a blank line between items or at the end
        item_headers = _header(line, f"item {len(items) + 1} header")
        kind = item_headers.get("type")
        if not isinstance(kind, str) or not kind:
            raise BadInput(f"invalid envelope: item {len(items) + 1} header has no type")
        length = item_headers.get("length")
        if length is None:
            payload, pos = _line(body, pos)
        else:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise BadInput(f"invalid envelope: item {len(items) + 1} has a bad length")
            end = pos + length
            if end > len(body):
                raise BadInput(
                    f"invalid envelope: item {len(items) + 1} is shorter than its length "
                    f"({len(body) - pos} of {length} bytes)"
                )
            payload = body[pos:end]
            pos = end
            if pos < len(body):
                if body[pos : pos + 1] != b"\n":
                    raise BadInput(f"invalid envelope: item {len(items) + 1} runs past its length")
                pos += 1
        items.append(EnvelopeItem(kind, item_headers, payload))
        if len(items) > max_items:
            raise LimitExceeded("max_envelope_items", max_items, "too many items in envelope")
    return Envelope(headers, tuple(items))


def _line(body: bytes, pos: int) -> tuple[bytes, int]:
    """The bytes up to the next newline (or the end) and the position after it."""
    end = body.find(b"\n", pos)
    if end < 0:
        return body[pos:], len(body)
    return body[pos:end], end + 1


def _header(line: bytes, what: str) -> Mapping[str, Any]:
    if len(line) > MAX_HEADER_BYTES:
        raise BadInput(f"invalid envelope: {what} is longer than {MAX_HEADER_BYTES} bytes")
    try:
        value = json.loads(line) if line.strip() else {}
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"invalid envelope: {what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadInput(f"invalid envelope: {what} is not a JSON object")
    return value


__all__ = ["MAX_ITEMS", "Envelope", "EnvelopeItem", "parse_envelope"]
