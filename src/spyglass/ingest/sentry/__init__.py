"""Sentry's ingest protocol: envelopes and store requests -> ``ErrorBatch``.

So that ``sentry_sdk.init(dsn="http://<key>@<spyglass>/<project>")`` works unchanged: bodies
are expanded (``ingest.compression``), split into items (``parse_envelope``), and each event
item becomes an ``ErrorEvent`` (``event_from_json``), read as leniently as Sentry reads them.
``public_key`` and ``project_id`` find who sent it and for which project.
"""

from spyglass.ingest.sentry._auth import auth_fields, dsn_key, project_id, public_key
from spyglass.ingest.sentry._decode import MAX_EVENT_BYTES, Decoded, decode_envelope, decode_store
from spyglass.ingest.sentry._envelope import Envelope, EnvelopeItem, parse_envelope
from spyglass.ingest.sentry._event import event_from_json, parse_event_json

__all__ = [
    "MAX_EVENT_BYTES",
    "Decoded",
    "Envelope",
    "EnvelopeItem",
    "auth_fields",
    "decode_envelope",
    "decode_store",
    "dsn_key",
    "event_from_json",
    "parse_envelope",
    "parse_event_json",
    "project_id",
    "public_key",
]
