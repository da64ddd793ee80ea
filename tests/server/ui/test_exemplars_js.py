"""``exemplars.js``' pure part in Node: it finds a trace id under each name SDKs give it, builds
the trace page's link, and reads any ``/api/v1/query_exemplars`` answer into points without
failing on odd values."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

SRC = REPO / "frontend" / "src"
RUN = """
import * as ex from %s;
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([name, ...args]) => ex[name](...args) ?? null);
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def call_js(node: str, calls: list[list[Any]]) -> list[Any]:
    out = subprocess.run(
        [node, "--input-type=module", "-e", RUN % json.dumps((SRC / "exemplars.js").as_uri())],
        input=json.dumps(calls), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: list[Any] = json.loads(out.stdout)
    return result


def test_a_trace_id_is_found_under_each_name_and_linked(node: str) -> None:
    results = call_js(
        node,
        [
            ["traceIdOf", {"trace_id": "abc", "span_id": "1"}],
            ["traceIdOf", {"traceID": "def"}],
            ["traceIdOf", {"traceId": "0af7"}],
            ["traceIdOf", {"trace_id": "", "traceID": "x"}],
            ["traceIdOf", {"span_id": "1"}],
            ["traceHref", "a/b?c"],
        ],
    )
    assert results == ["abc", "def", "0af7", "x", None, "/traces/a%2Fb%3Fc"]


def test_the_api_answer_becomes_points(node: str) -> None:
    data = [
        {
            "seriesLabels": {"__name__": "x_bucket", "le": "0.5"},
            "exemplars": [
                {"labels": {"trace_id": "t1"}, "value": "0.31", "timestamp": 1700000000.123},
                {"labels": {}, "value": "NaN", "timestamp": 1700000001},
            ],
        }
    ]
    [points] = call_js(node, [["flatten", data]])
    assert points == [
        {
            "time": 1700000000.123,
            "value": 0.31,
            "labels": {"trace_id": "t1"},
            "seriesLabels": {"__name__": "x_bucket", "le": "0.5"},
        }
    ]


values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "+Inf", "-Inf", "", "x"]),
    st.integers(),
    st.none(),
)
answers = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "seriesLabels": st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
            "exemplars": st.lists(
                st.fixed_dictionaries(
                    {"value": values, "timestamp": values},
                    optional={"labels": st.dictionaries(st.text(max_size=4), st.text(max_size=4))},
                ),
                max_size=4,
            ),
        },
    ),
    max_size=4,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=answers)
def test_any_answer_reads_into_finite_points(node: str, data: list[dict[str, Any]]) -> None:
    [points] = call_js(node, [["flatten", data]])
    expected = sum(
        1
        for group in data
        for e in group.get("exemplars", [])
        if all(_finite(e[k]) for k in ("value", "timestamp"))
    )
    assert len(points) == expected
    for p in points:
        assert isinstance(p["value"], int | float)
        assert isinstance(p["time"], int | float)


def _finite(value: Any) -> bool:
    """What JavaScript's ``Number.isFinite(Number(value))`` says."""
    if value is None:
        return True  # Number(null) is 0
    if isinstance(value, int):
        return True
    text = str(value).strip()
    if text == "":
        return True  # Number("") is 0
    try:
        return float(text) not in (float("inf"), float("-inf")) and float(text) == float(text)
    except ValueError:
        return False
