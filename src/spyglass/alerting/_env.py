"""``${VAR}`` and ``$VAR`` in alertmanager.yml: Spyglass's one addition to the format.

Alertmanager reads every value literally; a common way to keep a Slack webhook URL or an SMTP
password out of the file is to template the file before starting Alertmanager. Spyglass expands
environment variables itself, exactly here and nowhere else:

* in scalar values YAML reads as strings (quoted or plain: URLs, keys, names, durations, paths,
  templates), never in mapping keys, numbers or booleans;
* ``${NAME}`` and ``$NAME``, where a name is a letter or ``_`` followed by letters, digits and
  ``_``; a ``$`` followed by anything else (``$)``, ``$5``, a regex's ``$`` at the end) stays;
* ``$$`` is one literal ``$`` (``$${NAME}`` keeps the text ``${NAME}``);
* not inside ``{{ ... }}``, where ``$name`` is a Go-template variable;
* a variable that is not set is an error naming the variable, the file, the line and the field;
  a variable set to the empty string expands to nothing.

Loading with ``expand_env=False`` reads the file as Alertmanager does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from spyglass.core.config import Node
from spyglass.core.errors import ConfigError

_REFERENCE = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|(\{))")
_ACTION = re.compile(r"\{\{.*?\}\}", re.S)


def expand_text(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with its variables expanded, and the names used.

    ``KeyError`` names a variable that is not set; ``ValueError`` a ``${`` that does not close.
    """
    if "$" not in text:
        return text, []
    used: list[str] = []
    out: list[str] = []
    pos = 0
    for action in [*_ACTION.finditer(text), None]:
        end = action.start() if action is not None else len(text)
        out.append(_expand_plain(text[pos:end], environ, used))
        if action is not None:
            out.append(action.group(0))
            pos = action.end()
    return "".join(out), used


def _expand_plain(text: str, environ: Mapping[str, str], used: list[str]) -> str:
    def substitute(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        if m.group(3):
            raise ValueError("${ without a closing }")
        name = m.group(1) or m.group(2)
        if name not in environ:
            raise KeyError(name)
        used.append(name)
        return environ[name]

    return _REFERENCE.sub(substitute, text)


def expand_env(root: Node, environ: Mapping[str, str]) -> tuple[Node, tuple[str, ...]]:
    """The tree with variables expanded in its string values, and the variables used."""
    used: list[str] = []
    memo: dict[int, Node] = {}

    def walk(node: Node, path: str) -> Node:
        done = memo.get(id(node))
        if done is not None:
            return done
        if isinstance(node.value, str):
            out = _expand_scalar(node, path, environ, used)
        elif isinstance(node.value, list):
            items: list[Node] = []
            out = Node(
                items, node.line, node.file, node.tag, node.text, node.key_lines, node.duplicate
            )
            memo[id(node)] = out
            items.extend(walk(child, f"{path}[{i}]") for i, child in enumerate(node.value))
            return out
        elif isinstance(node.value, dict):
            mapping: dict[str, Node] = {}
            out = Node(
                mapping, node.line, node.file, node.tag, node.text, node.key_lines, node.duplicate
            )
            memo[id(node)] = out
            for key, child in node.value.items():
                mapping[key] = walk(child, f"{path}.{key}" if path else key)
            return out
        else:
            out = node
        memo[id(node)] = out
        return out

    return walk(root, ""), tuple(dict.fromkeys(used))


def _expand_scalar(node: Node, path: str, environ: Mapping[str, str], used: list[str]) -> Node:
    text = node.value
    assert isinstance(text, str)
    try:
        expanded, names = expand_text(text, environ)
    except KeyError as exc:
        name = exc.args[0]
        raise ConfigError(
            f"environment variable {name} is not set: Spyglass expands ${{{name}}} and ${name} "
            f"in alertmanager.yml; set {name} in Spyglass's environment, or write "
            f"$${{{name}}} to keep the text as it is",
            file=node.file,
            line=node.line,
            field=path,
        ) from None
    except ValueError:
        raise ConfigError(
            "unterminated ${ in a value: write ${NAME} to expand a variable, or $$ for a literal $",
            file=node.file,
            line=node.line,
            field=path,
        ) from None
    if not names and expanded == text:
        return node
    used.extend(names)
    return Node(expanded, node.line, node.file, node.tag, expanded, node.key_lines, node.duplicate)


__all__ = ["expand_env", "expand_text"]
