"""Resolving a probe's target the way the blackbox exporter chooses an address.

``preferred_ip_protocol`` (ip6 unless ip4 is asked for) picks the family; with
``ip_protocol_fallback`` (the default) an address of the other family is used when the name has
none of the preferred one. The probe learns ``probe_ip_protocol``, ``probe_ip_addr_hash`` (FNV-1a
of the address bytes, so a change of address shows as a change of value) and
``probe_dns_lookup_time_seconds``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

from spyglass.probes._result import ProbeResult

_FAMILY = {"ip4": socket.AF_INET, "ip6": socket.AF_INET6}
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def ip_hash(address: str) -> float:
    """FNV-1a (32 bit) of the address's bytes: 4 for IPv4, 16 for IPv6, as the exporter hashes."""
    h = _FNV_OFFSET
    for byte in ipaddress.ip_address(address).packed:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return float(h)


async def choose_address(
    result: ProbeResult, host: str, preferred: str, fallback: bool
) -> tuple[str | None, float]:
    """The address to probe (``None`` when the name does not resolve) and the lookup time."""
    protocol = result.gauge(
        "probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6"
    )
    lookup = result.gauge(
        "probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds"
    )
    addr_hash = result.gauge(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
    )
    preferred = "ip4" if preferred == "ip4" else "ip6"
    other = "ip6" if preferred == "ip4" else "ip4"
    result.info("Resolving target address", target=host, ip_protocol=preferred)
    start = time.perf_counter()
    chosen: tuple[str, str] | None = None  # (address, family name)
    try:
        family = socket.AF_UNSPEC if fallback else _FAMILY[preferred]
        infos = await asyncio.get_running_loop().getaddrinfo(
            host.strip("[]"), None, family=family, type=socket.SOCK_STREAM
        )
        addresses = [(str(info[4][0]), "ip6" if info[0] == socket.AF_INET6 else "ip4")
                     for info in infos]  # fmt: skip
        chosen = next((a for a in addresses if a[1] == preferred), None)
        if chosen is None and fallback:
            chosen = next((a for a in addresses if a[1] == other), None)
        if chosen is None:
            result.error("Resolution with IP protocol failed", target=host, err="no address")
    except (OSError, UnicodeError) as exc:
        result.error("Resolution with IP protocol failed", target=host, err=str(exc))
    took = time.perf_counter() - start
    lookup.add(took)
    if chosen is None:
        return None, took
    address, family_name = chosen
    result.info("Resolved target address", target=host, ip=address)
    protocol.set(4 if family_name == "ip4" else 6)
    addr_hash.set(ip_hash(address))
    return address, took


__all__ = ["choose_address", "ip_hash"]
