"""The alerting rules Spyglass ships for itself (``builtin/spyglass.rules.yml``).

A plain Prometheus rule file inside the package: targets down or flapping, writes rejected or
failing, inserts into ClickHouse failing or falling behind, rules failing or too slow,
notifications failing, a failed reload. Users enable it by naming it in ``rule_files``;
``spyglass rules path`` prints where it is installed.
"""

from __future__ import annotations

from pathlib import Path

BUILTIN_RULES = Path(__file__).resolve().parent / "builtin" / "spyglass.rules.yml"

__all__ = ["BUILTIN_RULES"]
