"""LogQL text to syntax tree: a recursive-descent parser over ``_lexer``'s tokens.

Binary operators bind as in Loki's grammar (``or`` < ``and``/``unless`` < comparisons < ``+ -``
< ``* / %`` < ``^``, the last right-associative). Whatever Loki rejects while parsing is rejected
here with its words: bad regexps, patterns, ``ip()`` ranges, json expressions, label_format
templates, aggregations that need (or forbid) ``unwrap``. ``line_format`` templates are checked
when the stage runs, as Loki does (a ``count_over_time`` never runs it).
"""

from __future__ import annotations

import re
from typing import Any

from spyglass.core.errors import BadInput, TemplateError
from spyglass.core.matchers import Matcher
from spyglass.logs._ast import (
    BinaryOp,
    Decolorize,
    DropKeep,
    Expr,
    FilterValue,
    Grouping,
    LabelBinary,
    LabelCompare,
    LabelExpr,
    LabelFilter,
    LabelFormat,
    LabelFormatItem,
    LabelReplace,
    LineFilter,
    LineFormat,
    Literal,
    LogQuery,
    LogRange,
    Parser,
    RangeAggregation,
    Stage,
    Unwrap,
    VectorAggregation,
    VectorLiteral,
    VectorMatching,
)
from spyglass.logs._errors import LogQLParseError, parse_error
from spyglass.logs._ip import check_ip_pattern
from spyglass.logs._lexer import (
    BYTES,
    DURATION,
    EOF,
    FLAG,
    IDENT,
    NUMBER,
    OP,
    STRING,
    Token,
    tokenize,
)
from spyglass.logs._parsers import parse_json_path
from spyglass.logs._patterns import compile_pattern
from spyglass.logs._regex import compile_go_regex, scoped_flags
from spyglass.logs._templates import compile_template
from spyglass.logs._units import go_parse_float, literal_bytes, literal_duration_ns

