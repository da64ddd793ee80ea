"""The parse tree of a Go template, and Go's literal syntax (numbers, strings, characters).

Each node prints back as template text the way Go's ``Node.String`` does; error messages quote
nodes that way (``executing "x" at <.Labels.job>``) and ``str(tree)`` parses to the same tree.
Every node remembers its source (the name it was parsed under and the text) and its position,
so an execution error can say ``name:line:column``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from spyglass.core.template._printing import go_quote
from spyglass.core.template._values import GO_SPACE


class SyntaxProblem(ValueError):
    """A literal is malformed; the parser reports it as a template error."""


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """The text a tree was parsed from and the name errors give it (Go's ``ParseName``)."""

    name: str
    text: str

    def location(self, pos: int) -> tuple[int, int]:
        """Line (from 1) and column (in bytes, from 0) of a position, as Go's ErrorContext."""
        before = self.text[:pos]
        line = 1 + before.count("\n")
        start = before.rfind("\n") + 1
        return line, len(before[start:].encode("utf-8", "surrogatepass"))


@dataclass(eq=False, slots=True)
class Node:
    pos: int
    src: Source

    def __str__(self) -> str:  # pragma: no cover - every node overrides it
        return ""


@dataclass(eq=False, slots=True)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False, slots=True)
class TextNode(Node):
    text: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False, slots=True)
class CommentNode(Node):
    text: str = ""

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


@dataclass(eq=False, slots=True)
class IdentifierNode(Node):
    ident: str = ""

    def __str__(self) -> str:
        return self.ident


@dataclass(eq=False, slots=True)
class VariableNode(Node):
    ident: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False, slots=True)
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass(eq=False, slots=True)
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False, slots=True)
class FieldNode(Node):
    ident: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False, slots=True)
class BoolNode(Node):
    value: bool = False

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False, slots=True)
class NumberNode(Node):
    """A numeric constant, held in every Go type that can represent it (Go's ideal constants)."""

    text: str = ""
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int64: int = 0
    uint64: int = 0
    float64: float = 0.0
    complex128: complex = 0j

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False, slots=True)
class StringNode(Node):
    quoted: str = ""
    text: str = ""

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False, slots=True)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        out = []
        for arg in self.args:
            out.append(f"({arg})" if isinstance(arg, PipeNode) else str(arg))
        return " ".join(out)


@dataclass(eq=False, slots=True)
class PipeNode(Node):
    line: int = 0
    is_assign: bool = False
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        head = ""
        if self.decl:
            head = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False, slots=True)
class ChainNode(Node):
    node: Node | None = None
    field: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return head + "".join("." + f for f in self.field)


@dataclass(eq=False, slots=True)
class ActionNode(Node):
    line: int = 0
    pipe: PipeNode | None = None

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False, slots=True)
class EndNode(Node):
    def __str__(self) -> str:
        return "{{end}}"


@dataclass(eq=False, slots=True)
class ElseNode(Node):
    line: int = 0

    def __str__(self) -> str:
        return "{{else}}"


@dataclass(eq=False, slots=True)
class BreakNode(Node):
    line: int = 0

    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False, slots=True)
class ContinueNode(Node):
    line: int = 0

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(eq=False, slots=True)
class BranchNode(Node):
    """``if``, ``range`` and ``with``: a pipeline, a body and an optional else body."""

    line: int = 0
    pipe: PipeNode | None = None
    list: ListNode | None = None
    else_list: ListNode | None = None

    keyword = ""

    def __str__(self) -> str:
        out = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            out += "{{else}}" + str(self.else_list)
        return out + "{{end}}"


@dataclass(eq=False, slots=True)
class IfNode(BranchNode):
    keyword = "if"


@dataclass(eq=False, slots=True)
class RangeNode(BranchNode):
    keyword = "range"


@dataclass(eq=False, slots=True)
class WithNode(BranchNode):
    keyword = "with"


