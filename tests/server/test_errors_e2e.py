"""Error tracking end to end: the real ``sentry_sdk`` against a real ``spyglass serve``.

An app (``sentry_app.py``, its own process) raises from one place twice and from another once and
captures a message, with breadcrumbs, a user, a tag and a release: three issues, counted and
readable through the errors API and the CLI, each announced as ``NewErrorIssue`` to a loopback
webhook that alertmanager.yml routes to. Resolved in the next release, the issue stays resolved
for events of the same release and comes back, regressed, with a new one: a
``RegressedErrorIssue`` arrives. After ``kill -9`` (events only in the WAL: the flush interval is
an hour) everything acknowledged reads back. Bad requests get Relay's error shapes and the
server keeps serving.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.servers import Server, free_port, spyglass, stop
from tests.support.webhooks import WebhookSink

APP = Path(__file__).with_name("sentry_app.py")
KEY = "a1b2c3d4e5f6"
AM_CONFIG = """
route:
  receiver: hook
  group_by: [alertname, issue_id]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{hook}/hook"}}]
"""


def run_app(url: str, release: str, scenario: str) -> dict[str, list[str]]:
    dsn = url.replace("http://", f"http://{KEY}@") + "/1"
    done = subprocess.run(
        [sys.executable, str(APP), dsn, release, scenario],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    ids: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(all(captured) for captured in ids.values()), ids
    return ids


def wait_for(check: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.2)


def issues(url: str, **params: str) -> list[dict[str, Any]]:
    r = httpx.get(url + "/api/errors/issues", params=params)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["issues"]
    return found


def by_title(url: str) -> dict[str, dict[str, Any]]:
    return {i["title"]: i for i in issues(url)}


def cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "spyglass", "errors", *args, "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def alerts(sink: WebhookSink) -> list[dict[str, Any]]:
    return [a for r in sink.received for a in r.body["alerts"]]


def envelope(*items: tuple[dict[str, Any], bytes]) -> bytes:
    out = [json.dumps({"dsn": f"http://{KEY}@h/1"}).encode()]
    for header, payload in items:
        out += [json.dumps({**header, "length": len(payload)}).encode(), payload]
    return b"\n".join(out) + b"\n"


def auth(key: str = KEY) -> dict[str, str]:
    return {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}


def test_sentry_sdk_issues_regressions_alerts_and_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    with WebhookSink() as hook:
        am = tmp_path / "alertmanager.yml"
        am.write_text(AM_CONFIG.format(hook=hook.url))
        args = (
            "--alertmanager-config-file", str(am),
            "--flush-interval", "1h",
            "--errors-keys", f"1:{KEY}",
            "--max-body-bytes", "4MiB",
        )  # fmt: skip
        with spyglass(data, *args, port=port) as sg:
            url = sg.url
            first = run_app(url, "shop@1.0", "first")
            found = wait_for(lambda: len(issues(url)) == 3 and by_title(url))
            charge = found["ZeroDivisionError: division by zero"]
            ship = found["KeyError: 'no address for order 7'"]
            message = found["payment provider slow"]
            # Two raises from one place are one issue; another place and a message are others.
            assert (charge["count"], ship["count"], message["count"]) == (2, 1, 1)
            assert charge["culprit"] == "__main__ in charge"
            assert charge["userCount"] == 1
            assert charge["level"] == "error"
            assert message["level"] == "warning"
            assert charge["firstRelease"] == charge["lastRelease"] == "shop@1.0"
            assert charge["status"] == "unresolved"

            detail = httpx.get(f"{url}/api/errors/issues/{charge['id']}").json()
            assert detail["releases"] == [{"name": "shop@1.0", "count": 2}]
            assert detail["environments"] == [{"name": "staging", "count": 2}]
            assert sum(detail["series"]["counts"]) == 2
            assert len(detail["series"]["counts"]) == 24

            events = httpx.get(f"{url}/api/errors/issues/{charge['id']}/events").json()["events"]
            assert sorted(e["eventID"] for e in events) == sorted(first["charge"])
            latest = events[0]
            frames = latest["exceptions"][-1]["frames"]
            assert [f["function"] for f in frames][-2:] == ["main", "charge"]
            assert frames[-1]["contextLine"].strip().startswith("return 100 / (order - order)")
            assert [b["message"] for b in latest["breadcrumbs"]][-2:] == [
                "checkout of order 41",
                "checkout of order 42",
            ]
            assert latest["user"]["id"] == "user-7"
            assert {"key": "route", "value": "/orders/{id}"} in latest["tags"]
            assert latest["release"] == "shop@1.0"
            assert latest["environment"] == "staging"
            one = httpx.get(f"{url}/api/errors/events/{first['message'][0]}").json()
            assert one["message"] == "payment provider slow"
            assert one["level"] == "warning"

            # Filters: release, text, status.
            assert len(issues(url, release="shop@1.0")) == 3
            assert issues(url, release="shop@0.9") == []
            assert [i["id"] for i in issues(url, query="KEYERROR")] == [ship["id"]]

            # Three new issues, three alerts through alertmanager.yml's route.
            wait_for(lambda: len(alerts(hook)) >= 3)
            new = {a["labels"]["issue_id"]: a for a in alerts(hook)}
            assert set(new) == {charge["id"], ship["id"], message["id"]}
            label = new[charge["id"]]["labels"]
            assert label == {
                "alertname": "NewErrorIssue",
                "project": "1",
                "issue_id": charge["id"],
                "level": "error",
                "release": "shop@1.0",
                "environment": "staging",
            }
            annotations = new[charge["id"]]["annotations"]
            assert annotations["title"] == "ZeroDivisionError: division by zero"
            assert annotations["culprit"] == "__main__ in charge"
            assert annotations["link"].endswith(f"/errors/{charge['id']}")

            # The CLI lists and shows them.
            listing = cli(url)
            assert "ZeroDivisionError" in listing
            assert "payment provider slow" in listing
            shown = cli(url, "show", charge["id"])
            assert "Traceback (most recent call last):" in shown
            assert "return 100 / (order - order)" in shown
            assert "checkout of order 42" in shown

            # Resolved in the next release: the same release does not bring it back...
            out = cli(url, "resolve", charge["id"], "--next-release")
            assert "resolved in next release" in out
            again = run_app(url, "shop@1.0", "again")
            wait_for(lambda: by_title(url)[charge["title"]]["count"] == 3)
            assert by_title(url)[charge["title"]]["status"] == "resolved"
            # ...a new release does: unresolved, regressed, and an alert.
            newer = run_app(url, "shop@1.1", "again")
            wait_for(lambda: by_title(url)[charge["title"]]["count"] == 4)
            regressed = by_title(url)[charge["title"]]
            assert regressed["status"] == "unresolved"
            assert regressed["isRegressed"] is True
            assert regressed["substatus"] == "regressed"
            assert regressed["lastRelease"] == "shop@1.1"
            wait_for(
                lambda: any(a["labels"]["alertname"] == "RegressedErrorIssue" for a in alerts(hook))
            )
            back = [a for a in alerts(hook) if a["labels"]["alertname"] == "RegressedErrorIssue"]
            assert {a["labels"]["issue_id"] for a in back} == {charge["id"]}
            assert back[0]["labels"]["release"] == "shop@1.1"

            # Ignored: counted, no alert. Unknown issue: 404 in Spyglass's shape.
            cli(url, "ignore", ship["id"])
            assert by_title(url)[ship["title"]]["status"] == "ignored"
            r = httpx.put(f"{url}/api/errors/issues/999999", json={"status": "resolved"})
            assert r.status_code == 404
            assert r.json() == {"error": "no issue 999999"}
            r = httpx.put(f"{url}/api/errors/issues/{ship['id']}", json={"status": "gone"})
            assert r.status_code == 400
            assert "status must be one of" in r.json()["error"]

            check_bad_input(url)
            acknowledged = [
                *first["charge"], *first["ship"], *first["message"],
                *again["charge"], *newer["charge"],
            ]  # fmt: skip
            server: Server = sg
            assert stop(server, signal.SIGKILL) != 0

        # Restarted on the same data dir: the WAL replay brings back every acknowledged event,
        # and the issues (state store) are as they were, counted once.
        with spyglass(data, *args, port=port) as sg:
            url = sg.url
            after = by_title(url)
            assert after[charge["title"]]["count"] == 4
            assert after[ship["title"]]["count"] == 1
            assert after[ship["title"]]["status"] == "ignored"
            for event_id in acknowledged:
                r = httpx.get(f"{url}/api/errors/events/{event_id}")
                assert r.status_code == 200, (event_id, r.text)
                assert r.json()["eventID"] == event_id
            events = httpx.get(f"{url}/api/errors/issues/{charge['id']}/events").json()["events"]
            assert len(events) == 4


# An app that traces with OpenTelemetry and reports errors with sentry_sdk, set up as Sentry's
# docs show for OpenTelemetry users: the OTLP integration ships the app's spans to the DSN's
# OTLP endpoint and names the current span in each event.
OTLP_APP = """
import json, sys
import sentry_sdk
from opentelemetry import trace
from sentry_sdk.integrations.otlp import OTLPIntegration

