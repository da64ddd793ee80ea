"""Incidents: opened by hand or by alerts, with a status, a commander and a timeline.

An incident is a document in the state store (kind ``incident``, key its zero-padded number)
and its timeline a journal (``incident/<number>``), so both survive restarts and every node
sharing the state database sees them. The timeline records everything that happens: opening,
every alert that joins (and when it resolves), every status, severity or commander change and
every note. Status changes and updates go out as ``IncidentUpdate`` alerts through the router,
so alertmanager.yml's routes decide who hears about them, with every receiver it has.

``observe`` is the router's alert listener: an alert matching a rule of ``spyglass: incidents:``
joins the open incident with the same group key, or opens one at the rule's SEV. Nodes that share
the state database each see the same alerts; a claim document per group key, taken with a
compare-and-set, lets exactly one of them open the incident while the others wait for it and join.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from spyglass.core.alerts import Alert
from spyglass.core.errors import BadInput, Conflict, Unavailable
from spyglass.incidents._config import LEVELS, IncidentsConfig
from spyglass.storage.ports import StateStore

KIND = "incident"
SEQUENCE_KIND = "incident-sequence"
CLAIM_KIND = "incident-claim"
# A claim whose holder has not opened its incident within this long is taken over (the holder
# died between claiming and opening); waiting nodes look again every CLAIM_POLL_S.
CLAIM_STALE_MS = 30_000
CLAIM_POLL_S = 0.02
STATUSES = ("investigating", "identified", "monitoring", "resolved")
EDITABLE = ("title", "severity", "commander", "summary", "root_cause", "actions")
# How long an IncidentUpdate alert stays firing: long enough for group_wait, short enough that
# the next update is a new notification.
UPDATE_ALERT_MS = 5 * 60_000
MAX_TEXT = 10_000


class NotFound(BadInput):
    """No incident with that id."""


def _now() -> int:
    return int(time.time() * 1000)


def incident_id(number: int) -> str:
    """``INC-42``."""
    return f"INC-{number}"


def _key(number: int) -> str:
    return f"{number:09d}"


def _claim_key(group_key: str) -> str:
    # Group keys hold label values of any length; the claim's key must stay short.
    return hashlib.sha256(group_key.encode()).hexdigest()


def _number(ident: str) -> int:
    text = ident.removeprefix("INC-")
    if not text.isdigit():
        raise NotFound(f"no incident {ident!r}")
    return int(text)


def _text(value: object, what: str, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be a string")
    if required and not value.strip():
        raise BadInput(f"{what} is required")
    if len(value) > MAX_TEXT:
        raise BadInput(f"{what} is longer than {MAX_TEXT} characters")
    return value


def _alert_text(alert: Alert) -> str:
    labels = dict(alert.labels)
    shown = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    return f"{labels.get('alertname', '')}{{{shown}}}"


def _alert_entry(alert: Alert, state: str) -> dict[str, Any]:
    return {
        "labels": dict(alert.labels),
        "status": state,
        "starts_ms": alert.starts_at_ms,
        "ends_ms": alert.ends_at_ms if state == "resolved" else None,
        "generator_url": alert.generator_url,
    }


class IncidentService:
    """Incidents over a state store; every method is synchronous (call from a thread)."""

    def __init__(
        self,
        state: StateStore,
        *,
        notify: Callable[[Sequence[Alert]], None] | None = None,
        clock: Callable[[], int] = _now,
        external_url: str = "",
    ) -> None:
        self.state = state
        self.notify = notify
        self.clock = clock
        self.external_url = external_url.rstrip("/")
        self.config = IncidentsConfig()
        self._lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------
    def get(self, ident: str) -> dict[str, Any]:
        """The incident with its timeline; ``NotFound`` when there is none."""
        doc = self.state.get(KIND, _key(_number(ident)))
        if doc is None:
            raise NotFound(f"no incident {ident!r}")
        incident = dict(doc.value)
        incident["timeline"] = self.timeline(ident)
        return incident

    def timeline(self, ident: str) -> list[dict[str, Any]]:
        """Every timeline entry, oldest first."""
        journal = f"{KIND}/{_key(_number(ident))}"
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.state.read(journal, after_id=after, limit=500)
            out.extend({**e.value, "time_ms": e.time_ms} for e in page)
            if len(page) < 500:
                return out
            after = page[-1].id

    def search(self, status: str = "open") -> list[dict[str, Any]]:
        """Incidents newest first: ``open`` (not resolved), ``resolved`` or ``all``."""
        out: list[dict[str, Any]] = []
        after = ""
        while True:
            page = self.state.scan(KIND, start_after=after, limit=500)
            for doc in page:
                resolved = doc.value["status"] == "resolved"
                if status == "all" or (status == "resolved") == resolved:
                    out.append(doc.value)
            if len(page) < 500:
                break
            after = page[-1].key
        return sorted(out, key=lambda i: -int(i["number"]))

    # -- writing ------------------------------------------------------------------------------
    def open(
        self,
        title: str,
        severity: str = "SEV3",
        *,
        commander: str = "",
        summary: str = "",
        by: str = "",
        labels: dict[str, str] | None = None,
        group_key: str = "",
        time_ms: int | None = None,
        alert: tuple[Alert, str] | None = None,
    ) -> dict[str, Any]:
        """Open an incident; the timeline starts with its opening (and the alert that opened
        it, when ``alert`` gives one with its fingerprint)."""
        title = _text(title, "title", required=True)
        if severity not in LEVELS:
            raise BadInput(f"severity must be one of {', '.join(LEVELS)}, not {severity!r}")
        now = time_ms or self.clock()
        number = self._next_number()
        incident = {
            "id": incident_id(number),
            "number": number,
            "title": title,
            "severity": severity,
            "status": "investigating",
            "commander": _text(commander, "commander"),
            "summary": _text(summary, "summary"),
            "root_cause": "",
            "actions": [],
            "labels": dict(labels or {}),
            "group_key": group_key,
            "alerts": {alert[1]: _alert_entry(alert[0], "firing")} if alert else {},
            "opened_ms": now,
            "opened_by": _text(by, "by"),
            "resolved_ms": None,
            "postmortem": None,
        }
        self.state.put(KIND, _key(number), incident, expected_version=0)
        what = f"Incident opened at {severity} by {by}" if by else f"Incident opened at {severity}"
        self._entry(number, "opened", what, by, time_ms=now)
        if alert is not None:
            text = f"Alert {_alert_text(alert[0])} joined"
            self._entry(number, "alert", text, "", data={"fingerprint": alert[1]})
        self._update_alert(incident, what)
        return self.get(incident_id(number))

    def note(self, ident: str, text: str, by: str = "") -> dict[str, Any]:
        """Add a note to the timeline."""
        number = _number(ident)
        self.get(ident)
        self._entry(number, "note", _text(text, "text", required=True), by)
        return self.get(ident)

    def set_status(self, ident: str, status: str, by: str = "", text: str = "") -> dict[str, Any]:
        """Move to ``status``; the change and its message go on the timeline and out as an
        update. Resolving stamps the resolution time; any other status reopens."""
        if status not in STATUSES:
            raise BadInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        text = _text(text, "text")

        def change(incident: dict[str, Any]) -> str | None:
            if incident["status"] == status:
                return None
            old = incident["status"]
            incident["status"] = status
            incident["resolved_ms"] = self.clock() if status == "resolved" else None
            return f"Status {old} → {status}" + (f": {text}" if text else "")

        return self._change(ident, change, "status", by)

    def update(self, ident: str, fields: dict[str, Any], by: str = "") -> dict[str, Any]:
        """Change title, severity, commander, summary, root cause or actions."""
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise BadInput(f"unknown fields {sorted(unknown)}; editable: {', '.join(EDITABLE)}")
        if "severity" in fields and fields["severity"] not in LEVELS:
            raise BadInput(f"severity must be one of {', '.join(LEVELS)}")
        if "actions" in fields and not (
            isinstance(fields["actions"], list)
            and all(isinstance(a, str) for a in fields["actions"])
        ):
            raise BadInput("actions must be a list of strings")
        for name in ("title", "commander", "summary", "root_cause"):
            if name in fields:
                _text(fields[name], name, required=name == "title")

        def change(incident: dict[str, Any]) -> str | None:
            said = []
            for name, value in fields.items():
                if incident.get(name) == value:
                    continue
                old = incident.get(name) or "(none)"
                shown = f"{old} → {value}" if name in ("severity", "commander") else "edited"
                said.append(f"{name.replace('_', ' ').capitalize()} {shown}")
                incident[name] = value
            return "; ".join(said) or None

        notify = "severity" in fields
        return self._change(ident, change, "change", by, notify=notify)

    def set_postmortem(self, ident: str, text: str | None, by: str = "") -> dict[str, Any]:
        """Keep an edited postmortem (``None`` goes back to the generated draft)."""

        def change(incident: dict[str, Any]) -> str | None:
            incident["postmortem"] = _text(text, "postmortem") if text is not None else None
            return "Postmortem edited"

        return self._change(ident, change, "postmortem", by, notify=False)

    # -- alerts -------------------------------------------------------------------------------
    def observe(self, alert: Alert, fingerprint: str) -> None:
        """An alert the router stored: open or join an incident when a rule says so.

        The router hands over every update of every alert (rules resend theirs at each
        evaluation), so an alert no rule selects costs no read of the state store, and one that
        does costs one scan of the open incidents.
        """
        labels = dict(alert.labels)
        rule = self.config.rule_for(labels)
        if rule is None or labels.get("alertname") == "IncidentUpdate":
            return
        now = self.clock()
        firing = not alert.resolved_at(now)
        with self._lock:
            open_now = self.search("open")
            joined = next((i for i in open_now if fingerprint in i["alerts"]), None)
            if joined is not None:
                was = joined["alerts"][fingerprint]["status"]
                if was == "firing" and not firing:
                    self._alert_state(joined, fingerprint, "resolved", alert)
                elif was == "resolved" and firing:
                    self._alert_state(joined, fingerprint, "firing", alert)
                return
            if not firing:
                return
            key = rule.group_key(labels)
            incident = next((i for i in open_now if i.get("group_key") == key), None)
            if incident is None:
                incident = self._claim(key)
            if incident is not None:
                # From a claim, the incident may be another node's, opened with this very alert.
                if incident["alerts"].get(fingerprint, {}).get("status") != "firing":
                    self._alert_state(incident, fingerprint, "firing", alert)
                return
            common = {k: labels[k] for k in rule.group_by if k in labels}
            for extra in ("service", "job", "instance", "namespace"):
                if extra in labels:
                    common.setdefault(extra, labels[extra])
            try:
                opened = self.open(
                    rule.title_for(labels),
                    rule.severity,
                    commander=rule.commander,
                    by="alert",
                    labels=common,
                    group_key=key,
                    time_ms=alert.starts_at_ms or now,
                    alert=(alert, fingerprint),
                )
            except Exception:
                self.state.delete(CLAIM_KIND, _claim_key(key))  # others need not wait it out
                raise
            self._claimed(key, int(opened["number"]))

    def _claim(self, key: str) -> dict[str, Any] | None:
        """Take the right to open the incident of group ``key`` (None: this node opens it), or
        the open incident another node opened for it (waiting while that node opens it)."""
        deadline = time.monotonic() + CLAIM_STALE_MS / 1000
        while True:
            doc = self.state.get(CLAIM_KIND, _claim_key(key))
            holder: dict[str, Any] | None = None
            pending = False
            if doc is not None:
                number = doc.value.get("number")
                if number is None:
                    pending = self.clock() - int(doc.value["at_ms"]) < CLAIM_STALE_MS
                else:
                    found = self.state.get(KIND, _key(int(number)))
                    if found is not None and found.value["status"] != "resolved":
                        holder = dict(found.value)
            if holder is not None:
                return holder
            if not pending:
                try:
                    self.state.put(
                        CLAIM_KIND, _claim_key(key), {"number": None, "at_ms": self.clock()},
                        expected_version=doc.version if doc else 0,
                    )  # fmt: skip
                except Conflict:
                    continue  # another node claimed first: see what it holds
                return None
            if time.monotonic() > deadline:
                raise Unavailable(f"another node claimed incident group {key!r}, never opened it")
            time.sleep(CLAIM_POLL_S)

    def _claimed(self, key: str, number: int) -> None:
        """Point this node's claim at the incident it opened, so waiting nodes join it."""
        ck = _claim_key(key)
        doc = self.state.get(CLAIM_KIND, ck)
        value = {"number": number, "at_ms": self.clock()}
        self.state.put(CLAIM_KIND, ck, value, expected_version=doc.version if doc else 0)

    def _alert_state(
        self, incident: dict[str, Any], fingerprint: str, state: str, alert: Alert
    ) -> None:
        shown = _alert_text(alert)

        def change(doc: dict[str, Any]) -> str | None:
            # Decided on the stored document: another node may have recorded it meanwhile.
            known = doc["alerts"].get(fingerprint)
            if known is not None and known["status"] == state:
                return None
            doc["alerts"][fingerprint] = _alert_entry(alert, state)
            if known is None:
                return f"Alert {shown} joined"
            return f"Alert {shown} {'resolved' if state == 'resolved' else 'fires again'}"

        self._change(
            incident["id"], change, "alert", "", notify=False, data={"fingerprint": fingerprint}
        )

    # -- internals ----------------------------------------------------------------------------
    def _next_number(self) -> int:
        for _ in range(100):
            doc = self.state.get(SEQUENCE_KIND, "next")
            number = int(doc.value["next"]) if doc else 1
            try:
                self.state.put(
                    SEQUENCE_KIND, "next", {"next": number + 1},
                    expected_version=doc.version if doc else 0,
                )  # fmt: skip
            except Conflict:
                continue
            return number
        raise Unavailable("could not take an incident number: too many concurrent writers")

    def _entry(
        self, number: int, kind: str, text: str, by: str, *, time_ms: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        value = {"kind": kind, "text": text, "by": by, **({"data": data} if data else {})}
        self.state.append(f"{KIND}/{_key(number)}", value, time_ms=time_ms or self.clock())

    def _change(
        self,
        ident: str,
        change: Callable[[dict[str, Any]], str | None],
        kind: str,
        by: str,
        *,
        notify: bool = True,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        number = _number(ident)
        for _ in range(100):
            doc = self.state.get(KIND, _key(number))
            if doc is None:
                raise NotFound(f"no incident {ident!r}")
            incident = dict(doc.value)
            said = change(incident)
            if said is None:
                return self.get(ident)
            try:
                self.state.put(KIND, _key(number), incident, expected_version=doc.version)
            except Conflict:
                continue
            self._entry(number, kind, said, _text(by, "by"), data=data)
            if notify:
                self._update_alert(incident, said)
            return self.get(ident)
        raise Unavailable(f"incident {ident} changed too often to update it")

    def _update_alert(self, incident: dict[str, Any], text: str) -> None:
        if self.notify is None or not self.config.updates:
            return
        now = self.clock()
        labels = {
            "alertname": "IncidentUpdate",
            "incident": incident["id"],
            "incident_severity": incident["severity"],
            "incident_status": incident["status"],
            **{k: v for k, v in incident["labels"].items() if k in ("service", "job")},
        }
        annotations = {
            "summary": f"[{incident['severity']}] {incident['id']} {incident['title']}",
            "description": text,
            "commander": incident["commander"],
        }
        url = f"{self.external_url}/incidents/{incident['id']}" if self.external_url else ""
        alert = Alert(
            labels=tuple(sorted(labels.items())),
            annotations=tuple(sorted(annotations.items())),
            starts_at_ms=now,
            ends_at_ms=now + UPDATE_ALERT_MS,
            generator_url=url,
        )
        self.notify([alert])


__all__ = ["EDITABLE", "STATUSES", "IncidentService", "NotFound", "incident_id"]
