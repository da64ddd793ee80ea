"""Error events: what the Sentry ingest endpoints produce and the errors domain groups into issues.

An ``ErrorEvent`` is one event a Sentry SDK sent (an exception or a captured message), with the
fields issues are searched, grouped and counted by pulled out of Sentry's event payload, and the
normalised payload itself kept whole for the event's page (stack trace, breadcrumbs, request,
contexts). ``Exception_`` and ``Frame`` are the parts grouping reads.

Times are nanoseconds since the epoch, like the other signals. Ids are lower-case hex without
dashes (Sentry's event id is a UUID written either way).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, str] = MappingProxyType({})
# The tags an event names its service with, the first one set winning.
_SERVICE_TAGS = ("service.name", "service")


def _no_tags() -> Mapping[str, str]:
    return _EMPTY


def _no_payload() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame, as grouping and the stack trace view need it.

    ``in_app`` is ``None`` when the SDK did not say (grouping then treats every frame alike).
    """

    function: str = ""
    module: str = ""
    filename: str = ""
    abs_path: str = ""
    lineno: int | None = None
    context_line: str = ""
    in_app: bool | None = None


@dataclass(frozen=True, slots=True)
class Exception_:  # noqa: N801 - "Exception" would shadow the builtin
    """One exception of a chain: its type, value and frames, innermost call last."""

    type: str = ""
    value: str = ""
    module: str = ""
    frames: tuple[Frame, ...] = ()
    handled: bool | None = None


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """One error event of one project.

    - ``exceptions``: the chain oldest first, as Sentry sends it (the last one was raised);
    - ``stack``: for an event without exceptions, the frames of the stack that captured it
      (``attach_stacktrace``: the top-level ``stacktrace`` or the crashed/current thread's);
    - ``message``: the formatted message; ``message_template`` its unformatted form
      (``logentry.message`` with ``%s`` placeholders) when the SDK sent one;
    - ``fingerprint``: the SDK's own fingerprint (``()`` when it sent none);
    - ``tags``: flattened to strings; ``user_*`` from the event's ``user``;
    - ``payload``: the whole normalised event, for display;
    - ``issue_key``: the issue it was grouped into (``errors.group``'s key, 32 hex digits),
      set by the errors domain before the event is stored (``""`` until then).
    """

    project_id: int
    event_id: str
    timestamp_ns: int
    received_ns: int
    level: str = "error"
    platform: str = "other"
    logger: str = ""
    transaction: str = ""
    server_name: str = ""
    release: str = ""
    environment: str = "production"
    message: str = ""
    message_template: str = ""
    exceptions: tuple[Exception_, ...] = ()
    stack: tuple[Frame, ...] = ()
    fingerprint: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=_no_tags)
    user_id: str = ""
    user_email: str = ""
    user_ip: str = ""
    trace_id: str = ""
    span_id: str = ""
    sdk: str = ""
    payload: Mapping[str, Any] = field(default_factory=_no_payload)
    issue_key: str = ""

    @property
    def user_key(self) -> str:
        """Who the event happened to, for counting users affected: id, else email, else IP."""
        return self.user_id or self.user_email or self.user_ip

    @property
    def service(self) -> str:
        """The service the event came from, as traces name it (``""``: it does not say).

        Sentry has no service field: a ``service.name`` or ``service`` tag (what users set
        with ``sentry_sdk.set_tag``), else the OpenTelemetry resource's ``service.name`` in the
        ``otel`` context that SDKs bridging OpenTelemetry send. ``server_name`` is not one:
        Sentry defines it as the host, and the SDKs fill it with the host name.
        """
        for key in _SERVICE_TAGS:
            if value := self.tags.get(key, ""):
                return value
        contexts = self.payload.get("contexts")
        otel = contexts.get("otel") if isinstance(contexts, Mapping) else None
        resource = otel.get("resource") if isinstance(otel, Mapping) else None
        name = resource.get("service.name") if isinstance(resource, Mapping) else None
        return name if isinstance(name, str) else ""


@dataclass(frozen=True, slots=True)
class ErrorBatch:
    """Error events accepted together (one request), in the order they were sent."""

    events: tuple[ErrorEvent, ...]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[ErrorEvent]:
        return iter(self.events)

    @classmethod
    def concat(cls, batches: Sequence[ErrorBatch]) -> ErrorBatch:
        """One batch holding every event of ``batches``, in order."""
        if len(batches) == 1:
            return batches[0]
        return cls(tuple(event for batch in batches for event in batch.events))


__all__ = ["ErrorBatch", "ErrorEvent", "Exception_", "Frame"]
