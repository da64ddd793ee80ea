"""``pagetimes.js`` in Node: ``parseStamp`` reads the times the errors pages carry (RFC 3339 as
the server writes it, a breadcrumb's zoneless or Unix-seconds time as SDKs write it) back to
the same millisecond, and ``showTime`` writes one in UTC or the browser's zone."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

SRC = REPO / "frontend" / "src"
# pagetimes.js imports timerange.js; both are plain ES modules Node loads as they are.
RUN = """
import * as times from %s;
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([name, ...args]) => times[name](...args) ?? null);
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def call_js(node: str, calls: list[list[Any]], tz: str = "UTC") -> list[Any]:
    script = RUN % json.dumps((SRC / "pagetimes.js").as_uri())
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(calls), capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "TZ": tz},
    )  # fmt: skip
    result: list[Any] = json.loads(out.stdout)
    return result


MS = st.integers(min_value=0, max_value=4_102_444_800_000)  # 1970 to 2100


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stamps=st.lists(MS, min_size=1, max_size=20))
def test_written_times_read_back_to_the_millisecond(node: str, stamps: list[int]) -> None:
    calls: list[list[Any]] = []
    for ms in stamps:
        z = _iso(ms).replace("+00:00", "Z")
        calls += [
            ["parseStamp", z],  # the server's format_time
            ["parseStamp", _iso(ms)],  # with an offset
            ["parseStamp", _iso(ms).removesuffix("+00:00")],  # zoneless: UTC, as Sentry reads it
            ["parseStamp", f"{ms / 1000:.3f}"],  # Unix seconds
        ]
    got = call_js(node, calls)
    assert got == [ms for ms in stamps for _ in range(4)]


def test_nonsense_is_no_time_and_times_show_in_the_chosen_zone(node: str) -> None:
    ms = 1_796_637_102_000  # 2026-12-07 09:51:42 UTC
    got = call_js(
        node,
        [
            ["parseStamp", ""],
            ["parseStamp", "<script>"],
            ["parseStamp", None],
            ["showTime", ms, True],
            ["showTime", ms, False],
        ],
        tz="Asia/Kolkata",
    )
    assert got == [None, None, None, "2026-12-07 09:51:42 UTC", "2026-12-07 15:21:42"]
