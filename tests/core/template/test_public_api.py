"""The public surface the rules engine and the notifiers code against."""

from __future__ import annotations

import inspect

import spyglass.core.template as template
from spyglass.core.errors import BadInput, SpyglassError, TemplateError


def test_exported_names() -> None:
    assert sorted(template.__all__) == [
        "Alert",
        "AlertInput",
        "Alerts",
        "Data",
        "GoDuration",
        "GoTime",
        "KV",
        "NotifiedAlert",
        "Pair",
        "Pairs",
        "QueryFunc",
        "QuerySample",
        "StringMap",
        "Strings",
        "Template",
        "TemplateError",
        "TemplateSet",
        "TimeError",
        "alertmanager_functions",
        "console_functions",
        "expand_alert_template",
        "fingerprint",
        "format_float",
        "notification_data",
        "parse_time",
        "prometheus_functions",
        "to_json",
    ]
    for name in template.__all__:
        assert hasattr(template, name)


def test_template_error_is_bad_input() -> None:
    assert issubclass(TemplateError, BadInput)
    assert issubclass(TemplateError, SpyglassError)
    assert template.TemplateError is TemplateError


def test_expand_alert_template_signature_is_the_agreed_one() -> None:
    # The rules engine codes against exactly this signature.
    sig = inspect.signature(template.expand_alert_template)
    assert str(sig) == (
        "(text: 'str', *, name: 'str', labels: 'Mapping[str, str]', value: 'float', "
        "external_labels: 'Mapping[str, str] | None' = None, external_url: 'str' = '', "
        "timestamp_ms: 'int' = 0, query: 'QueryFunc | None' = None) -> 'str'"
    )
    sample = template.QuerySample(labels={"job": "a"}, value=1.0)
    assert (sample.labels, sample.value) == ({"job": "a"}, 1.0)
