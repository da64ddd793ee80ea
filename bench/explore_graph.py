"""Explore's graph at 200 series x 1,000 points, against Prometheus' own graph page.

Side by side, in one run, on the same data (``--series`` series of ``--points`` samples 15 s
apart, sent over remote_write to both): Debian's Prometheus 2.42 serves its classic graph page
(Rickshaw, SVG; Debian ships that UI, not the React one), Spyglass its Explore page (uPlot,
canvas). Debian's chromium loads each page ``--rounds`` times with the same range query and
records, in the page:

- draw: from the query_range reply's last byte (Resource Timing ``responseEnd``) to the first
  animation frame where the graph and all its legend entries are on the page;
- hover: the cost of one mouse move over the plot (the event, the page's own handlers, the
  redraws they queue, up to the next task), the median of ``--moves`` moves across it;
- on Explore, the draw's parts from its own User Timing marks: ``json`` (the reply's last byte
  to the replies parsed), ``grid`` (series put on the time grid), ``chart`` (uPlot built and
  the legend written); the rest of ``draw`` is uPlot's first paint and the browser's layout.

It prints each side's medians and the ratio, and the load average it ran under. Nothing here
asserts; it reports.

    scripts/bench explore_graph [--series 200] [--points 1000] [--rounds 5] [--moves 60]
                                [--baseline-src /work/main/src]

``--baseline-src`` (another checkout's ``src``, whose bundle is in it) adds a third column: that
Spyglass's Explore page on the same data, e.g. the commit before a change.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from tests.support.browser import chromium
from tests.support.servers import Server, have_prometheus, prometheus, spyglass

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
STEP_MS = 15_000

# Installed before each page's own scripts: note the first frame where `ready()` holds.
WATCH = """(() => {
  const ready = %s;
  const tick = (t) => {
    if (ready()) { window.__drawnAt = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""
SPYGLASS_READY = (
    "() => document.querySelector('#plot canvas') !== null"
    " && document.querySelectorAll('#legend .legend-item').length >= %d"
)
PROMETHEUS_READY = (
    "() => document.querySelectorAll('.graph svg path').length >= %d"
    " && document.querySelectorAll('.legend .line').length >= %d"
)

# The whole draw: from the query_range reply's last byte to the first frame showing it all; and,
# on Explore, its own User Timing marks: the replies parsed (JSON), put on the time grid, drawn.
TIMES = """() => {
  const reply = performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/v1/query_range')).at(-1);
  if (!window.__drawnAt || !reply) return null;
  const mark = (name) => performance.getEntriesByName(name).at(-1);
  const replied = mark('explore:replied');
  return {
    draw: window.__drawnAt - reply.responseEnd,
    json: replied ? replied.startTime - reply.responseEnd : null,
    grid: mark('explore:grid')?.duration ?? null,
    chart: replied ? mark('explore:draw').duration - mark('explore:grid').duration : null,
  };
}"""

HOVER = """async ([selector, moves]) => {
  const target = document.querySelector(selector);
  const box = target.getBoundingClientRect();
  const next = () => new Promise((resolve) => setTimeout(resolve, 0));
  const costs = [];
  for (let i = 0; i < moves; i++) {
    const x = box.left + box.width * (0.05 + 0.9 * (i / moves));
    const y = box.top + box.height * (0.2 + 0.6 * ((i * 7) % moves) / moves);
    await next();
    const t0 = performance.now();
    target.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
    await next(); // handlers, and the redraws they queued as microtasks
    costs.push(performance.now() - t0);
  }
  costs.sort((a, b) => a - b);
  return costs[Math.floor(costs.length / 2)];
}"""


def series_data(series: int, points: int, end_ms: int) -> list[tuple[Any, list[tuple[int, float]]]]:
    out: list[tuple[Any, list[tuple[int, float]]]] = []
    for i in range(series):
        samples = [
            (end_ms - k * STEP_MS, i + 5 * math.sin(k / 40 + i)) for k in range(points - 1, -1, -1)
        ]
        out.append(((("__name__", "bench_wave"), ("i", str(i))), samples))
    return out


def push(server: Server, data: list[tuple[Any, list[tuple[int, float]]]]) -> None:
    """Every series, 50 samples at a time, oldest first: Prometheus refuses samples older than
    an hour before the newest one it holds."""
    with httpx.Client(timeout=120) as client:
        points = len(data[0][1])
        for start in range(0, points, 50):
            chunk = [(labels, samples[start : start + 50]) for labels, samples in data]
            body = encode_write_request(chunk, {})
            r = client.post(server.url + "/api/v1/write", content=body, headers=RW_HEADERS)
            r.raise_for_status()


def measure(
    browser: Any, url: str, ready: str, hover_selector: str, moves: int
) -> dict[str, float | None]:
    """Milliseconds for one load of ``url``: ``draw`` and its parts (see TIMES), ``hover``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page = context.new_page()
        page.add_init_script(WATCH % ready)
        page.goto(url)
        deadline = time.monotonic() + 120
        times = None
        while times is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"never drawn: {url}")
            page.wait_for_timeout(100)
            times = page.evaluate(TIMES)
        times["hover"] = page.evaluate(HOVER, [hover_selector, moves])
        return dict(times)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    args = parser.parse_args()
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")
    end_ms = (int(time.time() * 1000) // STEP_MS) * STEP_MS - STEP_MS
    start_ms = end_ms - (args.points - 1) * STEP_MS
    data = series_data(args.series, args.points, end_ms)
    span_s = (end_ms - start_ms) // 1000
    query = "bench_wave"
    # The classic page takes its end as a UTC date.
    end_text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(end_ms / 1000))
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        prom = stack.enter_context(
            prometheus(
                root / "prom",
                "global:\n  scrape_interval: 1h\n",
                "--web.enable-remote-write-receiver",
            )
        )
        spy = stack.enter_context(spyglass(root / "spyglass" / "data"))
        servers = [prom, spy]
        if args.baseline_src:
            base = stack.enter_context(
                spyglass(root / "baseline" / "data", source=args.baseline_src)
            )
            servers.append(base)
        for server in servers:
            push(server, data)
        time.sleep(3)  # Spyglass flushes every second
        pages = {
            "Prometheus": (
                f"{prom.url}/classic/graph?g0.expr={quote(query)}&g0.tab=0"
                f"&g0.range_input={span_s}s&g0.end_input={quote(end_text)}"
                f"&g0.step_input={STEP_MS // 1000}",
                PROMETHEUS_READY % (args.series, args.series),
                ".graph svg",
            ),
            "Spyglass": (
                f"{spy.url}/explore?from={start_ms}&to={end_ms}&step=15s&q0={quote(query)}"
                f"&legend0={quote('{{i}}')}",
                SPYGLASS_READY % args.series,
                ".u-over",
            ),
        }
        if args.baseline_src:
            url, ready, hover = pages["Spyglass"]
            pages["baseline"] = (url.replace(spy.url, base.url), ready, hover)
        figures: dict[str, dict[str, list[float]]] = {k: {} for k in pages}
        load_before = os.getloadavg()[0]
        with chromium() as browser:
            for r in range(args.rounds + 1):  # the first round warms caches, not counted
                for name, (url, ready, hover_selector) in pages.items():
                    got = measure(browser, url, ready, hover_selector, args.moves)
                    if r:
                        for key, value in got.items():
                            if value is not None:
                                figures[name].setdefault(key, []).append(value)
                    print(f"round {r} {name}: {got}", flush=True)
    load = os.getloadavg()[0]
    print(f"\n{args.series} series x {args.points} points, median of {args.rounds} rounds")
    print(f"load average (1 min) {load_before:.1f} before, {load:.1f} after")
    keys = ("draw", "json", "grid", "chart", "hover")
    print(f"{'ms':12}" + "".join(f"{k:>9}" for k in keys))
    medians = {n: {k: statistics.median(v) for k, v in f.items()} for n, f in figures.items()}
    for name, m in medians.items():
        print(f"{name:12}" + "".join(f"{m[k]:>9.1f}" if k in m else f"{'-':>9}" for k in keys))
    p, s = medians["Prometheus"], medians["Spyglass"]
    draw, hover = s["draw"] / p["draw"], s["hover"] / p["hover"]
    print(f"Spyglass/Prometheus: draw {draw:.2f}x, hover {hover:.2f}x")
    if "baseline" in medians:
        b = medians["baseline"]
        draw, hover = s["draw"] / b["draw"], s["hover"] / b["hover"]
        print(f"Spyglass/baseline: draw {draw:.2f}x, hover {hover:.2f}x")


if __name__ == "__main__":
    main()
