"""Execution: every action, builtin and rule of Go's text/template on Python data.

The table is Go's src/text/template/exec_test.go (execTests) re-expressed in Python: ``TVal``
plays Go's ``tVal`` (fields and methods under Go names), and the expected output is Go's.
Failures assert Go's message (checked against Go's text/template) or the part of it that names
the problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from spyglass.core.template import StringMap, Template, TemplateError


@dataclass
class U:
    v: str = "v"

    __go_fields__: ClassVar[dict[str, str]] = {"V": "v", "TrueFalse": "true_false"}

    def true_false(self, b: bool) -> str:
        return "true" if b else ""


class MyError(Exception):
    pass


@dataclass
class TVal:
    """exec_test.go's tVal, with the fields the ported cases use."""

    true: bool = True
    i: int = 17
    u16: int = 16
    x: str = "x"
    s: str = "xyz"
    u: U = field(default_factory=U)
    float_zero: float = 0.0
    complex_zero: complex = 0j
    si: list[int] = field(default_factory=lambda: [3, 4, 5])
    si_empty: list[int] = field(default_factory=list)
    sb: list[bool] = field(default_factory=lambda: [True, False])
    msi: dict[str, int] = field(default_factory=lambda: {"one": 1, "two": 2, "three": 3})
    msi_one: dict[str, int] = field(default_factory=lambda: {"one": 1})
    msi_empty: dict[str, int] = field(default_factory=dict)
    mxi: dict[str, Any] = field(default_factory=dict)
    smsi: list[dict[str, int]] = field(
        default_factory=lambda: [{"one": 1, "two": 2}, {"eleven": 11, "twelve": 12}]
    )
    empty0: Any = None
    empty1: Any = 3
    empty2: Any = "empty2"
    empty3: Any = field(default_factory=lambda: [7, 8])
    binary_func: Callable[[str, str], str] = lambda a, b: f"[{a}={b}]"
    variadic_func: Callable[..., str] = lambda *s: "<" + "+".join(s) + ">"
    nil_ok_func: Callable[[Any], bool] = lambda p: p is None

    __go_fields__: ClassVar[dict[str, str]] = {
        "True": "true",
        "I": "i",
        "U16": "u16",
        "X": "x",
        "S": "s",
        "U": "u",
        "FloatZero": "float_zero",
        "ComplexZero": "complex_zero",
        "SI": "si",
        "SIEmpty": "si_empty",
        "SB": "sb",
        "MSI": "msi",
        "MSIone": "msi_one",
        "MSIEmpty": "msi_empty",
        "MXI": "mxi",
        "SMSI": "smsi",
        "Empty0": "empty0",
        "Empty1": "empty1",
        "Empty2": "empty2",
        "Empty3": "empty3",
        "BinaryFunc": "binary_func",
        "VariadicFunc": "variadic_func",
        "NilOKFunc": "nil_ok_func",
        "Method0": "method0",
        "Method1": "method1",
        "Method2": "method2",
        "Method3": "method3",
        "MAdd": "madd",
        "GetU": "get_u",
        "MyError": "my_error",
    }

    def method0(self) -> str:
        return "M0"

    def method1(self, a: int) -> int:
        return a

    def method2(self, a: int, b: str) -> str:
        return f"Method2: {a} {b}"

    def method3(self, v: object) -> str:
        return f"Method3: {'<nil>' if v is None else v}"

    def madd(self, a: int, b: list[int]) -> list[int]:
        return [a + x for x in b]

    def get_u(self) -> U:
        return self.u

    def my_error(self, error: bool) -> bool:
        if error:
            raise MyError("my error")
        return False


def _add(*args: int) -> int:
    return sum(args)


def _die() -> bool:
    raise RuntimeError("die")


