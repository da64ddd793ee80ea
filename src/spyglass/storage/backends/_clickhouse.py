"""ClickHouse server backend through clickhouse-connect (HTTP).

The same SQL as the embedded backend; parameters go as server-side ``{name:Type}`` bindings and
inserts as Arrow. A clickhouse-connect client holds one server session, which runs one query at
a time, so the backend keeps one client for writes (inserts, DDL) and a small pool for queries:
a slow query never holds up a flush, and a few queries run in parallel.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from spyglass.core.errors import SpyglassError, Unavailable
from spyglass.storage._backend import Params

INSERT_SETTINGS = {"insert_distributed_sync": 1}


class ClickHouseBackend:
    """A ClickHouse server at ``url`` (e.g. ``http://user:pw@host:8123/spyglass``)."""

    def __init__(
        self, url: str = "", *, client: Any = None, client_factory: Any = None, readers: int = 2
    ) -> None:
        """Connect to ``url``. Tests pass ``client_factory`` (called once per connection) or a
        single ``client`` shared by every role."""
        if client is not None:
            clients = [client] * (1 + max(1, readers))
        else:
            factory = client_factory or _connector(url)
            try:
                clients = [factory() for _ in range(1 + max(1, readers))]
            except SpyglassError:
                raise
            except Exception as exc:
                raise Unavailable(f"cannot connect to ClickHouse at {_redact(url)}: {exc}") from exc
        self._writer = clients[0]
        self._readers = clients[1:]
        self._write_lock = threading.Lock()
        self._shared = client is not None  # one stand-in client: serialise everything
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for c in self._readers:
            self._idle.put(c)

    def command(self, sql: str, params: Params | None = None) -> None:
        """Run a statement on the write connection."""
        with self._write_lock:
            _call(lambda: self._writer.command(sql, parameters=dict(params or {})))

    def query_arrow(self, sql: str, params: Params | None = None) -> pa.Table:
        """Run a query on an idle read connection; strings come back as strings, not bytes."""

        def run(c: Any) -> Any:
            return _call(
                lambda: c.query_arrow(sql, parameters=dict(params or {}), use_strings=True)
            )

        if self._shared:
            with self._write_lock:
                result = run(self._writer)
        else:
            c = self._idle.get()
            try:
                result = run(c)
            finally:
                self._idle.put(c)
        assert isinstance(result, pa.Table)
        return result

    def insert(self, table: str, data: pa.Table) -> None:
        """Insert an Arrow table in one request.

        With a cluster the tables are Distributed; a synchronous distributed insert returns only
        once the shards have the rows, so the WAL is checkpointed after the data is really
        there, not while it waits in the receiving node's queue.
        """
        with self._write_lock:
            _call(lambda: self._writer.insert_arrow(table, data, settings=INSERT_SETTINGS))

    def close(self) -> None:
        """Close every connection."""
        for c in {id(c): c for c in [self._writer, *self._readers]}.values():
            close = getattr(c, "close", None)
            if close is not None:
                close()


def _connector(url: str) -> Callable[[], Any]:
    # Imported late: only server deployments need it.
    import clickhouse_connect  # noqa: PLC0415

    return lambda: clickhouse_connect.get_client(dsn=url)


def _call(fn: Callable[[], Any]) -> Any:
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