sentry_sdk.init(dsn=sys.argv[1], release="shop@2.0", default_integrations=False,
                auto_enabling_integrations=False, integrations=[OTLPIntegration()])
with trace.get_tracer("shop").start_as_current_span("place order") as span:
    try:
        {}["cart"]
    except KeyError:
        event_id = sentry_sdk.capture_exception()
ids = span.get_span_context()
sentry_sdk.flush(timeout=30)
trace.get_tracer_provider().shutdown()  # its batch processor exports the span
print(json.dumps([event_id, format(ids.trace_id, "032x"), format(ids.span_id, "016x")]))
"""


def test_sentry_sdks_otlp_integration_sends_its_spans_and_links_its_events(
    tmp_path: Path,
) -> None:
    with spyglass(tmp_path / "data", "--errors-keys", f"1:{KEY}") as sg:
        dsn = sg.url.replace("http://", f"http://{KEY}@") + "/1"
        done = subprocess.run(
            [sys.executable, "-c", OTLP_APP, dsn],
            env={**os.environ, "OTEL_SERVICE_NAME": "shop"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert "Failed to export" not in done.stderr, done.stderr
        event_id, trace_id, span_id = json.loads(done.stdout.strip().splitlines()[-1])
        (trace,) = httpx.get(f"{sg.url}/api/traces/{trace_id}").json()["data"]
        (span,) = trace["spans"]
        assert (span["spanID"], span["operationName"]) == (span_id, "place order")
        assert trace["processes"][span["processID"]]["serviceName"] == "shop"
        event = httpx.get(f"{sg.url}/api/errors/events/{event_id}").json()
        assert (event["traceId"], event["spanId"]) == (trace_id, span_id)
        assert event["title"] == "KeyError: 'cart'"


def check_bad_input(url: str) -> None:
    """Relay's error shapes for what a client gets wrong; the server keeps serving."""
    env_url = f"{url}/api/1/envelope/"
    r = httpx.post(env_url, content=b"\x00\xffnot an envelope{{", headers=auth())
    assert r.status_code == 400
    assert r.json()["detail"] == "invalid event envelope"
    assert r.headers["x-sentry-error"] == "invalid event envelope"
    r = httpx.post(env_url, content=envelope(({"type": "event"}, b"[1, 2")), headers=auth())
    assert r.status_code == 400
    assert r.json()["causes"][0].startswith("invalid event")
    # No key anywhere: 401; a key --errors-keys does not list: 403.
    r = httpx.post(env_url, content=b'{}\n{"type":"event"}\n{}\n')
    assert r.status_code == 401
    assert r.json() == {
        "detail": "bad x-sentry-auth header",
        "causes": ["missing authorization information"],
    }
    r = httpx.post(env_url, content=envelope(({"type": "event"}, b"{}")), headers=auth("nope"))
    assert r.status_code == 403
    assert r.json() == {"detail": "event submission rejected with_reason: ProjectId"}
    r = httpx.post(f"{url}/api/2/store/", content=b"{}", headers=auth())
    assert r.status_code == 403  # the key is for project 1 only
    # An event over Sentry's 1 MB: 400 with Relay's size-limit message.
    giant = json.dumps({"message": "x" * (1024 * 1024 + 10)}).encode()
    r = httpx.post(env_url, content=envelope(({"type": "event"}, giant)), headers=auth())
    assert r.status_code == 400
    assert r.json()["detail"].startswith("envelope exceeded size limits for type 'event'")
    # A body over --max-body-bytes: 413; a gzip bomb the same once expanded.
    r = httpx.post(env_url, content=b"x" * (5 * 1024 * 1024), headers=auth())
    assert r.status_code == 413
    assert r.json()["detail"] == "failed to read request body"
    bomb = gzip.compress(b"\n" * (50 * 1024 * 1024))
    r = httpx.post(env_url, content=bomb, headers={**auth(), "Content-Encoding": "gzip"})
    assert r.status_code == 413
    # CORS preflight as Relay answers a browser SDK.
    r = httpx.options(
        env_url,
        headers={"Origin": "http://shop.test", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "x-sentry-auth" in r.headers["access-control-allow-headers"]
    # Still serving: a browser-style request (key in the query) is stored; sessions and client
    # reports alongside are accepted and dropped.
    body = envelope(
        ({"type": "session"}, b'{"sid":"x","status":"ok"}'),
        ({"type": "event"}, b'{"event_id":"0123456789abcdef0123456789abcdef","message":"hi"}'),
        ({"type": "client_report"}, b'{"discarded_events":[]}'),
    )
    r = httpx.post(f"{env_url}?sentry_key={KEY}&sentry_version=7", content=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "0123456789abcdef0123456789abcdef"}
    assert r.headers["access-control-allow-origin"] == "*"
    assert httpx.get(f"{url}/-/ready").status_code == 200
