"""Hostile alertmanager.yml: any document loads or fails with a ConfigError, never a crash."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.alerting import INTEGRATIONS, GlobalConfig, load_alertmanager_config
from spyglass.alerting._decode import yaml_key
from spyglass.core.errors import ConfigError


def keys_of(cls: type) -> list[str]:
    return [yaml_key(f) for f in dataclasses.fields(cls) if "kind" in f.metadata]


ROUTE_KEYS = [
    "receiver",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "match",
    "match_re",
    "matchers",
    "continue",
    "mute_time_intervals",
    "active_time_intervals",
    "labels",
]
OTHER_KEYS = [
    "name",
    "equal",
    "source_match",
    "source_matchers",
    "target_match_re",
    "time_intervals",
    "times",
    "weekdays",
    "days_of_month",
    "months",
    "years",
    "location",
    "start_time",
    "end_time",
    "tls_config",
    "basic_auth",
    "authorization",
    "oauth2",
    "proxy_url",
    "http_headers",
    "values",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from(
        [
            "",
            "x",
            "r",
            "30s",
            "0s",
            "a=b",
            '{a=~"("}',
            "http://h/",
            "...",
            "-1:-3",
            "monday",
            "25:00",
            "${HOME}",
            "<secret>",
            "localhost:25",
            "$$",
            "{{ x",
            "TLS12",
        ]
    ),
    st.text(max_size=12),
)


def hostile(keys: list[str]) -> st.SearchStrategy[Any]:
    """Mappings over ``keys`` whose values are anything, nested."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.sampled_from(keys + OTHER_KEYS), children, max_size=4),
        ),
        max_leaves=12,
    )


# Built once per set of keys: a recursive strategy made afresh for each draw spent most of the
# test's time in Hypothesis validating it again, not in the config loader.
@functools.cache
def section(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(keys), hostile(list(keys)), max_size=5)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """Valid skeletons with hostile parts, so every section's reader is reached."""
    route: dict[str, Any] = {"receiver": "r", **draw(section(tuple(ROUTE_KEYS)))}
    if draw(st.booleans()):
        route["routes"] = [{"receiver": "r", **draw(section(tuple(ROUTE_KEYS)))}]
    receiver: dict[str, Any] = {"name": "r"}
    for key in draw(st.lists(st.sampled_from(list(INTEGRATIONS)), max_size=2)):
        receiver[key] = [draw(section(tuple(keys_of(INTEGRATIONS[key]))))]
    doc: dict[str, Any] = {"route": route, "receivers": [receiver]}
    if draw(st.booleans()):
        doc["global"] = draw(section(tuple(keys_of(GlobalConfig))))
    if draw(st.booleans()):
        doc["inhibit_rules"] = [draw(section(tuple(OTHER_KEYS)))]
    if draw(st.booleans()):
        interval = draw(section(tuple(OTHER_KEYS)))
        doc["time_intervals"] = [{"name": "t", "time_intervals": [interval]}]
    return doc


_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@_SETTINGS
@given(configs())
def test_any_config_loads_or_fails_with_a_config_error(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc, default_flow_style=False)
    try:
        load_alertmanager_config(text, environ={"HOME": "/root"})
    except ConfigError as exc:
        message = str(exc)
        assert message


@_SETTINGS
@given(hostile(["global", "route", "receivers", "inhibit_rules", "templates"]))
def test_any_document_loads_or_fails_with_a_config_error(doc: Any) -> None:
    try:
        load_alertmanager_config(yaml.safe_dump(doc), expand_env=False)
    except ConfigError as exc:
        message = str(exc)
        assert message
