"""ClickHouse server backend through clickhouse-connect (HTTP).

The same SQL as the embedded backend; parameters go as server-side ``{name:Type}`` bindings and
inserts as Arrow. clickhouse-connect's client is not safe for concurrent queries on one session,
so calls are serialised by a lock (a server handles parallelism across Spyglass nodes instead).
"""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa

from spyglass.core.errors import SpyglassError, Unavailable
from spyglass.storage._backend import Params

INSERT_SETTINGS = {"insert_distributed_sync": 1}


class ClickHouseBackend:
    """A ClickHouse server at ``url`` (e.g. ``http://user:pw@host:8123/spyglass``)."""

    def __init__(self, url: str = "", *, client: Any = None) -> None:
        """Connect to ``url``; tests pass a stand-in ``client`` with the same three methods."""
        if client is None:
            # Imported late: only server deployments need it.
            import clickhouse_connect  # noqa: PLC0415

            try:
                client = clickhouse_connect.get_client(dsn=url)
            except Exception as exc:
                raise Unavailable(f"cannot connect to ClickHouse at {_redact(url)}: {exc}") from exc
        self._client = client
        self._lock = threading.Lock()

    def command(self, sql: str, params: Params | None = None) -> None:
        """Run a statement."""
        self._call(lambda: self._client.command(sql, parameters=dict(params or {})))

    def query_arrow(self, sql: str, params: Params | None = None) -> pa.Table:
        """Run a query and return an Arrow table (strings as strings, not bytes)."""
        result = self._call(
            lambda: self._client.query_arrow(sql, parameters=dict(params or {}), use_strings=True)
        )
        assert isinstance(result, pa.Table)
        return result

    def insert(self, table: str, data: pa.Table) -> None:
        """Insert an Arrow table in one request.

        With a cluster the tables are Distributed; a synchronous distributed insert returns only
        once the shards have the rows, so the WAL is checkpointed after the data is really
        there, not while it waits in the receiving node's queue.
        """
        self._call(lambda: self._client.insert_arrow(table, data, settings=INSERT_SETTINGS))

    def close(self) -> None:
        """Close the HTTP pool."""
        close = getattr(self._client, "close", None)
        if close is not None:
            close()

    def _call(self, fn: Any) -> Any:
        with self._lock:
            try:
                return fn()
            except SpyglassError:
                raise
            except Exception as exc:
                raise Unavailable(f"ClickHouse: {exc}") from exc


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


__all__ = ["INSERT_SETTINGS", "ClickHouseBackend"]
