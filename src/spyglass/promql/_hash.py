"""Prometheus' label-set hash (XXH64 over ``name\\xffvalue\\xff...``), for ``limit_ratio``.

``limit_ratio`` keeps a series when its hash, scaled to [0, 1], is below the ratio; using the same
hash as Prometheus makes the same series fall on the same side. XXH64 is written out here from
its published specification (no dependency for one small function).
"""

from __future__ import annotations

import struct

from spyglass.core.labels import Labels

_M = (1 << 64) - 1
_P1 = 11400714785074694791
_P2 = 14029467366897019727
_P3 = 1609587929392839161
_P4 = 9650029242287828579
_P5 = 2870177450012600261


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc: int, value: int) -> int:
    return (_rotl((acc + value * _P2) & _M, 31) * _P1) & _M


def _merge(acc: int, value: int) -> int:
    return ((acc ^ _round(0, value)) * _P1 + _P4) & _M


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 of ``data``."""
    n = len(data)
    i = 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed, (seed - _P1) & _M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M
        for k in range(4):
            h = _merge(h, v[k])
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        h ^= _round(0, struct.unpack_from("<Q", data, i)[0])
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    h ^= h >> 32
    return h


def labels_hash(labels: Labels) -> int:
    """Prometheus' ``labels.Labels.Hash()``."""
    buf = bytearray()
    for name, value in labels:
        buf += name.encode()
        buf += b"\xff"
        buf += value.encode()
        buf += b"\xff"
    return xxh64(bytes(buf))


__all__ = ["labels_hash", "xxh64"]
