"""Prometheus remote_write 1.0: snappy-compressed protobuf ``WriteRequest`` <-> ``SampleBatch``.

A ``RemoteWriteDecoder`` is what the ``/api/v1/write`` endpoint calls (off the event loop: it is
CPU work); ``decode_write_request`` decodes one body with a fresh or given decoder;
``encode_write_request`` produces bodies Prometheus itself accepts.
"""

from spyglass.ingest.remote_write._decoder import (
    RemoteWriteDecoder,
    decode_write_request,
)
from spyglass.ingest.remote_write._encoder import encode_write_request

__all__ = [
    "RemoteWriteDecoder",
    "decode_write_request",
    "encode_write_request",
]
