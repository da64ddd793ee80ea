"""Prometheus' template functions and the expansion of alerting rule labels and annotations.

The function table is Prometheus' template/template_test.go (TestTemplateExpansion) with its
data and its exact outputs and error messages. The alert examples were run through the real
Prometheus (promtool 2.42 ``test rules``, which expands annotations as rule evaluation does);
where Prometheus 3 words an error differently (Go's newer comparison message, ``Value any``)
the test follows Prometheus 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from spyglass.core.template import (
    QuerySample,
    Template,
    TemplateError,
    expand_alert_template,
    prometheus_functions,
)
from spyglass.core.template._prometheus import (
    console_functions,
    parse_go_float,
    split_host_port,
)

EXTERNAL_URL = "http://testhost:9090/path/prefix"


def expand(
    text: str,
    data: object = None,
    results: Sequence[QuerySample] = (),
    missing_key: str = "zero",
) -> str:
    """template_test.go's testTemplateExpansion: name "test", now 1353755652000."""
    funcs = prometheus_functions(
        query=lambda q: results, timestamp_ms=1353755652000, external_url=EXTERNAL_URL
    )
    template = Template("test", funcs=funcs, missing_key=missing_key)  # type: ignore[arg-type]
    template.parse(text)
    return template.execute(data)


# (text, data, query result, output) from TestTemplateExpansion.
CASES: list[tuple[str, object, list[QuerySample], str]] = [
    ("plain text", None, [], "plain text"),
    ("{{ 1 }}", None, [], "1"),
    ('{{ "<b>" }}', None, [], "<b>"),
    ('{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}', None, [], "1 2"),
    ('{{ query "1.5" | first | value }}', None, [QuerySample({}, 1.5)], "1.5"),
    (
        "{{ query \"metric{instance='a'}\" | first | value }}",
        None,
        [QuerySample({"__name__": "metric", "instance": "a"}, 11)],
        "11",
    ),
    (
        '{{ query "metric{instance=\'a\'}" | first | label "instance" }}',
        None,
        [QuerySample({"__name__": "metric", "instance": "a"}, 11)],
        "a",
    ),
    (
        "{{ query \"metric{__value__='a'}\" | first | strvalue }}",
        None,
        [QuerySample({"__name__": "metric", "__value__": "a"}, 11)],
        "a",
    ),
    (
        '{{ query "metric{instance=\'a\'}" | first | label "foo" }}',
        None,
        [QuerySample({"__name__": "metric", "instance": "a"}, 11)],
        "",
    ),
    (
        '{{ $x := query "metric" | first }}{{ $x.Labels.foo }}',
        None,
        [QuerySample({"__name__": "metric", "instance": "a"}, 11)],
        "",
    ),
    (
        '{{ range query "metric" | sortByLabel "instance" }}'
        "{{.Labels.instance}}:{{.Value}}: {{end}}",
        None,
        [QuerySample({"instance": "b"}, 21), QuerySample({"instance": "a"}, 11)],
        "a:11: b:21: ",
    ),
    ('{{ "foo.example.com" | stripPort }}', None, [], "foo.example.com"),
    ('{{ "foo.example.com:12345" | stripPort }}', None, [], "foo.example.com"),
    ('{{ "192.0.2.1" | stripPort }}', None, [], "192.0.2.1"),
    ('{{ "192.0.2.1:12345" | stripPort }}', None, [], "192.0.2.1"),
    ('{{ "2001:0DB8::1" | stripPort }}', None, [], "2001:0DB8::1"),
    ('{{ "[2001:0DB8::1]:12345" | stripPort }}', None, [], "2001:0DB8::1"),
    ('{{ "[2001:0DB8::1]::12345" | stripPort }}', None, [], "[2001:0DB8::1]::12345"),
    ("{{ .Foo }}", None, [], "<no value>"),
    ('{{ reReplaceAll "(a)b" "x$1" "ab" }}', None, [], "xa"),
    (
        "{{ range . }}{{ humanize . }}:{{ end }}",
        [0.0, 1.0, 1234567.0, 0.12],
        [],
        "0:1:1.235M:120m:",
    ),
    (
        "{{ range . }}{{ humanize . }}:{{ end }}",
        ["0.0", "1.0", "1234567.0", ".12"],
        [],
        "0:1:1.235M:120m:",
    ),
    (
        "{{ range . }}{{ humanize . }}:{{ end }}",
        [0, -1, 1, 1234567, 2**63 - 1],
        [],
        "0:-1:1:1.235M:9.223E:",
    ),
    (
        "{{ range . }}{{ humanize . }}:{{ end }}",
        [0, 1, 1234567, 2**64 - 1],
        [],
        "0:1:1.235M:18.45E:",
    ),
    (
        "{{ range . }}{{ humanize1024 . }}:{{ end }}",
        [0.0, 1.0, 1048576.0, 0.12],
        [],
        "0:1:1Mi:0.12:",
    ),
    (
        "{{ range . }}{{ humanize1024 . }}:{{ end }}",
        [0, -1, 1, 1234567, 2**63 - 1],
        [],
        "0:-1:1:1.177Mi:8Ei:",
    ),
    (
        "{{ range . }}{{ humanize1024 . }}:{{ end }}",
        [0, 1, 1234567, 2**64 - 1],
        [],
        "0:1:1.177Mi:16Ei:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [
            0.0,
            1.0,
            60.0,
            3600.0,
            86400.0,
            86400.0 + 3600,
            -(86400.0 * 2 + 3600 * 3 + 60 * 4 + 5),
            899.99,
        ],
        [],
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        ["0", "1", "60", "3600", "86400"],
        [],
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345],
        [],
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [0, -1, 1, 1234567],
        [],
        "0s:-1s:1s:14d 6h 56m 7s:",
    ),
    # template_amd64_test.go: int64(MaxInt64 as float64) overflows to MinInt64 on amd64.
    ("{{ humanizeDuration . }}", 2**63 - 1, [], "-106751991167300d -15h -30m -8s"),
    (
        "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:"
        "{{humanizeTimestamp .}}:{{ end }}",
        [math.inf, -math.inf, math.nan],
        [],
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:",
    ),
    (
        "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:"
        "{{humanizeTimestamp .}}:{{ end }}",
        ["+Inf", "-Inf", "NaN"],
        [],
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:",
    ),
    (
        "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:"
        "{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
        None,
        [],
        "-22.22%:0%:12.35%:123.5%",
    ),
    (
        "{{ range . }}{{ humanizePercentage . }}:{{ end }}",
        [0, -1, 1, 1234567, 2**63 - 1],
        [],
        "0%:-100%:100%:1.235e+08%:9.223e+20%:",
    ),
    (
        "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
        [0, -1, 1, 1234567, 9223372036],
        [],
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:"
        "1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
    ),
    ("{{ 1435065584.128 | humanizeTimestamp }}", None, [], "2015-06-23 13:19:44.128 +0000 UTC"),
    ('{{ "1435065584.128" | humanizeTimestamp }}', None, [], "2015-06-23 13:19:44.128 +0000 UTC"),
    ('{{ (1435065584.128 | toTime).Format "2006" }}', None, [], "2015"),
    ('{{ ("1435065584.128" | toTime).Format "2006" }}', None, [], "2015"),
    ("{{ (1800 | toDuration).String }}", None, [], "30m0s"),
    ('{{ ("1800" | toDuration).String }}', None, [], "30m0s"),
    ("{{ now }}", None, [], "1.353755652e+09"),
    ('{{ (now | toTime).Format "Mon Jan 2 15:04:05 2006" }}', None, [], "Sat Nov 24 11:14:12 2012"),
    (
        '{{ ("-30m" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}',
        None,
        [],
        "1353753852000",
    ),
    ('{{ "aa bb CC" | title }}', None, [], "Aa Bb CC"),
    ('{{ "aa bb CC" | toUpper }}', None, [], "AA BB CC"),
    ('{{ "aA bB CC" | toLower }}', None, [], "aa bb cc"),
    ('{{ match "a+" "aa" }} {{ match "a+" "b" }}', None, [], "true false"),
    ('{{ graphLink "up" }}', None, [], "/graph?g0.expr=up&g0.tab=0"),
    ('{{ tableLink "up" }}', None, [], "/graph?g0.expr=up&g0.tab=1"),
    ("{{ pathPrefix }}", None, [], "/path/prefix"),
    ("{{ externalURL }}", None, [], "http://testhost:9090/path/prefix"),
    ('{{ printf "%0.2f" (parseDuration "1h2m10ms") }}', None, [], "3720.01"),
    ('{{ printf "%0.2f" (parseDuration "-1h2m10ms") }}', None, [], "-3720.01"),
    ('{{ "foo.example.com" | stripDomain }}', None, [], "foo"),
    ('{{ "foo.example.com:12345" | stripDomain }}', None, [], "foo:12345"),
    ('{{ "192.0.2.1" | stripDomain }}', None, [], "192.0.2.1"),
    ('{{ "192.0.2.1:12345" | stripDomain }}', None, [], "192.0.2.1:12345"),
    ('{{ "2001:0DB8::1" | stripDomain }}', None, [], "2001:0DB8::1"),
    ('{{ "[2001:0DB8::1]:12345" | stripDomain }}', None, [], "[2001:0DB8::1]:12345"),
    ('{{ "[2001:0DB8::1]::12345" | stripDomain }}', None, [], "[2001:0DB8::1]::12345"),
    # Prometheus 3: urlQueryEscape.
    ('{{ urlQueryEscape "a b&c/d" }}', None, [], "a+b%26c%2Fd"),
]


