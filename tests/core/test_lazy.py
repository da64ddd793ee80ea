"""Lazy package exports: a name listed under ``if TYPE_CHECKING:`` in a package's ``__init__``
is imported from its module on first use, not with the package; unknown names still raise
``AttributeError``, and every package that uses it serves exactly the names of its ``__all__``."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from spyglass.core.lazy import type_checking_imports

LAZY_PACKAGES = (
    "spyglass.core",
    "spyglass.core.config",
    "spyglass.promql",
    "spyglass.logs",
    "spyglass.rules",
    "spyglass.alerting",
)


def test_the_type_checking_block_names_each_export_and_its_home() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import typing
        from x.eager import kept

        if TYPE_CHECKING:
            from a.b import C, d as e
            from a.f import (
                G,
            )
        if typing.TYPE_CHECKING:
            from h import i
        """
    )
    assert type_checking_imports(source) == {
        "C": ("a.b", "C"),
        "e": ("a.b", "d"),
        "G": ("a.f", "G"),
        "i": ("h", "i"),
    }
    with pytest.raises(ValueError, match="absolute"):
        type_checking_imports("if TYPE_CHECKING:\n    from .x import y\n")


def test_names_load_on_first_use(tmp_path: Path) -> None:
    package = tmp_path / "lazypkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from spyglass.core.lazy import lazy_exports\n"
        "if TYPE_CHECKING:\n"
        "    from lazypkg._heavy import Heavy, made as renamed\n"
        "__getattr__, __dir__ = lazy_exports(__name__, __file__)\n"
        '__all__ = ["Heavy", "renamed"]\n'
    )
    (package / "_heavy.py").write_text("class Heavy: ...\nmade = 42\n")
    (package / "plain.py").write_text("x = 1\n")
    script = textwrap.dedent(
        """
        import sys
        import lazypkg
        assert "lazypkg._heavy" not in sys.modules
        assert "Heavy" in dir(lazypkg)
        from lazypkg import renamed
        assert renamed == 42 and "lazypkg._heavy" in sys.modules
        assert lazypkg.Heavy.__name__ == "Heavy"
        from lazypkg import plain  # a submodule, not an export, still imports
        assert plain.x == 1
        try:
            lazypkg.missing
        except AttributeError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "module 'lazypkg' has no attribute 'missing'\n"


def test_a_package_in_a_zip_archive_serves_its_names(tmp_path: Path) -> None:
    """The source is read through the package's loader, which zipimport also is."""
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(
            "zipped/__init__.py",
            "from typing import TYPE_CHECKING\n"
            "from spyglass.core.lazy import lazy_exports\n"
            "if TYPE_CHECKING:\n"
            "    from zipped._impl import value\n"
            "__getattr__, __dir__ = lazy_exports(__name__, __file__)\n",
        )
        z.writestr("zipped/_impl.py", "value = 7\n")
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(archive)!r}); "
         "import zipped; print(zipped.value)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "7\n"


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_each_lazy_package_serves_exactly_its_all(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__file__ is not None
    lazy = type_checking_imports(Path(package.__file__).read_text())
    eager = {n for n in package.__all__ if n in vars(package) and n not in lazy}
    assert set(lazy) | eager == set(package.__all__)
    for export in package.__all__:
        assert getattr(package, export) is not None
