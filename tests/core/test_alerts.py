"""The alert value type and its Alertmanager API v2 form."""

from __future__ import annotations

import json
from collections.abc import Sequence

from spyglass.core.alerts import Alert, FanOut, encode_postable, format_time
from spyglass.core.labels import labels_of


def test_times_are_written_as_alertmanager_writes_them() -> None:
    assert format_time(0) == "1970-01-01T00:00:00.000Z"
    assert format_time(1_700_000_000_007) == "2023-11-14T22:13:20.007Z"


def test_an_alert_is_resolved_once_its_end_has_passed() -> None:
    a = Alert(labels_of({"alertname": "Down"}), starts_at_ms=1_000, ends_at_ms=5_000)
    assert a.name == "Down"
    assert not a.resolved_at(4_999)
    assert a.resolved_at(5_000)
    assert not Alert(labels_of({"alertname": "Up"})).resolved_at(10**15)  # no end: active


def test_postable_json_leaves_out_what_is_not_set() -> None:
    a = Alert(labels_of({"alertname": "X", "job": "api"}), labels_of({"summary": "s"}), 1_000)
    assert json.loads(encode_postable([a])) == [
        {
            "labels": {"alertname": "X", "job": "api"},
            "annotations": {"summary": "s"},
            "startsAt": "1970-01-01T00:00:01.000Z",
        }
    ]


def test_fan_out_hands_every_batch_to_each_sink_in_order() -> None:
    got: list[tuple[str, int]] = []

    class Sink:
        def __init__(self, name: str) -> None:
            self.name = name

        def send(self, alerts: Sequence[Alert]) -> None:
            got.append((self.name, len(alerts)))

    FanOut(Sink("router"), Sink("notifier")).send([Alert(labels_of({"alertname": "A"}))])
    assert got == [("router", 1), ("notifier", 1)]
