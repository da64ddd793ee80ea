"""Parsing: what parses, how it prints back, and Go's parse errors word for word.

Cases come from Go's src/text/template/parse/parse_test.go (parseTests, errorTests, numberTests)
and lex_test.go; each expected error was checked against Go's text/template (1.19). The two
newer Go behaviours (``{{else with}}``, Go 1.23; the lexer reporting a stray ``)`` itself, Go
1.21) follow the current Go source.
"""

from __future__ import annotations

import pytest

from spyglass.core.template import Template, TemplateError


def parse(text: str, name: str = "test") -> Template:
    return Template(name).parse(text)


def printed(text: str) -> str:
    template = parse(text)
    tree = template.lookup("test")
    assert tree is not None
    return str(tree)


# parse_test.go parseTests: input -> the tree printed back (Go quotes text nodes there with %q;
# here text prints as itself).
ROUND_TRIPS = [
    ("", ""),
    ("{{/*\n\n\n*/}}", ""),
    (" \t\n", " \t\n"),
    ("some text", "some text"),
    ("{{.X}}", "{{.X}}"),
    ("{{printf}}", "{{printf}}"),
    ("{{$}}", "{{$}}"),
    ("{{with $x := 3}}{{$x 23}}{{end}}", "{{with $x := 3}}{{$x 23}}{{end}}"),
    ("{{$.I}}", "{{$.I}}"),
    ("{{printf `%d` 23}}", "{{printf `%d` 23}}"),
    ("{{.X|.Y}}", "{{.X | .Y}}"),
    ("{{$x := .X|.Y}}", "{{$x := .X | .Y}}"),
    ("{{.X (.Y .Z) (.A | .B .C) (.E)}}", "{{.X (.Y .Z) (.A | .B .C) (.E)}}"),
    ("{{(.Y .Z).Field}}", "{{(.Y .Z).Field}}"),
    ("{{if .X}}hello{{end}}", "{{if .X}}hello{{end}}"),
    ("{{if .X}}true{{else}}false{{end}}", "{{if .X}}true{{else}}false{{end}}"),
    (
        "{{if .X}}true{{else if .Y}}false{{end}}",
        "{{if .X}}true{{else}}{{if .Y}}false{{end}}{{end}}",
    ),
    (
        "+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+",
        "+{{if .X}}X{{else}}{{if .Y}}Y{{else}}{{if .Z}}Z{{end}}{{end}}{{end}}+",
    ),
    ("{{range .X}}hello{{end}}", "{{range .X}}hello{{end}}"),
    ("{{range .X.Y.Z}}hello{{end}}", "{{range .X.Y.Z}}hello{{end}}"),
    ("{{range .X|.M}}true{{else}}false{{end}}", "{{range .X | .M}}true{{else}}false{{end}}"),
    ("{{range $x, $y := .SI}}{{.}}{{end}}", "{{range $x, $y := .SI}}{{.}}{{end}}"),
    ("{{range .SI}}{{.}}{{break}}{{end}}", "{{range .SI}}{{.}}{{break}}{{end}}"),
    ("{{range .SI}}{{.}}{{ continue }}{{end}}", "{{range .SI}}{{.}}{{continue}}{{end}}"),
    (
        "{{range .SI 1 -3.2i true false 'a' nil}}{{end}}",
        "{{range .SI 1 -3.2i true false 'a' nil}}{{end}}",
    ),
    ("{{template `x`}}", '{{template "x"}}'),
    ("{{template `x` .Y}}", '{{template "x" .Y}}'),
    ("{{with .X}}hello{{else}}goodbye{{end}}", "{{with .X}}hello{{else}}goodbye{{end}}"),
    (
        "{{with .X}}X{{else with .Y}}Y{{else with .Z}}Z{{end}}",
        "{{with .X}}X{{else}}{{with .Y}}Y{{else}}{{with .Z}}Z{{end}}{{end}}{{end}}",
    ),
    ("x \r\n\t{{- 3}}", "x{{3}}"),
    ("{{3 -}}\n\n\ty", "{{3}}y"),
    ("x \r\n\t{{- 3 -}}\n\n\ty", "x{{3}}y"),
    ("x\n{{-  3   -}}\ny", "x{{3}}y"),
    ("x \r\n\t{{- /* hi */}}", "x"),
    ("{{/* hi */ -}}\n\n\ty", "y"),
    ("x \r\n\t{{- /* */ -}}\n\n\ty", "xy"),
    ('{{block "foo" .}}hello{{end}}', '{{template "foo" .}}'),
    ("{{ $x \n := \n 1 \n }}", "{{$x := 1}}"),
    ('{{\n"x"\n|\nprintf\n}}', '{{"x" | printf}}'),
    ("{{-\n/*\nhello\n*/\n-}}", ""),
    ("{{$x := 0}}{{$x}}", "{{$x := 0}}{{$x}}"),
    ("{{$x:=.}}{{$x +2}}", "{{$x := .}}{{$x +2}}"),
    ("{{range $x := 0}}{{$x}}{{end}}", "{{range $x := 0}}{{$x}}{{end}}"),
    ("{{range $x = 0}}{{$x}}{{end}}", "{{range $x = 0}}{{$x}}{{end}}"),
    # A trim marker needs the space: {{-3}} is the number -3.
    ("a {{-3}}", "a {{-3}}"),
]


