"""The service map's pure modules run in Node: ``graphlayout.js`` puts callers left of callees by
longest path, breaks cycles, keeps boxes apart and gives the same picture whatever order the
graph comes in; ``servicegraph.js`` turns Jaeger's dependency list and the span-metric answers
into the figures the map shows, and writes service names into PromQL safely."""

from __future__ import annotations

import json
import subprocess
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.traces import parse_logfmt

SRC = REPO / "frontend" / "src"
# Each line of stdin is one JSON call [function, ...args]; stdout their JSON results.
RUN = """
import * as layout from %s;
import * as graph from %s;
const fns = { ...layout, ...graph };
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([name, ...args]) => fns[name](...args) ?? null);
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def call_js(node: str, calls: list[list[Any]]) -> list[Any]:
    script = RUN % (
        json.dumps((SRC / "graphlayout.js").as_uri()),
        json.dumps((SRC / "servicegraph.js").as_uri()),
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(calls), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: list[Any] = json.loads(out.stdout)
    return result


def edges(*pairs: str) -> list[dict[str, str]]:
    return [{"source": p.split(">")[0], "target": p.split(">")[1]} for p in pairs]


def layers(result: dict[str, Any]) -> dict[str, int]:
    return {n["id"]: n["layer"] for n in result["nodes"]}


def test_callers_sit_left_of_callees_by_longest_path(node: str) -> None:
    [result] = call_js(node, [["layout", [], edges("web>api", "api>db", "web>db", "web>auth")]])
    # db is two calls from web through api, so it is in layer 2 although web calls it directly.
    assert layers(result) == {"api": 1, "auth": 1, "db": 2, "web": 0}
    xs = {n["id"]: n["x"] for n in result["nodes"]}
    assert xs["web"] < xs["api"] < xs["db"]
    assert not any(e["reversed"] for e in result["edges"])


def test_a_cycle_is_cut_at_the_call_back_into_it(node: str) -> None:
    calls = edges("gateway>orders", "orders>billing", "billing>orders", "billing>billing")
    [result] = call_js(node, [["layout", ["lonely"], calls]])
    assert layers(result) == {"billing": 2, "gateway": 0, "lonely": 0, "orders": 1}
    reversed_ = [(e["source"], e["target"]) for e in result["edges"] if e["reversed"]]
    assert reversed_ == [("billing", "orders")]
    # Entered from two sides, a cycle is cut at the call back to the service nearest an entry
    # point (m, one call from b-root), however deep a walk from a-root would first meet it.
    calls = edges("a-root>p", "p>q", "q>back", "back>m", "m>back", "b-root>m")
    [two] = call_js(node, [["layout", [], calls]])
    assert [(e["source"], e["target"]) for e in two["edges"] if e["reversed"]] == [("back", "m")]
    assert layers(two) == {"a-root": 0, "b-root": 0, "back": 3, "m": 1, "p": 1, "q": 2}
    # A cycle with no entry point at all still gets layers (cut at the first name's in-call).
    [ring] = call_js(node, [["layout", [], edges("a>b", "b>c", "c>a")]])
    assert layers(ring) == {"a": 0, "b": 1, "c": 2}


def test_edge_paths_run_forward_or_loop_under_the_boxes(node: str) -> None:
    [result] = call_js(node, [["layout", [], edges("a>b", "b>a")]])
    a, b = result["nodes"]
    forward, back, self_loop = call_js(
        node, [["edgePath", a, b], ["edgePath", b, a], ["edgePath", a, a]]
    )
    assert forward["d"].startswith(f"M{a['x'] + 220},")  # out of a's right side
    assert forward["d"].endswith(f"{b['x']},{b['y'] + 29}")  # into b's left side, centred
    # Back from b to a: leaves b's bottom and enters a's bottom, below both boxes.
    assert back["d"].startswith(f"M{b['x'] + 110 + 12},{b['y'] + 58} ")
    assert back["labelY"] > max(a["y"], b["y"]) + 58
    assert self_loop["labelY"] < a["y"]


graphs = st.lists(
    st.tuples(st.sampled_from("abcdefghijklmnop"), st.sampled_from("abcdefghijklmnop")),
    max_size=40,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=graphs, extra=st.lists(st.sampled_from("pqrstu"), max_size=3), seed=st.randoms())
def test_any_graph_gets_a_deterministic_layout_without_overlaps(
    node: str, pairs: list[tuple[str, str]], extra: list[str], seed: Any
) -> None:
    given_edges = [{"source": s, "target": t} for s, t in pairs]
    shuffled = list(given_edges)
    seed.shuffle(shuffled)
    nodes = sorted(set(extra))
    first, second = call_js(
        node, [["layout", nodes, given_edges], ["layout", list(reversed(nodes)), shuffled]]
    )
    assert first == second  # the order things came in changes nothing
    placed = {n["id"]: n for n in first["nodes"]}
    assert set(placed) == {*nodes, *(s for s, _ in pairs), *(t for _, t in pairs)}
    for e in first["edges"]:
        source, target = placed[e["source"]], placed[e["target"]]
        if e["source"] == e["target"]:
            continue
        if e["reversed"]:
            assert target["layer"] < source["layer"]
        else:
            assert source["layer"] < target["layer"]
    # Each box inside the picture, no two sharing a spot.
    spots = {(n["x"], n["y"]) for n in first["nodes"]}
    assert len(spots) == len(first["nodes"])
    for n in first["nodes"]:
        assert n["x"] >= 0
        assert n["y"] >= 0
        assert n["x"] + 220 <= first["width"]
        assert n["y"] + 58 <= first["height"]
    # Layers are longest paths: every non-root sits right after its furthest caller.
    for n in first["nodes"]:
        drawn = [
            (e["target"], e["source"]) if e["reversed"] else (e["source"], e["target"])
            for e in first["edges"]
            if e["source"] != e["target"]
        ]
        callers = [placed[s]["layer"] for s, t in drawn if t == n["id"]]
        assert n["layer"] == (max(callers) + 1 if callers else 0)


def sample(value: float, **labels: str) -> dict[str, Any]:
    return {"metric": labels, "value": [0, str(value)]}


def test_dependencies_and_span_metrics_become_the_maps_figures(node: str) -> None:
    deps = [
        {"parent": "web", "child": "api", "callCount": 120},
        {"parent": "api", "child": "db", "callCount": 60},
    ]
    metrics = {
        "requests": [sample(2.0, service="web"), sample(1.0, service="api")],
        "errors": [sample(0.1, service="api")],
        "p95": [sample(0.25, service="web"), sample("NaN", service="api")],  # type: ignore[arg-type]
        "edgeErrors": [sample(0.05, client="web", server="api")],
    }
    [graph] = call_js(node, [["buildGraph", deps, metrics, 60]])
    assert graph["calls"] == [
        {"source": "api", "target": "db", "count": 60, "rate": 1, "errorShare": None},
        {"source": "web", "target": "api", "count": 120, "rate": 2, "errorShare": 0.05},
    ]
    assert graph["services"] == [
        {"name": "api", "rate": 1, "errorShare": 0.1, "p95": None, "source": "spans"},
        # db sends no spans (a peer.service): only the calls into it are known.
        {"name": "db", "rate": 1, "errorShare": None, "p95": None, "source": "calls"},
        {"name": "web", "rate": 2, "errorShare": 0, "p95": 0.25, "source": "spans"},
    ]
    # Span metrics off: every service's rate is the calls into it; a root has none.
    [off] = call_js(node, [["buildGraph", deps, None, 60]])
    assert [(s["name"], s["rate"], s["source"]) for s in off["services"]] == [
        ("api", 2, "calls"),
        ("db", 1, "calls"),
        ("web", None, "calls"),
    ]


def test_service_names_are_quoted_for_promql_and_figures_read_well(node: str) -> None:
    hostile = 'a"b\\c\n<script>'
    quoted, rate, slow, share, ms, s, unknown = call_js(
        node,
        [
            ["promString", hostile],
            ["formatRate", 12.345],
            ["formatRate", 0.05],
            ["formatShare", 0.0333333],
            ["formatSeconds", 0.0125],
            ["formatSeconds", 2.5],
            ["formatShare", None],
        ],
    )
    assert quoted == '"a\\"b\\\\c\\n<script>"'
    assert (rate, slow, share, ms, s) == ("12.3/s", "3/min", "3.33%", "12.5 ms", "2.5 s")
    assert unknown == "\N{EN DASH}"
    [queries] = call_js(node, [["mapQueries", 3600]])
    assert queries["requests"] == (
        'sum by (service) (rate(traces_spanmetrics_calls_total{span_kind=~"SPAN_KIND_SERVER|'
        'SPAN_KIND_CONSUMER"}[3600s]))'
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(st.text(max_size=12), min_size=1, max_size=15))
def test_a_callee_name_survives_the_trace_searchs_tags_box(node: str, names: list[str]) -> None:
    """``logfmtValue`` writes any name so that the trace search's logfmt reader
    (``parse_logfmt``, which ``/api/traces`` uses) reads that name back."""
    written = call_js(node, [["logfmtValue", n] for n in names])
    for name, value in zip(names, written, strict=True):
        assert parse_logfmt(f"peer.service={value}") == {"peer.service": name}


def test_an_arrow_searches_the_callee_or_the_callers_peer_service_spans(node: str) -> None:
    """A callee that sends spans is searched by its service; one known only from
    ``peer.service`` by the caller's spans with that tag; unknown senders count as sending."""
    hostile = 'my "db" <x>'
    own, peer, unknown = call_js(
        node,
        [
            ["callSearch", {"source": "web", "target": "api"}, "now-1h", "now", ["web", "api"]],
            ["callSearch", {"source": "api", "target": hostile}, "now-6h", "now", ["api"]],
            ["callSearch", {"source": "api", "target": "db"}, "1000", "2000", None],
        ],
    )
    assert own == "/traces?" + urlencode({"service": "api", "from": "now-1h", "to": "now"})
    assert urlsplit(peer).path == "/traces"
    assert parse_qs(urlsplit(peer).query) == {
        "service": ["api"],
        "tags": ['peer.service="my \\"db\\" <x>"'],
        "from": ["now-6h"],
        "to": ["now"],
    }
    assert parse_logfmt(parse_qs(urlsplit(peer).query)["tags"][0]) == {"peer.service": hostile}
    assert parse_qs(urlsplit(unknown).query)["service"] == ["db"]