RANGE_OPS = frozenset(
    {
        "count_over_time", "rate", "rate_counter", "bytes_over_time", "bytes_rate",
        "avg_over_time", "sum_over_time", "min_over_time", "max_over_time", "stdvar_over_time",
        "stddev_over_time", "quantile_over_time", "first_over_time", "last_over_time",
        "absent_over_time",
    }
)  # fmt: skip
_UNWRAP_OK = frozenset(
    {
        "avg_over_time", "sum_over_time", "max_over_time", "min_over_time", "stddev_over_time",
        "stdvar_over_time", "quantile_over_time", "rate", "rate_counter", "absent_over_time",
        "first_over_time", "last_over_time",
    }
)  # fmt: skip
_NO_UNWRAP_OK = frozenset(
    {"bytes_over_time", "bytes_rate", "count_over_time", "rate", "absent_over_time"}
)
_GROUPING_OK = frozenset(
    {
        "avg_over_time", "max_over_time", "min_over_time", "stddev_over_time",
        "stdvar_over_time", "quantile_over_time", "first_over_time", "last_over_time",
    }
)  # fmt: skip
VECTOR_OPS = frozenset(
    {"sum", "avg", "count", "max", "min", "stddev", "stdvar", "topk", "bottomk", "sort",
     "sort_desc", "approx_topk"}
)  # fmt: skip
_PARAM_OPS = frozenset({"topk", "bottomk", "approx_topk"})
_PARSERS = frozenset({"json", "logfmt", "regexp", "pattern", "unpack"})
_PRECEDENCE = {
    "or": 1, "and": 2, "unless": 2,
    "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
    "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6,
}  # fmt: skip
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_SET_OPS = frozenset({"and", "or", "unless"})
_LINE_FILTER_OPS = frozenset({"|=", "!=", "|~", "!~", "|>", "!>"})
_MATCH_OPS = frozenset({"=", "!=", "=~", "!~"})
_NUMERIC_OPS = frozenset({"==", "=", "!=", ">", ">=", "<", "<="})
_CONVERSIONS = frozenset({"duration", "duration_seconds", "bytes"})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -----------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != EOF:
            self.i += 1
        return tok

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == OP and self.tok.text in ops

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == IDENT and self.tok.text in words

    def fail(self, message: str, tok: Token | None = None) -> LogQLParseError:
        return parse_error(message, self.text, (tok or self.tok).pos)

    def unexpected(self, expecting: str = "") -> LogQLParseError:
        message = f"syntax error: unexpected {self.tok.describe()}"
        if expecting:
            message += f", expecting {expecting}"
        return self.fail(message)

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.unexpected(op)
        return self.advance()

    def expect_kind(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.unexpected(kind)
        return self.advance()

    def regex(self, pattern: str, tok: Token) -> Any:
        try:
            return compile_go_regex(pattern)
        except BadInput as exc:
            raise self.fail(str(exc), tok) from None

    def expect_ident(self) -> str:
        return self.expect_kind(IDENT).text

    # -- expressions ---------------------------------------------------------------------------
    def parse(self) -> Expr:
        if self.tok.kind == EOF:
            raise self.fail("syntax error: unexpected $end")
        expr = self.expr(0)
        if self.tok.kind != EOF:
            raise self.unexpected()
        return expr

    def binary_op(self) -> str | None:
        tok = self.tok
        if tok.kind == OP and tok.text in _PRECEDENCE:
            return tok.text
        if tok.kind == IDENT and tok.text in _SET_OPS:
            return tok.text
        return None

    def expr(self, min_prec: int) -> Expr:
        left = self.unary()
        while True:
            op = self.binary_op()
            if op is None or _PRECEDENCE[op] < min_prec:
                return left
            op_tok = self.advance()
            bool_modifier = False
            if self.is_word("bool"):
                if op not in _COMPARISONS:
                    raise self.unexpected()
                self.advance()
                bool_modifier = True
            matching = self.vector_matching()
            # Left-associative but for ^: its right side may hold another ^.
            right = self.expr(_PRECEDENCE[op] + (0 if op == "^" else 1))
            left = self.make_binary(op, left, right, bool_modifier, matching, op_tok)

    def make_binary(  # noqa: PLR0917 -- the parts of one binary node
        self,
        op: str,
        left: Expr,
        right: Expr,
        bool_modifier: bool,
        matching: VectorMatching,
        tok: Token,
    ) -> Expr:
        for side in (left, right):
            if isinstance(side, LogQuery):
                raise self.fail(f"syntax error: unexpected {op}", tok)
        if op in _SET_OPS:
            if isinstance(left, Literal):
                raise self.fail(
                    "unexpected literal for left leg of logical/set binary operation", tok
                )
            if isinstance(right, Literal):
                raise self.fail(
                    "unexpected literal for right leg of logical/set binary operation", tok
                )
        return BinaryOp(op, left, right, bool_modifier, matching)

    def vector_matching(self) -> VectorMatching:
        on = False
        labels: tuple[str, ...] = ()
        card = ""
        include: tuple[str, ...] = ()
        if self.is_word("on", "ignoring"):
            on = self.advance().text == "on"
            labels = self.label_list()
            if self.is_word("group_left", "group_right"):
                card = self.advance().text
                if self.is_op("("):
                    include = self.label_list()
        return VectorMatching(on, labels, card, include)

    def label_list(self) -> tuple[str, ...]:
        self.expect_op("(")
        names: list[str] = []
        if not self.is_op(")"):
            names.append(self.expect_ident())
            while self.is_op(","):
                self.advance()
                names.append(self.expect_ident())
        self.expect_op(")")
        return tuple(names)

    def unary(self) -> Expr:
        if self.is_op("-", "+"):
            sign = self.advance()
            if self.tok.kind != NUMBER:
                raise self.unexpected("NUMBER")
            value = self.number(self.advance())
            return Literal(-value if sign.text == "-" else value)
        return self.primary()

    def number(self, tok: Token) -> float:
        text = tok.text
        low = text.lower()
        # Loki takes float syntax only: 0x1p3 is a hex float, 0x1A or 0o17 is not.
        if low.startswith(("0b", "0o")) or (low.startswith("0x") and "p" not in low):
            raise self.fail("unable to parse literal as a float", tok)
        try:
            return go_parse_float(text)
        except ValueError:
            raise self.fail("unable to parse literal as a float", tok) from None

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind == NUMBER:
            return Literal(self.number(self.advance()))
        if self.is_op("("):
            self.advance()
            inner = self.expr(0)
            self.expect_op(")")
            return inner
        if self.is_op("{"):
            query = self.log_query()
            if self.is_op("["):
                raise self.unexpected()
            return query
        if tok.kind == IDENT:
            name = tok.text
            if name in RANGE_OPS:
                return self.range_aggregation()
            if name in VECTOR_OPS:
                return self.vector_aggregation()
            if name == "label_replace":
                return self.label_replace()
            if name == "vector":
                self.advance()
                self.expect_op("(")
                if self.tok.kind != NUMBER:
                    raise self.unexpected("NUMBER")
                value = self.number(self.advance())
                self.expect_op(")")
                return VectorLiteral(value)
        raise self.unexpected()

    def grouping(self) -> Grouping | None:
        if not self.is_word("by", "without"):
            return None
        without = self.advance().text == "without"
        return Grouping(self.label_list(), without)

    def range_aggregation(self) -> RangeAggregation:
        op_tok = self.advance()
        op = op_tok.text
        self.expect_op("(")
        param: float | None = None
        if op == "quantile_over_time":
            if self.tok.kind != NUMBER:
                raise self.unexpected("NUMBER")
            param = self.number(self.advance())
            self.expect_op(",")
        log_range = self.log_range()
        self.expect_op(")")
        grouping = self.grouping()
        if log_range.unwrap is not None and op not in _UNWRAP_OK:
            raise self.fail(f"invalid aggregation {op} with unwrap", op_tok)
        if log_range.unwrap is None and op not in _NO_UNWRAP_OK:
            raise self.fail(f"invalid aggregation {op} without unwrap", op_tok)
        if grouping is not None and op not in _GROUPING_OK:
            raise self.fail(f"grouping not allowed for {op} aggregation", op_tok)
        return RangeAggregation(op, log_range, param, grouping)

    def log_range(self) -> LogRange:
        if self.is_op("(") and self.peek().kind == OP and self.peek().text == "{":
            self.advance()
            query, unwrap = self.log_query_with_unwrap()
            self.expect_op(")")
        else:
            query, unwrap = self.log_query_with_unwrap()
        self.expect_op("[")
        tok = self.expect_kind(DURATION)
        range_ns = self.duration(tok)
        self.expect_op("]")
        # Loki also takes the pipeline after the range: {app="a"}[1m] | json.
        if self.is_op(*_LINE_FILTER_OPS, "|") and unwrap is None:
            more, unwrap = self.pipeline(allow_unwrap=True)
            query = LogQuery(query.matchers, query.stages + more)
        offset = 0
        if self.is_word("offset"):
            self.advance()
            offset = self.duration(self.expect_kind(DURATION))
        return LogRange(query, range_ns, offset, unwrap)

    def duration(self, tok: Token) -> int:
        try:
            return literal_duration_ns(tok.text)
        except ValueError:
            raise self.fail("invalid duration", tok) from None

    def vector_aggregation(self) -> VectorAggregation:
        op_tok = self.advance()
        op = op_tok.text
        grouping = self.grouping()
        self.expect_op("(")
        param: float | None = None
        if op in _PARAM_OPS:
            if self.tok.kind == NUMBER and self.peek().kind == OP and self.peek().text == ",":
                param_tok = self.advance()
                param = self.number(param_tok)
                self.advance()
                if param != int(param) or param <= 0:
                    raise self.fail(
                        f"invalid parameter (must be a positive integer): {op}({param_tok.text}",
                        param_tok,
                    )
            else:
                raise self.fail(f"parameter required for operation {op}", op_tok)
        inner = self.expr(0)
        if isinstance(inner, LogQuery):
            raise self.fail(f"syntax error: unexpected {self.tok.describe()}", self.tok)
        self.expect_op(")")
        after = self.grouping()
        if grouping is not None and after is not None:
            raise self.unexpected()
        grouping = grouping or after
        if op == "approx_topk" and grouping is not None:
            raise self.fail("grouping not allowed for approx_topk aggregation", op_tok)
        return VectorAggregation(op, inner, grouping, param)

    def label_replace(self) -> LabelReplace:
        self.advance()
        self.expect_op("(")
        inner = self.expr(0)
        args: list[str] = []
        for _ in range(4):
            self.expect_op(",")
            args.append(self.expect_kind(STRING).value)
        regex_tok = self.tokens[self.i - 1]
        self.expect_op(")")
        try:
            compile_go_regex(f"^(?:{args[3]})$")
        except BadInput as exc:
            raise self.fail(str(exc), regex_tok) from None
        return LabelReplace(inner, args[0], args[1], args[2], args[3])

    # -- log queries ---------------------------------------------------------------------------
    def log_query(self) -> LogQuery:
        query, unwrap = self.log_query_with_unwrap()
        if unwrap is not None:
            raise self.fail("syntax error: unexpected unwrap")
        return query

    def log_query_with_unwrap(self) -> tuple[LogQuery, Unwrap | None]:
        matchers = self.selector()
        stages, unwrap = self.pipeline(allow_unwrap=True)
        return LogQuery(matchers, stages), unwrap

    def selector(self) -> tuple[Matcher, ...]:
        self.expect_op("{")
        matchers: list[Matcher] = []
        if not self.is_op("}"):
            while True:
                name = self.expect_ident()
                if not self.is_op(*_MATCH_OPS):
                    raise self.unexpected()
                op = self.advance().text
                value_tok = self.expect_kind(STRING)
                matchers.append(self.matcher(name, op, value_tok))
                if not self.is_op(","):
                    break
                self.advance()
        self.expect_op("}")
        # Loki's grammar takes {} and then refuses it, like a selector of empty matchers.
        if all(m.matches_empty() for m in matchers):
            raise self.fail(
                "queries require at least one regexp or equality matcher that does not have an "
                'empty-compatible value. For instance, app=~".*" does not meet this '
                'requirement, but app=~".+" will',
                self.tokens[self.i - 1],
            )
        return tuple(matchers)

    def matcher(self, name: str, op: str, tok: Token) -> Matcher:
        if op in ("=~", "!~"):
            self.regex(tok.value, tok)
        value = scoped_flags(tok.value) if op in ("=~", "!~") else tok.value
        try:
            return Matcher.of(name, op, value)
        except BadInput as exc:
            raise self.fail(f"error parsing regexp: {exc}", tok) from None

    def pipeline(self, *, allow_unwrap: bool) -> tuple[tuple[Stage, ...], Unwrap | None]:
        stages: list[Stage] = []
        while True:
            if self.is_op(*_LINE_FILTER_OPS):
                stages.append(self.line_filter())
                continue
            if not self.is_op("|"):
                return tuple(stages), None
            self.advance()
            tok = self.tok
            if tok.kind == IDENT and tok.text == "unwrap" and self.peek().kind in (IDENT,):
                if not allow_unwrap:
                    raise self.unexpected()
                return tuple(stages), self.unwrap()
            stages.append(self.stage())

    def line_filter(self) -> LineFilter:
        op = self.advance().text
        values: list[FilterValue] = []
        while True:
            if self.is_word("ip") and self.peek().kind == OP and self.peek().text == "(":
                if op not in ("|=", "!="):
                    raise self.fail(f"ip: invalid operation: {op} ip(...)")
                ip_tok = self.advance()
                self.advance()
                value = self.expect_kind(STRING).value
                self.expect_op(")")
                try:
                    check_ip_pattern(value)
                except ValueError as exc:
                    raise self.fail(str(exc), ip_tok) from None
                values.append(FilterValue(value, ip=True))
            else:
                tok = self.expect_kind(STRING)
                if op in ("|~", "!~"):
                    self.regex(tok.value, tok)
                elif op in ("|>", "!>"):
                    try:
                        compile_pattern(tok.value, line_filter=True)
                    except ValueError as exc:
                        raise self.fail(str(exc), tok) from None
                values.append(FilterValue(tok.value))
            if not self.is_word("or"):
                break
            nxt = self.peek()
            if nxt.kind != STRING and not (nxt.kind == IDENT and nxt.text == "ip"):
                break
            self.advance()
        return LineFilter(op, tuple(values))

    def stage(self) -> Stage:
        tok = self.tok
        if tok.kind == IDENT:
            word = tok.text
            if word in _PARSERS:
                return self.parser_stage()
            if word == "line_format":
                self.advance()
                return LineFormat(self.expect_kind(STRING).value)
            if word == "label_format":
                return self.label_format()
            if word in ("drop", "keep"):
                return self.drop_keep()
            if word == "decolorize":
                self.advance()
                return Decolorize()
        return LabelFilter(self.label_expr())

    def parser_stage(self) -> Parser:
        kind = self.advance().text
        if kind in ("regexp", "pattern"):
            tok = self.expect_kind(STRING)
            if kind == "regexp":
                names = re.findall(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>", tok.value)
                if len(set(names)) != len(names):
                    raise self.fail("invalid regexp: duplicate extracted label name", tok)
                regex = self.regex(tok.value, tok)
                if not regex.groupindex:
                    raise self.fail("at least one named capture must be supplied", tok)
            else:
                try:
                    compile_pattern(tok.value, line_filter=False)
                except ValueError as exc:
                    raise self.fail(str(exc), tok) from None
            return Parser(kind, expression=tok.value)
        flags: list[str] = []
        if kind == "logfmt":
            while self.tok.kind == FLAG:
                flag = self.advance()
                if flag.text not in ("--strict", "--keep-empty"):
                    raise self.fail(f"syntax error: unexpected {flag.text}", flag)
                flags.append(flag.text)
        params: list[tuple[str, str]] = []
        if kind in ("json", "logfmt"):
            while self.tok.kind == IDENT and not (
                self.peek().kind == OP
                and self.peek().text in ("=~", "!~", "!=", "==", ">", "<", ">=", "<=")
            ):
                if (
                    self.peek().kind == OP
                    and self.peek().text == "="
                    and self.peek(2).kind != STRING
                ):
                    break
                name = self.advance().text
                expression = name
                if self.is_op("="):
                    self.advance()
                    expr_tok = self.expect_kind(STRING)
                    expression = expr_tok.value
                    if kind == "json":
                        try:
                            parse_json_path(expression)
                        except ValueError:
                            raise self.fail(
                                f"cannot parse expression [{expression}]: syntax error", expr_tok
                            ) from None
                params.append((name, expression))
                if not self.is_op(","):
                    break
                self.advance()
        return Parser(kind, tuple(params), tuple(flags))

    def label_format(self) -> LabelFormat:
        self.advance()
        items: list[LabelFormatItem] = []
        while True:
            dst = self.expect_ident()
            self.expect_op("=")
            if self.tok.kind == STRING:
                tok = self.advance()
                try:
                    compile_template(tok.value)
                except TemplateError as exc:
                    raise self.fail(str(exc), tok) from None
                items.append(LabelFormatItem(dst, tok.value, template=True))
            else:
                items.append(LabelFormatItem(dst, self.expect_ident(), template=False))
            if not self.is_op(","):
                break
            self.advance()
        return LabelFormat(tuple(items))

    def drop_keep(self) -> DropKeep:
        kind = self.advance().text
        names: list[str] = []
        matchers: list[Matcher] = []
        while True:
            name = self.expect_ident()
            if self.is_op(*_MATCH_OPS):
                op = self.advance().text
                matchers.append(self.matcher(name, op, self.expect_kind(STRING)))
            else:
                names.append(name)
            if not self.is_op(","):
                break
            self.advance()
        return DropKeep(kind, tuple(names), tuple(matchers))

    def unwrap(self) -> Unwrap:
        self.advance()
        conversion = ""
        if self.tok.text in _CONVERSIONS and self.peek().kind == OP and self.peek().text == "(":
            conversion = self.advance().text
            self.advance()
            label = self.expect_ident()
            self.expect_op(")")
        else:
            label = self.expect_ident()
        post: list[LabelFilter] = []
        while self.is_op("|"):
            self.advance()
            post.append(LabelFilter(self.label_expr()))
        return Unwrap(label, conversion, tuple(post))

    # -- label filters -------------------------------------------------------------------------
    def label_expr(self) -> LabelExpr:
        left = self.label_and()
        while self.is_word("or"):
            self.advance()
            left = LabelBinary("or", left, self.label_and())
        return left

    def label_and(self) -> LabelExpr:
        left = self.label_primary()
        while True:
            if self.is_word("and") or self.is_op(","):
                self.advance()
            elif not (
                (self.tok.kind == IDENT and self.tok.text not in ("or", "offset")
                 and self.peek().kind == OP and self.peek().text in _NUMERIC_OPS | _MATCH_OPS)
                or self.is_op("(")
            ):  # fmt: skip
                return left
            left = LabelBinary("and", left, self.label_primary())

    def label_primary(self) -> LabelExpr:
        if self.is_op("("):
            self.advance()
            inner = self.label_expr()
            self.expect_op(")")
            return inner
        name = self.expect_ident()
        if not self.is_op(*(_NUMERIC_OPS | _MATCH_OPS)):
            raise self.unexpected()
        op_tok = self.advance()
        op = op_tok.text
        tok = self.tok
        if tok.kind == IDENT and tok.text == "ip":
            if op not in ("=", "!="):
                raise self.fail("syntax error: unexpected ip")
            self.advance()
            self.expect_op("(")
            pattern = self.expect_kind(STRING)
            self.expect_op(")")
            try:
                check_ip_pattern(pattern.value)
            except ValueError as exc:
                raise self.fail(str(exc), pattern) from None
            return LabelCompare(name, op, "ip", pattern.value)
        if tok.kind == STRING:
            if op not in _MATCH_OPS:
                raise self.unexpected()
            self.advance()
            text = tok.value
            if op in ("=~", "!~"):
                text = scoped_flags(text)
                self.regex(text, tok)
            return LabelCompare(name, op, "string", text)
        if op not in _NUMERIC_OPS:
            raise self.unexpected("STRING")
        sign = ""
        if self.is_op("-", "+"):
            sign = self.advance().text
        tok = self.tok
        if tok.kind == NUMBER:
            self.advance()
            number = self.number(tok)
            return LabelCompare(
                name, op, "number", sign + tok.text, -number if sign == "-" else number
            )
        if tok.kind == DURATION:
            self.advance()
            seconds = self.duration(tok) / 1e9
            return LabelCompare(
                name, op, "duration", sign + tok.text, -seconds if sign == "-" else seconds
            )
        if tok.kind == BYTES:
            self.advance()
            return LabelCompare(name, op, "bytes", tok.text, literal_bytes(tok.text))
        raise self.unexpected()


def parse_query(text: str) -> Expr:
    """Parse LogQL ``text``; ``LogQLParseError`` (a ``ParseError``) with Loki's wording."""
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise LogQLParseError("query nests too deeply") from None


__all__ = ["RANGE_OPS", "VECTOR_OPS", "parse_query"]
