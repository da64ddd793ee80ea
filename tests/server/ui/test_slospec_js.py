"""The SLO editor's form written as YAML (frontend/src/slospec.js, run in Node) reads back, with
Spyglass's own spec parser, as the SLO the form holds, whatever text its fields carry; the
server's error fields map to the form's inputs."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.core.errors import ConfigError
from spyglass.slo import parse_slo_file

SLOSPEC_JS = REPO / "frontend" / "src" / "slospec.js"
RUN = """
import { formToYaml, formField, parseLabels } from %s;
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const { forms, fields } = JSON.parse(input);
  const out = forms.map((f) => {
    const v = { ...f, pageLabels: parseLabels(f.pageLabels),
                ticketLabels: parseLabels(f.ticketLabels) };
    return { yaml: formToYaml(v), description: f.description.trim(), page: v.pageLabels };
  });
  process.stdout.write(JSON.stringify({ out, fields: fields.map(formField) }));
});
"""
NAMES = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True)
LABEL_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
LINE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)
QUERIES = st.sampled_from([
    'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
    "sum(rate(errors_total[{{.window}}]))",
])  # fmt: skip


FIXED = {
    "service": "shop", "name": "checkout", "objective": "99.9", "description": "", "period": "30d",
    "sli": "events", "errorQuery": "sum(rate(e[{{.window}}]))",
    "totalQuery": "sum(rate(t[{{.window}}]))", "errorRatioQuery": "", "alertName": "A",
    "pageEnabled": True, "ticketEnabled": True, "pageLabels": "severity=page", "ticketLabels": "",
}  # fmt: skip


@st.composite
def forms(draw: st.DrawFn) -> dict[str, Any]:
    labels = draw(st.dictionaries(LABEL_NAMES, LINE.map(str.strip), max_size=3))
    raw = draw(st.booleans())
    return {
        "service": draw(NAMES),
        "name": draw(NAMES),
        "objective": f"{draw(st.floats(0.01, 99.99)):.2f}",
        "description": draw(TEXT),
        "period": draw(st.sampled_from(["30d", "28d", "week", "month"])),
        "sli": "raw" if raw else "events",
        "errorQuery": draw(QUERIES),
        "totalQuery": draw(QUERIES),
        "errorRatioQuery": draw(QUERIES),
        "alertName": draw(st.from_regex(r"[A-Z][A-Za-z]{0,10}", fullmatch=True)),
        "pageEnabled": draw(st.booleans()),
        "ticketEnabled": draw(st.booleans()),
        "pageLabels": "\n".join(f"{k}={v}" for k, v in labels.items()),
        "ticketLabels": "severity=ticket",
    }


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def run_js(node: str, forms: list[dict[str, Any]], fields: tuple[str, ...] = ()) -> dict[str, Any]:
    script = RUN % json.dumps(SLOSPEC_JS.as_uri())
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps({"forms": forms, "fields": list(fields)}),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# One Node run per example, each over a batch of forms: starting Node is the slow part.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(forms(), min_size=1, max_size=20))
# Characters YAML refuses raw in a stream, which JSON's quoting leaves as they are.
@example(batch=[{**FIXED, "description": 'a\x85b\u2028c\x7f\ufffe "q" \\ <script>'}])
def test_the_forms_yaml_reads_back_as_the_form(node: str, batch: list[dict[str, Any]]) -> None:
    for form, got in zip(batch, run_js(node, batch)["out"], strict=True):
        try:
            [slo] = parse_slo_file(got["yaml"], "form")
        except ConfigError as exc:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"{exc}\n{got['yaml']}") from None
        assert (slo.service, slo.name, slo.alert_name) == (
            form["service"], form["name"], form["alertName"]
        )  # fmt: skip
        assert slo.objective == float(form["objective"])
        assert slo.description == got["description"]
        assert (slo.calendar or f"{slo.period_ms // 86_400_000}d") == form["period"]
        if form["sli"] == "raw":
            assert (slo.error_ratio, slo.error_query) == (form["errorRatioQuery"], "")
        else:
            assert (slo.error_query, slo.total_query) == (form["errorQuery"], form["totalQuery"])
        assert slo.page.disable == (not form["pageEnabled"])
        assert slo.ticket.disable == (not form["ticketEnabled"])
        if form["pageEnabled"]:
            assert slo.page.labels == dict(got["page"])


def test_error_fields_map_to_the_form(node: str) -> None:
    fields = [
        "service", "slos[0].name", "slos[0].objective", "slos[0].period", "period",
        "slos[0].sli.events.error_query", "slos[0].sli.events.total_query",
        "slos[0].sli.raw.error_ratio_query", "slos[0].sli.events", "slos[0].alerting.name",
        "slos[0].alerting.page_alert.labels", "slos[0].alerting.ticket_alert.labels", "version", "",
    ]  # fmt: skip
    assert run_js(node, [], tuple(fields))["fields"] == [
        "service", "name", "objective", "period", "period", "errorQuery", "totalQuery",
        "errorRatioQuery", "errorQuery", "alertName", "pageLabels", "ticketLabels", "", "",
    ]  # fmt: skip