@pytest.mark.parametrize(("text", "want"), ROUND_TRIPS)
def test_a_template_prints_back_as_go_prints_it(text: str, want: str) -> None:
    assert printed(text) == want
    # And what it prints parses to the same tree.
    assert printed(want) == want


def test_block_defines_the_inner_template() -> None:
    # parse_test.go TestBlock.
    t = parse('a{{block "inner" .}}bar{{.}}baz{{end}}b')
    assert str(t.lookup("test")) == 'a{{template "inner" .}}b'
    assert str(t.lookup("inner")) == "bar{{.}}baz"


# parse_test.go errorTests and the failing parseTests, with Go's whole message.
PARSE_ERRORS = [
    ("line1\n{{", "template: test:2: unclosed action"),
    ("line1\n{{define `x`}}line2\n{{", "template: test:3: unclosed action"),
    ('line1\n{{"x"\n"y"\n', "template: test:4: unclosed action started at test:2"),
    ("{{\n\n\n\n\n", "template: test:6: unclosed action started at test:1"),
    ("line1\n{{\nx\n}}", 'template: test:3: function "x" not defined'),
    ("{{/*}}", "template: test:1: unclosed comment"),
    ("{{/*\nhello\n}}", "template: test:1: unclosed comment"),
    ("{{/* c */x}}", "template: test:1: comment ends before closing delimiter"),
    ("{{.X (1 2 3}}", "template: test:1: unclosed left paren"),
    ("{{.X 1 2 3 ) }}", "template: test:1: unexpected right paren"),
    ("{{(.X 1 2 3", "template: test:1: unclosed action"),
    ("{{`x`3}}", 'template: test:1: unexpected "3" in operand'),
    ("{{a#}}", "template: test:1: bad character U+0023 '#'"),
    ("{{'a}}", "template: test:1: unterminated character constant"),
    ('{{"a}}', "template: test:1: unterminated quoted string"),
    ("{{`a}}", "template: test:1: unterminated raw quoted string"),
    ("{{0xi}}", 'template: test:1: illegal number syntax: "0xi"'),
    ("{{3x}}", 'template: test:1: bad number syntax: "3x"'),
    (
        "{{define `a`}}a{{end}}{{define `a`}}b{{end}}",
        'template: test:1: template: multiple definition of template "a"',
    ),
    ("{{range .X}}", "template: test:1: unexpected EOF"),
    (
        "{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}",
        'template: test:1: unexpected ":=" in operand',
    ),
    ("{{$a,$b,$c := 23}}", "template: test:1: too many declarations in command"),
    ("{{$a}}", 'template: test:1: undefined variable "$a"'),
    ("{{true.any}}", 'template: test:1: unexpected . after term "true"'),
    ("{{12|false}}", "template: test:1: non executable command in pipeline stage 2"),
    ("{{ ( ) }}", "template: test:1: missing value for parenthesized pipeline"),
    ("{{ $v := `\n` }} {{", "template: test:2: unclosed action"),
    ("{{range $k, $v}}{{end}}", 'template: test:1: undefined variable "$v"'),
    ("{{range $k,}}{{end}}", "template: test:1: missing value for range"),
    ("{{range $k, .}}{{end}}", "template: test:1: range can only initialize variables"),
    ("{{range $k, 123 := .}}{{end}}", "template: test:1: range can only initialize variables"),
    ("{{}}", "template: test:1: missing value for command"),
    ("{{end}}", "template: test:1: unexpected {{end}}"),
    ("{{else}}", "template: test:1: unexpected {{else}}"),
    ("{{if .X}}1{{else}}2{{else}}3{{end}}", "template: test:1: expected end; found {{else}}"),
    ("hello{{range .x}}{{else}}", "template: test:1: unexpected EOF"),
    ("{{with $x := 4}}{{end}}{{$x}}", 'template: test:1: undefined variable "$x"'),
    ("{{template .X}}", 'template: test:1: unexpected ".X" in template clause'),
    ("{{printf 3, 4}}", 'template: test:1: unexpected "," in operand'),
    ("{{with $v, $u := 3}}{{end}}", "template: test:1: too many declarations in with"),
    ("{{printf (printf .).}}", "template: test:1: unexpected <.> in operand"),
    ("{{if .X}}a{{else if .Y}}b{{end}}{{end}}", "template: test:1: unexpected {{end}}"),
    ("{{range .}}{{end}} {{break}}", "template: test:1: {{break}} outside {{range}}"),
    ("{{range .}}{{else}}{{continue}}{{end}}", "template: test:1: {{continue}} outside {{range}}"),
    ("{{range .}}{{break 1}}{{end}}", 'template: test:1: unexpected "1" in {{break}}'),
    ("{{$x:=.}}{{$x+2}}", "template: test:1: bad character U+002B '+'"),
    ("{{1.E}}", 'template: test:1: illegal number syntax: "1.E"'),
    ("{{0.1.E}}", 'template: test:1: unexpected . after term "0.1"'),
    ('{{"hello".guys}}', 'template: test:1: unexpected . after term "\\"hello\\""'),
    ('{{.|printf|"error"}}', "template: test:1: non executable command in pipeline stage 3"),
    ('{{block "foo"}}hello{{end}}', "template: test:1: missing value for block clause"),
    ('{{define "a"}}{{else}}{{end}}', "template: test:1: unexpected {{else}} in define clause"),
    ("{{if 1}}{{end 1}}", 'template: test:1: unexpected "1" in end'),
    ('{{"\\q"}}', "template: test:1: invalid syntax"),
    ("{{ \u00a0}}", "template: test:1: unrecognized character in action: U+00A0"),
    ("{{'ab'}}", "template: test:1: malformed character constant: 'ab'"),
    ("{{18446744073709551616}}", 'template: test:1: integer overflow: "18446744073709551616"'),
    ("a\n{{ 1 }}\n{{- end }}", "template: test:3: unexpected {{end}}"),
]


