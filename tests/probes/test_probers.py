"""Pieces of the probers that must match the blackbox exporter bit for bit."""

from __future__ import annotations

import re

import dns.rrset
from hypothesis import given
from hypothesis import strategies as st

from spyglass.probes._dns import rr_texts
from spyglass.probes._resolve import ip_hash
from spyglass.probes._tcp import expand, split_host_port


def fnv1a_32(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) % 2**32
    return h


def test_ip_hash_is_fnv1a_of_the_address_bytes() -> None:
    # 3668918509 is what the blackbox exporter reports for 127.0.0.1 (see the differential test).
    assert ip_hash("127.0.0.1") == 3668918509.0 == fnv1a_32(bytes([127, 0, 0, 1]))
    assert ip_hash("::1") == fnv1a_32(bytes(15) + b"\x01")


def test_records_print_as_go_prints_them() -> None:
    rrset = dns.rrset.from_text("app.test.", 300, "IN", "A", "127.0.0.7", "127.0.0.8")
    assert rr_texts([rrset]) == [
        "app.test.\t300\tIN\tA\t127.0.0.7",
        "app.test.\t300\tIN\tA\t127.0.0.8",
    ]


def test_send_expands_groups_as_go_does() -> None:
    m = re.search(r"^(?P<proto>SSH)-(\d\.\d)", "SSH-2.0-OpenSSH")
    assert expand("${proto} v$2 $$ ${9} $nope", m) == "SSH v2.0 $  "


@given(st.text(max_size=30))
def test_split_host_port_never_raises(target: str) -> None:
    parts = split_host_port(target)
    if parts is not None:
        _host, port = parts
        assert target.endswith(":" + port)


def test_split_host_port() -> None:
    assert split_host_port("127.0.0.1:53") == ("127.0.0.1", "53")
    assert split_host_port("[::1]:53") == ("::1", "53")
    assert split_host_port("example.org") is None
    assert split_host_port("::1") is None
