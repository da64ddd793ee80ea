"""Building pipelines from YAML and running lines through them, for the stage tests."""

from __future__ import annotations

from spyglass.agent import Drops, Entry, Pipeline, build_pipeline
from spyglass.core.config import load_yaml

NOW = 1_765_000_000_000_000_000  # 2025-12-06T05:46:40Z


def pipeline(text: str, now: int = NOW) -> tuple[Pipeline, Drops]:
    """The stages of a ``pipeline_stages`` YAML list, and their drop counter."""
    drops = Drops()
    return build_pipeline(
        load_yaml(text, "promtail.yaml"), "pipeline_stages", drops, lambda: now
    ), drops


def entry(line: str, labels: dict[str, str] | None = None, ts: int = NOW, offset: int = 0) -> Entry:
    """An entry as the agent makes one from a line (the extracted map starts as the labels)."""
    lb = dict(labels or {"filename": "/var/log/app.log"})
    return Entry(line, ts, lb, dict(lb), offset=offset)


def run(
    p: Pipeline, *lines: str, labels: dict[str, str] | None = None, now: int = NOW
) -> list[Entry]:
    """Every entry that comes out of ``p`` for ``lines`` fed in order at ``now``."""
    out: list[Entry] = []
    gone: list[Entry] = []
    for i, line in enumerate(lines):
        out.extend(p.feed(entry(line, labels, offset=i), now, gone))
    return out