@pytest.mark.parametrize(("text", "data", "results", "output"), CASES)
def test_prometheus_template_expansion_table(
    text: str, data: object, results: list[QuerySample], output: str
) -> None:
    assert expand(text, data, results) == output


ERRORS = [
    (
        '{{ query "missing" | first }}',
        'template: test:1:21: executing "test" at <first>: '
        "error calling first: first() called on vector with no elements",
    ),
    (
        '{{ (query "missing").banana }}',
        'template: test:1:10: executing "test" at <"missing">: '
        "can't evaluate field banana in type template.queryResult",
    ),
    (
        '{{ humanize "one" }}',
        'template: test:1:3: executing "test" at <humanize "one">: '
        'error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax',
    ),
    (
        '{{ "one" | humanizePercentage }}',
        'template: test:1:11: executing "test" at <humanizePercentage>: '
        'error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax',
    ),
    (
        '{{ humanizeDuration "one" }}',
        'template: test:1:3: executing "test" at <humanizeDuration "one">: '
        'error calling humanizeDuration: strconv.ParseFloat: parsing "one": invalid syntax',
    ),
    (
        '{{ reReplaceAll "(" "x" "y" }}',
        'template: test:1:3: executing "test" at <reReplaceAll "(" "x" "y">: error calling '
        "reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_prometheus_function_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        expand(text)
    assert str(caught.value) == message


def test_humanize_timestamp_out_of_range() -> None:
    with pytest.raises(TemplateError) as caught:
        expand("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", [-(2**63), 2**63 - 1])
    assert str(caught.value) == (
        'template: test:1:16: executing "test" at <humanizeTimestamp .>: error calling '
        "humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds "
        "timestamp since it overflows int64"
    )


def test_missing_key_error_option() -> None:
    with pytest.raises(TemplateError) as caught:
        expand("{{ .Foo }}", missing_key="error")
    assert str(caught.value) == (
        'template: test:1:3: executing "test" at <.Foo>: nil data; no entry for key "Foo"'
    )


def test_tmpl_runs_a_named_template_in_console_templates() -> None:
    template = Template("test")
    template.add_funcs(console_functions(template))
    template.parse('{{ define "a" }}x{{ end }}{{ $name := "a"}}{{ tmpl $name . }}')
    assert template.execute() == "x"


# --- alerting rules ----------------------------------------------------------------------------

LABELS = {"__name__": "up", "job": "api", "instance": "a.example:9100"}
UP = [
    QuerySample({"__name__": "up", "job": "api", "instance": "a.example:9100"}, 0.0),
    QuerySample({"__name__": "up", "job": "api", "instance": "b.example:9100"}, 1.0),
]


def alert(text: str, value: float = 0.0) -> str:
    return expand_alert_template(
        text,
        name="InstanceDown",
        labels=LABELS,
        value=value,
        external_labels={"cluster": "eu1"},
        external_url="http://prom.example/prefix",
        timestamp_ms=60_000,
        query=lambda q: UP if q == "up" else [],
    )


# Run through promtool test rules (Prometheus 2.42) with the same series and settings.
ALERTS = [
    ('{{ if eq $labels.job "api" }}critical{{ else }}warning{{ end }}', "critical"),
    ("{{ $labels.instance }}", "a.example:9100"),
    (
        "Instance {{ $labels.instance }} of job {{ $labels.job }} is down",
        "Instance a.example:9100 of job api is down",
    ),
    ('{{ $value }} / {{ $value | humanize }} / {{ printf "%.2f" $value }}', "0 / 0 / 0.00"),
    ("[{{ $labels.nope }}]", "[]"),
    ("{{ $externalLabels.cluster }} {{ $externalURL }}", "eu1 http://prom.example/prefix"),
    ('{{ with query "up" }}{{ . | first | value | humanize }}{{ end }}', "0"),
    (
        '{{ range query "up" | sortByLabel "instance" }}'
        "{{ .Labels.instance }}={{ .Value }};{{ end }}",
        "a.example:9100=0;b.example:9100=1;",
    ),
    ("{{ if gt $value 80.0 }}high{{ else }}low{{ end }}", "low"),
    (
        "{{ 0.1234 | humanizePercentage }} {{ 3661 | humanizeDuration }} {{ 1234567 | humanize }} "
        "{{ 0.000123 | humanize }}",
        "12.34% 1h 1m 1s 1.235M 123u",
    ),
    (
        '{{ graphLink "up == 0" }} {{ title "hello world" }} '
        '{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}',
        "/graph?g0.expr=up+%3D%3D+0&g0.tab=0 Hello World a.example",
    ),
    ('{{ define "x" }}X{{ . }}{{ end }}{{ template "x" $labels.job }}', "Xapi"),
]


@pytest.mark.parametrize(("text", "want"), ALERTS)
def test_alert_templates_expand_as_prometheus_does(text: str, want: str) -> None:
    assert alert(text) == want


def test_value_prints_with_gos_float_rules() -> None:
    assert alert("{{ $value }}", 1234567.0) == "1.234567e+06"
    assert alert("{{ $value }}", 0.5) == "0.5"
    assert alert("{{ $value | humanizePercentage }}", 0.1234) == "12.34%"
    assert alert("{{ humanize $value }}", 0.000012) == "12u"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{{ .Foo.Bar }}",
            "error executing template __alert_InstanceDown: template: __alert_InstanceDown:1:119: "
            'executing "__alert_InstanceDown" at <.Foo.Bar>: can\'t evaluate field Foo in type '
            "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL "
            "string; Value interface {} }",
        ),
        (
            '{{ query "nothing" | first | value }}',
            "error executing template __alert_InstanceDown: template: __alert_InstanceDown:1:133: "
            'executing "__alert_InstanceDown" at <first>: error calling first: first() called on '
            "vector with no elements",
        ),
        (
            "{{ if gt $value 80 }}high{{ end }}",
            "error executing template __alert_InstanceDown: template: __alert_InstanceDown:1:118: "
            'executing "__alert_InstanceDown" at <gt $value 80>: error calling gt: incompatible '
            "types for comparison: float64 and int",
        ),
        (
            "{{ if }}",
            "error parsing template __alert_InstanceDown: template: __alert_InstanceDown:1: "
            "missing value for if",
        ),
    ],
)
def test_alert_template_errors_read_as_prometheus_writes_them(text: str, message: str) -> None:
    # Prometheus puts "<error expanding template: {message}>" in the annotation.
    with pytest.raises(TemplateError) as caught:
        alert(text)
    assert str(caught.value) == message
    assert caught.value.name == "__alert_InstanceDown"


