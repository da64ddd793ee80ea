"""Error tracking: events from Sentry SDKs grouped into issues.

``group`` decides which issue an ``ErrorEvent`` belongs to, with Sentry's order of evidence
(fingerprint, stack trace, exception, message), and words its title and culprit.
"""

from spyglass.errors._grouping import Grouping, culprit, group, normalize_message, title

__all__ = ["Grouping", "culprit", "group", "normalize_message", "title"]