FUNCS: dict[str, Callable[..., Any]] = {
    "add": _add,
    "die": _die,
    "echo": lambda arg: arg,
    "makemap": lambda *a: dict(zip(a[::2], a[1::2], strict=True)),
    "oneArg": lambda a: "oneArg=" + a,
    "twoArgs": lambda a, b: "twoArgs=" + a + b,
    "zeroArgs": lambda: "zeroArgs",
    "mapOfThree": lambda: {"three": 3},
    "returnInt": lambda: 7,
    "valueString": lambda v: "value is ignored",
}
# Go's parameter types for the lambdas above.
FUNCS["oneArg"].__annotations__ = {"a": str, "return": str}
FUNCS["twoArgs"].__annotations__ = {"a": str, "b": str, "return": str}
FUNCS["valueString"].__annotations__ = {"v": str, "return": str}

T = TVal()

# (name, template, data, output): exec_test.go execTests that succeed.
OK = [
    ("empty", "", None, ""),
    ("text", "some text", None, "some text"),
    (".X", "-{{.X}}-", T, "-x-"),
    (".U.V", "-{{.U.V}}-", T, "-v-"),
    ("map .one", "{{.MSI.one}}", T, "1"),
    ("map .WRONG args", "{{.MSI.one 1}}", T, None),
    ("dot int", "<{{.}}>", 13, "<13>"),
    ("dot float", "<{{.}}>", 15.1, "<15.1>"),
    ("dot bool", "<{{.}}>", True, "<true>"),
    ("dot complex", "<{{.}}>", 16.2 - 17j, "<(16.2-17i)>"),
    ("dot string", "<{{.}}>", "hello", "<hello>"),
    ("dot slice", "<{{.}}>", [-1, -2, -3], "<[-1 -2 -3]>"),
    ("dot map", "<{{.}}>", {"two": 22}, "<map[two:22]>"),
    ("$ int", "{{$}}", 123, "123"),
    ("$.I", "{{$.I}}", T, "17"),
    ("$.U.V", "{{$.U.V}}", T, "v"),
    ("declare in action", "{{$x := $.U.V}}{{$x}}", T, "v"),
    ("simple assignment", "{{$x := 2}}{{$x = 3}}{{$x}}", T, "3"),
    (
        "nested assignment",
        "{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}",
        T,
        "3",
    ),
    (
        "nested assignment changes the last declaration",
        "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
        T,
        "1",
    ),
    ("V{6666}.String()", "-{{.}}-", StringMap({"a": "b"}), "-map[a:b]-"),
    ("empty nil", "{{.Empty0}}", T, "<no value>"),
    ("empty with int", "{{.Empty1}}", T, "3"),
    ("empty with string", "{{.Empty2}}", T, "empty2"),
    ("empty with slice", "{{.Empty3}}", T, "[7 8]"),
    ("field on interface", "{{.foo}}", None, "<no value>"),
    ("field on parenthesized interface", "{{(.).foo}}", None, "<no value>"),
    ("parenthesized non-function with no args", "{{(1)}}", None, "1"),
    (".Method0", "-{{.Method0}}-", T, "-M0-"),
    (".Method1(1234)", "-{{.Method1 1234}}-", T, "-1234-"),
    (".Method1(.I)", "-{{.Method1 .I}}-", T, "-17-"),
    (".Method2(3, .X)", "-{{.Method2 3 .X}}-", T, "-Method2: 3 x-"),
    (".Method2(.U16, `str`)", "-{{.Method2 .U16 `str`}}-", T, "-Method2: 16 str-"),
    (
        ".Method2(.U16, $x)",
        "{{if $x := .X}}-{{.Method2 .U16 $x}}{{end}}-",
        T,
        "-Method2: 16 x-",
    ),
    (".Method3(nil constant)", "-{{.Method3 nil}}-", T, "-Method3: <nil>-"),
    (".Method3(nil value)", "-{{.Method3 .MXI.unset}}-", T, "-Method3: <nil>-"),
    (
        "method on var",
        "{{if $x := .}}-{{$x.Method2 .U16 $x.X}}{{end}}-",
        T,
        "-Method2: 16 x-",
    ),
    (
        "method on chained var",
        "{{range .MSIone}}{{if $.U.TrueFalse $.True}}{{$.U.TrueFalse $.True}}"
        "{{else}}WRONG{{end}}{{end}}",
        T,
        "true",
    ),
    (
        "chained method",
        "{{range .MSIone}}{{if $.GetU.TrueFalse $.True}}{{$.U.TrueFalse $.True}}"
        "{{else}}WRONG{{end}}{{end}}",
        T,
        "true",
    ),
    (".NilOKFunc nil", "{{call .NilOKFunc nil}}", T, "true"),
    (".BinaryFunc", "{{call .BinaryFunc `1` `2`}}", T, "[1=2]"),
    (".VariadicFunc0", "{{call .VariadicFunc}}", T, "<>"),
    (".VariadicFunc2", "{{call .VariadicFunc `he` `llo`}}", T, "<he+llo>"),
    ("if .BinaryFunc call", "{{ if .BinaryFunc}}{{call .BinaryFunc `1` `2`}}{{end}}", T, "[1=2]"),
    (
        "if not .BinaryFunc call",
        "{{ if not .BinaryFunc}}{{call .BinaryFunc `1` `2`}}{{else}}No{{end}}",
        T,
        "No",
    ),
    ("pipeline", "-{{.Method0 | .Method2 .U16}}-", T, "-Method2: 16 M0-"),
    (
        "pipeline func",
        "-{{call .VariadicFunc `llo` | call .VariadicFunc `he` }}-",
        T,
        "-<he+<llo>>-",
    ),
    ("nil pipeline", "{{ .Empty0 | call .NilOKFunc }}", T, "true"),
    ("nil call arg", "{{ call .NilOKFunc .Empty0 }}", T, "true"),
    (
        "parens in pipeline",
        "{{printf `%d %d %d` (1) (2 | add 3) (add 4 (add 5 6))}}",
        T,
        "1 5 15",
    ),
    ("parens: $ in paren", "{{($).X}}", T, "x"),
    ("parens: $.GetU in paren", "{{($.GetU).V}}", T, "v"),
    ("parens: $ in paren in pipe", "{{($ | echo).X}}", T, "x"),
    ("parens: spaces and args", '{{(makemap "up" "down" "left" "right").left}}', T, "right"),
    ("if true", "{{if true}}TRUE{{end}}", T, "TRUE"),
    ("if false", "{{if false}}TRUE{{else}}FALSE{{end}}", T, "FALSE"),
    ("if 1", "{{if 1}}NON-ZERO{{else}}ZERO{{end}}", T, "NON-ZERO"),
    ("if 0", "{{if 0}}NON-ZERO{{else}}ZERO{{end}}", T, "ZERO"),
    ("if 1.5", "{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}", T, "NON-ZERO"),
    ("if 0.0", "{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", T, "ZERO"),
    ("if 1.5i", "{{if 1.5i}}NON-ZERO{{else}}ZERO{{end}}", T, "NON-ZERO"),
    ("if 0.0i", "{{if .ComplexZero}}NON-ZERO{{else}}ZERO{{end}}", T, "ZERO"),
    ("if emptystring", "{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", T, "EMPTY"),
    ("if string", "{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}", T, "NON-EMPTY"),
    ("if emptyslice", "{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", T, "EMPTY"),
    ("if slice", "{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}", T, "NON-EMPTY"),
    ("if emptymap", "{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", T, "EMPTY"),
    ("if map", "{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}", T, "NON-EMPTY"),
    ("if map unset", "{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}", T, "ZERO"),
    ("if map not unset", "{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}", T, "ZERO"),
    (
        "if $x with $y int",
        "{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}",
        T,
        "true,17",
    ),
    (
        "if $x with $x int",
        "{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}",
        T,
        "17,true",
    ),
    ("if else if", "{{if false}}FALSE{{else if true}}TRUE{{end}}", T, "TRUE"),
    (
        "if else chain",
        "{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}",
        T,
        "3",
    ),
    ("print", '{{print "hello, print"}}', T, "hello, print"),
    ("print 123", "{{print 1 2 3}}", T, "1 2 3"),
    ("print nil", "{{print nil}}", T, "<nil>"),
    ("println", "{{println 1 2 3}}", T, "1 2 3\n"),
    ("printf int", '{{printf "%04x" 127}}', T, "007f"),
    ("printf float", '{{printf "%g" 3.5}}', T, "3.5"),
    ("printf complex", '{{printf "%g" 1+7i}}', T, "(1+7i)"),
    ("printf string", '{{printf "%s" "hello"}}', T, "hello"),
    ("printf function", '{{printf "%#q" zeroArgs}}', T, "`zeroArgs`"),
    ("printf field", '{{printf "%s" .U.V}}', T, "v"),
    ("printf method", '{{printf "%s" .Method0}}', T, "M0"),
    ("printf dot", '{{with .I}}{{printf "%d" .}}{{end}}', T, "17"),
    ("printf var", '{{with $x := .I}}{{printf "%d" $x}}{{end}}', T, "17"),
    ("printf lots", '{{printf "%d %s %g %s" 127 "hello" 7-3i .Method0}}', T, "127 hello (7-3i) M0"),
    (
        "html",
        '{{html "<script>alert(\\"XSS\\");</script>"}}',
        None,
        "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
    ),
    (
        "html pipeline",
        '{{printf "<script>alert(\\"XSS\\");</script>" | html}}',
        None,
        "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
    ),
    ("html untyped nil", "{{html .Empty0}}", T, "&lt;no value&gt;"),
    ("js", "{{js .}}", "It'd be nice.", "It\\'d be nice."),
    ("urlquery", '{{"http://www.example.org/"|urlquery}}', None, "http%3A%2F%2Fwww.example.org%2F"),
    ("not", "{{not true}} {{not false}}", None, "false true"),
    ("and", "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", None, "false 0 0 1"),
    ("or", "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", None, "0 1 true 1"),
    ("or short-circuit", "{{or 0 1 (die)}}", None, "1"),
    ("and short-circuit", "{{and 1 0 (die)}}", None, "0"),
    ("and pipe-true", "{{1 | and 1}}", None, "1"),
    ("and pipe-false", "{{0 | and 1}}", None, "0"),
    ("or pipe-true", "{{1 | or 0}}", None, "1"),
    ("or pipe-false", "{{0 | or 0}}", None, "0"),
    ("and undef", "{{and 1 .Unknown}}", None, "<no value>"),
    ("or undef", "{{or 0 .Unknown}}", None, "<no value>"),
    ("boolean if", "{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", T, "TRUE"),
    ("boolean if not", "{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}", None, "FALSE"),
    ("boolean if pipe", "{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", None, "FALSE"),
    ("slice[0]", "{{index .SI 0}}", T, "3"),
    ("slice[1]", "{{index .SI 1}}", T, "4"),
    ("map[one]", "{{index .MSI `one`}}", T, "1"),
    ("map[NO] gives the element's zero", "[{{index .MSI `XXX`}}]", {"MSI": StringMap()}, "[]"),
    ("double index", "{{index .SMSI 1 `eleven`}}", T, "11"),
    ("index of an interface field", "{{index .Empty3 0}}", T, "7"),
    ("slice[:]", "{{slice .SI}}", T, "[3 4 5]"),
    ("slice[1:]", "{{slice .SI 1}}", T, "[4 5]"),
    ("slice[1:2]", "{{slice .SI 1 2}}", T, "[4]"),
    ("string[:]", "{{slice .S}}", T, "xyz"),
    ("string[0:1]", "{{slice .S 0 1}}", T, "x"),
    ("string[1:]", "{{slice .S 1}}", T, "yz"),
    ("string[1:2]", "{{slice .S 1 2}}", T, "y"),
    ("slice of an interface field", "{{slice .Empty3 0 1}}", T, "[7]"),
    (
        "index of a string is a byte",
        '{{index "abc" 1}} {{printf "%T" (index "abc" 1)}}',
        None,
        "98 uint8",
    ),
    (
        "a nil inside a slice prints as <nil> for any verb",
        '{{printf "%s" .}}',
        [None, "a"],
        "[<nil> a]",
    ),
    ("len slice", "{{len .SI}}", T, "3"),
    ("len map", "{{len .MSI }}", T, "3"),
    ("len counts bytes", "{{len .}}", "héllo", "6"),
    ("len of an interface field", "{{len .Empty3}}", T, "2"),
    ("with true", "{{with true}}{{.}}{{end}}", T, "true"),
    ("with false", "{{with false}}{{.}}{{else}}FALSE{{end}}", T, "FALSE"),
    ("with 1", "{{with 1}}{{.}}{{else}}ZERO{{end}}", T, "1"),
    ("with 0", "{{with 0}}{{.}}{{else}}ZERO{{end}}", T, "ZERO"),
    ("with 1.5", "{{with 1.5}}{{.}}{{else}}ZERO{{end}}", T, "1.5"),
    ("with 1.5i", "{{with 1.5i}}{{.}}{{else}}ZERO{{end}}", T, "(0+1.5i)"),
    ("with slice", "{{with .SI}}{{.}}{{else}}EMPTY{{end}}", T, "[3 4 5]"),
    ("with map", "{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", T, "map[one:1]"),
    ("with $x int", "{{with $x := .I}}{{$x}}{{end}}", T, "17"),
    ("with $x struct.U.V", "{{with $x := $}}{{$x.U.V}}{{end}}", T, "v"),
    ("with variable and action", "{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}", T, "v"),
    ("with else with", "{{with 0}}{{.}}{{else with true}}{{.}}{{end}}", T, "true"),
    (
        "with else with chain",
        "{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}",
        T,
        "notempty",
    ),
    ("range []int", "{{range .SI}}-{{.}}-{{end}}", T, "-3--4--5-"),
    ("range empty no else", "{{range .SIEmpty}}-{{.}}-{{end}}", T, ""),
    ("range []int else", "{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}", T, "-3--4--5-"),
    ("range empty else", "{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", T, "EMPTY"),
    (
        "range []int break else",
        "{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}",
        T,
        "-3-",
    ),
    (
        "range []int continue else",
        "{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}",
        T,
        "-3--4--5-",
    ),
    ("range []bool", "{{range .SB}}-{{.}}-{{end}}", T, "-true--false-"),
    ("range []int method", "{{range .SI | .MAdd .I}}-{{.}}-{{end}}", T, "-20--21--22-"),
    ("range map in key order", "{{range .MSI}}-{{.}}-{{end}}", T, "-1--3--2-"),
    ("range empty map else", "{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", T, "EMPTY"),
    ("range empty nil", "{{range .Empty0}}-{{.}}-{{end}}", T, ""),
    ("range $x SI", "{{range $x := .SI}}<{{$x}}>{{end}}", T, "<3><4><5>"),
    ("range $x $y SI", "{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}", T, "<0=3><1=4><2=5>"),
    ("range $x MSIone", "{{range $x := .MSIone}}<{{$x}}>{{end}}", T, "<1>"),
    ("range $x $y MSIone", "{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}", T, "<one=1>"),
    ("declare in range", "{{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}}", T, "<3><4><5>"),
    ("range int", '{{range $v := 5}}{{printf "%T%d" $v $v}}{{end}}', None, "int0int1int2int3int4"),
    ("range int 0", "{{range $v := 0}}{{$v}}{{else}}empty{{end}}", None, "empty"),
    ("or as if true", '{{or .SI "slice is empty"}}', T, "[3 4 5]"),
    ("or as if false", '{{or .SIEmpty "slice is empty"}}', T, "slice is empty"),
    ("error method, no error", "{{.MyError false}}", T, "false"),
    ("decimal", "{{print 1234}}", T, "1234"),
    ("decimal _", "{{print 12_34}}", T, "1234"),
    ("binary", "{{print 0b101}}", T, "5"),
    ("binary _", "{{print 0b_1_0_1}}", T, "5"),
    ("BINARY", "{{print 0B101}}", T, "5"),
    ("octal0", "{{print 0377}}", T, "255"),
    ("octal", "{{print 0o377}}", T, "255"),
    ("octal _", "{{print 0o_3_7_7}}", T, "255"),
    ("hex", "{{print 0x123}}", T, "291"),
    ("hex _", "{{print 0x1_23}}", T, "291"),
    ("HEX", "{{print 0X123ABC}}", T, "1194684"),
    ("float", "{{print 123.4}}", T, "123.4"),
    ("float _", "{{print 0_0_1_2_3.4}}", T, "123.4"),
    ("hex float", "{{print +0x1.ep+2}}", T, "7.5"),
    ("hex float _", "{{print +0x_1.e_0p+0_2}}", T, "7.5"),
    ("print multi", "{{print 1_2_3_4 7.5_00_00_00}}", T, "1234 7.5"),
    ("bug0", "{{range .MSIone}}{{if $.Method1 .}}X{{end}}{{end}}", T, "X"),
    ("bug3", "{{with $}}{{.Method0}}{{end}}", T, "M0"),
    ("bug4", "{{if .Empty0}}non-nil{{else}}nil{{end}}", T, "nil"),
    ("bug9", "{{.cause}}", {"cause": "neglect"}, "neglect"),
    ("bug10", "{{mapOfThree.three}}-{{(mapOfThree).three}}", 0, "3-3"),
    ("bug12xe", "{{printf `%T` 0xef}}", T, "int"),
    ("bug12XE", "{{printf `%T` 0XEE}}", T, "int"),
    ("bug16g", '{{"aaa" |twoArgs "bbb"}}', T, "twoArgs=bbbaaa"),
    ("bug16i", '{{"aaa"|oneArg}}', T, "oneArg=aaa"),
    ("bug16j", '{{1+2i|printf "%v"}}', T, "(1+2i)"),
    ("bug16k", '{{"aaa"|printf }}', T, "aaa"),
    ("bug18a", "{{eq . '.'}}", ord("."), "true"),
    ("bug18b", "{{eq . 'e'}}", ord("e"), "true"),
    ("issue56490", "{{$i := 0}}{{$x := 0}}{{range $i = .SI}}{{end}}{{$i}}", T, "5"),
    (
        "issue60801",
        "{{$k := 0}}{{$v := 0}}{{range $k, $v = .SI}}{{$k}}={{$v}} {{end}}",
        T,
        "0=3 1=4 2=5 ",
    ),
]


