"""Probes: blackbox checks of HTTP, TCP and DNS endpoints, as the blackbox exporter runs them.

``load_probes_config_file`` reads a probes file: the exporter's ``modules:`` (a ``blackbox.yml``
works unchanged) and Spyglass's ``probes:`` schedule. ``probe`` runs one module against one
target and returns the exporter's gauges (``probe_success``, ``probe_duration_seconds``,
``probe_http_status_code``, ``probe_ssl_earliest_cert_expiry``, ``probe_dns_lookup_time_seconds``
and the rest) in a ``ProbeResult``; ``timeout_for`` is the exporter's deadline rule for a
``/probe`` request. ``ProbeScheduler`` runs the scheduled probes and writes their series.
"""

from spyglass.probes._config import (
    DEFAULT_MODULE,
    DNSProbe,
    HTTPProbe,
    Module,
    ProbesConfig,
    ScheduledProbe,
    TCPProbe,
    builtin_config,
    load_probes_config,
    load_probes_config_file,
)
from spyglass.probes._result import ProbeResult
from spyglass.probes._run import probe, timeout_for
from spyglass.probes._scheduler import ProbeScheduler, TargetStatus

__all__ = [
    "DEFAULT_MODULE",
    "DNSProbe",
    "HTTPProbe",
    "Module",
    "ProbeResult",
    "ProbeScheduler",
    "ProbesConfig",
    "ScheduledProbe",
    "TCPProbe",
    "TargetStatus",
    "builtin_config",
    "load_probes_config",
    "load_probes_config_file",
    "probe",
    "timeout_for",
]
