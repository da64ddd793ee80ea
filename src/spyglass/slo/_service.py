"""The SLOs a running Spyglass holds: from ``--slo-files`` and from the API, turned into rules.

``rule_texts`` is what the rule manager asks for at every (re)load, so SLO rules are evaluated,
listed and routed like any rule file's; a spec that does not load fails the load with its file,
line and field, and a reload with a broken spec keeps the rules that run. Specs written through
the API are kept in the state store (kind ``slo-spec``, as their text), checked before they are
stored, and may not redefine an SLO a file defines.
"""

from __future__ import annotations

import glob
from typing import Any

from spyglass.core.errors import BadInput
from spyglass.promql import Engine
from spyglass.slo._generate import generate_rule_file
from spyglass.slo._spec import SLO, load_slo_file, parse_slo_file, period_text
from spyglass.slo._status import budget_spent

KIND = "slo-spec"
MAX_SPEC_BYTES = 256 * 1024


class SLOService:
    """The SLO specs of a glob of files and of the state store."""

    def __init__(self, pattern: str, state: Any = None) -> None:
        self.pattern = pattern
        self.state = state  # a StateStore, or None: no specs through the API
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
        """(name, rule file text) per spec, for the rule manager; keeps what it loaded."""
        texts = []
        loaded: dict[str, SLO] = {}
        for f in self.files():
            slos = load_slo_file(f)
            loaded.update((s.id, s) for s in slos)
            texts.append((f"{f} (generated SLO rules)", generate_rule_file(slos)))
        for name, text in self.stored().items():
            slos = parse_slo_file(text, _source(name))
            loaded.update((s.id, s) for s in slos if s.id not in loaded)
            texts.append((f"{_source(name)} (generated SLO rules)", generate_rule_file(slos)))
        self.slos = loaded
        return texts

    # -- specs through the API ------------------------------------------------------------------
    def stored(self) -> dict[str, str]:
        """Every spec kept in the state store, by name."""
        if self.state is None:
            return {}
        out: dict[str, str] = {}
        after = ""
        while True:
            page = self.state.scan(KIND, start_after=after, limit=500)
            out.update((d.key, str(d.value["text"])) for d in page)
            if len(page) < 500:
                return out
            after = page[-1].key

    def put(self, name: str, text: str) -> list[SLO]:
        """Check a spec and keep it under ``name`` (replacing what that name held)."""
        if self.state is None:
            raise BadInput("SLO specs cannot be stored here: no state store")
        slos = self.check(name, text)
        self.state.put(KIND, name, {"text": text})
        return slos

    def check(self, name: str, text: str) -> list[SLO]:
        """The SLOs of a spec ``put`` would keep under ``name``, checked as ``put`` checks
        them, without keeping anything (a dry run: the editor's preview)."""
        if not name or len(name) > 200 or not all(c.isalnum() or c in "-_." for c in name):
            raise BadInput("a spec name is 1 to 200 letters, digits, '-', '_' or '.'")
        if len(text.encode()) > MAX_SPEC_BYTES:
            raise BadInput(f"the spec is larger than {MAX_SPEC_BYTES} bytes")
        slos = parse_slo_file(text, _source(name))  # ConfigError names line and field
        if not slos:
            raise BadInput("the spec holds no SLO")
        from_files = {s.id for f in self.files() for s in load_slo_file(f)}
        others = {
            s.id
            for other, body in self.stored().items()
            if other != name
            for s in parse_slo_file(body, _source(other))
        }
        for slo in slos:
            if slo.id in from_files:
                raise BadInput(f"SLO {slo.id!r} is defined in --slo-files; change it there")
            if slo.id in others:
                raise BadInput(f"SLO {slo.id!r} is already defined by another stored spec")
        return slos

    def delete(self, name: str) -> bool:
        """Forget a stored spec; ``False`` when there was none."""
        return bool(self.state is not None and self.state.delete(KIND, name))

    def spent(self, engine: Engine, start_ms: int, end_ms: int) -> list[tuple[str, float, str]]:
        """(SLO id, share of its period budget, period) that ``[start, end]`` spent, for the
        SLOs with events in the window (an incident's postmortem reports these)."""
        out = []
        for slo in self.slos.values():
            share = budget_spent(slo, engine, start_ms, end_ms)
            if share is not None:
                out.append((slo.id, share, period_text(slo)))
        return out


def _source(name: str) -> str:
    return f"api:{name}"


__all__ = ["SLOService"]
