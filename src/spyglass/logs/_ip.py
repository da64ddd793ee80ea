"""``ip("...")`` in line and label filters: an address, a CIDR range or a ``from-to`` range.

A line filter finds any IPv4/IPv6 address inside the line; a label filter any address inside
the label value (Loki reads an address out of a longer value, rather than the whole value).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9])")
_IPV6 = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3})?")


@dataclass(frozen=True, slots=True)
class IPRange:
    """Addresses from ``low`` to ``high`` inclusive, within one IP version."""

    low: IPAddress
    high: IPAddress

    def contains(self, addr: IPAddress) -> bool:
        # Compared as integers: mypy cannot tell the two address classes apart in a union.
        return addr.version == self.low.version and int(self.low) <= int(addr) <= int(self.high)


def check_ip_pattern(pattern: str) -> IPRange:
    """The range ``pattern`` denotes; ``ValueError("ip: invalid pattern")`` when it is none."""
    try:
        if "/" in pattern:
            net = ipaddress.ip_network(pattern, strict=False)
            return IPRange(net.network_address, net.broadcast_address)
        if "-" in pattern:
            a, b = pattern.split("-", 1)
            low, high = ipaddress.ip_address(a.strip()), ipaddress.ip_address(b.strip())
            if low.version != high.version or int(low) > int(high):
                raise ValueError
            return IPRange(low, high)
        addr = ipaddress.ip_address(pattern.strip())
        return IPRange(addr, addr)
    except ValueError:
        raise ValueError(f"ip: invalid pattern: {pattern!r}") from None


def addresses_in(text: str) -> list[IPAddress]:
    """Every IP address that appears in ``text`` (``10.0.0.7:80`` holds ``10.0.0.7``)."""
    found: list[IPAddress] = []
    for m in _IPV4.finditer(text):
        try:
            found.append(ipaddress.IPv4Address(m.group()))
        except ValueError:
            continue
    if ":" in text:
        for m in _IPV6.finditer(text):
            candidate = m.group()
            # A trailing ":port" after an IPv4 match or a short group is not part of an address.
            for end in range(len(candidate), 1, -1):
                try:
                    found.append(ipaddress.IPv6Address(candidate[:end]))
                    break
                except ValueError:
                    continue
    return found


def contains_ip_in(text: str, ranges: tuple[IPRange, ...]) -> bool:
    """Whether ``text`` holds an address inside any of ``ranges``."""
    return any(r.contains(a) for a in addresses_in(text) for r in ranges)


__all__ = ["IPRange", "addresses_in", "check_ip_pattern", "contains_ip_in"]
