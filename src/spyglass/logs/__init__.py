"""LogQL: Loki's query language over a ``storage.ports.LogReader``.

``parse_query`` turns text into the syntax tree (``str()`` of a tree prints it back) or raises
``LogQLParseError`` in Loki's words (``LogQuery`` is the tree of a log query, a stream selector
and its pipeline; ``parse_duration`` reads a LogQL duration such as ``1h30m``); ``Engine`` runs
log queries (streams) and metric queries (vectors and matrices). ``spyglass.logs.testing`` runs
Loki's ``.logqltest`` scripts.

``LogAnalysis`` reads a log query's lines through the engine and mines them into templates with
Drain (``PatternMiner``: per service and level, new and growing against a baseline window) and
counts the distinct users its error lines name (``ImpactReport``); ``mask`` is the masking of
parameters that mining starts with, and ``loki_pattern`` writes a template in Loki's pattern
syntax.

Names load on first use (``spyglass.core.lazy``): a parser user does not load the engine.
"""

from typing import TYPE_CHECKING

from spyglass.core.lazy import lazy_exports

if TYPE_CHECKING:
    from spyglass.core.log_fields import ERROR_LEVELS, LineFields, line_fields, normalize_level
    from spyglass.logs._analysis import (
        AnalysisOptions,
        Impact,
        ImpactReport,
        LogAnalysis,
        PatternImpact,
        PatternReport,
        ServiceImpact,
    )
    from spyglass.logs._ast import Expr, LogQuery
    from spyglass.logs._engine import Engine, EngineOptions, QueryResult, Stats, Stream
    from spyglass.logs._errors import LogQLParseError
    from spyglass.logs._masking import mask
    from spyglass.logs._mining import (
        CappedGroup,
        MinedPattern,
        MinerOptions,
        PatternMiner,
        Sample,
        loki_pattern,
    )
    from spyglass.logs._parser import parse_query
    from spyglass.logs._units import literal_duration_ns as parse_duration

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "ERROR_LEVELS",
    "AnalysisOptions",
    "CappedGroup",
    "Engine",
    "EngineOptions",
    "Expr",
    "Impact",
    "ImpactReport",
    "LineFields",
    "LogAnalysis",
    "LogQLParseError",
    "LogQuery",
    "MinedPattern",
    "MinerOptions",
    "PatternImpact",
    "PatternMiner",
    "PatternReport",
    "QueryResult",
    "Sample",
    "ServiceImpact",
    "Stats",
    "Stream",
    "line_fields",
    "loki_pattern",
    "mask",
    "normalize_level",
    "parse_duration",
    "parse_query",
]
