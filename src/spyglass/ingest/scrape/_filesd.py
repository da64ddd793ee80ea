"""File-based service discovery: JSON or YAML files listing target groups.

Each file holds a list of ``{"targets": [...], "labels": {...}}``; every target also gets
``__meta_filepath``. Like Prometheus, a file that fails to read or parse keeps the targets it
had before (and the error is logged), and files are re-read when they change (we poll their
modification time and size) and at least every ``refresh_interval``.
"""

from __future__ import annotations

import glob
import json
import logging
import os
from dataclasses import dataclass, field

import yaml

from spyglass.core.config import FileSDConfig, TargetGroup
from spyglass.core.errors import BadInput
from spyglass.core.labels import labels_of

log = logging.getLogger(__name__)

META_FILEPATH = "__meta_filepath"


def parse_target_file(data: bytes, path: str) -> list[TargetGroup]:
    """Target groups from one file's bytes; ``BadInput`` when it is not a valid SD file."""
    try:
        raw = json.loads(data) if path.lower().endswith(".json") else yaml.safe_load(data)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise BadInput(f"error reading file {path!r}: {exc}") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadInput(f"{path}: expected a list of target groups")
    groups = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise BadInput(f"{path}: group {i} is not a mapping")
        unknown = set(entry) - {"targets", "labels"}
        if unknown:
            raise BadInput(f"{path}: group {i}: unknown field {sorted(map(str, unknown))[0]}")
        targets = entry.get("targets") or []
        labels = entry.get("labels") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise BadInput(f"{path}: group {i}: targets must be a list of strings")
        if not isinstance(labels, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in labels.items()
        ):
            raise BadInput(f"{path}: group {i}: labels must map names to strings")
        merged = {**labels, META_FILEPATH: path}
        groups.append(TargetGroup(tuple(targets), labels_of(merged), f"{path}:{i}"))
    return groups


@dataclass
class FileSD:
    """The current groups of one ``file_sd_configs`` entry; ``poll()`` re-reads what changed."""

    config: FileSDConfig
    _files: dict[str, tuple[float, int]] = field(default_factory=dict)
    _groups: dict[str, list[TargetGroup]] = field(default_factory=dict)
    _since_refresh_ms: int = 0

    def groups(self) -> list[TargetGroup]:
        """All groups from all matching files, in file name order."""
        return [g for name in sorted(self._groups) for g in self._groups[name]]

    def poll(self, elapsed_ms: int = 0) -> bool:
        """Re-read changed, new and vanished files; ``True`` when the groups changed.

        Every file is re-read once ``refresh_interval`` has passed since the last full refresh.
        """
        self._since_refresh_ms += elapsed_ms
        full = self._since_refresh_ms >= self.config.refresh_interval_ms
        if full:
            self._since_refresh_ms = 0
        names: set[str] = set()
        for pattern in self.config.files:
            names.update(glob.glob(pattern))
        changed = False
        for gone in set(self._groups) - names:
            del self._groups[gone]
            self._files.pop(gone, None)
            changed = True
        for name in sorted(names):
            try:
                st = os.stat(name)
            except OSError:
                continue
            sig = (st.st_mtime, st.st_size)
            if not full and self._files.get(name) == sig:
                continue
            self._files[name] = sig
            try:
                with open(name, "rb") as fh:
                    groups = parse_target_file(fh.read(), name)
            except (OSError, BadInput) as exc:
                log.error("file_sd: %s (keeping the previous targets of this file)", exc)
                continue
            if self._groups.get(name) != groups:
                self._groups[name] = groups
                changed = True
        return changed


__all__ = ["META_FILEPATH", "FileSD", "parse_target_file"]
