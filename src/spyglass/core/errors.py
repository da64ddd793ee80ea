"""Every error Spyglass raises on purpose derives from ``SpyglassError``.

::

    SpyglassError
    ├── BadInput            the client sent something wrong; never retry (400, INVALID_ARGUMENT)
    │   ├── ParseError      text that does not parse: carries line/column (1-based) and a snippet
    │   └── LimitExceeded   a configured limit was hit: carries the limit's name and value
    ├── ConfigError         a config file is wrong: carries file, line and field, like promtool
    ├── QueryError          a query failed while running
    │   ├── QueryTimeout    the query's deadline passed
    │   └── QueryTooLarge   the query would exceed the sample/series limit
    └── Unavailable         a retryable server-side failure (storage down, shutting down): 5xx

API modules map these to each protocol's own error shape (Prometheus ``{"status": "error",
"errorType": ..., "error": ...}``, remote_write plain-text 400/5xx, OTLP ``Status``); the error
class decides 4xx versus 5xx so that clients retry exactly what is worth retrying.
"""

from __future__ import annotations


class SpyglassError(Exception):
    """Base of every deliberate Spyglass error."""


class BadInput(SpyglassError):
    """The client sent something wrong. Retrying the same request cannot succeed."""


class ParseError(BadInput):
    """Input text that does not parse.

    ``line`` and ``column`` are 1-based; ``0`` means unknown. ``str()`` gives the position first,
    like ``1:14: unexpected "}"``.
    """

    def __init__(self, message: str, *, line: int = 0, column: int = 0, snippet: str = "") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.snippet = snippet
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line else ""
        near = f" (near {self.snippet!r})" if self.snippet else ""
        return f"{where}{self.message}{near}"


class LimitExceeded(BadInput):
    """A configured limit was exceeded; ``limit`` names the setting so users know what to raise."""

    def __init__(self, limit: str, value: int | float, message: str) -> None:
        self.limit = limit
        self.value = value
        super().__init__(f"{message} (limit {limit}={value})")


class ConfigError(SpyglassError):
    """A configuration file is invalid. Renders as ``file:line: field: message``."""

    def __init__(self, message: str, *, file: str = "", line: int = 0, field: str = "") -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        where = file + (f":{line}" if line else "")
        parts = [p for p in (where, field) if p]
        super().__init__(": ".join([*parts, message]))


class QueryError(SpyglassError):
    """A query failed while being evaluated."""


class QueryTimeout(QueryError):
    """The query ran past its deadline."""


class QueryTooLarge(QueryError):
    """The query would load more samples or series than allowed."""


class Unavailable(SpyglassError):
    """A server-side failure worth retrying (storage unreachable, shutting down, overloaded)."""


__all__ = [
    "BadInput",
    "ConfigError",
    "LimitExceeded",
    "ParseError",
    "QueryError",
    "QueryTimeout",
    "QueryTooLarge",
    "SpyglassError",
    "Unavailable",
]
