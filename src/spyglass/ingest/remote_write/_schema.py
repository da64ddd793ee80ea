"""Prometheus remote_write 1.0 protobuf messages, built from descriptors at import time.

Building the descriptors here (instead of shipping protoc output) keeps us free of protoc/runtime
version coupling; the runtime's C parser (upb) still does the byte-level work.

Two views of the same wire format live in one private pool:

* ``prometheus.*``: the schema as prompb/types.proto and remote.proto define it (WriteRequest 1 =
  timeseries, 3 = metadata; TimeSeries 1 = labels, 2 = samples, 3 = exemplars, 4 = histograms;
  Label 1 = name, 2 = value; Sample 1 = value (double), 2 = timestamp (int64 ms); MetricMetadata
  1 = type, 2 = metric_family_name, 4 = help, 5 = unit; Exemplar 1 = labels, 2 = value,
  3 = timestamp). The encoder uses it, and the decoder reads exemplars with its ``Exemplar``.
* ``spyglass.rw_lazy.*``: the same field numbers, but labels, exemplars and histograms declared as
  ``bytes``. Length-delimited fields are wire-compatible with sub-messages, so the decoder gets
  each label's raw encoding without building Python strings: the joined bytes are the key of the
  label-set cache, and the same series arriving every scrape interval costs one dict lookup.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto

# MetricMetadata.MetricType in prompb/types.proto.
METRIC_TYPES: dict[int, str] = {
    0: "unknown",
    1: "counter",
    2: "gauge",
    3: "histogram",
    4: "gaugehistogram",
    5: "summary",
    6: "info",
    7: "stateset",
}
METRIC_TYPE_NUMBERS: dict[str, int] = {name: number for number, name in METRIC_TYPES.items()}


def _field(
    msg: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    kind: int,
    *,
    repeated: bool = False,
    type_name: str = "",
) -> None:
    f = msg.field.add()
    f.name = name
    f.number = number
    f.type = kind  # type: ignore[assignment]
    f.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    if type_name:
        f.type_name = type_name


def _proto3(package: str) -> descriptor_pb2.FileDescriptorProto:
    """An empty proto3 file of ``package``."""
    fd = descriptor_pb2.FileDescriptorProto()
    fd.name = f"{package.replace('.', '/')}.proto"
    fd.package = package
    fd.syntax = "proto3"
    return fd


def _file(package: str, lazy: bool) -> descriptor_pb2.FileDescriptorProto:
    fd = _proto3(package)
    p = f".{package}."

    label = fd.message_type.add(name="Label")
    _field(label, "name", 1, _F.TYPE_STRING)
    _field(label, "value", 2, _F.TYPE_STRING)

    sample = fd.message_type.add(name="Sample")
    _field(sample, "value", 1, _F.TYPE_DOUBLE)
    _field(sample, "timestamp", 2, _F.TYPE_INT64)

    exemplar = fd.message_type.add(name="Exemplar")
    _field(exemplar, "labels", 1, _F.TYPE_MESSAGE, repeated=True, type_name=p + "Label")
    _field(exemplar, "value", 2, _F.TYPE_DOUBLE)
    _field(exemplar, "timestamp", 3, _F.TYPE_INT64)

    ts = fd.message_type.add(name="TimeSeries")
    if lazy:
        _field(ts, "labels", 1, _F.TYPE_BYTES, repeated=True)
    else:
        _field(ts, "labels", 1, _F.TYPE_MESSAGE, repeated=True, type_name=p + "Label")
    _field(ts, "samples", 2, _F.TYPE_MESSAGE, repeated=True, type_name=p + "Sample")
    # Exemplars and native histograms are not decoded field by field (see the decoder).
    _field(ts, "exemplars", 3, _F.TYPE_BYTES, repeated=True)
    _field(ts, "histograms", 4, _F.TYPE_BYTES, repeated=True)

    enum = fd.enum_type.add(name="MetricType")
    for number, name in METRIC_TYPES.items():
        enum.value.add(name=name.upper(), number=number)

    md = fd.message_type.add(name="MetricMetadata")
    _field(md, "type", 1, _F.TYPE_ENUM, type_name=p + "MetricType")
    _field(md, "metric_family_name", 2, _F.TYPE_STRING)
    _field(md, "help", 4, _F.TYPE_STRING)
    _field(md, "unit", 5, _F.TYPE_STRING)

    wr = fd.message_type.add(name="WriteRequest")
    _field(wr, "timeseries", 1, _F.TYPE_MESSAGE, repeated=True, type_name=p + "TimeSeries")
    _field(wr, "metadata", 3, _F.TYPE_MESSAGE, repeated=True, type_name=p + "MetricMetadata")
    return fd


def _extras_file() -> descriptor_pb2.FileDescriptorProto:
    # WriteRequest.timeseries declared *singular*: protobuf merges repeated occurrences of a
    # singular message field, concatenating their repeated fields, so one parse yields every
    # exemplar and histogram of the request without a Python loop over the series.
    fd = _proto3("spyglass.rw_extras")
    extras = fd.message_type.add(name="Extras")
    _field(extras, "exemplars", 3, _F.TYPE_BYTES, repeated=True)
    _field(extras, "histograms", 4, _F.TYPE_BYTES, repeated=True)
    wr = fd.message_type.add(name="WriteRequest")
    _field(wr, "timeseries", 1, _F.TYPE_MESSAGE, type_name=".spyglass.rw_extras.Extras")
    return fd


def _entries_file() -> descriptor_pb2.FileDescriptorProto:
    # WriteRequest's two fields as ``bytes``: one parse in C hands over every series' encoding,
    # whose lengths place the series in the request (``_wire``) without a Python step each.
    fd = _proto3("spyglass.rw_entries")
    wr = fd.message_type.add(name="WriteRequest")
    _field(wr, "timeseries", 1, _F.TYPE_BYTES, repeated=True)
    _field(wr, "metadata", 3, _F.TYPE_BYTES, repeated=True)
    return fd


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file("prometheus", lazy=False))
_POOL.Add(_file("spyglass.rw_lazy", lazy=True))
_POOL.Add(_extras_file())
_POOL.Add(_entries_file())


def _cls(full_name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


WriteRequest: Any = _cls("prometheus.WriteRequest")
LazyWriteRequest: Any = _cls("spyglass.rw_lazy.WriteRequest")
LazyTimeSeries: Any = _cls("spyglass.rw_lazy.TimeSeries")
ExtrasWriteRequest: Any = _cls("spyglass.rw_extras.WriteRequest")
EntriesWriteRequest: Any = _cls("spyglass.rw_entries.WriteRequest")
Label: Any = _cls("prometheus.Label")
Exemplar: Any = _cls("prometheus.Exemplar")

__all__ = [
    "METRIC_TYPES",
    "METRIC_TYPE_NUMBERS",
    "EntriesWriteRequest",
    "Exemplar",
    "ExtrasWriteRequest",
    "Label",
    "LazyTimeSeries",
    "LazyWriteRequest",
    "WriteRequest",
]
