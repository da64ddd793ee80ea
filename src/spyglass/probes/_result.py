"""What one probe found: the gauges the blackbox exporter returns, and the probe's log.

A probe registers gauges as it learns things (a TLS gauge only once TLS was spoken), exactly as
the exporter's probers register theirs, so the series present tell the same story: a failed
connection has no ``probe_http_status_code`` of the response it never got, but has 0 where the
exporter has 0. ``exposition`` renders them in the text format the exporter's ``/probe`` answers
(families sorted by name, as client_golang gathers them); ``samples`` gives them to storage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from spyglass.core.labels import Labels
from spyglass.core.template import format_float

LabelPairs = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Gauge:
    """One gauge family: help text and a value per label set (``()`` for a plain gauge)."""

    name: str
    help: str
    values: dict[LabelPairs, float] = field(default_factory=dict)

    def set(self, value: float, labels: LabelPairs = ()) -> None:
        """Set the child with ``labels`` to ``value``."""
        self.values[labels] = float(value)

    def add(self, value: float, labels: LabelPairs = ()) -> None:
        """Add to the child with ``labels`` (created at 0)."""
        self.values[labels] = self.values.get(labels, 0.0) + float(value)

    def touch(self, labels: LabelPairs) -> None:
        """Create the child at 0 if absent (client_golang's ``WithLabelValues``)."""
        self.values.setdefault(labels, 0.0)


@dataclass(slots=True)
class ProbeResult:
    """The gauges and log lines of one probe run."""

    module: str
    target: str
    gauges: dict[str, Gauge] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    success: bool = False

    def gauge(self, name: str, help_text: str, *, plain: bool = True) -> Gauge:
        """Register (or get) a gauge; a plain gauge exists at 0 from registration on."""
        g = self.gauges.get(name)
        if g is None:
            g = self.gauges[name] = Gauge(name, help_text)
            if plain:
                g.values[()] = 0.0
        return g

    def info(self, message: str, **fields: object) -> None:
        """A line of the probe's log (shown by ``/probe?debug=true``)."""
        self._log("info", message, fields)

    def error(self, message: str, **fields: object) -> None:
        """An error line of the probe's log."""
        self._log("error", message, fields)

    def _log(self, level: str, message: str, fields: dict[str, object]) -> None:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        extra = "".join(f" {k}={_logfmt(str(v))}" for k, v in fields.items())
        self.log.append(
            f"ts={ts}Z module={_logfmt(self.module)} target={_logfmt(self.target)} "
            f"level={level} msg={_logfmt(message)}{extra}"
        )

    def exposition(self) -> str:
        """The text exposition format, families sorted by name and children by labels."""
        out: list[str] = []
        for name in sorted(self.gauges):
            g = self.gauges[name]
            if not g.values:
                continue
            out.append(f"# HELP {name} {_escape_help(g.help)}")
            out.append(f"# TYPE {name} gauge")
            for labels in sorted(g.values):
                inner = ",".join(f'{k}="{_escape_value(v)}"' for k, v in labels)
                out.append(f"{name}{{{inner}}} {_number(g.values[labels])}" if inner else
                           f"{name} {_number(g.values[labels])}")  # fmt: skip
        return "\n".join(out) + "\n"

    def samples(self, base: Labels) -> list[tuple[Labels, float]]:
        """Every child as (labels, value): ``base`` (job, instance, ...) plus the child's own."""
        out = []
        for name in sorted(self.gauges):
            for labels, value in sorted(self.gauges[name].values.items()):
                merged = dict(base)
                merged.update(labels)
                merged["__name__"] = name
                out.append((tuple(sorted(merged.items())), value))
        return out


def _number(v: float) -> str:
    # As client_golang's exposition writer: strconv.FormatFloat(v, 'g', -1, 64).
    return format_float(v, "g", -1)


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _logfmt(text: str) -> str:
    if text and not any(c in text for c in ' ="\\\n'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


__all__ = ["Gauge", "LabelPairs", "ProbeResult"]
