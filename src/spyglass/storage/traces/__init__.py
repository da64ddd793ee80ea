"""The spans signal in ClickHouse: its description (``SPANS``) and its store.

Modules in pipeline order: ``_codec`` (WAL records) → ``_insert`` (one flush into the tables) →
``_signal`` (the description tying them to the tables in ``storage.schema``) → ``_sql`` (trace
reads as SQL) → ``_store`` (``SpanStore``: the write path plus the ``TraceReader``). Only the
composition root and storage itself import this package.
"""

from spyglass.storage.traces._codec import SpansCodec
from spyglass.storage.traces._insert import SpansInserter
from spyglass.storage.traces._signal import SPANS
from spyglass.storage.traces._store import MAX_LIMIT, SpanStore, SpanStoreStats

__all__ = ["MAX_LIMIT", "SPANS", "SpanStore", "SpanStoreStats", "SpansCodec", "SpansInserter"]