@pytest.mark.parametrize(
    ("template", "data", "output"),
    [pytest.param(t, d, o, id=n) for n, t, d, o in OK if o is not None],
)
def test_go_exec_table(template: str, data: object, output: str) -> None:
    assert Template("test", funcs=FUNCS).parse(template).execute(data) == output


# (name, template, data, Go's message or the part of it that names the problem).
FAILS = [
    ("map .WRONG args", "{{.MSI.one 1}}", T, "one is not a method but has arguments"),
    ("unparenthesized non-function", "{{1 2}}", None, "can't give argument to non-function 1"),
    (
        "parenthesized non-function",
        "{{(1) 2}}",
        None,
        "at <(1) 2>: can't give argument to non-function 1",
    ),
    ("if nil", "{{if nil}}TRUE{{end}}", T, "nil is not a command"),
    ("call nil", "{{call nil}}", T, "error calling call: call of nil"),
    ("empty call", "{{call}}", T, "wrong number of args for call: want at least 1 got 0"),
    (
        "empty call after pipe invalid",
        "{{1 | call}}",
        T,
        "error calling call: non-function 1 of type int",
    ),
    (
        ".BinaryFuncTooFew",
        "{{call .BinaryFunc `1`}}",
        T,
        "error calling call: wrong number of args for .BinaryFunc: got 1 want 2",
    ),
    ("bad nil pipeline", "{{ .Empty0 | .VariadicFunc }}", T, "has arguments but cannot be invoked"),
    ("or short-circuit2", "{{or 0 0 (die)}}", None, "error calling die: die"),
    ("and short-circuit2", "{{and 1 1 (die)}}", None, "error calling die: die"),
    ("slice[HUGE]", "{{index .SI 10}}", T, "error calling index: index out of range: 10"),
    (
        "slice[WRONG]",
        "{{index .SI `hello`}}",
        T,
        "error calling index: cannot index slice/array with type string",
    ),
    (
        "slice[nil]",
        "{{index .SI nil}}",
        T,
        "error calling index: cannot index slice/array with nil",
    ),
    ("map[WRONG]", "{{index .MSI 10}}", T, "value has type int; should be string"),
    ("map[slice]", "{{index .MSI .SI}}", T, "value has type []interface {}; should be string"),
    ("nil[1]", "{{index nil 1}}", T, "error calling index: index of untyped nil"),
    ("slice[-1:]", "{{slice .SI -1}}", T, "error calling slice: index out of range: -1"),
    ("slice[2:1]", "{{slice .SI 2 1}}", T, "error calling slice: invalid slice index: 2 > 1"),
    ("out of range", "{{slice .S 1 5}}", T, "error calling slice: index out of range: 5"),
    ("3-index slice of string", "{{slice .S 1 2 2}}", T, "cannot 3-index slice a string"),
    ("len of int", "{{len 3}}", T, "error calling len: len of type int"),
    ("error method, error", "{{.MyError true}}", T, "error calling MyError: my error"),
    ("bug7a", "{{3 2}}", T, "can't give argument to non-function 3"),
    ("bug7b", "{{$x := 1}}{{$x 2}}", T, "can't give argument to non-function $x"),
    ("bug7c", "{{$x := 1}}{{3 | $x}}", T, "can't give argument to non-function $x"),
    ("bug8a", "{{3|oneArg}}", T, "wrong type for value; expected string; got int"),
    ("bug14a", "{{(nil).True}}", T, "at <nil>: nil is not a command"),
    ("bug15", "{{valueString returnInt}}", T, "wrong type for value; expected string; got int"),
    ("bug16a", "{{true|printf}}", T, "wrong type for value; expected string; got bool"),
    ("bug16h", "{{1|oneArg}}", T, "wrong type for value; expected string; got int"),
    ("range over a float", "{{range 3.5}}x{{end}}", None, "range can't iterate over 3.5"),
    ("range over a string", '{{range "abc"}}x{{end}}', None, "range can't iterate over abc"),
    (
        "range int two vars",
        "{{range $i, $e := 3}}{{$i}}{{end}}",
        None,
        "can't use 3 to iterate over more than one variable",
    ),
    (
        "int against float",
        "{{eq 1 1.0}}",
        None,
        "incompatible types for comparison: int and float64",
    ),
    ("lt bool", "{{lt true false}}", None, "error calling lt: invalid type for comparison"),
    ("undefined function at run time", '{{template "nope"}}', None, 'template "nope" not defined'),
]


