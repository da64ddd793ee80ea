"""Prometheus rules: rule files as Prometheus reads them.

* ``load_rule_file``/``parse_rule_file`` read a rule file unchanged and validate it as
  ``promtool check rules`` does, every error a ``ConfigError`` with file, line and field
  (``RuleFileError`` holds them all); ``duplicate_rules`` is promtool's lint.
"""

from spyglass.rules._lint import DuplicateRule, duplicate_rules, format_duplicates
from spyglass.rules._model import GroupSpec, RuleFile, RuleKind, RuleSpec
from spyglass.rules._rulefmt import NameValidation, RuleFileError, load_rule_file, parse_rule_file
from spyglass.rules._template import QuerySample, TemplateChecker, TemplateExpander

__all__ = [
    "DuplicateRule",
    "GroupSpec",
    "NameValidation",
    "QuerySample",
    "RuleFile",
    "RuleFileError",
    "RuleKind",
    "RuleSpec",
    "TemplateChecker",
    "TemplateExpander",
    "duplicate_rules",
    "format_duplicates",
    "load_rule_file",
    "parse_rule_file",
]
