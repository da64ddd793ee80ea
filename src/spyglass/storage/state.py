"""The control-plane state store: the ``StateStore`` port on SQLite or PostgreSQL.

Alert states, silences, the notification log, dashboards, SLOs, incidents, error issues and API
tokens are small and must survive a restart, so they live in a SQL database rather than in
ClickHouse: SQLite at ``<data_dir>/state.db`` by default, or a PostgreSQL database (the
``state_url`` setting) that several Spyglass nodes share. The same statements (SQLAlchemy Core)
run on both.

The composition root opens the store once with ``open_state_store`` (which applies pending
migrations, see ``_state_schema``) and closes it at shutdown; domains receive it as a
``StateStore``.

Concurrency: every write runs in a transaction that first takes the next value of the store's
revision counter (or, for deletes and purges, locks it). On PostgreSQL that row lock orders all
writers across nodes; on SQLite the write transaction already holds the database's write lock.
Inside it a write reads the current version, checks the caller's expectation and writes, with
no other writer in between. The revision becomes the document's version or the journal entry's
id, so versions are never reused and journal ids appear in commit order.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from spyglass.core.errors import BadInput, Conflict, Unavailable
from spyglass.storage._state_engine import (
    READ_ONLY,
    STATE_FILE,
    create_engine,
    describe,
    resolve_url,
    translated_errors,
)
from spyglass.storage._state_schema import (
    DOCUMENTS,
    JOURNAL,
    MIGRATIONS,
    REVISION,
    Migration,
    migrate,
)
from spyglass.storage.ports import JournalEntry, StateDocument

# Longest kind, key or journal name, in UTF-8 bytes: PostgreSQL's index entries hold about
# 2.7 kB, and a kind and a key share one.
MAX_NAME_BYTES = 1000


def open_state_store(
    state_url: str,
    data_dir: str | Path,
    *,
    clock: Callable[[], int] | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> SqlStateStore:
    """Open the state store the ``state_url`` setting names and bring its schema up to date.

    Empty ``state_url``: SQLite at ``<data_dir>/state.db`` (created with its directory).
    ``postgresql://user:password@host:port/database``: that PostgreSQL database (psycopg 3
    must be installed: ``pip install spyglass[postgres]``). ``sqlite:///path``: that SQLite file.

    ``clock`` gives the time in milliseconds since the epoch (default: the system clock) and
    ``migrations`` the schema steps (tests pass their own). Raises ``BadInput`` for a URL of
    another kind, ``IncompatibleState`` when a newer Spyglass migrated the database, and
    ``Unavailable`` when it cannot be reached.
    """
    return SqlStateStore(resolve_url(state_url, data_dir), clock=clock, migrations=migrations)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class SqlStateStore:
    """``StateStore`` over SQLite or PostgreSQL. Build it with ``open_state_store``."""

    def __init__(
        self,
        url: sa.URL,
        *,
        clock: Callable[[], int] | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.location = describe(url)
        """The SQLite file or the PostgreSQL URL (without its password), for messages."""
        self._clock = clock or _now_ms
        self._closed = False
        self._engine = create_engine(url)
        self._reader = self._engine.execution_options(**{READ_ONLY: True})
        try:
            with translated_errors(self.location), self._engine.begin() as conn:
                version = migrate(conn, migrations, where=self.location, now_ms=self._clock)
        except BaseException:
            self._engine.dispose()
            raise
        self.schema_version = version
        """The schema version the database is at."""

    def close(self) -> None:
        """Close the database connections; later calls raise ``Unavailable``."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> SqlStateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- documents -----------------------------------------------------------------------

    def get(self, kind: str, key: str) -> StateDocument | None:
        """The document, or ``None`` if there is none or it has expired."""
        _check_name("kind", kind)
        _check_name("key", key)
        with self._transaction(write=False) as conn:
            row = conn.execute(
                sa.select(DOCUMENTS).where(
                    DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key, _live(self._clock())
                )
            ).first()
        return None if row is None else _document(row)

    def put(
        self,
        kind: str,
        key: str,
        value: dict[str, Any],
        *,
        expected_version: int | None = None,
        expires_ms: int | None = None,
    ) -> StateDocument:
        """Create or replace the document and return it with its new version.

        Raises ``Conflict`` when ``expected_version`` is given and is not the stored version
        (``0`` when there is no document).
        """
        _check_name("kind", kind)
        _check_name("key", key)
        _check_version(expected_version)
        text = _encode(value)
        with self._transaction(write=True) as conn:
            version = _next_revision(conn)
            now = self._clock()
            stored = _stored_version(conn, kind, key, now)
            if expected_version is not None and expected_version != (stored.live or 0):
                raise Conflict(kind, key, expected_version, stored.live)
            fields = {
                "value": text,
                "version": version,
                "updated_ms": now,
                "expires_ms": expires_ms,
            }
            if stored.exists:
                conn.execute(sa.update(DOCUMENTS).where(_doc(kind, key)).values(**fields))
            else:
                conn.execute(sa.insert(DOCUMENTS).values(kind=kind, key=key, **fields))
        return StateDocument(kind, key, json.loads(text), version, now, expires_ms)

    def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> bool:
        """Delete the document; ``False`` if there was none. ``Conflict`` as for ``put``."""
        _check_name("kind", kind)
        _check_name("key", key)
        _check_version(expected_version)
        with self._transaction(write=True) as conn:
            _lock_revision(conn)
            stored = _stored_version(conn, kind, key, self._clock())
            if expected_version is not None and expected_version != (stored.live or 0):
                raise Conflict(kind, key, expected_version, stored.live)
            if stored.exists:  # an expired row goes too, though it no longer counted
                conn.execute(sa.delete(DOCUMENTS).where(_doc(kind, key)))
        return stored.live is not None

    def scan(
        self, kind: str, *, prefix: str = "", start_after: str = "", limit: int
    ) -> list[StateDocument]:
        """Up to ``limit`` documents of ``kind`` whose key starts with ``prefix``, in key order
        (by code point), with keys after ``start_after``."""
        _check_name("kind", kind)
        _check_name("prefix", prefix, empty_ok=True)
        _check_name("start_after", start_after, empty_ok=True)
        _check_limit(limit)
        query = sa.select(DOCUMENTS).where(DOCUMENTS.c.kind == kind)
        if prefix:
            query = query.where(DOCUMENTS.c.key >= prefix)
            end = _prefix_end(prefix)
            if end is not None:
                query = query.where(DOCUMENTS.c.key < end)
        if start_after:
            query = query.where(DOCUMENTS.c.key > start_after)
        with self._transaction(write=False) as conn:
            query = query.where(_live(self._clock())).order_by(DOCUMENTS.c.key).limit(limit)
            return [_document(row) for row in conn.execute(query)]

    def purge_expired(self, now_ms: int | None = None) -> int:
        """Delete every document expired at ``now_ms`` (default: now); how many went."""
        with self._transaction(write=True) as conn:
            _lock_revision(conn)
            now = self._clock() if now_ms is None else now_ms
            result = conn.execute(
                sa.delete(DOCUMENTS).where(
                    DOCUMENTS.c.expires_ms.is_not(None), DOCUMENTS.c.expires_ms <= now
                )
            )
        return int(result.rowcount)

    # -- journals ------------------------------------------------------------------------

    def append(self, journal: str, value: dict[str, Any], *, time_ms: int | None = None) -> int:
        """Append an entry (at ``time_ms``, default now) and return its id."""
        _check_name("journal", journal)
        text = _encode(value)
        with self._transaction(write=True) as conn:
            entry_id = _next_revision(conn)
            conn.execute(
                sa.insert(JOURNAL).values(
                    journal=journal,
                    id=entry_id,
                    time_ms=self._clock() if time_ms is None else time_ms,
                    value=text,
                )
            )
        return entry_id

    def read(self, journal: str, *, after_id: int = 0, limit: int) -> list[JournalEntry]:
        """Up to ``limit`` entries with ids above ``after_id``, oldest first."""
        _check_name("journal", journal)
        _check_limit(limit)
        query = (
            sa.select(JOURNAL)
            .where(JOURNAL.c.journal == journal, JOURNAL.c.id > after_id)
            .order_by(JOURNAL.c.id)
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        return [
            JournalEntry(row.journal, int(row.id), int(row.time_ms), json.loads(row.value))
            for row in rows
        ]

    def trim(self, journal: str, before_ms: int) -> int:
        """Delete the journal's entries timed before ``before_ms``; how many went."""
        _check_name("journal", journal)
        with self._transaction(write=True) as conn:
            result = conn.execute(
                sa.delete(JOURNAL).where(
                    JOURNAL.c.journal == journal, JOURNAL.c.time_ms < before_ms
                )
            )
        return int(result.rowcount)

    # -- plumbing ------------------------------------------------------------------------

    def transaction(self, *, write: bool) -> contextlib.AbstractContextManager[sa.Connection]:
        """A transaction on the store's database, for the stores of other control-plane state
        kept in their own tables (``storage.errors``' issues): a write one holds the write lock
        from its start (SQLite), a read one sees one snapshot."""
        return self._transaction(write=write)

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sa.Connection]:
        if self._closed:
            raise Unavailable(f"the state store {self.location} is closed")
        engine = self._engine if write else self._reader
        with translated_errors(self.location), engine.begin() as conn:
            yield conn


