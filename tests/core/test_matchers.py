"""Matchers follow Prometheus: anchored regexes, missing label equals the empty value."""

import pytest

from spyglass.core.errors import BadInput
from spyglass.core.labels import labels_of
from spyglass.core.matchers import Matcher, MatchOp

SERIES = labels_of({"__name__": "http_requests_total", "method": "GET", "code": "200"})


@pytest.mark.parametrize(
    ("name", "op", "value", "expected"),
    [
        ("method", "=", "GET", True),
        ("method", "!=", "GET", False),
        ("method", "=~", "G.*", True),
        ("method", "=~", "ET", False),  # anchored: a substring is not a match
        ("method", "!~", "POST|PUT", True),
        ("missing", "=", "", True),  # absent label behaves as ""
        ("missing", "!=", "", False),
        ("missing", "=~", ".*", True),
        ("missing", "=~", ".+", False),
        ("code", "=~", "2..", True),
        ("code", "=~", "2..|5..", True),
    ],
)
def test_matching(name: str, op: str, value: str, expected: bool) -> None:
    assert Matcher.of(name, op, value).matches(SERIES) is expected


def test_regex_dot_matches_newline_like_re2_s_flag() -> None:
    assert Matcher.of("a", MatchOp.REGEX, "x.y").matches(labels_of({"a": "x\ny"}))


def test_invalid_regex_is_bad_input() -> None:
    with pytest.raises(BadInput, match="invalid regular expression"):
        Matcher.of("a", "=~", "(")


def test_str_is_promql_syntax() -> None:
    assert str(Matcher.of("path", "=~", '/a"b')) == 'path=~"/a\\"b"'


def test_a_regex_is_anchored_at_the_very_end_as_re2_anchors_it() -> None:
    """Python's ``$`` also matches before a final newline; Prometheus' RE2 anchor does not."""
    matcher = Matcher.of("job", "=~", "api")
    assert matcher.matches_value("api")
    assert not matcher.matches_value("api\n")
