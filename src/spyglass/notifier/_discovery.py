"""Which Alertmanagers one ``alerting.alertmanagers`` entry names, as Prometheus finds them.

Every discovered target (static or file_sd) becomes a label set with ``__address__``,
``__scheme__`` (the entry's ``scheme``) and ``__alerts_path__`` (``path_prefix`` joined with
``/api/v2/alerts``) plus its group's labels; the entry's ``relabel_configs`` run on it; what
survives is an Alertmanager at ``<__scheme__>://<__address__><__alerts_path__>``, what is dropped
is listed as dropped (``/api/v1/alertmanagers``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from spyglass.core.config import AlertmanagerConfig, TargetGroup
from spyglass.core.labels import Labels
from spyglass.core.relabel import relabel

ADDRESS = "__address__"
SCHEME = "__scheme__"
ALERTS_PATH = "__alerts_path__"


@dataclass(frozen=True, slots=True)
class Discovered:
    """The Alertmanagers of one entry: URLs to send to, and the label sets relabeling dropped."""

    urls: tuple[str, ...]
    dropped: tuple[Labels, ...]


def alerts_path(path_prefix: str, api_version: str = "v2") -> str:
    """Where alerts are posted: Go's ``path.Join("/", prefix, "/api/<v>/alerts")``."""
    return posixpath.normpath(
        posixpath.join("/", path_prefix.lstrip("/"), f"api/{api_version}/alerts")
    )


def discover(config: AlertmanagerConfig, groups: Iterable[TargetGroup]) -> Discovered:
    """The Alertmanagers that ``groups`` (static and file_sd groups of ``config``) name."""
    urls: list[str] = []
    dropped: list[Labels] = []
    path = alerts_path(config.path_prefix, config.api_version)
    for group in groups:
        for address in group.targets:
            lb = {ADDRESS: address, SCHEME: config.scheme, ALERTS_PATH: path}
            for name, value in group.labels:
                lb.setdefault(name, value)
            before = tuple(sorted(lb.items()))
            after = relabel(before, config.relabel_configs)
            if after is None:
                dropped.append(before)
                continue
            got = dict(after)
            url = f"{got.get(SCHEME, '')}://{got.get(ADDRESS, '')}{got.get(ALERTS_PATH, '')}"
            if url not in urls:
                urls.append(url)
    return Discovered(tuple(urls), tuple(dropped))


__all__ = ["ADDRESS", "ALERTS_PATH", "SCHEME", "Discovered", "alerts_path", "discover"]
