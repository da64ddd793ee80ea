"""What storage needs to know about one kind of telemetry: a ``Signal`` description.

Metrics, logs, spans and error events are signals (DESIGN.md, "Signals as data"). Each is
described once: the tables it writes (their DDL lives in ``schema``), the setting holding its
retention, what one item of its batches is called, the codec of its write-ahead-log records,
the callable that inserts a chunk of batches and, optionally, how many bytes a batch holds.
``pipeline.SignalPipeline`` turns a description into a running write path (WAL, pending buffer,
batch writer) on the shared backend, so adding a signal means adding a description and its read
side, not another copy of the write path.
"""

from __future__ import annotations

from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Generic, TypeVar

from spyglass.storage._backend import Backend
from spyglass.storage.schema import Table
from spyglass.storage.wal import RecordCodec
from spyglass.storage.writer import Insert

B = TypeVar("B", bound=Sized)


@dataclass(frozen=True, slots=True)
class Signal(Generic[B]):
    """One signal as storage sees it."""

    name: str  # its WAL is <data_dir>/wal/<name>; its self-metrics carry signal="<name>"
    tables: tuple[Table, ...]
    retention_setting: str  # the Settings field with its retention ("" or unset: --retention)
    unit: str  # what ``len(batch)`` counts, plural: "samples", "records", "spans"
    codec: Callable[[], RecordCodec[B]]
    inserter: Callable[[Backend], Insert[B]]
    # Roughly the memory a batch holds, so its pending buffer can be bounded in bytes (None:
    # bounded by item count alone).
    nbytes: Callable[[B], int] | None = None


__all__ = ["Signal"]
