"""Error tracking: events from Sentry SDKs grouped into issues, triaged, and alerted on.

Modules in pipeline order: ``_grouping`` decides which issue an ``ErrorEvent`` belongs to, with
Sentry's order of evidence (fingerprint, stack trace, exception, message), and words its title
and culprit; ``_issues`` is what an event or a person does to an issue (counting, resolve,
ignore, regression); ``_alerts`` words the ``NewErrorIssue`` and ``RegressedErrorIssue`` alerts;
``_tracker`` (``ErrorTracker``) runs them over the storage ports for the ingest endpoints and
the errors API.
"""

from spyglass.errors._alerts import NEW_ISSUE, REGRESSED_ISSUE, issue_alert, issue_link
from spyglass.errors._grouping import Grouping, culprit, group, normalize_message, title
from spyglass.errors._issues import (
    ACTIONS,
    IGNORE,
    RESOLVE,
    RESOLVE_IN_NEXT_RELEASE,
    UNRESOLVE,
    apply_action,
    is_regression,
    observe,
)
from spyglass.errors._tracker import ErrorStoreLike, ErrorTracker, IssueDetail, TrackerStats

__all__ = [
    "ACTIONS",
    "IGNORE",
    "NEW_ISSUE",
    "REGRESSED_ISSUE",
    "RESOLVE",
    "RESOLVE_IN_NEXT_RELEASE",
    "UNRESOLVE",
    "ErrorStoreLike",
    "ErrorTracker",
    "Grouping",
    "IssueDetail",
    "TrackerStats",
    "apply_action",
    "culprit",
    "group",
    "is_regression",
    "issue_alert",
    "issue_link",
    "normalize_message",
    "observe",
    "title",
]
