"""Prometheus remote_write 1.0: snappy-compressed protobuf ``WriteRequest`` <-> ``SampleBatch``.

``decode_write_request`` is what the ``/api/v1/write`` endpoint calls (off the event loop: it is
CPU work); ``encode_write_request`` produces bodies Prometheus itself accepts.
"""

from spyglass.ingest.remote_write._decoder import (
    RemoteWriteDecoder,
    decode_write_request,
    default_decoder,
)
from spyglass.ingest.remote_write._encoder import encode_write_request

__all__ = [
    "RemoteWriteDecoder",
    "decode_write_request",
    "default_decoder",
    "encode_write_request",
]
