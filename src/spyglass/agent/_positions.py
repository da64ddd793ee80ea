"""The positions file: how far each tailed file has been shipped, kept across restarts.

The format is Promtail's, so a Promtail positions file carries over (and back)::

    positions:
      /var/log/app.log: "10442"

Offsets are bytes. The file is replaced atomically (written beside, fsynced, renamed over, the
directory fsynced), so a crash leaves the old positions or the new ones, never a torn file.
The agent only records an offset once every entry before it was acknowledged by the push
endpoint, so a restart resumes exactly after the last acknowledged line.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import yaml

from spyglass.core.errors import ConfigError


class Positions:
    """Offsets by path, loaded from and saved to one file."""

    def __init__(self, filename: str | Path, *, ignore_invalid_yaml: bool = False) -> None:
        self.path = Path(filename)
        self.offsets: dict[str, int] = {}
        self._saved: dict[str, int] = {}
        self.ignore_invalid_yaml = ignore_invalid_yaml

    def load(self) -> None:
        """Read the file (a missing one is empty); ``ConfigError`` when it is not a positions
        file, unless ``ignore_invalid_yaml`` (Promtail's option) says to start afresh."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.offsets = {}
            return
        try:
            self.offsets = parse_positions(text)
        except ConfigError:
            if not self.ignore_invalid_yaml:
                raise
            self.offsets = {}
        self._saved = dict(self.offsets)

    def get(self, path: str) -> int | None:
        """The recorded offset of ``path``, if any."""
        return self.offsets.get(path)

    def set(self, path: str, offset: int) -> None:
        """Record ``offset`` for ``path`` (saved by the next ``save``)."""
        self.offsets[path] = offset

    def remove(self, path: str) -> None:
        """Forget ``path`` (its file is gone)."""
        self.offsets.pop(path, None)

    def save(self) -> bool:
        """Write the file atomically when something changed; whether it wrote."""
        if self.offsets == self._saved and self.path.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        data = format_positions(self.offsets)
        with tmp.open("w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        with contextlib.suppress(OSError):
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._saved = dict(self.offsets)
        return True


def parse_positions(text: str, file: str = "") -> dict[str, int]:
    """The offsets of a positions file's text; ``ConfigError`` when it is not one."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid positions file: {exc}", file=file) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("positions", {}), (dict, type(None))):
        raise ConfigError("invalid positions file: expected a 'positions' map", file=file)
    out: dict[str, int] = {}
    for path, value in (doc.get("positions") or {}).items():
        try:
            offset = int(str(value))
        except ValueError:
            raise ConfigError(
                f"invalid positions file: offset {value!r} of {path} is not a number", file=file
            ) from None
        if offset < 0:
            raise ConfigError(f"invalid positions file: negative offset of {path}", file=file)
        out[str(path)] = offset
    return out


def format_positions(offsets: dict[str, int]) -> str:
    """Positions as Promtail writes them (offsets quoted, paths sorted)."""
    doc = {"positions": {path: str(offsets[path]) for path in sorted(offsets)}}
    return yaml.safe_dump(doc, default_flow_style=False, allow_unicode=True, sort_keys=False)


__all__ = ["Positions", "format_positions", "parse_positions"]
