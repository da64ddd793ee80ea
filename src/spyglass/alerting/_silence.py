"""One silence, as Alertmanager models it: matchers, a time window, who and why.

A silence mutes the alerts whose labels satisfy all its matchers while it is active. Its state
follows from the clock: ``pending`` before ``starts_at``, ``active`` until ``ends_at``, then
``expired``. Times are milliseconds since the epoch (the API writes them with millisecond
precision, as Alertmanager's does); at exactly ``ends_at`` a silence counts as expired, so a
silence expired "now" reads as expired at once even when the clock has not moved on.

``validate_silence`` applies Alertmanager's rules with its messages (``silence invalid: ...``);
``to_document`` and ``from_document`` are the form kept in the control-plane ``StateStore``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from spyglass.alerting._golang import Regex
from spyglass.alerting._matchers import Matcher, Mode, is_valid_label_name
from spyglass.core.errors import BadInput
from spyglass.core.matchers import MatchOp

SilenceState = Literal["pending", "active", "expired"]
"""Where a silence is in its life at a given time."""

GO_ZERO_TIME_MS = -62_135_596_800_000
"""Go's zero ``time.Time`` (0001-01-01T00:00:00Z), which Alertmanager refuses as a silence time."""
STATES: tuple[SilenceState, ...] = ("active", "pending", "expired")
"""The states in the order Alertmanager lists silences."""


class InvalidSilence(BadInput):
    """A silence Alertmanager would refuse; the message is Alertmanager's."""


class SilenceNotFound(BadInput):
    """No silence has the given id (it never existed, or was garbage-collected)."""

    def __init__(self, silence_id: str) -> None:
        self.silence_id = silence_id
        super().__init__("silence not found")


