"""Go's time.Time and time.Duration as templates print, format and parse them.

Expected strings are Go's (go1.19 ``Time.Format``, ``Time.String``, ``Duration.String``,
``time.ParseInLocation(..., time.UTC)``) for the same instants; Alertmanager's ``date``,
``tz`` and ``toDate`` and Prometheus' ``toTime`` rely on them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from spyglass.core.template import GoDuration, GoTime, Template, TemplateError
from spyglass.core.template._gotime import TimeError, fixed_zone, format_duration, parse_time

# 2024-03-05 07:08:09.012345678 in a zone one hour east of UTC without a name.
T = GoTime(
    (int(dt.datetime(2024, 3, 5, 6, 8, 9, tzinfo=dt.UTC).timestamp())) * 10**9 + 12_345_678,
    fixed_zone("", 3600),
)

LAYOUTS = [
    ("Mon, 02 Jan 2006 15:04:05 -0700", "Tue, 05 Mar 2024 07:08:09 +0100"),
    ("2006-01-02T15:04:05Z07:00", "2024-03-05T07:08:09+01:00"),
    ("2006-01-02T15:04:05.999999999Z07:00", "2024-03-05T07:08:09.012345678+01:00"),
    ("3:04PM", "7:08AM"),
    ("Mon Jan _2 15:04:05 2006", "Tue Mar  5 07:08:09 2024"),
    ("02 Jan 06 15:04 -0700", "05 Mar 24 07:08 +0100"),
    (
        "Jan _2 06 3:04PM .000 ,999 Z07:00 -07 MST Monday __2 002",
        "Mar  5 24 7:08AM .012 ,012 +01:00 +01 +0100 Tuesday  65 065",
    ),
    ("2006-01-02 15:04:05.000000", "2024-03-05 07:08:09.012345"),
    ("_2006 1/2/06 15h04 pm", "_2024 3/5/24 07h08 am"),
    (
        "Mon Monday Jan January 01 1 02 2 _2 15 3 03 4 04 5 05 PM pm -0700 -07:00 -07 Z0700 "
        "Z07:00 Z07 -070000 -07:00:00 .0 .9 .00 .99 ,000",
        "Tue Tuesday Mar March 03 3 05 5  5 07 7 07 8 08 9 09 AM am +0100 +01:00 +01 +0100 "
        "+01:00 +01 +010000 +01:00:00 .0  .01 .01 ,012",
    ),
]


@pytest.mark.parametrize(("layout", "want"), LAYOUTS)
def test_format_matches_go(layout: str, want: str) -> None:
    assert T.format(layout) == want


def test_string_and_zones() -> None:
    u = GoTime.from_datetime(dt.datetime(2024, 1, 1, 8, 15, 30, tzinfo=dt.UTC))
    assert u.string() == "2024-01-01 08:15:30 +0000 UTC"
    assert u.in_zone(zoneinfo.ZoneInfo("Europe/Paris")).string() == "2024-01-01 09:15:30 +0100 CET"
    assert u.format("Z07:00 MST") == "Z UTC"
    summer = GoTime.from_datetime(dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC))
    assert (
        summer.in_zone(zoneinfo.ZoneInfo("America/New_York")).string()
        == "2024-07-01 08:00:00 -0400 EDT"
    )
    assert GoTime.zero().string() == "0001-01-01 00:00:00 +0000 UTC"
    assert GoTime.zero().unix() == -62135596800
    assert T.string() == "2024-03-05 07:08:09.012345678 +0100 +0100"


@pytest.mark.parametrize(
    ("ns", "want"),
    [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (1000, "1µs"),
        (1500, "1.5µs"),
        (1_500_000, "1.5ms"),
        (10**9, "1s"),
        (90 * 10**9, "1m30s"),
        (3600 * 10**9, "1h0m0s"),
        (-90 * 10**9, "-1m30s"),
        ((2 * 3600 + 45 * 60) * 10**9 + 500_000_000, "2h45m0.5s"),
        (1 << 62, "1281023h53m38.427387904s"),
    ],
)
def test_duration_string_matches_go(ns: int, want: str) -> None:
    assert format_duration(ns) == want
    assert GoDuration(ns).string() == want


PARSES = [
    ("2006-01-02", "2024-03-15", "2024-03-15 00:00:00 +0000 UTC"),
    ("2006-01-02 15:04:05 MST", "2024-03-15 10:11:12 CET", "2024-03-15 10:11:12 +0000 CET"),
    (
        "2006-01-02T15:04:05Z07:00",
        "2024-03-15T10:11:12.5+02:00",
        "2024-03-15 10:11:12.5 +0200 +0200",
    ),
    ("Jan 2 2006", "feb 3 2024", "2024-02-03 00:00:00 +0000 UTC"),
    ("15:04:05", "10:11:12.123", "0000-01-01 10:11:12.123 +0000 UTC"),
    ("3:04PM", "12:30AM", "0000-01-01 00:30:00 +0000 UTC"),
    ("2006-002", "2024-060", "2024-02-29 00:00:00 +0000 UTC"),
    (
        "Mon, 02 Jan 2006 15:04:05 MST",
        "Tue, 05 Mar 2024 07:08:09 GMT",
        "2024-03-05 07:08:09 +0000 GMT",
    ),
    ("2006-01-02T15:04:05Z07:00", "2024-03-15T10:11:12Z", "2024-03-15 10:11:12 +0000 UTC"),
    ("02 Jan 06 15:04 -0700", "05 Mar 24 07:08 +0130", "2024-03-05 07:08:00 +0130 +0130"),
]


@pytest.mark.parametrize(("layout", "value", "want"), PARSES)
def test_parse_matches_go(layout: str, value: str, want: str) -> None:
    assert parse_time(layout, value).string() == want


@pytest.mark.parametrize(
    ("layout", "value", "message"),
    [
        (
            "2006-01-02",
            "not-a-date",
            'parsing time "not-a-date" as "2006-01-02": cannot parse "not-a-date" as "2006"',
        ),
        ("2006-01-02", "2024-02-30", 'parsing time "2024-02-30": day out of range'),
        ("2006", "2024x", 'parsing time "2024x": extra text: "x"'),
        ("01/02", "13/01", 'parsing time "13/01": month out of range'),
    ],
)
def test_parse_errors_match_go(layout: str, value: str, message: str) -> None:
    with pytest.raises(TimeError) as caught:
        parse_time(layout, value)
    assert str(caught.value) == message


def test_templates_call_time_methods() -> None:
    t = Template("t").parse(
        '{{ .Format "2006" }} {{ .Unix }} {{ .UnixMilli }} {{ .Month }} {{ .Weekday }} '
        "{{ .YearDay }} {{ (.Add 3600000000000).Hour }} {{ .IsZero }} {{ .UTC.Hour }}"
    )
    assert t.execute(T) == "2024 1709618889 1709618889012 March Tuesday 65 8 false 6"
    # A Duration parameter takes an integer literal, as in Go, but not an int value.
    with pytest.raises(TemplateError, match=r"expected time\.Duration; got int"):
        Template("t").parse("{{ $d := 5 }}{{ .Add $d }}").execute(T)
