"""The silences: created, updated, expired, queried and asked whether they mute an alert.

Behaviour follows Alertmanager's ``silence`` package:

- ``set`` creates a silence (a new UUID; a start in the past becomes now) or updates one. An
  update that would rewrite history is refused and replaced: when the matchers change, an active
  silence's start moves or its end goes into the past, or a pending one would start in the past,
  the old silence is expired and a new one with a new id is created; otherwise it is updated in
  place. An expired silence is never changed: updating it creates a new one.
- ``expire`` ends an active silence now (a pending one starts and ends now); expiring an
  expired silence does nothing, as in Alertmanager.
- Expired silences are kept for ``retention`` (Alertmanager's default 120h) after their end,
  then garbage-collected: the state store drops their documents by themselves (each is written
  with that expiry) and ``gc`` forgets them here.

Every silence is a document of kind ``silence`` in the control-plane ``StateStore``, so silences
survive a restart. This process keeps all of them in memory too, so ``mutes`` reads no database;
silences other Spyglass nodes write to a shared database are read at start-up and, with
``sync_interval_s``, every so often after (``sync``).

``mutes`` is what the notification pipeline asks for every alert of every flush. Matchers are
compiled once per silence, and, as Alertmanager's silencer does, the silences that can apply to
a label set are cached with the version of the silences they were computed from: until a silence
is added or changed only those few are checked, for their state at the time asked. A label set
not seen since the last change is checked only against the silences that can match it: each
silence with an equality matcher (``alertname="Foo"``) is indexed by that label and value, and
only silences without one are checked for every label set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from prometheus_client import Histogram
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from spyglass.alerting._config import AlertmanagerConfig
from spyglass.alerting._maintenance import MaintenanceWindow, MaintenanceWindows
from spyglass.alerting._matchers import Matcher, Mode
from spyglass.alerting._silence import (
    STATES,
    Silence,
    SilenceDraft,
    SilenceNotFound,
    SilenceState,
    build_matchers,
    from_document,
    to_document,
    validate_silence,
)
from spyglass.alerting._timeintervals import TimeInterval
from spyglass.core.errors import BadInput
from spyglass.storage.ports import StateStore

log = logging.getLogger(__name__)

KIND = "silence"
"""The state store kind silences are kept under (the key is the silence's id)."""
DEFAULT_RETENTION_MS = 120 * 3600_000
"""How long an expired silence is kept (Alertmanager's ``--data.retention`` default)."""
DEFAULT_MAINTENANCE_INTERVAL_S = 15 * 60.0
"""How often expired silences are garbage-collected (Alertmanager's default)."""
# Label sets remembered by ``mutes``; past this the cache starts over rather than grow without
# bound when alerts churn.
_CACHE_LIMIT = 100_000
_SCAN_PAGE = 1000


def _system_ms() -> int:
    return time.time_ns() // 1_000_000


class Silences:
    """Every silence, durable in a ``StateStore`` and in memory for fast muting."""

    def __init__(
        self,
        store: StateStore,
        *,
        clock: Callable[[], int] | None = None,
        retention_ms: int = DEFAULT_RETENTION_MS,
        mode: Mode = "fallback",
        maintenance_interval_s: float = DEFAULT_MAINTENANCE_INTERVAL_S,
        sync_interval_s: float = 0.0,
    ) -> None:
        """Read the stored silences.

        ``sync_interval_s`` (0: never) is how often, once started, the silences other Spyglass
        nodes wrote to a shared state store are read again (``sync``).
        """
        self._store = store
        self._clock = clock or _system_ms
        self.retention_ms = retention_ms
        self.mode: Mode = mode
        self.maintenance_interval_s = maintenance_interval_s
        self.sync_interval_s = sync_interval_s
        self.windows = MaintenanceWindows()
        """Maintenance windows from the config: they mute as silences do (``configure``)."""
        self._lock = threading.RLock()
        self._silences: dict[str, Silence] = {}
        # The silences by one of their equality matchers' (name, value), and those without.
        self._by_label: dict[tuple[str, str], dict[str, Silence]] = {}
        self._unindexed: dict[str, Silence] = {}
        self._version = 0
        self._cache: dict[frozenset[tuple[str, str]], tuple[int, tuple[Silence, ...]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # The stored version of each silence held, and how many writes this process made: what
        # ``sync`` needs to tell another node's write from its own.
        self._doc_versions: dict[str, int] = {}
        self._writes = 0
        self.gc_runs = 0
        """How many times ``gc`` ran (``alertmanager_silences_gc_total``)."""
        self.queries = 0
        """How many times ``query`` ran (``alertmanager_silences_queries_total``)."""
        self.query_duration = Histogram(
            "alertmanager_silences_query_duration_seconds",
            "Duration of silence query evaluation.",
            registry=CollectorRegistry(auto_describe=True),
        )
        self._load()

    def _load(self) -> None:
        self.sync()

    def sync(self) -> int:
        """Read the state store again and take what other nodes changed; how many silences
        changed here.

        A silence is taken when its stored version is newer than the one held, and one no
        longer stored (collected after its retention) is forgotten, unless this process wrote
        meanwhile (then its own new silence could be missing from the read; the next sync
        decides).
        """
        with self._lock:
            writes = self._writes
        docs = []
        start_after = ""
        while True:
            page = self._store.scan(KIND, start_after=start_after, limit=_SCAN_PAGE)
            docs.extend(page)
            if len(page) < _SCAN_PAGE:
                break
            start_after = page[-1].key
        changed = 0
        with self._lock:
            for doc in docs:
                if doc.version <= self._doc_versions.get(doc.key, 0):
                    continue
                try:
                    silence = from_document(doc.value)
                except BadInput as exc:
                    log.warning("silences: skipping unreadable silence %s: %s", doc.key, exc)
                    continue
                self._remember(silence)
                self._doc_versions[doc.key] = doc.version
                changed += 1
            if self._writes == writes:
                stored = {doc.key for doc in docs}
                for sid in [sid for sid in self._silences if sid not in stored]:
                    self._forget(self._silences[sid])
                    changed += 1
            if changed:
                self._version += 1
        return changed

    # -- reading ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Grows whenever a silence is added, changed or forgotten."""
        return self._version

    def now_ms(self) -> int:
        """The silences' clock."""
        return self._clock()

    def configure(
        self,
        windows: Sequence[MaintenanceWindow],
        intervals: Mapping[str, tuple[TimeInterval, ...]],
    ) -> None:
        """Use these maintenance windows (from a loaded config) from now on."""
        self.windows = MaintenanceWindows(windows, intervals)

    def apply_config(self, config: AlertmanagerConfig) -> None:
        """Use the maintenance windows of a loaded ``alertmanager.yml`` (at start and reload)."""
        self.configure(config.spyglass.maintenance_windows, config.intervals())

    def get(self, silence_id: str) -> Silence | None:
        """The silence with ``silence_id`` (or the one-off maintenance window), or ``None``."""
        with self._lock:
            found = self._silences.get(silence_id)
        return found if found is not None else self.windows.get(silence_id)

    def query(
        self,
        *,
        states: Iterable[SilenceState] | None = None,
        labels: Mapping[str, str] | None = None,
        now_ms: int | None = None,
    ) -> list[Silence]:
        """Silences in one of ``states`` (all when ``None``) whose matchers all match ``labels``
        (when given), at ``now_ms`` (default: now), one-off maintenance windows included.
        Unordered."""
        started = time.perf_counter()
        now = self._clock() if now_ms is None else now_ms
        wanted = None if states is None else frozenset(states)
        windows = self.windows.silences(now, self.retention_ms)
        with self._lock:
            found = [
                s
                for s in [*self._silences.values(), *windows]
                if (wanted is None or s.state(now) in wanted)
                and (labels is None or s.mutes(labels))
            ]
        self.queries += 1
        self.query_duration.observe(time.perf_counter() - started)
        return found

    def count(self, now_ms: int | None = None) -> dict[SilenceState, int]:
        """How many silences are in each state."""
        now = self._clock() if now_ms is None else now_ms
        counts: dict[SilenceState, int] = dict.fromkeys(STATES, 0)
        with self._lock:
            for s in self._silences.values():
                counts[s.state(now)] += 1
        return counts

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> tuple[str, ...]:
        """IDs of the active silences (and maintenance windows) that match ``labels``, sorted
        (empty: not silenced)."""
        key = frozenset(labels.items())
        version = self._version
        cached = self._cache.get(key)
        if cached is not None and cached[0] == version:
            candidates = cached[1]
        else:
            with self._lock:
                version = self._version
                candidates = tuple(
                    s
                    for s in self._candidates(labels)
                    if s.state(now_ms) != "expired" and s.mutes(labels)
                )
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (version, candidates)
        ids = [s.id for s in candidates if s.state(now_ms) == "active"]
        ids += self.windows.muting(labels, now_ms)
        return tuple(sorted(ids))

    def _candidates(self, labels: Mapping[str, str]) -> Iterator[Silence]:
        """The silences that may match ``labels``: the unindexed ones and those indexed under
        one of its labels."""
        yield from self._unindexed.values()
        for item in labels.items():
            found = self._by_label.get(item)
            if found:
                yield from found.values()

    def _remember(self, silence: Silence) -> None:
        old = self._silences.get(silence.id)
        if old is not None:
            version = self._doc_versions.get(silence.id)
            self._forget(old)
            if version is not None:
                self._doc_versions[silence.id] = version
        self._silences[silence.id] = silence
        key = _index_key(silence)
        if key is None:
            self._unindexed[silence.id] = silence
        else:
            self._by_label.setdefault(key, {})[silence.id] = silence

    def _forget(self, silence: Silence) -> None:
        self._silences.pop(silence.id, None)
        self._doc_versions.pop(silence.id, None)
        key = _index_key(silence)
        if key is None:
            self._unindexed.pop(silence.id, None)
            return
        bucket = self._by_label.get(key, {})
        bucket.pop(silence.id, None)
        if not bucket:
            self._by_label.pop(key, None)

    # -- writing ---------------------------------------------------------------------------
    def set(self, draft: SilenceDraft) -> str:
        """Create or update a silence as Alertmanager does; its id (new unless updated in place).

        ``SilenceNotFound`` when ``draft.id`` names no silence; ``InvalidSilence`` when the
        silence is invalid (the messages are Alertmanager's).
        """
        with self._lock:
            now = self._clock()
            prev = self._silences.get(draft.id) if draft.id else None
            if draft.id and prev is None:
                raise SilenceNotFound(draft.id)
            matchers = build_matchers(draft.matchers, self.mode)
            silence = Silence(
                matchers=matchers,
                starts_at_ms=draft.starts_at_ms,
                ends_at_ms=draft.ends_at_ms,
                created_by=draft.created_by,
                comment=draft.comment,
                id=draft.id,
            )
            if prev is not None and _can_update(prev, silence, now):
                validate_silence(silence)
                self._write(silence, now)
                return silence.id
            # A new silence, or one replacing a silence that cannot change in place.
            if silence.starts_at_ms < now:
                silence = silence.with_times(now, silence.ends_at_ms)
            validate_silence(silence)
            if prev is not None and prev.state(now) != "expired":
                self._expire(prev, now)
            new = Silence(
                matchers=silence.matchers,
                starts_at_ms=silence.starts_at_ms,
                ends_at_ms=silence.ends_at_ms,
                created_by=silence.created_by,
                comment=silence.comment,
                id=str(uuid.uuid4()),
            )
            self._write(new, now)
            return new.id

    def expire(self, silence_id: str) -> None:
        """End the silence now; ``SilenceNotFound`` if there is none (an expired one stays as
        it is)."""
        with self._lock:
            silence = self._silences.get(silence_id)
            if silence is None:
                raise SilenceNotFound(silence_id)
            self._expire(silence, self._clock())

    def _expire(self, silence: Silence, now: int) -> None:
        state = silence.state(now)
        if state == "expired":
            return
        starts = now if state == "pending" else silence.starts_at_ms
        self._write(silence.with_times(starts, now), now)

    def _write(self, silence: Silence, now: int) -> None:
        stored = Silence(
            matchers=silence.matchers,
            starts_at_ms=silence.starts_at_ms,
            ends_at_ms=silence.ends_at_ms,
            created_by=silence.created_by,
            comment=silence.comment,
            id=silence.id,
            updated_at_ms=now,
        )
        doc = self._store.put(
            KIND,
            stored.id,
            to_document(stored),
            expires_ms=stored.ends_at_ms + self.retention_ms,
        )
        self._remember(stored)
        self._doc_versions[stored.id] = doc.version
        self._writes += 1
        self._version += 1

    # -- maintenance -----------------------------------------------------------------------
    def gc(self, now_ms: int | None = None) -> int:
        """Forget silences expired longer than ``retention`` ago; how many went.

        Their documents have expired in the state store already; ``purge_expired`` reclaims
        the rows.
        """
        now = self._clock() if now_ms is None else now_ms
        with self._lock:
            gone = [
                sid for sid, s in self._silences.items() if s.ends_at_ms + self.retention_ms <= now
            ]
            for sid in gone:
                self._forget(self._silences[sid])
            if gone:
                self._version += 1
                self._cache.clear()
        self.gc_runs += 1
        return len(gone)

    async def start(self) -> None:
        """Garbage-collect every ``maintenance_interval_s`` and sync every ``sync_interval_s``
        until ``stop``."""
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._maintain(), name="silences-maintenance"))
        if self.sync_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._sync_loop(), name="silences-sync"))

    async def stop(self) -> None:
        """Stop the maintenance and sync loops."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval_s)
            try:
                await asyncio.to_thread(self.sync)
            except Exception:  # the shared database may be briefly away; try again next time
                log.exception("silences: reading the state store failed")

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.maintenance_interval_s)
            try:
                gone = await asyncio.to_thread(self.gc)
                await asyncio.to_thread(self._store.purge_expired)
            except Exception:  # a database hiccup must not end maintenance for good
                log.exception("silences: garbage collection failed")
                continue
            if gone:
                log.info("silences: forgot %d silences expired over the retention", gone)

    def collectors(self) -> Sequence[Collector]:
        """Alertmanager's silence metrics: ``alertmanager_silences{state}`` and the queries'."""
        return [_SilencesCollector(self)]


def _can_update(prev: Silence, new: Silence, now: int) -> bool:
    """Whether ``prev`` may become ``new`` in place without rewriting what it muted."""
    if _matcher_key(prev.matchers) != _matcher_key(new.matchers):
        return False
    state = prev.state(now)
    if state == "active":
        # Alertmanager compares the starts in whole seconds.
        return prev.starts_at_ms // 1000 == new.starts_at_ms // 1000 and new.ends_at_ms >= now
    if state == "pending":
        return new.starts_at_ms >= now
    return False


def _index_key(silence: Silence) -> tuple[str, str] | None:
    """The label and value every set the silence matches has: its first equality matcher with a
    non-empty value (``None``: it has none)."""
    for m in silence.matchers:
        if m.op.value == "=" and m.value:
            return (m.name, m.value)
    return None


def _matcher_key(matchers: Sequence[Matcher]) -> tuple[tuple[str, str, str], ...]:
    return tuple((m.name, m.op.value, m.value) for m in matchers)


class _SilencesCollector(Collector):
    def __init__(self, silences: Silences) -> None:
        self._silences = silences

    def collect(self) -> Iterable[Metric]:
        states = GaugeMetricFamily(
            "alertmanager_silences", "How many silences by state.", labels=["state"]
        )
        for state, n in self._silences.count().items():
            states.add_metric([state], n)
        yield states
        yield CounterMetricFamily(
            "alertmanager_silences_queries",
            "How many silence queries were received.",
            value=self._silences.queries,
        )
        yield CounterMetricFamily(
            "alertmanager_silences_gc",
            "How many times expired silences were garbage-collected.",
            value=self._silences.gc_runs,
        )
        yield from self._silences.query_duration.collect()


__all__ = ["DEFAULT_RETENTION_MS", "KIND", "Silences"]
