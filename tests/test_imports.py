"""The import contracts in pyproject.toml hold, and each of them breaks on a forbidden import.

A contract that cannot fail proves nothing, so each case copies the source tree, adds one import
the design forbids, and runs import-linter on the copy with the repository's own configuration.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = [p for p in (REPO / "src", REPO / "sdk" / "src") if p.is_dir()]

LINT = """
import sys
copies, config = sys.argv[1].split(":"), sys.argv[2]
# Only the copies: the installed checkout's source folders would add the real package back.
sys.path[:] = copies + [p for p in sys.path if not p.rstrip("/").endswith("/src")]
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename=config, no_cache=True))
"""


def lint(tmp_path: Path, module: str = "", line: str = "") -> subprocess.CompletedProcess[str]:
    copies = []
    for i, src in enumerate(SOURCES):
        copy = tmp_path / f"src{i}"
        shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(str(copy))
    if module:
        rel = Path(*module.split(".")).with_suffix(".py")
        target = next(Path(c) / rel for c in copies if (Path(c) / rel).is_file())
        target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    return subprocess.run(
        [sys.executable, "-c", LINT, ":".join(copies), str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT or BROKEN, from lint-imports' report (long names wrap)."""
    out: dict[str, str] = {}
    pending = ""
    for line in output.splitlines():
        text = (pending + " " + line.strip()).strip() if pending else line.strip()
        for verdict in ("KEPT", "BROKEN"):
            if text.endswith(" " + verdict):
                out[text.removesuffix(" " + verdict)] = verdict
                pending = ""
                break
        else:
            pending = text if pending or _is_contract_start(line) else ""
    return out


def _is_contract_start(line: str) -> bool:
    return bool(line) and line[0].isupper() and not line.startswith(("Contracts", "Analyzed"))


def test_the_source_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    found = verdicts(result.stdout)
    assert len(found) >= 5, result.stdout
    assert set(found.values()) == {"KEPT"}


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # The issue's own example: the PromQL engine reaching for a concrete backend.
        ("spyglass.promql._engine", "import spyglass.storage.backends", "Concrete storage"),
        ("spyglass.ingest.scrape._loop", "import spyglass.storage.pipeline", "Concrete storage"),
        ("spyglass.server.app", "import spyglass.storage.metrics", "Concrete storage"),
        ("spyglass.server.api.write", "import spyglass.storage.state", "Concrete storage"),
        (
            "spyglass.server.api.prometheus",
            "from spyglass.storage.metrics._sql import Query",
            "Private modules",
        ),
        ("spyglass.storage.wal", "import spyglass.promql", "Layers"),
        ("spyglass.core.labels", "import spyglass.ingest", "Layers"),
        ("spyglass.promql._engine", "import spyglass.server.app", "Layers"),
        ("spyglass.sdk._metrics", "import spyglass.core.labels", "The SDK stands apart"),
        ("spyglass.demo.app", "import spyglass.server", "The demo service"),
        ("spyglass.agent._client", "import spyglass.storage.ports", "The agent runs"),
        ("spyglass.agent._agent", "import spyglass.server.app", "The agent runs"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    result = lint(tmp_path, module, line)
    assert result.returncode != 0, result.stdout
    broken = [name for name, v in verdicts(result.stdout).items() if v == "BROKEN"]
    assert [name for name in broken if name.startswith(contract)], result.stdout


def test_importing_promql_loads_no_concrete_storage() -> None:
    """``import spyglass.promql`` once pulled in the store, WAL, writer and pyarrow through
    ``spyglass.storage``'s re-exports; a query engine needs only the ports. (The package loads
    its names on first use, so the engine is asked for by name.)"""
    code = (
        "import sys\nfrom spyglass.promql import Engine\n"
        "print(sorted(m for m in sys.modules if m.startswith('spyglass.storage')"
        " or m.split('.')[0] in ('pyarrow', 'chdb', 'clickhouse_connect')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    # The in-memory stores (metrics, logs, spans) ride along with the package; they need only
    # ports (the span store also the matching rules it shares with the ClickHouse one).
    assert out.strip() == (
        "['spyglass.storage', 'spyglass.storage._span_match', 'spyglass.storage.memory', "
        "'spyglass.storage.memory_logs', 'spyglass.storage.memory_traces', "
        "'spyglass.storage.ports']"
    )
