"""A target's status says what failed it: the first error line of its last run, from ``msg=``
on, as a status page shows it; nothing when the run succeeded."""

from __future__ import annotations

from spyglass.probes import TargetStatus

FAILED_RUN = [
    'ts=2026-12-07T13:00:00Z module=http_2xx target=http://a/ level=info msg="Making HTTP request"',
    'ts=2026-12-07T13:00:00Z module=http_2xx target=http://a/ level=error msg="Error for HTTP '
    'request" err="connection refused"',
    'ts=2026-12-07T13:00:00Z module=http_2xx target=http://a/ level=error msg="Probe failed"',
]


def test_the_first_error_of_a_failed_run_not_the_closing_probe_failed() -> None:
    status = TargetStatus("site", "http_2xx", "http://a/", success=False, log=FAILED_RUN)
    assert status.last_error == 'msg="Error for HTTP request" err="connection refused"'


def test_a_successful_run_has_no_error() -> None:
    status = TargetStatus("site", "http_2xx", "http://a/", success=True, log=FAILED_RUN)
    assert status.last_error == ""


def test_a_failed_run_without_error_lines_has_none() -> None:
    status = TargetStatus("site", "http_2xx", "http://a/", success=False, log=FAILED_RUN[:1])
    assert status.last_error == ""
