"""The routing tree: which routes an alert takes, with what settings, in which group.

``RoutingTree`` is Alertmanager's dispatcher tree built from a config's ``route``: every node
knows its effective settings (receiver, ``group_by``, waits and intervals inherited from its
parent, time intervals its own) and its sorted matchers. ``match`` walks it depth first, left to
right: a node whose matchers hold tries its children in order, the first matching child ends the
search unless it has ``continue: true``, and a node no child takes is itself the match.
``group_key`` is the aggregation group's key exactly as Alertmanager spells it (webhook
payloads carry it as ``groupKey``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from spyglass.alerting._config import AlertmanagerConfig, Route
from spyglass.alerting._golang import format_duration_ns, quote
from spyglass.alerting._matchers import Matcher, format_matchers, matches_all

DEFAULT_GROUP_WAIT_MS = 30_000
DEFAULT_GROUP_INTERVAL_MS = 300_000
DEFAULT_REPEAT_INTERVAL_MS = 4 * 3600_000


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """A route's effective settings. ``group_by_all`` is ``group_by: ['...']``."""

    receiver: str = ""
    group_by: frozenset[str] = frozenset()
    group_by_all: bool = False
    group_wait_ms: int = DEFAULT_GROUP_WAIT_MS
    group_interval_ms: int = DEFAULT_GROUP_INTERVAL_MS
    repeat_interval_ms: int = DEFAULT_REPEAT_INTERVAL_MS
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        wait = format_duration_ns(self.group_wait_ms * 1_000_000)
        interval = format_duration_ns(self.group_interval_ms * 1_000_000)
        names = "[" + " ".join(quote(n) for n in sorted(self.group_by)) + "]"
        return (
            f"<RouteOpts send_to:{quote(self.receiver)} group_by:{names} "
            f"group_by_all:{str(self.group_by_all).lower()} timers:{quote(wait)}|{quote(interval)}>"
        )


@dataclass(frozen=True, slots=True, eq=False)
class RouteNode:
    """One node of the routing tree.

    ``index`` numbers nodes children first, as Alertmanager does; ``position`` is the node's
    place among its siblings; ``config`` the route as written.
    """

    options: RouteOptions
    matchers: tuple[Matcher, ...]
    continue_: bool
    config: Route
    parent: RouteNode | None = field(default=None, repr=False)
    position: int = 0
    index: int = 0
    children: tuple[RouteNode, ...] = field(default=(), repr=False)

    @property
    def receiver(self) -> str:
        """The effective receiver."""
        return self.options.receiver

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether this node's own matchers hold (a missing label is the empty value)."""
        return matches_all(self.matchers, labels)

    def key(self) -> str:
        """Alertmanager's route key: the matchers of every node from the root, ``/``-joined."""
        own = format_matchers(self.matchers)
        return own if self.parent is None else f"{self.parent.key()}/{own}"

    def id(self) -> str:
        """Alertmanager's route ID: the key with each node's position among its siblings."""
        own = format_matchers(self.matchers)
        if self.parent is None:
            return own
        return f"{self.parent.id()}/{own}/{self.position}"

    def walk(self) -> Iterator[RouteNode]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class RoutingTree:
    """The routing tree of a loaded config."""

    def __init__(self, route: Route) -> None:
        counter = [0]
        self.root = _build(route, None, 0, counter)

    @classmethod
    def of(cls, config: AlertmanagerConfig) -> RoutingTree:
        """The tree of ``config.route``."""
        return cls(config.route)

    def match(self, labels: Mapping[str, str]) -> list[RouteNode]:
        """The routes an alert with ``labels`` goes to, in Alertmanager's order."""
        return _match(self.root, labels)

    def receivers(self, labels: Mapping[str, str]) -> list[str]:
        """The receivers of ``match`` (what ``amtool config routes test`` prints)."""
        return [node.receiver for node in self.match(labels)]

    def walk(self) -> Iterator[RouteNode]:
        """Every node, depth first."""
        return self.root.walk()


def _build(route: Route, parent: RouteNode | None, position: int, counter: list[int]) -> RouteNode:
    base = parent.options if parent is not None else RouteOptions()
    labels = dict(base.labels)
    labels.update(route.labels)
    group_by, group_by_all = base.group_by, base.group_by_all
    if route.group_by is not None:
        group_by, group_by_all = frozenset(route.group_by), False
    elif route.group_by_all:
        group_by_all = True
    options = RouteOptions(
        receiver=route.receiver or base.receiver,
        group_by=group_by,
        group_by_all=group_by_all,
        group_wait_ms=base.group_wait_ms if route.group_wait_ms is None else route.group_wait_ms,
        group_interval_ms=base.group_interval_ms
        if route.group_interval_ms is None
        else route.group_interval_ms,
        repeat_interval_ms=base.repeat_interval_ms
        if route.repeat_interval_ms is None
        else route.repeat_interval_ms,
        # Time intervals are the node's own: Alertmanager does not inherit them.
        mute_time_intervals=route.mute_time_intervals,
        active_time_intervals=route.active_time_intervals,
        labels=tuple(sorted(labels.items())),
    )
    node = RouteNode(options, route.all_matchers(), route.continue_, route, parent, position)
    children = tuple(_build(child, node, i, counter) for i, child in enumerate(route.routes))
    # Children are numbered before their parent.
    object.__setattr__(node, "children", children)
    object.__setattr__(node, "index", counter[0])
    counter[0] += 1
    return node


def _match(node: RouteNode, labels: Mapping[str, str]) -> list[RouteNode]:
    if not node.matches(labels):
        return []
    found: list[RouteNode] = []
    for child in node.children:
        taken = _match(child, labels)
        found.extend(taken)
        if taken and not child.continue_:
            break
    return found or [node]


def group_labels(node: RouteNode, labels: Mapping[str, str]) -> dict[str, str]:
    """The labels an alert is grouped by on this route (all of them with ``['...']``)."""
    options = node.options
    return {
        name: value
        for name, value in labels.items()
        if options.group_by_all or name in options.group_by
    }


def format_label_set(labels: Mapping[str, str]) -> str:
    """Prometheus' ``LabelSet.String``: ``{a="1", b="2"}``, names sorted, values Go-quoted."""
    return "{" + ", ".join(f"{n}={quote(labels[n])}" for n in sorted(labels)) + "}"


def group_key(node: RouteNode, labels: Mapping[str, str]) -> str:
    """The aggregation group key of an alert on ``node``: ``<route key>:<group labels>``."""
    return f"{node.key()}:{format_label_set(group_labels(node, labels))}"


__all__ = [
    "DEFAULT_GROUP_INTERVAL_MS",
    "DEFAULT_GROUP_WAIT_MS",
    "DEFAULT_REPEAT_INTERVAL_MS",
    "RouteNode",
    "RouteOptions",
    "RoutingTree",
    "format_label_set",
    "group_key",
    "group_labels",
]
