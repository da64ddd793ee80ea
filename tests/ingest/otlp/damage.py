"""Damaged protobuf bodies for the columnar readers' property tests (spans and metrics)."""

from __future__ import annotations

from hypothesis import strategies as st


def damaged(body: bytes, data: st.DataObject) -> bytes:
    """``body`` with a byte changed, cut short at a byte, or with bytes inserted."""
    out = bytearray(body)
    if out:
        at = data.draw(st.integers(0, len(out) - 1))
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip":
            out[at] = data.draw(st.integers(0, 255))
        elif how == "cut":
            del out[at:]
        else:
            out[at:at] = data.draw(st.binary(min_size=1, max_size=4))
    return bytes(out)
