"""The view a dashboard page draws: sections at rows (collapsed rows hold their panels),
repeats laid out as Grafana lays them, queries interpolated, what cannot be drawn said so."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.dashboards.fakes import SERIES, FakeSource

from spyglass.dashboards import DashboardError, dashboard_view, validate_dashboard

HOUR_MS = 3_600_000


def view(dash: dict[str, Any], url: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return dashboard_view(
        {"title": "T", "uid": "t", **dash},
        start_ms=0,
        end_ms=HOUR_MS,
        url_values=url or {},
        source=FakeSource(SERIES),
    )


def panel(pid: int, x: int, y: int, w: int = 12, h: int = 8, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "type": "timeseries",
        "title": f"p{pid}",
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        **extra,
    }


def test_rows_split_sections_and_collapsed_rows_hold_their_panels() -> None:
    v = view(
        {
            "panels": [
                panel(1, 0, 0),
                {"type": "row", "title": "Open", "collapsed": False, "gridPos": {"y": 8}},
                panel(2, 0, 9),
                {
                    "type": "row",
                    "title": "Closed",
                    "collapsed": True,
                    "gridPos": {"y": 17},
                    "panels": [panel(3, 12, 18)],
                },
            ]
        }
    )
    assert [s["row"] for s in v["sections"]] == [
        None,
        {"title": "Open", "collapsed": False},
        {"title": "Closed", "collapsed": True},
    ]
    assert [[p["title"] for p in s["panels"]] for s in v["sections"]] == [["p1"], ["p2"], ["p3"]]
    # Positions are relative to their section.
    assert v["sections"][2]["panels"][0]["gridPos"] == {"x": 12, "y": 0, "w": 12, "h": 8}


def test_repeat_horizontal_one_panel_per_value_and_panels_below_pushed() -> None:
    dash = {
        "templating": {
            "list": [{"name": "job", "type": "custom", "query": "a,b,c,d,e", "multi": True}]
        },
        "panels": [
            panel(
                1,
                0,
                0,
                w=8,
                h=4,
                repeat="job",
                repeatDirection="h",
                title="Job $job",
                targets=[{"expr": 'up{job="$job"}'}],
            ),
            panel(2, 0, 4),
        ],
    }
    v = view(dash, {"job": ["a", "b", "c", "d", "e"]})
    panels = v["sections"][0]["panels"]
    repeated = [p for p in panels if p["title"].startswith("Job")]
    assert [p["title"] for p in repeated] == ["Job a", "Job b", "Job c", "Job d", "Job e"]
    assert [p["targets"][0]["expr"] for p in repeated][:2] == ['up{job="a"}', 'up{job="b"}']
    # Five values, four per row (maxPerRow default): width 6, then a second line.
    assert [(p["gridPos"]["x"], p["gridPos"]["y"], p["gridPos"]["w"]) for p in repeated] == [
        (0, 0, 6),
        (6, 0, 6),
        (12, 0, 6),
        (18, 0, 6),
        (0, 4, 6),
    ]
    below = next(p for p in panels if p["title"] == "p2")
    assert below["gridPos"]["y"] == 8


def test_repeat_vertical_stacks() -> None:
    dash = {
        "templating": {"list": [{"name": "j", "type": "custom", "query": "a,b", "multi": True}]},
        "panels": [panel(1, 0, 0, h=5, repeat="j", repeatDirection="v")],
    }
    v = view(dash, {"j": ["a", "b"]})
    assert [p["gridPos"]["y"] for p in v["sections"][0]["panels"]] == [0, 5]


def test_repeat_by_a_single_value_is_one_panel_with_that_value() -> None:
    dash = {
        "templating": {"list": [{"name": "j", "type": "custom", "query": "a,b"}]},
        "panels": [panel(1, 0, 0, repeat="j", title="$j")],
    }
    assert [p["title"] for p in view(dash)["sections"][0]["panels"]] == ["a"]


def test_unsupported_panel_type_and_data_source_say_so() -> None:
    v = view(
        {
            "panels": [
                {"type": "piechart", "title": "Pie", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4}},
                panel(
                    2,
                    6,
                    0,
                    targets=[{"refId": "A", "expr": '{app="x"}', "datasource": {"type": "loki"}}],
                ),
            ]
        }
    )
    pie, logs = v["sections"][0]["panels"]
    assert pie["messages"] == ["Panel type piechart is not supported by Spyglass"]
    assert logs["messages"] == ["query A: data source type 'loki' is not supported"]
    assert logs["targets"] == []


def test_transformations_pass_to_the_page_and_library_panels_say_they_are_not_supported() -> None:
    v = view(
        {
            "panels": [
                panel(1, 0, 0, transformations=[{"id": "merge"}], targets=[{"expr": "up"}]),
                {"libraryPanel": {"uid": "x", "name": "shared"}, "gridPos": {"x": 12, "y": 0}},
            ]
        }
    )
    merged, library = v["sections"][0]["panels"]
    assert merged["messages"] == []
    assert merged["transformations"] == [{"id": "merge"}]
    assert len(merged["targets"]) == 1
    assert library["messages"] == ["Library panels are not supported by Spyglass"]


def test_targets_hidden_or_empty_are_left_out_and_table_format_is_instant() -> None:
    v = view(
        {
            "panels": [
                panel(
                    1,
                    0,
                    0,
                    type="table",
                    targets=[
                        {"refId": "A", "expr": "up", "format": "table"},
                        {"refId": "B", "expr": "up", "hide": True},
                        {"refId": "C", "expr": " "},
                    ],
                )
            ]
        }
    )
    (target,) = v["sections"][0]["panels"][0]["targets"]
    assert target["refId"] == "A"
    assert target["instant"] is True


def test_panel_interval_and_max_data_points_set_the_step() -> None:
    v = view(
        {
            "panels": [
                panel(
                    1,
                    0,
                    0,
                    interval="1m",
                    maxDataPoints=100,
                    targets=[{"expr": "rate(x[$__interval])"}],
                )
            ]
        }
    )
    (t,) = v["sections"][0]["panels"][0]["targets"]
    assert t["expr"] == "rate(x[1m])"
    assert t["step"] == 60


def test_text_panel_content_is_interpolated_as_text() -> None:
    dash = {
        "templating": {"list": [{"name": "e", "type": "constant", "query": "<b>prod</b>"}]},
        "panels": [{"type": "text", "options": {"mode": "markdown", "content": "# Env $e"}}],
    }
    (p,) = view(dash)["sections"][0]["panels"]
    assert p["text"] == {"content": "# Env <b>prod</b>", "mode": "markdown"}


def test_old_panels_are_drawn_as_the_panels_grafana_migrates_them_to() -> None:
    v = view(
        {"panels": [panel(1, 0, 0, type="singlestat"), panel(2, 12, 0, type="graph", stack=True)]}
    )
    stat, graph = v["sections"][0]["panels"]
    assert stat["type"] == "stat"
    assert graph["type"] == "timeseries"
    assert graph["fieldConfig"]["defaults"]["custom"]["stacking"] == {"mode": "normal"}


def test_dashboard_without_panels() -> None:
    assert view({})["sections"] == []


def test_panels_float_up_and_never_overlap() -> None:
    v = view(
        {
            "panels": [
                panel(1, 0, 0, h=6),
                {"type": "text", "title": "no grid"},  # Grafana's default: 0, 0, 12 x 8
                panel(3, 12, 30, h=4),
                panel(4, 0, 40, w=24, h=2),
            ]
        }
    )
    got = {p["title"]: p["gridPos"] for p in v["sections"][0]["panels"]}
    assert got["p1"] == {"x": 0, "y": 0, "w": 12, "h": 6}
    assert got["no grid"] == {"x": 0, "y": 6, "w": 12, "h": 8}
    assert got["p3"] == {"x": 12, "y": 0, "w": 12, "h": 4}
    assert got["p4"] == {"x": 0, "y": 14, "w": 24, "h": 2}


# Two levels of JSON: scalars, and lists and objects of them (st.recursive warns, now and then,
# that an extension never drew from its base).
_scalars = st.none() | st.booleans() | st.integers(-5, 40) | st.floats() | st.text(max_size=6)
_containers = st.lists(_scalars, max_size=3) | st.dictionaries(
    st.text(max_size=6), _scalars, max_size=3
)
json_values = _scalars | _containers | st.lists(_containers, max_size=2)
panel_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["timeseries", "stat", "row", "text", "graph", "x"]) | json_values,
        "title": json_values,
        "gridPos": st.fixed_dictionaries({}, optional={k: st.integers(-3, 40) for k in "xywh"}),
        "targets": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "expr": st.text(max_size=20) | json_values,
                    "interval": st.sampled_from(["", "1m", "bad", "$v"]) | json_values,
                    "format": json_values,
                    "instant": json_values,
                    "datasource": json_values,
                },
            ),
            max_size=3,
        )
        | json_values,
        "repeat": st.sampled_from(["v", "nope"]) | json_values,
        "repeatDirection": json_values,
        "maxPerRow": json_values,
        "maxDataPoints": json_values,
        "interval": json_values,
        "panels": json_values,
        "collapsed": json_values,
        "options": json_values,
        "fieldConfig": json_values,
    },
)
variable_like = st.fixed_dictionaries(
    {"name": st.sampled_from(["v", "w"])},
    optional={
        "type": st.sampled_from(["query", "custom", "interval", "textbox", "constant"])
        | json_values,
        "query": st.sampled_from(["a,b", "label_values(job)", "metrics(.*)", "x("]) | json_values,
        "regex": st.sampled_from(["/(.*)/", "/[/", ""]) | json_values,
        "multi": json_values,
        "includeAll": json_values,
        "allValue": json_values,
        "current": json_values,
        "sort": json_values,
        "auto": json_values,
        "auto_count": json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(panel_like, max_size=5), st.lists(variable_like, max_size=3))
def test_any_valid_dashboard_gives_a_view(panels: list[Any], variables: list[Any]) -> None:
    dash = {"title": "t", "panels": panels, "templating": {"list": variables}}
    try:
        validate_dashboard(dash)
    except DashboardError:
        return
    out = view(dash, {"v": ["a", "b"]})
    json.dumps(out)  # JSON-ready


def test_a_repeated_row_is_drawn_once_per_value_with_the_variable_set_inside() -> None:
    v = view(
        {
            "templating": {
                "list": [
                    {
                        "name": "instance",
                        "type": "custom",
                        "query": "a,b,c",
                        "multi": True,
                        "current": {"value": ["a", "c"]},
                    }
                ]
            },
            "panels": [
                {
                    "type": "row",
                    "title": "Host $instance",
                    "repeat": "instance",
                    "gridPos": {"y": 0},
                },
                panel(2, 0, 1, title="CPU $instance", targets=[{"expr": 'up{i="$instance"}'}]),
                {"type": "row", "title": "After", "gridPos": {"y": 9}},
                panel(3, 0, 10),
            ],
        }
    )
    assert [s["row"]["title"] for s in v["sections"]] == ["Host a", "Host c", "After"]
    inner = [s["panels"][0] for s in v["sections"][:2]]
    assert [p["title"] for p in inner] == ["CPU a", "CPU c"]
    assert [p["targets"][0]["expr"] for p in inner] == ['up{i="a"}', 'up{i="c"}']
    keys = [p["key"] for s in v["sections"] for p in s["panels"]]
    assert len(set(keys)) == len(keys)


def test_old_rows_layout_draws_its_panels() -> None:
    v = view(
        {
            "schemaVersion": 14,
            "rows": [
                {
                    "title": "Overview",
                    "showTitle": True,
                    "height": "250px",
                    "panels": [
                        {"id": 1, "type": "singlestat", "span": 3, "title": "Up"},
                        {"id": 2, "type": "graph", "span": 9, "title": "Load"},
                    ],
                }
            ],
        }
    )
    (section,) = v["sections"]
    assert section["row"] == {"title": "Overview", "collapsed": False}
    assert [(p["title"], p["type"], p["gridPos"]) for p in section["panels"]] == [
        ("Up", "stat", {"x": 0, "y": 0, "w": 6, "h": 7}),
        ("Load", "timeseries", {"x": 6, "y": 0, "w": 18, "h": 7}),
    ]


def test_annotations_and_links_come_ready_to_draw() -> None:
    v = view(
        {
            "templating": {"list": [{"name": "job", "type": "constant", "query": "node"}]},
            "annotations": {
                "list": [
                    {"builtIn": 1, "datasource": "-- Grafana --", "name": "Annotations & Alerts"},
                    {
                        "name": "Reboots",
                        "datasource": {"type": "prometheus", "uid": "x"},
                        "expr": 'changes(boot{job="$job"}[$__interval]) > 0',
                        "step": "2m",
                        "titleFormat": "Reboot {{instance}}",
                        "tagKeys": "instance, job",
                        "iconColor": "red",
                        "enable": True,
                    },
                    {"name": "Logs", "datasource": {"type": "loki"}, "expr": "{a=1}"},
                ]
            },
            "links": [{"type": "link", "title": "Home", "url": "/d/home"}],
        }
    )
    reboots, logs = v["annotations"]
    assert reboots["expr"] == 'changes(boot{job="node"}[2m]) > 0'
    assert reboots["step"] == 120
    assert reboots["tagKeys"] == ["instance", "job"]
    assert reboots["enable"] is True
    assert reboots["error"] == ""
    assert logs["error"] == "annotations from data source type 'loki' are not supported"
    assert v["links"][0]["url"] == "/d/home"


def test_every_form_of_datasource_reference_resolves_to_spyglass() -> None:
    forms: list[Any] = [
        "Prometheus",
        "${DS_PROMETHEUS}",
        None,
        {"type": "prometheus", "uid": "abc"},
        {"type": "datasource", "uid": "-- Mixed --"},
        "-- Mixed --",
    ]
    v = view(
        {
            "panels": [
                panel(i, 0, i * 8, datasource=ds, targets=[{"refId": "A", "expr": "up"}])
                for i, ds in enumerate(forms)
            ]
            + [
                panel(
                    9,
                    0,
                    60,
                    datasource="-- Mixed --",
                    targets=[
                        {"refId": "A", "expr": "up", "datasource": {"type": "prometheus"}},
                        {"refId": "B", "expr": "{a=1}", "datasource": {"type": "loki"}},
                    ],
                )
            ]
        }
    )
    panels = v["sections"][0]["panels"]
    assert [len(p["targets"]) for p in panels] == [1] * len(forms) + [1]
    assert [p["messages"] for p in panels[: len(forms)]] == [[]] * len(forms)
    assert panels[-1]["messages"] == ["query B: data source type 'loki' is not supported"]
