"""The TCP prober: connect (with TLS when asked), then the ``query_response`` dialogue.

As the blackbox exporter: each ``expect`` reads lines until one matches (a connection that
closes first fails the probe and sets ``probe_failed_due_to_regex``), ``send`` writes a line and
may use the match's groups (``${1}``, ``$name``), and ``starttls`` upgrades the connection, after
which the TLS gauges describe the upgraded connection.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Any

from spyglass.probes._config import Module
from spyglass.probes._resolve import choose_address
from spyglass.probes._result import ProbeResult
from spyglass.probes._tls import client_context, peer_tls, record_tls

MAX_LINE = 64 * 1024  # bufio.Scanner's default token limit
_TEMPLATE = re.compile(r"\$(\$|\{(\w+)\}|(\w+))")


def split_host_port(target: str) -> tuple[str, str] | None:
    """``host:port`` or ``[v6]:port`` -> (host, port); ``None`` without a port (Go's
    ``net.SplitHostPort`` refuses those too)."""
    if target.startswith("["):
        end = target.find("]")
        if end < 0 or target[end + 1 : end + 2] != ":":
            return None
        return target[1:end], target[end + 2 :]
    host, sep, port = target.rpartition(":")
    if not sep or ":" in host:
        return None
    return host, port


def expand(template: str, match: re.Match[str] | Any) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``; ``$$`` is a dollar."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) == "$":
            return "$"
        name = m.group(2) or m.group(3)
        try:
            value = match.group(int(name)) if name.isdigit() else match.group(name)
        except (IndexError, re.error):
            return ""
        return value or ""

    return _TEMPLATE.sub(one, template)


async def probe_tcp(result: ProbeResult, target: str, module: Module, timeout_s: float) -> bool:
    """Probe ``target`` (``host:port``)."""
    cfg = module.tcp
    regex_gauge = result.gauge(
        "probe_failed_due_to_regex", "Indicates if probe failed due to regex"
    )
    parts = split_host_port(target)
    if parts is None:
        result.error(
            "Error splitting target address and port",
            err=f"address {target}: missing port in address",
        )
        return False
    host, port = parts
    address, _ = await choose_address(
        result, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback
    )
    if address is None:
        result.error("Error resolving address")
        return False
    ctx = client_context(cfg.tls_config)
    server_name = cfg.tls_config.server_name or host
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(
                address,
                int(port),
                ssl=ctx if cfg.tls else None,
                server_hostname=server_name if cfg.tls else None,
                local_addr=(cfg.source_ip_address, 0) if cfg.source_ip_address else None,
                limit=MAX_LINE,
            )
    except (OSError, ssl.SSLError, TimeoutError, ValueError) as exc:
        result.error("Error dialing TCP", err=str(exc) or type(exc).__name__)
        return False
    result.info("Successfully dialed")
    try:
        if cfg.tls:
            record_tls(result, peer_tls(writer.get_extra_info("ssl_object"), ctx))
        async with asyncio.timeout(timeout_s):
            for i, step in enumerate(cfg.query_response):
                result.info("Processing query response entry", entry_number=i)
                send = step.send
                if step.expect is not None:
                    match = None
                    while match is None:
                        line = await reader.readline()
                        if not line:
                            break
                        text = line.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
                        match = step.expect.compiled.search(text)
                    if match is None:
                        regex_gauge.set(1)
                        result.error("Regexp did not match", regexp=step.expect.text)
                        return False
                    regex_gauge.set(0)
                    send = expand(send, match)
                if send:
                    writer.write(send.encode() + b"\n")
                    await writer.drain()
                if step.starttls:
                    await writer.start_tls(ctx, server_hostname=cfg.tls_config.server_name or host)
                    result.info("TLS Handshake (client) succeeded.")
                    record_tls(result, peer_tls(writer.get_extra_info("ssl_object"), ctx))
    except (OSError, ssl.SSLError, TimeoutError, ValueError) as exc:
        result.error("Error reading from connection", err=str(exc) or type(exc).__name__)
        return False
    finally:
        writer.close()
    return True


__all__ = ["expand", "probe_tcp", "split_host_port"]
