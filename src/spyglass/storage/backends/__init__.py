"""Concrete ClickHouse backends. Only the composition root imports this package (DESIGN.md).

``ChdbBackend`` runs ClickHouse in-process on a data directory; ``ClickHouseBackend`` talks to a
ClickHouse server over HTTP through clickhouse-connect. Both run the same SQL.
"""

from spyglass.storage.backends._chdb import ChdbBackend, DataDirLocked
from spyglass.storage.backends._clickhouse import ClickHouseBackend

__all__ = ["ChdbBackend", "ClickHouseBackend", "DataDirLocked"]