@pytest.mark.parametrize(
    ("template", "data", "message"), [pytest.param(t, d, m, id=n) for n, t, d, m in FAILS]
)
def test_go_exec_failures(template: str, data: object, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        Template("test", funcs=FUNCS).parse(template).execute(data)
    assert message in str(caught.value)
    assert str(caught.value).startswith("template: test:1:")


def test_error_from_a_nested_template_names_the_spot() -> None:
    # exec_test.go TestExecError.
    text = (
        "line 1\nline 2\nline 3\n"
        '{{template "one" .}}\n'
        '{{define "one"}}{{template "two" .}}{{end}}\n'
        '{{define "two"}}{{template "three" .}}{{end}}\n'
        '{{define "three"}}{{index "hi" $}}{{end}}'
    )
    with pytest.raises(TemplateError) as caught:
        Template("top").parse(text).execute(5)
    assert str(caught.value) == (
        'template: top:7:20: executing "three" at <index "hi" $>: '
        "error calling index: index out of range: 5"
    )
    assert (caught.value.line, caught.value.column) == (7, 20)


def test_missing_key_options() -> None:
    # exec_test.go TestMissingMapKey.
    data = {"x": 99}
    assert Template("t").parse("{{.x}} {{.y}}").execute(data) == "99 <no value>"
    assert Template("t", missing_key="zero").parse("{{.x}} {{.y}}").execute(data) == "99 <no value>"
    strings = StringMap({"x": "99"})
    assert Template("t", missing_key="zero").parse("{{.x}}|{{.y}}").execute(strings) == "99|"
    with pytest.raises(TemplateError, match='map has no entry for key "y"'):
        Template("t", missing_key="error").parse("{{.x}} {{.y}}").execute(data)
    with pytest.raises(ValueError, match="missingkey=bogus"):
        Template("t", missing_key="bogus")  # type: ignore[arg-type]


def test_variables_do_not_leak_into_called_templates() -> None:
    # doc.go: "A template invocation does not inherit variables from the point of its
    # invocation." $ is the called template's dot.
    t = Template("t").parse('{{define "x"}}{{$}}{{end}}{{$v := 1}}{{template "x" 2}}')
    assert t.execute(9) == "2"
    with pytest.raises(TemplateError, match='undefined variable "\\$v"'):
        Template("t").parse('{{define "x"}}{{$v}}{{end}}{{$v := 1}}{{template "x"}}')


def test_recursion_depth_and_run_time_are_bounded() -> None:
    # Go stops at a depth of 100000; Spyglass at 100, and after max_steps nodes.
    t = Template("t").parse('{{define "r"}}{{template "r" .}}{{end}}{{template "r"}}')
    with pytest.raises(TemplateError, match=r"exceeded maximum template depth \(100\)"):
        t.execute()
    with pytest.raises(TemplateError, match="execution took more than 1000 steps"):
        Template("t", max_steps=1000).parse("{{range 100000000}}{{.}}{{end}}").execute()
    with pytest.raises(TemplateError, match="output is longer than 10 characters"):
        Template("t", max_output=10).parse('{{range 3}}{{"abcd"}}{{end}}').execute()


def test_execute_template_by_name() -> None:
    t = Template("t").parse('{{define "a"}}A{{.}}{{end}}main')
    assert t.execute(1, name="a") == "A1"
    assert t.execute() == "main"
    with pytest.raises(TemplateError) as caught:
        t.execute(name="b")
    assert str(caught.value) == 'template: no template "b" associated with template "t"'
    with pytest.raises(TemplateError, match='"u" is an incomplete or empty template'):
        Template("u").execute()


def test_python_objects_expose_fields_and_methods_by_go_name() -> None:
    @dataclass
    class Target:
        generator_url: str
        labels: dict[str, str]

        def health(self) -> str:
            return "up"

    data = Target("http://x", {"job": "a"})
    t = Template("t").parse("{{.GeneratorURL}} {{.Labels.job}} {{.Health}}")
    assert t.execute(data) == "http://x a up"
    with pytest.raises(TemplateError, match="can't evaluate field Upper in type string"):
        Template("t").parse("{{.Upper}}").execute("abc")
    with pytest.raises(TemplateError, match="can't evaluate field health in type Target"):
        Template("t").parse("{{.health}}").execute(data)


def test_function_names_must_be_identifiers() -> None:
    with pytest.raises(ValueError, match='function name "a-b" is not a valid identifier'):
        Template("t", funcs={"a-b": lambda: 1})


def test_nan_and_inf_print_as_go_prints_them() -> None:
    t = Template("t").parse("{{.}}")
    assert [t.execute(v) for v in (math.inf, -math.inf, math.nan, -0.0)] == [
        "+Inf",
        "-Inf",
        "NaN",
        "-0",
    ]
