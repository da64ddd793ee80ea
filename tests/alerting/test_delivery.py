"""What every notifier shares: registration, truncation, HTTP answers, secrets kept out of logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting import SENDER_BUILDERS, NotifyError
from spyglass.alerting._delivery import (
    REDACTED,
    check_status,
    redact_in_logs,
    truncate_runes,
    url_secrets,
)


def test_importing_spyglass_alerting_registers_the_four_notifiers_without_apprise() -> None:
    # A fresh interpreter: this test process may have imported Apprise already.
    code = (
        "import json, sys, spyglass.alerting as a;"
        "print(json.dumps([sorted(a.SENDER_BUILDERS), 'apprise' in sys.modules]))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    keys, apprise_imported = json.loads(run.stdout)
    assert {"email_configs", "slack_configs", "pagerduty_configs", "apprise_configs"} <= set(keys)
    assert not apprise_imported
    assert set(keys) <= SENDER_BUILDERS.keys()


@pytest.mark.parametrize(
    ("text", "limit", "expected", "cut"),
    [
        ("short", 10, "short", False),
        ("exactly10!", 10, "exactly10!", False),
        ("eleven chars", 10, "eleven ch…", True),
        ("ééééé", 3, "ééé", True),
    ],
)
def test_truncation_as_alertmanager_cuts(text: str, limit: int, expected: str, cut: bool) -> None:
    assert truncate_runes(text, limit) == (expected, cut)


@given(st.text(max_size=50), st.integers(1, 60))
def test_a_cut_text_is_never_longer_than_its_limit(text: str, limit: int) -> None:
    out, cut = truncate_runes(text, limit)
    assert len(out) <= limit
    assert cut == (len(text) > limit)


@pytest.mark.parametrize(
    ("status", "retry", "reason"),
    [
        (500, True, "serverError"),
        (503, True, "serverError"),
        (429, False, "rateLimited"),
        (401, False, "authError"),
        (404, False, "clientError"),
    ],
)
def test_a_non_2xx_answer_fails_and_5xx_is_retried(status: int, retry: bool, reason: str) -> None:
    with pytest.raises(NotifyError, match=f"unexpected status code {status}: nope") as info:
        check_status("x", httpx.Response(status, content=b"nope"))
    assert (info.value.retry, info.value.reason) == (retry, reason)


def test_extra_retry_codes_are_retried() -> None:
    with pytest.raises(NotifyError) as info:
        check_status("x", httpx.Response(429), retry_codes=(429,))
    assert info.value.retry


def test_a_2xx_answer_passes() -> None:
    check_status("x", httpx.Response(202))


def test_a_redacted_url_is_replaced_in_httpx_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    redact_in_logs("https://hooks.example.com/services/T1/B2/SECRETSECRET")
    with caplog.at_level(logging.INFO):
        logging.getLogger("httpx").info(
            "HTTP Request: POST %s", "https://hooks.example.com/services/T1/B2/SECRETSECRET"
        )
    [record] = caplog.records
    assert "SECRETSECRET" not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_url_secrets_keep_the_scheme_host_and_port_readable() -> None:
    found = url_secrets("https://user:pa%24%24@hooks.example.com:8443/services/T1/XYZSECRET?k=v")
    assert {"user", "pa$$", "pa%24%24", "XYZSECRET", "services"} <= found
    assert not found & {"https", "hooks.example.com", "8443"}
