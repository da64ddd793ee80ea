"""Runner for Prometheus' promqltest scripts (``.test`` files): ``spyglass test promql``.

``parse_points`` and ``parse_series_labels`` read the series notation (``up{job="a"}``,
``0+10x100 _ stale``) that promtool's rule unit tests share with these scripts.
"""

from spyglass.promql.testing._grid import GridMemoryStore
from spyglass.promql.testing._runner import (
    CATEGORIES,
    CORE,
    EXPERIMENTAL,
    HARNESS_OPTIONS,
    NATIVE,
    CaseResult,
    Report,
    ScriptStore,
    almost_equal,
    run_files,
    run_script,
)
from spyglass.promql.testing._script import (
    ScriptError,
    parse_points,
    parse_script,
    parse_series_labels,
)

__all__ = [
    "CATEGORIES",
    "CORE",
    "EXPERIMENTAL",
    "HARNESS_OPTIONS",
    "NATIVE",
    "CaseResult",
    "GridMemoryStore",
    "Report",
    "ScriptError",
    "ScriptStore",
    "almost_equal",
    "parse_points",
    "parse_script",
    "parse_series_labels",
    "run_files",
    "run_script",
]
