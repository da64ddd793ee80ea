"""Relabeling: every action as Prometheus documents it, Go's template expansion, validation."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.required import missing

from spyglass.core import relabel as relabel_mod
from spyglass.core.errors import ConfigError
from spyglass.core.labels import Labels
from spyglass.core.relabel import RelabelConfig, hashmod, relabel

ABC: Labels = (("a", "foo"), ("b", "bar"), ("c", "baz"))


def rc(**kw: object) -> RelabelConfig:
    if "source_labels" in kw:
        kw["source_labels"] = tuple(kw["source_labels"])  # type: ignore[arg-type]
    return RelabelConfig(**kw)  # type: ignore[arg-type]


def test_public_names() -> None:
    assert set(relabel_mod.__all__) == {
        "ACTIONS",
        "DEFAULT_REGEX",
        "DEFAULT_REPLACEMENT",
        "DEFAULT_SEPARATOR",
        "Match",
        "Pattern",
        "RelabelConfig",
        "compile_regex",
        "expand",
        "hashmod",
        "relabel",
        "uses_template",
    }


def test_defaults_are_prometheus_defaults() -> None:
    cfg = RelabelConfig(target_label="x")
    assert (cfg.action, cfg.regex, cfg.separator, cfg.replacement) == ("replace", "(.*)", ";", "$1")


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        # replace: groups expand into the replacement
        (
            rc(source_labels=["a"], regex="f(.*)", target_label="d", replacement="ch${1}-ch${1}"),
            (*ABC, ("d", "choo-choo")),
        ),
        # source labels are joined with the separator before matching
        (
            rc(
                source_labels=["a", "b"],
                regex="f(.*);(.*)r",
                target_label="a",
                replacement="b${1}${2}m",
            ),
            (("a", "boobam"), ("b", "bar"), ("c", "baz")),
        ),
        (
            rc(
                source_labels=["a", "b"],
                separator="-",
                regex="foo-bar",
                target_label="x",
                replacement="joined",
            ),
            (*ABC, ("x", "joined")),
        ),
        # no match: nothing changes
        (rc(source_labels=["a"], regex="nope(.*)", target_label="d"), ABC),
        # the regex is anchored at both ends
        (rc(source_labels=["a"], regex="o+", target_label="d", replacement="x"), ABC),
        # an empty result deletes the target label
        (
            rc(source_labels=["a"], regex="f(.*)", target_label="b", replacement=""),
            (("a", "foo"), ("c", "baz")),
        ),
        # default regex with a constant replacement sets a static label
        (rc(target_label="env", replacement="prod"), (*ABC, ("env", "prod"))),
        # target_label can use groups too
        (
            rc(source_labels=["a"], regex="(f)oo", target_label="${1}_label", replacement="v"),
            (*ABC, ("f_label", "v")),
        ),
        # missing source labels read as ""; default regex (.*) matches "" and $1 is "": delete
        (rc(source_labels=["missing"], target_label="a"), (("b", "bar"), ("c", "baz"))),
        (
            rc(source_labels=["c"], target_label="d", modulus=1000, action="hashmod"),
            (*ABC, ("d", "976")),
        ),
        (
            rc(source_labels=["a", "b"], target_label="u", action="uppercase"),
            (*ABC, ("u", "FOO;BAR")),
        ),
        (
            rc(source_labels=["x"], target_label="l", action="lowercase"),
            (("a", "foo"), ("l", "mixed"), ("x", "MiXeD")),
        ),
        (rc(regex="(a|b)", action="labeldrop"), (("c", "baz"),)),
        (rc(regex="(a|b)", action="labelkeep"), (("a", "foo"), ("b", "bar"))),
        (rc(source_labels=["a"], regex="f.*", action="keep"), ABC),
        (rc(source_labels=["a"], regex="b.*", action="drop"), ABC),
    ],
)
def test_actions(cfg: RelabelConfig, expected: Labels) -> None:
    start = (("a", "foo"), ("x", "MiXeD")) if cfg.action == "lowercase" else ABC
    assert relabel(start, [cfg]) == expected


@pytest.mark.parametrize(
    "cfg",
    [
        rc(source_labels=["a"], regex=".*o.*", action="drop"),
        rc(source_labels=["a"], regex="no-match", action="keep"),
        rc(source_labels=["a"], target_label="b", action="keepequal"),
        rc(source_labels=["a"], target_label="a", action="dropequal"),
    ],
)
def test_dropping_actions_return_none(cfg: RelabelConfig) -> None:
    assert relabel(ABC, [cfg]) is None


def test_keepequal_dropequal_keep_when_condition_holds() -> None:
    labels = (("__tmp_port", "9100"), ("port", "9100"))
    keep = rc(source_labels=["__tmp_port"], target_label="port", action="keepequal")
    drop = rc(source_labels=["__tmp_port"], target_label="port", action="dropequal")
    assert relabel(labels, [keep]) == labels
    assert relabel(labels, [drop]) is None


def test_labelmap_copies_matching_names_and_keeps_originals() -> None:
    labels = (
        ("__meta_my_bar", "aaa"),
        ("__meta_my_baz", "bbb"),
        ("__meta_other", "ccc"),
        ("job", "j"),
    )
    cfg = rc(regex="__meta_(my.*)", action="labelmap")
    assert relabel(labels, [cfg]) == (
        *labels[:3],
        ("job", "j"),
        ("my_bar", "aaa"),
        ("my_baz", "bbb"),
    )
    renamed = relabel(
        labels, [rc(regex="__meta_(.*)_(b.*)", replacement="${2}_$1", action="labelmap")]
    )
    assert renamed is not None
    assert ("bar_my", "aaa") in renamed
    assert ("baz_my", "bbb") in renamed


def test_steps_run_in_order_and_empty_values_vanish() -> None:
    steps = [
        rc(source_labels=["__address__"], regex="(.*):\\d+", target_label="host"),
        rc(regex="__address__", action="labeldrop"),
        rc(target_label="empty", replacement=""),
    ]
    assert relabel((("__address__", "node1:9100"), ("empty", "")), steps) == (("host", "node1"),)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$1", "ab"),
        ("${1}", "ab"),
        ("${1}x", "abx"),
        ("$1x", ""),  # $1x names group "1x"
        ("$$1", "$1"),
        ("cost: $", "cost: $"),
        ("${1", "${1"),
        ("$2-$1", "cd-ab"),
        ("${first}/${second}", "ab/cd"),
        ("$first", "ab"),
        ("$9", ""),
        ("$01", ""),
        ("${nosuch}", ""),
        ("plain", "plain"),
    ],
)
def test_go_template_expansion(template: str, expected: str) -> None:
    cfg = rc(
        source_labels=["v"],
        regex="(?P<first>[a-z]+)-(?<second>[a-z]+)",
        target_label="out",
        replacement=template,
    )
    out = relabel((("v", "ab-cd"),), [cfg])
    assert out is not None
    assert dict(out).get("out", "") == expected


def test_dot_matches_newline_like_prometheus() -> None:
    cfg = rc(source_labels=["a"], regex="x.y", target_label="m", replacement="yes")
    assert dict(relabel((("a", "x\ny"),), [cfg]) or ()).get("m") == "yes"


def test_dollar_is_end_of_text_as_in_re2() -> None:
    cfg = rc(source_labels=["a"], regex="x$", action="keep")
    assert relabel((("a", "x\n"),), [cfg]) is None
    assert relabel((("a", "x"),), [cfg]) == (("a", "x"),)


def test_leading_case_insensitive_flag() -> None:
    cfg = rc(source_labels=["a"], regex="(?i)foo.*", action="keep")
    assert relabel((("a", "FOOBAR"),), [cfg]) is not None


def test_hashmod_uses_last_eight_md5_bytes() -> None:
    # md5("baz") = 73feffa4b7f6bb68e44cf984c85f6e88; last 8 bytes big-endian mod 1000 = 976
    assert hashmod("baz", 1000) == int("e44cf984c85f6e88", 16) % 1000 == 976


@pytest.mark.parametrize(
    ("kw", "field", "message"),
    [
        ({"action": "hashmod", "target_label": "t"}, "modulus", "requires non-zero modulus"),
        ({"action": "replace"}, "target_label", "requires 'target_label' value"),
        ({"action": "lowercase"}, "target_label", "requires 'target_label' value"),
        (
            {"action": "keepequal", "target_label": "t", "regex": "x"},
            "action",
            "requires only 'source_labels' and `target_label`",
        ),
        ({"action": "labeldrop", "target_label": "t"}, "action", "requires only 'regex'"),
        ({"action": "labelkeep", "source_labels": ("a",)}, "action", "requires only 'regex'"),
        ({"action": "labelmap", "replacement": ""}, "replacement", "is invalid 'replacement'"),
        ({"action": "nope"}, "action", 'unknown relabel action "nope"'),
        ({"target_label": "t", "regex": "a(b"}, "regex", "error parsing regexp"),
    ],
)
def test_invalid_configs(kw: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        RelabelConfig(**kw)  # type: ignore[arg-type]
    assert info.value.field == field
    assert message in info.value.message


def test_action_names_are_case_insensitive() -> None:
    assert RelabelConfig(action="LabelDrop", regex="x").action == "labeldrop"


NAMES = st.sampled_from(["a", "b", "c", "__name__", "job", "__address__"])
VALUES = st.text(alphabet="abcxyz:;-\n$", max_size=6)
LABELSETS = st.dictionaries(NAMES, VALUES, max_size=5).map(
    lambda d: tuple(sorted((k, v) for k, v in d.items() if v))
)
REGEXES = st.sampled_from(["(.*)", "a.*", "(a|b)", "(?P<n>[a-z]+):(.*)", "x$", ".*;.*", "", "b+"])
TEMPLATES = st.sampled_from(["$1", "${1}", "$n", "${2}_$1", "x", "", "$$", "$"])


@st.composite
def configs(draw: st.DrawFn) -> RelabelConfig:
    action = draw(st.sampled_from(relabel_mod.ACTIONS))
    regex = draw(REGEXES)
    sources = tuple(draw(st.lists(NAMES, max_size=3)))
    target = draw(st.sampled_from(["t", "a", "${1}", "__tmp"]))
    if action in ("labeldrop", "labelkeep"):
        return RelabelConfig(regex=regex, action=action)
    if action in ("keepequal", "dropequal"):
        return RelabelConfig(source_labels=sources, target_label=target, action=action)
    if action in ("lowercase", "uppercase"):
        return RelabelConfig(source_labels=sources, regex=regex, target_label=target, action=action)
    if action == "labelmap":
        return RelabelConfig(regex=regex, replacement=draw(TEMPLATES) or "x", action=action)
    return RelabelConfig(
        source_labels=sources,
        regex=regex,
        target_label=target,
        replacement=draw(TEMPLATES),
        modulus=draw(st.integers(1, 50)),
        separator=draw(st.sampled_from([";", "", "-"])),
        action=action,
    )


@settings(max_examples=200, deadline=None)
@given(LABELSETS, st.lists(configs(), max_size=4))
def test_valid_configs_never_crash_and_results_are_canonical(
    labels: Labels, steps: list[RelabelConfig]
) -> None:
    out = relabel(labels, steps)
    if out is not None:
        assert list(out) == sorted(out)
        assert all(v for _, v in out)
        assert len({n for n, _ in out}) == len(out)


@settings(max_examples=200, deadline=None)
@given(LABELSETS, REGEXES, st.lists(NAMES, max_size=3))
def test_keep_and_drop_partition_every_input(
    labels: Labels, regex: str, sources: list[str]
) -> None:
    keep = RelabelConfig(source_labels=tuple(sources), regex=regex, action="keep")
    drop = RelabelConfig(source_labels=tuple(sources), regex=regex, action="drop")
    kept, dropped = relabel(labels, [keep]), relabel(labels, [drop])
    assert (kept is None) != (dropped is None)
    assert (kept if kept is not None else dropped) == labels


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_regex_text_compiles_or_is_a_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        relabel_mod.compile_regex(text)


# Python's re (with the RE2 spellings translated) and google-re2, a dependency of spyglass that
# is always installed where the tests run: without it the RE2 cases skip, or fail in CI.
ENGINES = [False, True]


def _engine(use_re2: bool) -> bool:
    if use_re2 and relabel_mod._RE2 is None:
        missing(
            "google-re2 is not installed: it is a dependency of spyglass "
            "(pip install -e '.[dev]', as scripts/test does, installs it)"
        )
    return use_re2


@pytest.mark.parametrize("use_re2", ENGINES)
@pytest.mark.parametrize(
    ("regex", "text", "matches"),
    [
        ("f(.*)", "foo", True),
        ("o+", "foo", False),
        ("x.y", "x\ny", True),
        ("x$", "x\n", False),
        ("(?i)foo", "FOO", True),
        (r"\d+", "123", True),
        (r"\d+", "\u0661\u0662", False),
        (r"\w+", "h\u00e9llo", False),
        ("(?<n>a)b", "ab", True),
        (r"a\z", "a", True),
        ("[]a]+", "a]a", True),
        ("[^]a]", "b", True),
        ("", "", True),
        ("", "x", False),
    ],
)
def test_regex_engines_agree_with_re2_semantics(
    use_re2: bool, regex: str, text: str, matches: bool
) -> None:
    pattern = relabel_mod.compile_regex(regex, use_re2=_engine(use_re2))
    assert (pattern.fullmatch(text) is not None) is matches


@pytest.mark.parametrize("use_re2", ENGINES)
def test_both_engines_reject_invalid_regexes(use_re2: bool) -> None:
    with pytest.raises(ConfigError, match="error parsing regexp"):
        relabel_mod.compile_regex("(unclosed", use_re2=_engine(use_re2))


def test_re2_rejects_backreferences_like_prometheus() -> None:
    _engine(use_re2=True)
    with pytest.raises(ConfigError):
        relabel_mod.compile_regex(r"(a)\1", use_re2=True)


def test_re2_matches_hostile_values_in_linear_time() -> None:
    """(a+)+b against many a's is exponential for backtracking engines; RE2 answers at once."""
    _engine(use_re2=True)
    cfg = RelabelConfig(source_labels=("v",), regex="(a+)+b", action="keep")
    assert relabel((("v", "a" * 5000),), [cfg]) is None


