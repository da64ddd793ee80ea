"""The lexer of Go's text/template: text, ``{{ }}`` actions, trim markers and comments.

Items come one at a time, on demand, as Go's lexer hands them to its parser: a template whose
parse fails early never reports a lexical error further down, so the first error a user sees is
the one Go shows. Positions are indices into the text (code points); lines start at 1.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass

from spyglass.core.template._printing import go_quote, go_rune_name


class T(enum.IntEnum):
    """Item types. The order matters only in that keywords come after ``KEYWORD``."""

    ERROR = enum.auto()
    BOOL = enum.auto()
    CHAR = enum.auto()  # a printable ASCII character that means nothing alone (the comma)
    CHAR_CONSTANT = enum.auto()
    COMMENT = enum.auto()
    COMPLEX = enum.auto()
    ASSIGN = enum.auto()  # =
    DECLARE = enum.auto()  # :=
    EOF = enum.auto()
    FIELD = enum.auto()  # .Name
    IDENTIFIER = enum.auto()
    LEFT_DELIM = enum.auto()
    LEFT_PAREN = enum.auto()
    NUMBER = enum.auto()
    PIPE = enum.auto()
    RAW_STRING = enum.auto()
    RIGHT_DELIM = enum.auto()
    RIGHT_PAREN = enum.auto()
    SPACE = enum.auto()
    STRING = enum.auto()
    TEXT = enum.auto()
    VARIABLE = enum.auto()  # $, $name
    KEYWORD = enum.auto()
    BLOCK = enum.auto()
    BREAK = enum.auto()
    CONTINUE = enum.auto()
    DOT = enum.auto()
    DEFINE = enum.auto()
    ELSE = enum.auto()
    END = enum.auto()
    IF = enum.auto()
    NIL = enum.auto()
    RANGE = enum.auto()
    TEMPLATE = enum.auto()
    WITH = enum.auto()


KEYWORDS = {
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
_LEFT_COMMENT = "/*"
_RIGHT_COMMENT = "*/"
_SPACE = " \t\r\n"
_EOF = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One token: its type, where it starts, its text and the line it starts on."""

    typ: T
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        # Parse errors show items this way ("unexpected <end> in ...", "unexpected "x" in ...").
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def _is_space(c: str) -> bool:
    return c != "" and c in _SPACE


def _is_alnum(c: str) -> bool:
    # Go: '_', unicode.IsLetter (categories L*) or unicode.IsDigit (Nd).
    return c != "" and (c == "_" or c.isalpha() or c.isdecimal())


def _has_left_trim(s: str, at: int) -> bool:
    return s[at : at + 1] == "-" and _is_space(s[at + 1 : at + 2])


def _has_right_trim(s: str, at: int) -> bool:
    return _is_space(s[at : at + 1]) and s[at + 1 : at + 2] == "-"


