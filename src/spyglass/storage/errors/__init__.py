"""The errors signal in ClickHouse and the error issues in the state store.

Modules in pipeline order: ``_codec`` (an event as JSON, a batch as a WAL record) → ``_insert``
(one flush into ``error_events``) → ``_signal`` (the description tying them to the table in
``storage.schema``) → ``_store`` (``ErrorStore``: the write path plus the
``ErrorEventReader``); ``_issues`` is ``SqlIssueStore``, the ``IssueStore`` on the control-plane
database. Only the composition root and storage itself import this package.
"""

from spyglass.storage.errors._codec import ErrorsCodec
from spyglass.storage.errors._insert import ErrorsInserter
from spyglass.storage.errors._issues import SqlIssueStore
from spyglass.storage.errors._signal import ERRORS
from spyglass.storage.errors._store import ErrorStore

__all__ = ["ERRORS", "ErrorStore", "ErrorsCodec", "ErrorsInserter", "SqlIssueStore"]
