"""Alertmanager's label matchers and its two matcher syntaxes.

Alertmanager reads matchers in routes (``matchers:``), inhibit rules, silences and amtool's
arguments. Since 0.27 it parses them with a UTF-8 parser (quoted or unquoted names and values,
optional braces, Go-quoted strings) and falls back to the classic parser (a Prometheus label name,
an operator, then the rest of the text as the value, OpenMetrics escapes) when the new one
rejects the input, logging a warning; ``mode`` selects that default (``fallback``), or either
parser alone (Alertmanager's ``utf8-strict-mode`` and ``classic-mode`` feature flags).

Regexes are Go's (RE2 syntax) anchored as Alertmanager anchors them, ``^(?:...)$``: unlike
PromQL's matchers in ``spyglass.core.matchers``, ``.`` does not match a newline here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from spyglass.alerting._golang import Regex, quote, unquote
from spyglass.core.errors import BadInput
from spyglass.core.matchers import MatchOp

Mode = Literal["fallback", "utf8", "classic"]
"""Which matcher parser reads matchers (Alertmanager's default is ``fallback``)."""

# Alertmanager's MatchType order (=, !=, =~, !~) breaks ties when matchers are sorted.
_OP_ORDER = {MatchOp.EQUAL: 0, MatchOp.NOT_EQUAL: 1, MatchOp.REGEX: 2, MatchOp.NOT_REGEX: 3}
# Go's unicode.IsSpace (Python's isspace also counts the ASCII separators 0x1c-0x1f).
_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_RESERVED = frozenset("{}!=~,\\\"'`")
_LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# The classic parser: RE2's \s is [\t\n\f\r ]; \Z because Python's $ also matches before "\n".
_CLASSIC = re.compile(
    r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*"
    r"(=~|=|!=|!~)[\t\n\f\r ]*(.*?)[\t\n\f\r ]*\Z",
    re.S,
)


class MatcherError(BadInput):
    """A matcher that does not parse; the message is Alertmanager's."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One Alertmanager matcher. A missing label matches as the empty value."""

    name: str
    op: MatchOp
    value: str
    _regex: Regex | None = field(default=None, compare=False, repr=False, hash=False)

    @classmethod
    def of(cls, name: str, op: MatchOp | str, value: str) -> Matcher:
        """Build a matcher, compiling a regex as ``^(?:value)$``; ``MatcherError`` if invalid."""
        op = MatchOp(op)
        regex = None
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                regex = Regex(f"^(?:{value})$")
            except BadInput as exc:
                raise MatcherError(str(exc)) from None
        return cls(name, op, value, regex)

    def matches_value(self, value: str) -> bool:
        """Whether a label value (``""`` when absent) satisfies the matcher."""
        if self.op is MatchOp.EQUAL:
            return value == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None
        return self._regex.search(value) == (self.op is MatchOp.REGEX)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies the matcher."""
        return self.matches_value(labels.get(self.name, ""))

    @property
    def sort_key(self) -> tuple[str, str, int]:
        """Alertmanager's order: by name, then value, then operator."""
        return (self.name, self.value, _OP_ORDER[self.op])

    def __str__(self) -> str:
        # A name with characters the classic parser cannot read is written Go-quoted.
        if any(c in _SPACES or c in _RESERVED for c in self.name):
            return f"{quote(self.name)}{self.op.value}{quote(self.value)}"
        escaped = self.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{escaped}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether a label set satisfies every matcher."""
    return all(m.matches(labels) for m in matchers)


def format_matchers(matchers: Iterable[Matcher]) -> str:
    """``{a="b",c=~"d"}``, as Alertmanager prints a matcher list (route keys, amtool)."""
    return "{" + ",".join(str(m) for m in matchers) + "}"


def sort_matchers(matchers: Iterable[Matcher]) -> tuple[Matcher, ...]:
    """Matchers in Alertmanager's order."""
    return tuple(sorted(matchers, key=lambda m: m.sort_key))


def is_valid_label_name(name: str, mode: Mode = "fallback") -> bool:
    """A label name Alertmanager accepts in ``group_by``, ``equal`` and route labels.

    Any non-empty UTF-8 name, except in classic mode, which wants Prometheus' legacy names.
    """
    if mode == "classic":
        return _LEGACY_NAME.match(name) is not None
    return name != ""


def is_legacy_label_name(name: str) -> bool:
    """Prometheus' legacy label name (what ``match`` and ``match_re`` keys must be)."""
    return _LEGACY_NAME.match(name) is not None


def parse_matchers(
    text: str, *, mode: Mode = "fallback", warnings: list[str] | None = None
) -> tuple[Matcher, ...]:
    """Parse zero or more matchers (``foo="bar", baz=~"a|b"``, braces optional).

    In ``fallback`` mode, input only the classic parser reads is accepted and a warning saying
    how to write it for the UTF-8 parser is appended to ``warnings``.
    """
    if mode == "classic":
        return parse_classic_matchers(text)
    if mode == "utf8":
        return parse_utf8_matchers(text)
    try:
        new = parse_utf8_matchers(text)
    except MatcherError as new_error:
        try:
            old = parse_classic_matchers(text)
        except MatcherError:
            raise
        if warnings is not None:
            suggestion = ",".join(str(m) for m in old)
            warnings.append(_incompatible(text, str(new_error), suggestion))
        return old
    try:
        old = parse_classic_matchers(text)
    except MatcherError:
        return new
    if old != new and warnings is not None:
        warnings.append(
            f"{quote(text)} means {format_matchers(old)} to the classic matchers parser and "
            f"{format_matchers(new)} to the UTF-8 one; Alertmanager uses the classic reading "
            "for now: quote the values to make them mean the same to both"
        )
    return old


def parse_matcher(
    text: str, *, mode: Mode = "fallback", warnings: list[str] | None = None
) -> Matcher:
    """Parse exactly one matcher (amtool's label arguments, silence matchers)."""
    if mode == "classic":
        return parse_classic_matcher(text)
    if text.startswith("{") or text.endswith("}"):
        raise MatcherError(f"unexpected open or close brace: {text}")
    if mode == "utf8":
        return _one(parse_utf8_matchers(text))
    try:
        new = _one(parse_utf8_matchers(text))
    except MatcherError as new_error:
        old = parse_classic_matcher(text)
        if warnings is not None:
            warnings.append(_incompatible(text, str(new_error), str(old)))
        return old
    try:
        old = parse_classic_matcher(text)
    except MatcherError:
        return new
    return old


def _one(matchers: tuple[Matcher, ...]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if not matchers:
        raise MatcherError("no matchers")
    raise MatcherError(f"expected 1 matcher, found {len(matchers)}")


def _incompatible(text: str, reason: str, suggestion: str) -> str:
    return (
        f"{quote(text)} is only valid in Alertmanager's classic matcher syntax ({reason}); "
        f"Alertmanager still accepts it, but write it as {suggestion} (values in double "
        "quotes, backslashes escaped) so the UTF-8 matchers parser reads it too"
    )


# -- the classic parser ---------------------------------------------------------------------


def parse_classic_matchers(text: str) -> tuple[Matcher, ...]:
    """Alertmanager's classic ``ParseMatchers``: commas split outside double quotes."""
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    quoted = escaped = False
    for ch in text:
        if ch == ",":
            # Alertmanager leaves the escape state alone at a comma, even inside quotes.
            if not quoted:
                tokens.append("".join(token))
                token = []
                continue
        elif ch == '"':
            if escaped:
                escaped = False
            else:
                quoted = not quoted
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(ch)
    last = "".join(token).strip("".join(_SPACES))
    if last:
        tokens.append(last)
    return tuple(parse_classic_matcher(t) for t in tokens)


def parse_classic_matcher(text: str) -> Matcher:
    """Alertmanager's classic ``ParseMatcher``: ``name op value``, the value optionally quoted."""
    m = _CLASSIC.match(text)
    if m is None:
        raise MatcherError(f"bad matcher format: {text}")
    name, op, raw = m.group(1), m.group(2), m.group(3)
    expect_quote = raw.startswith('"')
    body = raw[1:] if expect_quote else raw
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(body):
        if escaped:
            escaped = False
            if ch == "n":
                out.append("\n")
            elif ch in ('"', "\\"):
                out.append(ch)
            else:  # a spurious escape: the backslash is literal
                out.append("\\" + ch)
            continue
        if ch == "\\":
            if i < len(body) - 1:
                escaped = True
                continue
            out.append("\\")
        elif ch == '"':
            if not expect_quote or i < len(body) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {raw}")
            expect_quote = False
        else:
            out.append(ch)
    if expect_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {raw}")
    return Matcher.of(name, op, "".join(out))


# -- the UTF-8 parser -----------------------------------------------------------------------

_OPEN, _CLOSE, _COMMA, _OPERATOR, _QUOTED, _UNQUOTED, _EOF = range(7)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: int
    value: str
    start: int  # column (rune index) where the token starts
    end: int


class _EndOfInput(Exception):
    """The parser asked for a token and the input was used up (Go's errEOF)."""

    def __str__(self) -> str:
        return "end of input"


class _Lexer:
    """Alertmanager's matcher lexer; positions count runes, as its messages do."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.start = 0
        self.pos = 0
        self.error: MatcherError | None = None

    def scan(self) -> _Token:
        # Once the input is known to be invalid, every later scan reports the same error.
        if self.error is not None:
            raise self.error
        try:
            return self._scan()
        except MatcherError as exc:
            self.error = exc
            raise

    def peek(self) -> _Token:
        start, pos = self.start, self.pos
        try:
            return self.scan()
        finally:
            self.start, self.pos = start, pos

    def _scan(self) -> _Token:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in "{},":
                self.pos += 1
                return self._emit({"{": _OPEN, "}": _CLOSE, ",": _COMMA}[ch])
            if ch in "=!":
                return self._operator()
            if ch == '"':
                return self._quoted()
            if ch not in _SPACES and ch not in _RESERVED:
                while self.pos < len(text) and not _reserved(text[self.pos]):
                    self.pos += 1
                return self._emit(_UNQUOTED)
            self.pos += 1
            if ch in _SPACES:
                self.start = self.pos
                continue
            raise self._fail("invalid input")
        return _Token(_EOF, "", self.start, self.pos)

    def _operator(self) -> _Token:
        text = self.text
        first = text[self.pos]
        self.pos += 1
        following = text[self.pos] if self.pos < len(text) else ""
        if first == "!":
            if following in ("=", "~"):
                self.pos += 1
                return self._emit(_OPERATOR)
            raise self._expected("=~")
        if following == "~":
            self.pos += 1
        return self._emit(_OPERATOR)

    def _quoted(self) -> _Token:
        text = self.text
        self.pos += 1
        escaped = False
        while self.pos < len(text):
            ch = text[self.pos]
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                self.pos += 1
                return self._emit(_QUOTED)
            self.pos += 1
        raise MatcherError(f'{self.start}:{self.pos}: {text[self.start : self.pos]}: missing end "')

    def _emit(self, kind: int) -> _Token:
        token = _Token(kind, self.text[self.start : self.pos], self.start, self.pos)
        self.start = self.pos
        return token

    def _fail(self, what: str) -> MatcherError:
        return MatcherError(f"{self.start}:{self.pos}: {self.text[self.start : self.pos]}: {what}")

    def _expected(self, expected: str) -> MatcherError:
        if self.pos >= len(self.text):
            return MatcherError(
                f"{self.start}:{self.pos}: unexpected end of input, expected one of '{expected}'"
            )
        return self._fail(f"expected one of '{expected}'")


def _reserved(ch: str) -> bool:
    return ch in _SPACES or ch in _RESERVED


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.matchers: list[Matcher] = []
        self.open_brace = False

    def expect_peek(self, *kinds: int) -> _Token:
        token = self.lexer.peek()
        if token.kind == _EOF:
            raise _EndOfInput
        if token.kind not in kinds:
            raise MatcherError(f"{token.start}:{token.end}: unexpected {token.value}")
        return token

    def expect(self, *kinds: int) -> _Token:
        token = self.expect_peek(*kinds)
        self.lexer.scan()
        return token

    def parse(self) -> tuple[Matcher, ...]:
        lexer = self.lexer
        first = lexer.peek()
        if first.kind == _EOF:
            self.end()
            return ()
        if first.kind == _OPEN:
            lexer.scan()
            self.open_brace = True
        following = lexer.peek()
        if following.kind in (_EOF, _CLOSE):
            self.close_brace()
            return tuple(self.matchers)
        while True:
            self.matcher()
            try:
                token = self.expect_peek(_COMMA, _CLOSE)
            except _EndOfInput:
                break
            except MatcherError as exc:
                raise MatcherError(f"{exc}: expected a comma or close brace") from None
            if token.kind == _CLOSE:
                break
            self.expect(_COMMA)
            try:
                token = self.expect_peek(_CLOSE, _UNQUOTED, _QUOTED)
            except _EndOfInput:
                break
            except MatcherError as exc:
                raise MatcherError(
                    f"{exc}: expected a matcher or close brace after comma"
                ) from None
            if token.kind == _CLOSE:
                break
        self.close_brace()
        return tuple(self.matchers)

    def matcher(self) -> None:
        name = self.operand("expected label name")
        try:
            op = self.expect(_OPERATOR).value
        except (_EndOfInput, MatcherError) as exc:
            raise MatcherError(
                f"{exc}: expected an operator such as '=', '!=', '=~' or '!~'"
            ) from None
        value = self.operand("expected label value")
        try:
            self.matchers.append(Matcher.of(name, op, value))
        except MatcherError as exc:
            raise MatcherError(f"failed to create matcher: {exc}") from None

    def operand(self, what: str) -> str:
        try:
            token = self.expect(_QUOTED, _UNQUOTED)
        except (_EndOfInput, MatcherError) as exc:
            raise MatcherError(f"{exc}: {what}") from None
        if token.kind == _UNQUOTED:
            return token.value
        try:
            return unquote(token.value)
        except ValueError:
            raise MatcherError(f"{token.start}:{token.end}: {token.value}: invalid input") from None

    def close_brace(self) -> None:
        if self.open_brace:
            try:
                self.expect(_CLOSE)
            except (_EndOfInput, MatcherError) as exc:
                raise MatcherError(f"0:{self.lexer.pos}: {exc}: expected close brace") from None
        else:
            try:
                self.expect(_CLOSE)
            except (_EndOfInput, MatcherError):
                pass
            else:
                raise MatcherError(f"0:{self.lexer.pos}: }}: expected opening brace")
        self.end()

    def end(self) -> None:
        try:
            token = self.lexer.scan()
        except MatcherError as exc:
            raise MatcherError(f"{exc}: expected end of input") from None
        if token.kind != _EOF:
            raise MatcherError(f"{token.start}:{token.end}: {token.value}: expected end of input")


def parse_utf8_matchers(text: str) -> tuple[Matcher, ...]:
    """Alertmanager's UTF-8 matchers parser (``matcher/parse``), with its error messages."""
    return _Parser(text).parse()


__all__ = [
    "Matcher",
    "MatcherError",
    "Mode",
    "format_matchers",
    "is_legacy_label_name",
    "is_valid_label_name",
    "matches_all",
    "parse_classic_matcher",
    "parse_classic_matchers",
    "parse_matcher",
    "parse_matchers",
    "parse_utf8_matchers",
    "sort_matchers",
]
