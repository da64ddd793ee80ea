"""Prometheus rules: rule files, their evaluation, and what ``promtool`` checks and tests.

* ``load_rule_file``/``parse_rule_file`` read a rule file unchanged and validate it as
  ``promtool check rules`` does, every error a ``ConfigError`` with file, line and field
  (``RuleFileError`` holds them all); ``duplicate_rules`` is promtool's lint.
* ``RuleGroup`` evaluates a group's rules in order at a timestamp over a ``Querier`` and
  returns what to write and which alerts to send (``GroupEvaluation``); it neither schedules,
  writes nor sends. ``restore_for_state`` restores alerts' ``for`` progress after a restart.
* ``RuleManager`` runs the rule files prometheus.yml names: schedules each group, writes its
  samples to a ``SampleSink``, sends its alerts to an ``AlertSink``, reloads.
* A group's expressions are PromQL or, as Loki's ruler reads them, LogQL (``QueryLanguage``;
  ``type: logql`` on the group, or Loki ruler files): ``Languages`` gives each group the
  ``InstantEvaluator`` of its language (``PromQLEvaluator``, ``LogQLEvaluator``).
* Alert templates are expanded by an injected ``TemplateExpander``.
* ``spyglass.rules.testing`` runs promtool's rule unit tests.
* ``BUILTIN_RULES`` is the rule file Spyglass ships with alerts about itself.

Names load on first use (``spyglass.core.lazy``): ``spyglass check rules`` reads rule files
without loading the evaluation, the PromQL engine or the LogQL engine.
"""

from typing import TYPE_CHECKING

from spyglass.core.lazy import lazy_exports

if TYPE_CHECKING:
    from spyglass.rules._alerting import ALERTS, ALERTS_FOR_STATE, AlertingRule
    from spyglass.rules._alerts import RESOLVED_RETENTION_MS, Alert, AlertState, OutgoingAlert
    from spyglass.rules._builtin import BUILTIN_RULES
    from spyglass.rules._group import GroupEvaluation, Rule, RuleGroup, RuleStatus
    from spyglass.rules._language import (
        InstantEvaluator,
        Languages,
        LogQLEvaluator,
        PromQLEvaluator,
        QueryLanguage,
    )
    from spyglass.rules._lint import DuplicateRule, duplicate_rules, format_duplicates
    from spyglass.rules._manager import RuleManager, eval_timestamp
    from spyglass.rules._model import GroupSpec, RuleFile, RuleKind, RuleSpec
    from spyglass.rules._recording import RecordingRule
    from spyglass.rules._restore import (
        DEFAULT_FOR_GRACE_PERIOD_MS,
        DEFAULT_OUTAGE_TOLERANCE_MS,
        restore_for_state,
    )
    from spyglass.rules._rule import RuleHealth, Sample
    from spyglass.rules._rulefmt import (
        NameValidation,
        RuleFileError,
        load_rule_file,
        parse_rule_file,
    )
    from spyglass.rules._template import (
        QuerySample,
        TemplateChecker,
        TemplateExpander,
        check_alert_template,
    )

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
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
