"""Distinct objects by identity: what the inserters and codecs build their shared columns on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spyglass.storage._interning import by_identity


@given(st.lists(st.integers(0, 4), max_size=40))
def test_each_row_points_at_its_own_object_first_seen_first(picks: list[int]) -> None:
    pool = [{"service.name": "api"} for _ in range(5)]  # equal maps, distinct objects
    rows = [pool[p] for p in picks]
    distinct, index = by_identity(rows, len(rows))
    assert [distinct[i] is row for i, row in zip(index.tolist(), rows, strict=True)] == [
        True
    ] * len(rows)
    assert len(distinct) == len(set(picks))
    assert [id(d) for d in distinct] == list(dict.fromkeys(id(r) for r in rows))
