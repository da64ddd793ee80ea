"""LogQL: Loki's query language over a ``storage.ports.LogReader``.

``parse_query`` turns text into the syntax tree (``str()`` of a tree prints it back) or raises
``LogQLParseError`` in Loki's words (``LogQuery`` is the tree of a log query, a stream selector
and its pipeline; ``parse_duration`` reads a LogQL duration such as ``1h30m``); ``Engine`` runs
log queries (streams) and metric queries (vectors and matrices). ``spyglass.logs.testing`` runs
Loki's ``.logqltest`` scripts.
"""

from spyglass.logs._ast import Expr, LogQuery
from spyglass.logs._engine import Engine, EngineOptions, QueryResult, Stats, Stream
from spyglass.logs._errors import LogQLParseError
from spyglass.logs._parser import parse_query
from spyglass.logs._units import literal_duration_ns as parse_duration

__all__ = [
    "Engine",
    "EngineOptions",
    "Expr",
    "LogQLParseError",
    "LogQuery",
    "QueryResult",
    "Stats",
    "Stream",
    "parse_duration",
    "parse_query",
]
