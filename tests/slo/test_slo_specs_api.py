"""SLO specs created, read, replaced and deleted through the API of a real ``spyglass serve``;
their rules start and stop with them, a broken spec is refused naming line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from tests.support.servers import spyglass

SPEC = """version: "prometheus/v1"
service: checkout
slos:
  - name: availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutBudgetBurn
"""
API = "/api/spyglass/v1/slo-specs"


def groups(url: str) -> set[str]:
    body = httpx.get(url + "/api/v1/rules", timeout=30).json()
    return {g["name"] for g in body["data"]["groups"]}


def test_specs_through_the_api(tmp_path: Path) -> None:
    with spyglass(tmp_path / "data") as sg:
        r = httpx.put(f"{sg.url}{API}/checkout", content=SPEC, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["slos"] == ["checkout-availability"]
        assert "sloth-slo-alerts-checkout-availability" in groups(sg.url)
        assert httpx.get(f"{sg.url}{API}/checkout", timeout=30).text == SPEC
        listed = httpx.get(sg.url + API, timeout=30).json()["data"]
        assert listed == [{"name": "checkout", "slos": ["checkout-availability"]}]
        slos = httpx.get(sg.url + "/api/spyglass/v1/slos", timeout=60).json()["data"]
        assert [s["id"] for s in slos] == ["checkout-availability"]

        broken = SPEC.replace("objective: 99.5", "objective: 150")
        bad = httpx.put(f"{sg.url}{API}/checkout", content=broken, timeout=30)
        assert bad.status_code == 400
        assert "api:checkout:5: slos[0].objective" in bad.json()["error"]
        # Nothing changed: the stored spec and its rules are as they were.
        assert httpx.get(f"{sg.url}{API}/checkout", timeout=30).text == SPEC
        assert "sloth-slo-alerts-checkout-availability" in groups(sg.url)

        assert httpx.delete(f"{sg.url}{API}/checkout", timeout=60).status_code == 204
        assert not any(g.startswith("sloth-slo") for g in groups(sg.url))
        assert httpx.delete(f"{sg.url}{API}/checkout", timeout=30).status_code == 404

    # A restart keeps stored specs.
    with spyglass(tmp_path / "data") as sg:
        assert httpx.get(sg.url + API, timeout=30).json()["data"] == []
        assert httpx.put(f"{sg.url}{API}/checkout", content=SPEC, timeout=60).status_code == 200
    with spyglass(tmp_path / "data") as sg:
        assert "sloth-slo-alerts-checkout-availability" in groups(sg.url)


def test_the_preview_checks_and_generates_without_storing(tmp_path: Path) -> None:
    """``POST /slo-preview`` answers what ``spyglass slo generate`` prints for the spec, and the
    form's fields of each SLO; nothing is stored, no rule starts. A broken spec is refused with
    the file, line and field apart, as the editor shows them next to the field."""
    spec_file = tmp_path / "checkout.yml"
    spec_file.write_text(SPEC)
    with spyglass(tmp_path / "data") as sg:
        r = httpx.post(sg.url + "/api/spyglass/v1/slo-preview", content=SPEC, timeout=60)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["name"] == "checkout-availability"
        generated = subprocess.run(
            [sys.executable, "-m", "spyglass", "slo", "generate", str(spec_file)],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert data["rules"] == generated
        [slo] = data["slos"]
        assert slo == {
            "id": "checkout-availability",
            "service": "checkout",
            "name": "availability",
            "description": "",
            "objective": 99.5,
            "period": "30d",
            "errorQuery": 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))',
            "totalQuery": 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))',
            "errorRatioQuery": "",
            "alertName": "CheckoutBudgetBurn",
            "pageLabels": {},
            "ticketLabels": {},
            "pageDisabled": False,
            "ticketDisabled": False,
            "spec": "prometheus/v1",
        }
        assert httpx.get(sg.url + API, timeout=30).json()["data"] == []
        assert not any(g.startswith("sloth-slo") for g in groups(sg.url))

        broken = SPEC.replace("objective: 99.5", "objective: 150")
        bad = httpx.post(
            sg.url + "/api/spyglass/v1/slo-preview", params={"name": "shop"}, content=broken,
            timeout=30,
        )  # fmt: skip
        assert bad.status_code == 400
        body = bad.json()
        assert (body["status"], body["file"], body["line"], body["field"]) == (
            "error", "api:shop", 5, "slos[0].objective"
        )  # fmt: skip
        assert body["message"] == "objective must be above 0 and below 100, not 150"
        assert body["error"] == f"api:shop:5: slos[0].objective: {body['message']}"
        # The PUT answers a broken spec the same way.
        put = httpx.put(f"{sg.url}{API}/shop", content=broken, timeout=30)
        assert put.status_code == 400
        assert put.json() == body
