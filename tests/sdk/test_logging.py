"""JSON log lines and the redaction processor."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.sdk import REDACTED, Redactor, configure_logging, get_logger

MARKER = "TOPSECRETVALUE"
SECRET_KEYS = st.sampled_from(
    ["password", "Authorization", "X-Api-Key", "access_token", "client_secret", "Cookie",
     "set-cookie", "db_PASSWORD", "apikey"]
)  # fmt: skip
PLAIN_KEYS = st.text(alphabet="abcdefghijklmnopqrsuvwxyz_", min_size=1, max_size=8).filter(
    lambda k: not Redactor().is_secret(k)
)
LEAF = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))


def nested(secret_leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        LEAF,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(PLAIN_KEYS, children, max_size=4),
            st.dictionaries(SECRET_KEYS, secret_leaf, min_size=1, max_size=2),
        ),
        max_leaves=20,
    )


@settings(max_examples=200)
@given(nested(st.one_of(st.just(MARKER), st.dictionaries(PLAIN_KEYS, st.just(MARKER)))))
def test_secrets_never_reach_the_rendered_line(value: Any) -> None:
    event = {"event": "msg", "payload": value}
    out = Redactor()(None, "info", event)
    line = structlog.processors.JSONRenderer(default=repr)(None, "info", out)
    assert MARKER not in line
    json.loads(line)


@settings(max_examples=200)
@given(st.dictionaries(st.text(max_size=10), nested(LEAF), max_size=5))
def test_redactor_never_raises_and_keeps_plain_values(event: dict[str, Any]) -> None:
    redactor = Redactor()
    out = redactor(None, "info", dict(event))
    for key, value in event.items():
        if redactor.is_secret(key):
            assert out[key] == REDACTED
        elif not isinstance(value, dict | list):
            assert out[key] == value


def test_cycles_and_depth_are_bounded() -> None:
    loop: dict[str, Any] = {"a": 1}
    loop["self"] = loop
    deep: Any = "bottom"
    for _ in range(50):
        deep = {"d": deep}
    out = Redactor()(None, "info", {"loop": loop, "deep": deep, "t": ("x", {"token": "t"})})
    assert out["loop"]["self"] == "<cycle>"
    assert "<nested too deep>" in json.dumps(out["deep"])
    assert out["t"] == ("x", {"token": REDACTED})
    assert loop["self"] is loop  # the caller's objects are not changed


def test_structlog_and_stdlib_lines_share_one_json_shape() -> None:
    buf = io.StringIO()
    configure_logging("svc", stream=buf, level="DEBUG")
    get_logger("app.module").warning("user %s signed in", "ann", api_key="k-123", n=3)
    logging.getLogger("lib").error("stdlib says %d", 7, extra={"password": "pw"})
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("lib").exception("failed")
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert len(lines) == 3
    first, second, third = lines
    assert first["message"] == "user ann signed in"
    assert first["logger"] == "app.module"
    assert first["level"] == "warning"
    assert first["service"] == "svc"
    assert first["api_key"] == REDACTED
    assert first["n"] == 3
    assert first["timestamp"].endswith("Z")
    assert second["message"] == "stdlib says 7"
    assert second["level"] == "error"
    assert second["password"] == REDACTED
    assert "ValueError: bad" in third["exception"]
    assert "request_id" not in first  # outside a request


def test_level_filter() -> None:
    buf = io.StringIO()
    configure_logging("svc", stream=buf, level="WARNING")
    get_logger("x").info("hidden")
    logging.getLogger("y").info("hidden too")
    get_logger("x").error("shown")
    assert [json.loads(x)["message"] for x in buf.getvalue().splitlines()] == ["shown"]
