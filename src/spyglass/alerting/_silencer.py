"""Silences as the router sees them: one question, which silences mute these labels now.

The router asks a ``Silencer`` during every flush and for the Alertmanager API's alert status;
the silences themselves (their store, API and expiry) live elsewhere and only implement this
protocol. ``NoSilences`` is the router's default when nothing else is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Silencer(Protocol):
    """What silences the router."""

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> tuple[str, ...]:
        """IDs of the active silences that match ``labels`` (empty: not silenced)."""
        ...


class NoSilences:
    """A silencer with no silences."""

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> tuple[str, ...]:
        """Nothing is silenced."""
        return ()


__all__ = ["NoSilences", "Silencer"]
