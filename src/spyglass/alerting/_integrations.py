"""Every notification integration, registered: importing this module imports each sender's
module, which puts its builder into ``SENDER_BUILDERS`` under its config key (webhook, email,
Slack, PagerDuty, Apprise). Code that builds senders reads the registry from here, so it finds
them all; code that only parses matchers or times (``spyglass silence``) never loads them.
"""

from spyglass.alerting import _apprise, _email, _pagerduty, _slack, _webhook  # noqa: F401
from spyglass.alerting._notify import SENDER_BUILDERS

__all__ = ["SENDER_BUILDERS"]