@dataclass(frozen=True, slots=True)
class Silence:
    """A silence. ``id`` is empty for one not stored yet."""

    matchers: tuple[Matcher, ...]
    starts_at_ms: int
    ends_at_ms: int
    created_by: str = ""
    comment: str = ""
    id: str = ""
    updated_at_ms: int = 0
    _tests: tuple[Callable[[Mapping[str, str]], bool], ...] = field(
        init=False, compare=False, repr=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tests", tuple(_test(m) for m in self.matchers))

    def state(self, now_ms: int) -> SilenceState:
        """``pending``, ``active`` or ``expired`` at ``now_ms``."""
        if now_ms < self.starts_at_ms:
            return "pending"
        if now_ms >= self.ends_at_ms:
            return "expired"
        return "active"

    def mutes(self, labels: Mapping[str, str]) -> bool:
        """Whether the matchers all match ``labels`` (whatever the state)."""
        return all(test(labels) for test in self._tests)

    def with_times(self, starts_at_ms: int, ends_at_ms: int) -> Silence:
        """The same silence over another window."""
        return replace(self, starts_at_ms=starts_at_ms, ends_at_ms=ends_at_ms)


# A regex that is only literal alternatives (``api|web``, ``host-1``): what silences written from
# alert labels mostly hold. Matching it anchored is membership in the set of alternatives, which
# costs a set lookup instead of a call into RE2.
_LITERALS = re.compile(r"[^\\.^$*+?()\[\]{}|]*(?:\|[^\\.^$*+?()\[\]{}|]*)*\Z")


def _test(m: Matcher) -> Callable[[Mapping[str, str]], bool]:
    """A fast predicate equal to ``m.matches``."""
    name, value = m.name, m.value
    if m.op is MatchOp.EQUAL:
        return lambda labels: labels.get(name, "") == value
    if m.op is MatchOp.NOT_EQUAL:
        return lambda labels: labels.get(name, "") != value
    if _LITERALS.match(value):
        literals = frozenset(value.split("|"))
        if m.op is MatchOp.REGEX:
            return lambda labels: labels.get(name, "") in literals
        return lambda labels: labels.get(name, "") not in literals
    return m.matches


def _matches_empty(m: Matcher) -> bool:
    # Alertmanager's matchesEmpty: only = and =~ count, a negative matcher never does.
    if m.op is MatchOp.EQUAL:
        return m.value == ""
    if m.op is MatchOp.REGEX:
        return m.matches_value("")
    return False


@dataclass(frozen=True, slots=True)
class SilenceDraft:
    """A silence as a client sends it, before validation: ``id`` empty to create one, the id of
    an existing silence to update it. Matchers are ``(name, op, value)`` as written."""

    matchers: tuple[tuple[str, str, str], ...]
    starts_at_ms: int
    ends_at_ms: int
    created_by: str = ""
    comment: str = ""
    id: str = ""


def build_matchers(
    specs: tuple[tuple[str, str, str], ...], mode: Mode = "fallback"
) -> tuple[Matcher, ...]:
    """Compiled matchers, or ``InvalidSilence`` naming the first invalid one as Alertmanager does.

    Label names are Prometheus' classic names in ``classic`` mode and any non-empty UTF-8 text
    otherwise, as Alertmanager's matcher modes decide.
    """
    out = []
    for i, (name, op, value) in enumerate(specs):
        if not is_valid_label_name(name, mode):
            raise InvalidSilence(
                f"silence invalid: invalid label matcher {i}: invalid label name {_go_quote(name)}"
            )
        if op in (MatchOp.REGEX.value, MatchOp.NOT_REGEX.value):
            try:
                Regex(value)  # unanchored, so the message quotes the pattern as written
            except BadInput as exc:
                raise InvalidSilence(
                    f"silence invalid: invalid label matcher {i}: "
                    f"invalid regular expression {_go_quote(value)}: {exc}"
                ) from None
        out.append(Matcher.of(name, op, value))
    return tuple(out)


def validate_silence(silence: Silence) -> None:
    """Raise ``InvalidSilence`` with Alertmanager's message if it would refuse ``silence``."""
    if not silence.matchers:
        raise InvalidSilence("silence invalid: at least one matcher required")
    if all(_matches_empty(m) for m in silence.matchers):
        raise InvalidSilence(
            "silence invalid: at least one matcher must not match the empty string"
        )
    if silence.starts_at_ms == GO_ZERO_TIME_MS:
        raise InvalidSilence("silence invalid: invalid zero start timestamp")
    if silence.ends_at_ms == GO_ZERO_TIME_MS:
        raise InvalidSilence("silence invalid: invalid zero end timestamp")
    if silence.ends_at_ms < silence.starts_at_ms:
        raise InvalidSilence("silence invalid: end time must not be before start time")


def _go_quote(text: str) -> str:
    """Go's ``%q`` for the common cases (the messages quote names and patterns this way)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_document(silence: Silence) -> dict[str, Any]:
    """The silence as a JSON object for the state store."""
    return {
        "id": silence.id,
        "matchers": [
            {"name": m.name, "op": m.op.value, "value": m.value} for m in silence.matchers
        ],
        "startsAt": silence.starts_at_ms,
        "endsAt": silence.ends_at_ms,
        "updatedAt": silence.updated_at_ms,
        "createdBy": silence.created_by,
        "comment": silence.comment,
    }


def from_document(value: dict[str, Any]) -> Silence:
    """A silence read back from the state store (``BadInput`` if the document is not one)."""
    try:
        return Silence(
            id=str(value["id"]),
            matchers=tuple(
                Matcher.of(str(m["name"]), str(m["op"]), str(m["value"])) for m in value["matchers"]
            ),
            starts_at_ms=int(value["startsAt"]),
            ends_at_ms=int(value["endsAt"]),
            updated_at_ms=int(value["updatedAt"]),
            created_by=str(value["createdBy"]),
            comment=str(value["comment"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"not a stored silence: {exc!r}") from None


__all__ = [
    "GO_ZERO_TIME_MS",
    "STATES",
    "InvalidSilence",
    "Silence",
    "SilenceDraft",
    "SilenceNotFound",
    "SilenceState",
    "build_matchers",
    "from_document",
    "to_document",
    "validate_silence",
]
