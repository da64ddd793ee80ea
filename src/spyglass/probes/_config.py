"""The probes file: the blackbox exporter's ``modules:`` plus Spyglass's own ``probes:`` schedule.

``modules`` is read exactly as the blackbox exporter reads its ``blackbox.yml`` (same field names,
defaults and strictness: an unknown field is an error), so an existing file works unchanged for
``/probe?target=&module=``. ``probes`` is Spyglass's addition: which targets to probe with which
module, how often, and with which labels, so probes run without a Prometheus scrape job in front::

    modules:
      http_2xx: {prober: http, timeout: 5s}
    probes:
      - name: website          # the job label of the series written
        module: http_2xx
        interval: 30s          # default 30s
        targets: [https://example.org, https://example.org/health]
        labels: {team: web}

Every error names the file, the line and the field.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spyglass.core.config import Node, load_yaml
from spyglass.core.config.fields import Section, join, resolve
from spyglass.core.errors import ConfigError
from spyglass.core.labels import LABEL_NAME_RE

# google-re2 has no type stubs.
re2: Any = importlib.import_module("re2")

PROBERS = ("http", "tcp", "dns")
DEFAULT_INTERVAL_MS = 30_000
DEFAULT_MODULE = "http_2xx"
# Go's dns.StringToType / StringToClass / StringToRcode entries users write in blackbox.yml.
DNS_TYPES = (
    "A", "AAAA", "ANY", "CAA", "CNAME", "DNSKEY", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR",
    "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT",
)  # fmt: skip
DNS_CLASSES = ("IN", "CS", "CH", "HS", "NONE", "ANY")
DNS_RCODES = (
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE", "BADSIG", "BADVERS", "BADKEY", "BADTIME", "BADMODE",
    "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
)  # fmt: skip

_MODULE_FIELDS = ("prober", "timeout", "http", "tcp", "icmp", "dns", "grpc")
_TLS_FIELDS = ("ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify",
               "min_version", "max_version")  # fmt: skip
_HTTP_CLIENT_FIELDS = ("basic_auth", "bearer_token", "bearer_token_file", "authorization",
                       "tls_config", "proxy_url", "follow_redirects", "enable_http2")  # fmt: skip
_HTTP_FIELDS = (
    "valid_status_codes", "valid_http_versions", "preferred_ip_protocol", "ip_protocol_fallback",
    "skip_resolve_phase_with_proxy", "no_follow_redirects", "fail_if_ssl", "fail_if_not_ssl",
    "method", "headers", "fail_if_body_matches_regexp", "fail_if_body_not_matches_regexp",
    "fail_if_header_matches", "fail_if_header_not_matches", "body", "compression",
    "body_size_limit", *_HTTP_CLIENT_FIELDS,
)  # fmt: skip
_TCP_FIELDS = ("preferred_ip_protocol", "ip_protocol_fallback", "source_ip_address",
               "query_response", "tls", "tls_config")  # fmt: skip
_DNS_FIELDS = (
    "preferred_ip_protocol", "ip_protocol_fallback", "dns_over_tls", "tls_config",
    "source_ip_address", "transport_protocol", "query_class", "query_name", "query_type",
    "recursion_desired", "valid_rcodes", "validate_answer_rrs", "validate_authority_rrs",
    "validate_additional_rrs",
)  # fmt: skip
_RR_FIELDS = ("fail_if_matches_regexp", "fail_if_all_match_regexp", "fail_if_not_matches_regexp",
              "fail_if_none_matches_regexp")  # fmt: skip
_PROBE_FIELDS = ("name", "module", "interval", "timeout", "targets", "labels")


@dataclass(frozen=True, slots=True)
class Regexp:
    """A Go (RE2) regular expression from the config, kept with its text for messages."""

    text: str
    compiled: Any = field(compare=False)

    def search(self, data: str | bytes) -> bool:
        """Whether it matches anywhere in ``data`` (Go's ``Regexp.Match``)."""
        return self.compiled.search(data) is not None


@dataclass(frozen=True, slots=True)
class TLS:
    """``tls_config`` of a module: what the probe's TLS client applies."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    insecure_skip_verify: bool = False
    min_version: str = ""
    max_version: str = ""


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """``fail_if_header_matches`` / ``fail_if_header_not_matches`` entry."""

    header: str
    regexp: Regexp
    allow_missing: bool = False


@dataclass(frozen=True, slots=True)
class HTTPProbe:
    """``http:`` of a module, with the blackbox exporter's defaults."""

    valid_status_codes: tuple[int, ...] = ()
    valid_http_versions: tuple[str, ...] = ()
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    fail_if_ssl: bool = False
    fail_if_not_ssl: bool = False
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    fail_if_body_matches_regexp: tuple[Regexp, ...] = ()
    fail_if_body_not_matches_regexp: tuple[Regexp, ...] = ()
    fail_if_header_matches: tuple[HeaderMatch, ...] = ()
    fail_if_header_not_matches: tuple[HeaderMatch, ...] = ()
    body: str = ""
    compression: str = ""
    body_size_limit: int = 0
    follow_redirects: bool = True
    basic_auth: tuple[str, str] | None = None
    bearer_token: str = ""
    authorization: tuple[str, str] | None = None  # (type, credentials)
    proxy_url: str = ""
    tls: TLS = TLS()


@dataclass(frozen=True, slots=True)
class QueryResponse:
    """One ``query_response`` step of a TCP module."""

    expect: Regexp | None = None
    send: str = ""
    starttls: bool = False


@dataclass(frozen=True, slots=True)
class TCPProbe:
    """``tcp:`` of a module."""

    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    source_ip_address: str = ""
    query_response: tuple[QueryResponse, ...] = ()
    tls: bool = False
    tls_config: TLS = TLS()


@dataclass(frozen=True, slots=True)
class RRValidator:
    """``validate_*_rrs`` of a DNS module (regexes as text: Go compiles them per probe)."""

    fail_if_matches_regexp: tuple[Regexp, ...] = ()
    fail_if_all_match_regexp: tuple[Regexp, ...] = ()
    fail_if_not_matches_regexp: tuple[Regexp, ...] = ()
    fail_if_none_matches_regexp: tuple[Regexp, ...] = ()


@dataclass(frozen=True, slots=True)
class DNSProbe:
    """``dns:`` of a module."""

    query_name: str = ""
    query_type: str = "ANY"
    query_class: str = "IN"
    preferred_ip_protocol: str = "ip6"
    ip_protocol_fallback: bool = True
    transport_protocol: str = "udp"
    dns_over_tls: bool = False
    tls_config: TLS = TLS()
    source_ip_address: str = ""
    recursion_desired: bool = True
    valid_rcodes: tuple[str, ...] = ("NOERROR",)
    validate_answer_rrs: RRValidator = RRValidator()
    validate_authority_rrs: RRValidator = RRValidator()
    validate_additional_rrs: RRValidator = RRValidator()


@dataclass(frozen=True, slots=True)
class Module:
    """One entry of ``modules:``: a prober and its settings."""

    prober: str
    timeout_ms: int = 0  # 0: the scrape's timeout header (or 120 s) decides
    http: HTTPProbe = HTTPProbe()
    tcp: TCPProbe = TCPProbe()
    dns: DNSProbe = DNSProbe()


@dataclass(frozen=True, slots=True)
class ScheduledProbe:
    """One entry of ``probes:``: targets Spyglass probes on its own, every ``interval_ms``."""

    name: str
    module: str
    targets: tuple[str, ...]
    interval_ms: int = DEFAULT_INTERVAL_MS
    timeout_ms: int = 0  # 0: the module's timeout, else the interval
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ProbesConfig:
    """The whole probes file."""

    modules: dict[str, Module] = field(default_factory=dict)
    probes: tuple[ScheduledProbe, ...] = ()
    file: str = ""


# What /probe offers when no probes file is given: the modules of the exporter's example
# blackbox.yml that need no privileges.
BUILTIN_MODULES = """
modules:
  http_2xx: {prober: http}
  http_post_2xx: {prober: http, http: {method: POST}}
  tcp_connect: {prober: tcp}
  ssh_banner:
    prober: tcp
    tcp: {query_response: [{expect: "^SSH-2.0-"}, {send: "SSH-2.0-blackbox-ssh-check"}]}
"""


def builtin_config() -> ProbesConfig:
    """The modules /probe has without a probes file."""
    return load_probes_config(BUILTIN_MODULES, "<built-in modules>")


def load_probes_config_file(path: str | Path) -> ProbesConfig:
    """Read and check a probes file (a ``blackbox.yml`` is one)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"error reading config file: {exc.strerror}", file=str(p)) from None
    return load_probes_config(text, str(p))


def load_probes_config(text: str, file: str = "") -> ProbesConfig:
    """Parse a probes file's text; errors name ``file``, line and field."""
    root = Section(load_yaml(text, file), "config.plain", "", ("modules", "probes"))
    directory = Path(file).parent if file else None
    modules: dict[str, Module] = {}
    if "modules" in root:
        node = root.at("modules")
        for name, m in Section(node, "map[string]config.Module", "modules").items.items():
            modules[name] = _module(m, join("modules", name), directory)
    probes = tuple(_scheduled(n, f"probes[{i}]", modules) for i, n in enumerate(root.seq("probes")))
    names = [p.name for p in probes]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise root.seq("probes")[i].error(f"probe name {name!r} is used twice", f"probes[{i}]")
    return ProbesConfig(modules=modules, probes=probes, file=file)


def _module(node: Node, path: str, directory: Path | None) -> Module:
    m = Section(node, "config.plain", path, _MODULE_FIELDS)
    prober = m.text("prober")
    if prober in ("icmp", "grpc"):
        raise m.error("prober", f"prober {prober!r} is not supported by Spyglass (http, tcp, dns)")
    if prober not in PROBERS:
        raise m.error("prober", f"unknown prober {prober!r} (http, tcp, dns)")
    for unsupported in ("icmp", "grpc"):
        if unsupported in m:
            raise m.error(unsupported, f"{unsupported} probes are not supported by Spyglass")
    http = _http(m.sub("http", "config.HTTPProbe", _HTTP_FIELDS), directory)
    tcp = _tcp(m.sub("tcp", "config.TCPProbe", _TCP_FIELDS), directory)
    dns = DNSProbe()
    if "dns" in m or prober == "dns":
        dns = _dns(m.sub("dns", "config.DNSProbe", _DNS_FIELDS), directory)
    return Module(prober=prober, timeout_ms=m.dur("timeout"), http=http, tcp=tcp, dns=dns)


def _regexp(node: Node, path: str) -> Regexp:
    text = node.text if not isinstance(node.value, (dict, list)) else ""
    options = re2.Options()
    options.log_errors = False
    try:
        return Regexp(text, re2.compile(text, options))
    except re2.error:
        raise node.error(f'"Could not compile regular expression" regexp="{text}"', path) from None


def _regexps(s: Section, key: str) -> tuple[Regexp, ...]:
    return tuple(_regexp(n, f"{s.p(key)}[{i}]") for i, n in enumerate(s.seq(key)))


def _ip_protocol(s: Section) -> str:
    value = s.text("preferred_ip_protocol")
    return "ip4" if value == "ip4" else "ip6"  # as the exporter: anything but ip4 means ip6


def _tls(s: Section, directory: Path | None) -> TLS:
    if "tls_config" not in s:
        return TLS()
    t = s.sub("tls_config", "config.TLSConfig", _TLS_FIELDS)
    if t.text("cert_file") and not t.text("key_file"):
        raise s.error("tls_config", "exactly one of key or key_file must be configured")
    for key in ("min_version", "max_version"):
        if t.text(key) not in ("", "TLS10", "TLS11", "TLS12", "TLS13"):
            raise t.error(key, f"unknown TLS version: {t.text(key)}")
    return TLS(
        ca_file=resolve(directory, t.text("ca_file")),
        cert_file=resolve(directory, t.text("cert_file")),
        key_file=resolve(directory, t.text("key_file")),
        server_name=t.text("server_name"),
        insecure_skip_verify=t.flag("insecure_skip_verify", False),
        min_version=t.text("min_version"),
        max_version=t.text("max_version"),
    )


def _header_matches(s: Section, key: str) -> tuple[HeaderMatch, ...]:
    out = []
    for i, n in enumerate(s.seq(key)):
        path = f"{s.p(key)}[{i}]"
        h = Section(n, "config.HeaderMatch", path, ("header", "regexp", "allow_missing"))
        if not h.text("header"):
            raise h.error("header", "header name must be set for HTTP header matchers")
        regexp = _regexp(h.at("regexp"), h.p("regexp"))
        out.append(HeaderMatch(h.text("header"), regexp, h.flag("allow_missing", False)))
    return tuple(out)


def _http(s: Section, directory: Path | None) -> HTTPProbe:
    codes = []
    for i, n in enumerate(s.seq("valid_status_codes")):
        if not isinstance(n.value, int) or isinstance(n.value, bool):
            raise n.error("cannot unmarshal !!str into int", f"{s.p('valid_status_codes')}[{i}]")
        codes.append(n.value)
    follow = s.flag("follow_redirects", True)
    if "no_follow_redirects" in s:
        follow = not s.flag("no_follow_redirects", False)
    basic_auth = None
    if "basic_auth" in s:
        b = Section(s.at("basic_auth"), "config.BasicAuth", s.p("basic_auth"),
                    ("username", "password", "password_file"))  # fmt: skip
        password = b.text("password")
        if b.text("password_file"):
            password = _read_secret(b, "password_file", directory)
        basic_auth = (b.text("username"), password)
    authorization = None
    if "authorization" in s:
        a = Section(s.at("authorization"), "config.Authorization", s.p("authorization"),
                    ("type", "credentials", "credentials_file"))  # fmt: skip
        credentials = a.text("credentials")
        if a.text("credentials_file"):
            credentials = _read_secret(a, "credentials_file", directory)
        authorization = (a.text("type") or "Bearer", credentials)
    bearer = s.text("bearer_token")
    if s.text("bearer_token_file"):
        bearer = _read_secret(s, "bearer_token_file", directory)
    if sum(x is not None and x != "" for x in (basic_auth, authorization, bearer)) > 1:
        raise s.error("authorization", "at most one of basic_auth, authorization and bearer_token "
                      "may be configured")  # fmt: skip
    compression = s.text("compression")
    if compression.lower() not in ("", "identity", "gzip", "deflate", "br"):
        raise s.error("compression", f"unsupported compression algorithm {compression!r}")
    limit = s.size("body_size_limit")
    return HTTPProbe(
        valid_status_codes=tuple(codes),
        valid_http_versions=tuple(s.strs("valid_http_versions")),
        preferred_ip_protocol=_ip_protocol(s),
        ip_protocol_fallback=s.flag("ip_protocol_fallback", True),
        fail_if_ssl=s.flag("fail_if_ssl", False),
        fail_if_not_ssl=s.flag("fail_if_not_ssl", False),
        method=s.text("method") or "GET",
        headers=tuple(s.strmap("headers").items()),
        fail_if_body_matches_regexp=_regexps(s, "fail_if_body_matches_regexp"),
        fail_if_body_not_matches_regexp=_regexps(s, "fail_if_body_not_matches_regexp"),
        fail_if_header_matches=_header_matches(s, "fail_if_header_matches"),
        fail_if_header_not_matches=_header_matches(s, "fail_if_header_not_matches"),
        body=s.text("body"),
        compression=compression.lower(),
        body_size_limit=limit,
        follow_redirects=follow,
        basic_auth=basic_auth,
        bearer_token=bearer,
        authorization=authorization,
        proxy_url=s.text("proxy_url"),
        tls=_tls(s, directory),
    )


def _read_secret(s: Section, key: str, directory: Path | None) -> str:
    path = resolve(directory, s.text(key))
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise s.error(key, f"unable to read {path}: {exc.strerror}") from None


def _tcp(s: Section, directory: Path | None) -> TCPProbe:
    steps = []
    for i, n in enumerate(s.seq("query_response")):
        q = Section(n, "config.QueryResponse", f"{s.p('query_response')}[{i}]",
                    ("expect", "send", "starttls"))  # fmt: skip
        expect = _regexp(q.at("expect"), q.p("expect")) if "expect" in q else None
        steps.append(QueryResponse(expect, q.text("send"), q.flag("starttls", False)))
    return TCPProbe(
        preferred_ip_protocol=_ip_protocol(s),
        ip_protocol_fallback=s.flag("ip_protocol_fallback", True),
        source_ip_address=s.text("source_ip_address"),
        query_response=tuple(steps),
        tls=s.flag("tls", False),
        tls_config=_tls(s, directory),
    )


def _rr_validator(s: Section, key: str) -> RRValidator:
    if key not in s:
        return RRValidator()
    v = s.sub(key, "config.DNSRRValidator", _RR_FIELDS)
    return RRValidator(*(_regexps(v, k) for k in _RR_FIELDS))


def _dns(s: Section, directory: Path | None) -> DNSProbe:
    if not s.text("query_name"):
        raise s.error("query_name", "query name must be set for DNS module")
    qclass, qtype = s.text("query_class") or "IN", s.text("query_type") or "ANY"
    if qclass not in DNS_CLASSES:
        raise s.error("query_class", f"query class '{qclass}' is not valid")
    if qtype not in DNS_TYPES:
        raise s.error("query_type", f"query type '{qtype}' is not valid")
    transport = s.text("transport_protocol") or "udp"
    if transport not in ("udp", "tcp"):
        raise s.error("transport_protocol", "expected transport protocol udp or tcp")
    if s.flag("dns_over_tls", False) and transport != "tcp":
        raise s.error("dns_over_tls", "expected transport protocol tcp for DNS over TLS")
    rcodes = tuple(s.strs("valid_rcodes")) if "valid_rcodes" in s else ("NOERROR",)
    for i, code in enumerate(rcodes):
        if code not in DNS_RCODES:
            raise s.error("valid_rcodes", f"invalid rcode {code!r} at [{i}]")
    return DNSProbe(
        query_name=s.text("query_name"),
        query_type=qtype,
        query_class=qclass,
        preferred_ip_protocol=_ip_protocol(s),
        ip_protocol_fallback=s.flag("ip_protocol_fallback", True),
        transport_protocol=transport,
        dns_over_tls=s.flag("dns_over_tls", False),
        tls_config=_tls(s, directory),
        source_ip_address=s.text("source_ip_address"),
        recursion_desired=s.flag("recursion_desired", True),
        valid_rcodes=rcodes,
        validate_answer_rrs=_rr_validator(s, "validate_answer_rrs"),
        validate_authority_rrs=_rr_validator(s, "validate_authority_rrs"),
        validate_additional_rrs=_rr_validator(s, "validate_additional_rrs"),
    )


def _scheduled(node: Node, path: str, modules: dict[str, Module]) -> ScheduledProbe:
    p = Section(node, "config.Probe", path, _PROBE_FIELDS)
    name = p.text("name")
    if not name:
        raise p.error("name", "a probe needs a name (its job label)")
    module = p.text("module") or DEFAULT_MODULE
    if module not in modules:
        raise p.error("module", f"unknown module {module!r}")
    targets = p.strs("targets")
    if not targets:
        raise p.error("targets", "a probe needs at least one target")
    interval = p.dur("interval") or DEFAULT_INTERVAL_MS
    labels = p.strmap("labels")
    for label in labels:
        if not LABEL_NAME_RE.match(label) or label.startswith("__"):
            raise p.error("labels", f"invalid label name {label!r}")
    return ScheduledProbe(
        name=name,
        module=module,
        targets=tuple(targets),
        interval_ms=interval,
        timeout_ms=p.dur("timeout"),
        labels=tuple(sorted(labels.items())),
    )


__all__ = [
    "BUILTIN_MODULES",
    "DEFAULT_MODULE",
    "TLS",
    "DNSProbe",
    "HTTPProbe",
    "HeaderMatch",
    "Module",
    "ProbesConfig",
    "QueryResponse",
    "RRValidator",
    "Regexp",
    "ScheduledProbe",
    "TCPProbe",
    "load_probes_config",
    "load_probes_config_file",
]