@dataclass(eq=False, slots=True)
class TemplateNode(Node):
    line: int = 0
    name: str = ""
    pipe: PipeNode | None = None

    def __str__(self) -> str:
        if self.pipe is None:
            return "{{template " + go_quote(self.name) + "}}"
        return "{{template " + go_quote(self.name) + " " + str(self.pipe) + "}}"


def is_empty_tree(node: Node | None) -> bool:
    """Go's IsEmptyTree: nothing but space and comments (a define of that is no definition)."""
    if node is None or isinstance(node, CommentNode):
        return True
    if isinstance(node, ListNode):
        return all(is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return node.text.strip(GO_SPACE) == ""
    return False


# --- Go's literal syntax -------------------------------------------------------------------

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}
_HEX = "0123456789abcdefABCDEF"


def _unquote_char(s: str, i: int, quote: str, out: bytearray) -> int:
    """Decode one (possibly escaped) character of a literal at ``s[i]`` into ``out``."""
    c = s[i]
    if c == quote and quote in "'\"":
        raise SyntaxProblem("invalid syntax")
    if c != "\\":
        out += c.encode("utf-8", "surrogatepass")
        return i + 1
    if i + 1 >= len(s):
        raise SyntaxProblem("invalid syntax")
    c = s[i + 1]
    i += 2
    if c in _SIMPLE_ESCAPES:
        out += _SIMPLE_ESCAPES[c].encode()
        return i
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i : i + n]
        if len(digits) < n or any(d not in _HEX for d in digits):
            raise SyntaxProblem("invalid syntax")
        v = int(digits, 16)
        if c == "x":
            out.append(v)  # a single byte, as Go's \x does
        else:
            if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                raise SyntaxProblem("invalid syntax")
            out += chr(v).encode("utf-8")
        return i + n
    if "0" <= c <= "7":
        digits = s[i - 1 : i + 2]
        if len(digits) < 3 or any(not "0" <= d <= "7" for d in digits):
            raise SyntaxProblem("invalid syntax")
        v = int(digits, 8)
        if v > 255:
            raise SyntaxProblem("invalid syntax")
        out.append(v)
        return i + 2
    if c in "'\"" and c == quote:
        out += c.encode()
        return i
    raise SyntaxProblem("invalid syntax")


