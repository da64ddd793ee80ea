"""Dashboard JSON read as Grafana's import reads it: lenient about what it does not use,
clear about what is not a dashboard, and bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import SpyglassError
from spyglass.dashboards import (
    MAX_DASHBOARD_BYTES,
    MAX_PANELS,
    DashboardError,
    DashboardTooLarge,
    decode_json,
    grid_pos,
    new_uid,
    slugify,
    validate_dashboard,
)


def test_unknown_fields_are_kept_untouched() -> None:
    dash = {
        "title": "A",
        "schemaVersion": 39,
        "annotations": {"list": [{"builtIn": 1}]},
        "panels": [{"type": "future-panel", "x-custom": {"deep": [1, 2]}}],
        "weird": None,
    }
    assert validate_dashboard(json.loads(json.dumps(dash))) == dash


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "a dashboard is a JSON object, not a list"),
        ("x", "a dashboard is a JSON object, not a string"),
        ({}, "Dashboard title cannot be empty"),
        ({"title": "  "}, "Dashboard title cannot be empty"),
        ({"title": "t", "uid": 5}, "uid must be a string"),
        ({"title": "t", "uid": "x" * 41}, "uid too long, max 40 characters"),
        ({"title": "t", "uid": "a/b"}, "uid contains illegal characters"),
        ({"title": "t", "tags": "a"}, "tags must be a list of strings"),
        ({"title": "t", "panels": {}}, "panels must be a list, not an object"),
        ({"title": "t", "panels": [1]}, r"panels\[0\] must be an object, not a number"),
        (
            {"title": "t", "panels": [{"gridPos": {"x": "0"}}]},
            r"panels\[0\].gridPos.x must be a number",
        ),
        (
            {"title": "t", "panels": [{"type": "row", "panels": [None]}]},
            r"panels\[0\].panels\[0\] must be an object",
        ),
        (
            {"title": "t", "templating": {"list": [{}]}},
            r"templating.list\[0\] must be an object with a name",
        ),
    ],
)
def test_what_is_not_a_dashboard_says_which_field(value: Any, message: str) -> None:
    with pytest.raises(DashboardError, match=message):
        validate_dashboard(value)


def test_panel_count_is_capped_including_collapsed_rows() -> None:
    row = {"type": "row", "collapsed": True, "panels": [{"type": "text"}] * MAX_PANELS}
    with pytest.raises(DashboardTooLarge, match="more than 1000"):
        validate_dashboard({"title": "t", "panels": [row]})
    validate_dashboard({"title": "t", "panels": [{"type": "text"}] * MAX_PANELS})


def test_size_is_capped_before_parsing() -> None:
    with pytest.raises(DashboardTooLarge) as info:
        decode_json(b" " * (MAX_DASHBOARD_BYTES + 1))
    assert info.value.limit == "max_dashboard_bytes"


def test_not_json_is_a_dashboard_error() -> None:
    with pytest.raises(DashboardError, match="not JSON"):
        decode_json(b"{title:")


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(DashboardError):
        decode_json(b"[" * 100_000)


def test_grid_pos_defaults_and_clamps() -> None:
    assert grid_pos({}) == (0, 0, 12, 8)
    assert grid_pos({"gridPos": {"x": 20, "y": -3, "w": 10, "h": 0}}) == (14, 0, 10, 1)
    assert grid_pos({"gridPos": {"x": 0, "y": 0, "w": 99, "h": 5}}) == (0, 0, 24, 5)


def test_slug_and_uid() -> None:
    assert slugify("My Service: RED!") == "my-service-red"
    assert slugify("!!!") == "dashboard"
    uid = new_uid()
    assert len(uid) == 14
    assert uid.isalnum()
    assert new_uid() != uid


# Two levels of JSON: scalars, and lists and objects of them (st.recursive warns, now and then,
# that an extension never drew from its base).
_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
_containers = st.lists(_scalars, max_size=3) | st.dictionaries(
    st.text(max_size=6), _scalars, max_size=3
)
json_values = _scalars | _containers | st.lists(_containers, max_size=2)
dashboard_like = st.fixed_dictionaries(
    {},
    optional={
        "title": json_values | st.text(max_size=10),
        "uid": json_values,
        "tags": json_values,
        "panels": st.lists(
            st.dictionaries(
                st.sampled_from(["type", "gridPos", "panels", "targets", "title"]), json_values
            )
            | json_values,
            max_size=4,
        )
        | json_values,
        "templating": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(dashboard_like)
def test_any_json_is_a_dashboard_or_a_clear_error(value: Any) -> None:
    try:
        result = validate_dashboard(value)
    except DashboardError as exc:
        message = str(exc)
    else:
        assert result is value
        return
    assert message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_decode_or_fail_clearly(body: bytes) -> None:
    try:
        validate_dashboard(decode_json(body))
    except SpyglassError as exc:
        message = str(exc)
    else:
        return
    assert message
