"""Reading probes files: the blackbox exporter's modules with its defaults, Spyglass's schedule,
and errors that name file, line and field."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ConfigError
from spyglass.probes import builtin_config, load_probes_config, load_probes_config_file


def test_modules_take_the_exporters_defaults() -> None:
    config = load_probes_config(
        "modules:\n  web: {prober: http}\n  dns: {prober: dns, dns: {query_name: x.test}}\n"
    )
    web, dns = config.modules["web"], config.modules["dns"]
    assert web.http.method == "GET"
    assert web.http.preferred_ip_protocol == "ip6"
    assert web.http.ip_protocol_fallback
    assert web.http.follow_redirects
    assert web.http.valid_status_codes == ()
    assert (dns.dns.query_type, dns.dns.query_class, dns.dns.valid_rcodes) == (
        "ANY",
        "IN",
        ("NOERROR",),
    )
    assert dns.dns.recursion_desired
    assert dns.dns.transport_protocol == "udp"


def test_no_follow_redirects_still_reads() -> None:
    config = load_probes_config(
        "modules:\n  m: {prober: http, http: {no_follow_redirects: true}}\n"
    )
    assert not config.modules["m"].http.follow_redirects


def test_scheduled_probes() -> None:
    config = load_probes_config(
        "modules:\n  web: {prober: http}\n"
        "probes:\n  - name: site\n    module: web\n    interval: 15s\n"
        "    targets: [http://a, http://b]\n    labels: {team: web}\n"
    )
    (p,) = config.probes
    assert (p.name, p.module, p.targets, p.interval_ms, p.labels) == (
        "site",
        "web",
        ("http://a", "http://b"),
        15_000,
        (("team", "web"),),
    )


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (
            "modules:\n  m:\n    prober: http\n    htp: {}\n",
            4,
            "modules.m.htp",
            "field htp not found",
        ),
        ("modules:\n  m:\n    prober: smtp\n", 3, "modules.m.prober", "unknown prober"),
        ("modules:\n  m:\n    prober: icmp\n", 3, "modules.m.prober", "not supported"),
        (
            "modules:\n  m:\n    prober: dns\n    dns: {query_type: A}\n",
            4,
            "modules.m.dns.query_name",
            "query name must be set",
        ),
        (
            "modules:\n  m:\n    prober: dns\n    dns:\n"
            "      query_name: a\n      query_type: AXFRR\n",
            6,
            "modules.m.dns.query_type",
            "is not valid",
        ),
        (
            "modules:\n  m:\n    prober: http\n    http:\n"
            "      fail_if_body_matches_regexp: ['(']\n",
            5,
            "modules.m.http.fail_if_body_matches_regexp[0]",
            "Could not compile",
        ),
        ("modules:\n  m:\n    prober: http\n    timeout: 5 seconds\n", 4, "modules.m.timeout", ""),
        (
            "modules:\n  m: {prober: http}\nprobes:\n"
            "  - name: a\n    module: n\n    targets: [x]\n",
            5,
            "probes[0].module",
            "unknown module",
        ),
        (
            "modules:\n  m: {prober: http}\nprobes:\n  - name: a\n    module: m\n",
            4,
            "probes[0].targets",
            "at least one target",
        ),
    ],
)
def test_errors_name_file_line_and_field(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_probes_config(text, "probes.yml")
    assert (err.value.file, err.value.line, err.value.field) == ("probes.yml", line, field)
    assert words in err.value.message


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="error reading config file"):
        load_probes_config_file(tmp_path / "nope.yml")


def test_builtin_modules_are_the_exporters_examples() -> None:
    assert {"http_2xx", "http_post_2xx", "tcp_connect", "ssh_banner"} <= set(
        builtin_config().modules
    )


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 99), st.text(max_size=8))
_keys = st.sampled_from(
    [
        "prober",
        "http",
        "tcp",
        "dns",
        "timeout",
        "method",
        "query_name",
        "valid_status_codes",
        "headers",
        "tls_config",
        "query_response",
        "x",
    ]
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["modules", "probes", "other"]),
        st.dictionaries(st.text(max_size=5), _values, max_size=3),
        max_size=2,
    )
)
def test_any_document_loads_or_fails_with_a_config_error(doc: dict[str, object]) -> None:
    """Whatever the file holds, reading it returns a config or raises ConfigError, nothing else."""
    with contextlib.suppress(ConfigError):
        load_probes_config(yaml.safe_dump(doc), "p.yml")
