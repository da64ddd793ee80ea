"""Scrape targets: from discovered groups to the label set and URL a scrape loop uses.

Mirrors Prometheus' target population: group and target labels, then the scrape config's
``job``/``__scheme__``/``__metrics_path__``/``__scrape_interval__``/``__scrape_timeout__``/
``__param_<name>`` where not already set; that set is the target's *discovered* labels. Then
``relabel_configs`` run; a target they drop is kept (discovered labels only) for the targets API.
After relabeling, ``__meta_*`` labels go, ``instance`` defaults to ``__address__``, and the public
label set is everything not starting with ``__``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from spyglass.core.config import ScrapeConfig, TargetGroup
from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels, labels_of
from spyglass.core.relabel import relabel
from spyglass.core.times import format_duration, parse_duration_ms

ADDRESS = "__address__"
SCHEME = "__scheme__"
METRICS_PATH = "__metrics_path__"
SCRAPE_INTERVAL = "__scrape_interval__"
SCRAPE_TIMEOUT = "__scrape_timeout__"
PARAM_PREFIX = "__param_"
META_PREFIX = "__meta_"
_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # what Go's url.URL leaves unescaped in a path


@dataclass(frozen=True, slots=True)
class Target:
    """An active target: what a scrape loop needs and what ``/api/v1/targets`` shows."""

    scrape_pool: str
    discovered_labels: Labels
    internal_labels: Labels  # after relabeling, including __address__ and friends
    labels: Labels  # the public set attached to every scraped series
    url: str
    interval_ms: int
    timeout_ms: int
    key: bytes = field(compare=False, default=b"")

    @property
    def hash(self) -> int:
        """A stable 64-bit identity of labels and URL (spreads scrape offsets, dedupes)."""
        return int.from_bytes(self.key[:8], "big")


@dataclass(frozen=True, slots=True)
class DroppedTarget:
    """A target that relabeling dropped: only its discovered labels are known."""

    scrape_pool: str
    discovered_labels: Labels


def discovered_labels(group: TargetGroup, address: str, sc: ScrapeConfig) -> Labels:
    """Target labels (``__address__``), the group's labels, then the scrape config's defaults."""
    lb = dict(group.labels)
    lb[ADDRESS] = address
    defaults = (
        ("job", sc.job_name),
        (SCRAPE_INTERVAL, format_duration(sc.scrape_interval_ms)),
        (SCRAPE_TIMEOUT, format_duration(sc.scrape_timeout_ms)),
        (METRICS_PATH, sc.metrics_path),
        (SCHEME, sc.scheme),
    )
    for name, value in defaults:
        if not lb.get(name):
            lb[name] = value
    for name, values in sc.params:
        key = PARAM_PREFIX + name
        if values and not lb.get(key):
            lb[key] = values[0]
    return labels_of(lb)


def populate(discovered: Labels, sc: ScrapeConfig) -> Target | None:
    """Relabel ``discovered`` into a ``Target``; ``None`` when relabeling drops it.

    Raises ``BadInput`` when the relabeled target cannot be scraped (no address, bad interval);
    Prometheus logs and skips those, listing them nowhere.
    """
    out = relabel(discovered, sc.relabel_configs)
    if out is None:
        return None
    lb = dict(out)
    address = lb.get(ADDRESS, "")
    if not address:
        raise BadInput("no address")
    if "/" in address:
        raise BadInput(f'"{address}" is not a valid hostname')
    interval_text = lb.get(SCRAPE_INTERVAL, "")
    timeout_text = lb.get(SCRAPE_TIMEOUT, "")
    try:
        interval = parse_duration_ms(interval_text)
    except BadInput as exc:
        raise BadInput(f"error parsing scrape interval: {exc}") from None
    if interval == 0:
        raise BadInput("scrape interval cannot be 0")
    try:
        timeout = parse_duration_ms(timeout_text)
    except BadInput as exc:
        raise BadInput(f"error parsing scrape timeout: {exc}") from None
    if timeout == 0:
        raise BadInput("scrape timeout cannot be 0")
    if timeout > interval:
        raise BadInput(
            "scrape timeout cannot be greater than scrape interval "
            f'("{timeout_text}" > "{interval_text}")'
        )
    for name in [n for n in lb if n.startswith(META_PREFIX)]:
        del lb[name]
    if not lb.get("instance"):
        lb["instance"] = address
    internal = labels_of(lb)
    public = tuple(p for p in internal if not p[0].startswith("__"))
    url = target_url(internal, sc)
    key = hashlib.blake2b(repr((public, url)).encode(), digest_size=16).digest()
    return Target(sc.job_name, discovered, internal, public, url, interval, timeout, key)


def target_url(internal: Labels, sc: ScrapeConfig) -> str:
    """``scheme://address/path?params``: config params overridden by ``__param_*`` labels."""
    lb = dict(internal)
    params = sc.params_dict
    for name, value in internal:
        if name.startswith(PARAM_PREFIX):
            key = name[len(PARAM_PREFIX) :]
            if params.get(key):
                params[key][0] = value
            else:
                params[key] = [value]
    path = lb.get(METRICS_PATH, "")
    url = f"{lb.get(SCHEME, '')}://{lb[ADDRESS]}{quote(path, safe=_PATH_SAFE)}"
    query = urlencode(sorted((k, v) for k, vs in params.items() for v in vs))
    return f"{url}?{query}" if query else url


def build_targets(
    sc: ScrapeConfig, groups: Iterable[TargetGroup]
) -> tuple[list[Target], list[DroppedTarget], list[str]]:
    """Active targets (deduplicated, in discovery order), dropped targets, and failures."""
    active: dict[bytes, Target] = {}
    dropped: list[DroppedTarget] = []
    failures: list[str] = []
    for group in groups:
        for i, address in enumerate(group.targets):
            disc = discovered_labels(group, address, sc)
            try:
                target = populate(disc, sc)
            except BadInput as exc:
                failures.append(f"instance {i} in group {group.source}: {exc}")
                continue
            if target is None:
                dropped.append(DroppedTarget(sc.job_name, disc))
                continue
            active.setdefault(target.key, target)
    return list(active.values()), dropped, failures


def offset_ms(target: Target, interval_ms: int, now_ms: int, seed: int = 0) -> int:
    """Milliseconds until this target's first scrape, spreading targets over the interval.

    Like Prometheus, the phase within the interval comes from the target's hash, so a target is
    scraped at the same point of every interval, across restarts too.
    """
    base = interval_ms - now_ms % interval_ms
    nxt = base + (target.hash ^ seed) % interval_ms
    return nxt - interval_ms if nxt > interval_ms else nxt


def static_groups(sc: ScrapeConfig) -> Sequence[TargetGroup]:
    """The scrape config's ``static_configs`` groups."""
    return sc.static_configs


__all__ = [
    "DroppedTarget",
    "Target",
    "build_targets",
    "discovered_labels",
    "offset_ms",
    "populate",
    "static_groups",
    "target_url",
]