@pytest.mark.parametrize(("text", "message"), PARSE_ERRORS)
def test_a_broken_template_fails_with_gos_message(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert caught.value.name == "test"
    assert caught.value.line == int(message.split(":")[2])


def test_a_number_too_big_for_int64_still_parses_as_uint64() -> None:
    # parse_test.go numberTests: 9223372036854775808 is a uint64; printing it needs an int.
    with pytest.raises(TemplateError, match=r"9223372036854775808 overflows int"):
        parse("{{9223372036854775808}}").execute()


def test_break_is_a_function_name_when_the_template_has_such_a_function() -> None:
    # parse_test.go TestKeywordsAndFuncs.
    t = Template("test", funcs={"break": lambda v: v}).parse("{{range .}}{{break 20}}{{end}}")
    assert t.execute([1, 2]) == "2020"
    with pytest.raises(TemplateError, match=r'unexpected "20" in \{\{break\}\}'):
        parse("{{range .}}{{break 20}}{{end}}")


def test_a_later_parse_replaces_definitions_but_an_empty_one_does_not() -> None:
    # text/template multi_test.go: redefinition is allowed across Parse calls; an empty
    # definition never replaces a non-empty one.
    t = parse('{{define "x"}}one{{end}}')
    t.parse('{{define "x"}}two{{end}}', name="other")
    assert t.execute(name="x") == "two"
    t.parse('{{define "x"}} {{end}}', name="third")
    assert t.execute(name="x") == "two"


def test_a_failed_parse_leaves_the_set_unchanged() -> None:
    t = parse('{{define "x"}}one{{end}}')
    with pytest.raises(TemplateError):
        t.parse('{{define "x"}}two{{end}}{{', name="broken")
    assert t.execute(name="x") == "one"
    assert t.templates() == ["test", "x"]


def test_nesting_is_bounded_with_a_template_error() -> None:
    # Go allows 10000 parentheses; Spyglass stops at 100 levels so Python's stack holds.
    deep = "{{if 1}}" * 101 + "{{end}}" * 101
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        parse(deep)
    assert parse("{{if 1}}" * 100 + "x" + "{{end}}" * 100).execute() == "x"
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        parse("{{" + "(" * 5000 + "1" + ")" * 5000 + "}}")


def test_column_positions_count_bytes_from_zero_like_go() -> None:
    # ErrorContext: the column is the byte offset in the line, so a UTF-8 prefix shifts it.
    with pytest.raises(TemplateError) as caught:
        parse("é {{ .A.B }}").execute({"A": 1})
    assert str(caught.value).startswith('template: test:1:8: executing "test" at <.A.B>:')
    assert caught.value.column == 8
