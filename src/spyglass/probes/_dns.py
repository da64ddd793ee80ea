"""The DNS prober: one query to the target server, judged by rcode and record regexes.

As the blackbox exporter: the target is the server (``host[:port]``, port 53, or 853 for DNS
over TLS), the module names the query; success needs a response, a valid rcode (NOERROR
unless ``valid_rcodes`` says otherwise) and records that pass ``validate_*_rrs``. Each record is
matched in the text form Go's DNS library prints (``name.<TAB>ttl<TAB>class<TAB>type<TAB>data``),
so regexes written for the exporter match the same records.
"""

from __future__ import annotations

import time

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from spyglass.probes._config import Module, RRValidator
from spyglass.probes._resolve import choose_address
from spyglass.probes._result import ProbeResult
from spyglass.probes._tcp import split_host_port
from spyglass.probes._tls import client_context


def rr_texts(rrsets: list[dns.rrset.RRset]) -> list[str]:
    """Each record as Go's ``dns.RR.String()`` prints it."""
    out = []
    for rrset in rrsets:
        klass = dns.rdataclass.to_text(rrset.rdclass)
        kind = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            out.append(f"{rrset.name.to_text()}\t{rrset.ttl}\t{klass}\t{kind}\t{rdata.to_text()}")
    return out


def valid_rrs(records: list[str], v: RRValidator, result: ProbeResult) -> bool:
    """The exporter's four record checks, in its order."""
    if not records and v.fail_if_not_matches_regexp:
        result.error("fail_if_not_matches_regexp specified but no RRs returned")
        return False
    if not records and v.fail_if_none_matches_regexp:
        result.error("fail_if_none_matches_regexp specified but no RRs returned")
        return False
    any_match, all_match = False, True
    for rr in records:
        for rx in v.fail_if_matches_regexp:
            if rx.search(rr):
                result.error("At least one RR matched regexp", regexp=rx.text, rr=rr)
                return False
        for rx in v.fail_if_all_match_regexp:
            if not rx.search(rr):
                all_match = False
        for rx in v.fail_if_not_matches_regexp:
            if not rx.search(rr):
                result.error("At least one RR did not match regexp", regexp=rx.text, rr=rr)
                return False
        for rx in v.fail_if_none_matches_regexp:
            if rx.search(rr):
                any_match = True
    if v.fail_if_all_match_regexp and not all_match:
        result.error("Not all RRs matched regexp")
        return False
    if v.fail_if_none_matches_regexp and not any_match:
        result.error("None of the RRs did matched any regexp")
        return False
    return True


async def probe_dns(result: ProbeResult, target: str, module: Module, timeout_s: float) -> bool:
    """Query the server ``target`` as ``module.dns`` says."""
    cfg = module.dns
    durations = result.gauge(
        "probe_dns_duration_seconds", "Duration of DNS request by phase", plain=False
    )
    answer = result.gauge(
        "probe_dns_answer_rrs", "Returns number of entries in the answer resource record list"
    )
    authority = result.gauge(
        "probe_dns_authority_rrs", "Returns number of entries in the authority resource record list"
    )
    additional = result.gauge(
        "probe_dns_additional_rrs",
        "Returns number of entries in the additional resource record list",
    )
    succeeded = result.gauge(
        "probe_dns_query_succeeded", "Displays whether or not the query was executed successfully"
    )
    for phase in ("resolve", "connect", "request"):
        durations.touch((("phase", phase),))
    parts = split_host_port(target)
    host, port = parts if parts is not None else (target, "853" if cfg.dns_over_tls else "53")
    address, lookup = await choose_address(
        result, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback
    )
    if address is None:
        result.error("Error resolving address")
        return False
    durations.add(lookup, (("phase", "resolve"),))
    query = dns.message.make_query(
        cfg.query_name,
        dns.rdatatype.from_text(cfg.query_type),
        dns.rdataclass.from_text(cfg.query_class),
    )
    if not cfg.recursion_desired:
        query.flags &= ~dns.flags.RD
    result.info("Making DNS query", target=f"{address}:{port}", query=cfg.query_name,
                type=cfg.query_type, klass=cfg.query_class)  # fmt: skip
    source = cfg.source_ip_address or None
    start = time.perf_counter()
    try:
        if cfg.dns_over_tls:
            response = await dns.asyncquery.tls(
                query, address, timeout=timeout_s, port=int(port), source=source,
                ssl_context=client_context(cfg.tls_config),
                server_hostname=cfg.tls_config.server_name or host,
            )  # fmt: skip
        elif cfg.transport_protocol == "tcp":
            response = await dns.asyncquery.tcp(
                query, address, timeout=timeout_s, port=int(port), source=source
            )
        else:
            response = await dns.asyncquery.udp(
                query, address, timeout=timeout_s, port=int(port), source=source
            )
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        total = time.perf_counter() - start
        durations.set(total, (("phase", "connect"),))
        result.error("Error while sending a DNS query", err=str(exc) or type(exc).__name__)
        return False
    total = time.perf_counter() - start
    rtt = min(float(getattr(response, "time", total) or total), total)
    durations.set(total - rtt, (("phase", "connect"),))
    durations.set(rtt, (("phase", "request"),))
    answer.set(sum(len(r) for r in response.answer))
    authority.set(sum(len(r) for r in response.authority))
    additional.set(sum(len(r) for r in response.additional))
    succeeded.set(1)
    if cfg.query_type == "SOA":
        serial = result.gauge("probe_dns_serial", "Returns the serial number of the zone")
        for rrset in response.answer:
            for rdata in rrset:
                if rrset.rdtype == dns.rdatatype.SOA:
                    serial.set(rdata.serial)
    rcode = dns.rcode.to_text(response.rcode())
    if rcode not in cfg.valid_rcodes:
        result.error("Rcode is not one of the valid rcodes", string_rcode=rcode)
        return False
    result.info("Rcode is valid", string_rcode=rcode)
    checks = (
        (response.answer, cfg.validate_answer_rrs, "Answer"),
        (response.authority, cfg.validate_authority_rrs, "Authority"),
        (response.additional, cfg.validate_additional_rrs, "Additional"),
    )
    for section, validator, name in checks:
        result.info(f"Validating {name} RRs")
        if not valid_rrs(rr_texts(section), validator, result):
            result.error(f"{name} RRs validation failed")
            return False
    return True


__all__ = ["probe_dns", "rr_texts", "valid_rrs"]
