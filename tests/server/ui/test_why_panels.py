"""What the "Why?" panels ask: the expression of an alert (its rule's, or its generatorURL's
``g0.expr``) and the window around the alert or the incident."""

from __future__ import annotations

from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from spyglass.server.ui._why import (
    ALERT_WINDOW_MS,
    LEAD_MS,
    alert_question,
    generator_expression,
    incident_questions,
)

MIN = 60_000


def generator_url(external: str, expr: str) -> str:
    """A generatorURL as Prometheus (and Spyglass's rules) write it."""
    return f"{external}/graph?g0.expr={quote_plus(expr)}&g0.tab=1"


@given(st.text(min_size=1).filter(lambda s: s.strip()), st.sampled_from(["", "http://prom:9090"]))
def test_the_expression_of_a_generator_url_round_trips(expr: str, external: str) -> None:
    """Whatever Prometheus (or Spyglass) put in ``g0.expr`` comes back, whatever it holds."""
    assert generator_expression(generator_url(external, expr)) == expr.strip()


def test_urls_without_an_expression_give_none() -> None:
    assert generator_expression("") == ""
    assert generator_expression("http://grafana/d/abc?from=now-1h") == ""
    assert generator_expression("not a url at all") == ""


def test_an_alert_window_starts_before_it_became_active_and_ends_by_now() -> None:
    """From LEAD_MS before the activation to now, or ALERT_WINDOW_MS after it at most."""
    active = 1_000 * MIN
    young = alert_question("A", "x > 1", active, now_ms=active + 2 * MIN)
    assert (young.time_ms, young.window_ms) == (active + 2 * MIN, LEAD_MS + 2 * MIN)
    old = alert_question("A", "x > 1", active, now_ms=active + 600 * MIN)
    assert (old.time_ms, old.window_ms) == (active + ALERT_WINDOW_MS, LEAD_MS + ALERT_WINDOW_MS)
    assert old.window == f"{(LEAD_MS + ALERT_WINDOW_MS) // 1000}s"
    assert alert_question("A", "", active, active).reason


def test_an_incident_asks_once_per_expression_of_its_alerts() -> None:
    url = generator_url("", "sum(rate(errors_total[5m])) > 1")
    incident = {
        "alerts": {
            "f1": {"labels": {"alertname": "Errors", "route": "/a"}, "generator_url": url},
            "f2": {"labels": {"alertname": "Errors", "route": "/b"}, "generator_url": url},
            "f3": {"labels": {"alertname": "Pushed"}, "generator_url": ""},
        }
    }
    [q] = incident_questions(incident, 100 * MIN, 130 * MIN)
    assert (q.title, q.query) == ("Errors", "sum(rate(errors_total[5m])) > 1")
    assert (q.time_ms, q.window_ms) == (130 * MIN, 30 * MIN + LEAD_MS)


def test_an_incident_without_expressions_says_why() -> None:
    [q] = incident_questions({"alerts": {"f": {"labels": {"alertname": "Pushed"}}}}, 0, MIN)
    assert not q.query
    assert "Pushed" in q.reason
    assert "generatorURL" in q.reason
    [q] = incident_questions({"alerts": {}}, 0, MIN)
    assert q.reason == "No alert joined this incident, so no expression to explain."
