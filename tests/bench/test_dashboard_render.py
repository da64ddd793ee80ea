"""The dashboard benchmark keeps working: at a tiny size it starts Prometheus and Spyglass,
draws the 12-panel dashboard on Spyglass's dashboard page and the same queries on Prometheus'
graph page, cold and warm over 1 h and 6 h, with every panel drawn, and times every query on
both servers, which return the same number of series. Nothing here asserts on time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.dashboard_render import (
    PANELS,
    RANGES,
    URL_GRAPHS,
    PageLoad,
    Query,
    QueryTiming,
    Report,
    main,
    print_report,
)
from tests.support.required import need_prometheus, need_tool

pytestmark = pytest.mark.prometheus


def test_every_panel_draws_on_both_pages_and_every_query_is_timed_on_both_servers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    need_prometheus()
    need_tool("chromium", "install Debian's chromium package", also=("/usr/bin/chromium",))
    out = tmp_path / "report.json"
    args = ["--series", "300", "--hours", "1", "--rounds", "1", "--repeat", "1", "--json", str(out)]
    report = main(args)

    # More panels than Prometheus' classic page reads from its URL: the page script adds the rest.
    assert len(PANELS) == 12 > URL_GRAPHS
    loads = {(pl.server, pl.span, pl.load): (pl.drawn, pl.panels) for pl in report.loads}
    expected = {(k, s, c) for k in ("p", "s") for s in RANGES for c in ("cold", "warm")}
    assert set(loads) == expected
    assert set(loads.values()) == {(12, 12)}
    assert all(pl.seconds > 0 for pl in report.loads)

    assert [(t.span, t.query.title) for t in report.queries] == [
        (s, p.title) for s in RANGES for p in PANELS
    ]
    for t in report.queries:
        assert t.series["s"] == t.series["p"] > 0, t.query.expr
        assert t.seconds["s"] > 0
        assert t.seconds["p"] > 0
    # The dashboard's $__rate_interval reached both servers already interpolated.
    assert not any("$" in t.query.expr for t in report.queries)

    printed = capsys.readouterr().out
    assert "Prometheus 2.42's graph page" in printed
    assert "queries with a different number of series: 0" in printed
    written = json.loads(out.read_text())
    assert len(written["pages"]) == len(report.loads)
    assert len(written["queries"]) == len(report.queries)


def test_the_page_table_gives_each_server_its_own_column_whichever_went_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The servers take turns going first, so Spyglass's loads may come before Prometheus'.
    loads = [
        PageLoad(key, span, kind, secs, 12, 12)
        for span in RANGES
        for kind in ("cold", "warm")
        for key, secs in (("s", 3.0), ("p", 1.5))
    ]
    query = Query("Requests", "sum(rate(x[1m]))", False, 15.0, 0, 3_600_000)
    timings = [QueryTiming(span, query, {"p": 0.1, "s": 0.2}, {"p": 1, "s": 1}) for span in RANGES]
    print_report(Report(100, 240, loads, timings, (1.0, 1.0)))
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    page_rows = [r for r in rows if r[:1] == ["1h"] and r[1:2] in (["cold"], ["warm"])]
    assert len(page_rows) == 2
    for r in page_rows:
        # range, load, prometheus, (drawn), spyglass, (drawn), ratio spyglass/prometheus
        assert (r[2], r[4], r[-1]) == ("1.50s", "3.00s", "2.00")
