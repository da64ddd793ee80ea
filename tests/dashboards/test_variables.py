"""Template variables resolved as Grafana resolves them: options from Prometheus queries,
custom lists and intervals, regex capture, sort, chaining, URL values, All and multi-value."""

from __future__ import annotations

from typing import Any

import pytest
from tests.dashboards.fakes import SERIES, FakeSource

from spyglass.dashboards import (
    ALL_VALUE,
    Option,
    TimeContext,
    apply_regex,
    custom_options,
    interpolate,
    query_texts,
    resolve_variables,
    sort_options,
)

TIME = TimeContext(1_000_000, 4_600_000)


def resolve(var: dict[str, Any], url: dict[str, list[str]] | None = None, source: Any = None):
    return resolve_variables([var], url or {}, source or FakeSource(SERIES), TIME)[0]


def test_label_values_of_a_label() -> None:
    v = resolve({"name": "job", "type": "query", "query": "label_values(job)"})
    assert [o.value for o in v.options] == ["api", "node", "web"]
    assert v.selected == ("api",)


def test_label_values_of_a_metric_with_matchers() -> None:
    q = 'label_values(http_requests_total{job="api"}, route)'
    v = resolve({"name": "r", "type": "query", "query": q})
    assert [o.value for o in v.options] == ["/orders", "/users"]


def test_query_object_of_grafana_nine_is_read() -> None:
    v = resolve({"name": "j", "type": "query", "query": {"query": "label_values(up, job)"}})
    assert [o.value for o in v.options] == ["api", "web"]


def test_the_dashboard_time_range_is_passed_to_queries() -> None:
    source = FakeSource(SERIES)
    resolve({"name": "j", "type": "query", "query": "label_values(up, job)"}, source=source)
    assert source.calls == [("label_values", "job", "up", "1000000", "4600000")]


def test_metrics_with_a_regex() -> None:
    v = resolve({"name": "m", "type": "query", "query": "metrics(^http_.*)"})
    assert [o.value for o in v.options] == ["http_requests_total"]


def test_label_names() -> None:
    v = resolve({"name": "l", "type": "query", "query": "label_names(up)"})
    assert [o.value for o in v.options] == ["__name__", "instance", "job"]


def test_query_result_lines_as_grafana_writes_them_and_regex_capture() -> None:
    source = FakeSource(SERIES, {"up": 1.0})
    var = {
        "name": "inst",
        "type": "query",
        "query": 'query_result(up{job="api"})',
        "regex": '/instance="([^"]+)"/',
    }
    texts = query_texts('query_result(up{job="api"})', source, 0, 5)
    # metric{labels in the order the API gave them} value time_ms, as Grafana writes them.
    assert texts == ['up{job="api",instance="a:1"} 1 5']
    v = resolve(var, source=source)
    assert [o.value for o in v.options] == ["a:1"]


def test_unsupported_query_is_an_error_on_the_variable_only() -> None:
    vs = resolve_variables(
        [
            {"name": "bad", "type": "query", "query": "up"},
            {"name": "ok", "type": "custom", "query": "a,b"},
        ],
        {},
        FakeSource(SERIES),
        TIME,
    )
    assert "unsupported variable query" in vs[0].error
    assert vs[0].options == ()
    assert [o.value for o in vs[1].options] == ["a", "b"]


def test_a_failing_source_is_reported_not_raised() -> None:
    class Broken(FakeSource):
        def label_values(self, *args: Any) -> list[str]:
            raise RuntimeError("storage is down")

    v = resolve({"name": "j", "type": "query", "query": "label_values(job)"}, source=Broken([]))
    assert "storage is down" in v.error


def test_regex_named_groups_text_and_value() -> None:
    opts = apply_regex("/(?<text>[a-z]+):(?<value>\\d+)/", ["api:1", "web:2", "x"])
    assert opts == [Option("api", "1"), Option("web", "2")]


def test_regex_flags_and_filter() -> None:
    assert [o.value for o in apply_regex("/API/i", ["api", "web"])] == ["api"]


