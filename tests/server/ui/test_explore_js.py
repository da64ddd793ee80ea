"""Explore's pure modules run in Node: ``timerange.js`` reads Grafana's relative times
(``now-1d/d``, ``now/w``) in UTC exactly as the dashboards' server-side parser does, and in a
browser's time zone as that zone's calendar says; ``state.js`` writes a URL that reads back as
the same state, the legend's hidden series included."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.dashboards._timerange import parse_time

SRC = REPO / "frontend" / "src"
# Each line of stdin is one JSON call [function, ...args]; each line of stdout its JSON result.
RUN = """
import * as timerange from %s;
import * as state from %s;
const fns = { ...timerange, ...state };
const sets = (v) => (v instanceof Set ? [...v] : v);
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([name, ...args]) => {
    if (name === 'visibilityOf') args[1] = new Set(args[1]);
    return sets(fns[name](...args));
  });
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def call_js(node: str, calls: list[list[Any]], tz: str = "UTC") -> list[Any]:
    script = RUN % (
        json.dumps((SRC / "timerange.js").as_uri()),
        json.dumps((SRC / "state.js").as_uri()),
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(calls), capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "TZ": tz},
    )  # fmt: skip
    result: list[Any] = json.loads(out.stdout)
    return result


UNITS = "smhdwMy"
RELATIVE = st.builds(
    lambda sign, n, unit, rounding: (
        "now" + (f"{sign}{n}{unit}" if sign else "") + (f"/{rounding}" if rounding else "")
    ),
    st.sampled_from(["", "-", "+"]),
    st.integers(0, 40),
    st.sampled_from(UNITS),
    st.sampled_from(["", *UNITS]),
)
# 2001 to 2099: far from the years JavaScript's Date reads as 19xx.
NOW_MS = st.integers(978_307_200_000, 4_102_444_800_000)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.tuples(RELATIVE, NOW_MS, st.booleans()), min_size=1, max_size=40))
def test_relative_times_in_utc_read_as_the_dashboards_read_them(
    node: str, batch: list[tuple[str, int, bool]]
) -> None:
    calls = [["parseTime", text, now, {"end": end, "utc": True}] for text, now, end in batch]
    for (text, now, end), got in zip(batch, call_js(node, calls), strict=True):
        assert got == parse_time(text, now, is_end=end), (text, now, end)


def _calendar(ms: int, unit: str, end: bool, zone: ZoneInfo) -> int:
    """The start (or last millisecond) of ``unit`` holding ``ms`` on ``zone``'s calendar."""
    dt = datetime.fromtimestamp(ms / 1000, zone)
    start = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start -= timedelta(days=dt.weekday())
    following = start + timedelta(days=7 if unit == "w" else 1)
    # Wall-clock midnight a day (or week) later, whatever the zone's offset did meanwhile.
    following = following.replace(tzinfo=None).replace(tzinfo=zone)
    start = start.replace(tzinfo=None).replace(tzinfo=zone)
    return int((following if end else start).timestamp() * 1000) - (1 if end else 0)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(
        st.tuples(st.sampled_from(["d", "w"]), NOW_MS, st.booleans()), min_size=1, max_size=40
    )
)
def test_rounding_in_local_time_follows_the_zones_calendar(
    node: str, batch: list[tuple[str, int, bool]]
) -> None:
    zone = "America/New_York"  # five hours from UTC, and daylight saving time
    calls = [["parseTime", f"now/{unit}", now, {"end": end}] for unit, now, end in batch]
    for (unit, now, end), got in zip(batch, call_js(node, calls, tz=zone), strict=True):
        assert got == _calendar(now, unit, end, ZoneInfo(zone)), (unit, now, end)


def test_quick_ranges_today_yesterday_and_this_week(node: str) -> None:
    # Wednesday 2026-12-09 15:30 UTC.
    now = int(datetime(2026, 12, 9, 15, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    utc = {"utc": True}
    end = {"utc": True, "end": True}
    got = call_js(
        node,
        [
            ["parseTime", "now/d", now, utc],
            ["parseTime", "now/d", now, end],
            ["parseTime", "now-1d/d", now, utc],
            ["parseTime", "now-1d/d", now, end],
            ["parseTime", "now/w", now, utc],
            ["parseTime", "now/w", now, end],
            ["formatTime", now, utc],
            ["describeRange", "now/d", "now/d"],
            ["describeRange", "now-1d/d", "now-1d/d"],
            ["describeRange", "now/w", "now/w"],
            ["describeRange", "now/d", "now"],
        ],
    )
    day = 86_400_000
    midnight = now - (now % day)
    assert got[:6] == [
        midnight,
        midnight + day - 1,
        midnight - day,
        midnight - 1,
        midnight - 2 * day,  # Monday
        midnight + 5 * day - 1,  # Sunday's end
    ]
    assert got[6] == "2026-12-09 15:30:00"
    assert got[7:] == ["Today", "Yesterday", "This week", "Today so far"]


KEYS = st.lists(
    st.builds(
        lambda letter, labels: f"{letter}:{labels}",
        st.sampled_from("AB"),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    ),
    unique=True,
    max_size=12,
)


CASES = KEYS.flatmap(
    lambda ks: st.tuples(st.just(ks), st.sets(st.sampled_from(ks)) if ks else st.just(set()))
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(CASES, min_size=1, max_size=10))
def test_hidden_series_round_trip_through_the_url(
    node: str, cases: list[tuple[list[str], set[str]]]
) -> None:
    calls: list[list[Any]] = [["visibilityOf", keys, sorted(hidden)] for keys, hidden in cases]
    visibilities = call_js(node, calls)
    states = [
        {
            "queries": [{"expr": "up", "legend": ""}],
            "from": "now/d",
            "to": "now/d",
            "step": "",
            "mode": "graph",
            "stacked": False,
            "time": "",
            "refresh": "5s",
            "exemplars": i % 2 == 0,
            "visibility": v,
        }
        for i, v in enumerate(visibilities)
    ]
    urls = call_js(node, [["writeState", s] for s in states])
    read = call_js(node, [["readState", url] for url in urls])
    assert read == states
    hiddens = call_js(
        node,
        [["hiddenOf", keys, r["visibility"]] for (keys, _), r in zip(cases, read, strict=True)],
    )
    for (keys, hidden), got, v in zip(cases, hiddens, visibilities, strict=True):
        assert set(got) == hidden, (keys, v)
        # An isolated series is one `show`, not a `hide` for every other one.
        shown = len(keys) - len(hidden)
        if len(hidden) > 1 and 0 < shown < len(hidden):
            assert v == {"show": sorted(set(keys) - hidden, key=keys.index)}
