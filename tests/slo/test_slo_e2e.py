"""SLOs end to end on a real ``spyglass serve``: a Sloth spec, data with known error rates, the
generated rules evaluated, the SLO API, and the burn-rate alerts reaching a webhook receiver.

Four services answer with known error ratios for the last 70 minutes against a 99.9 %
objective (an error budget of 0.1 %): ``api`` fails 1.5 % of requests (burn rate 15: 2 % of a
30-day budget gone in an hour), ``cron`` 0.7 % (7), ``worker`` 0.5 % (5, a slow burn) and
``quiet`` 0.05 % (0.5, within budget). The page alert (14.4x over 1h and 5m, or 6x over 6h and
30m) must fire for ``api`` and ``cron`` and not for the slow burn; the ticket alert (3x over 2h
and 1d, or 1x over 3d and 6h) for all but ``quiet``. Every number the rules and the API give is
checked against the hand calculation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.servers import Server, spyglass
from tests.support.webhooks import WebhookSink

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
STEP_MS = 15_000
ERROR_RATIOS = {"api": 0.015, "cron": 0.007, "worker": 0.005, "quiet": 0.0005}
BUDGET = (100 - 99.9) / 100  # as Sloth computes it


def spec() -> str:
    slos = []
    for job in ERROR_RATIOS:
        slos.append(
            f"""  - name: {job}-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="{job}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="{job}"}}[{{{{.window}}}}]))
    alerting:
      name: {job.capitalize()}ErrorBudgetBurn
      labels: {{team: web}}
      page_alert: {{labels: {{severity: page}}}}
      ticket_alert: {{labels: {{severity: ticket}}}}
"""
        )
    return 'version: "prometheus/v1"\nservice: shop\nlabels: {owner: web}\nslos:\n' + "".join(slos)


def write_history(server: Server, now_ms: int) -> None:
    """Counters for 70 minutes up to now: 100 requests per step, the job's share failing."""
    start = now_ms - 70 * 60_000
    series = []
    for job, ratio in ERROR_RATIOS.items():
        ok, bad = [], []
        for i, t in enumerate(range(start, now_ms + 1, STEP_MS)):
            ok.append((t, float(i * 100 * (1 - ratio))))
            bad.append((t, float(i * 100 * ratio)))
        series.append(((("__name__", "http_requests_total"), ("code", "200"), ("job", job)), ok))
        series.append(((("__name__", "http_requests_total"), ("code", "500"), ("job", job)), bad))
    body = encode_write_request(series)
    r = httpx.post(server.url + "/api/v1/write", content=body, headers=RW_HEADERS, timeout=30)
    assert r.status_code == 204, r.text


def instant(server: Server, query: str) -> list[dict[str, Any]]:
    body = httpx.get(server.url + "/api/v1/query", params={"query": query}, timeout=30).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def alerts_by(received: list[Any]) -> dict[str, set[str]]:
    """severity -> the jobs (sloth_slo) whose alert of that severity fired."""
    out: dict[str, set[str]] = {}
    for post in received:
        for alert in post.body["alerts"]:
            if alert["status"] == "firing":
                labels = alert["labels"]
                out.setdefault(labels["sloth_severity"], set()).add(labels["sloth_slo"])
    return out


def test_burn_rate_alerts_fire_as_the_sre_workbook_says(tmp_path: Path) -> None:
    spec_file = tmp_path / "slos.yml"
    spec_file.write_text(spec())
    prom = tmp_path / "prometheus.yml"
    prom.write_text("global:\n  evaluation_interval: 1s\n")
    with WebhookSink() as sink:
        am = tmp_path / "alertmanager.yml"
        am.write_text(
            "route:\n  receiver: hook\n  group_by: [alertname, sloth_severity]\n"
            "  group_wait: 0s\n  group_interval: 1s\n"
            f"receivers:\n  - name: hook\n    webhook_configs: [{{url: '{sink.url}/'}}]\n"
        )
        with spyglass(
            tmp_path / "data",
            "--config-file", str(prom),
            "--slo-files", str(spec_file),
            "--alertmanager-config-file", str(am),
        ) as sg:  # fmt: skip
            now_ms = int(time.time() * 1000)
            write_history(sg, now_ms)

            # Wait for the three ticket alerts, then a few more evaluations.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                fired = alerts_by(sink.received)
                if len(fired.get("ticket", set())) >= 3:
                    break
                time.sleep(0.5)
            time.sleep(3)
            fired = alerts_by(sink.received)
            assert fired.get("ticket") == {"api-availability", "cron-availability",
                                           "worker-availability"}  # fmt: skip
            assert fired.get("page") == {"api-availability", "cron-availability"}

            # The recorded burn rates are the hand calculation: error ratio / error budget.
            for job, ratio in ERROR_RATIOS.items():
                sel = f'{{sloth_slo="{job}-availability"}}'
                (sli,) = instant(sg, "slo:sli_error:ratio_rate1h" + sel)
                assert float(sli["value"][1]) == pytest.approx(ratio, rel=1e-9)
                (burn,) = instant(sg, "slo:current_burn_rate:ratio" + sel)
                assert float(burn["value"][1]) == pytest.approx(ratio / BUDGET, rel=1e-9)
                (budget,) = instant(sg, "slo:error_budget:ratio" + sel)
                assert float(budget["value"][1]) == pytest.approx(BUDGET, rel=1e-12)

            # The API: SLI over the period so far, budget left as a share and as time.
            slos = {
                s["id"]: s
                for s in httpx.get(sg.url + "/api/spyglass/v1/slos", timeout=60).json()["data"]
            }
            assert set(slos) == {f"shop-{j}-availability" for j in ERROR_RATIOS}
            api = slos["shop-api-availability"]
            assert api["sli"] == pytest.approx(0.015, rel=1e-9)
            assert api["budgetRemaining"] == pytest.approx(1 - 0.015 / BUDGET, rel=1e-9)
            period_s = 30 * 86_400
            assert api["budgetRemainingSeconds"] == pytest.approx(
                (1 - 0.015 / BUDGET) * BUDGET * period_s, rel=1e-9
            )
            assert api["burnRates"]["1h"] == pytest.approx(15, rel=1e-9)
            detail = httpx.get(
                sg.url + "/api/spyglass/v1/slos/shop-worker-availability", timeout=120
            ).json()["data"]
            (episode,) = detail["episodes"]
            # 70 minutes at 5x: 5 * 70 min / 30 days of the budget.
            assert episode["peakBurnRate"] == pytest.approx(5, rel=1e-6)
            assert episode["budgetSpent"] == pytest.approx(5 * 70 / (30 * 24 * 60), rel=0.1)
            assert httpx.get(sg.url + "/api/spyglass/v1/slos/nope", timeout=30).status_code == 404
