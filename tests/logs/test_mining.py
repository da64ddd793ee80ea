"""Pattern mining on a realistic corpus whose templates are known (tests/support/logcorpus.py):
the miner finds the template that appears only in the window and the one that grows, marks
nothing else, and its counts agree with the generator's own count of every template."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.logcorpus import (
    GROWING_KEY,
    NEW_KEY,
    ORIGIN_NS,
    PERIOD_NS,
    CorpusLine,
    counts,
    generate,
    window,
)

from spyglass.logs import MinedPattern, MinerOptions, PatternMiner, loki_pattern, parse_query

WINDOW_START = ORIGIN_NS + PERIOD_NS


@pytest.fixture(scope="module")
def corpus() -> list[CorpusLine]:
    return generate()


def _mine(lines: list[CorpusLine], options: MinerOptions | None = None) -> PatternMiner:
    miner = PatternMiner(options)
    for c in lines:
        miner.add(c.timestamp_ns, c.labels, c.line, baseline=c.timestamp_ns < WINDOW_START)
    return miner


@pytest.fixture(scope="module")
def mined(corpus: list[CorpusLine]) -> list[MinedPattern]:
    return _mine(corpus).patterns(PERIOD_NS, PERIOD_NS)


_KEYS: dict[str, tuple[str, str, str]] = {}


def _key_of(p: MinedPattern, corpus: list[CorpusLine]) -> tuple[str, str, str]:
    """The generator's key of the template whose sample ``p`` shows."""
    if not _KEYS:
        _KEYS.update((c.line, c.key) for c in corpus)
    return _KEYS[p.sample.line]


def test_the_corpus_is_realistic_in_size_and_variety(corpus: list[CorpusLine]) -> None:
    keys = counts(corpus)
    assert len(keys) >= 250
    assert len(corpus) >= 10_000


def test_the_only_new_template_is_the_injected_one_with_its_exact_count(
    corpus: list[CorpusLine], mined: list[MinedPattern]
) -> None:
    new = [p for p in mined if p.new]
    assert len(new) == 1
    found = new[0]
    assert (found.service, found.level) == NEW_KEY[:2]
    assert _key_of(found, corpus) == NEW_KEY
    assert found.template == (
        "payment provider acme declined card for order <NUM>: insufficient funds"
    )
    injected = [c for c in window(corpus) if c.key == NEW_KEY]
    assert found.count == len(injected)
    assert found.baseline_count == 0
    assert found.first_seen_ns == min(c.timestamp_ns for c in injected)
    assert found.last_seen_ns == max(c.timestamp_ns for c in injected)


def test_the_only_growing_template_is_the_injected_one(
    corpus: list[CorpusLine], mined: list[MinedPattern]
) -> None:
    growing = [p for p in mined if p.growing]
    assert len(growing) == 1
    found = growing[0]
    assert _key_of(found, corpus) == GROWING_KEY
    in_window = counts(window(corpus))[GROWING_KEY]
    assert (found.count, found.baseline_count) == (
        in_window,
        counts(corpus)[GROWING_KEY] - in_window,
    )
    assert not found.new


def test_every_template_count_matches_the_generators(
    corpus: list[CorpusLine], mined: list[MinedPattern]
) -> None:
    expected = counts(window(corpus))
    got = Counter({_key_of(p, corpus): p.count for p in mined})
    # One mined template per generated one, each with exactly its lines.
    assert len(mined) == len(expected)
    assert got == expected
    baseline = counts([c for c in corpus if c.timestamp_ns < WINDOW_START])
    assert {_key_of(p, corpus): p.baseline_count for p in mined if p.baseline_count} == baseline


def test_templates_keep_the_words_and_mask_the_values(mined: list[MinedPattern]) -> None:
    templates = {p.template for p in mined}
    # Which route or upstream is a parameter (Drain found it varies); the words around it stay.
    assert "GET <*> responded <NUM> in <DURATION>" in templates
    assert "upstream <*> timed out after <DURATION> (attempt <NUM> of <NUM>)" in templates
    assert "circuit breaker for <*> closed" in templates
    assert loki_pattern("GET /api/orders/<NUM> responded <*> in <DURATION>") == (
        "GET /api/orders/<_> responded <_> in <_>"
    )


def test_without_a_baseline_nothing_is_new_or_growing(corpus: list[CorpusLine]) -> None:
    miner = PatternMiner()
    for c in window(corpus):
        miner.add(c.timestamp_ns, c.labels, c.line)
    assert not any(p.new or p.growing for p in miner.patterns(PERIOD_NS, 0))


