"""Execution of parsed templates: Go's text/template semantics over Python data.

The walk follows Go's executor closely, including where it records "the current node" for error
messages, so a failure reads as Go's does: ``template: <parse name>:<line>:<col>: executing
"<template>" at <<node>>: <problem>``. Go has no budget for runaway templates; here a template
stops with a ``TemplateError`` after ``max_steps`` nodes and loop turns, when its output passes
``max_output`` characters, or when templates call each other more than ``MAX_EXEC_DEPTH`` deep
(Go allows 100000), so a bad template cannot stall a rule evaluation or a notification.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from spyglass.core.errors import TemplateError
from spyglass.core.template import _nodes as n
from spyglass.core.template import _values as values
from spyglass.core.template._builtins import BUILTINS, FuncError
from spyglass.core.template._htmlescape import HtmlEscaper
from spyglass.core.template._parser import Tree
from spyglass.core.template._printing import go_quote, print_action, sprintf
from spyglass.core.template._signature import ANY, GoType, assign_checks, signature_of

MAX_EXEC_DEPTH = 100

_MISSING: Any = object()  # "no value from the previous command of the pipeline"


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Namespace(Protocol):
    """What execution needs of a template set."""

    @property
    def missing_key(self) -> str:
        """``default`` (``<no value>``), ``zero`` (the element's zero value) or ``error``."""
        ...

    @property
    def max_steps(self) -> int:
        """How many nodes and loop turns one execution may take."""
        ...

    @property
    def max_output(self) -> int:
        """How many characters one execution may write."""
        ...

    def lookup(self, name: str) -> Tree | None:
        """The tree of a template by name."""
        ...

    def function(self, name: str) -> Callable[..., Any] | None:
        """A function by name (the template's own first, then Go's builtins)."""
        ...


class _Budget:
    __slots__ = ("html", "out", "size", "steps")

    def __init__(self, html: HtmlEscaper | None = None) -> None:
        self.out: list[str] = []
        self.size = 0
        self.steps = 0
        self.html = html  # set when the output is HTML (html/template); shared by nested calls


class State:
    """One execution of one template (a ``{{template}}`` call runs in a fresh state)."""

    def __init__(
        self, ns: Namespace, name: str, dot: object, budget: _Budget, depth: int = 0
    ) -> None:
        self.ns = ns
        self.name = name
        self.node: n.Node | None = None
        self.vars: list[tuple[str, Any]] = [("$", dot)]
        self.budget = budget
        self.depth = depth

    # --- bookkeeping ---------------------------------------------------------------------------
    def at(self, node: n.Node) -> None:
        self.node = node

    def error(self, message: str) -> TemplateError:
        node = self.node
        if node is None:
            return TemplateError(f"template: {self.name}: {message}", name=self.name)
        line, col = node.src.location(node.pos)
        return TemplateError(
            f"template: {node.src.name}:{line}:{col}: executing {go_quote(self.name)} "
            f"at <{node}>: {message}",
            name=node.src.name,
            line=line,
            column=col,
        )

    def step(self) -> None:
        b = self.budget
        b.steps += 1
        if b.steps > self.ns.max_steps:
            raise self.error(f"execution took more than {self.ns.max_steps} steps")

    def write(self, text: str) -> None:
        b = self.budget
        b.size += len(text)
        if b.size > self.ns.max_output:
            raise self.error(f"output is longer than {self.ns.max_output} characters")
        b.out.append(text)

    def set_var(self, name: str, value: object) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}")

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise self.error(f"undefined variable: {name}")

    # --- walking -----------------------------------------------------------------------------
    def walk(self, dot: object, node: n.Node) -> None:
        self.step()
        self.at(node)
        if isinstance(node, n.ActionNode):
            assert node.pipe is not None
            # Variables declared in an action persist until the enclosing {{end}}.
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val, _escaper_called(node.pipe))
        elif isinstance(node, n.TextNode):
            html = self.budget.html
            self.write(node.text if html is None else html.text(node.text))
        elif isinstance(node, n.ListNode):
            for item in node.nodes:
                self.walk(dot, item)
        elif isinstance(node, n.IfNode | n.WithNode):
            self.walk_if_or_with(node, dot)
        elif isinstance(node, n.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        elif not isinstance(node, n.CommentNode):  # pragma: no cover - the parser makes no other
            raise self.error(f"unknown node: {node}")

    def walk_if_or_with(self, node: n.BranchNode, dot: object) -> None:
        mark = len(self.vars)
        try:
            assert node.pipe is not None
            assert node.list is not None
            val = self.eval_pipeline(dot, node.pipe)
            if values.is_true(val):
                self.walk(val if isinstance(node, n.WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: object, r: n.RangeNode) -> None:
        self.at(r)
        outer = len(self.vars)
        assert r.pipe is not None
        assert r.list is not None
        pipe = r.pipe
        body = r.list
        try:
            val = self.eval_pipeline(dot, pipe)
            mark = len(self.vars)

            def one(index: object, elem: object) -> None:
                self.step()
                decl = pipe.decl
                if decl:
                    if pipe.is_assign:
                        self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
                    else:
                        self.vars[-1] = (self.vars[-1][0], elem)
                if len(decl) > 1:
                    if pipe.is_assign:
                        self.set_var(decl[1].ident[0], elem)
                    else:
                        self.vars[-2] = (self.vars[-2][0], index)
                try:
                    self.walk(elem, body)
                except _Continue:
                    pass
                finally:
                    del self.vars[mark:]

            ran = False
            if isinstance(val, int) and not isinstance(val, bool):
                if len(pipe.decl) > 1:
                    raise self.error(
                        f"can't use {sprintf('%v', val)} to iterate over more than one variable"
                    )
                for i in range(int(val)):
                    ran = True
                    one(None, i)
            elif isinstance(val, list | tuple):
                for i, elem in enumerate(val):
                    ran = True
                    one(i, elem)
            elif isinstance(val, Mapping):
                for key, elem in values.sorted_items(val):
                    ran = True
                    one(key, elem)
            elif val is not None:
                raise self.error(f"range can't iterate over {sprintf('%v', val)}")
            if not ran and r.else_list is not None:
                self.walk(dot, r.else_list)
        except _Break:
            pass
        finally:
            del self.vars[outer:]

    def walk_template(self, dot: object, t: n.TemplateNode) -> None:
        self.at(t)
        tree = self.ns.lookup(t.name)
        if tree is None:
            raise self.error(f"template {go_quote(t.name)} not defined")
        if self.depth >= MAX_EXEC_DEPTH:
            raise self.error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        # Variables declared by the pipeline persist; the called template sees none of ours.
        new_dot = self.eval_pipeline(dot, t.pipe)
        state = State(self.ns, t.name, new_dot, self.budget, self.depth + 1)
        state.node = self.node
        state.walk(new_dot, tree.root)

    def print_value(self, node: n.Node, value: object, escaped_by: str = "") -> None:
        self.at(node)
        if values.kind_of(value) is values.Kind.FUNC:
            raise self.error(f"can't print {node} of type {values.type_name(value)}")
        printed = print_action(value)
        html = self.budget.html
        self.write(printed if html is None else html.action(value, printed, escaped_by))

    # --- evaluation --------------------------------------------------------------------------
    def eval_pipeline(self, dot: object, pipe: n.PipeNode | None) -> Any:
        if pipe is None:
            return None
        self.at(pipe)
        value = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append((var.ident[0], value))
        return value

    def not_a_function(self, args: list[n.Node], final: object) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: object, cmd: n.CommandNode, final: object) -> Any:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, n.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, first, cmd, args=cmd.args, final=final)
        if isinstance(first, n.PipeNode):
            # A parenthesized pipeline: its arguments are inside, so no final value is taken.
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, n.VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return first.value
        if isinstance(first, n.DotNode):
            return dot
        if isinstance(first, n.NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, n.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, n.StringNode):
            return first.text
        raise self.error(f"can't evaluate command {go_quote(str(first))}")  # pragma: no cover

    def ideal_constant(self, c: n.NumberNode) -> Any:
        """A number whose type only its spelling tells: float if it looks like one, else int."""
        self.at(c)
        text = c.text
        if c.is_complex:
            return c.complex128
        hex_int = (
            len(text) > 2
            and text[0] == "0"
            and text[1] in "xX"
            and not any(ch in text for ch in "pP")
        )
        if (
            c.is_float
            and not hex_int
            and not text.startswith("'")
            and any(ch in text for ch in ".eEpP")
        ):
            return c.float64
        if c.is_int:
            return c.int64
        if c.is_uint:
            raise self.error(f"{text} overflows int")
        return None  # pragma: no cover - every number is one of the above

    def eval_field_node(
        self, dot: object, field: n.FieldNode, args: list[n.Node] | None, final: object
    ) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.ident, args=args, final=final)

    def eval_chain_node(
        self, dot: object, chain: n.ChainNode, args: list[n.Node] | None, final: object
    ) -> Any:
        self.at(chain)
        assert chain.node is not None
        if isinstance(chain.node, n.NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.field, args=args, final=final)

    def eval_variable_node(
        self, dot: object, variable: n.VariableNode, args: list[n.Node] | None, final: object
    ) -> Any:
        self.at(variable)
        value = self.var_value(variable.ident[0])
        if len(variable.ident) == 1:
            self.not_a_function(args or [variable], final)
            return value
        return self.eval_field_chain(
            dot, value, variable, variable.ident[1:], args=args, final=final
        )

    def eval_field_chain(
        self,
        dot: object,
        receiver: object,
        node: n.Node,
        ident: list[str],
        *,
        args: list[n.Node] | None,
        final: object,
    ) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, receiver, args=None, final=_MISSING)
        return self.eval_field(dot, ident[-1], node, receiver, args=args, final=final)

    def eval_function(
        self,
        dot: object,
        node: n.IdentifierNode,
        cmd: n.Node,
        *,
        args: list[n.Node] | None,
        final: object,
    ) -> Any:
        self.at(node)
        name = node.ident
        fn = self.ns.function(name)
        if fn is None:
            raise self.error(f"{go_quote(name)} is not a defined function")
        builtin = BUILTINS.get(name) is fn
        return self.eval_call(dot, fn, cmd, name, builtin=builtin, args=args, final=final)

    def eval_field(
        self,
        dot: object,
        name: str,
        node: n.Node,
        receiver: object,
        *,
        args: list[n.Node] | None,
        final: object,
    ) -> Any:
        if receiver is None:
            if self.ns.missing_key == "error":
                raise self.error(f"nil data; no entry for key {go_quote(name)}")
            return None
        kind, found = values.member(receiver, name)
        if kind is values.Member.METHOD:
            return self.eval_call(dot, found, node, name, builtin=False, args=args, final=final)
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if kind is values.Member.FIELD:
            if has_args:
                raise self.error(f"{name} has arguments but cannot be invoked as function")
            return found
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.ns.missing_key == "error":
                raise self.error(f"map has no entry for key {go_quote(name)}")
            if self.ns.missing_key == "zero":
                return values.map_zero(receiver)
            return None
        raise self.error(f"can't evaluate field {name} in type {values.type_name(receiver)}")

    def eval_call(
        self,
        dot: object,
        fn: Callable[..., Any],
        node: n.Node,
        name: str,
        *,
        builtin: bool,
        args: list[n.Node] | None,
        final: object,
    ) -> Any:
        call_args = args[1:] if args is not None else []
        sig = signature_of(fn)
        num_in = len(call_args) + (0 if final is _MISSING else 1)
        if sig.variadic is not None:
            num_fixed = len(sig.params)
            if num_in < num_fixed:
                raise self.error(
                    f"wrong number of args for {name}: want at least {num_fixed} "
                    f"got {len(call_args)}"
                )
        else:
            num_fixed = len(call_args)
            if num_in != len(sig.params):
                raise self.error(
                    f"wrong number of args for {name}: want {len(sig.params)} got {num_in}"
                )

        if builtin and name in ("and", "or"):
            # and/or stop at the first argument that decides, like Go's && and ||.
            v: Any = None
            for arg in call_args:
                v = self.eval_arg(dot, ANY, arg)
                if values.is_true(v) == (name == "or"):
                    return v
            if final is not _MISSING:
                v = self.validate_type(final, ANY)
            return v

        argv: list[Any] = []
        i = 0
        while i < num_fixed and i < len(call_args):
            argv.append(self.eval_arg(dot, sig.params[i], call_args[i]))
            i += 1
        if sig.variadic is not None:
            for arg in call_args[i:]:
                argv.append(self.eval_arg(dot, sig.variadic, arg))
        if final is not _MISSING:
            if sig.variadic is not None:
                t = sig.params[num_in - 1] if num_in - 1 < num_fixed else sig.variadic
            else:
                t = sig.params[-1]
            argv.append(self.validate_type(final, t))

        try:
            if builtin and name == "call":
                callee = str(call_args[0]) if call_args else sprintf("%v", final)
                return self._call(callee, argv)
            return fn(*argv)
        except (_Break, _Continue, RecursionError):
            raise
        except Exception as exc:
            self.at(node)
            raise self.error(f"error calling {name}: {exc}") from exc

    def _call(self, callee: str, argv: list[Any]) -> Any:
        fn = argv[0]
        if fn is None:
            raise FuncError("call of nil")
        if values.kind_of(fn) is not values.Kind.FUNC:
            raise FuncError(f"non-function {callee} of type {values.type_name(fn)}")
        problem = assign_checks(fn, argv[1:])
        if problem is not None:
            if problem.startswith("got"):
                raise FuncError(f"wrong number of args for {callee}: {problem}")
            raise FuncError(problem)
        return fn(*argv[1:])

    def validate_type(self, value: object, typ: GoType | None) -> Any:
        if value is None:
            if typ is None or typ.nillable:
                return None
            raise self.error(f"invalid value; expected {typ.name}")
        if typ is None or typ.accepts(value):
            return value
        raise self.error(
            f"wrong type for value; expected {typ.name}; got {values.type_name(value)}"
        )

    def eval_arg(self, dot: object, typ: GoType | None, node: n.Node) -> Any:
        self.at(node)
        if isinstance(node, n.DotNode):
            return self.validate_type(dot, typ)
        if isinstance(node, n.NilNode):
            if typ is None or typ.nillable:
                return None
            raise self.error(f"cannot assign nil to {typ.name}")
        if isinstance(node, n.FieldNode):
            return self.validate_type(self.eval_field_node(dot, node, [node], _MISSING), typ)
        if isinstance(node, n.VariableNode):
            return self.validate_type(self.eval_variable_node(dot, node, None, _MISSING), typ)
        if isinstance(node, n.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, node), typ)
        if isinstance(node, n.IdentifierNode):
            return self.validate_type(
                self.eval_function(dot, node, node, args=None, final=_MISSING), typ
            )
        if isinstance(node, n.ChainNode):
            return self.validate_type(self.eval_chain_node(dot, node, None, _MISSING), typ)
        kind = "any" if typ is None else typ.kind
        if kind == "bool":
            if isinstance(node, n.BoolNode):
                return node.value
            raise self.error(f"expected bool; found {node}")
        if kind == "string":
            if isinstance(node, n.StringNode):
                return node.text
            raise self.error(f"expected string; found {node}")
        if kind in ("int", "uint", "float", "complex"):
            value = self._number_arg(node, kind)
            return typ.make(value) if typ is not None and typ.make is not None else value
        if kind == "any":
            return self.eval_empty_interface(dot, node)
        assert typ is not None
        raise self.error(f"can't handle {node} for arg of type {typ.name}")

    def _number_arg(self, node: n.Node, kind: str) -> Any:
        if isinstance(node, n.NumberNode):
            if kind == "int" and node.is_int:
                return node.int64
            if kind == "uint" and node.is_uint:
                return node.uint64
            if kind == "float" and node.is_float:
                return node.float64
            if kind == "complex" and node.is_complex:
                return node.complex128
        expected = {"int": "integer", "uint": "unsigned integer"}.get(kind, kind)
        raise self.error(f"expected {expected}; found {node}")

    def eval_empty_interface(self, dot: object, node: n.Node) -> Any:
        self.at(node)
        if isinstance(node, n.BoolNode):
            return node.value
        if isinstance(node, n.NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, n.StringNode):
            return node.text
        raise self.error(f"can't handle assignment of {node} to empty interface argument")


