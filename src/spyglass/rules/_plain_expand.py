"""TEMPORARY stand-in for the Go-template engine, until ``spyglass.core.template`` lands.

It expands only the three actions most alert templates start with, with any spacing and Go's
``{{-``/``-}}`` trim markers:

* ``{{ $labels.name }}``: the alert's label (``""`` when absent, as Prometheus' ``missingkey=zero``)
* ``{{ $value }}``: the sample value, printed as Go's ``fmt`` prints a float64
* ``{{ $externalLabels.name }}``: an external label

Anything else (pipelines such as ``{{ $value | humanizePercentage }}``, ``{{ if }}``, functions)
raises ``BadInput``; the rule then keeps the raw text and reports the error, exactly as it does
for a real template error. ``spyglass test rules`` uses this until the CLI switches to the real
engine; nothing else should.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

from spyglass.core.errors import BadInput
from spyglass.rules._template import QuerySample

_ACTION = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.DOTALL)
_LABEL = re.compile(r"^\$(labels|externalLabels)\.([A-Za-z_][A-Za-z0-9_]*)$")


def plain_expand(
    text: str,
    *,
    name: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str] | None = None,
    external_url: str = "",
    timestamp_ms: int = 0,
    query: Callable[[str], Sequence[QuerySample]] | None = None,
) -> str:
    """Expand ``text``; raises ``BadInput`` for anything but the three supported actions."""
    del external_url, timestamp_ms, query  # accepted for the expander's signature only
    out: list[str] = []
    pos = 0
    for m in _ACTION.finditer(text):
        before = text[pos : m.start()]
        if "{{" in before:
            raise BadInput(f"template: __alert_{name}: unclosed action")
        if m.group(1):
            before = before.rstrip()
        out.append(before)
        out.append(_action(m.group(2), name, labels, value, external_labels or {}))
        pos = m.end()
        if m.group(3):
            while pos < len(text) and text[pos].isspace():
                pos += 1
    rest = text[pos:]
    if "{{" in rest:
        raise BadInput(f"template: __alert_{name}: unclosed action")
    out.append(rest)
    return "".join(out)


def _action(
    body: str,
    name: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str],
) -> str:
    if body == "$value":
        return go_float(value)
    m = _LABEL.match(body)
    if m is not None:
        source = labels if m.group(1) == "labels" else external_labels
        return source.get(m.group(2), "")
    raise BadInput(
        f"template: __alert_{name}: {{{{ {body} }}}} is not supported yet: this Spyglass expands "
        "only {{ $labels.<name> }}, {{ $value }} and {{ $externalLabels.<name> }}"
    )


def go_float(value: float) -> str:
    """A float64 as Go's ``fmt`` prints it with ``%v``: shortest digits, exponent past 1e21."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits, exponent = _shortest(value)
    sign = "-" if value < 0 else ""
    if exponent < -4 or exponent >= 21:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    frac = digits[exponent + 1 :]
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def _shortest(value: float) -> tuple[str, int]:
    """The shortest round-tripping decimal digits of ``|value|`` and its decimal exponent."""
    text = repr(abs(value))
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    exponent = (int(exp) if exp else 0) + len(whole) - 1
    if whole == "0":
        stripped = frac.lstrip("0")
        exponent = (int(exp) if exp else 0) - (len(frac) - len(stripped)) - 1
        digits = stripped
    return digits.rstrip("0") or "0", exponent


__all__ = ["go_float", "plain_expand"]
