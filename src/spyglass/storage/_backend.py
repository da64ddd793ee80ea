"""The ``Backend`` protocol: the few calls storage makes to ClickHouse, embedded or served.

Everything above this seam speaks the same SQL (schema.py owns the DDL, ``_sql`` builds the
queries); a backend only runs statements, returns Arrow tables and inserts columns. Parameters use
ClickHouse's server-side ``{name:Type}`` placeholders, which both chDB and clickhouse-connect bind,
so no value is ever spliced into SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pyarrow as pa

Params = Mapping[str, Any]


class Backend(Protocol):
    """A ClickHouse connection: statements, Arrow reads and columnar inserts."""

    def command(self, sql: str, params: Params | None = None) -> None:
        """Run a statement that returns nothing useful (DDL, ALTER, OPTIMIZE)."""
        ...

    def query_arrow(self, sql: str, params: Params | None = None) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        ...

    def insert(self, table: str, data: pa.Table) -> None:
        """Insert ``data`` (column names are the table's column names) as one insert."""
        ...

    def close(self) -> None:
        """Release the connection; later calls fail."""
        ...


__all__ = ["Backend", "Params"]
