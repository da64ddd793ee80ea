"""Go's value printing: what ``{{ . }}``, ``print`` and ``printf`` write.

Expected strings are Go's ``fmt`` output for the same operands (go1.19 ``fmt.Sprintf``), the
rules users meet when a rule annotation prints ``{{ $value }}`` or ``{{ printf "%.2f" $value }}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest

from spyglass.core.template import GoDuration, Template, TemplateError
from spyglass.core.template._printing import format_float, go_quote, sprint, sprintf, sprintln


@dataclass
class S:
    name: str
    value: int

    __go_fields__: ClassVar[dict[str, str]] = {"Name": "name", "Value": "value"}


SPRINTF = [
    (
        "%v|%v|%v|%v|%v|%v|%v|%v",
        (3.0, 1e6, 1.5e-7, 100000.0, 0.1, 1e21, 123456789.0, 0.00001),
        "3|1e+06|1.5e-07|100000|0.1|1e+21|1.23456789e+08|1e-05",
    ),
    ("%v|%v|%v|%v", (math.inf, -math.inf, math.nan, 0.0), "+Inf|-Inf|NaN|0"),
    (
        "%5.1f|%-8.3f|%08.3f|%+.2e|%.0f|%.1f|%.3g|%g|%G|%e",
        (99.5, 3.14159, -3.14159, 12345.678, 2.5, 0.05, 1234.5678, 1e-7, 1e21, 0.0),
        " 99.5|3.142   |-003.142|+1.23e+04|2|0.1|1.23e+03|1e-07|1E+21|0.000000e+00",
    ),
    (
        "%d|%5d|%-5d|%05d|%+d|% d|%x|%X|%#x|%o|%#o|%O|%b|%c|%q|%U|%#U|%.3d",
        (42, 42, 42, -42, 42, 42, 255, 255, 255, 8, 8, 8, 5, 0x4E16, ord("x"), 0x1F600, 233, 7),
        "42|   42|42   |-0042|+42| 42|ff|FF|0xff|10|010|0o10|101|世|'x'|U+1F600|U+00E9 'é'|007",
    ),
    (
        "%s|%10s|%-10s|%.2s|%q|%#q|%+q|%x|% x|%X",
        ("hi", "hi", "hi", "héllo", 'a"b\n', "raw", "é", "hi", "hi", "hi"),
        'hi|        hi|hi        |hé|"a\\"b\\n"|`raw`|"\\u00e9"|6869|68 69|6869',
    ),
    (
        "%v|%+v|%v|%v|%d|%s",
        (S("a", 1), S("a", 1), [1, "a", None, 2.5], {"b": 1, "a": [1]}, [1, 2], ["x", "y"]),
        "{a 1}|{Name:a Value:1}|[1 a <nil> 2.5]|map[a:[1] b:1]|[1 2]|[x y]",
    ),
    (
        "%t|%v|%d|%s|%z|%!|%",
        (True, None, "x", 3, 1),
        "true|<nil>|%!d(string=x)|%!s(int=3)|%!z(int=1)|%!!(MISSING)|%!(NOVERB)",
    ),
    ("%d %d", (1,), "1 %!d(MISSING)"),
    ("%d", (1, "extra", None), "1%!(EXTRA string=extra, <nil>)"),
    ("%[2]d %[1]d %[3]d", (1, 2), "2 1 %!d(BADINDEX)"),
    ("%*d|%-*d|%.*f", (5, 1, 5, 2, 2, 3.14159), "    1|2    |3.14"),
    ("%6.2v|%.3v|%10.4v", (3.14159, "abcdef", 123.456), "   3.1|abc|     123.5"),
    ("%x|%X|%.2x", (3.5, -0.125, 1.0), "0x1.cp+01|-0X1P-03|0x1.00p+00"),
    (
        "%T %T %T %T %T %T",
        (1, 1.5, "s", [1], {}, None),
        "int float64 string []interface {} map[string]interface {} <nil>",
    ),
    ("%v %s", (1 + 2j, 3.5), "(1+2i) %!s(float64=3.5)"),
    ("%.2f", (3,), "%!f(int=03)"),
    ("%5.1f%%", (99.5,), " 99.5%"),
    ("%.1f %.1f %.1f %.2f", (0.05, 0.15, 0.25, 2.675), "0.1 0.1 0.2 2.67"),
]


@pytest.mark.parametrize(("fmt", "args", "want"), SPRINTF)
def test_printf_matches_go(fmt: str, args: tuple[object, ...], want: str) -> None:
    assert sprintf(fmt, *args) == want
    # The same through a template's printf.
    names = " ".join(f"(index . {i})" for i in range(len(args)))
    assert (
        Template("t").parse(f"{{{{printf {go_quote(fmt)} {names}}}}}").execute(list(args)) == want
    )


def test_print_spaces_operands_only_between_non_strings() -> None:
    assert sprint("a", 1, 2, "b", "c", 3.5, None, True) == "a1 2bc3.5 <nil> true"
    assert sprintln("a", 1, None) == "a 1 <nil>\n"


def test_action_output_of_values() -> None:
    t = Template("t").parse("{{.}}")
    assert t.execute(1234567.0) == "1.234567e+06"
    assert t.execute(0.5) == "0.5"
    assert t.execute({"b": [1, {"c": None}], "a": True}) == "map[a:true b:[1 map[c:<nil>]]]"
    assert t.execute(GoDuration(90 * 10**9)) == "1m30s"
    assert t.execute(None) == "<no value>"
    with pytest.raises(TemplateError, match=r"at <\{\{.\}\}>: can't print \{\{.\}\} of type func"):
        t.execute(lambda: 1)


@pytest.mark.parametrize(
    ("value", "fmt", "prec", "want"),
    [
        # strconv.FormatFloat, as Prometheus' humanize uses it (%.4g).
        (1234567.0, "g", 4, "1.235e+06"),
        (1.235, "g", 4, "1.235"),
        (100000.0, "g", 4, "1e+05"),
        (1000.0, "g", 4, "1000"),
        (0.0001234, "g", 4, "0.0001234"),
        (12.5, "g", 4, "12.5"),
        (-0.0, "g", -1, "-0"),
        (5e-324, "g", -1, "5e-324"),
        (1.7976931348623157e308, "g", -1, "1.7976931348623157e+308"),
        (0.1, "e", -1, "1e-01"),
        (1e100, "f", -1, "1" + "0" * 100),
    ],
)
def test_format_float(value: float, fmt: str, prec: int, want: str) -> None:
    assert format_float(value, fmt, prec) == want


def test_quote_escapes_as_go_does() -> None:
    assert go_quote('a"b\\c\n\t\x00\x7f\u2028é😀') == '"a\\"b\\\\c\\n\\t\\x00\\x7f\\u2028é😀"'