class _Stored:
    """What a write found: whether a row exists, and its version if it has not expired."""

    __slots__ = ("exists", "live")

    def __init__(self, exists: bool, live: int | None) -> None:
        self.exists = exists
        self.live = live


def _stored_version(conn: sa.Connection, kind: str, key: str, now: int) -> _Stored:
    row = conn.execute(
        sa.select(DOCUMENTS.c.version, DOCUMENTS.c.expires_ms).where(_doc(kind, key))
    ).first()
    if row is None:
        return _Stored(exists=False, live=None)
    expired = row.expires_ms is not None and row.expires_ms <= now
    return _Stored(exists=True, live=None if expired else int(row.version))


def _next_revision(conn: sa.Connection) -> int:
    """Take the next revision; on PostgreSQL this locks the counter until commit."""
    return int(
        conn.execute(
            sa.update(REVISION)
            .where(REVISION.c.id == 1)
            .values(value=REVISION.c.value + 1)
            .returning(REVISION.c.value)
        ).scalar_one()
    )


def _lock_revision(conn: sa.Connection) -> None:
    """Order this write after every other without taking a revision (``FOR UPDATE``; SQLite
    renders no clause, its write transaction holds the lock already)."""
    conn.execute(sa.select(REVISION.c.value).where(REVISION.c.id == 1).with_for_update())


