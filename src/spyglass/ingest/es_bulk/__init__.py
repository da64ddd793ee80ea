"""The Elasticsearch ``_bulk`` subset log shippers use (Fluent Bit, Filebeat, Logstash, Vector,
syslog-ng's ``elasticsearch-http()``): NDJSON ``index``/``create`` actions -> ``LogBatch``, with
the per-item answer Elasticsearch gives. Pure: body in, records and items out."""

from spyglass.ingest.es_bulk._bulk import (
    BulkItem,
    BulkRequestError,
    BulkResult,
    decode_bulk,
    document_record,
    new_id,
    parse_timestamp,
)

__all__ = [
    "BulkItem",
    "BulkRequestError",
    "BulkResult",
    "decode_bulk",
    "document_record",
    "new_id",
    "parse_timestamp",
]
