"""Acknowledgement and escalation: someone owns an alert, or the next person is told.

Alertmanager repeats a firing group every ``repeat_interval`` until it resolves or is silenced;
a silence hides the alert from everyone. Acknowledging says "I am on it": the alert keeps
firing and stays visible, but its group stops repeating while every firing alert in it is
acknowledged (a new alert in the group is notified as usual). An acknowledgement ends when the
alert resolves, when it is withdrawn, or at its expiry.

An ``EscalationRule`` sends an alert that nobody acknowledged to a further receiver once it has
fired for ``after_ms`` (the on-call engineer did not react: page the next one).

Acknowledgements live in the control-plane store (kind ``alert-ack``, keyed by fingerprint),
so every node sees them and they survive a restart.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from spyglass.alerting._matchers import Matcher, matches_all
from spyglass.core.errors import BadInput
from spyglass.storage.ports import StateDocument, StateStore

ACK_KIND = "alert-ack"
_PAGE = 500


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Who acknowledged which alert (by fingerprint), when, why, and until when (0: resolve)."""

    fingerprint: str
    by: str
    comment: str
    at_ms: int
    expires_ms: int = 0


class Acknowledgements:
    """The acknowledged alerts, kept in the state store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def ack(
        self, fingerprint: str, by: str, comment: str, now_ms: int, expires_ms: int = 0
    ) -> Acknowledgement:
        """Acknowledge the alert; a second acknowledgement replaces the first."""
        if not by.strip():
            raise BadInput("an acknowledgement needs to say who acknowledged (by)")
        if expires_ms and expires_ms <= now_ms:
            raise BadInput("an acknowledgement's expiry must be in the future")
        ack = Acknowledgement(fingerprint, by.strip(), comment, now_ms, expires_ms)
        value = {"by": ack.by, "comment": ack.comment, "at_ms": ack.at_ms}
        self.store.put(ACK_KIND, fingerprint, value, expires_ms=expires_ms or None)
        return ack

    def withdraw(self, fingerprint: str) -> bool:
        """Withdraw the alert's acknowledgement (also called when the alert resolves)."""
        return self.store.delete(ACK_KIND, fingerprint)

    def get(self, fingerprint: str) -> Acknowledgement | None:
        """The alert's acknowledgement, if it has one that has not expired."""
        doc = self.store.get(ACK_KIND, fingerprint)
        return None if doc is None else _ack(doc)

    def all(self) -> list[Acknowledgement]:
        """Every current acknowledgement, by fingerprint."""
        out: list[Acknowledgement] = []
        after = ""
        while True:
            page = self.store.scan(ACK_KIND, start_after=after, limit=_PAGE)
            out += [_ack(d) for d in page]
            if len(page) < _PAGE:
                return out
            after = page[-1].key

    def current(self, firing: Iterable[tuple[str, int]]) -> set[str]:
        """Of the firing alerts, given as (fingerprint, start in ms), those acknowledged during
        their current firing (an acknowledgement older than the alert's start has lapsed)."""
        out = set()
        for fp, starts_at_ms in firing:
            ack = self.get(fp)
            if ack is not None and ack.at_ms >= starts_at_ms:
                out.add(fp)
        return out


def _ack(doc: StateDocument) -> Acknowledgement:
    v = doc.value
    return Acknowledgement(
        doc.key,
        str(v.get("by", "")),
        str(v.get("comment", "")),
        int(v.get("at_ms", 0)),
        doc.expires_ms or 0,
    )


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """Alerts matching ``matchers`` still unacknowledged ``after_ms`` after they started also
    go to ``receiver``."""

    receiver: str
    after_ms: int
    matchers: tuple[Matcher, ...] = ()

    def __post_init__(self) -> None:
        if not self.receiver:
            raise ValueError("an escalation needs a receiver")
        if self.after_ms <= 0:
            raise ValueError("an escalation's delay (after) must be positive")


@dataclass(frozen=True, slots=True)
class Escalation:
    """One alert due to go to an escalation rule's receiver."""

    fingerprint: str
    rule: EscalationRule


def due_escalations(
    rules: Sequence[EscalationRule],
    firing: Iterable[tuple[str, Mapping[str, str], int]],
    acked: Collection[str],
    now_ms: int,
) -> list[Escalation]:
    """The escalations due at ``now_ms``.

    ``firing`` holds each firing alert's fingerprint, labels and the time it started;
    ``acked`` the acknowledged fingerprints. The router's notification log keeps a due
    escalation from being sent again before the route's ``repeat_interval``.
    """
    out: list[Escalation] = []
    for fingerprint, labels, first_notified_ms in firing:
        if fingerprint in acked:
            continue
        for rule in rules:
            if now_ms - first_notified_ms < rule.after_ms:
                continue
            if matches_all(rule.matchers, labels):
                out.append(Escalation(fingerprint, rule))
    return out


__all__ = [
    "ACK_KIND",
    "Acknowledgement",
    "Acknowledgements",
    "Escalation",
    "EscalationRule",
    "due_escalations",
]