def _escaper_called(pipe: n.PipeNode) -> str:
    """``html``, ``urlquery`` or ``js`` when the pipeline ends by calling that escaper."""
    if not pipe.cmds or not pipe.cmds[-1].args:
        return ""
    first = pipe.cmds[-1].args[0]
    if isinstance(first, n.IdentifierNode) and first.ident in ("html", "urlquery", "js"):
        return first.ident
    return ""


def execute(ns: Namespace, name: str, data: object, *, html: bool = False) -> str:
    """Run template ``name`` of ``ns`` on ``data`` and return its output.

    With ``html``, the output is HTML and every action's output is escaped for where it lands,
    as html/template does (``_htmlescape``).
    """
    budget = _Budget(HtmlEscaper() if html else None)
    state = State(ns, name, data, budget)
    tree = ns.lookup(name)
    if tree is None:
        raise state.error(f"{go_quote(name)} is an incomplete or empty template")
    try:
        state.walk(data, tree.root)
    except RecursionError:
        raise TemplateError(
            f"template: {name}: executing {go_quote(name)}: templates nest too deeply", name=name
        ) from None
    return "".join(budget.out)


def function_map(
    own: Mapping[str, Callable[..., Any]],
) -> Callable[[str], Callable[..., Any] | None]:
    """Look functions up as Go does: the template's own, then the builtins."""

    def find(name: str) -> Callable[..., Any] | None:
        fn = own.get(name)
        return fn if fn is not None else BUILTINS.get(name)

    return find
