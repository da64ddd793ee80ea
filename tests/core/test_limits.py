"""Every ingest protocol refuses the same bad series with a limit-naming error."""

import pytest

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.labels import labels_of
from spyglass.core.limits import IngestLimits, check_series, check_series_count

LIMITS = IngestLimits(
    max_labels_per_series=3,
    max_label_name_length=8,
    max_label_value_length=5,
    max_series_per_request=2,
)


def test_good_series_passes() -> None:
    check_series(labels_of({"__name__": "up", "job": "api"}), LIMITS)


@pytest.mark.parametrize(
    ("labels", "limit"),
    [
        ({"__name__": "x", "a": "1", "b": "2", "c": "3"}, "max_labels_per_series"),
        ({"__name__": "x", "abcdefghi": "1"}, "max_label_name_length"),
        ({"__name__": "x", "a": "123456"}, "max_label_value_length"),
    ],
)
def test_limits_are_named(labels: dict[str, str], limit: str) -> None:
    with pytest.raises(LimitExceeded) as err:
        check_series(labels_of(labels), LIMITS)
    assert err.value.limit == limit
    assert limit in str(err.value)


def test_missing_name_and_bad_label_names_are_bad_input() -> None:
    with pytest.raises(BadInput, match="no metric name"):
        check_series(labels_of({"job": "x"}), LIMITS)
    with pytest.raises(BadInput, match="invalid label name"):
        check_series(labels_of({"__name__": "x", "1a": "y"}), LIMITS)


def test_series_count() -> None:
    check_series_count(2, LIMITS)
    with pytest.raises(LimitExceeded, match="max_series_per_request"):
        check_series_count(3, LIMITS)
