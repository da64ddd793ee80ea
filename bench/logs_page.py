"""The logs page with 5,000 lines: how long the browser takes to show them.

A real ``spyglass serve`` takes ``--lines`` JSON lines of a web service (four levels, a trace
id on some) over Loki's push API; Debian's headless chromium opens
``/logs?query={service_name="bench"}&limit=<lines>`` ``--rounds`` times and records, in the page:

- api: the lines' ``/loki/api/v1/query_range`` request, from its start to its reply's last byte
  (Resource Timing), i.e. the server's part;
- show: from that reply's last byte to the first animation frame with every line and the
  histogram on the page (what a person waits for once the data is there);
- json and rows, the parts of ``show`` from the page's own User Timing marks: ``json`` from the
  reply's last byte to the three replies (lines, histogram, stream labels) parsed, ``rows`` the
  lines' elements built (``logs:render``); the rest is the histogram, layout and first paint;
- open: one click on a line until its fields are on the page (the median of ``--opens`` lines).

There is no real tool to set beside it here: Grafana is not installable on this machine (no
Debian package, no network), and Loki has no page of its own. It prints the medians and the load
average it ran under; nothing asserts.

    scripts/bench logs_page [--lines 5000] [--rounds 5] [--opens 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from tests.support.browser import chromium
from tests.support.servers import Server, spyglass

LEVELS = ("info", "info", "info", "debug", "warn", "error")
ROUTES = ("/orders", "/orders/{id}", "/login", "/cart", "/pay")

WATCH = """(() => {
  const ready = () => document.getElementById('lines')?.dataset.rendered === '%d'
    && document.querySelector('#histogram-plot canvas') !== null;
  const tick = () => {
    if (ready()) { window.__shownAt = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""

TIMES = """() => {
  const reply = performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/loki/api/v1/query_range') && e.name.includes('limit=')).at(-1);
  if (!window.__shownAt || !reply) return null;
  const mark = (name) => performance.getEntriesByName(name).at(-1);
  return {
    api: reply.responseEnd - reply.requestStart,
    show: window.__shownAt - reply.responseEnd,
    json: mark('logs:replied').startTime - reply.responseEnd,
    rows: mark('logs:render').duration,
  };
}"""

OPEN = """async (count) => {
  const rows = [...document.querySelectorAll('#lines .log-row')];
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const costs = [];
  for (let i = 0; i < count; i++) {
    const row = rows[Math.floor((i * rows.length) / count)];
    await frame();
    const t0 = performance.now();
    row.querySelector('summary').click();
    while (!row.querySelector('.log-details')) await new Promise((r) => setTimeout(r, 0));
    await frame();
    costs.push(performance.now() - t0);
  }
  costs.sort((a, b) => a - b);
  return costs[Math.floor(costs.length / 2)];
}"""


def lines(count: int, end_s: float) -> list[dict[str, Any]]:
    """``count`` JSON lines over the hour before ``end_s``, one stream per level."""
    streams: dict[str, list[list[str]]] = {}
    for i in range(count):
        level = LEVELS[i % len(LEVELS)]
        t = end_s - 3600 + 3600 * i / count
        body = {
            "level": level,
            "msg": "request failed" if level == "error" else "request done",
            "route": ROUTES[i % len(ROUTES)],
            "status": 500 if level == "error" else 200,
            "duration_ms": (i * 37) % 900,
            "user_id": f"u{i % 97}",
            "trace_id": f"{i:032x}" if i % 10 == 0 else "",
        }
        streams.setdefault(level, []).append([str(int(t * 1e9)), json.dumps(body)])
    return [
        {"stream": {"service_name": "bench", "level": level}, "values": values}
        for level, values in streams.items()
    ]


def push(server: Server, streams: list[dict[str, Any]]) -> None:
    r = httpx.post(server.url + "/loki/api/v1/push", json={"streams": streams}, timeout=120)
    r.raise_for_status()


def measure(browser: Any, url: str, count: int, opens: int) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page = context.new_page()
        page.add_init_script(WATCH % count)
        page.goto(url)
        deadline = time.monotonic() + 120
        times = None
        while times is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"never shown: {url}")
            page.wait_for_timeout(50)
            times = page.evaluate(TIMES)
        times["open"] = page.evaluate(OPEN, opens)
        return dict(times)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--opens", type=int, default=20)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        spyglass(Path(tmp) / "data") as server,
    ):
        push(server, lines(args.lines, time.time() - 5))
        query = quote('{service_name="bench"}')
        url = f"{server.url}/logs?query={query}&from=now-2h&to=now&limit={args.lines}"
        figures: dict[str, list[float]] = {}
        load_before = os.getloadavg()[0]
        with chromium() as browser:
            for r in range(args.rounds + 1):  # the first round warms caches, not counted
                got = measure(browser, url, args.lines, args.opens)
                print(f"round {r}: " + ", ".join(f"{k} {v:.1f}" for k, v in got.items()))
                if r:
                    for key, value in got.items():
                        figures.setdefault(key, []).append(value)
    load = os.getloadavg()[0]
    medians = {k: statistics.median(v) for k, v in figures.items()}
    print(f"\n{args.lines} lines, median of {args.rounds} rounds (ms)")
    print(f"load average (1 min) {load_before:.1f} before, {load:.1f} after")
    print("".join(f"{k:>9}" for k in medians))
    print("".join(f"{v:>9.1f}" for v in medians.values()))
    return medians


if __name__ == "__main__":
    main()
