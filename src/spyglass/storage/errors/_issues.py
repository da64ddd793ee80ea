"""``SqlIssueStore``: error issues in the control-plane database (SQLite or PostgreSQL).

The ``IssueStore`` port over the tables of the state store's migration 2 (``_state_schema``):
one row per issue, its per-release, per-environment and per-service counts, its distinct users,
and the ids of the events already counted. ``record`` counts a batch of events in one write
transaction, which on PostgreSQL first locks the state store's revision row: nodes sharing the
database then count one after the other, so two of them never open the same issue twice.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from spyglass.core.error_events import ErrorEvent
from spyglass.core.error_issues import SORTS, STATUSES, Issue, IssueChange, IssuePage, IssueQuery
from spyglass.core.errors import BadInput
from spyglass.storage._state_schema import EVENTS_SEEN, ISSUE_COUNTS, ISSUE_USERS, ISSUES, REVISION
from spyglass.storage.ports import IssueUpdate
from spyglass.storage.state import SqlStateStore

RELEASE = "release"
ENVIRONMENT = "environment"
SERVICE = "service"
MAX_PAGE = 1000
_CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits
_SORT_COLUMNS = {
    "last_seen": ISSUES.c.last_seen_ms,
    "first_seen": ISSUES.c.first_seen_ms,
    "count": ISSUES.c.count,
    "users": ISSUES.c.users,
}


class SqlIssueStore:
    """``IssueStore`` in the tables of ``state``'s database (thread-safe, synchronous)."""

    def __init__(self, state: SqlStateStore) -> None:
        self.state = state

    def seen(self, project_id: int, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` were already counted for the project."""
        found: set[str] = set()
        ids = list(dict.fromkeys(event_ids))
        with self.state.transaction(write=False) as conn:
            for i in range(0, len(ids), _CHUNK):
                rows = conn.execute(
                    sa.select(EVENTS_SEEN.c.event_id).where(
                        EVENTS_SEEN.c.project_id == project_id,
                        EVENTS_SEEN.c.event_id.in_(ids[i : i + _CHUNK]),
                    )
                )
                found.update(row.event_id for row in rows)
        return found

    def record(self, events: Sequence[ErrorEvent], update: IssueUpdate) -> list[IssueChange]:
        """Count ``events`` into their issues in one transaction (``IssueStore.record``).

        Statements are few per event (the ids already counted are read in one query, each
        issue's row and counts are written once per call, the counted ids in one insert), so
        a batch costs little more than its commit.
        """
        if not events:
            return []
        for event in events:
            if not event.issue_key:
                raise BadInput(f"event {event.event_id} was not grouped into an issue")
        changes: list[IssueChange] = []
        with self.state.transaction(write=True) as conn:
            # Serialise with every other writer of the state database (FOR UPDATE; SQLite's
            # write transaction already holds the lock).
            conn.execute(sa.select(REVISION.c.value).where(REVISION.c.id == 1).with_for_update())
            counted = _seen_in(conn, events)
            issues: dict[tuple[int, str], Issue | None] = {}
            touched: dict[int, Issue] = {}
            counts: Counter[tuple[int, str, str]] = Counter()
            users: set[tuple[int, str]] = set()
            seen_rows: list[dict[str, Any]] = []
            for event in events:
                ident = (event.project_id, event.event_id)
                if ident in counted:
                    continue
                counted.add(ident)
                key = (event.project_id, event.issue_key)
                if key not in issues:
                    issues[key] = _load(conn, *key)
                before = issues[key]
                after = update(before, event)
                if before is None:
                    issue_id = int(
                        conn.execute(
                            sa.insert(ISSUES).values(**_row(after)).returning(ISSUES.c.id)
                        ).scalar_one()
                    )
                    n_users = 0
                else:
                    issue_id, n_users = before.id, before.users
                user = _text(event.user_key)
                if user and (issue_id, user) not in users:
                    users.add((issue_id, user))
                    if _insert_new(conn, ISSUE_USERS, {"issue_id": issue_id, "user_key": user}):
                        n_users += 1
                after = dataclasses.replace(after, id=issue_id, users=n_users)
                issues[key] = touched[issue_id] = after
                counts[(issue_id, RELEASE, _text(event.release))] += 1
                counts[(issue_id, ENVIRONMENT, _text(event.environment))] += 1
                if service := event.service:
                    counts[(issue_id, SERVICE, _text(service))] += 1
                seen_rows.append(
                    {
                        "project_id": event.project_id,
                        "event_id": event.event_id,
                        "issue_id": issue_id,
                        "time_ms": event.received_ns // 1_000_000,
                    }
                )
                changes.append(IssueChange(before, after, event.event_id))
            for issue_id, issue in touched.items():
                conn.execute(sa.update(ISSUES).where(ISSUES.c.id == issue_id).values(**_row(issue)))
            for (issue_id, kind, name), n in counts.items():
                _add_count(conn, issue_id, kind, name, n)
            if seen_rows:
                conn.execute(sa.insert(EVENTS_SEEN), seen_rows)
        return changes

    def issue(self, issue_id: int) -> Issue | None:
        """The issue with its per-release, per-environment and per-service counts, or
        ``None``."""
        with self.state.transaction(write=False) as conn:
            row = conn.execute(sa.select(ISSUES).where(ISSUES.c.id == issue_id)).first()
            if row is None:
                return None
            counts: dict[str, dict[str, int]] = {RELEASE: {}, ENVIRONMENT: {}, SERVICE: {}}
            for c in conn.execute(
                sa.select(ISSUE_COUNTS).where(ISSUE_COUNTS.c.issue_id == issue_id)
            ):
                counts.setdefault(c.kind, {})[c.name] = int(c._mapping["count"])
        return dataclasses.replace(
            _issue(row),
            releases=counts[RELEASE],
            environments=counts[ENVIRONMENT],
            services=counts[SERVICE],
        )

    def search(self, query: IssueQuery) -> IssuePage:
        """A page of the matching issues and how many match (``IssueStore.search``)."""
        if query.status and query.status not in STATUSES:
            raise BadInput(f"unknown status {query.status!r}: one of {', '.join(STATUSES)}")
        if query.sort not in SORTS:
            raise BadInput(f"unknown sort {query.sort!r}: one of {', '.join(SORTS)}")
        if not 0 <= query.limit <= MAX_PAGE or query.offset < 0:
            raise BadInput(f"limit must be from 0 to {MAX_PAGE} and offset not negative")
        conds: list[sa.ColumnElement[bool]] = []
        if query.project_id is not None:
            conds.append(ISSUES.c.project_id == query.project_id)
        if query.status:
            conds.append(ISSUES.c.status == query.status)
        for kind, name in (
            (RELEASE, query.release),
            (ENVIRONMENT, query.environment),
            (SERVICE, query.service),
        ):
            if name:
                conds.append(
                    sa.exists().where(
                        ISSUE_COUNTS.c.issue_id == ISSUES.c.id,
                        ISSUE_COUNTS.c.kind == kind,
                        ISSUE_COUNTS.c.name == name,
                    )
                )
        if query.fingerprints:
            conds.append(ISSUES.c.fingerprint.in_(query.fingerprints))
        if query.text:
            needle = query.text.lower()
            conds.append(
                sa.or_(
                    sa.func.lower(ISSUES.c.title).contains(needle, autoescape=True),
                    sa.func.lower(ISSUES.c.culprit).contains(needle, autoescape=True),
                )
            )
        where = sa.and_(sa.true(), *conds)
        order = _SORT_COLUMNS[query.sort]
        with self.state.transaction(write=False) as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(ISSUES).where(where))
            rows = conn.execute(
                sa.select(ISSUES)
                .where(where)
                .order_by(order.desc(), ISSUES.c.id.desc())
                .offset(query.offset)
                .limit(query.limit)
            ).all()
            count = int(total.scalar_one())
        return IssuePage(tuple(_issue(r) for r in rows), count)

    def change(self, issue_id: int, update: Callable[[Issue], Issue]) -> Issue | None:
        """Apply ``update`` to the issue in one transaction; the result, or ``None``."""
        with self.state.transaction(write=True) as conn:
            row = conn.execute(
                sa.select(ISSUES).where(ISSUES.c.id == issue_id).with_for_update()
            ).first()
            if row is None:
                return None
            after = dataclasses.replace(update(_issue(row)), id=issue_id)
            conn.execute(sa.update(ISSUES).where(ISSUES.c.id == issue_id).values(**_row(after)))
        return after

    def forget_events(self, before_ms: int) -> int:
        """Forget the ids of events counted before ``before_ms``; how many went."""
        with self.state.transaction(write=True) as conn:
            result = conn.execute(sa.delete(EVENTS_SEEN).where(EVENTS_SEEN.c.time_ms < before_ms))
        return int(result.rowcount)

    def newest_seen_ms(self) -> int:
        """When the newest counted event was received (0: none was)."""
        with self.state.transaction(write=False) as conn:
            return _newest(conn)


def _newest(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(EVENTS_SEEN.c.time_ms))).scalar_one() or 0)


def _seen_in(conn: sa.Connection, events: Sequence[ErrorEvent]) -> set[tuple[int, str]]:
    """The ``(project, event id)`` pairs of ``events`` already counted."""
    by_project: dict[int, list[str]] = {}
    for e in events:
        by_project.setdefault(e.project_id, []).append(e.event_id)
    found: set[tuple[int, str]] = set()
    for project, ids in by_project.items():
        unique = list(dict.fromkeys(ids))
        for i in range(0, len(unique), _CHUNK):
            rows = conn.execute(
                sa.select(EVENTS_SEEN.c.event_id).where(
                    EVENTS_SEEN.c.project_id == project,
                    EVENTS_SEEN.c.event_id.in_(unique[i : i + _CHUNK]),
                )
            )
            found.update((project, row.event_id) for row in rows)
    return found


def _load(conn: sa.Connection, project_id: int, fingerprint: str) -> Issue | None:
    row = conn.execute(
        sa.select(ISSUES).where(
            ISSUES.c.project_id == project_id, ISSUES.c.fingerprint == fingerprint
        )
    ).first()
    return None if row is None else _issue(row)


def _insert_new(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert the row unless its key exists; whether it was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # RETURNING rather than rowcount: psycopg reports a row for a conflicting insert too.
    key = next(iter(table.primary_key.columns))
    stmt = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return conn.execute(stmt).first() is not None


def _add_count(conn: sa.Connection, issue_id: int, kind: str, name: str, n: int) -> None:
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
    stmt = insert(ISSUE_COUNTS).values(issue_id=issue_id, kind=kind, name=name, count=n)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[ISSUE_COUNTS.c.issue_id, ISSUE_COUNTS.c.kind, ISSUE_COUNTS.c.name],
            set_={"count": ISSUE_COUNTS.c.count + n},
        )
    )


def _text(value: str) -> str:
    """``value`` as both databases store it: PostgreSQL's text holds no NUL, and neither
    database takes lone surrogates (which JSON escapes can put in an event)."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _row(issue: Issue) -> dict[str, Any]:
    row = {
        "project_id": issue.project_id,
        "fingerprint": issue.fingerprint,
        "title": issue.title,
        "culprit": issue.culprit,
        "level": issue.level,
        "platform": issue.platform,
        "first_seen_ms": issue.first_seen_ms,
        "last_seen_ms": issue.last_seen_ms,
        "count": issue.count,
        "users": issue.users,
        "status": issue.status,
        "regressed": int(issue.regressed),
        "resolved_ms": issue.resolved_ms,
        "resolved_in_next_release": int(issue.resolved_in_next_release),
        "resolved_release": issue.resolved_release,
        "first_release": issue.first_release,
        "last_release": issue.last_release,
        "last_event_id": issue.last_event_id,
    }
    return {k: _text(v) if isinstance(v, str) else v for k, v in row.items()}


def _issue(row: sa.Row[Any]) -> Issue:
    return Issue(
        id=int(row.id),
        project_id=int(row.project_id),
        fingerprint=row.fingerprint,
        title=row.title,
        culprit=row.culprit,
        level=row.level,
        platform=row.platform,
        first_seen_ms=int(row.first_seen_ms),
        last_seen_ms=int(row.last_seen_ms),
        count=int(row._mapping["count"]),
        users=int(row.users),
        status=row.status,
        regressed=bool(row.regressed),
        resolved_ms=int(row.resolved_ms),
        resolved_in_next_release=bool(row.resolved_in_next_release),
        resolved_release=row.resolved_release,
        first_release=row.first_release,
        last_release=row.last_release,
        last_event_id=row.last_event_id,
    )


__all__ = ["ENVIRONMENT", "MAX_PAGE", "RELEASE", "SERVICE", "SqlIssueStore"]