def test_query_without_a_query_function_fails_at_run_time_only() -> None:
    text = '{{ with query "up" }}x{{ end }}'
    with pytest.raises(TemplateError, match="error calling query: queries are not available here"):
        expand_alert_template(text, name="r", labels={}, value=1.0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1_000", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("0x1p3", 8.0),
        ("+Infinity", math.inf),
        ("1e-400", 0.0),
        ("+.5e-2", 0.005),
    ],
)
def test_strings_convert_with_gos_parsefloat(text: str, value: float) -> None:
    assert parse_go_float(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e", "invalid syntax"),
        ("0x10", "invalid syntax"),
        ("+nan", "invalid syntax"),
        (" 1", "invalid syntax"),
        ("", "invalid syntax"),
        ("1__0", "invalid syntax"),
        ("1e400", "value out of range"),
    ],
)
def test_bad_numeric_strings_fail_as_in_go(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"parsing .*: {reason}"):
        parse_go_float(text)


@pytest.mark.parametrize(
    ("hostport", "result"),
    [
        ("a:1", ("a", "1")),
        ("[::1]:80", ("::1", "80")),
        ("::1", "address ::1: too many colons in address"),
        ("[::1]", "address [::1]: missing port in address"),
        ("[a]b:1", "address [a]b:1: missing port in address"),
        ("a]:1", "address a]:1: unexpected ']' in address"),
        ("[a:1", "address [a:1: missing ']' in address"),
    ],
)
def test_split_host_port_matches_go(hostport: str, result: object) -> None:
    if isinstance(result, tuple):
        assert split_host_port(hostport) == result
    else:
        with pytest.raises(ValueError, match=r"^" + str(result).replace("[", r"\[") + "$"):
            split_host_port(hostport)


def test_an_alert_template_parsed_once_expands_with_each_calls_data_and_query() -> None:
    """Templates are parsed once and reused: each expansion still sees its own labels, value,
    time and query results."""
    text = '{{ $labels.job }} {{ $value }} {{ (query "q" | first).Value }} {{ now }}'

    def answer(v: float) -> Callable[[str], list[QuerySample]]:
        return lambda q: [QuerySample({"q": q}, v)]

    first = expand_alert_template(
        text, name="A", labels={"job": "api"}, value=1.0, timestamp_ms=1000, query=answer(7.0)
    )
    second = expand_alert_template(
        text, name="A", labels={"job": "web"}, value=2.0, timestamp_ms=2000, query=answer(8.0)
    )
    assert (first, second) == ("api 1 7 1", "web 2 8 2")
