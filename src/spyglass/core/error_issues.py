"""Error issues: the groups error events fall into, as the errors domain and its store share them.

An ``Issue`` is one fingerprint of one project (Sentry's "issue" or "group"): what its events
have in common (title, culprit), how many there were and when, whom they happened to, and the
state a person put it in. Issues are control-plane state (DESIGN.md): they live in the state
store, are changed by every event that arrives and by people triaging, and outlive the events'
retention. ``IssueQuery`` is a search of the issue list.

Times are milliseconds since the epoch (like the rest of the control-plane state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

UNRESOLVED = "unresolved"
RESOLVED = "resolved"
IGNORED = "ignored"
STATUSES = (UNRESOLVED, RESOLVED, IGNORED)

# How the issue list can be sorted: newest activity, newest issues, most events, most users.
SORTS = ("last_seen", "first_seen", "count", "users")


def _no_counts() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Issue:
    """One issue of one project.

    - ``id``: its number in this Spyglass (0 until stored), what the API and CLI name it by;
    - ``fingerprint``: the grouping key (32 hex digits) its events share;
    - ``level``: the level of its latest event; ``platform`` likewise;
    - ``count``: events seen; ``users``: distinct users among them (id, else e-mail, else IP);
    - ``status``: ``unresolved``, ``resolved`` or ``ignored``; ``regressed``: it was resolved
      and came back (cleared by the next state change);
    - ``resolved_ms``: when it was resolved (0: it is not); ``resolved_in_next_release``: it
      was resolved as fixed in the release after ``resolved_release``, the latest release it
      had been seen in then (events of that release do not bring it back);
    - ``releases``/``environments``: events per release and environment (``""``: none
      given); ``services``: events per service, of those that name one (``ErrorEvent.service``);
      ``IssueStore.issue`` fills them, search results leave them empty.
    """

    project_id: int
    fingerprint: str
    title: str
    culprit: str = ""
    level: str = "error"
    platform: str = "other"
    first_seen_ms: int = 0
    last_seen_ms: int = 0
    count: int = 0
    users: int = 0
    status: str = UNRESOLVED
    regressed: bool = False
    resolved_ms: int = 0
    resolved_in_next_release: bool = False
    resolved_release: str = ""
    first_release: str = ""
    last_release: str = ""
    last_event_id: str = ""
    releases: Mapping[str, int] = field(default_factory=_no_counts)
    environments: Mapping[str, int] = field(default_factory=_no_counts)
    services: Mapping[str, int] = field(default_factory=_no_counts)
    id: int = 0


@dataclass(frozen=True, slots=True)
class IssueQuery:
    """A search of the issue list; every filter left empty matches everything.

    ``text`` matches (case-insensitively) a part of the title or the culprit; ``release``,
    ``environment`` and ``service`` keep issues seen in that release, environment or service;
    ``fingerprints`` (when given) keeps the issues with one of those fingerprints; ``sort`` is
    one of ``SORTS``, descending; ``offset``/``limit`` page through the result.
    """

    project_id: int | None = None
    status: str = ""
    release: str = ""
    environment: str = ""
    service: str = ""
    text: str = ""
    fingerprints: tuple[str, ...] = ()
    sort: str = "last_seen"
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class IssuePage:
    """One page of a search, and how many issues match it in all."""

    issues: tuple[Issue, ...]
    total: int


@dataclass(frozen=True, slots=True)
class IssueChange:
    """What one event did to its issue: the issue before (``None``: the event opened it) and
    after."""

    before: Issue | None
    after: Issue
    event_id: str


__all__ = [
    "IGNORED",
    "RESOLVED",
    "SORTS",
    "STATUSES",
    "UNRESOLVED",
    "Issue",
    "IssueChange",
    "IssuePage",
    "IssueQuery",
]