def test_regex_that_re2_refuses_is_an_error() -> None:
    v = resolve({"name": "j", "type": "query", "query": "label_values(job)", "regex": "/(a/"})
    assert "invalid regex" in v.error


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (0, ["b10", "a2", "B1"]),
        (1, ["B1", "a2", "b10"]),
        (2, ["b10", "a2", "B1"]),
        (3, ["B1", "a2", "b10"]),
        (4, ["b10", "a2", "B1"]),
        (5, ["a2", "B1", "b10"]),
        (6, ["b10", "B1", "a2"]),
    ],
)
def test_sort(sort: int, expected: list[str]) -> None:
    opts = [Option(t, t) for t in ["b10", "a2", "B1"]]
    assert [o.text for o in sort_options(opts, sort)] == expected


def test_custom_options_with_pairs_and_escaped_commas() -> None:
    assert custom_options("a, b ,c\\,d, Prod : production") == [
        Option("a", "a"),
        Option("b", "b"),
        Option("c,d", "c,d"),
        Option("Prod", "production"),
    ]


def test_url_values_win_and_may_name_an_option_by_text() -> None:
    var = {"name": "env", "type": "custom", "query": "Prod : production, Dev : development"}
    assert resolve(var, {"env": ["development"]}).selected == ("development",)
    assert resolve(var, {"env": ["Dev"]}).selected == ("development",)


def test_saved_current_used_and_stale_falls_back_to_first() -> None:
    var = {"name": "x", "type": "custom", "query": "a,b,c", "current": {"value": "b"}}
    assert resolve(var).selected == ("b",)
    var["current"] = {"value": "gone"}
    assert resolve(var).selected == ("a",)


def test_multi_value_and_all() -> None:
    var = {
        "name": "job",
        "type": "query",
        "query": "label_values(up, job)",
        "multi": True,
        "includeAll": True,
    }
    v = resolve(var, {"job": ["api", "web"]})
    assert v.options[0] == Option("All", ALL_VALUE)
    assert v.selected == ("api", "web")
    assert interpolate("$job", {"job": v.value}) == "(api|web)"
    all_ = resolve(var, {"job": [ALL_VALUE]})
    assert all_.selected == (ALL_VALUE,)
    assert interpolate("$job", {"job": all_.value}) == "(api|web)"


def test_all_value_goes_in_raw() -> None:
    var = {
        "name": "job",
        "type": "custom",
        "query": "a.b,c",
        "includeAll": True,
        "allValue": ".*",
        "current": {"value": ["$__all"]},
    }
    v = resolve(var)
    assert interpolate('x{job=~"$job"}', {"job": v.value}) == 'x{job=~".*"}'


def test_single_value_variable_keeps_only_the_first_url_value() -> None:
    var = {"name": "x", "type": "custom", "query": "a,b"}
    assert resolve(var, {"x": ["b", "a"]}).selected == ("b",)


def test_chained_variables_use_the_ones_before() -> None:
    source = FakeSource(SERIES)
    vs = resolve_variables(
        [
            {"name": "job", "type": "query", "query": "label_values(up, job)"},
            {
                "name": "route",
                "type": "query",
                "query": 'label_values(http_requests_total{job="$job"}, route)',
            },
        ],
        {"job": ["api"]},
        source,
        TIME,
    )
    assert [o.value for o in vs[1].options] == ["/orders", "/users"]


def test_interval_with_auto() -> None:
    var = {"name": "i", "type": "interval", "query": "1m,10m", "auto": True, "auto_count": 10}
    v = resolve(var)
    # One hour / 10 = 6 min, rounded by Grafana's table to 5m.
    assert v.options[0] == Option("auto", "5m")
    assert [o.value for o in v.options[1:]] == ["1m", "10m"]


def test_constant_is_hidden_and_textbox_takes_the_url() -> None:
    c = resolve({"name": "c", "type": "constant", "query": "prod"})
    assert c.hide == 2
    assert c.selected == ("prod",)
    t = resolve({"name": "t", "type": "textbox", "query": "default"}, {"t": ["typed"]})
    assert t.selected == ("typed",)
    assert resolve({"name": "t", "type": "textbox", "query": "default"}).selected == ("default",)


def test_as_json_for_the_page() -> None:
    v = resolve({"name": "x", "type": "custom", "query": "a,b", "label": "X", "multi": True})
    assert v.as_json() == {
        "name": "x",
        "label": "X",
        "type": "custom",
        "hide": 0,
        "multi": True,
        "includeAll": False,
        "options": [{"text": "a", "value": "a"}, {"text": "b", "value": "b"}],
        "current": ["a"],
        "error": "",
    }