def unquote(s: str) -> str:
    """Go's ``strconv.Unquote`` for ``"..."``, ```...``` and ``'c'`` literals."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"`'":
        raise SyntaxProblem("invalid syntax")
    quote = s[0]
    body = s[1:-1]
    if quote == "`":
        if "`" in body:
            raise SyntaxProblem("invalid syntax")
        return body.replace("\r", "")
    if "\n" in body:
        raise SyntaxProblem("invalid syntax")
    out = bytearray()
    i = 0
    while i < len(body):
        i = _unquote_char(body, i, quote, out)
    # Escapes can spell bytes that are not UTF-8; Python strings hold characters.
    return out.decode("utf-8", "replace")


def char_value(text: str) -> int:
    """The rune of a character constant such as ``'a'`` or ``'\\n'``."""
    body = text[1:]
    out = bytearray()
    if not body or body[0] == "'":
        raise SyntaxProblem("invalid syntax")
    end = _unquote_char(body, 0, "'", out)
    if body[end:] != "'":
        raise SyntaxProblem(f"malformed character constant: {text}")
    if len(out) == 1:
        return out[0]
    return ord(out.decode("utf-8", "replace")[0])


def underscore_ok(s: str) -> bool:
    """Go's rule for ``_`` in numbers: only between digits or after a base prefix."""
    saw = "^"
    i = 0
    if s[:1] in "+-":
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if (c.isdigit() and c.isascii()) or (hexa and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _parse_int(text: str, *, signed: bool) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` / ``ParseUint``: ``None`` when it fails."""
    s = text
    neg = False
    if signed and s[:1] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if not s:
        return None
    base = 10
    digits = s
    if s[0] == "0" and len(s) > 1:
        prefix = s[1].lower()
        if prefix in "box":
            base = {"b": 2, "o": 8, "x": 16}[prefix]
            digits = s[2:]
        else:
            base = 8
            digits = s[1:]
    if "_" in digits or "_" in s:
        if not underscore_ok(s):
            return None
        digits = digits.replace("_", "")
    if not digits:
        return None
    try:
        value = int(digits, base)
    except ValueError:
        return None
    if any(not (c.isascii() and c.isalnum()) for c in digits):
        return None
    value = -value if neg else value
    if signed:
        return value if -(1 << 63) <= value < (1 << 63) else None
    return value if 0 <= value < (1 << 64) else None


def _parse_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` for the forms the lexer lets through."""
    s = text
    if "_" in s:
        if not underscore_ok(s):
            return None
        s = s.replace("_", "")
    body = s.lstrip("+-")
    if len(s) - len(body) > 1 or not body:
        return None
    try:
        if body[:2].lower() == "0x":
            if "p" not in body.lower():
                return None  # Go needs the p exponent in a hexadecimal float
            value = float.fromhex(s)
        else:
            if not all(c.isascii() and (c.isdigit() or c in ".eE+-") for c in body):
                return None
            value = float(s)
    except (ValueError, OverflowError):
        return None
    if math.isinf(value):
        return None  # out of range: Go reports an error, not infinity
    return value


def parse_number(
    pos: int, src: Source, text: str, *, is_char: bool, is_complex: bool
) -> NumberNode:
    """Go's newNumber: every interpretation of a numeric constant that fits."""
    n = NumberNode(pos, src, text=text)
    if is_char:
        r = char_value(text)
        n.is_int = n.is_uint = n.is_float = True
        n.int64 = n.uint64 = r
        n.float64 = float(r)
        return n
    if is_complex:
        try:
            n.complex128 = complex(text.replace("i", "j").replace("_", ""))
        except ValueError:
            raise SyntaxProblem("expected integer") from None
        n.is_complex = True
        _simplify_complex(n)
        return n
    if text.endswith("i"):
        f = _parse_float(text[:-1])
        if f is not None:
            n.is_complex = True
            n.complex128 = complex(0, f)
            _simplify_complex(n)
            return n
    u = _parse_int(text, signed=False)
    if u is not None:
        n.is_uint = True
        n.uint64 = u
    i = _parse_int(text, signed=True)
    if i is not None:
        n.is_int = True
        n.int64 = i
        if i == 0:
            n.is_uint = True
            n.uint64 = 0
    if n.is_int:
        n.is_float = True
        n.float64 = float(n.int64)
    elif n.is_uint:
        n.is_float = True
        n.float64 = float(n.uint64)
    else:
        f = _parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise SyntaxProblem(f"integer overflow: {go_quote(text)}")
            n.is_float = True
            n.float64 = f
            if math.isfinite(f) and f == math.trunc(f) and -(2**63) <= f < 2**63:
                n.is_int = True
                n.int64 = int(f)
            if math.isfinite(f) and f == math.trunc(f) and 0 <= f < 2**64:
                n.is_uint = True
                n.uint64 = int(f)
    if not (n.is_int or n.is_uint or n.is_float):
        raise SyntaxProblem(f"illegal number syntax: {go_quote(text)}")
    return n


def _simplify_complex(n: NumberNode) -> None:
    n.is_float = n.complex128.imag == 0
    if n.is_float:
        n.float64 = f = n.complex128.real
        if not math.isfinite(f):
            return
        n.is_int = f == math.trunc(f) and -(2**63) <= f < 2**63
        if n.is_int:
            n.int64 = int(f)
        n.is_uint = f == math.trunc(f) and 0 <= f < 2**64
        if n.is_uint:
            n.uint64 = int(f)
