"""The logs signal in ClickHouse: its description (``LOGS``) and its store.

Modules in pipeline order: ``_codec`` (WAL records) → ``_insert`` (one flush into the tables) →
``_signal`` (the description tying them to the tables in ``storage.schema``) → ``_sql`` (stream
matchers and line filters as SQL) → ``_store`` (``LogStore``: the write path plus the
``LogReader``). Only the composition root and storage itself import this package.
"""

from spyglass.storage.logs._codec import LogsCodec
from spyglass.storage.logs._insert import LogsInserter
from spyglass.storage.logs._signal import LOGS
from spyglass.storage.logs._store import LogStore, LogStoreStats

__all__ = ["LOGS", "LogStore", "LogStoreStats", "LogsCodec", "LogsInserter"]
