"""Hypothesis strategies for LogQL text: log queries and metric queries built from the
grammar's pieces (selectors with awkward values, every pipeline stage, aggregations, binary
operations), for the parser's round-trip test and the engine's fuzz test."""

from __future__ import annotations

import json

from hypothesis import strategies as st


def json_quote(value: str) -> str:
    """A value as a double-quoted LogQL string."""
    return json.dumps(value, ensure_ascii=False)


_label = st.sampled_from(["app", "env", "level", "status", "pod"])
_value = st.text(alphabet='abc"\\ \n.*é', max_size=6)
_matcher = st.builds(
    lambda n, op, v: f"{n}{op}{json_quote(v)}",
    _label,
    st.sampled_from(["=", "!="]),
    _value,
)


_selector = st.builds(
    lambda ms: '{app="x"' + "".join(", " + m for m in ms) + "}", st.lists(_matcher, max_size=3)
)
_stage = st.one_of(
    st.builds(lambda op, v: f"{op} {json_quote(v)}", st.sampled_from(["|=", "!=", "|~ ", "!~"]),
              st.sampled_from(["a", "b.c", "(?i)err"])),
    st.just('|= ip("10.0.0.0/8") or "x"'),
    st.just("| json"),
    st.just('| json a="b.c", d="e[0]"'),
    st.just("| logfmt --keep-empty x, y=\"z\""),
    st.just('| regexp "(?P<a>\\\\w+)"'),
    st.just('| pattern "<a> <_>"'),
    st.just("| unpack"),
    st.just('| line_format "{{.a}}"'),
    st.just('| label_format a=b, c="{{.d}}"'),
    st.just('| drop a, b="c"'),
    st.just("| keep a"),
    st.just("| decolorize"),
    st.builds(lambda n, op, v: f"| {n} {op} {v}", _label,
              st.sampled_from(["==", ">", "<=", "!="]),
              st.sampled_from(["1", "2.5", "1s", "1h30m", "10MB", "-3"])),
    st.just('| a="1" or b=~"2" and c!="3"'),
)  # fmt: skip
_log = st.builds(
    lambda sel, stages: " ".join([sel, *stages]), _selector, st.lists(_stage, max_size=4)
)
_range_op = st.sampled_from(["count_over_time", "rate", "bytes_over_time", "absent_over_time"])
_metric = st.one_of(
    st.builds(lambda op, log, r: f"{op}({log} [{r}])", _range_op, _log,
              st.sampled_from(["1m", "5m", "1h30m"])),
    st.builds(lambda log: f"quantile_over_time(0.9, {log} | unwrap duration(x) [5m]) by (app)",
              _log),
)  # fmt: skip
_expr = st.recursive(
    _metric,
    lambda inner: st.one_of(
        st.builds(lambda e: f"sum by (app) ({e})", inner),
        st.builds(lambda e: f"topk(2, {e})", inner),
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner,
                  st.sampled_from(["+", "/", "> bool", "and", "or on (app)", "* ignoring (x)"]),
                  inner),
        st.builds(lambda e: f"{e} * 2", inner),
        st.builds(lambda e: f'label_replace({e}, "d", "$1", "app", "(.*)")', inner),
    ),
    max_leaves=4,
)  # fmt: skip


log_queries = _log
metric_queries = _expr

__all__ = ["json_quote", "log_queries", "metric_queries"]
