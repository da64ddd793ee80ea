"""Lazy package exports (PEP 562): a package's names are imported from their modules on first use.

A package ``__init__`` that re-exports everything eagerly makes importing any of its modules
import all of them: ``spyglass check rules`` needs the PromQL and LogQL parsers, and importing
``spyglass.promql._ast`` ran ``spyglass.promql``'s ``__init__``, which imported the engine and
numpy. As Scientific Python's SPEC 1 (``lazy_loader.attach_stub``) does with a stub file, such
a package writes its exports once, as ordinary imports under ``if TYPE_CHECKING:`` (so type
checkers, import-linter and readers see them) and ends with::

    __getattr__, __dir__ = lazy_exports(__name__, __file__)

which reads those import statements from the ``__init__``'s source and imports each name from
its module when it is first looked up. Names imported outside the block stay eager.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def type_checking_imports(source: str) -> dict[str, tuple[str, str]]:
    """Each name ``from MODULE import NAME [as ALIAS]`` binds inside the top-level
    ``if TYPE_CHECKING:`` blocks of ``source``: ``{ALIAS or NAME: (MODULE, NAME)}``."""
    homes: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom):
                continue
            if statement.level or statement.module is None:
                raise ValueError("lazy exports are imported by absolute module names")
            for alias in statement.names:
                homes[alias.asname or alias.name] = (statement.module, alias.name)
    return homes


def lazy_exports(
    package: str, init_file: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package ``package`` whose ``__init__`` is
    ``init_file``, serving the names of its ``if TYPE_CHECKING:`` imports."""
    module = sys.modules[package]
    # The loader's copy first: it also serves a package imported from a zip archive.
    loader = module.__spec__.loader if module.__spec__ is not None else None
    get_source = getattr(loader, "get_source", None)
    source = get_source(package) if get_source is not None else None
    if source is None:
        source = Path(init_file).read_text(encoding="utf-8")
    homes = type_checking_imports(source)

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[0]), home[1])
        setattr(module, name, value)  # later lookups find it without this function
        return value

    def dir_() -> list[str]:
        return sorted({*vars(module), *homes})

    return getattr_, dir_


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


__all__ = ["lazy_exports", "type_checking_imports"]
