"""Runner for Prometheus' promqltest scripts (``.test`` files): ``spyglass test promql``."""

from spyglass.promql.testing._runner import (
    CATEGORIES,
    CORE,
    EXPERIMENTAL,
    HARNESS_OPTIONS,
    NATIVE,
    CaseResult,
    Report,
    almost_equal,
    run_files,
    run_script,
)
from spyglass.promql.testing._script import ScriptError, parse_script

__all__ = [
    "CATEGORIES",
    "CORE",
    "EXPERIMENTAL",
    "HARNESS_OPTIONS",
    "NATIVE",
    "CaseResult",
    "Report",
    "ScriptError",
    "almost_equal",
    "parse_script",
    "run_files",
    "run_script",
]
