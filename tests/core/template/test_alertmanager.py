"""Alertmanager's notification data, functions and default templates.

Data and function cases are Alertmanager's template/template_test.go (TestPair*, TestKV*,
TestData, TestTemplateExpansion, TestTemplateFuncs) with their outputs; the default-template
goldens were rendered by the real Alertmanager (amtool 0.25 ``template render`` over the current
default.tmpl) from the same data. Where the current Alertmanager differs from 0.25 (a label set
prints as ``name=value, ...`` since 0.26) the test follows the current one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spyglass.core.template import (
    KV,
    Alert,
    AlertInput,
    Alerts,
    Data,
    GoTime,
    Pair,
    Pairs,
    Strings,
    TemplateError,
    TemplateSet,
    fingerprint,
    notification_data,
)

SET = TemplateSet.load()


def render(text: str, data: object = None) -> str:
    return SET.render(text, data)


# --- data (template_test.go) ------------------------------------------------------------------


def test_pairs_names_values_and_string() -> None:
    pairs = Pairs([Pair("name1", "value1"), Pair("name2", "value2"), Pair("name3", "value3")])
    assert pairs.names() == Strings(["name1", "name2", "name3"])
    assert pairs.pair_values() == Strings(["value1", "value2", "value3"])
    assert Pairs([Pair("name1", "value1")]).string() == "name1=value1"
    assert Pairs(pairs[:2]).string() == "name1=value1, name2=value2"


def test_kv_sorted_pairs_puts_alertname_first() -> None:
    kv = KV({"d": "dVal", "b": "bVal", "c": "cVal"})
    assert [(p.name, p.value) for p in kv.sorted_pairs()] == [
        ("b", "bVal"),
        ("c", "cVal"),
        ("d", "dVal"),
    ]
    kv = KV({"d": "dVal", "b": "bVal", "c": "cVal", "alertname": "alert", "a": "aVal"})
    assert kv.names() == ["alertname", "a", "b", "c", "d"]


def test_kv_remove() -> None:
    kv = KV({"key1": "val1", "key2": "val2", "key3": "val3", "key4": "val4"})
    assert kv.remove(["key2", "key4"]).names() == ["key1", "key3"]


def test_alerts_firing_and_resolved() -> None:
    def alert(status: str) -> Alert:
        return Alert(status, KV(), KV(), GoTime.zero(), GoTime.zero(), "", "")

    alerts = Alerts([alert(s) for s in ("firing", "resolved", "firing", "resolved", "resolved")])
    assert [a.status for a in alerts.firing()] == ["firing", "firing"]
    assert [a.status for a in alerts.resolved()] == ["resolved"] * 3


YEAR_ONE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def test_notification_data_as_alertmanager_assembles_it() -> None:
    # TestData: the second alert ended (EndsAt in the past), so it is resolved.
    start = YEAR_ONE + dt.timedelta(seconds=1)
    end = YEAR_ONE + dt.timedelta(seconds=2)
    data = notification_data(
        "webhook",
        [
            AlertInput(
                {"severity": "warning", "job": "foo"},
                {"description": "something happened", "runbook": "foo"},
                starts_at=start,
            ),
            AlertInput(
                {"severity": "critical", "job": "foo"},
                {"description": "something else happened", "runbook": "foo"},
                starts_at=start,
                ends_at=end,
            ),
        ],
        group_labels={"job": "foo"},
        external_url="http://example.com/",
    )
    assert data.receiver == "webhook"
    assert data.status == "firing"
    assert [a.status for a in data.alerts] == ["firing", "resolved"]
    assert [a.fingerprint for a in data.alerts] == ["9266ef3da838ad95", "3b15fd163d36582e"]
    assert data.alerts[1].ends_at.string() == "0001-01-01 00:00:02 +0000 UTC"
    assert dict(data.group_labels) == {"job": "foo"}
    assert dict(data.common_labels) == {"job": "foo"}
    assert dict(data.common_annotations) == {"runbook": "foo"}
    assert data.external_url == "http://example.com/"


def test_notification_data_edge_cases() -> None:
    empty = notification_data("webhook", [])
    assert empty.status == "resolved"
    assert dict(empty.common_labels) == {}
    assert fingerprint({"severity": "critical", "job": "bar"}) == "c7e68cb08e3e67f9"
    assert fingerprint({}) == "cbf29ce484222325"
    # Alertmanager passes the receiver name through regexp.QuoteMeta.
    assert notification_data("team-x.pager (eu)", []).receiver == "team-x\\.pager \\(eu\\)"
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    later = notification_data(
        "r", [AlertInput({"a": "1"}, ends_at=now + dt.timedelta(hours=1))], now=now
    )
    assert later.status == "firing"


# --- functions (TestTemplateExpansion, TestTemplateFuncs) -------------------------------------

EXPANSIONS: list[tuple[str, object, str]] = [
    ("abc", None, "abc"),
    ('{{ "abc" }}', None, "abc"),
    ('{{ "abc" | toUpper }}', None, "ABC"),
    ('{{ "ABC" | toLower }}', None, "abc"),
    ('{{ "abc" | title }}', None, "Abc"),
    ('{{ "aa bb CC" | title }}', None, "Aa Bb Cc"),
    ('{{ " a b c " | trimSpace }}', None, "a b c"),
    ('{{ if match "^a" "abc"}}abc{{ end }}', None, "abc"),
    ('{{ if match "abcd" "abc" }}abc{{ end }}', None, ""),
    ('{{ . | join "," }}', ["a", "b", "c"], "a,b,c"),
    ('{{ "<b>" }}', None, "<b>"),
    ('{{ reReplaceAll "ab" "AB" "abcdabcda"}}', None, "ABcdABcda"),
    ('{{ "search?q=test%20foo" | urlUnescape }}', None, "search?q=test foo"),
    (
        '{{ with .GroupLabels }}{{ with .Remove (stringSlice "key1" "key3") }}'
        "{{ .SortedPairs.Values }}{{ end }}{{ end }}",
        Data(
            "",
            "",
            Alerts(),
            KV({"key1": "key1", "key2": "key2", "key3": "key3", "key4": "key4"}),
            KV(),
            KV(),
            "",
        ),
        "[key2 key4]",
    ),
    ('{{ "test" | toJson }}', None, '"test"'),
    ("{{ 42 | toJson }}", None, "42"),
    ("{{ true | toJson }}", None, "true"),
    ("{{ . | toJson }}", {"key": "value", "number": 123}, '{"key":"value","number":123}'),
    ("{{ . | toJson }}", ["a", "b", "c"], '["a","b","c"]'),
    (
        "{{ .CommonLabels | toJson }}",
        Data("", "", Alerts(), KV(), KV({"severity": "critical", "job": "foo"}), KV(), ""),
        '{"job":"foo","severity":"critical"}',
    ),
    ('{{ "<&>" | toJson }}', None, '"\\u003c\\u0026\\u003e"'),
    ('{{ "test" | base64encode }}', None, "dGVzdA=="),
    ('{{ "flush>>" | base64encode }}', None, "Zmx1c2g-Pg=="),
    ('{{ "dGVzdA==" | base64decode }}', None, "test"),
    ("{{- $test := dict -}}{{ $test }}", None, "map[]"),
    ('{{- $test := dict "a" 1 "b" 2 "c" 3 -}}{{ $test }}', None, "map[a:1 b:2 c:3]"),
    ("{{- $test := list -}}{{ $test }}", None, "[]"),
    ('{{- $test := list "a" "b" "c" -}}{{ $test }}', None, "[a b c]"),
    (
        '{{- $test := list "a" "b" -}}{{ $test = append $test "c" "d" -}}{{ $test }}',
        None,
        "[a b c d]",
    ),
    (
        '{{ . | date "2006-01-02" }}',
        GoTime.from_datetime(dt.datetime(2024, 1, 1, 8, 15, 30, tzinfo=dt.UTC)),
        "2024-01-01",
    ),
    (
        '{{ . | tz "Europe/Paris" }}',
        GoTime.from_datetime(dt.datetime(2024, 1, 1, 8, 15, 30, tzinfo=dt.UTC)),
        "2024-01-01 09:15:30 +0100 CET",
    ),
    (
        "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
        [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345],
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    ),
    ('{{ toDate "2006-01-02" "2024-03-15" | date "02 Jan 2006" }}', None, "15 Mar 2024"),
    ('{{ toDate "2006-01-02" "not-a-date" | date "2006" }}', None, "0001"),
    ('{{ mustToDate "2006-01-02" "2024-03-15" | date "02 Jan 2006" }}', None, "15 Mar 2024"),
]


@pytest.mark.parametrize(("text", "data", "want"), EXPANSIONS)
def test_alertmanager_functions(text: str, data: object, want: str) -> None:
    assert render(text, data) == want


def test_to_json_of_alerts_uses_alertmanagers_field_names() -> None:
    data = notification_data("r", [AlertInput({"alertname": "test"}), AlertInput({"a": "b"})])
    assert render("{{ .Alerts.Firing | toJson }}", data).startswith(
        '[{"status":"firing","labels":{"alertname":"test"},"annotations":{},'
        '"startsAt":"0001-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z",'
        '"generatorURL":"","fingerprint":"'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ ", "template: :1: unclosed action"),
        (
            '{{ . | tz "Invalid/Timezone" }}',
            'template: :1:7: executing "" at <tz "Invalid/Timezone">: error calling tz: '
            "unknown time zone Invalid/Timezone",
        ),
        (
            '{{ humanizeDuration "one" }}',
            'template: :1:3: executing "" at <humanizeDuration "one">: error calling '
            'humanizeDuration: strconv.ParseFloat: parsing "one": invalid syntax',
        ),
        (
            '{{ mustToDate "2006-01-02" "not-a-date" }}',
            'template: :1:3: executing "" at <mustToDate "2006-01-02" "not-a-date">: error calling '
            'mustToDate: parsing time "not-a-date" as "2006-01-02": cannot parse "not-a-date" as '
            '"2006"',
        ),
        # Go's encoding/base64 positions.
        ('{{ "not-valid-base64!" | base64decode }}', "illegal base64 data at input byte 16"),
        ('{{ "dGVzdA" | base64decode }}', "illegal base64 data at input byte 4"),
        ('{{ "dGVzdA=" | base64decode }}', "illegal base64 data at input byte 7"),
        ('{{ "dG=zdA==" | base64decode }}', "illegal base64 data at input byte 2"),
        ('{{ dict "a" }}', "dict requires an even number of arguments"),
        ('{{ dict 1 "value" }}', "dict keys must be strings"),
    ],
)
def test_alertmanager_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(text, GoTime.zero())
    assert message in str(caught.value)


def test_now_and_since_read_the_clock() -> None:
    clock = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    templates = TemplateSet.load(clock=lambda: clock)
    assert templates.render('{{ now | date "2006-01-02T15:04:05-0700" }}', None) == (
        "2024-05-06T07:08:09+0000"
    )
    an_hour_ago = GoTime.from_datetime(clock - dt.timedelta(hours=1))
    assert templates.render("{{ . | since | humanizeDuration }}", an_hour_ago) == "1h 0m 0s"


# --- the data as templates see it ---------------------------------------------------------------

NOW = dt.datetime(2024, 1, 2, 5, tzinfo=dt.UTC)
DATA = notification_data(
    "team-x",
    [
        AlertInput(
            {
                "alertname": "HighLatency",
                "job": "api",
                "instance": "a:9100",
                "severity": "critical",
            },
            {"summary": "Latency high", "description": "p99 > 1s"},
            starts_at=dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC),
            generator_url="http://prom/graph?g0.expr=x",
        ),
        AlertInput(
            {"alertname": "HighLatency", "job": "api", "instance": "b:9100", "severity": "warning"},
            {"summary": "Latency high"},
            starts_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            ends_at=dt.datetime(2024, 1, 2, 4, tzinfo=dt.UTC),
            generator_url="http://prom/graph?g0.expr=y",
        ),
    ],
    group_labels={"alertname": "HighLatency"},
    external_url="http://am:9093",
    now=NOW,
)


def test_fields_and_methods_as_alertmanager_shows_them() -> None:
    text = (
        "{{ .Receiver }} {{ .Alerts.Firing | len }} {{ .CommonLabels.alertname }} "
        "[{{ .CommonLabels.nope }}] {{ (index .Alerts 0).StartsAt }} "
        "{{ .CommonLabels.SortedPairs.Names }} {{ .GroupLabels.Names }} "
        "{{ (index .Alerts 1).EndsAt.Unix }} {{ range .Alerts.Resolved }}{{ .Labels.instance }}"
        '{{ end }} {{ index .CommonAnnotations "summary" }} [{{ index .CommonAnnotations "nope" }}]'
    )
    assert render(text, DATA) == (
        "team-x 1 HighLatency [] 2024-01-02 03:04:05.123 +0000 UTC [alertname job] [alertname] "
        "1704168000 b:9100 Latency high []"
    )
    # Since Alertmanager 0.26 label sets print through their String method.
    assert render("{{ .CommonLabels }}|{{ .GroupLabels.SortedPairs }}", DATA) == (
        "alertname=HighLatency, job=api|alertname=HighLatency"
    )
    assert render('{{ .CommonLabels.Values.Join "," }}', DATA) == "HighLatency,api"


def test_field_errors_name_alertmanagers_types() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{ .Alerts.Firing.Foo }}", DATA)
    assert str(caught.value) == (
        'template: :1:10: executing "" at <.Alerts.Firing.Foo>: '
        "can't evaluate field Foo in type []template.Alert"
    )
    with pytest.raises(TemplateError) as caught:
        render('{{ template "nope" . }}', DATA)
    assert str(caught.value) == (
        'template: :1:12: executing "" at <{{template "nope" .}}>: template "nope" not defined'
    )


# --- default templates ------------------------------------------------------------------------

FIRING = (
    "Labels:\n - alertname = HighLatency\n - instance = a:9100\n - job = api\n"
    " - severity = critical\nAnnotations:\n - description = p99 > 1s\n"
    " - summary = Latency high\nSource: http://prom/graph?g0.expr=x\n"
)
RESOLVED = (
    "Labels:\n - alertname = HighLatency\n - instance = b:9100\n - job = api\n"
    " - severity = warning\nAnnotations:\n - summary = Latency high\n"
    "Source: http://prom/graph?g0.expr=y\n"
)
FIRING_MD = (
    "\nLabels:\n  - alertname = HighLatency\n  - instance = a:9100\n  - job = api\n"
    "  - severity = critical\n\nAnnotations:\n  - description = p99 > 1s\n"
    "  - summary = Latency high\n\nSource: http://prom/graph?g0.expr=x\n\n"
)
RESOLVED_MD = (
    "\nLabels:\n  - alertname = HighLatency\n  - instance = b:9100\n  - job = api\n"
    "  - severity = warning\n\nAnnotations:\n  - summary = Latency high\n\n"
    "Source: http://prom/graph?g0.expr=y\n\n"
)
URL = "http://am:9093/#/alerts?receiver=team-x"

# What amtool 0.25 rendered from this data with Alertmanager's default.tmpl.
GOLDEN = [
    ("__subject", "[FIRING:1] HighLatency (api)"),
    ("slack.default.title", "[FIRING:1] HighLatency (api)"),
    ("slack.default.fallback", f"[FIRING:1] HighLatency (api) | {URL}"),
    ("slack.default.titlelink", URL),
    ("slack.default.username", "Alertmanager"),
    ("slack.default.color", "danger"),
    ("slack.default.text", ""),
    ("email.default.subject", "[FIRING:1] HighLatency (api)"),
    ("pagerduty.default.description", "[FIRING:1] HighLatency (api)"),
    ("pagerduty.default.client", "Alertmanager"),
    ("pagerduty.default.clientURL", URL),
    (
        "opsgenie.default.description",
        f"Latency high\nAlerts Firing:\n{FIRING}\nAlerts Resolved:\n{RESOLVED}",
    ),
    (
        "pushover.default.message",
        f"Latency high\n\nAlerts Firing:\n{FIRING}\n\n\nAlerts Resolved:\n{RESOLVED}\n\n",
    ),
    (
        "telegram.default.message",
        f"\n\nAlerts Firing:\n{FIRING}\n\n\nAlerts Resolved:\n{RESOLVED}\n\n",
    ),
    (
        "msteams.default.text",
        f"\n\n# Alerts Firing:\n{FIRING_MD}\n\n\n# Alerts Resolved:\n{RESOLVED_MD}\n\n",
    ),
    (
        "wechat.default.message",
        "[FIRING:1] HighLatency (api)\nLatency high\nAlerts Firing:\n"
        f"{FIRING}\nAlerts Resolved:\n{RESOLVED}\nAlertmanagerUrl:\n{URL}",
    ),
    ("jira.default.priority", "High"),
]


@pytest.mark.parametrize(("name", "want"), GOLDEN)
def test_default_templates_match_alertmanagers(name: str, want: str) -> None:
    assert SET.render_template(name, DATA) == want
    assert render(f'{{{{ template "{name}" . }}}}', DATA) == want


def test_pagerduty_instances_lists_the_alerts_given() -> None:
    assert render('{{ template "pagerduty.default.instances" .Alerts.Firing }}', DATA) == FIRING


def test_subject_of_a_resolved_group_without_extra_common_labels() -> None:
    data = notification_data(
        "r",
        [AlertInput({"alertname": "A"}, ends_at=YEAR_ONE + dt.timedelta(seconds=1))],
        group_labels={"alertname": "A"},
    )
    assert SET.render_template("__subject", data) == "[RESOLVED] A "
    assert SET.render_template("slack.default.color", data) == "good"
    assert SET.render_template("jira.default.priority", data) == ""


def test_jira_priority_takes_the_highest_firing_severity() -> None:
    def data(*severities: str) -> Data:
        return notification_data(
            "r",
            [
                AlertInput({"alertname": "A", "severity": s, "i": str(i)})
                for i, s in enumerate(severities)
            ],
        )

    assert SET.render_template("jira.default.priority", data("info", "warning")) == "Medium"
    assert SET.render_template("jira.default.priority", data("info", "other")) == "Low"
    assert SET.render_template("jira.default.priority", data("warning", "critical")) == "High"


def test_every_receiver_default_is_defined() -> None:
    names = set(SET.templates())
    for receiver in ("slack", "pagerduty", "opsgenie", "wechat", "victorops", "pushover", "sns"):
        assert any(n.startswith(receiver + ".default.") for n in names), receiver
    assert {"__subject", "__description", "__text_alert_list", "email.default.html"} <= names


def test_email_html_escapes_the_data() -> None:
    data = notification_data(
        "r",
        [
            AlertInput(
                {"alertname": "<script>"}, {"summary": "a & b"}, generator_url="http://x?a=1&b=2"
            )
        ],
        group_labels={"alertname": "<script>"},
    )
    html = SET.render_template("email.default.html", data, html=True)
    assert "<script>" not in html
    assert "<title>[FIRING:1] &lt;script&gt; </title>" in html
    assert "summary = a &amp; b<br>" in html
    assert 'href="http://x?a=1&amp;b=2"' in html


# --- loading template files ---------------------------------------------------------------------


def test_user_files_override_defaults_for_every_template_using_them() -> None:
    templates = TemplateSet.load(
        [("/etc/am/custom.tmpl", '{{ define "__subject" }}{{ .CommonLabels.alertname }}!{{ end }}')]
    )
    assert templates.render_template("slack.default.title", DATA) == "HighLatency!"
    assert templates.render('{{ template "email.default.subject" . }}', DATA) == "HighLatency!"
    assert SET.render_template("slack.default.title", DATA) == "[FIRING:1] HighLatency (api)"


def test_a_field_may_define_templates_of_its_own_without_changing_the_set() -> None:
    text = '{{ define "mine" }}<{{ . }}>{{ end }}{{ template "mine" .Status }}'
    assert render(text, DATA) == "<firing>"
    assert "mine" not in SET.templates()
    assert render("", DATA) == ""


def test_a_broken_file_is_named_in_the_error() -> None:
    with pytest.raises(TemplateError) as caught:
        TemplateSet.load([("/etc/am/bad.tmpl", 'ok\n{{ define "x" }}{{ if }}{{ end }}')])
    assert str(caught.value) == "template: bad.tmpl:2: missing value for if"


def test_execution_errors_in_a_file_cite_the_file_and_template() -> None:
    templates = TemplateSet.load([("t/x.tmpl", '\n{{ define "x" }}{{ .Nope }}{{ end }}')])
    with pytest.raises(TemplateError) as caught:
        templates.render('{{ template "x" . }}', DATA)
    assert str(caught.value) == (
        'template: x.tmpl:2:19: executing "x" at <.Nope>: can\'t evaluate field Nope in type '
        "*template.Data"
    )


def test_from_globs_reads_matching_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "tmpl").mkdir()
    (tmp_path / "tmpl" / "a.tmpl").write_text('{{ define "t" }}a{{ end }}')
    (tmp_path / "tmpl" / "b.tmpl").write_text(
        '{{ define "t" }}b{{ end }}{{ define "u" }}u{{ end }}'
    )
    (tmp_path / "other.txt").write_text('{{ define "t" }}other{{ end }}')
    templates = TemplateSet.from_globs(["tmpl/*.tmpl", "nothing/*.tmpl"], base_dir=tmp_path)
    assert templates.render('{{ template "t" . }}{{ template "u" . }}', None) == "bu"
    absolute = TemplateSet.from_globs([str(tmp_path / "*.txt")])
    assert absolute.render('{{ template "t" . }}', None) == "other"
