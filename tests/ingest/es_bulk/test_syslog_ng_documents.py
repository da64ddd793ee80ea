"""Documents as syslog-ng's ``elasticsearch-http()`` writes them with its default template
(``$(format-json --scope rfc5424 ...)``: syslog-ng's macro names) map like ECS documents do:
``MESSAGE`` is the line, ``HOST`` the host label, ``PRIORITY`` the level; ECS names win when a
document has both."""

from __future__ import annotations

import json

from spyglass.core.limits import LogLimits
from spyglass.ingest.es_bulk import decode_bulk, document_record

SYSLOG_NG = {
    "PROGRAM": "nginx",
    "PRIORITY": "err",
    "PID": "42",
    "MESSAGE": "upstream timed out",
    "ISODATE": "2024-03-10T12:00:00+00:00",
    "HOST": "web-1",
    "FACILITY": "daemon",
    "@timestamp": "2024-03-10T12:00:00+00:00",
}


def test_syslog_ng_default_template() -> None:
    r = document_record(json.dumps(SYSLOG_NG).encode(), "app-logs", 0)
    assert r.line == "upstream timed out"
    assert r.stream == (("host_name", "web-1"), ("index", "app-logs"))
    assert r.severity_text == "err"
    assert r.timestamp_ns == 1710072000 * 10**9
    assert dict(r.metadata) == {
        "PROGRAM": "nginx",
        "PID": "42",
        "ISODATE": "2024-03-10T12:00:00+00:00",
        "FACILITY": "daemon",
        "detected_level": "err",
    }


def test_ecs_names_win_over_syslog_ng_macros() -> None:
    doc = {**SYSLOG_NG, "message": "ecs line", "host": {"name": "h"}, "log": {"level": "warn"}}
    r = document_record(json.dumps(doc).encode(), "i", 0)
    assert r.line == "ecs line"
    assert dict(r.stream)["host_name"] == "h"
    assert r.severity_text == "warn"


def test_the_bulk_body_syslog_ng_sends_is_accepted() -> None:
    # elasticsearch-http() writes index._type only when type() is set; with type("") the
    # action is {"index":{"_index":...}}, and each batch ends with body_suffix("\n").
    action = json.dumps({"index": {"_index": "app-logs"}})
    body = "\n".join([action, json.dumps(SYSLOG_NG)] * 3) + "\n"
    got = decode_bulk(body.encode(), "", LogLimits(), 1710072000 * 10**9)
    assert not got.errors
    assert [r.line for r in got.batch] == ["upstream timed out"] * 3
