"""The Silences page's matcher parser (frontend/src/matchers.js), run in Node, read the same as
Spyglass's Alertmanager matcher parser (``spyglass.alerting.parse_matchers``) on generated
input, and what it prints reads back the same; the Alerts page's Silence links quote label
values so that parser reads them back exactly."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.alerting import MatcherError, parse_matchers
from spyglass.server.ui import silence_url

MATCHERS_JS = REPO / "frontend" / "src" / "matchers.js"
RUN = """
import { parseMatchers, formatMatcher } from %s;
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((text) => {
    try {
      const ms = parseMatchers(text);
      return { ms, again: parseMatchers(ms.map(formatMatcher).join('\\n')) };
    } catch (e) {
      return { error: e.message };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
OPS = st.sampled_from(["=", "!=", "=~", "!~"])
VALUES = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=12
) | st.sampled_from(['"', "\\", "\\n", ",", "{a}", " x ", "\\t"])


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


LINES = st.lists(
    st.lists(st.tuples(NAMES, OPS, VALUES), min_size=1, max_size=3).map(
        lambda ms: ", ".join(f"{n}{op}{quoted(v)}" for n, op, v in ms)
    ),
    min_size=1,
    max_size=4,
)


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def run_js(node: str, texts: list[str]) -> list[dict[str, object]]:
    script = RUN % json.dumps(MATCHERS_JS.as_uri())
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(texts), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: list[dict[str, object]] = json.loads(out.stdout)
    return result


def _api(name: str, op: str, value: str) -> dict[str, object]:
    return {"name": name, "value": value, "isRegex": "~" in op, "isEqual": "!" not in op}


def _python(lines: list[str]) -> list[dict[str, object]] | None:
    """What Spyglass's parser reads; None when it refuses a regular expression (the page
    leaves checking those to the API, as Alertmanager's own UI does)."""
    try:
        return [_api(m.name, m.op.value, m.value) for line in lines for m in parse_matchers(line)]
    except MatcherError:
        return None


# One Node run per example, each over a batch of inputs: starting Node is the slow part.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(LINES, min_size=1, max_size=20))
def test_js_reads_matchers_as_alertmanager_does(node: str, batch: list[list[str]]) -> None:
    results = run_js(node, ["\n".join(lines) for lines in batch])
    for lines, result in zip(batch, results, strict=True):
        expected = _python(lines)
        if expected is None:
            continue
        assert result.get("ms") == expected, lines
        assert result["again"] == expected, lines  # formatMatcher's text reads back the same


def test_js_names_the_line_that_does_not_parse(node: str) -> None:
    results = run_js(node, ['a="b"\n\nc', 'a="b" c="d"', 'a="unclosed', '{job="x", env!="dev"}'])
    assert results[0] == {"error": "line 3: expected one of = != =~ !~ at the end of the line"}
    assert results[1] == {"error": 'line 1: expected a comma or the end of the line at "c=\\"d\\""'}
    assert results[2] == {"error": 'line 1: expected a closing " at the end of the line'}
    assert results[3]["ms"] == [
        {"name": "job", "value": "x", "isRegex": False, "isEqual": True},
        {"name": "env", "value": "dev", "isRegex": False, "isEqual": False},
    ]


@given(
    labels=st.dictionaries(
        NAMES, st.text(st.characters(blacklist_categories=("Cs",)), min_size=1), min_size=1
    )
)
def test_silence_links_carry_label_values_exactly(labels: dict[str, str]) -> None:
    url = urlsplit(silence_url(sorted(labels.items())))
    lines = parse_qs(url.query, keep_blank_values=True)["matcher"]
    read = {m.name: (m.op.value, m.value) for line in lines for m in parse_matchers(line)}
    assert read == {name: ("=", value) for name, value in labels.items()}
