"""A Loki push, decoded: streams of entries checked against Loki's limits into a ``LogBatch``.

Both wire formats yield ``RawStream``s (``_json``, ``_proto``), or, for a push of plain lines,
a ``ColumnPush`` (``_json``, ``_wire``); ``admit`` and ``admit_columns`` turn them into a batch
the way Loki's distributor does:

- a stream whose labels do not parse, are empty, have too many names or too long a name or value
  is refused whole;
- an entry older than ``reject_old_samples_max_age`` or newer than ``creation_grace_period`` is
  refused, and so is a line over ``max_line_size`` bytes unless ``max_line_size_truncate`` cuts it;
- everything else is accepted, and the push answers 400 with the refusals' messages (Loki's
  wording) when there were any, so the client does not send the accepted part again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import BadInput
from spyglass.core.labels import LABEL_NAME_RE, Labels
from spyglass.core.limits import LogLimits
from spyglass.core.logs import LogBatch, LogColumns, LogRecord
from spyglass.ingest.loki._labels import format_stream_labels

MAX_MESSAGES = 10  # refusal messages quoted in one answer; the rest are counted


@dataclass(frozen=True, slots=True)
class RawStream:
    """One stream of a push as sent: its labels (parsed, or the error parsing them), their
    text for messages, and its records (carrying those labels; any labels when they did not
    parse)."""

    labels: Labels | BadInput
    text: str
    records: Sequence[LogRecord]


@dataclass(frozen=True, slots=True, eq=False)
class ColumnPush:
    """A push of plain lines as sent, column by column: stream ``k``'s labels (or the error
    parsing them) and text, and its ``counts[k]`` entries, which follow those of the streams
    before it in ``timestamps`` and in the lines (``LogColumns``' layout: line ``i`` is
    ``lines_data[offsets[i]:offsets[i + 1]]``, valid UTF-8)."""

    labels: list[Labels | BadInput]
    texts: list[str]
    counts: list[int]
    timestamps: npt.NDArray[np.int64]
    lines_data: bytes
    offsets: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a push amounts to: the accepted records, and Loki's message for each refusal."""

    batch: LogBatch
    refused: int = 0
    messages: list[str] = field(default_factory=list)

    def error_text(self) -> str:
        """The 400 body: the first refusals' messages, one a line, and how many in all."""
        lines = self.messages[:MAX_MESSAGES]
        if len(self.messages) > MAX_MESSAGES:
            lines.append(f"... and {len(self.messages) - MAX_MESSAGES} more")
        total = len(self.batch) + self.refused
        lines.append(f"total ignored: {self.refused} out of {total}")
        return "\n".join(lines)


def check_stream(labels: Labels, text: str, limits: LogLimits) -> None:
    """Refuse a stream label set Loki would refuse (``BadInput`` with Loki's message)."""
    if not labels:
        raise BadInput("error at least one label pair is required per stream")
    shown = text or format_stream_labels(labels)
    if limits.max_labels_per_stream and len(labels) > limits.max_labels_per_stream:
        raise BadInput(
            f"entry for stream '{shown}' has {len(labels)} label names; "
            f"limit {limits.max_labels_per_stream}"
        )
    for name, value in labels:
        if not LABEL_NAME_RE.match(name):
            raise BadInput(
                f"error parsing labels '{shown}' with error: invalid label name {name!r}"
            )
        if limits.max_label_name_length and len(name) > limits.max_label_name_length:
            raise BadInput(f"stream '{shown}' has label name too long: '{name}'")
        if limits.max_label_value_length and len(value) > limits.max_label_value_length:
            raise BadInput(f"stream '{shown}' has label value too long: '{value}'")


class Admission:
    """Loki's limits at one moment, applied stream by stream and record by record.

    ``stream_error`` remembers its verdict per label set, so a shipper sending one record per
    request body line (Elasticsearch ``_bulk``) pays for each stream's check once.
    """

    def __init__(self, limits: LogLimits, now_ns: int) -> None:
        self.limits = limits
        self.oldest = (
            now_ns - limits.reject_old_samples_max_age_ms * 1_000_000
            if limits.reject_old_samples_max_age_ms
            else None
        )
        self.newest = now_ns + limits.creation_grace_period_ms * 1_000_000
        self._streams: dict[Labels, str] = {}

    def stream_error(self, labels: Labels, text: str = "") -> str:
        """Loki's message refusing the stream, ``""`` when it is acceptable."""
        verdict = self._streams.get(labels)
        if verdict is None:
            try:
                check_stream(labels, text, self.limits)
                verdict = ""
            except BadInput as exc:
                verdict = str(exc)
            self._streams[labels] = verdict
        return verdict

    def record(self, record: LogRecord, shown: str = "") -> LogRecord | str:
        """The record as stored (cut when Loki would cut it), or Loki's message refusing it;
        ``shown`` is its stream as the messages print it (by default Loki's format of it)."""
        ts, line = record.timestamp_ns, record.line
        if (self.oldest is not None and ts < self.oldest) or ts > self.newest:
            shown = shown or format_stream_labels(record.stream)
        if self.oldest is not None and ts < self.oldest:
            return (
                f"entry for stream '{shown}' has timestamp too old: {_rfc3339(ts)}, "
                f"oldest acceptable timestamp is: {_rfc3339(self.oldest)}"
            )
        if ts > self.newest:
            return f"entry for stream '{shown}' has timestamp too new: {_rfc3339(ts)}"
        max_line = self.limits.max_line_size
        # A str of n characters is at most 4n UTF-8 bytes: measure only lines that could be
        # too long.
        if max_line and len(line) * 4 > max_line:
            raw = line.encode("utf-8", "surrogatepass")
            if len(raw) > max_line:
                if not self.limits.max_line_size_truncate:
                    shown = shown or format_stream_labels(record.stream)
                    return (
                        f"Max entry size '{max_line}' bytes exceeded for stream '{shown}' "
                        f"while adding an entry with length '{len(raw)}' bytes"
                    )
                return replace(record, line=raw[:max_line].decode("utf-8", "ignore"))
        return record


