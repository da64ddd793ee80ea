"""The temporary expander handles $labels, $value and $externalLabels, and refuses the rest."""

from __future__ import annotations

import pytest

from spyglass.core.errors import SpyglassError
from spyglass.rules import plain_expand


def expand(text: str, value: float = 0.0) -> str:
    return plain_expand(
        text,
        name="A",
        labels={"instance": "a:1", "job": "api"},
        value=value,
        external_labels={"cluster": "eu-1"},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ $labels.instance }} down", "a:1 down"),
        ("{{$labels.instance}}/{{   $labels.job   }}", "a:1/api"),
        ("on {{ $externalLabels.cluster }}", "on eu-1"),
        ("[{{ $labels.missing }}]", "[]"),
        ("a   {{- $labels.job -}}   b", "aapib"),
        ("no template", "no template"),
        ("{{\n$value\n}}", "0"),
    ],
)
def test_supported_actions(text: str, expected: str) -> None:
    assert expand(text) == expected


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (0.0, "0"),
        (1.0, "1"),
        (0.5, "0.5"),
        (1234567.0, "1234567"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (0.9499999999999998, "0.9499999999999998"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_value_prints_as_go_prints_a_float(value: float, printed: str) -> None:
    assert expand("{{ $value }}", value) == printed


@pytest.mark.parametrize(
    "text",
    [
        "{{ $value | humanizePercentage }}",
        "{{ .Labels.instance }}",
        "{{ if gt $value 1.0 }}x{{ end }}",
        "{{ $labels.instance",
        '{{ index $labels "ins-tance" }}',
    ],
)
def test_anything_else_is_an_error(text: str) -> None:
    with pytest.raises(SpyglassError):
        expand(text)
