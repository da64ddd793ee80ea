"""Runner for Loki's ``.logqltest`` scripts (load/eval cases of LogQL metric queries) over the
in-memory log store, with a per-file report."""

from spyglass.logs.testing._runner import CaseResult, Report, almost_equal, run_files, run_script
from spyglass.logs.testing._script import ScriptError, parse_script

__all__ = [
    "CaseResult",
    "Report",
    "ScriptError",
    "almost_equal",
    "parse_script",
    "run_files",
    "run_script",
]
