"""The alert store on disk: what the router knew survives a restart.

Alertmanager keeps alerts in memory only and relies on clients to send them again; Spyglass also
writes each changed alert to the control-plane ``StateStore`` (about once a second, in the
background) and reads them back at start, so an alert a client posted once, or a resolve that
was not yet notified, is not lost by a restart. A document expires 30 minutes after its alert
ends, when the in-memory store would have collected it anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spyglass.alerting._alertstore import GC_INTERVAL_MS, StoredAlert
from spyglass.core.alerts import Alert
from spyglass.storage.ports import StateStore

KIND = "alertmanager.alert"
_PAGE = 500


def encode(alert: StoredAlert) -> dict[str, Any]:
    """The JSON document of ``alert``."""
    a = alert.alert
    return {
        "labels": [list(p) for p in a.labels],
        "annotations": [list(p) for p in a.annotations],
        "startsAt": a.starts_at_ms,
        "endsAt": a.ends_at_ms,
        "generatorURL": a.generator_url,
        "updatedAt": alert.updated_ms,
        "timeout": alert.timeout,
    }


def decode(fingerprint: str, value: dict[str, Any]) -> StoredAlert:
    """The alert of a document written by ``encode``."""
    alert = Alert(
        tuple((str(n), str(v)) for n, v in value["labels"]),
        tuple((str(n), str(v)) for n, v in value["annotations"]),
        int(value["startsAt"]),
        int(value["endsAt"]),
        str(value["generatorURL"]),
    )
    return StoredAlert(alert, fingerprint, int(value["updatedAt"]), bool(value["timeout"]))


def save(state: StateStore, changed: Iterable[StoredAlert], deleted: Iterable[str]) -> None:
    """Write changed alerts and drop deleted ones (synchronous: run it in a thread)."""
    for alert in changed:
        expires = alert.alert.ends_at_ms + GC_INTERVAL_MS
        state.put(KIND, alert.fingerprint, encode(alert), expires_ms=expires)
    for fp in deleted:
        state.delete(KIND, fp)


def load(state: StateStore) -> list[StoredAlert]:
    """Every alert written and not yet expired (synchronous: run it in a thread)."""
    out: list[StoredAlert] = []
    after = ""
    while True:
        page = state.scan(KIND, start_after=after, limit=_PAGE)
        out.extend(decode(doc.key, doc.value) for doc in page)
        if len(page) < _PAGE:
            return out
        after = page[-1].key


__all__ = ["KIND", "decode", "encode", "load", "save"]
