"""Old graph and singlestat panels described as the timeseries and stat panels Grafana migrates
them to: legend tables and calcs, stacking (100 % too), bars, negative-Y overrides, units,
thresholds and gauges."""

from __future__ import annotations

from spyglass.dashboards._legacy import graph_options, singlestat_options


def test_graph_legend_table_with_values_sorted_by_one() -> None:
    options, _ = graph_options(
        {
            "legend": {
                "show": True,
                "alignAsTable": True,
                "rightSide": True,
                "values": True,
                "avg": True,
                "max": True,
                "current": True,
                "total": False,
                "sort": "avg",
                "sortDesc": True,
            }
        }
    )
    assert options["legend"] == {
        "showLegend": True,
        "displayMode": "table",
        "placement": "right",
        "calcs": ["max", "mean", "lastNotNull"],
        "sortBy": "mean",
        "sortDesc": True,
    }


def test_graph_legend_hidden_and_values_off() -> None:
    options, _ = graph_options({"legend": {"show": False, "values": False, "max": True}})
    assert options["legend"]["showLegend"] is False
    assert options["legend"]["calcs"] == []


def test_graph_percent_stack_bars_axis_and_negative_y_override() -> None:
    _, fc = graph_options(
        {
            "stack": True,
            "percentage": True,
            "bars": True,
            "lines": False,
            "linewidth": 2,
            "fill": 3,
            "yaxes": [{"format": "bytes", "min": "0", "max": None, "show": False}, {}],
            "seriesOverrides": [
                {"alias": "/.*transmit.*/", "transform": "negative-Y"},
                {"alias": "errors", "color": "#E24D42", "stack": False},
                {"alias": 3},
            ],
            "aliasColors": {"ok": "green"},
        }
    )
    d = fc["defaults"]
    assert d["unit"] == "bytes"
    assert d["min"] == 0
    assert "max" not in d
    assert d["custom"] == {
        "stacking": {"mode": "percent"},
        "drawStyle": "bars",
        "lineWidth": 2,
        "fillOpacity": 30,
        "axisPlacement": "hidden",
    }
    assert fc["overrides"] == [
        {
            "matcher": {"id": "byRegexp", "options": ".*transmit.*"},
            "properties": [{"id": "custom.transform", "value": "negative-Y"}],
        },
        {
            "matcher": {"id": "byName", "options": "errors"},
            "properties": [
                {"id": "color", "value": {"mode": "fixed", "fixedColor": "#E24D42"}},
                {"id": "custom.stacking", "value": {"mode": "none"}},
            ],
        },
        {
            "matcher": {"id": "byName", "options": "ok"},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "green"}}],
        },
    ]


def test_a_graph_s_own_new_options_win() -> None:
    options, fc = graph_options(
        {
            "legend": {"alignAsTable": True},
            "options": {"legend": {"displayMode": "list"}},
            "fieldConfig": {"defaults": {"unit": "s"}},
            "yaxes": [{"format": "bytes"}],
        }
    )
    assert options["legend"]["displayMode"] == "list"
    assert fc["defaults"]["unit"] == "s"


def test_singlestat_becomes_a_stat_with_thresholds_and_sparkline() -> None:
    kind, options, fc = singlestat_options(
        {
            "valueName": "current",
            "format": "percent",
            "decimals": 1,
            "thresholds": "80,90",
            "colors": ["#299c46", "rgba(237, 129, 40, 0.89)", "#d44a3a"],
            "colorBackground": True,
            "sparkline": {"show": True},
        }
    )
    assert kind == "stat"
    assert options["reduceOptions"]["calcs"] == ["lastNotNull"]
    assert options["colorMode"] == "background"
    assert options["graphMode"] == "area"
    assert fc["defaults"]["unit"] == "percent"
    assert fc["defaults"]["decimals"] == 1
    assert fc["defaults"]["thresholds"]["steps"] == [
        {"value": None, "color": "#299c46"},
        {"value": 80, "color": "rgba(237, 129, 40, 0.89)"},
        {"value": 90, "color": "#d44a3a"},
    ]


def test_singlestat_with_its_gauge_shown_is_a_gauge() -> None:
    kind, options, fc = singlestat_options(
        {"gauge": {"show": True, "minValue": 0, "maxValue": 200}, "valueName": "avg"}
    )
    assert kind == "gauge"
    assert options["reduceOptions"]["calcs"] == ["mean"]
    assert (fc["defaults"]["min"], fc["defaults"]["max"]) == (0, 200)


def test_singlestat_value_and_range_maps_become_value_mappings() -> None:
    """Grafana migrates a singlestat's valueMaps and rangeMaps to value mappings; a ``null``
    value becomes a special mapping, and a range with neither end is dropped."""
    _, _, fc = singlestat_options(
        {
            "type": "singlestat",
            "valueMaps": [
                {"value": "null", "op": "=", "text": "N/A"},
                {"value": "1", "op": "=", "text": "UP"},
            ],
            "rangeMaps": [
                {"from": "null", "to": "null", "text": "N/A"},
                {"from": "0", "to": "9", "text": "low"},
            ],
        }
    )
    assert fc["defaults"]["mappings"] == [
        {"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}},
        {"type": "value", "options": {"1": {"text": "UP"}}},
        {"type": "range", "options": {"from": 0.0, "to": 9.0, "result": {"text": "low"}}},
    ]
