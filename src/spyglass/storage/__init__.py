"""Storage layer: the only code that speaks SQL.

Public surface: the ports domains and ingest depend on (``Querier``, ``SampleSink``,
``MetadataReader``, ``SeriesData``) and the in-memory ``MemoryStore`` for tests. The concrete
parts (``backends``, each signal's package such as ``metrics``, ``pipeline``, ``wal``,
``writer``, ``schema``) are imported by the composition root and by storage itself only; the
import contracts in pyproject.toml enforce it.
"""

from spyglass.storage.memory import MemoryStore
from spyglass.storage.ports import MetadataReader, Querier, SampleSink, SeriesData

__all__ = [
    "MemoryStore",
    "MetadataReader",
    "Querier",
    "SampleSink",
    "SeriesData",
]
