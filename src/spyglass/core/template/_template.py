"""``Template``: a set of named Go templates with their functions and options.

It mirrors Go's ``*template.Template``: ``parse`` adds the text's main template and every
``{{define}}``/``{{block}}`` in it to the set (a later non-empty definition replaces an earlier
one; an empty one never does), ``execute`` runs one of them by name. Functions are checked while
parsing, so a template calling an unknown function fails to parse, as in Go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from spyglass.core.errors import TemplateError
from spyglass.core.template import _exec, _nodes
from spyglass.core.template._builtins import BUILTINS
from spyglass.core.template._parser import Tree, parse
from spyglass.core.template._printing import go_quote

MissingKey = Literal["default", "zero", "error"]

DEFAULT_MAX_STEPS = 1_000_000
DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024


def _valid_function_name(name: str) -> bool:
    return (
        bool(name)
        and (name[0] == "_" or name[0].isalpha())
        and all(c == "_" or c.isalpha() or c.isdecimal() for c in name)
    )


class Template:
    """Named Go text/templates that share functions and options.

    ``funcs`` are extra template functions (plain callables; see the package docstring for how
    their annotations give Go parameter types). ``missing_key`` is Go's ``missingkey`` option:
    what a missing map key gives (``default``: ``<no value>``; ``zero``: the map's zero value,
    ``""`` for string maps; ``error``: an execution error). ``max_steps`` and ``max_output`` bound
    one execution (Go has no such limits).
    """

    def __init__(
        self,
        name: str = "",
        *,
        funcs: Mapping[str, Callable[..., Any]] | None = None,
        missing_key: MissingKey = "default",
        max_steps: int = DEFAULT_MAX_STEPS,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        if missing_key not in ("default", "zero", "error"):
            raise ValueError(f"unrecognized option: missingkey={missing_key}")
        self.name = name
        self._missing_key: MissingKey = missing_key
        self._max_steps = max_steps
        self._max_output = max_output
        self._funcs: dict[str, Callable[..., Any]] = {}
        self._trees: dict[str, Tree] = {}
        if funcs:
            self.add_funcs(funcs)

    # --- the Namespace the executor uses ---------------------------------------------------------
    @property
    def missing_key(self) -> str:
        """Go's ``missingkey`` option."""
        return self._missing_key

    @property
    def max_steps(self) -> int:
        """The step budget of one execution."""
        return self._max_steps

    @property
    def max_output(self) -> int:
        """The output budget of one execution, in characters."""
        return self._max_output

    def lookup(self, name: str) -> Tree | None:
        """The parsed template called ``name``, if the set has one."""
        return self._trees.get(name)

    def function(self, name: str) -> Callable[..., Any] | None:
        """The function ``name`` as a template sees it: the set's own, then Go's builtins."""
        fn = self._funcs.get(name)
        return fn if fn is not None else BUILTINS.get(name)

    # --- building ----------------------------------------------------------------------------
    def add_funcs(self, funcs: Mapping[str, Callable[..., Any]]) -> Template:
        """Add (or replace) template functions; returns the template, as Go's ``Funcs`` does."""
        for name, fn in funcs.items():
            if not _valid_function_name(name):
                raise ValueError(f"function name {go_quote(name)} is not a valid identifier")
            if not callable(fn):
                raise ValueError(f"value for {name} not a function")
            self._funcs[name] = fn
        return self

    def parse(self, text: str, *, name: str | None = None) -> Template:
        """Parse ``text`` as the template ``name`` (default: the set's name) into the set.

        The text's ``{{define}}``s and ``{{block}}``s join the set too. Raises ``TemplateError``
        with Go's message when the text does not parse; the set is then unchanged.
        """
        main = self.name if name is None else name
        try:
            trees = parse(main, text, lambda f: self.function(f) is not None)
        except RecursionError:
            raise TemplateError(f"template: {main}: templates nest too deeply", name=main) from None
        for tree_name, tree in trees.items():
            old = self._trees.get(tree_name)
            # Go keeps an existing definition when the new one is empty (a text of nothing but
            # {{define}}s leaves the main template as it was).
            if old is not None and _nodes.is_empty_tree(tree.root):
                continue
            self._trees[tree_name] = tree
        return self

    def clone(self) -> Template:
        """An independent copy: parsing into it leaves this set as it is."""
        copy = Template(
            self.name,
            missing_key=self._missing_key,
            max_steps=self._max_steps,
            max_output=self._max_output,
        )
        copy._funcs = dict(self._funcs)
        copy._trees = dict(self._trees)
        return copy

    def remove(self, name: str) -> None:
        """Drop the template ``name`` from the set (no error when there is none)."""
        self._trees.pop(name, None)

    def templates(self) -> list[str]:
        """The names of the templates in the set, sorted."""
        return sorted(self._trees)

    # --- running -----------------------------------------------------------------------------
    def execute(self, data: object = None, *, name: str | None = None, html: bool = False) -> str:
        """Run the template ``name`` (default: the set's name) with ``data`` as dot and ``$``.

        With ``html`` the output is HTML, escaped by context as Go's html/template escapes it.
        Raises ``TemplateError`` with Go's message when execution fails.
        """
        target = self.name if name is None else name
        if target not in self._trees and name is not None and name != self.name:
            raise TemplateError(
                f"template: no template {go_quote(target)} associated with template "
                f"{go_quote(self.name)}",
                name=target,
            )
        return _exec.execute(self, target, data, html=html)
