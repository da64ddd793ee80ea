"""The SLOs a running Spyglass holds: read from ``--slo-files``, turned into rules, reported.

``rule_texts`` is what the rule manager asks for at every (re)load, so SLO rules are evaluated,
listed and routed like any rule file's; a spec that does not load fails the load with its file,
line and field, and a reload with a broken spec keeps the rules that run.
"""

from __future__ import annotations

import glob

from spyglass.promql import Engine
from spyglass.slo._generate import generate_rule_file
from spyglass.slo._spec import SLO, load_slo_file, period_text
from spyglass.slo._status import budget_spent


class SLOService:
    """The SLO specs of a glob of files."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.slos: dict[str, SLO] = {}

    def files(self) -> list[str]:
        """The spec files the pattern matches, sorted."""
        return sorted(glob.glob(self.pattern)) if self.pattern else []

    def load(self) -> dict[str, SLO]:
        """Read every spec now (``ConfigError`` for the first that fails)."""
        slos: dict[str, SLO] = {}
        for f in self.files():
            for slo in load_slo_file(f):
                slos[slo.id] = slo
        return slos

    def rule_texts(self) -> list[tuple[str, str]]:
        """(name, rule file text) per spec file, for the rule manager; keeps what it loaded."""
        texts = []
        loaded: dict[str, SLO] = {}
        for f in self.files():
            slos = load_slo_file(f)
            loaded.update((s.id, s) for s in slos)
            texts.append((f"{f} (generated SLO rules)", generate_rule_file(slos)))
        self.slos = loaded
        return texts

    def spent(self, engine: Engine, start_ms: int, end_ms: int) -> list[tuple[str, float, str]]:
        """(SLO id, share of its period budget, period) that ``[start, end]`` spent, for the
        SLOs with events in the window (an incident's postmortem reports these)."""
        out = []
        for slo in self.slos.values():
            share = budget_spent(slo, engine, start_ms, end_ms)
            if share is not None:
                out.append((slo.id, share, period_text(slo)))
        return out


__all__ = ["SLOService"]
