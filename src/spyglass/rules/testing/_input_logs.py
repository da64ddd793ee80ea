"""The ``input_logs`` notation: log lines for unit tests of LogQL rules (Spyglass's extension).

promtool's test files feed PromQL rules with ``input_series`` in the series notation; Loki has
no test format for its ruler. A test group of ``spyglass test rules`` can also give
``input_logs``, one entry per stream::

    input_logs:
      - labels: '{job="api", level="error"}'   # the stream, as Loki's push API takes it
        lines:
          - '0s db timeout'                    # one line, at the test's start
          - '1m30s db timeout'                 # one line, 90 s after it
          - '2m+15sx3 db timeout'              # 2m, 2m15s, 2m30s, 2m45s: four lines

Each item is ``<time> <line>``: the time is a Prometheus duration after the test group's start
(``start_timestamp``, or 0), optionally ``<time>+<step>x<n>`` for ``n`` more copies ``step``
apart (promtool's ``a+bxn``, which also gives ``n + 1`` values); the line is the rest after one
space, verbatim (JSON included; quote the item in YAML). Stream labels are plain ``=``
matchers, at least one, as a Loki stream has.
"""

from __future__ import annotations

import re

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import MatchOp
from spyglass.core.times import parse_duration_ms
from spyglass.logs import LogQuery, parse_query

MAX_REPEAT = 100_000
"""Most copies one item may make, so a typo (``0s+1msx99999999``) cannot exhaust memory."""

_TIME = re.compile(r"(?P<at>[^\s+x]+)(?:\+(?P<step>[^\s+x]+)x(?P<count>[^\s]+))?")


def parse_log_line(text: str) -> list[tuple[int, str]]:
    """The lines one ``lines`` item stands for: ``(milliseconds after the start, line)``.

    Raises ``BadInput`` naming what is wrong (the time, the step, the count)."""
    head, _, line = text.partition(" ")
    match = _TIME.fullmatch(head)
    if not head or match is None:
        raise BadInput(f'"{head}" is not <time> or <time>+<step>x<count> (e.g. 30s, 1m+10sx5)')
    at = _duration(match["at"], "time")
    if match["step"] is None:
        return [(at, line)]
    step = _duration(match["step"], "step")
    if step == 0:
        raise BadInput(f'step of "{head}" must be more than 0')
    count = match["count"]
    if not count.isdigit() or not 0 < int(count) <= MAX_REPEAT:
        raise BadInput(f'count of "{head}" must be a whole number from 1 to {MAX_REPEAT}')
    return [(at + i * step, line) for i in range(int(count) + 1)]


def parse_stream_labels(text: str) -> Labels:
    """A stream's labels written as a selector of ``=`` matchers (``{job="api"}``).

    Raises ``BadInput`` (``ParseError`` with LogQL's position for bad syntax)."""
    query = parse_query(text)
    if not isinstance(query, LogQuery) or query.stages:
        raise BadInput(f'{text.strip()} is not a stream selector such as {{job="api"}}')
    pairs: dict[str, str] = {}
    for m in query.matchers:
        if m.op is not MatchOp.EQUAL:
            raise BadInput(f'stream labels take name="value" only, not {m.op.value}')
        pairs[m.name] = m.value
    return labels_of(pairs)


def _duration(text: str, what: str) -> int:
    try:
        return parse_duration_ms(text)
    except BadInput as exc:
        raise BadInput(f"{what}: {exc}") from None


__all__ = ["MAX_REPEAT", "parse_log_line", "parse_stream_labels"]
