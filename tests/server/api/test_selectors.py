"""match[] selectors: parsed with the PromQL grammar into matchers; anything else is bad_data."""

from __future__ import annotations

import pytest

from spyglass.core.errors import ParseError
from spyglass.core.matchers import MatchOp
from spyglass.server.api._selectors import parse_selector


def test_name_and_all_matcher_kinds() -> None:
    ms = parse_selector('http_requests_total{job="api", code!="200", path=~"/a.*", m!~"GET|PUT"}')
    got = {(m.name, m.op, m.value) for m in ms}
    assert got == {
        ("__name__", MatchOp.EQUAL, "http_requests_total"),
        ("job", MatchOp.EQUAL, "api"),
        ("code", MatchOp.NOT_EQUAL, "200"),
        ("path", MatchOp.REGEX, "/a.*"),
        ("m", MatchOp.NOT_REGEX, "GET|PUT"),
    }


@pytest.mark.parametrize(
    "text", ['{job=""}', '{job=~".*"}', "rate(x[5m])", "up{", "1 + 1", "x[5m]"]
)
def test_non_selectors_and_empty_matching_selectors_are_refused(text: str) -> None:
    with pytest.raises(ParseError):
        parse_selector(text)
