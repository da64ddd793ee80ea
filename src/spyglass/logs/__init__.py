"""LogQL: Loki's query language over a ``storage.ports.LogReader``.

``parse_query`` turns text into the syntax tree (``str()`` of a tree prints it back) or raises
``LogQLParseError`` in Loki's words; ``Engine`` runs log queries (streams) and metric queries
(vectors and matrices). ``spyglass.logs.testing`` runs Loki's ``.logqltest`` scripts.
"""

from spyglass.logs._ast import Expr
from spyglass.logs._engine import Engine, EngineOptions, QueryResult, Stats, Stream
from spyglass.logs._errors import LogQLParseError
from spyglass.logs._parser import parse_query

__all__ = [
    "Engine",
    "EngineOptions",
    "Expr",
    "LogQLParseError",
    "QueryResult",
    "Stats",
    "Stream",
    "parse_query",
]
