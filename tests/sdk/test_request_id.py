"""The request-ID validator: safe IDs pass unchanged, anything else is replaced."""

from __future__ import annotations

import os
import random
import re
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.sdk import is_valid_request_id, new_request_id
from spyglass.sdk._request_id import request_id_from

SAFE = re.compile(r"[A-Za-z0-9._-]{1,128}")
SAFE_ALPHABET = "abcXYZ0189._-"


def test_examples() -> None:
    assert is_valid_request_id("abc-123_X.y")
    assert is_valid_request_id("a" * 128)
    assert not is_valid_request_id("a" * 129)
    assert not is_valid_request_id("")
    assert not is_valid_request_id("line\nbreak")
    assert not is_valid_request_id("caf\u00e9")
    assert not is_valid_request_id("\u0661\u0662")  # Arabic-Indic digits are not [0-9]
    assert not is_valid_request_id(b"\xff")
    assert re.fullmatch(r"[0-9a-f]{32}", new_request_id())
    assert new_request_id() != new_request_id()


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_input_yields_a_safe_id(value: str | bytes) -> None:
    rid = request_id_from(value)
    assert SAFE.fullmatch(rid)
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if SAFE.fullmatch(text):
        assert rid == text
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", rid)


@settings(max_examples=200)
@given(st.text(alphabet=SAFE_ALPHABET, min_size=1, max_size=128))
def test_safe_ids_are_kept(value: str) -> None:
    assert is_valid_request_id(value)
    assert request_id_from(value.encode()) == value


def test_new_ids_are_uuid4_hex() -> None:
    for _ in range(200):
        rid = new_request_id()
        parsed = uuid.UUID(hex=rid)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, rid)


def test_an_apps_random_seed_does_not_make_ids_repeat() -> None:
    """IDs come from the SDK's own generator: seeding ``random`` (as tests and simulations
    do) must not give two processes, or two runs, the same sequence of IDs."""
    random.seed(7)
    first = new_request_id()
    random.seed(7)
    assert new_request_id() != first


def test_a_forked_child_draws_different_ids_than_its_parent() -> None:
    """Prefork servers (gunicorn) fork workers after import: each must reseed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ID and leave without running pytest's teardown
        os.write(write_end, new_request_id().encode())
        os._exit(0)
    os.close(write_end)
    child = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert re.fullmatch(r"[0-9a-f]{32}", child)
    assert child != new_request_id()
