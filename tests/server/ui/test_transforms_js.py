"""The dashboard page's pure modules run in Node: Grafana's transformations (transforms.js) on
the frames queries give, Prometheus annotations made into events and regions (annotations.js),
links (links.js) that keep only http(s) and relative URLs, reading every URL as the server's
``safe_url`` does, and value mappings (mappings.js) as Grafana applies them."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.dashboards import safe_url

SRC = REPO / "frontend" / "src"
RUN = """
import * as transforms from %s;
import * as annotations from %s;
import * as links from %s;
import * as mappings from %s;
const mods = { transforms, annotations, links, mappings };
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([mod, fn, args]) => {
    try { return { ok: mods[mod][fn](...args) }; } catch (e) { return { error: e.message }; }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def js(node: str, *calls: tuple[str, str, list[Any]]) -> list[Any]:
    script = RUN % tuple(
        json.dumps((SRC / f"{m}.js").as_uri())
        for m in ("transforms", "annotations", "links", "mappings")
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(calls), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    results = json.loads(out.stdout)
    for r in results:
        assert "error" not in r, r
    return [r["ok"] for r in results]


def series(ref: str, labels: dict[str, str], values: list[float], name: str = "") -> dict[str, Any]:
    return {
        "refId": ref,
        "metric": labels,
        "name": name or json.dumps(labels),
        "times": [1000 + 60 * i for i in range(len(values))],
        "values": values,
    }


def table(frame: dict[str, Any]) -> list[list[Any]]:
    """A frame as rows, the header first."""
    fields = frame["fields"]
    n = max((len(f["values"]) for f in fields), default=0)
    return [[f["name"] for f in fields]] + [[f["values"][i] for f in fields] for i in range(n)]


SERVICES = [
    series("A", {"service": "api"}, [12.0]),
    series("A", {"service": "web"}, [30.0]),
    series("B", {"service": "api"}, [0.5]),
    series("B", {"service": "web"}, [0.25]),
    series("C", {"service": "web"}, [0.2]),
]


def test_merge_and_organize_make_one_row_per_service_as_service_overview_tables_do(
    node: str,
) -> None:
    (frames,) = js(node, ("transforms", "framesFromSeries", [SERVICES, {"table": True}]))
    assert [f["name"] for f in frames[0]["fields"]] == ["Time", "service", "Value #A"]
    (got,) = js(
        node,
        (
            "transforms",
            "applyTransformations",
            [
                frames,
                [
                    {"id": "merge", "options": {}},
                    {
                        "id": "organize",
                        "options": {
                            "excludeByName": {"Time": True},
                            "indexByName": {"service": 0, "Value #C": 1},
                            "renameByName": {"Value #A": "Requests/s"},
                        },
                    },
                    {"id": "sortBy", "options": {"sort": [{"field": "Requests/s", "desc": True}]}},
                ],
            ],
        ),
    )
    assert got["messages"] == []
    (frame,) = got["frames"]
    assert table(frame) == [
        ["service", "Value #C", "Requests/s", "Value #B"],
        ["web", 0.2, 30.0, 0.25],
        ["api", None, 12.0, 0.5],
    ]


def test_reduce_limit_and_calculate_field(node: str) -> None:
    ranges = [
        series("A", {"route": "/a"}, [1.0, 3.0, 2.0], "a"),
        series("A", {"route": "/b"}, [10.0, None, 4.0], "b"),  # type: ignore[list-item]
    ]
    (frames,) = js(node, ("transforms", "framesFromSeries", [ranges]))
    reduced, limited, binary, by_row = js(
        node,
        (
            "transforms",
            "applyTransformations",
            [frames, [{"id": "reduce", "options": {"reducers": ["mean", "max", "lastNotNull"]}}]],
        ),
        (
            "transforms",
            "applyTransformations",
            [
                frames,
                [
                    {"id": "reduce", "options": {"reducers": ["max"], "labelsToFields": True}},
                    {"id": "sortBy", "options": {"sort": [{"field": "Max", "desc": True}]}},
                    {"id": "limit", "options": {"limitField": 1}},
                ],
            ],
        ),
        (
            "transforms",
            "applyTransformations",
            [
                [
                    {
                        "name": "",
                        "refId": "A",
                        "fields": [
                            {"name": "x", "type": "number", "values": [6, 8], "labels": {}},
                            {"name": "y", "type": "number", "values": [3, None], "labels": {}},
                        ],
                    }
                ],
                [
                    {
                        "id": "calculateField",
                        "options": {
                            "mode": "binary",
                            "binary": {"left": "x", "operator": "/", "right": "y"},
                            "alias": "ratio",
                        },
                    }
                ],
            ],
        ),
        (
            "transforms",
            "applyTransformations",
            [
                frames[:1],
                [
                    {
                        "id": "calculateField",
                        "options": {
                            "mode": "reduceRow",
                            "reduce": {"reducer": "sum"},
                            "replaceFields": True,
                        },
                    }
                ],
            ],
        ),
    )
    assert table(reduced["frames"][0]) == [
        ["Field", "Mean", "Max", "Last *"],
        ["a", 2.0, 3.0, 2.0],
        ["b", 7.0, 10.0, 4.0],
    ]
    assert table(limited["frames"][0]) == [["Field", "route", "Max"], ["b", "/b", 10.0]]
    assert table(binary["frames"][0]) == [["x", "y", "ratio"], [6, 3, 2], [8, None, None]]
    assert table(by_row["frames"][0]) == [
        ["Time", "Total"],
        [1000000, 1],
        [1060000, 3],
        [1120000, 2],
    ]


def test_labels_to_fields_filter_and_join(node: str) -> None:
    inst = [
        series("A", {"service": "api", "code": "200"}, [5.0], "x"),
        series("A", {"service": "api", "code": "500"}, [1.0], "y"),
    ]
    (frames,) = js(node, ("transforms", "framesFromSeries", [inst]))
    labelled, filtered, joined = js(
        node,
        (
            "transforms",
            "applyTransformations",
            [frames, [{"id": "labelsToFields", "options": {}}, {"id": "merge", "options": {}}]],
        ),
        (
            "transforms",
            "applyTransformations",
            [frames, [{"id": "filterFieldsByName", "options": {"include": {"pattern": "^x$"}}}]],
        ),
        (
            "transforms",
            "applyTransformations",
            [frames, [{"id": "seriesToColumns", "options": {"byField": "Time"}}]],
        ),
    )
    assert table(labelled["frames"][0]) == [
        ["Time", "code", "service", "Value"],
        [1000000, "200", "api", 5.0],
        [1000000, "500", "api", 1.0],
    ]
    assert [table(f) for f in filtered["frames"]] == [[["x"], [5.0]], [[]]]
    assert table(joined["frames"][0]) == [["Time", "x", "y"], [1000000, 5.0, 1.0]]


def test_unknown_and_failing_transformations_are_skipped_with_a_message(node: str) -> None:
    (frames,) = js(node, ("transforms", "framesFromSeries", [SERVICES[:1], {"table": True}]))
    hostile = "<img src=x onerror=alert(1)>"
    (got,) = js(
        node,
        (
            "transforms",
            "applyTransformations",
            [
                frames,
                [
                    {"id": hostile},
                    {"id": "filterFieldsByName", "options": {"include": {"pattern": "("}}},
                    {
                        "id": "calculateField",
                        "options": {"mode": "binary", "binary": {"operator": "**"}},
                    },
                    {
                        "id": "organize",
                        "disabled": True,
                        "options": {"excludeByName": {"Time": True}},
                    },
                    "junk",
                ],
            ],
        ),
    )
    assert got["frames"] == frames
    assert (
        got["messages"][0]
        == f"Transformation {hostile} is not supported by Spyglass; it was skipped"
    )
    assert got["messages"][1].startswith("Transformation filterFieldsByName failed: ")
    assert (
        got["messages"][2]
        == "Transformation calculateField failed: operator ** is not supported; it was skipped"
    )
    assert len(got["messages"]) == 3


def test_annotation_points_merge_into_regions_within_a_step(node: str) -> None:
    result = [
        {
            "metric": {"instance": "a:9100", "reason": "kernel"},
            "values": [[600, "0"], [660, "1"], [720, "1"], [780, "1"], [840, "0"], [960, "2"]],
        },
        {"metric": {"instance": "b:9100"}, "values": [[700, "NaN"], [710, "1"]]},
    ]
    ann = {
        "name": "Maint",
        "iconColor": "red",
        "titleFormat": "On {{instance}}",
        "textFormat": "{{reason}}",
        "tagKeys": ["instance", "reason"],
        "useValueForTime": False,
    }
    events, with_value_time = js(
        node,
        ("annotations", "annotationEvents", [result, ann, 60]),
        (
            "annotations",
            "annotationEvents",
            [
                [{"metric": {}, "values": [[1, "1700000000123"]]}],
                {**ann, "useValueForTime": True},
                60,
            ],
        ),
    )
    assert [(e["time"], e["timeEnd"], e["title"], e["text"], e["tags"]) for e in events] == [
        (660_000, 780_000, "On a:9100", "kernel", ["a:9100", "kernel"]),
        (710_000, 710_000, "On b:9100", "", ["b:9100"]),
        (960_000, 960_000, "On a:9100", "kernel", ["a:9100", "kernel"]),
    ]
    assert events[0]["color"] == "red"
    assert with_value_time[0]["time"] == 1_700_000_000_123


def test_data_links_fill_in_labels_and_values_encoded(node: str) -> None:
    (url,) = js(
        node,
        (
            "links",
            "dataLinkUrl",
            [
                "/x?i=${__field.labels.instance}&v=${__value.raw}&s=${__data.fields.service}"
                "&n=${__field.name}&k=${__field.labels.nope}",
                {"labels": {"instance": "a&b", "service": "api"}, "name": "Value #A", "raw": 1.5},
            ],
        ),
    )
    assert url == "/x?i=a%26b&v=1.5&s=api&n=Value%20%23A&k=${__field.labels.nope}"


URLS = st.one_of(
    st.text(max_size=24),
    st.builds(
        lambda pre, scheme, rest: pre + scheme + rest,
        st.sampled_from(["", " ", "\t", "\x00", "\n"]),
        st.sampled_from(
            [
                "javascript:",
                "JaVa\tScript:",
                "http:",
                "https:",
                "data:",
                "/",
                "//",
                "\\\\",
                "/\\",
                "x",
            ]
        ),
        st.text(max_size=10),
    ),
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(URLS, min_size=1, max_size=40))
def test_the_page_keeps_exactly_the_links_the_server_keeps(node: str, urls: list[str]) -> None:
    got = js(node, *[("links", "safeHref", [u]) for u in urls])
    for url, href in zip(urls, got, strict=True):
        kept = safe_url(url)
        assert (href or "") == kept or (not href and not kept), url


NAMES = st.sampled_from(["Time", "service", "Value", "Value #A", "Value #B", "x", "<b>"])
CELLS = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4))


