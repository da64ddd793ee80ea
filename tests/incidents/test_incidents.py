"""Incidents as the service keeps them: numbering, timeline, status, alerts, postmortem; and
the ``spyglass: incidents:`` section of alertmanager.yml."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.state import FakeClock

from spyglass.core.alerts import Alert
from spyglass.core.config import load_yaml
from spyglass.core.errors import BadInput, ConfigError
from spyglass.incidents import (
    IncidentService,
    NotFound,
    load_incidents_config,
    postmortem,
)
from spyglass.incidents._service import CLAIM_KIND, CLAIM_STALE_MS, _claim_key
from spyglass.storage.state import SqlStateStore, open_state_store

RULES = """
rules:
  - matchers: ['severity="critical"']
    severity: SEV1
    group_by: [alertname, service]
    commander: alice
    title: "{{ .alertname }} on {{ .service }}"
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStateStore]:
    s = open_state_store("", tmp_path)
    yield s
    s.close()


def service(
    store: SqlStateStore, clock: FakeClock, sent: list[Alert] | None = None
) -> IncidentService:
    def notify(alerts: Sequence[Alert]) -> None:
        if sent is not None:
            sent.extend(alerts)

    svc = IncidentService(store, notify=notify, clock=clock)
    svc.config = load_incidents_config(load_yaml(RULES, "am.yml"))
    return svc


def alert(clock: FakeClock, *, ends_ms: int = 0, **labels: str) -> Alert:
    return Alert(
        labels=tuple(sorted(labels.items())),
        starts_at_ms=clock.now_ms,
        ends_at_ms=ends_ms or clock.now_ms + 300_000,
    )


def test_open_note_status_and_resolve(store: SqlStateStore) -> None:
    clock, sent = FakeClock(), []
    svc = service(store, clock, sent)
    first = svc.open("Checkout fails", "SEV2", commander="bob", by="carol")
    second = svc.open("Search slow", "SEV4")
    assert (first["id"], second["id"]) == ("INC-1", "INC-2")
    clock.advance(60_000)
    svc.note("INC-1", "card provider returns 502", by="bob")
    clock.advance(60_000)
    svc.set_status("INC-1", "identified", by="bob", text="provider outage")
    clock.advance(600_000)
    done = svc.set_status("INC-1", "resolved", by="bob")
    assert done["resolved_ms"] == clock.now_ms
    assert [e["kind"] for e in done["timeline"]] == ["opened", "note", "status", "status"]
    assert done["timeline"][2]["text"] == "Status investigating → identified: provider outage"
    assert [i["id"] for i in svc.search("open")] == ["INC-2"]
    assert [i["id"] for i in svc.search("resolved")] == ["INC-1"]
    # Opening and each status change went out as an update.
    statuses = [
        dict(a.labels)["incident_status"] for a in sent if dict(a.labels)["incident"] == "INC-1"
    ]
    assert statuses == ["investigating", "identified", "resolved"]


def test_bad_calls_change_nothing(store: SqlStateStore) -> None:
    svc = service(store, FakeClock())
    with pytest.raises(BadInput, match="title is required"):
        svc.open("  ")
    with pytest.raises(BadInput, match="severity"):
        svc.open("x", "SEV9")
    assert svc.search("all") == []
    svc.open("x")
    with pytest.raises(BadInput, match="status must be one of"):
        svc.set_status("INC-1", "fixed")
    with pytest.raises(NotFound):
        svc.note("INC-7", "hello")
    with pytest.raises(BadInput, match="unknown fields"):
        svc.update("INC-1", {"owner": "me"})
    assert [e["kind"] for e in svc.get("INC-1")["timeline"]] == ["opened"]


def test_alerts_open_join_and_resolve(store: SqlStateStore) -> None:
    clock = FakeClock()
    svc = service(store, clock)
    a = alert(clock, alertname="ApiDown", service="api", instance="a", severity="critical")
    b = alert(clock, alertname="ApiDown", service="api", instance="b", severity="critical")
    other = alert(clock, alertname="ApiDown", service="web", severity="critical")
    quiet = alert(clock, alertname="DiskFull", service="api", severity="warning")
    svc.observe(a, "fa")
    svc.observe(b, "fb")
    svc.observe(other, "fo")
    svc.observe(quiet, "fq")
    svc.observe(a, "fa")  # the same alert again: nothing new
    found = {i["title"]: i for i in svc.search("open")}
    assert set(found) == {"ApiDown on api", "ApiDown on web"}
    api = svc.get(found["ApiDown on api"]["id"])
    assert (api["severity"], api["commander"]) == ("SEV1", "alice")
    assert set(api["alerts"]) == {"fa", "fb"}
    clock.advance(60_000)
    svc.observe(alert(clock, ends_ms=clock.now_ms - 1, **dict(a.labels)), "fa")
    api = svc.get(api["id"])
    assert api["alerts"]["fa"]["status"] == "resolved"
    texts = [e["text"] for e in api["timeline"]]
    assert texts[-1].startswith('Alert ApiDown{instance="a"')
    assert texts[-1].endswith("resolved")


