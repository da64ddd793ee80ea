r"""Prometheus text exposition format 0.0.4, as Go's ``expfmt.TextParser`` reads it.

Rules (from prometheus/common ``expfmt``, which the corpus in ``../shared/conformance`` and the
differential test against ``promtool check metrics`` pin): blanks and tabs may separate tokens and
indent lines, a label set may end with a comma, the value may follow the name or ``}`` directly;
blanks after the value announce an int64 millisecond timestamp, so trailing blanks are an error;
label values know the escapes ``\\``, ``\"`` and ``\n``, HELP text ``\\`` and ``\n``; the last
line must end with a newline; a family has at most one HELP and one TYPE, the TYPE before its
samples; ``le`` of histograms and ``quantile`` of summaries must be numbers. Prometheus 3's quoted
UTF-8 names are read too (``{"my.metric", "label.x"="v"} 1``, ``# TYPE "my.metric" gauge``), and
``le``/``quantile`` are stored the way Prometheus 3 normalizes them (``le="1"`` -> ``"1.0"``).

``lenient=True`` relaxes exactly the rules Prometheus' own scraper does not enforce (see
``parse_text``), so a scraper can take every page Prometheus takes.

Most lines of a real page are ``name{a="b",...} value [timestamp]`` with no escapes and no odd
spacing: one compiled regex takes those, and anything else (or anything the regex path would get
wrong, such as duplicate labels) goes through the careful character scanner, which also produces
the positioned errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from spyglass.core.errors import ParseError
from spyglass.core.labels import Labels
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition._lexing import (
    LABEL_NAME_RE,
    METRIC_NAME_RE,
    decode,
    fail,
    labels_from,
    read_quoted,
    skip_blanks,
    unescape_help,
)
from spyglass.ingest.exposition._model import Exposition, ScrapedSample
from spyglass.ingest.exposition._numbers import (
    format_openmetrics_float,
    parse_float,
    parse_int64,
)

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LPAIR = r'[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
# The value group only admits spellings whose ``float()`` equals Go's reading; decimals that
# overflow to infinity are sent to the slow path, which refuses them.
_VALUE = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN"
_FAST_RE = re.compile(
    rf"({_NAME})(?:\{{((?:{_LPAIR}(?:,{_LPAIR})*,?)?)\}})? ({_VALUE})(?: (-?[0-9]{{1,18}}))?"
)
_FAST_PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')
_TOKEN_RE = re.compile(r"[^ \t]*")
# A backslash and what follows it; a lone trailing backslash counts as an invalid escape.
_HELP_ESCAPE_RE = re.compile(r"\\(.|$)", re.DOTALL)

_TEXT_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
}
_SUFFIXES = (("_bucket", "histogram"), ("_count", ""), ("_sum", ""))
_MAX_VALUE_LINES = 64


def parse_text(data: bytes | str, *, lenient: bool = False) -> Exposition:
    """Parse a Prometheus text format 0.0.4 page.

    Raises ``ParseError`` (line and column 1-based) for anything Prometheus' ``expfmt`` parser
    (``promtool check metrics``) refuses; no other exception escapes.

    ``lenient=True`` also takes what Prometheus' own scraper lets through although expfmt does
    not: a last line without newline, unknown escapes in label values and HELP (kept as
    written), a repeated HELP or TYPE (the last one wins), TYPE after the family's samples,
    ``le``/``quantile`` values that are not numbers (kept as written) and label pairs without
    a comma between them.
    """
    return _TextParser(decode(data), lenient=lenient).run()


class _TextParser:
    def __init__(self, text: str, *, lenient: bool) -> None:
        self.text = text
        self.lenient = lenient
        self.samples: list[ScrapedSample] = []
        self.types: dict[str, str] = {}
        self.helps: dict[str, str] = {}
        self.with_samples: set[str] = set()
        # Whether any summary/histogram TYPE was seen: only then can ``x_sum`` belong to ``x``.
        self.compound = False
        # sample name -> (family, label that must be a float); reset whenever a TYPE arrives.
        self.family_cache: dict[str, tuple[str, str]] = {}
        self.bounds: dict[str, str] = {}

    def run(self) -> Exposition:
        lines = self.text.split("\n")
        fast = _FAST_RE.fullmatch
        pairs_of = _FAST_PAIR_RE.findall
        append = self.samples.append
        inf = math.inf
        # Cleared (never replaced) when a TYPE line arrives, so these aliases stay valid.
        families = self.family_cache
        with_samples = self.with_samples
        bounds = self.bounds
        numbered = enumerate(lines, 1)
        for lineno, line in numbered:
            if not line:
                continue
            m = fast(line)
            if m is not None:
                name, block, vtok, ttok = m.groups()
                value = float(vtok)
                if (abs(value) != inf or vtok[-1] == "f") and (
                    not block or "__name__" not in block
                ):
                    pairs: list[tuple[str, str]] = pairs_of(block) if block else []
                    if len(pairs) < 2 or len(dict(pairs)) == len(pairs):
                        family, bound = families.get(name) or self._resolve(name)
                        with_samples.add(family)
                        if bound:
                            # Inlined _normalize: most lines of a page are histogram buckets.
                            for i, (k, v) in enumerate(pairs):
                                if k == bound:
                                    pairs[i] = (k, bounds.get(v) or self._bound(v, k, lineno, line))
                                    break
                        if not pairs:
                            labels: Labels = (("__name__", name),)
                        elif '=""' in block:
                            labels = labels_from(name, pairs)
                        else:
                            pairs.append(("__name__", name))
                            pairs.sort()
                            labels = tuple(pairs)
                        append(ScrapedSample(labels, value, None if ttok is None else int(ttok)))
                        continue
            start = skip_blanks(line, 0)
            if start == len(line):
                continue
            if line[start] == "#":
                self._comment(line, start + 1, lineno)
                continue
            if self.lenient:
                full, parsed = self._multiline_sample(line, start, lineno, numbered)
            else:
                full, parsed = line, self._sample(line, start, lineno)
            name, pairs, value, ts = parsed
            self._check_family(name, pairs, lineno, full)
            append(ScrapedSample(labels_from(name, pairs), value, ts))
        tail = lines[-1]
        if tail.strip(" \t") and not self.lenient:
            # Checked last so that a broken final line reports its own error first, as in expfmt.
            fail(
                "unexpected end of input stream (no newline after the last line)",
                len(lines),
                len(tail) + 1,
                tail,
            )
        metadata = {
            name: MetricMetadata(self.types.get(name, "unknown"), self.helps.get(name, ""))
            for name in {**self.types, **self.helps}
        }
        return Exposition(self.samples, metadata)

    def _family_of(self, name: str) -> str:
        if name in self.types or not self.compound:
            return name
        for suffix, only in _SUFFIXES:
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                kind = self.types.get(base)
                if kind == "histogram" or (kind == "summary" and not only):
                    return base
        return name

    def _resolve(self, name: str) -> tuple[str, str]:
        """(family, label to check and normalize) for a sample name; cached per name."""
        family = self._family_of(name)
        kind = self.types.get(family)
        bound = ""
        if kind == "summary" and name == family:
            bound = "quantile"
        elif kind == "histogram" and name == family + "_bucket":
            bound = "le"
        known = self.family_cache[name] = (family, bound)
        return known

    def _check_family(
        self, name: str, pairs: list[tuple[str, str]], lineno: int, line: str
    ) -> None:
        family, bound = self.family_cache.get(name) or self._resolve(name)
        self.with_samples.add(family)
        if bound:
            self._normalize(pairs, bound, lineno, line)

    def _normalize(self, pairs: list[tuple[str, str]], bound: str, lineno: int, line: str) -> None:
        for i, (n, v) in enumerate(pairs):
            if n == bound:
                pairs[i] = (n, self._bound(v, bound, lineno, line))
                return

    def _bound(self, text: str, label: str, lineno: int, line: str) -> str:
        """An ``le``/``quantile`` value, checked and written the way Prometheus 3 stores it."""
        normal = self.bounds.get(text)
        if normal is None:
            value = parse_float(text)
            if value is None:
                if self.lenient:
                    return text
                col = line.find(label + "=") + 1
                fail(f"expected float as value for '{label}' label", lineno, col, line)
            normal = self.bounds[text] = format_openmetrics_float(value)
        return normal

    def _comment(self, line: str, pos: int, lineno: int) -> None:
        n = len(line)
        pos = skip_blanks(line, pos)
        m = _TOKEN_RE.match(line, pos)
        if m is None or m.end() >= n:
            return
        keyword = m.group()
        if keyword not in ("HELP", "TYPE"):
            return
        pos = skip_blanks(line, m.end())
        if pos >= n:
            return
        if line[pos] == '"':
            name, pos = read_quoted(line, pos, lineno, strict_escapes=not self.lenient)
            if not name:
                fail("empty quoted name", lineno, pos, line)
        else:
            nm = METRIC_NAME_RE.match(line, pos)
            name = nm.group() if nm is not None else ""
            pos = nm.end() if nm is not None else pos
        if pos >= n:
            return  # a name and nothing else: expfmt ignores the line
        if not name or (line[pos] not in " \t" and not self.lenient):
            fail("invalid metric name in comment", lineno, pos + 1, line)
        rest = line[skip_blanks(line, pos) :]
        if not rest:
            return  # "# TYPE name " with nothing after the blanks: expfmt ignores it too
        if keyword == "HELP":
            if self.lenient:
                self.helps[name] = unescape_help(rest)
                return
            if name in self.helps:
                fail(f'second HELP line for metric name "{name}"', lineno, 1, line)
            self.helps[name] = self._help(rest, lineno, line)
            return
        kind = _TEXT_TYPES.get(rest.lower())
        if kind is None:
            fail(f'unknown metric type "{rest}"', lineno, len(line) - len(rest) + 1, line)
        if (name in self.types or name in self.with_samples) and not self.lenient:
            fail(
                f'second TYPE line for metric name "{name}", or TYPE reported after samples',
                lineno,
                1,
                line,
            )
        self.types[name] = kind
        self.family_cache.clear()
        if kind in ("summary", "histogram"):
            self.compound = True

    @staticmethod
    def _help(text: str, lineno: int, line: str) -> str:
        """HELP text with expfmt's two escapes; any other backslash sequence is an error."""
        if "\\" not in text:
            return text
        for m in _HELP_ESCAPE_RE.finditer(text):
            if m.group(1) not in ("\\", "n"):
                col = len(line) - len(text) + m.start() + 1
                fail(f"invalid escape sequence '{m.group()}'", lineno, col, line)
        return unescape_help(text)

    def _multiline_sample(
        self, line: str, pos: int, lineno: int, numbered: Iterator[tuple[int, str]]
    ) -> tuple[str, tuple[str, list[tuple[str, str]], float, int | None]]:
        """Prometheus' scraper lets a label value run over raw newlines; so does lenient mode.

        The sample is re-read with the next line appended while a quoted string is open, at most
        ``_MAX_VALUE_LINES`` times so a stray quote cannot make the parse quadratic.
        """
        for _ in range(_MAX_VALUE_LINES):
            try:
                return line, self._sample(line, pos, lineno)
            except ParseError as exc:
                if not exc.message.startswith("unterminated quoted string"):
                    raise
                following = next(numbered, None)
                if following is None:
                    raise
                line = line + "\n" + following[1]
        return line, self._sample(line, pos, lineno)

    def _sample(
        self, line: str, pos: int, lineno: int
    ) -> tuple[str, list[tuple[str, str]], float, int | None]:
        n = len(line)
        name: str | None = None
        if line[pos] != "{":
            m = METRIC_NAME_RE.match(line, pos)
            if m is None:
                fail("invalid metric name", lineno, pos + 1, line)
            # Like expfmt, the value may follow the name directly ("a+3" is a with value +3).
            name = m.group()
            pos = skip_blanks(line, m.end())
        pairs: list[tuple[str, str]] = []
        if pos < n and line[pos] == "{":
            name_start = pos
            pos, name, pairs = self._labels(line, pos + 1, name, lineno)
            if name is None:
                fail(
                    "invalid metric name (missing before or inside the braces)",
                    lineno,
                    name_start + 1,
                    line,
                )
            pos = skip_blanks(line, pos)
        assert name is not None
        m = _TOKEN_RE.match(line, pos)
        vtok = m.group() if m is not None else ""
        value = parse_float(vtok) if vtok else None
        if value is None:
            fail("expected float as value", lineno, pos + 1, line)
        pos += len(vtok)
        if pos >= n:
            return name, pairs, value, None
        # expfmt: blanks after the value announce a timestamp, so trailing blanks are an error,
        # and so is anything at all after the timestamp.
        pos = skip_blanks(line, pos)
        m = _TOKEN_RE.match(line, pos)
        ttok = m.group() if m is not None else ""
        ts = parse_int64(ttok)
        if ts is None:
            fail(f'expected integer as timestamp, got "{ttok}"', lineno, pos + 1, line)
        end = pos + len(ttok)
        if end < n:
            fail(f'spurious string after timestamp: "{line[end:]}"', lineno, end + 1, line)
        return name, pairs, value, ts

    def _labels(
        self, line: str, pos: int, name: str | None, lineno: int
    ) -> tuple[int, str | None, list[tuple[str, str]]]:
        """Parse a label set after its ``{``; return (end, metric name, pairs)."""
        n = len(line)
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        first = True
        strict = not self.lenient
        while True:
            pos = skip_blanks(line, pos)
            if pos >= n:
                fail("unexpected end of label set", lineno, pos + 1, line)
            c = line[pos]
            if c == "}":
                return pos + 1, name, pairs
            lstart = pos
            if c == '"':
                lname, pos = read_quoted(line, pos, lineno, strict_escapes=strict)
                if not lname:
                    fail("empty quoted name", lineno, lstart + 1, line)
                after = skip_blanks(line, pos)
                if first and name is None and after < n and line[after] in ",}":
                    # Prometheus 3: a lone quoted string in the braces is the metric name.
                    name = lname
                    first = False
                    pos = after + 1 if line[after] == "," else after
                    continue
            else:
                m = LABEL_NAME_RE.match(line, pos)
                if m is None:
                    fail("invalid label name for metric", lineno, pos + 1, line)
                lname = m.group()
                pos = m.end()
            first = False
            pos = skip_blanks(line, pos)
            if pos >= n or line[pos] != "=":
                fail("expected '=' after label name", lineno, pos + 1, line)
            pos = skip_blanks(line, pos + 1)
            if pos >= n or line[pos] != '"':
                fail("expected '\"' at start of label value", lineno, pos + 1, line)
            value, pos = read_quoted(line, pos, lineno, strict_escapes=strict)
            if lname == "__name__":
                fail('label name "__name__" is reserved', lineno, lstart + 1, line)
            if lname in seen:
                fail(f'duplicate label name "{lname}"', lineno, lstart + 1, line)
            seen.add(lname)
            pairs.append((lname, value))
            pos = skip_blanks(line, pos)
            if pos < n and line[pos] == ",":
                pos += 1
            elif pos < n and not strict and line[pos] != "}":
                continue  # Prometheus' scraper reads the next pair even without a comma
            elif pos >= n or line[pos] != "}":
                fail(f'unexpected end of label value "{value}"', lineno, pos + 1, line)
