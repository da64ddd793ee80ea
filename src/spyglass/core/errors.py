"""Every error Spyglass raises on purpose derives from ``SpyglassError``.

::

    SpyglassError
    ├── BadInput            the client sent something wrong; never retry (400, INVALID_ARGUMENT)
    │   ├── ParseError      text that does not parse: carries line/column (1-based) and a snippet
    │   ├── LimitExceeded   a configured limit was hit: carries the limit's name and value
    │   └── TemplateError   a Go template does not parse or fails to execute; the text is Go's own
    │                       (``template: name:line:col: executing "name" at <.Foo>: ...``)
    ├── Conflict            a versioned write lost a race: the stored version is not the one
    │                       expected (409); re-read, then decide again
    ├── ConfigError         a config file is wrong: carries file, line and field, like promtool
    ├── IncompatibleState   the state database was migrated by a newer Spyglass: carries both
    │                       schema versions; never retry, run the newer version
    ├── QueryError          a query failed while running
    │   ├── QueryTimeout    the query's deadline passed
    │   └── QueryTooLarge   the query would exceed the sample/series limit
    └── Unavailable         a retryable server-side failure (storage down, shutting down): 5xx
        └── Overloaded      storage is behind: too much accepted data waits in memory; the
                            sender retries later (503, or 429 where the protocol says so)

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


class TemplateError(BadInput):
    """A Go template (rule annotation, notification template) does not parse or fails to run.

    ``str()`` is the message Go's text/template gives for the same mistake, which is what users
    of Prometheus and Alertmanager search for: ``template: <name>:<line>: <problem>`` for parse
    errors and ``template: <name>:<line>:<col>: executing "<name>" at <<node>>: <problem>`` for
    execution errors (the column counts bytes from 0, as Go's does). ``name``, ``line`` and
    ``column`` repeat the position when known (``0``: unknown).
    """

    def __init__(self, message: str, *, name: str = "", line: int = 0, column: int = 0) -> None:
        self.message = message
        self.name = name
        self.line = line
        self.column = column
        super().__init__(message)


class Conflict(SpyglassError):
    """A versioned write expected one version of a state document and found another.

    ``expected`` is the version the caller read (``0``: it expected no document); ``actual`` is
    what is stored now (``None``: no document). Retrying the same write cannot succeed; the
    caller re-reads the document and decides again.
    """

    def __init__(self, kind: str, key: str, expected: int, actual: int | None) -> None:
        self.kind = kind
        self.key = key
        self.expected = expected
        self.actual = actual
        want = f"version {expected}" if expected else "no document"
        found = f"version {actual}" if actual is not None else "none"
        super().__init__(f"state {kind}/{key}: expected {want}, found {found}")


class IncompatibleState(SpyglassError):
    """The state database is at a schema version newer than this Spyglass knows.

    A newer Spyglass migrated it; an older one must not write tables it does not understand.
    """

    def __init__(self, where: str, found: int, supported: int) -> None:
        self.where = where
        self.found = found
        self.supported = supported
        super().__init__(
            f"the state database {where} is at schema version {found}, newer than version "
            f"{supported}, the newest this Spyglass knows; run the Spyglass that migrated it "
            "(or a newer one)"
        )


class QueryError(SpyglassError):
    """A query failed while being evaluated."""


class QueryTimeout(QueryError):
    """The query ran past its deadline."""


class QueryTooLarge(QueryError):
    """The query would load more samples or series than allowed."""


class Unavailable(SpyglassError):
    """A server-side failure worth retrying (storage unreachable, shutting down, overloaded)."""


class Overloaded(Unavailable):
    """Too much accepted data waits for storage: refused until it drains, so memory stays
    bounded. Protocols with a "slow down" answer use it (Elasticsearch's per-item 429)."""


__all__ = [
    "BadInput",
    "ConfigError",
    "Conflict",
    "IncompatibleState",
    "LimitExceeded",
    "Overloaded",
    "ParseError",
    "QueryError",
    "QueryTimeout",
    "QueryTooLarge",
    "SpyglassError",
    "TemplateError",
    "Unavailable",
]
