"""Label sets: canonical order, Prometheus' empty-value rule, stable fingerprints."""

from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.labels import fingerprint, format_labels, get, labels_of, metric_name, without

names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
label_dicts = st.dictionaries(names, st.text(max_size=20), max_size=8)


def test_labels_are_sorted_and_empty_values_dropped() -> None:
    ls = labels_of({"job": "api", "__name__": "up", "env": ""})
    assert ls == (("__name__", "up"), ("job", "api"))
    assert metric_name(ls) == "up"
    assert get(ls, "env") == ""
    assert without(ls, "job") == (("__name__", "up"),)


def test_format_labels_like_prometheus() -> None:
    ls = labels_of({"__name__": "http_requests_total", "path": 'a"b\\c\n'})
    assert format_labels(ls) == 'http_requests_total{path="a\\"b\\\\c\\n"}'
    assert format_labels(labels_of({"a": "1"})) == '{a="1"}'


def test_fingerprint_is_pinned() -> None:
    # Fingerprints are persisted in storage: this value must never change between versions.
    assert fingerprint(labels_of({"__name__": "up", "job": "api"})) == fingerprint(
        (("__name__", "up"), ("job", "api"))
    )
    assert fingerprint((("__name__", "up"),)) == 0x8F839554790B3BB7


@given(label_dicts)
def test_fingerprint_depends_only_on_the_set(d: dict[str, str]) -> None:
    forward = labels_of(d)
    backward = labels_of(list(reversed(list(d.items()))))
    assert forward == backward
    assert fingerprint(forward) == fingerprint(backward)
    assert 0 <= fingerprint(forward) < 2**64


@given(label_dicts, label_dicts)
def test_different_sets_have_different_fingerprints(a: dict[str, str], b: dict[str, str]) -> None:
    if labels_of(a) != labels_of(b):
        assert fingerprint(labels_of(a)) != fingerprint(labels_of(b))


def test_separator_makes_boundaries_unambiguous() -> None:
    assert fingerprint((("a", "bc"),)) != fingerprint((("ab", "c"),))
