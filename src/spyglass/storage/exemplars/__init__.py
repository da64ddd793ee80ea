"""The exemplars signal in ClickHouse: its description (``EXEMPLARS``) and its store.

Modules in pipeline order: ``_codec`` (WAL records) → ``_insert`` (one flush into
``metric_exemplars``) → ``_signal`` (the description) → ``_store`` (``ExemplarStore``: the write
path plus the ``ExemplarReader``). Only the composition root and storage itself import this
package.
"""

from spyglass.storage.exemplars._codec import ExemplarsCodec
from spyglass.storage.exemplars._insert import ExemplarsInserter
from spyglass.storage.exemplars._signal import EXEMPLARS
from spyglass.storage.exemplars._store import ExemplarStore

__all__ = ["EXEMPLARS", "ExemplarStore", "ExemplarsCodec", "ExemplarsInserter"]