def admit(streams: Iterable[RawStream], limits: LogLimits, now_ns: int) -> PushResult:
    """Check every stream and entry against ``limits`` at time ``now_ns``."""
    admission = Admission(limits, now_ns)
    records: list[LogRecord] = []
    messages: list[str] = []
    refused = 0
    for s in streams:
        labels = s.labels
        error = (
            str(labels) if isinstance(labels, BadInput) else admission.stream_error(labels, s.text)
        )
        if error:
            refused += len(s.records)
            messages.append(error)
            continue
        assert not isinstance(labels, BadInput)
        shown = s.text or format_stream_labels(labels)
        for record in s.records:
            got = admission.record(record, shown)
            if isinstance(got, str):
                refused += 1
                messages.append(got)
            else:
                records.append(got)
    return PushResult(LogBatch(tuple(records)), refused, messages)


def admit_columns(push: ColumnPush, limits: LogLimits, now_ns: int) -> PushResult | None:
    """``admit`` for a push of plain lines, keeping them columns; ``None`` when a line must be
    cut (``max_line_size_truncate``): ``admit`` does that on records."""
    admission = Admission(limits, now_ns)
    ts = push.timestamps
    sizes = np.diff(push.offsets)
    bad = ts > admission.newest
    if admission.oldest is not None:
        bad |= ts < admission.oldest
    max_line = limits.max_line_size
    if max_line:
        too_long = sizes > max_line
        if too_long.any():
            if limits.max_line_size_truncate:
                return None
            bad |= too_long
    keep = ~bad
    messages: list[str] = []
    refused = 0
    stream_ids: dict[Labels, int] = {}
    stream_of = np.zeros(len(push.counts), np.uint32)
    a = 0
    for k, (labels, count) in enumerate(zip(push.labels, push.counts, strict=True)):
        b = a + count
        text = push.texts[k]
        error = (
            str(labels) if isinstance(labels, BadInput) else admission.stream_error(labels, text)
        )
        if error:
            refused += count
            messages.append(error)
            keep[a:b] = False
        elif count:
            assert not isinstance(labels, BadInput)
            stream_of[k] = stream_ids.setdefault(labels, len(stream_ids))
            # Entries a limit refuses, with the message ``admit`` gives each.
            shown = text or format_stream_labels(labels)
            for i in (np.flatnonzero(bad[a:b]) + a).tolist():
                record = LogRecord(int(ts[i]), _line(push, i), labels)
                got = admission.record(record, shown)
                assert isinstance(got, str)
                refused += 1
                messages.append(got)
        a = b
    streams = tuple(stream_ids)
    stream_index = np.repeat(stream_of, push.counts)
    data, offsets = push.lines_data, push.offsets
    if not keep.all():
        kept = np.flatnonzero(keep)
        stream_index, ts = stream_index[kept], ts[kept]
        bounds = offsets.tolist()
        data = b"".join([push.lines_data[bounds[i] : bounds[i + 1]] for i in kept.tolist()])
        offsets = np.zeros(len(kept) + 1, np.int64)
        np.cumsum(sizes[kept], out=offsets[1:])
    columns = LogColumns(streams, stream_index, ts, data, offsets)
    return PushResult(LogBatch(columns=columns), refused, messages)


def _line(push: ColumnPush, i: int) -> str:
    return push.lines_data[int(push.offsets[i]) : int(push.offsets[i + 1])].decode("utf-8")


def _rfc3339(ns: int) -> str:
    try:
        t = dt.datetime.fromtimestamp(ns // 1_000_000_000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{ns}ns"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "MAX_MESSAGES",
    "Admission",
    "ColumnPush",
    "PushResult",
    "RawStream",
    "admit",
    "admit_columns",
    "check_stream",
]
