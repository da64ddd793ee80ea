"""Helpers for evaluating rule groups over a ``MemoryStore``, as the scheduler will."""

from __future__ import annotations

import math
from collections.abc import Iterable

from spyglass.core.labels import Labels, labels_of
from spyglass.core.samples import is_stale
from spyglass.core.template import expand_alert_template
from spyglass.rules import GroupEvaluation, RuleGroup, Sample, parse_rule_file
from spyglass.storage.memory import MemoryStore

MIN = 60_000


def make_group(text: str, **options: object) -> RuleGroup:
    """The first group of a rule file, with the stand-in expander and a fixed clock."""
    spec = parse_rule_file(text, file="rules.yml").groups[0]
    options.setdefault("expander", expand_alert_template)
    options.setdefault("clock", lambda: 1_700_000_000.0)
    return RuleGroup(spec, **options)  # type: ignore[arg-type]


def series(store: MemoryStore, name: str, points: Iterable[float | None], **labels: str) -> None:
    """Add one sample a minute from time 0 (``None`` skips a minute)."""
    pts = [(i * MIN, v) for i, v in enumerate(points) if v is not None]
    store.add(labels_of({"__name__": name, **labels}), [t for t, _ in pts], [v for _, v in pts])


def step(store: MemoryStore, group: RuleGroup, time_ms: int) -> GroupEvaluation:
    """Evaluate at ``time_ms`` and write what the group returned, as the scheduler will."""
    result = group.evaluate(store, time_ms)
    store.write(result.batch())
    return result


def show(samples: Iterable[Sample]) -> list[tuple[dict[str, str], int, float | str]]:
    """Samples as plain data; staleness markers as ``"stale"``."""
    out: list[tuple[dict[str, str], int, float | str]] = []
    for s in samples:
        value: float | str = "stale" if is_stale(s.value) else s.value
        assert not (isinstance(value, float) and math.isnan(value)), "NaN that is not stale"
        out.append((dict(s.labels), s.time_ms, value))
    return out


def lbl(**pairs: str) -> Labels:
    """A label set."""
    return labels_of(pairs)