def test_growth_needs_the_factor_and_the_minimum_count() -> None:
    labels = {"service_name": "api"}
    miner = PatternMiner(MinerOptions(growth_factor=3.0, min_growth_count=5))
    for i in range(4):
        miner.add(i, labels, "disk almost full", baseline=True)
        miner.add(i, labels, "cache warmed", baseline=True)
    for i in range(12):  # 3x the baseline rate: growing
        miner.add(100 + i, labels, "disk almost full")
    for i in range(11):  # just under 3x
        miner.add(100 + i, labels, "cache warmed")
    flags = {p.template: p.growing for p in miner.patterns(10, 10)}
    assert flags == {"disk almost full": True, "cache warmed": False}
    few = PatternMiner(MinerOptions(growth_factor=2.0, min_growth_count=5))
    few.add(0, labels, "rare event", baseline=True)
    for i in range(4):  # 4x the rate but under the minimum count
        few.add(10 + i, labels, "rare event")
    assert not few.patterns(10, 10)[0].growing


def test_a_full_group_counts_what_it_could_not_place() -> None:
    miner = PatternMiner(MinerOptions(max_templates=2))
    labels = {"service_name": "api", "level": "info"}
    for text in ["alpha one two", "beta three four", "alpha one two", "gamma five six", "delta"]:
        miner.add(1, labels, text)
    got = {p.template: p.count for p in miner.patterns(10, 0)}
    assert got == {"alpha one two": 2, "beta three four": 1}
    capped = miner.capped()
    assert [(c.service, c.level, c.unclustered) for c in capped] == [("api", "info", 2)]


def test_groups_are_per_service_and_level() -> None:
    miner = PatternMiner()
    miner.add(1, {"service_name": "api"}, '{"level":"error","msg":"boom 1"}')
    miner.add(2, {"service_name": "api"}, '{"level":"ERR","msg":"boom 2"}')
    miner.add(3, {"job": "worker", "level": "warning"}, "boom 3")
    miner.add(4, {}, "boom 4")
    got = sorted((p.service, p.level, p.template, p.count) for p in miner.patterns(10, 0))
    assert got == [
        ("api", "error", "boom <NUM>", 2),
        ("unknown_service", "unknown", "boom <NUM>", 1),
        ("worker", "warn", "boom <NUM>", 1),
    ]


_messages = st.lists(
    st.tuples(
        st.sampled_from(["api", "db"]),
        st.sampled_from(["info", "error"]),
        st.text(alphabet="ab 1.\"'-:", max_size=20),
        st.booleans(),
    ),
    max_size=60,
)


@given(_messages, st.integers(1, 5))
def test_every_window_line_is_counted_once_and_groups_stay_bounded(
    lines: list[tuple[str, str, str, bool]], cap: int
) -> None:
    miner = PatternMiner(MinerOptions(max_templates=cap))
    for i, (service, level, text, baseline) in enumerate(lines):
        miner.add(i, {"service_name": service, "level": level}, text, baseline=baseline)
    found = miner.patterns(10, 10)
    unclustered = sum(c.unclustered for c in miner.capped())
    window = [x for x in lines if not x[3]]
    assert sum(p.count for p in found) + unclustered == len(window)
    per_group = Counter((p.service, p.level) for p in found)
    assert all(n <= cap for n in per_group.values())
    for service, level in per_group:
        assert any(x[:2] == (service, level) for x in window)


def test_every_template_is_a_valid_loki_pattern_filter(mined: list[MinedPattern]) -> None:
    assert loki_pattern("<QUOTED><QUOTED> x <*><NUM>") == "<_> x <_>"
    for p in mined:
        parse_query('{a="b"} |> ' + json.dumps(loki_pattern(p.template)))


@pytest.mark.parametrize(("depth", "templates"), [(4, 1), (5, 2)])
def test_depth_sets_how_many_leading_tokens_must_be_equal(depth: int, templates: int) -> None:
    miner = PatternMiner(MinerOptions(depth=depth))
    for path in ["/orders", "/carts"]:
        for status in ("200", "404"):
            miner.add(1, {}, f"GET {path} answered {status} quickly")
    # Depth 4 routes on the first token alone, so the paths differ in one of five tokens and
    # join one template; depth 5 routes on two, so each path has its own.
    assert len(miner.patterns(10, 0)) == templates
