"""The parser of Go's text/template: items to trees, with Go's error messages.

It follows Go's parser step for step (three items of look-ahead, the same contexts in its
messages), because users compare our errors with Prometheus' and Alertmanager's: ``template:
<name>:<line>: unexpected "}" in operand``. One parse yields the main tree plus one tree per
``{{define}}`` and ``{{block}}``.

A deliberate difference: nesting is capped at ``MAX_DEPTH`` levels of parentheses and control
structures together (Go allows 10000 parentheses and unbounded control nesting), so that a
hostile template fails with a ``TemplateError`` instead of exhausting Python's stack.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from spyglass.core.errors import TemplateError
from spyglass.core.template import _nodes as n
from spyglass.core.template._lexer import Item, Lexer, T
from spyglass.core.template._printing import go_quote

MAX_DEPTH = 100
MAX_PIPELINE_COMMANDS = 100_000

_OPERAND_START = frozenset(
    (
        T.BOOL,
        T.CHAR_CONSTANT,
        T.COMPLEX,
        T.DOT,
        T.FIELD,
        T.IDENTIFIER,
        T.NUMBER,
        T.NIL,
        T.RAW_STRING,
        T.STRING,
        T.VARIABLE,
        T.LEFT_PAREN,
    )
)


class Tree:
    """One parsed template: its name and its body."""

    __slots__ = ("name", "root", "source")

    def __init__(self, name: str, root: n.ListNode, source: n.Source) -> None:
        self.name = name
        self.root = root
        self.source = source

    def __str__(self) -> str:
        return str(self.root)


class _Parser:
    """Parses one tree. A ``{{define}}`` or ``{{block}}`` body gets a parser of its own on the
    same lexer, with its own look-ahead, as in Go (errors cite the line of the parser's last item).
    """

    def __init__(
        self,
        name: str,
        lexer: Lexer,
        source: n.Source,
        trees: dict[str, Tree],
        has_function: Callable[[str], bool],
    ) -> None:
        self.name = name
        self.lexer = lexer
        self.token: list[Item] = [Item(T.EOF, 0, "", 1)] * 3
        self.peek_count = 0
        self.src = source
        self.trees = trees
        self.has_function = has_function
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.depth = 0
        self.root = n.ListNode(0, source)

    # --- the item stream ---------------------------------------------------------------------
    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lexer.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lexer.next_item()
        return self.token[0]

    def next_non_space(self) -> Item:
        while True:
            token = self.next()
            if token.typ != T.SPACE:
                return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    # --- errors ------------------------------------------------------------------------------
    def error(self, message: str) -> TemplateError:
        line = self.token[0].line
        return TemplateError(
            f"template: {self.src.name}:{line}: {message}", name=self.src.name, line=line
        )

    def expect(self, expected: T, context: str) -> Item:
        token = self.next_non_space()
        if token.typ != expected:
            raise self.unexpected(token, context)
        return token

    def expect_one_of(self, expected: Container[T], context: str) -> Item:
        token = self.next_non_space()
        if token.typ not in expected:
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> TemplateError:
        if token.typ == T.ERROR:
            extra = ""
            if self.action_line not in (0, token.line):
                extra = f" in action started at {self.src.name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.error(f"{token}{extra}")
        return self.error(f"unexpected {token} in {context}")

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("max expression depth exceeded")

    # --- trees -------------------------------------------------------------------------------
    def parse(self) -> None:
        """The top level: text, actions and ``{{define}}``s up to the end of the input."""
        self.root = n.ListNode(self.peek().pos, self.src)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == T.DEFINE:
                    sub = _Parser("definition", self.lexer, self.src, self.trees, self.has_function)
                    sub.parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                raise self.error(f"unexpected {node}")
            self.root.nodes.append(node)

    def add(self) -> None:
        tree = self.trees.get(self.name)
        if tree is None or n.is_empty_tree(tree.root):
            self.trees[self.name] = Tree(self.name, self.root, self.src)
            return
        if not n.is_empty_tree(self.root):
            raise self.error(f"template: multiple definition of template {go_quote(self.name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.expect_one_of((T.STRING, T.RAW_STRING), context)
        self.name = self.unquote(token.val)
        self.expect(T.RIGHT_DELIM, context)
        self.root, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.error(f"unexpected {end} in {context}")
        self.add()

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        """``textOrAction*`` up to an ``{{end}}`` or ``{{else}}``, returned separately."""
        lst = n.ListNode(self.peek_non_space().pos, self.src)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                return lst, node
            lst.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> n.Node:
        token = self.next_non_space()
        if token.typ == T.TEXT:
            return n.TextNode(token.pos, self.src, text=token.val)
        if token.typ == T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ == T.COMMENT:  # pragma: no cover - comments are never emitted
            return n.CommentNode(token.pos, self.src, text=token.val)
        raise self.unexpected(token, "input")

    def action(self) -> n.Node:
        token = self.next_non_space()
        match token.typ:
            case T.BLOCK:
                return self.block_control()
            case T.BREAK:
                return self.break_control(token, "{{break}}", n.BreakNode)
            case T.CONTINUE:
                return self.break_control(token, "{{continue}}", n.ContinueNode)
            case T.ELSE:
                return self.else_control()
            case T.END:
                return n.EndNode(self.expect(T.RIGHT_DELIM, "end").pos, self.src)
            case T.IF:
                return self.control(n.IfNode, "if")
            case T.RANGE:
                return self.control(n.RangeNode, "range")
            case T.TEMPLATE:
                return self.template_control()
            case T.WITH:
                return self.control(n.WithNode, "with")
        self.backup()
        token = self.peek()
        pipe = self.pipeline("command", T.RIGHT_DELIM)
        return n.ActionNode(token.pos, self.src, line=token.line, pipe=pipe)

    def break_control(
        self, token: Item, context: str, node: type[n.BreakNode | n.ContinueNode]
    ) -> n.Node:
        after = self.next_non_space()
        if after.typ != T.RIGHT_DELIM:
            raise self.unexpected(after, context)
        if self.range_depth == 0:
            raise self.error(f"{context} outside {{{{range}}}}")
        return node(token.pos, self.src, line=token.line)

    # --- pipelines -----------------------------------------------------------------------------
    def pipeline(self, context: str, end: T) -> n.PipeNode:
        token = self.peek_non_space()
        pipe = n.PipeNode(token.pos, self.src, line=token.line)
        while True:  # declarations: "$x :=", "$x =", "$i, $e :="
            v = self.peek_non_space()
            if v.typ != T.VARIABLE:
                break
            self.next()
            after_variable = self.peek()
            following = self.peek_non_space()
            if following.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = following.typ == T.ASSIGN
                self.next_non_space()
                pipe.decl.append(self.variable(v.pos, v.val))
                self.vars.append(v.val)
            elif following.typ == T.CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(self.variable(v.pos, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue  # the second variable of a range
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            elif after_variable.typ == T.SPACE:
                self.backup3(v, after_variable)
            else:
                self.backup2(v)
            break
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
                if len(pipe.cmds) > MAX_PIPELINE_COMMANDS:
                    raise self.error("pipeline too long")
            else:
                raise self.unexpected(token, context)

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(
                cmd.args[0], n.BoolNode | n.DotNode | n.NilNode | n.NumberNode | n.StringNode
            ):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def control(self, node: type[n.BranchNode], context: str) -> n.BranchNode:
        self._deeper()
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, following = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: n.ListNode | None = None
            if isinstance(following, n.ElseNode):
                # "{{else if ...}}" and "{{else with ...}}" nest a control in the else branch and
                # share its {{end}}.
                if context == "if" and self.peek().typ == T.IF:
                    self.next()
                    else_list = n.ListNode(following.pos, self.src)
                    else_list.nodes.append(self.control(n.IfNode, "if"))
                elif context == "with" and self.peek().typ == T.WITH:
                    self.next()
                    else_list = n.ListNode(following.pos, self.src)
                    else_list.nodes.append(self.control(n.WithNode, "with"))
                else:
                    else_list, following = self.item_list()
                    if not isinstance(following, n.EndNode):
                        raise self.error(f"expected end; found {following}")
            return node(
                pipe.pos, self.src, line=pipe.line, pipe=pipe, list=body, else_list=else_list
            )
        finally:
            del self.vars[mark:]
            self.depth -= 1

    def else_control(self) -> n.Node:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):
            # Leave the "if"/"with" for the enclosing control to parse.
            return n.ElseNode(peek.pos, self.src, line=peek.line)
        token = self.expect(T.RIGHT_DELIM, "else")
        return n.ElseNode(token.pos, self.src, line=token.line)

    def block_control(self) -> n.Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        self._deeper()
        try:
            sub = _Parser(name, self.lexer, self.src, self.trees, self.has_function)
            sub.depth = self.depth
            sub.root, end = sub.item_list()
        finally:
            self.depth -= 1
        if not isinstance(end, n.EndNode):
            raise self.error(f"unexpected {end} in {context}")
        sub.add()
        return n.TemplateNode(token.pos, self.src, line=token.line, name=name, pipe=pipe)

    def template_control(self) -> n.Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe: n.PipeNode | None = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return n.TemplateNode(token.pos, self.src, line=token.line, name=name, pipe=pipe)

    def template_name(self, token: Item, context: str) -> str:
        if token.typ in (T.STRING, T.RAW_STRING):
            return self.unquote(token.val)
        raise self.unexpected(token, context)

    def unquote(self, text: str) -> str:
        try:
            return n.unquote(text)
        except n.SyntaxProblem as exc:
            raise self.error(str(exc)) from None

    # --- commands and operands ---------------------------------------------------------------
    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos, self.src)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif token.typ != T.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            chain = n.ChainNode(self.peek().pos, self.src, node=node)
            while self.peek().typ == T.FIELD:
                chain.field.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(chain.pos, self.src, ident=[*node.ident, *chain.field])
            if isinstance(node, n.VariableNode):
                return n.VariableNode(chain.pos, self.src, ident=[*node.ident, *chain.field])
            if isinstance(node, n.BoolNode | n.StringNode | n.NumberNode | n.NilNode | n.DotNode):
                raise self.error(f"unexpected . after term {go_quote(str(node))}")
            return chain
        return node

    def term(self) -> n.Node | None:
        token = self.next_non_space()
        match token.typ:
            case T.IDENTIFIER:
                if not self.has_function(token.val):
                    raise self.error(f"function {go_quote(token.val)} not defined")
                return n.IdentifierNode(token.pos, self.src, ident=token.val)
            case T.DOT:
                return n.DotNode(token.pos, self.src)
            case T.NIL:
                return n.NilNode(token.pos, self.src)
            case T.VARIABLE:
                return self.use_var(token.pos, token.val)
            case T.FIELD:
                return n.FieldNode(token.pos, self.src, ident=token.val[1:].split("."))
            case T.BOOL:
                return n.BoolNode(token.pos, self.src, value=token.val == "true")
            case T.CHAR_CONSTANT | T.COMPLEX | T.NUMBER:
                try:
                    return n.parse_number(
                        token.pos,
                        self.src,
                        token.val,
                        is_char=token.typ == T.CHAR_CONSTANT,
                        is_complex=token.typ == T.COMPLEX,
                    )
                except n.SyntaxProblem as exc:
                    raise self.error(str(exc)) from None
            case T.LEFT_PAREN:
                self._deeper()
                try:
                    return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
                finally:
                    self.depth -= 1
            case T.STRING | T.RAW_STRING:
                return n.StringNode(
                    token.pos, self.src, quoted=token.val, text=self.unquote(token.val)
                )
        self.backup()
        return None

    def variable(self, pos: int, name: str) -> n.VariableNode:
        return n.VariableNode(pos, self.src, ident=name.split("."))

    def use_var(self, pos: int, name: str) -> n.VariableNode:
        v = self.variable(pos, name)
        if v.ident[0] not in self.vars:
            raise self.error(f"undefined variable {go_quote(v.ident[0])}")
        return v


def parse(
    name: str, text: str, has_function: Callable[[str], bool], *, parse_name: str | None = None
) -> dict[str, Tree]:
    """Parse ``text`` into its main tree (under ``name``) and the trees it defines.

    ``has_function`` says which function names exist (Go checks them while parsing);
    ``parse_name`` is the name errors and positions cite (default ``name``).
    """
    source = n.Source(name if parse_name is None else parse_name, text)
    lexer = Lexer(
        text, break_ok=not has_function("break"), continue_ok=not has_function("continue")
    )
    trees: dict[str, Tree] = {}
    parser = _Parser(name, lexer, source, trees, has_function)
    parser.parse()
    parser.add()
    return trees
