"""The label hash limit_ratio uses must be Prometheus' (XXH64), so series split the same way."""

from __future__ import annotations

from spyglass.promql._hash import labels_hash, xxh64


def test_xxh64_reference_values() -> None:
    # Published XXH64 test values (seed 0).
    assert xxh64(b"") == 0xEF46DB3751D8E999
    assert xxh64(b"a") == 0xD24EC4F1A98C6E5B
    assert xxh64(b"abc") == 0x44BC2CF5AD770999


def test_long_inputs_use_the_stripe_loop() -> None:
    data = bytes(range(100))
    assert xxh64(data) != xxh64(data[:-1])
    assert xxh64(data) == xxh64(bytes(range(100)))


def test_labels_hash_is_over_name_value_separators() -> None:
    labels = (("__name__", "up"), ("job", "api"))
    assert labels_hash(labels) == xxh64(b"__name__\xffup\xffjob\xffapi\xff")
