"""Masking before pattern mining: every kind of parameter becomes its placeholder, whatever its
value, and the words around it stay as they were."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from spyglass.logs import mask

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_-:", min_size=1, max_size=8)
_uuid = st.uuids().map(str)
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
_ip_port = st.tuples(_ipv4, st.integers(1, 65535)).map(lambda t: f"{t[0]}:{t[1]}")
_hex = st.integers(0, 2**64 - 1).map(lambda n: f"0x{n:x}")
_trace = (
    st.integers(2**60, 2**128 - 1)
    .map(lambda n: f"{n:032x}")
    .filter(lambda h: any(c.isalpha() for c in h) and any(c.isdigit() for c in h))
)
_duration = st.one_of(
    st.tuples(st.integers(0, 10**6), st.sampled_from(["ns", "us", "ms", "s", "m", "h"])).map(
        lambda t: f"{t[0]}{t[1]}"
    ),
    st.tuples(st.integers(1, 59), st.integers(1, 59)).map(lambda t: f"{t[0]}m{t[1]}s"),
    st.floats(0, 1e4, allow_nan=False).map(lambda f: f"{f:.3f}s"),
)
_quoted = st.text(alphabet=st.characters(blacklist_characters='"\\\n'), max_size=12).map(
    lambda s: f'"{s}"'
)
_number = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f"{f:.4f}"),
)
_timestamp = st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "Z")

PARAMS = {
    "UUID": _uuid,
    "IP": st.one_of(_ipv4, _ip_port),
    "HEX": st.one_of(_hex, _trace),
    "DURATION": _duration,
    "QUOTED": _quoted,
    "NUM": _number,
    "TS": _timestamp,
}


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, str]:
    """A message made of words and parameters, and the masked text expected of it."""
    parts: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["word", *PARAMS]))
        if kind == "word":
            w = draw(_word)
            parts.append((w, w))
        else:
            parts.append((draw(PARAMS[kind]), f"<{kind}>"))
    return " ".join(p for p, _ in parts), " ".join(m for _, m in parts)


@given(messages())
def test_every_parameter_becomes_its_placeholder(case: tuple[str, str]) -> None:
    message, expected = case
    assert mask(message) == expected


@given(st.text(max_size=200))
def test_masking_is_idempotent_and_never_adds_tokens(text: str) -> None:
    once = mask(text)
    assert mask(once) == once
    # A placeholder holds no whitespace: Drain sees at most as many tokens as the text had
    # (fewer where a quoted string or a timestamp held a space).
    assert len(once.split()) <= len(text.split())


def test_examples() -> None:
    assert mask("GET /api/orders/8812 responded 200 in 35ms") == (
        "GET /api/orders/<NUM> responded <NUM> in <DURATION>"
    )
    assert mask(f"job x {uuid.UUID(int=7)} took 2m30s") == "job x <UUID> took <DURATION>"
    assert mask("from 10.0.0.1:5432 and fe80::1") == "from <IP> and <IP>"
    assert mask("txn 0x1f3a trace 4bf92f3577b34da6a3ce929d0e0e4736") == "txn <HEX> trace <HEX>"
    assert mask('constraint "orders_pkey"') == "constraint <QUOTED>"
    # A number glued to a word is part of a name, not a value.
    assert mask("user u123 on http2") == "user u123 on http2"
