"""``TemplateSet``: Alertmanager's notification templates, defaults first, then the user's files.

Alertmanager parses its default templates, then every file the ``templates:`` globs match (each
under its base name, later definitions replacing earlier ones), and renders each receiver field
as a template of its own (named ``""``) in a copy of that set, with ``missingkey=zero``.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from spyglass.core.errors import TemplateError
from spyglass.core.template._alertmanager import alertmanager_functions
from spyglass.core.template._defaults import DEFAULT_TEMPLATES
from spyglass.core.template._printing import go_quote
from spyglass.core.template._template import Template


class TemplateSet:
    """Notification templates: Alertmanager's defaults plus the user's ``templates:`` files."""

    def __init__(self, template: Template) -> None:
        self._template = template

    @classmethod
    def load(
        cls,
        files: Iterable[tuple[str, str]] = (),
        *,
        funcs: Mapping[str, Callable[..., Any]] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> TemplateSet:
        """A set of the default templates and ``files``, ``(path, text)`` pairs in load order.

        Each file is parsed under its base name, as Alertmanager's glob loading names it.
        ``funcs`` adds functions (Alertmanager's own win on a clash); ``clock`` is what ``now``
        and ``since`` read. Raises ``TemplateError`` when a file does not parse.
        """
        template = Template("", missing_key="zero")
        if funcs:
            template.add_funcs(funcs)
        template.add_funcs(alertmanager_functions(clock))
        template.parse(DEFAULT_TEMPLATES)
        for path, text in files:
            template.parse(text, name=os.path.basename(path))
        return cls(template)

    @classmethod
    def from_globs(
        cls,
        patterns: Iterable[str],
        *,
        base_dir: str | os.PathLike[str] | None = None,
        funcs: Mapping[str, Callable[..., Any]] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> TemplateSet:
        """Read the files ``alertmanager.yml``'s ``templates:`` globs match, in order.

        Relative patterns are taken from ``base_dir`` (the config file's folder, as Alertmanager
        does); a pattern that matches nothing is fine. Files of each pattern load in name order.
        """
        files: list[tuple[str, str]] = []
        for pattern in patterns:
            full = pattern
            if base_dir is not None and not os.path.isabs(pattern):
                full = os.path.join(os.fspath(base_dir), pattern)
            try:
                matches = sorted(glob.glob(full, include_hidden=True))
            except (OSError, ValueError) as exc:
                raise TemplateError(f"template: bad pattern {go_quote(pattern)}: {exc}") from None
            for path in matches:
                try:
                    files.append((path, Path(path).read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as exc:
                    raise TemplateError(f"template: read {path}: {exc}") from None
        return cls.load(files, funcs=funcs, clock=clock)

    def render(self, text: str, data: object, *, html: bool = False) -> str:
        """Render one receiver field (``title: '{{ .CommonLabels.alertname }}'``) with ``data``.

        The text may use every template of the set and define its own. ``html`` renders it as
        Alertmanager renders an email's ``html`` field: with html/template's contextual
        escaping. Raises ``TemplateError`` with Go's message (the field's template is named
        ``""``).
        """
        if text == "":
            return ""
        template = self._template.clone()
        template.remove("")
        template.parse(text, name="")
        return template.execute(data, name="", html=html)

    def render_template(self, name: str, data: object, *, html: bool = False) -> str:
        """Run the set's template ``name`` (``slack.default.title``) with ``data``; ``html`` as
        for ``render``."""
        if self._template.lookup(name) is None:
            raise TemplateError(f"template: no template {go_quote(name)} in the set", name=name)
        return self._template.execute(data, name=name, html=html)

    def templates(self) -> list[str]:
        """The names the set defines, sorted."""
        return [n for n in self._template.templates() if n]
