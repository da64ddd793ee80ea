"""The PagerDuty notifier: Events API v2 and v1 events as Alertmanager sends them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.alerting.senders import (
    Answer,
    Recorder,
    env,
    integration,
    json_values,
    notification,
)

from spyglass.alerting import SENDER_BUILDERS, NotifyError
from spyglass.alerting._pagerduty import (
    MAX_EVENT_BYTES,
    PagerdutySender,
    error_details,
    read_yaml_value,
)

ACCEPTED = Answer(202, b'{"status":"success","message":"Event processed"}', "application/json")


@pytest.fixture
def pagerduty() -> Iterator[Recorder]:
    server = Recorder(answer=ACCEPTED)
    yield server
    server.close()


def _sender(server: Recorder, entry: str, *, global_url: bool = True) -> PagerdutySender:
    glob = f"global: {{pagerduty_url: '{server.url}/v2/enqueue'}}\n" if global_url else ""
    text = (
        glob
        + f"""
route: {{receiver: team}}
receivers:
- name: team
  pagerduty_configs:
  - {entry}
"""
    )
    sender = SENDER_BUILDERS["pagerduty_configs"](integration(text, "pagerduty_configs"), env())
    assert isinstance(sender, PagerdutySender)
    return sender


def _sent(server: Recorder) -> dict[str, object]:
    [req] = server.requests
    assert req.headers["content-type"] == "application/json"
    body = req.json()
    assert isinstance(body, dict)
    return body


def test_a_firing_group_triggers_an_event_deduplicated_by_the_group_keys_hash(
    pagerduty: Recorder,
) -> None:
    sender = _sender(pagerduty, "{routing_key: R0UTINGSECRET}")
    asyncio.run(sender.send(notification()))
    event = _sent(pagerduty)
    assert pagerduty.requests[0].path == "/v2/enqueue"
    assert event["routing_key"] == "R0UTINGSECRET"
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == hashlib.sha256(b'{}:{alertname="DiskFull"}').hexdigest()
    assert event["client"] == "Alertmanager"
    assert event["client_url"] == "http://spyglass.example:9093/#/alerts?receiver=team"
    payload = event["payload"]
    assert isinstance(payload, dict)
    assert payload["summary"] == "[FIRING:2] DiskFull (critical)"
    assert payload["source"] == "Alertmanager"  # source defaults to client
    assert payload["severity"] == "error"
    details = payload["custom_details"]
    # The default details' templates render JSON and numbers, which arrive as such.
    assert details["num_firing"] == 2
    assert details["num_resolved"] == 0
    assert [a["labels"]["instance"] for a in details["firing"]] == ["db1", "db2"]
    assert details["resolved"] == []
    assert "images" not in event
    assert "links" not in event


def test_a_resolved_group_resolves_the_same_incident(pagerduty: Recorder) -> None:
    sender = _sender(pagerduty, "{routing_key: R0UTINGSECRET}")
    asyncio.run(sender.send(notification(resolved=True)))
    event = _sent(pagerduty)
    assert event["event_action"] == "resolve"
    assert event["dedup_key"] == hashlib.sha256(b'{}:{alertname="DiskFull"}').hexdigest()


def test_every_templated_field_of_an_event(pagerduty: Recorder, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("FILEKEY\n")
    entry = f"""routing_key_file: {key_file}
    severity: '{{{{ .CommonLabels.severity }}}}'
    class: 'disk'
    component: '{{{{ .CommonLabels.alertname }}}}'
    group: 'storage'
    source: 'prom-{{{{ .Receiver }}}}'
    client: 'Spyglass'
    client_url: 'http://spyglass.example'
    description: '{{{{ .CommonAnnotations.summary }}}}'
    details:
      hosts: '{{{{ range .Alerts }}}}{{{{ .Labels.instance }}}} {{{{ end }}}}'
      count: '{{{{ len .Alerts }}}}'
      nested: {{inner: '{{{{ .Status }}}}', list: ['{{{{ .Receiver }}}}', 3]}}
      empty: '{{{{ .CommonLabels.nothing }}}}'
    images:
    - {{src: 'http://img.example/{{{{ .GroupLabels.alertname }}}}.png', alt: graph, href: 'http://g'}}
    - {{src: '', alt: dropped}}
    links:
    - {{href: 'http://runbook.example/disk', text: Runbook}}
    - {{href: '', text: dropped}}"""
    sender = _sender(pagerduty, entry)
    asyncio.run(sender.send(notification()))
    event = _sent(pagerduty)
    assert event["routing_key"] == "FILEKEY"
    assert event["client"] == "Spyglass"
    assert event["client_url"] == "http://spyglass.example"
    assert event["payload"] == {
        "summary": "disk almost full",
        "source": "prom-team",
        "severity": "critical",
        "class": "disk",
        "component": "DiskFull",
        "group": "storage",
        "custom_details": {
            "count": 2,
            "empty": None,
            "firing": event["payload"]["custom_details"]["firing"],  # type: ignore[index]
            "hosts": "db1 db2 ",
            "nested": {"inner": "firing", "list": ["team", 3]},
            "num_firing": 2,
            "num_resolved": 0,
            "resolved": [],
        },
    }
    assert event["images"] == [
        {"src": "http://img.example/DiskFull.png", "alt": "graph", "href": "http://g"}
    ]
    assert event["links"] == [{"href": "http://runbook.example/disk", "text": "Runbook"}]


def test_the_summary_is_cut_to_1024_characters(pagerduty: Recorder) -> None:
    sender = _sender(pagerduty, "{routing_key: K, description: '{{ .CommonAnnotations.summary }}'}")
    asyncio.run(sender.send(notification(summary="x" * 5000)))
    summary = _sent(pagerduty)["payload"]["summary"]  # type: ignore[index]
    assert summary == "x" * 1023 + "…"


def test_an_event_over_512kb_loses_its_details_and_says_why(pagerduty: Recorder) -> None:
    sender = _sender(pagerduty, "{routing_key: K}")
    asyncio.run(sender.send(notification(summary="y" * 300_000)))
    assert len(pagerduty.requests[0].body) <= MAX_EVENT_BYTES
    details = _sent(pagerduty)["payload"]["custom_details"]  # type: ignore[index]
    assert details == {
        "error": "Custom details have been removed because the original event exceeds the "
        "maximum size of 512kB"
    }


def test_a_service_key_sends_a_v1_event(pagerduty: Recorder) -> None:
    sender = _sender(pagerduty, "{service_key: SERVICESECRET}")
    sender = replace(sender, v1_url=f"{pagerduty.url}/generic/2010-04-15/create_event.json")
    asyncio.run(sender.send(notification()))
    assert pagerduty.requests[0].path == "/generic/2010-04-15/create_event.json"
    event = _sent(pagerduty)
    assert event["service_key"] == "SERVICESECRET"
    assert event["event_type"] == "trigger"
    assert event["incident_key"] == hashlib.sha256(b'{}:{alertname="DiskFull"}').hexdigest()
    assert event["description"] == "[FIRING:2] DiskFull (critical)"
    assert event["client"] == "Alertmanager"
    assert event["details"]["num_firing"] == 2  # type: ignore[index]
    assert "routing_key" not in event


@pytest.mark.parametrize(
    ("status", "retry"), [(429, True), (500, True), (502, True), (400, False), (403, False)]
)
def test_v2_retries_429_and_5xx_only(pagerduty: Recorder, status: int, retry: bool) -> None:
    pagerduty.answer = Answer(
        status,
        b'{"status":"invalid event","message":"Event object is invalid",'
        b'"errors":["Length of summary is too long"]}',
        "application/json",
    )
    sender = _sender(pagerduty, "{routing_key: K}")
    with pytest.raises(NotifyError, match=f"unexpected status code {status}") as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry is retry
    if status == 400:
        assert "Event object is invalid: Length of summary is too long" in str(info.value)


def test_v1_retries_403_as_pagerduty_asks(pagerduty: Recorder) -> None:
    pagerduty.answer = Answer(403, b"rate limited")
    sender = _sender(pagerduty, "{service_key: S}")
    sender = replace(sender, v1_url=f"{pagerduty.url}/v1")
    with pytest.raises(NotifyError) as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry


def test_keys_never_appear_in_an_error_or_a_log_line(
    pagerduty: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    pagerduty.answer = Answer(400, b'{"message":"bad","errors":["x"]}', "application/json")
    sender = _sender(pagerduty, "{routing_key: R0UTINGSECRET}")
    with caplog.at_level(logging.DEBUG), pytest.raises(NotifyError) as info:
        asyncio.run(sender.send(notification(summary="z" * 600_000)))
    assert "R0UTINGSECRET" not in str(info.value)
    assert all("R0UTINGSECRET" not in r.getMessage() for r in caplog.records)


def test_a_refused_connection_is_retried(tmp_path: Path) -> None:
    server = Recorder()
    server.close()  # nothing listens there any more
    sender = _sender(server, "{routing_key: K}")
    with pytest.raises(NotifyError, match="request failed") as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-0x1F", -31),
        ("1_000", 1000),
        ("1e3", 1000),
        ("2.5", 2.5),
        ("yes", True),
        ("off", False),
        ("~", None),
        ("", None),
        ("[1, a]", [1, "a"]),
        ('{"b": 1, "a": "2"}', {"a": "2", "b": 1}),
        ("12:30", "12:30"),  # no base-60 numbers in Go's yaml
        ("2024-01-02", "2024-01-02"),  # timestamps stay strings
        ("'quoted'", "'quoted'"),  # a YAML string keeps the rendered text
        ("plain words", "plain words"),
        ("a: [unclosed", "a: [unclosed"),
        ("&a [*a]", "&a [*a]"),
        ("!!timestamp 2001-12-14", "!!timestamp 2001-12-14"),
        ("!!binary aGk=", "!!binary aGk="),
        ("!!set {a}", "!!set {a}"),
        ("!!python/object:os.system x", "!!python/object:os.system x"),
    ],
)
def test_rendered_details_are_read_as_alertmanagers_yaml_reads_them(
    text: str, value: object
) -> None:
    assert read_yaml_value(text) == value


@given(st.text(max_size=200))
def test_any_rendered_detail_reads_back_as_json_encodable_data(text: str) -> None:
    value = read_yaml_value(text)
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        # NaN and infinities: Alertmanager cannot encode them either (the event fails).
        assert ".nan" in text.lower() or ".inf" in text.lower()


@given(status=st.integers(100, 599), body=st.binary(max_size=300))
def test_any_error_body_gives_details_or_nothing(status: int, body: bytes) -> None:
    assert isinstance(error_details(status, body), str)


@given(json_values())
def test_any_json_error_body_gives_details_or_nothing(value: object) -> None:
    assert isinstance(error_details(400, json.dumps(value).encode()), str)