def test_two_nodes_sharing_state_open_one_incident_per_group(tmp_path: Path) -> None:
    """Nodes that share the state database see the same alerts at the same moment; one of
    them opens the incident and the others join it, with the alert on the timeline once."""
    clock = FakeClock()
    stores = [open_state_store("", tmp_path) for _ in range(4)]
    try:
        nodes = [service(s, clock) for s in stores]
        a = alert(clock, alertname="ApiDown", service="api", instance="a", severity="critical")
        b = alert(clock, alertname="ApiDown", service="api", instance="b", severity="critical")
        start = threading.Barrier(len(nodes) * 2)

        def decide(node: IncidentService, which: Alert, fingerprint: str) -> None:
            start.wait()
            node.observe(which, fingerprint)

        threads = [
            threading.Thread(target=decide, args=(node, *pair))
            for node in nodes
            for pair in ((a, "fa"), (b, "fb"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [i["id"] for i in nodes[0].search("all")] == ["INC-1"]
        opened = nodes[0].get("INC-1")
        assert set(opened["alerts"]) == {"fa", "fb"}
        joined = [e for e in opened["timeline"] if e["kind"] == "alert"]
        assert sorted(e["data"]["fingerprint"] for e in joined) == ["fa", "fb"]

        # Resolved, the group is free again: the next firing opens a new incident, once.
        nodes[1].set_status("INC-1", "resolved")
        clock.advance(60_000)
        again = alert(clock, alertname="ApiDown", service="api", instance="a", severity="critical")
        for node in nodes:
            node.observe(again, "fa2")
        assert [i["id"] for i in nodes[2].search("open")] == ["INC-2"]
    finally:
        for s in stores:
            s.close()


def test_a_claim_its_holder_never_used_is_taken_over(store: SqlStateStore) -> None:
    """A node that died between claiming a group and opening its incident does not block it
    for long: after the claim goes stale, the next node opens the incident."""
    clock = FakeClock()
    svc = service(store, clock)
    a = alert(clock, alertname="ApiDown", service="api", severity="critical")
    store.put(CLAIM_KIND, _claim_key("alertname=ApiDown,service=api"), {
        "number": None, "at_ms": clock.now_ms - CLAIM_STALE_MS - 1,
    })  # fmt: skip
    svc.observe(a, "fa")
    (opened,) = svc.search("open")
    assert set(opened["alerts"]) == {"fa"}


def test_postmortem_draft_and_edit(store: SqlStateStore) -> None:
    clock = FakeClock()
    svc = service(store, clock)
    svc.open("Checkout fails", "SEV2", commander="bob")
    clock.advance(3_900_000)
    svc.update("INC-1", {"summary": "Payments failed.", "root_cause": "Expired token.",
                         "actions": ["Alert on token expiry"]})  # fmt: skip
    done = svc.set_status("INC-1", "resolved")
    spent = [("shop-checkout", 0.0234, "30d")]
    text = postmortem(done, svc.config, clock.now_ms, lambda start, end: spent)
    assert text.startswith("# Postmortem: Checkout fails (INC-1)\n")
    assert "- Duration: 1h 5m" in text
    assert "- SLO shop-checkout: 2.34 % of its 30d error budget spent" in text
    assert "Payments failed." in text
    assert "Expired token." in text
    assert "- [ ] Alert on token expiry" in text
    assert "| Status investigating → resolved |" in text
    edited = svc.set_postmortem("INC-1", "# Ours\n")
    assert postmortem(edited, svc.config, clock.now_ms) == "# Ours\n"


R0 = "spyglass.incidents.rules[0]."


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("rules:\n  - severity: SEV2\n", 2, R0 + "matchers", "at least one matcher"),
        (
            "rules:\n  - matchers: ['a=\"b\"']\n    severity: SEV5\n",
            3,
            R0 + "severity",
            "SEV1 to SEV4",
        ),
        ("rules:\n  - matchers: ['a=~\"(\"']\n", 2, R0 + "matchers", "matchers[0]"),
        (
            "severities:\n  SEV0: {name: x}\n",
            2,
            "spyglass.incidents.severities.SEV0",
            "unknown severity",
        ),
        ("rule: []\n", 1, "spyglass.incidents.rule", "not found"),
    ],
)
def test_config_errors_name_file_line_and_field(
    text: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_incidents_config(load_yaml(text, "am.yml"))
    assert (err.value.file, err.value.line, err.value.field) == ("am.yml", line, field)
    assert words in err.value.message


def test_severities_can_be_reworded() -> None:
    config = load_incidents_config(load_yaml("severities:\n  SEV1: {name: Outage}\n", "am.yml"))
    assert config.severity("SEV1").name == "Outage"
    assert config.severity("SEV2").name == "Major"


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 9), st.text(max_size=8))
_keys = st.sampled_from(
    [
        "rules",
        "severities",
        "updates",
        "matchers",
        "severity",
        "group_by",
        "title",
        "SEV1",
        "name",
        "enabled",
        "x",
    ]
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_any_section_loads_or_fails_with_a_config_error(doc: dict[str, object]) -> None:
    """Whatever the section holds, reading it gives a config or raises ConfigError."""
    with contextlib.suppress(ConfigError):
        load_incidents_config(load_yaml(yaml.safe_dump(doc), "am.yml"))
