"""Log batches keep their records in the order they were sent."""

from spyglass.core.logs import LogBatch, LogRecord


def _record(ts: int, line: str) -> LogRecord:
    return LogRecord(timestamp_ns=ts, line=line, stream=(("service_name", "api"),))


def test_concat_keeps_every_record_in_order() -> None:
    first = LogBatch.of([_record(2, "b"), _record(1, "a")])
    second = LogBatch.of([_record(3, "c")])
    joined = LogBatch.concat([first, second])
    assert [r.line for r in joined] == ["b", "a", "c"]
    assert len(joined) == 3
    assert LogBatch.concat([first]) is first


def test_records_default_to_no_side_data() -> None:
    record = _record(1, "x")
    assert dict(record.metadata) == {}
    assert dict(record.resource) == {}
    assert (record.trace_id, record.span_id, record.severity_number) == ("", "", 0)
