"""Label matchers: the ``{name op "value"}`` selectors of PromQL and the series APIs.

Regular expressions are fully anchored, as in Prometheus. Prometheus uses RE2 syntax; Python's
``re`` accepts the RE2 subset that selectors use in practice, and storage pushes the same pattern
down to ClickHouse's ``match()``, which is RE2.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels, get


class MatchOp(enum.Enum):
    """The four matcher operators."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher. ``matches`` follows Prometheus: a missing label has value ``""``."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False, hash=False)

    @classmethod
    def of(cls, name: str, op: MatchOp | str, value: str) -> Matcher:
        """Build a matcher, compiling and validating its regex once."""
        op = MatchOp(op)
        compiled = None
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                compiled = re.compile(f"(?s:^(?:{value})\\Z)")
            except re.error as exc:
                raise BadInput(
                    f"invalid regular expression {value!r} for label {name}: {exc}"
                ) from exc
        return cls(name, op, value, compiled)

    def matches_value(self, value: str) -> bool:
        """Whether a label value (``""`` for absent) satisfies this matcher."""
        if self.op is MatchOp.EQUAL:
            return value == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None
        hit = self._regex.match(value) is not None
        return hit if self.op is MatchOp.REGEX else not hit

    def matches(self, labels: Labels) -> bool:
        """Whether a label set satisfies this matcher."""
        return self.matches_value(get(labels, self.name))

    def matches_empty(self) -> bool:
        """Whether the empty value matches: such a matcher also selects series lacking the label."""
        return self.matches_value("")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{escaped}"'


def matches_all(matchers: tuple[Matcher, ...] | list[Matcher], labels: Labels) -> bool:
    """Whether a label set satisfies every matcher."""
    return all(m.matches(labels) for m in matchers)


__all__ = ["MatchOp", "Matcher", "matches_all"]