class Lexer:
    """Hands out the items of one template text; ``next_item`` after the end keeps giving EOF."""

    def __init__(self, text: str, *, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.text = text
        self._input_end = len(text)
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.inside_action = False
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self._item: Item | None = None
        self._dead = False

    def line_at(self, pos: int) -> int:
        """1 + the number of newlines before ``pos``."""
        return 1 + bisect.bisect_left(self._newlines, pos)

    # --- scanning primitives -------------------------------------------------------------
    def _next(self) -> str:
        if self.pos >= self._input_end:
            self.pos = self._input_end + 1  # past the end: backup() returns to the end
            return _EOF
        c = self.text[self.pos]
        self.pos += 1
        return c

    def _backup(self) -> None:
        self.pos -= 1

    def _peek(self) -> str:
        c = self._next()
        self._backup()
        return c

    def _accept(self, valid: str) -> bool:
        c = self._next()
        if c != _EOF and c in valid:
            return True
        self._backup()
        return False

    def _accept_run(self, valid: str) -> None:
        while True:
            c = self._next()
            if c == _EOF or c not in valid:
                break
        self._backup()

    def _this(self, typ: T) -> Item:
        item = Item(typ, self.start, self.text[self.start : self.pos], self.line_at(self.start))
        self.start = self.pos
        return item

    def _emit(self, typ: T) -> None:
        self._item = self._this(typ)

    def _errorf(self, message: str) -> None:
        self._item = Item(T.ERROR, self.start, message, self.line_at(self.start))
        # Like Go's lexer: after an error nothing more comes but EOF.
        self._dead = True

    def next_item(self) -> Item:
        """The next item; EOF (forever) at the end or after an error."""
        if self._dead:
            return Item(T.EOF, 0, "EOF", self.line_at(0))
        self._item = None
        while self._item is None:
            if self.inside_action:
                self._lex_inside_action()
            else:
                self._lex_text()
        return self._item

    # --- states ----------------------------------------------------------------------------
    def _lex_text(self) -> None:
        x = self.text.find(LEFT_DELIM, self.pos)
        if x >= 0:
            if x > self.pos:
                self.pos = x
                trim = 0
                if _has_left_trim(self.text, x + len(LEFT_DELIM)):
                    chunk = self.text[self.start : self.pos]
                    trim = len(chunk) - len(chunk.rstrip(_SPACE))
                self.pos -= trim
                item = self._this(T.TEXT)
                self.pos += trim
                self.start = self.pos
                if item.val:
                    self._item = item
                    return
            self._lex_left_delim()
            return
        self.pos = self._input_end
        if self.pos > self.start:
            self._emit(T.TEXT)
            return
        self._emit(T.EOF)

    def _at_right_delim(self) -> tuple[bool, bool]:
        if _has_right_trim(self.text, self.pos) and self.text.startswith(RIGHT_DELIM, self.pos + 2):
            return True, True
        if self.text.startswith(RIGHT_DELIM, self.pos):
            return True, False
        return False, False

    def _lex_left_delim(self) -> None:
        self.pos += len(LEFT_DELIM)
        trim = _has_left_trim(self.text, self.pos)
        after = 2 if trim else 0
        if self.text.startswith(_LEFT_COMMENT, self.pos + after):
            self.pos += after
            self.start = self.pos
            self._lex_comment()
            return
        item = self._this(T.LEFT_DELIM)
        self.inside_action = True
        self.pos += after
        self.start = self.pos
        self.paren_depth = 0
        self._item = item

    def _lex_comment(self) -> None:
        self.pos += len(_LEFT_COMMENT)
        x = self.text.find(_RIGHT_COMMENT, self.pos)
        if x < 0:
            self._errorf("unclosed comment")
            return
        self.pos = x + len(_RIGHT_COMMENT)
        delim, trim = self._at_right_delim()
        if not delim:
            self._errorf("comment ends before closing delimiter")
            return
        if trim:
            self.pos += 2
        self.pos += len(RIGHT_DELIM)
        if trim:
            rest = self.text[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE))
        self.start = self.pos
        # Comments are dropped: the parser never asks for them (Go's ParseComments mode is off).

    def _lex_right_delim(self) -> None:
        _, trim = self._at_right_delim()
        if trim:
            self.pos += 2
            self.start = self.pos
        self.pos += len(RIGHT_DELIM)
        item = self._this(T.RIGHT_DELIM)
        if trim:
            rest = self.text[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE))
            self.start = self.pos
        self.inside_action = False
        self._item = item

    def _lex_inside_action(self) -> None:
        delim, _ = self._at_right_delim()
        if delim:
            if self.paren_depth == 0:
                self._lex_right_delim()
            else:
                self._errorf("unclosed left paren")
            return
        c = self._next()
        if c == _EOF:
            self._errorf("unclosed action")
        elif _is_space(c):
            self._backup()
            self._lex_space()
        elif c == "=":
            self._emit(T.ASSIGN)
        elif c == ":":
            if self._next() != "=":
                self._errorf("expected :=")
                return
            self._emit(T.DECLARE)
        elif c == "|":
            self._emit(T.PIPE)
        elif c == '"':
            self._lex_quote()
        elif c == "`":
            self._lex_raw_quote()
        elif c == "$":
            self._lex_variable()
        elif c == "'":
            self._lex_char()
        elif c == "." and self.pos < self._input_end and not ("0" <= self.text[self.pos] <= "9"):
            self._lex_field_or_variable(T.FIELD)
        elif c in "+-." or "0" <= c <= "9":
            self._backup()
            self._lex_number()
        elif _is_alnum(c):
            self._backup()
            self._lex_identifier()
        elif c == "(":
            self.paren_depth += 1
            self._emit(T.LEFT_PAREN)
        elif c == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self._errorf("unexpected right paren")
                return
            self._emit(T.RIGHT_PAREN)
        elif c <= "\x7f" and c.isprintable():
            self._emit(T.CHAR)
        else:
            self._errorf(f"unrecognized character in action: {go_rune_name(c)}")

    def _lex_space(self) -> None:
        spaces = 0
        while _is_space(self._peek()):
            self._next()
            spaces += 1
        # A trim-marked right delimiter starts with a space: leave it for the delimiter.
        if _has_right_trim(self.text, self.pos - 1) and self.text.startswith(
            RIGHT_DELIM, self.pos + 1
        ):
            self._backup()
            if spaces == 1:
                self._lex_right_delim()
                return
        self._emit(T.SPACE)

    def _lex_identifier(self) -> None:
        while True:
            c = self._next()
            if _is_alnum(c):
                continue
            self._backup()
            word = self.text[self.start : self.pos]
            if not self._at_terminator():
                self._errorf(f"bad character {go_rune_name(c)}")
                return
            kw = KEYWORDS.get(word)
            if kw is not None:
                if (kw == T.BREAK and not self.break_ok) or (
                    kw == T.CONTINUE and not self.continue_ok
                ):
                    self._emit(T.IDENTIFIER)
                else:
                    self._emit(kw)
            elif word in ("true", "false"):
                self._emit(T.BOOL)
            else:
                self._emit(T.IDENTIFIER)
            return

    def _lex_variable(self) -> None:
        if self._at_terminator():  # a lone "$"
            self._emit(T.VARIABLE)
            return
        self._lex_field_or_variable(T.VARIABLE)

    def _lex_field_or_variable(self, typ: T) -> None:
        if self._at_terminator():  # a lone "." or "$"
            self._emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return
        c = ""
        while True:
            c = self._next()
            if not _is_alnum(c):
                self._backup()
                break
        if not self._at_terminator():
            self._errorf(f"bad character {go_rune_name(c)}")
            return
        self._emit(typ)

    def _at_terminator(self) -> bool:
        c = self._peek()
        if _is_space(c):
            return True
        if c == _EOF or c in ".,|:)(":
            return True
        return self.text.startswith(RIGHT_DELIM, self.pos)

    def _lex_char(self) -> None:
        while True:
            c = self._next()
            if c == "\\":
                c = self._next()
                if c not in (_EOF, "\n"):
                    continue
                self._errorf("unterminated character constant")
                return
            if c in (_EOF, "\n"):
                self._errorf("unterminated character constant")
                return
            if c == "'":
                break
        self._emit(T.CHAR_CONSTANT)

    def _lex_number(self) -> None:
        if not self._scan_number():
            self._errorf(f"bad number syntax: {go_quote(self.text[self.start : self.pos])}")
            return
        if self._peek() in ("+", "-"):
            # A complex constant such as 1+2i: no spaces, must end in "i".
            if not self._scan_number() or self.text[self.pos - 1] != "i":
                self._errorf(f"bad number syntax: {go_quote(self.text[self.start : self.pos])}")
                return
            self._emit(T.COMPLEX)
            return
        self._emit(T.NUMBER)

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if _is_alnum(self._peek()):
            self._next()
            return False
        return True

    def _lex_quote(self) -> None:
        while True:
            c = self._next()
            if c == "\\":
                c = self._next()
                if c not in (_EOF, "\n"):
                    continue
                self._errorf("unterminated quoted string")
                return
            if c in (_EOF, "\n"):
                self._errorf("unterminated quoted string")
                return
            if c == '"':
                break
        self._emit(T.STRING)

    def _lex_raw_quote(self) -> None:
        while True:
            c = self._next()
            if c == _EOF:
                self._errorf("unterminated raw quoted string")
                return
            if c == "`":
                break
        self._emit(T.RAW_STRING)
