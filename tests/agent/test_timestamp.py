"""The ``timestamp`` stage reads Go's named layouts, reference-time layouts and epoch numbers,
applies ``location`` to zone-less text, gives year-less stamps the current year, and fudges or
skips on failure as Promtail's ``action_on_failure`` says."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.agent.helpers import NOW, entry, pipeline, run

from spyglass.agent import time_parser
from spyglass.core.template import parse_time


def _ns(text: str) -> int:
    d = dt.datetime.fromisoformat(text)
    return int(d.timestamp()) * 10**9 + d.microsecond * 1000


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("RFC3339", "2024-03-10T12:30:45Z", _ns("2024-03-10T12:30:45+00:00")),
        ("RFC3339", "2024-03-10T12:30:45+02:00", _ns("2024-03-10T10:30:45+00:00")),
        (
            "RFC3339Nano",
            "2024-03-10T12:30:45.123456789Z",
            _ns("2024-03-10T12:30:45+00:00") + 123456789,
        ),
        ("RFC1123Z", "Sun, 10 Mar 2024 12:30:45 -0500", _ns("2024-03-10T17:30:45+00:00")),
        (
            "2006-01-02 15:04:05.000",
            "2024-03-10 12:30:45.250",
            _ns("2024-03-10T12:30:45.250+00:00"),
        ),
        (
            "02/Jan/2006:15:04:05 -0700",
            "10/Mar/2024:12:30:45 +0100",
            _ns("2024-03-10T11:30:45+00:00"),
        ),
        ("Unix", "1710073845", 1710073845 * 10**9),
        ("Unix", "1710073845.5", 1710073845 * 10**9 + 500_000_000),
        ("UnixMs", "1710073845123", 1710073845123 * 10**6),
        ("UnixUs", "1710073845123456", 1710073845123456 * 10**3),
        ("UnixNs", "1710073845123456789", 1710073845123456789),
    ],
)
def test_formats(fmt: str, text: str, expected: int) -> None:
    assert time_parser(fmt, dt.UTC, lambda: NOW)(text) == expected


def test_location_applies_to_zone_less_text() -> None:
    p, _ = pipeline(
        """
- regex: {expression: '^(?P<t>\\S+ \\S+)'}
- timestamp: {source: t, format: '2006-01-02 15:04:05', location: America/New_York}
"""
    )
    (e,) = run(p, "2024-07-01 08:00:00 hello")
    assert e.ts_ns == _ns("2024-07-01T12:00:00+00:00")  # EDT is UTC-4


def test_a_stamp_without_year_takes_the_current_one() -> None:
    p, _ = pipeline(
        "- regex: {expression: '^(?P<t>\\w+ +\\d+ [\\d:]+)'}\n"
        "- timestamp: {source: t, format: Stamp}"
    )
    (e,) = run(p, "Mar  3 04:05:06 host sshd[1]: hi")
    assert e.ts_ns == _ns(
        f"{dt.datetime.fromtimestamp(NOW / 1e9, dt.UTC).year}-03-03T04:05:06+00:00"
    )


def test_fallback_formats_are_tried_in_order() -> None:
    p, _ = pipeline(
        "- logfmt: {mapping: {t: }}\n"
        "- timestamp: {source: t, format: RFC3339, fallback_formats: [UnixMs]}"
    )
    (a, b) = run(p, "t=2024-03-10T12:30:45Z", "t=1710073845000")
    assert a.ts_ns == b.ts_ns == _ns("2024-03-10T12:30:45+00:00")


def test_failure_fudges_to_the_last_time_plus_one_ns_or_skips() -> None:
    stages = "- logfmt: {mapping: {t: }}\n- timestamp: {source: t, format: RFC3339%s}"
    p, _ = pipeline(stages % "")
    good, bad = run(p, "t=2024-03-10T12:30:45Z", "t=garbage")
    assert bad.ts_ns == good.ts_ns + 1
    p, _ = pipeline(stages % ", action_on_failure: skip")
    good, bad = run(p, "t=2024-03-10T12:30:45Z", "t=garbage")
    assert bad.ts_ns == NOW  # the read time stays


def test_a_missing_source_leaves_the_read_time() -> None:
    p, _ = pipeline("- timestamp: {source: t, format: RFC3339}")
    gone: list = []
    assert p.feed(entry("x", ts=123), NOW, gone)[0].ts_ns == 123


@given(
    st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.just(dt.UTC),
    )
)
def test_rfc3339nano_reads_what_go_writes(when: dt.datetime) -> None:
    text = (
        when.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{when.microsecond:06d}".rstrip("0").rstrip("."))
        + "Z"
    )
    expected = int(when.replace(microsecond=0).timestamp()) * 10**9 + when.microsecond * 1000
    assert time_parser("RFC3339Nano", dt.UTC, lambda: NOW)(text) == expected


@given(st.text(max_size=40), st.sampled_from(["RFC3339", "Unix", "UnixMs", "Stamp", "2006-01-02"]))
def test_any_text_parses_or_raises_value_error(text: str, fmt: str) -> None:
    with contextlib.suppress(ValueError):
        time_parser(fmt, dt.UTC, lambda: NOW)(text)


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.integers(0, 999_999_999),
    st.integers(0, 9),
    st.sampled_from(["Z", "+00:00", "+05:30", "-08:00", "+14:00", "z"]),
    st.sampled_from(["RFC3339", "RFC3339Nano"]),
)
def test_the_rfc3339_fast_path_agrees_with_gos_parser(
    when: dt.datetime, nanos: int, digits: int, zone: str, fmt: str
) -> None:
    frac = f".{nanos:09d}"[: digits + 1] if digits else ""
    text = when.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + frac + zone
    layout = {
        "RFC3339": "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
    }[fmt]
    try:
        expected: int | str = parse_time(layout, text).ns
    except ValueError as exc:
        expected = str(exc)
    try:
        got: int | str = time_parser(fmt, dt.UTC, lambda: NOW)(text)
    except ValueError as exc:
        got = str(exc)
    assert got == expected


@given(
    st.from_regex(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", fullmatch=True
    )
)
def test_odd_dates_fail_as_go_fails_them(text: str) -> None:
    try:
        expected: int | str = parse_time("2006-01-02T15:04:05Z07:00", text).ns
    except ValueError as exc:
        expected = str(exc)
    try:
        got: int | str = time_parser("RFC3339", dt.UTC, lambda: NOW)(text)
    except ValueError as exc:
        got = str(exc)
    assert got == expected