def _doc(kind: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(DOCUMENTS.c.kind == kind, DOCUMENTS.c.key == key)


def _live(now: int) -> sa.ColumnElement[bool]:
    return sa.or_(DOCUMENTS.c.expires_ms.is_(None), DOCUMENTS.c.expires_ms > now)


def _document(row: sa.Row[Any]) -> StateDocument:
    expires = row.expires_ms
    return StateDocument(
        row.kind,
        row.key,
        json.loads(row.value),
        int(row.version),
        int(row.updated_ms),
        None if expires is None else int(expires),
    )


def _encode(value: object) -> str:
    """``value`` as JSON text, or ``BadInput`` if it would not come back equal."""
    if not isinstance(value, dict):
        raise BadInput(f"a state value must be a JSON object (dict), not {type(value).__name__}")
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise BadInput(f"a state value must be JSON: {exc}") from None
    # json.dumps turns tuples into lists and int keys into strings without a word.
    if json.loads(text) != value:
        raise BadInput(
            "a state value must come back equal from JSON: use lists, not tuples, and str keys"
        )
    return text


def _check_name(what: str, name: str, *, empty_ok: bool = False) -> None:
    if not isinstance(name, str):
        raise BadInput(f"state {what} must be a string, not {type(name).__name__}")
    if not name and not empty_ok:
        raise BadInput(f"state {what} must not be empty")
    if "\x00" in name:
        raise BadInput(f"state {what} must not contain NUL characters: {name!r}")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadInput(f"state {what} is not valid Unicode (a lone surrogate): {name!r}") from None
    if size > MAX_NAME_BYTES:
        raise BadInput(f"state {what} is {size} bytes in UTF-8, more than {MAX_NAME_BYTES}")


def _check_version(expected_version: int | None) -> None:
    if expected_version is not None and (
        isinstance(expected_version, bool)
        or not isinstance(expected_version, int)
        or expected_version < 0
    ):
        raise BadInput(f"expected_version must be None or an int >= 0, not {expected_version!r}")


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise BadInput(f"limit must be an int >= 0, not {limit!r}")


_SURROGATES = range(0xD800, 0xE000)


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (``None``: no bound).

    Code point order, which is UTF-8 byte order, which is how both databases compare keys.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if nxt in _SURROGATES:  # not characters: UTF-8 cannot hold them
                nxt = _SURROGATES.stop
            return "".join(chars) + chr(nxt)
    return None


__all__ = ["MAX_NAME_BYTES", "STATE_FILE", "SqlStateStore", "open_state_store"]
