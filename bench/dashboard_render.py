"""Dashboard drawing: Spyglass's dashboard page against Prometheus' graph page, same queries.

Both servers receive the same ~10k series (``_data.py``, one sample every 15 s) over
remote_write. A 12-panel RED dashboard in Grafana's JSON (request rate and error ratio by route,
p50/p95/p99 latency from the histogram buckets, requests in flight, CPU, memory, a stat, a
gauge, a table and a heatmap) is imported into Spyglass (``POST /api/dashboards/db``); its
queries, as Spyglass's dashboard view interpolates them (``$__rate_interval``) with each panel's
step, are what both backends answer.

Grafana is not installed here (Debian has no ``grafana`` package and nothing else can be
downloaded), so the page figures compare Spyglass's dashboard page (``/d/<uid>``) with
**Prometheus' own graph page** (``/graph``) drawing the same 12 queries as 12 graphs on one page
(``g0.expr=...&g0.tab=0&g0.range_input=6h&g0.step_input=60``; the table panel as a console tab).
Debian's Prometheus 2.42 serves its classic UI there (jQuery, Rickshaw/d3 drawing SVG): Debian
builds the package without the React UI.

1. **Page**: headless chromium (Playwright, Debian's chromium), the same window size, opens each
   page for the last 1 h and 6 h, cold (a new browser context: empty cache) and warm (a
   reload), ``--rounds`` times, alternating the servers. The time is the page's own clock
   (``performance.now()``, from the start of the navigation) when every panel has drawn and one
   more animation frame ran (panels fill canvases in one): on Spyglass when every panel's frame
   carries ``data-drawn`` (``true``, or ``false`` for a panel with no data or an error), on
   Prometheus when every graph has shown its "Load time" (its request completed, after the
   SVG or the table was built). The table shows medians and how many panels drew something.
2. **API**: each panel's query over HTTP (``query_range`` at the panel's step on the page's
   step-aligned range, or ``query`` for the table's instant query), ``--repeat`` times per server
   alternating, after one untimed run; medians, the ratio per query, and per range the summed
   medians (the dashboard's query time done one by one) and the median ratio. Queries whose
   answers differ in series count are flagged.

    scripts/bench dashboard_render [--series 10000] [--hours 6.5] [--rounds 3] [--repeat 3]
        [--baseline-src ../old/src]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench._data import INTERVAL_MS, make_dataset
from bench._side_by_side import NAMES, load, start_servers, timed_query
from tests.support.browser import CHROMIUM_FLAGS
from tests.support.servers import Server, have_prometheus

UID = "bench-red"
RANGES = ("1h", "6h")
VIEWPORT = {"width": 1280, "height": 1024}
# A page that has not drawn after this long counts with the panels it drew by then.
PAGE_TIMEOUT_MS = 120_000
RATE = "[$__rate_interval]"


@dataclass(frozen=True)
class Panel:
    """One panel of the RED dashboard: Grafana's type, title and one query."""

    title: str
    type: str
    expr: str
    legend: str = ""
    unit: str = "short"
    instant: bool = False
    fmt: str = "time_series"
    extra: tuple[tuple[str, Any], ...] = ()


def _quantile(q: str) -> str:
    return (
        f"histogram_quantile({q}, sum by (le, route) "
        f"(rate(http_request_duration_seconds_bucket{RATE})))"
    )


PANELS = (
    Panel(
        "Request rate by route",
        "timeseries",
        f"sum by (route) (rate(http_requests_total{RATE}))",
        "{{route}}",
        "reqps",
    ),
    Panel(
        "Error ratio by route",
        "timeseries",
        f'sum by (route) (rate(http_requests_total{{status_code="500"}}{RATE}))'
        f" / sum by (route) (rate(http_requests_total{RATE}))",
        "{{route}}",
        "percentunit",
    ),
    Panel("Requests", "stat", f"sum(rate(http_requests_total{RATE}))", "", "reqps"),
    Panel("Latency p50", "timeseries", _quantile("0.5"), "{{route}}", "s"),
    Panel("Latency p95", "timeseries", _quantile("0.95"), "{{route}}", "s"),
    Panel("Latency p99", "timeseries", _quantile("0.99"), "{{route}}", "s"),
    # The data has no in-flight gauge; by Little's law the mean number of requests in flight is
    # the rate at which request time accumulates, which the histogram's _sum gives.
    Panel(
        "In flight",
        "timeseries",
        f"sum by (job) (rate(http_request_duration_seconds_sum{RATE}))",
        "{{job}}",
    ),
    Panel(
        "CPU",
        "timeseries",
        f'sum by (instance) (rate(node_cpu_seconds_total{{mode!="idle"}}{RATE}))',
        "{{instance}}",
    ),
    Panel(
        "Memory available", "timeseries", "node_memory_MemAvailable_bytes", "{{instance}}", "bytes"
    ),
    Panel(
        "Availability",
        "gauge",
        f'sum(rate(http_requests_total{{status_code!="500"}}{RATE}))'
        f" / sum(rate(http_requests_total{RATE}))",
        "",
        "percentunit",
        extra=(("min", 0), ("max", 1)),
    ),
    # Over the whole range, as such tables usually are; this also keeps it filled when loading
    # the data took longer than a rate window and "now" is past the last sample.
    Panel(
        "Requests in the range by job and route",
        "table",
        "sum by (job, route) (increase(http_requests_total[$__range]))",
        instant=True,
        fmt="table",
    ),
    Panel(
        "Latency distribution",
        "heatmap",
        f"sum by (le) (rate(http_request_duration_seconds_bucket{RATE}))",
        "{{le}}",
        fmt="heatmap",
    ),
)


