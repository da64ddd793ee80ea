"""Running one probe: the prober a module names, under a deadline, timed.

``probe`` returns the ``ProbeResult`` with ``probe_success`` and ``probe_duration_seconds``
added, as the exporter's handler adds them; a probe that overruns its deadline fails (its gauges
keep what it learned). ``timeout_for`` is the exporter's rule for the deadline of a ``/probe``
request: the scrape's ``X-Prometheus-Scrape-Timeout-Seconds`` (or 120 s) less an offset, capped
by the module's ``timeout``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from spyglass.probes._config import Module
from spyglass.probes._dns import probe_dns
from spyglass.probes._http import probe_http
from spyglass.probes._result import ProbeResult
from spyglass.probes._tcp import probe_tcp

Prober = Callable[[ProbeResult, str, Module, float], Awaitable[bool]]
PROBERS: dict[str, Prober] = {"http": probe_http, "tcp": probe_tcp, "dns": probe_dns}
DEFAULT_TIMEOUT_S = 120.0
# The exporter's --timeout-offset default: room for the answer to reach the scraper in time.
TIMEOUT_OFFSET_S = 0.5


def timeout_for(
    module: Module, scrape_timeout: str | None, offset_s: float = TIMEOUT_OFFSET_S
) -> float:
    """Seconds a ``/probe`` request may take; ``ValueError`` for a header that is no number."""
    timeout = float(scrape_timeout) if scrape_timeout else 0.0
    if timeout == 0:
        timeout = DEFAULT_TIMEOUT_S
    most = timeout - offset_s
    own = module.timeout_ms / 1000
    if (0 < own < most) or most < 0:
        return own
    return most


async def probe(name: str, module: Module, target: str, timeout_s: float) -> ProbeResult:
    """Run ``module``'s prober against ``target`` and judge it."""
    result = ProbeResult(module=name, target=target)
    success_gauge = result.gauge("probe_success", "Displays whether or not the probe was a success")
    duration_gauge = result.gauge(
        "probe_duration_seconds", "Returns how long the probe took to complete in seconds"
    )
    result.info("Beginning probe", probe=module.prober, timeout_seconds=timeout_s)
    start = time.perf_counter()
    try:
        async with asyncio.timeout(max(timeout_s, 0.0)):
            success = await PROBERS[module.prober](result, target, module, timeout_s)
    except TimeoutError:
        result.error("Probe timed out")
        success = False
    duration = time.perf_counter() - start
    duration_gauge.set(duration)
    if success:
        success_gauge.set(1)
        result.info("Probe succeeded", duration_seconds=duration)
    else:
        result.error("Probe failed", duration_seconds=duration)
    result.success = success
    return result


__all__ = ["DEFAULT_TIMEOUT_S", "PROBERS", "TIMEOUT_OFFSET_S", "probe", "timeout_for"]