@pytest.mark.parametrize(
    ("labels", "steps", "expected"),
    [
        # several groups, reused and repeated in the replacement
        (
            {"a": "boobam", "b": "bar", "c": "baz"},
            [
                rc(
                    source_labels=["c", "a"],
                    regex="(b).*b(.*)ba(.*)",
                    target_label="d",
                    replacement="$1$2$2$3",
                )
            ],
            {"a": "boobam", "b": "bar", "c": "baz", "d": "boooom"},
        ),
        # hashmod hashes the raw bytes, newlines included
        (
            {"a": "foo\nbar"},
            [rc(source_labels=["a"], target_label="b", modulus=1000, action="hashmod")],
            {"a": "foo\nbar", "b": "734"},
        ),
        # a target label built from a group; a group that does not exist gives no label
        (
            {"a": "some-name-value"},
            [
                rc(
                    source_labels=["a"],
                    regex="some-([^-]+)-([^,]+)",
                    target_label="${1}",
                    replacement="${2}",
                ),
                rc(
                    source_labels=["a"],
                    regex="some-([^-]+)-([^,]+)",
                    target_label="${3}",
                    replacement="${1}",
                ),
            ],
            {"a": "some-name-value", "name": "value"},
        ),
        # tags parsed out of one discovery label
        (
            {"__meta_sd_tags": "path:/secret,job:some-job,label:foo=bar"},
            [
                rc(
                    source_labels=["__meta_sd_tags"],
                    regex="(?:.+,|^)path:(/[^,]+).*",
                    target_label="__metrics_path__",
                ),
                rc(
                    source_labels=["__meta_sd_tags"],
                    regex="(?:.+,|^)job:([^,]+).*",
                    target_label="job",
                ),
                rc(
                    source_labels=["__meta_sd_tags"],
                    regex="(?:.+,|^)label:([^=]+)=([^,]+).*",
                    target_label="${1}",
                    replacement="${2}",
                ),
            ],
            {
                "__meta_sd_tags": "path:/secret,job:some-job,label:foo=bar",
                "__metrics_path__": "/secret",
                "job": "some-job",
                "foo": "bar",
            },
        ),
        # a label dropped earlier can be set again and then kept on
        (
            {"__meta_port_name": "foo", "__meta_metrics_port": "9091"},
            [
                rc(regex="^__meta_port_name$", action="labeldrop"),
                rc(
                    source_labels=["__meta_metrics_port"],
                    regex="(.+)",
                    target_label="__meta_port_name",
                    replacement="metrics",
                ),
                rc(source_labels=["__meta_port_name"], regex="^metrics$", action="keep"),
            ],
            {"__meta_metrics_port": "9091", "__meta_port_name": "metrics"},
        ),
    ],
)
def test_documented_relabel_scenarios(
    labels: dict[str, str], steps: list[RelabelConfig], expected: dict[str, str]
) -> None:
    assert relabel(tuple(sorted(labels.items())), steps) == tuple(sorted(expected.items()))