def dashboard_json(uid: str = UID) -> dict[str, Any]:
    """The RED dashboard in Grafana's JSON: 12 panels, three to a row of 8 columns."""
    panels = []
    for i, p in enumerate(PANELS):
        target: dict[str, Any] = {"refId": "A", "expr": p.expr, "legendFormat": p.legend}
        if p.instant:
            target["instant"] = True
        if p.fmt != "time_series":
            target["format"] = p.fmt
        panels.append(
            {
                "id": i + 1,
                "type": p.type,
                "title": p.title,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"x": (i % 3) * 8, "y": (i // 3) * 8, "w": 8, "h": 8},
                "fieldConfig": {"defaults": {"unit": p.unit, **dict(p.extra)}, "overrides": []},
                "options": {},
                "targets": [target],
            }
        )
    return {
        "uid": uid,
        "title": "RED (benchmark)",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


@dataclass(frozen=True)
class Query:
    """A panel's query as Spyglass's dashboard view resolved it, at the view's time range."""

    title: str
    expr: str
    instant: bool
    step: float
    from_ms: int
    to_ms: int

    def api(self) -> tuple[str, dict[str, Any]]:
        """Path and parameters, as the dashboard page asks them (range aligned to the step)."""
        if self.instant:
            return "/api/v1/query", {"query": self.expr, "time": self.to_ms / 1000}
        step_ms = max(self.step * 1000, 1)
        start = math.floor(self.from_ms / step_ms) * step_ms
        end = math.ceil(self.to_ms / step_ms) * step_ms
        params = {"query": self.expr, "start": start / 1000, "end": end / 1000, "step": self.step}
        return "/api/v1/query_range", params


def import_dashboard(client: httpx.Client, server: Server) -> None:
    """``POST /api/dashboards/db`` the RED dashboard (replacing an earlier one)."""
    r = client.post(
        server.url + "/api/dashboards/db",
        json={"dashboard": dashboard_json(), "overwrite": True},
        timeout=60,
    )
    r.raise_for_status()


def resolved_queries(client: httpx.Client, server: Server, span: str) -> list[Query]:
    """The dashboard's queries for the last ``span``, from Spyglass's dashboard view."""
    r = client.get(
        f"{server.url}/api/dashboards/uid/{UID}/view",
        params={"from": f"now-{span}", "to": "now"},
        timeout=60,
    )
    r.raise_for_status()
    view = r.json()
    rng = view["range"]
    out = []
    for section in view["sections"]:
        for panel in section["panels"]:
            for t in panel["targets"]:
                out.append(
                    Query(
                        panel["title"],
                        t["expr"],
                        bool(t["instant"]),
                        float(t["step"]),
                        int(rng["from"]),
                        int(rng["to"]),
                    )
                )
    if len(out) != len(PANELS):
        raise RuntimeError(f"the view has {len(out)} queries, not {len(PANELS)}: {view}")
    return out


def spyglass_page(server: Server, span: str) -> str:
    """The dashboard's URL over the last ``span``, as Grafana writes it."""
    return f"{server.url}/d/{UID}?from=now-{span}&to=now"


# Prometheus' classic graph page reads at most 10 graphs from its URL: it sorts the parameters
# as text, so g10.* and g11.* come before g2.* and the graphs after g1 get wrong options.
URL_GRAPHS = 10


def prometheus_graph(q: Query, span: str) -> dict[str, Any]:
    """A graph's options as the classic graph page takes them (``g<n>.<option>`` in its URL):
    range queries on the Graph tab over ``span`` at the panel's step (whole seconds: the page
    reads the field with parseInt), instant ones on the Console tab."""
    options: dict[str, Any] = {"expr": q.expr, "tab": 1 if q.instant else 0, "range_input": span}
    if not q.instant:
        options["step_input"] = str(max(round(q.step), 1))
        options["stacked"] = "0"
    return options


def prometheus_page(server: Server, span: str, queries: Sequence[Query]) -> str:
    """Prometheus' graph page with the first ``URL_GRAPHS`` queries as graphs; the page script
    adds the others (``extra_graphs``)."""
    params = {
        f"g{i}.{name}": str(value)
        for i, q in enumerate(queries[:URL_GRAPHS])
        for name, value in prometheus_graph(q, span).items()
    }
    return f"{server.url}/graph?{urllib.parse.urlencode(params)}"


def extra_graphs(span: str, queries: Sequence[Query]) -> list[dict[str, Any]]:
    """The graphs the URL cannot carry, added by the page script."""
    return [prometheus_graph(q, span) for q in queries[URL_GRAPHS:]]


# Runs in the page: polls once per animation frame until every panel has finished, then lets
# one more frame run (what panels queued for it, such as canvas fills), and answers the page's
# clock (ms since the navigation started) with how many panels drew something. On Prometheus'
# page it adds the graphs past the tenth as soon as the page has built the first ten, the way
# the page builds each graph of its URL (``new Prometheus.Graph(container, options, ...)``),
# left out of the page's URL so that a reload reads the same ten.
_WAIT_DRAWN = """
async ({ kind, expected, extra, timeoutMs }) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const spyglass = () => {
    const ps = [...document.querySelectorAll('section.dash-panel')];
    return {
      done: ps.length >= expected && ps.every((p) => p.dataset.drawn !== undefined),
      panels: ps.length,
      drawn: ps.filter((p) => p.dataset.drawn === 'true').length,
      missing: ps.filter((p) => p.dataset.drawn !== 'true').map((p) => {
        const messages = p.querySelector('.panel-messages')?.textContent ?? '';
        return `${p.getAttribute('aria-label')}: ${messages}`;
      }),
    };
  };
  let added = false;
  const prometheus = () => {
    const ws = [...document.querySelectorAll('.graph_wrapper')];
    if (!added && extra.length && ws.length >= expected - extra.length) {
      added = true;
      for (const options of extra) {
        const container = window.$('#graph_container');
        new window.Prometheus.Graph(container, { ...options }, () => {}, () => {});
      }
      return { done: false, panels: ws.length, drawn: 0, missing: [] };
    }
    const complete = (w) => (w.querySelector('.eval_stats')?.textContent ?? '').trim() !== '';
    const drew = (w) => w.querySelector('.graph_area .graph svg path') !== null
      || w.querySelectorAll('.console_table tbody tr td + td').length > 0;
    return {
      done: ws.length >= expected && ws.every(complete),
      panels: ws.length,
      drawn: ws.filter(drew).length,
      missing: ws.filter((w) => !drew(w)).map((w) => {
        const error = w.querySelector('.error')?.textContent ?? '';
        return `${w.querySelector('textarea')?.value}: ${error}`;
      }),
    };
  };
  const state = kind === 'spyglass' ? spyglass : prometheus;
  const deadline = performance.now() + timeoutMs;
  let s = state();
  while (!s.done && performance.now() < deadline) {
    await frame();
    s = state();
  }
  await frame();
  return { ms: performance.now(), ...s };
}
"""


@dataclass(frozen=True)
class PageLoad:
    """One page load: which server, range and cache state, how long until every panel drew,
    and how many of how many panels drew something."""

    server: str
    span: str
    load: str
    seconds: float
    drawn: int
    panels: int
    missing: tuple[str, ...] = ()  # the panels that drew nothing, with their messages


@dataclass(frozen=True)
class PageTarget:
    """A page to time: which page script state to wait for, its URL and, on Prometheus' page,
    the graphs the script adds."""

    kind: str  # "spyglass" or "prometheus"
    url: str
    extra: tuple[dict[str, Any], ...] = ()


def page_targets(
    servers: dict[str, Server], queries: dict[str, list[Query]]
) -> dict[str, dict[str, PageTarget]]:
    """Per server key and range, the page showing the dashboard's queries."""
    out: dict[str, dict[str, PageTarget]] = {}
    for key, server in servers.items():
        out[key] = {}
        for span in RANGES:
            if key == "p":
                out[key][span] = PageTarget(
                    "prometheus",
                    prometheus_page(server, span, queries[span]),
                    tuple(extra_graphs(span, queries[span])),
                )
            else:
                out[key][span] = PageTarget("spyglass", spyglass_page(server, span))
    return out


def time_page(page: Any, target: PageTarget) -> tuple[float, int, int, tuple[str, ...]]:
    """Open ``target`` in ``page``: seconds from the start of the navigation until every panel
    has drawn, panels that drew something, panels on the page, and what the others said."""
    page.goto(target.url, wait_until="commit")
    arg = {
        "kind": target.kind,
        "expected": len(PANELS),
        "extra": list(target.extra),
        "timeoutMs": PAGE_TIMEOUT_MS,
    }
    result = page.evaluate(_WAIT_DRAWN, arg)
    missing = tuple(str(m) for m in result["missing"])
    return float(result["ms"]) / 1000, int(result["drawn"]), int(result["panels"]), missing


def page_loads(
    browser: Any, targets: dict[str, dict[str, PageTarget]], rounds: int
) -> list[PageLoad]:
    """Every page cold (a fresh browser context: empty cache) then warm (opened again in the
    same context), ``rounds`` times, after one untimed round (the browser's and the servers'
    first-time costs), the servers taking turns to go first."""
    out: list[PageLoad] = []
    for i in range(rounds + 1):  # round 0 is the warm-up
        order = list(targets.items())
        if i % 2:
            order.reverse()
        for span in RANGES:
            for key, by_span in order:
                context = browser.new_context(viewport=VIEWPORT)
                try:
                    page = context.new_page()
                    for load_kind in ("cold", "warm"):
                        secs, drawn, panels, missing = time_page(page, by_span[span])
                        label = f"round {i}" if i else "warm-up"
                        print(
                            f"{label} {span} {NAMES[key]:12} {load_kind}: {secs:6.2f}s, "
                            f"{drawn}/{panels} panels drawn",
                            flush=True,
                        )
                        for m in missing:
                            print(f"  not drawn: {m[:200]}", flush=True)
                        if i:
                            out.append(PageLoad(key, span, load_kind, secs, drawn, panels, missing))
                finally:
                    context.close()
    return out


@dataclass(frozen=True)
class QueryTiming:
    """A panel query's median seconds and series count on every server."""

    span: str
    query: Query
    seconds: dict[str, float]
    series: dict[str, int]


def api_timings(
    client: httpx.Client, servers: dict[str, Server], queries: dict[str, list[Query]], repeat: int
) -> list[QueryTiming]:
    """Each query ``repeat`` times per server, alternating, after one untimed run."""
    out = []
    for span, qs in queries.items():
        for q in qs:
            path, params = q.api()
            times: dict[str, list[float]] = {k: [] for k in servers}
            counts: dict[str, int] = {}
            for i in range(repeat + 1):  # the first run warms caches, not timed
                for key, server in servers.items():
                    took, n = timed_query(client, server, path, params)
                    counts[key] = n
                    if i:
                        times[key].append(took)
            medians = {k: statistics.median(v) for k, v in times.items()}
            out.append(QueryTiming(span, q, medians, counts))
            print(f"{span} {medians['s'] / medians['p']:6.2f}x  {q.title}", flush=True)
    return out


@dataclass(frozen=True)
class Report:
    """What a run measured, for the table and for tests."""

    series: int
    points: int
    loads: list[PageLoad]
    queries: list[QueryTiming]
    load_average: tuple[float, float]  # 1-minute load average before and after the timings


def run(
    series: int, hours: float, rounds: int, repeat: int, baseline_src: str | None = None
) -> Report:
    """Start both servers, load the data, time the pages and the API; everything stopped after."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - heavy, only here

    points = max(int(hours * 3_600_000 // INTERVAL_MS), 2)
    data = make_dataset(series, points)
    print(f"{len(data.series)} series x {points} points", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = start_servers(stack, Path(tmp), baseline_src)
        load(servers, data)
        spyglasses = {k: s for k, s in servers.items() if k != "p"}
        with httpx.Client() as client:
            for server in spyglasses.values():
                import_dashboard(client, server)
            queries = {span: resolved_queries(client, servers["s"], span) for span in RANGES}
            targets = page_targets(servers, queries)
            before = os.getloadavg()[0]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                try:
                    loads = page_loads(browser, targets, rounds)
                finally:
                    browser.close()
            timings = api_timings(client, servers, queries, repeat)
            after = os.getloadavg()[0]
    return Report(len(data.series), points, loads, timings, (before, after))


def chromium_path() -> str:
    """Debian's chromium (Playwright never downloads a browser here)."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else ""
    )
    if not found:
        sys.exit("chromium not found: apt-get install chromium")
    return found


def print_report(report: Report) -> None:
    """The tables: page medians by range and cache state, then every query, then totals."""
    # Fixed column order: the servers take turns going first, so the loads' order says nothing.
    present = {pl.server for pl in report.loads}
    keys = [k for k in NAMES if k in present]
    has_b = "b" in keys
    print()
    print(
        f"{report.series:,} series x {report.points} points. Pages: Spyglass's dashboard page "
        f"(/d/{UID}) against Prometheus 2.42's graph page (/graph, the classic UI Debian ships) "
        f"drawing the same {len(PANELS)} queries; Grafana is not installed here."
    )
    print(
        f"1-minute load average {report.load_average[0]:.1f} before the timings, "
        f"{report.load_average[1]:.1f} after."
    )
    print()
    print("time until every panel has drawn, median (panels drawn, fewest of the rounds)")
    extra = f" {'baseline':>16}" if has_b else ""
    print(f"{'range':5} {'load':5} {'prometheus':>16} {'spyglass':>16}{extra} {'ratio':>6}")
    for span in RANGES:
        for load_kind in ("cold", "warm"):
            cells = {}
            for key in keys:
                ls = [
                    pl
                    for pl in report.loads
                    if pl.server == key and pl.span == span and pl.load == load_kind
                ]
                cells[key] = (
                    statistics.median(pl.seconds for pl in ls),
                    min(pl.drawn for pl in ls),
                    max(pl.panels for pl in ls),
                )
            line = f"{span:5} {load_kind:5}"
            for key in keys:
                secs, drawn, panels = cells[key]
                line += f" {secs:8.2f}s ({drawn:2}/{panels:2})"
            print(f"{line} {cells['s'][0] / cells['p'][0]:6.2f}")
    print()
    print("API time of the same queries, median")
    extra = f" {'baseline':>9} {'s/b':>5}" if has_b else ""
    print(
        f"{'range':5} {'step':>5} {'prometheus':>10} {'spyglass':>9} {'ratio':>6}{extra}"
        "  series  panel"
    )
    for t in report.queries:
        kind = "inst" if t.query.instant else f"{t.query.step:g}s"
        s = t.seconds
        line = (
            f"{t.span:5} {kind:>5} {s['p'] * 1000:8.1f}ms {s['s'] * 1000:7.1f}ms"
            f" {s['s'] / s['p']:6.2f}"
        )
        if has_b:
            line += f" {s['b'] * 1000:7.1f}ms {s['s'] / s['b']:5.2f}"
        same = "" if len(set(t.series.values())) == 1 else f"  DIFFERENT ANSWER ({t.series})"
        print(f"{line}  {t.series['s']:6}  {t.query.title}{same}")
    print()
    for span in RANGES:
        ts = [t for t in report.queries if t.span == span]
        total = {k: sum(t.seconds[k] for t in ts) for k in keys}
        ratios = [t.seconds["s"] / t.seconds["p"] for t in ts]
        worst = max(ts, key=lambda t: t.seconds["s"] / t.seconds["p"])
        line = (
            f"{span}: all {len(ts)} queries one after the other: prometheus "
            f"{total['p'] * 1000:.0f} ms, spyglass {total['s'] * 1000:.0f} ms "
            f"(ratio {total['s'] / total['p']:.2f}); median ratio {statistics.median(ratios):.2f}, "
            f"worst {max(ratios):.2f} ({worst.query.title})"
        )
        if has_b:
            line += f"; baseline {total['b'] * 1000:.0f} ms"
        print(line)
    differing = sum(1 for t in report.queries if len(set(t.series.values())) != 1)
    print(f"queries with a different number of series: {differing}")


def main(argv: Sequence[str] | None = None) -> Report:
    """Parse the options, run, print the tables; ``--json`` also writes the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=6.5, help="history (the 6 h range + rate)")
    parser.add_argument("--rounds", type=int, default=3, help="page loads per page and cache state")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each API query")
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")
    report = run(args.series, args.hours, args.rounds, args.repeat, args.baseline_src)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report_json(report), indent=2))
    return report


def report_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON (seconds, counts, the queries' text)."""
    return {
        "series": report.series,
        "points": report.points,
        "load_average": list(report.load_average),
        "pages": [{**vars(pl), "missing": list(pl.missing)} for pl in report.loads],
        "queries": [
            {
                "span": t.span,
                "title": t.query.title,
                "expr": t.query.expr,
                "instant": t.query.instant,
                "step": t.query.step,
                "seconds": t.seconds,
                "series": t.series,
            }
            for t in report.queries
        ],
    }


if __name__ == "__main__":
    main()
