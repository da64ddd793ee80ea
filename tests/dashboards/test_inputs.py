"""Import inputs (``__inputs`` and ``${DS_...}``) answered as Grafana's import answers them,
every data source input taking Spyglass's own Prometheus when nobody chose one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.dashboards import DATASOURCE_UID, DashboardError, apply_inputs, input_values

EXPORTED: dict[str, Any] = {
    "__inputs": [
        {
            "name": "DS_PROMETHEUS",
            "label": "Prometheus",
            "type": "datasource",
            "pluginId": "prometheus",
        },
        {"name": "VAR_JOB", "type": "constant", "value": "node"},
    ],
    "__requires": [{"type": "datasource", "id": "prometheus"}],
    "title": "Node",
    "panels": [
        {
            "datasource": "${DS_PROMETHEUS}",
            "targets": [
                {"expr": 'up{job="${VAR_JOB}"}', "datasource": {"uid": "${DS_PROMETHEUS}"}}
            ],
        }
    ],
    "templating": {"list": [{"name": "x", "query": "${UNKNOWN} $job"}]},
}


def test_unanswered_inputs_take_spyglass_s_data_source_and_the_exported_constant() -> None:
    values = input_values(EXPORTED, [])
    assert values == {"DS_PROMETHEUS": DATASOURCE_UID, "VAR_JOB": "node"}
    got = apply_inputs(EXPORTED, values)
    assert "__inputs" not in got
    assert "__requires" not in got
    panel = got["panels"][0]
    assert panel["datasource"] == DATASOURCE_UID
    assert panel["targets"][0] == {"expr": 'up{job="node"}', "datasource": {"uid": DATASOURCE_UID}}
    # What is not an input stays as written (dashboard variables are not inputs).
    assert got["templating"]["list"][0]["query"] == "${UNKNOWN} $job"
    assert EXPORTED["__inputs"]  # the original is untouched


def test_given_inputs_win() -> None:
    values = input_values(
        EXPORTED,
        [
            {"name": "DS_PROMETHEUS", "type": "datasource", "value": "abc"},
            {"name": "VAR_JOB", "value": "api"},
        ],
    )
    assert values == {"DS_PROMETHEUS": "abc", "VAR_JOB": "api"}


def test_inputs_that_are_not_objects_are_refused() -> None:
    with pytest.raises(DashboardError, match=r"inputs\[0\]"):
        input_values(EXPORTED, ["DS_PROMETHEUS"])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text("xyz", max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(st.text("xyz", max_size=6), JSON, max_size=5),
    st.text("abc_", min_size=1, max_size=4),
)
def test_applying_inputs_keeps_the_shape_and_leaves_no_declared_reference(
    body: dict[str, Any], name: str
) -> None:
    dash = {**body, "__inputs": [{"name": name, "type": "datasource"}], "ref": "${" + name + "}"}
    got = apply_inputs(dash, input_values(dash, []))
    assert "${" + name + "}" not in json.dumps(got)
    assert got["ref"] == DATASOURCE_UID
    assert set(got) == set(dash) - {"__inputs"}