@st.composite
def frames(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        rows = draw(st.integers(0, 5))
        names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
        out.append(
            {
                "name": "f",
                "refId": "A",
                "fields": [
                    {
                        "name": n,
                        "type": draw(st.sampled_from(["time", "number", "string"])),
                        "values": draw(st.lists(CELLS, min_size=rows, max_size=rows)),
                        "labels": draw(
                            st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=3))
                        ),
                    }
                    for n in names
                ],
            }
        )
    return out


OPTIONS = st.dictionaries(
    st.sampled_from(
        ["byField", "mode", "excludeByName", "indexByName", "renameByName", "include", "reducers",
         "sort", "limitField", "binary", "reduce", "alias", "labelsToFields", "valueLabel"]
    ),
    st.one_of(
        NAMES,
        st.integers(-2, 5),
        st.booleans(),
        st.lists(st.one_of(NAMES, st.sampled_from(["mean", "max", "Last *"])), max_size=3),
        st.dictionaries(NAMES, st.one_of(st.booleans(), st.integers(0, 3), NAMES), max_size=3),
        st.fixed_dictionaries({"field": NAMES, "desc": st.booleans()}).map(lambda d: [d]),
        st.fixed_dictionaries(
            {"left": NAMES, "operator": st.sampled_from(["+", "/", "?"]), "right": NAMES}
        ),
        st.fixed_dictionaries(
            {"names": st.lists(NAMES, max_size=2), "pattern": st.sampled_from(["", "Val", "("])}
        ),
    ),
    max_size=4,
)  # fmt: skip
TRANSFORMATIONS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.sampled_from(
                ["merge", "seriesToColumns", "joinByField", "organize", "filterFieldsByName",
                 "reduce", "labelsToFields", "sortBy", "limit", "calculateField", "nope"]
            ),
            "options": OPTIONS,
        }
    ),
    max_size=4,
)  # fmt: skip


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(frames(), TRANSFORMATIONS), min_size=1, max_size=25))
def test_any_transformations_on_any_frames_give_frames_of_even_columns(
    node: str, cases: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]
) -> None:
    got = js(node, *[("transforms", "applyTransformations", [f, t]) for f, t in cases])
    for (_, chain), result in zip(cases, got, strict=True):
        assert isinstance(result["messages"], list)
        skipped = sum(1 for t in chain if t["id"] == "nope")
        assert len(result["messages"]) >= skipped
        for frame in result["frames"]:
            lengths = {len(f["values"]) for f in frame["fields"]}
            assert len(lengths) <= 1, (chain, frame)
            assert all(isinstance(f["name"], str) for f in frame["fields"])


