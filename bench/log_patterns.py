"""Log pattern mining: Spyglass's miner against drain3's own TemplateMiner, side by side.

The corpus is tests/support/logcorpus.py (JSON web-service logs whose template every line was
made from), ``--copies`` times with other seeds. Every variant mines the same messages, grouped
per service and level the same way, so only the masking differs:

- ``spyglass``: ``PatternMiner`` (one-pass masking, then drain3's ``Drain``);
- ``drain3+masks``: drain3's ``TemplateMiner`` with the same seven masks as its masking
  instructions (applied one after another, as drain3 does);
- ``drain3``: ``TemplateMiner`` as it comes (no masking, numbers parametrised by Drain).

Printed per variant: lines/s (median of ``--rounds``), templates found, and templates recovered
exactly (a template whose lines are exactly the lines of one generated template: the sample's
template key, counted lines equal to the generator's count, and no other template for that
key). Then, with ``--server``, a real ``spyglass serve`` holding the corpus answers
``/api/logs/patterns``, ``/api/logs/impact`` and ``/loki/api/v1/patterns`` over both periods;
medians of ``--rounds``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from drain3 import TemplateMiner  # type: ignore[import-untyped]
from drain3.masking import MaskingInstruction  # type: ignore[import-untyped]
from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]
from tests.support.logcorpus import PERIOD_NS, CorpusLine, generate
from tests.support.servers import spyglass

from spyglass.logs import PatternMiner, line_fields

# The masks themselves, to hand drain3 the same ones as masking instructions.
from spyglass.logs._masking import _PARTS, MASK_NAMES

Result = list[tuple[str, int]]  # (a sample line, line count) per template


def _corpus(copies: int) -> list[CorpusLine]:
    lines: list[CorpusLine] = []
    for seed in range(1, copies + 1):
        # Each copy is another day, so copies never share a timestamp.
        shift = (seed - 1) * 2 * PERIOD_NS
        lines += [
            CorpusLine(c.timestamp_ns + shift, c.service, c.level, c.line, c.key, c.user)
            for c in generate(seed)
        ]
    return lines


def run_spyglass(lines: list[CorpusLine]) -> Result:
    miner = PatternMiner()
    for c in lines:
        miner.add(c.timestamp_ns, c.labels, c.line)
    return [(p.sample.line, p.count) for p in miner.patterns(1, 0)]


def _drain3(masks: bool) -> Callable[[list[CorpusLine]], Result]:
    def run(lines: list[CorpusLine]) -> Result:
        miners: dict[tuple[str, str], Any] = {}
        stats: dict[tuple[tuple[str, str], int], list[Any]] = {}
        for c in lines:
            f = line_fields(c.labels, c.line)
            key = (f.service, f.level)
            miner = miners.get(key)
            if miner is None:
                config = TemplateMinerConfig()
                if masks:
                    config.masking_instructions = [
                        MaskingInstruction(_PARTS[name], name) for name in MASK_NAMES
                    ]
                miner = miners[key] = TemplateMiner(config=config)
            cluster_id = miner.add_log_message(f.message)["cluster_id"]
            entry = stats.setdefault((key, cluster_id), [c.line, 0])
            entry[0] = c.line
            entry[1] += 1
        return [(line, n) for line, n in stats.values()]

    return run


def exact(result: Result, lines: list[CorpusLine]) -> int:
    """Templates whose lines are exactly one generated template's lines."""
    key_of = {c.line: c.key for c in lines}
    expected = Counter(c.key for c in lines)
    per_key = Counter(key_of[line] for line, _ in result)
    return sum(
        1 for line, n in result if per_key[key_of[line]] == 1 and expected[key_of[line]] == n
    )


def _mining(lines: list[CorpusLine], rounds: int) -> None:
    templates = len({c.key for c in lines})
    print(f"{len(lines)} lines, {templates} generated templates")
    print(f"{'variant':<14} {'lines/s':>10} {'templates':>10} {'exact':>6}")
    variants: dict[str, Callable[[list[CorpusLine]], Result]] = {
        "spyglass": run_spyglass,
        "drain3+masks": _drain3(masks=True),
        "drain3": _drain3(masks=False),
    }
    for name, run in variants.items():
        times = []
        result: Result = []
        for _ in range(rounds):
            started = time.perf_counter()
            result = run(lines)
            times.append(time.perf_counter() - started)
        rate = len(lines) / statistics.median(times)
        print(f"{name:<14} {rate:>10,.0f} {len(result):>10} {exact(result, lines):>6}")


def _server(lines: list[CorpusLine], rounds: int) -> None:
    shift = time.time_ns() - 10**9 - max(c.timestamp_ns for c in lines)
    end = max(c.timestamp_ns for c in lines) + shift + 1
    start = min(c.timestamp_ns for c in lines) + shift
    with tempfile.TemporaryDirectory() as tmp, spyglass(Path(tmp) / "data") as sg:
        for i in range(0, len(lines), 5000):
            streams: dict[str, list[list[str]]] = {}
            for c in lines[i : i + 5000]:
                streams.setdefault(c.service, []).append([str(c.timestamp_ns + shift), c.line])
            body = {
                "streams": [
                    {"stream": {"service_name": s, "env": "prod"}, "values": v}
                    for s, v in streams.items()
                ]
            }
            httpx.post(sg.url + "/loki/api/v1/push", json=body, timeout=120).raise_for_status()
        # Window: the newest half of the range; baseline: the half before.
        middle = (start + end) // 2
        window = {"query": '{env="prod"}', "start": str(middle), "end": str(end)}
        whole = {"query": '{env="prod"}', "start": str(start), "end": str(end)}
        calls = {
            "/api/logs/patterns": window,
            "/api/logs/impact": whole,
            "/loki/api/v1/patterns": whole,
            "/loki/api/v1/query_range (limit 5000)": {**whole, "limit": "5000"},
        }
        print(f"\nreal spyglass serve, {len(lines)} lines stored")
        for label, params in calls.items():
            path = label.split(" ")[0]
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                r = httpx.get(sg.url + path, params=params, timeout=600)
                times.append(time.perf_counter() - started)
                r.raise_for_status()
            print(f"{label:<40} median {statistics.median(times):.2f}s over {rounds} rounds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=3, help="corpus copies (~16.7k lines each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", action="store_true", help="also time the HTTP API")
    args = parser.parse_args()
    lines = _corpus(args.copies)
    _mining(lines, args.rounds)
    if args.server:
        _server(lines, args.rounds)


if __name__ == "__main__":
    main()
