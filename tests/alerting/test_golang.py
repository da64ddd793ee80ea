"""The Go spellings Alertmanager's formats depend on, read and written as Go does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting._golang import (
    Regex,
    canonical_header,
    format_duration_ns,
    parse_duration_ns,
    parse_http_url,
    quote,
    split_host_port,
    unquote,
)
from spyglass.core.errors import BadInput


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("tab\there\nnew", '"tab\\there\\nnew"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("Île 🙂", '"Île 🙂"'),
        ("\u00a0\u200b", '"\\u00a0\\u200b"'),
    ],
)
def test_quote_is_strconv_quote(text: str, quoted: str) -> None:
    assert quote(text) == quoted
    assert unquote(quoted) == text


@given(st.text(max_size=30))
def test_unquote_reverses_quote(text: str) -> None:
    assert unquote(quote(text)) == text


@pytest.mark.parametrize("bad", ['"\\q"', '"a\nb"', '"\\xff"', '"unterminated', '"\\400"', "'x'"])
def test_unquote_rejects_what_go_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        unquote(bad)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("10s", 10_000_000_000),
        ("1h30m", 5_400_000_000_000),
        ("1.5s", 1_500_000_000),
        ("300ms", 300_000_000),
        ("-2m", -120_000_000_000),
        ("1\u00b5s", 1000),
    ],
)
def test_go_durations(text: str, ns: int) -> None:
    assert parse_duration_ns(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10", 'time: missing unit in duration "10"'),
        ("5d", 'time: unknown unit "d" in duration "5d"'),
        ("", 'time: invalid duration ""'),
        (".s", 'time: invalid duration ".s"'),
    ],
)
def test_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_duration_ns(text)
    assert str(info.value) == message


def test_duration_printing() -> None:
    assert format_duration_ns(30_000_000_000) == "30s"
    assert format_duration_ns(300_000_000_000) == "5m0s"
    assert format_duration_ns(4 * 3_600_000_000_000) == "4h0m0s"
    assert format_duration_ns(1_500_000) == "1.5ms"


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("localhost:25", ("localhost", "25")),
        (":25", ("", "25")),
        ("[fd12::1]:587", ("fd12::1", "587")),
        ("localhost:", ("localhost", "")),
    ],
)
def test_split_host_port(text: str, result: tuple[str, str]) -> None:
    assert split_host_port(text) == result


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("localhost", "address localhost: missing port in address"),
        ("a:b:c", "address a:b:c: too many colons in address"),
    ],
)
def test_split_host_port_errors(text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        split_host_port(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hooks.slack.com/services/x", 'unsupported scheme "" for URL'),
        ("${SLACK_WEBHOOK_URL}", 'unsupported scheme "" for URL'),
        ("ftp://example.com", 'unsupported scheme "ftp" for URL'),
        ("http:example.com", "missing host for URL"),
        ("://x", 'parse "://x": missing protocol scheme'),
        ("http://x/%zz", 'parse "http://x/%zz": invalid URL escape "%zz"'),
        ("http://x:port/", 'parse "http://x:port/": invalid port ":port" after host'),
    ],
)
def test_url_errors_are_alertmanagers(text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_http_url(text)
    assert str(info.value) == message


def test_http_urls_parse() -> None:
    assert parse_http_url("https://hooks.slack.com/services/T0/B0/X").hostname == "hooks.slack.com"
    assert parse_http_url("HTTP://[::1]:9093/").scheme == "http"


def test_canonical_mime_header_names() -> None:
    assert canonical_header("subject") == "Subject"
    assert canonical_header("reply-TO") == "Reply-To"
    assert canonical_header("x-custom-thing") == "X-Custom-Thing"
    assert canonical_header("bad header") == "bad header"


def test_regex_errors_are_gos() -> None:
    assert Regex("^(?:a|b)$").search("b")
    with pytest.raises(BadInput) as info:
        Regex("^(?:a**)$")
    assert str(info.value) == "error parsing regexp: invalid nested repetition operator: `**`"