MAPPINGS = [
    {"type": "special", "options": {"match": "null+nan", "result": {"text": "N/A"}}},
    {"type": "value", "options": {"1": {"text": "UP", "color": "green"}}},
    {"type": "range", "options": {"from": 500, "to": None, "result": {"color": "red"}}},
    {"type": "regex", "options": {"pattern": "/^host-(\\d+)$/", "result": {"text": "node $1"}}},
    {"type": 1, "value": "2", "text": "two (Grafana 7)"},
    {"type": 2, "from": "10", "to": "20", "text": "teens (Grafana 7)"},
]


def test_value_mappings_first_match_wins_in_every_shape(node: str) -> None:
    got = js(
        node,
        *(
            ("mappings", "mapValue", [value, MAPPINGS])
            for value in (None, 1, 1.5, 503, "host-7", 2, 15, 7, "x")
        ),
        ("mappings", "mapValue", [1, "not a list"]),
    )
    assert got == [
        {"text": "N/A"},
        {"text": "UP", "color": "green"},
        None,
        {"color": "red"},
        {"text": "node 7"},
        {"text": "two (Grafana 7)"},
        {"text": "teens (Grafana 7)"},
        None,
        None,
        None,
    ]


# JSON carries no NaN or infinity to Node, so they are left out here.
@given(
    st.one_of(
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(),
        st.text(max_size=8),
    )
)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_value_mappings_never_throw(node: str, value: object) -> None:
    [got] = js(node, ("mappings", "mapValue", [value, MAPPINGS]))
    assert got is None or set(got) <= {"text", "color"}
