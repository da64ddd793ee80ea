"""Statistics snapshots as metric families."""

from __future__ import annotations

from dataclasses import dataclass

from spyglass.core.stats import StatsCollector
from spyglass.server.selfmetrics import SelfMetrics


def test_stats_collector_with_a_label_makes_one_family() -> None:
    @dataclass
    class S:
        n: int

    m = SelfMetrics()
    m.add(
        StatsCollector(
            lambda: {"a": S(1), "b": S(2)},
            [
                __import__("spyglass.core.stats", fromlist=["StatField"]).StatField(
                    "n", "x_n", "gauge", "N."
                )
            ],
            label="signal",
        )
    )
    body = m.render(None)[0].decode()
    assert 'x_n{signal="a"} 1.0' in body
    assert 'x_n{signal="b"} 2.0' in body
