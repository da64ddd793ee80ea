"""The public surface the scheduler, the API and the CLI code against."""

from __future__ import annotations

import spyglass.rules
import spyglass.rules.testing
from spyglass.core.template import expand_alert_template


def test_exported_names() -> None:
    assert sorted(spyglass.rules.__all__) == sorted(
        [
            "ALERTS",
            "ALERTS_FOR_STATE",
            "BUILTIN_RULES",
            "DEFAULT_FOR_GRACE_PERIOD_MS",
            "DEFAULT_OUTAGE_TOLERANCE_MS",
            "RESOLVED_RETENTION_MS",
            "Alert",
            "AlertState",
            "AlertingRule",
            "DuplicateRule",
            "GroupEvaluation",
            "GroupSpec",
            "InstantEvaluator",
            "Languages",
            "LogQLEvaluator",
            "NameValidation",
            "OutgoingAlert",
            "PromQLEvaluator",
            "QueryLanguage",
            "QuerySample",
            "RecordingRule",
            "Rule",
            "RuleFile",
            "RuleFileError",
            "RuleGroup",
            "RuleHealth",
            "RuleKind",
            "RuleManager",
            "RuleSpec",
            "RuleStatus",
            "Sample",
            "TemplateChecker",
            "TemplateExpander",
            "check_alert_template",
            "duplicate_rules",
            "eval_timestamp",
            "format_duplicates",
            "load_rule_file",
            "parse_rule_file",
            "restore_for_state",
        ]
    )
    assert sorted(spyglass.rules.testing.__all__) == sorted(
        [
            "NATIVE_HISTOGRAMS",
            "AlertTest",
            "ExpectedAlert",
            "ExpectedSample",
            "FileReport",
            "GroupReport",
            "InputLogs",
            "InputSeries",
            "PromqlTest",
            "UnitTestFile",
            "UnitTestGroup",
            "load_unit_test_file",
            "parse_log_line",
            "parse_stream_labels",
            "run_unit_test_file",
            "run_unit_tests",
        ]
    )
    for module in (spyglass.rules, spyglass.rules.testing):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_defaults_are_prometheus_defaults() -> None:
    assert spyglass.rules.RESOLVED_RETENTION_MS == 15 * 60_000
    assert (
        spyglass.rules.DEFAULT_OUTAGE_TOLERANCE_MS == 3_600_000
    )  # --rules.alert.for-outage-tolerance
    assert spyglass.rules.DEFAULT_FOR_GRACE_PERIOD_MS == 600_000  # --rules.alert.for-grace-period


def test_the_template_engine_fits_the_expander_protocol() -> None:
    expander: spyglass.rules.TemplateExpander = expand_alert_template
    assert expander("{{ $value | humanizePercentage }}", name="A", labels={}, value=0.25) == "25%"
