"""In-memory ``LogReader`` (and ``LogSink``) for tests and the LogQL conformance runner.

It keeps records in write order and answers every ``LogReader`` call by scanning them, so it is
exact about the port's contract rather than fast: ``[start_ns, end_ns)``, the line filters, the
direction with ties kept in write order (reversed for ``backward``), and the limit applied after
ordering. Not durable and not meant for production volumes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from spyglass.core.labels import Labels
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher, matches_all
from spyglass.storage.ports import LineFilter, LogSelection

# google-re2 (a dependency, no type stubs): the regex filters match as ClickHouse's RE2 does,
# in linear time.
re2: Any = importlib.import_module("re2")


def _line_passes(line: str, filters: Sequence[tuple[str, str, Any]]) -> bool:
    for op, value, regex in filters:
        if op == "|=":
            hit = value in line
        elif op == "!=":
            hit = value not in line
        else:
            assert regex is not None
            found = regex.search(line) is not None
            hit = found if op == "|~" else not found
        if not hit:
            return False
    return True


def _compile(filters: Sequence[LineFilter]) -> list[tuple[str, str, Any]]:
    compiled: list[tuple[str, str, Any]] = []
    for f in filters:
        if f.op not in ("|=", "!=", "|~", "!~"):
            raise ValueError(f"unknown line filter operator {f.op!r}")
        regex = re2.compile(f.value) if f.op in ("|~", "!~") else None
        compiled.append((f.op, f.value, regex))
    return compiled


class MemoryLogStore:
    """Log records held in memory, in the order they were written."""

    def __init__(self) -> None:
        self._records: list[LogRecord] = []

    # -- writing -----------------------------------------------------------------------------
    def load(self, records: Iterable[LogRecord]) -> None:
        """Add ``records`` after those already held."""
        self._records.extend(records)

    async def append(self, batch: LogBatch) -> None:
        """``LogSink``: in memory, so durable only as long as the process lives."""
        self.load(batch.records)

    def clear(self) -> None:
        """Forget every record."""
        self._records.clear()

    # -- LogReader -----------------------------------------------------------------------------
    def select_logs(self, selection: LogSelection) -> list[LogRecord]:
        """Records of matching streams in ``[start_ns, end_ns)`` passing the line filters, in
        ``selection.direction`` by timestamp (ties in write order),
        cut to ``selection.limit``."""
        filters = _compile(selection.line_filters)
        matchers = selection.matchers
        hits = [
            r
            for r in self._records
            if selection.start_ns <= r.timestamp_ns < selection.end_ns
            and matches_all(matchers, r.stream)
            and _line_passes(r.line, filters)
        ]
        # Stable sorts keep equal timestamps in write order in both directions, as the port
        # promises, so paging by timestamp sees ties the same way whichever way it reads.
        if selection.direction == "backward":
            hits.sort(key=lambda r: -r.timestamp_ns)
        elif selection.direction == "forward":
            hits.sort(key=lambda r: r.timestamp_ns)
        else:
            raise ValueError(f"unknown direction {selection.direction!r}")
        if selection.limit is not None:
            hits = hits[: max(selection.limit, 0)]
        return hits

    def _active(self, start_ns: int, end_ns: int) -> dict[Labels, None]:
        seen: dict[Labels, None] = {}
        for r in self._records:
            if start_ns <= r.timestamp_ns < end_ns:
                seen.setdefault(r.stream, None)
        return seen

    def log_streams(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ns: int, end_ns: int
    ) -> list[Labels]:
        """Streams matching any matcher set (all when none) with a record in the range,
        sorted by their labels."""
        streams = self._active(start_ns, end_ns)
        if matcher_sets:
            sets = [tuple(ms) for ms in matcher_sets]
            return sorted(s for s in streams if any(matches_all(ms, s) for ms in sets))
        return sorted(streams)

    def log_label_names(self, start_ns: int, end_ns: int) -> list[str]:
        """Sorted stream label names seen in the range."""
        return sorted({name for s in self._active(start_ns, end_ns) for name, _ in s})

    def log_label_values(
        self, name: str, matchers: Sequence[Matcher], start_ns: int, end_ns: int
    ) -> list[str]:
        """Sorted values of stream label ``name`` over matching streams with a record in range."""
        ms = tuple(matchers)
        values = {
            value
            for s in self._active(start_ns, end_ns)
            if matches_all(ms, s)
            for label, value in s
            if label == name
        }
        return sorted(values)


__all__ = ["MemoryLogStore"]
