"""``spyglass demo``: a small instrumented shop service and the traffic that exercises it.

Like any user's service, the demo app knows only the SDK (``spyglass.sdk``) and OpenTelemetry's
own metrics SDK; it never imports the server. ``spyglass.cli`` starts it next to a real Spyglass
that scrapes it.
"""

from spyglass.demo.app import create_app
from spyglass.demo.traffic import TrafficStats, generate_traffic

__all__ = ["TrafficStats", "create_app", "generate_traffic"]
