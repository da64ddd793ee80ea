"""``__path__`` globs: ``*`` within a segment, ``**`` across directories, ``{a,b}``
alternatives; ``__path_exclude__`` matches whole paths."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from spyglass.agent import compile_glob, expand
from spyglass.agent._globs import braces


def test_expand_with_doublestar_and_braces(tmp_path: Path) -> None:
    for rel in ("a.log", "b.txt", "x/c.log", "x/y/d.log", "x/y/e.json", "x/dir.log/f"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    base = str(tmp_path)
    assert expand(f"{base}/*.log") == [f"{base}/a.log"]
    assert expand(f"{base}/**/*.log") == [f"{base}/a.log", f"{base}/x/c.log", f"{base}/x/y/d.log"]
    assert expand(f"{base}/**/*.{{log,json}}") == [
        f"{base}/a.log",
        f"{base}/x/c.log",
        f"{base}/x/y/d.log",
        f"{base}/x/y/e.json",
    ]


def test_exclude_patterns() -> None:
    g = compile_glob("/var/log/**/*.{gz,1}")
    assert g.fullmatch("/var/log/a/b/c.gz")
    assert g.fullmatch("/var/log/c.1")
    assert not g.fullmatch("/var/log/c.log")
    assert compile_glob("/var/log/[!a]*.log").fullmatch("/var/log/b.log")
    assert not compile_glob("/var/log/[!a]*.log").fullmatch("/var/log/a.log")
    assert not compile_glob("/var/log/*.log").fullmatch("/var/log/x/a.log")


_SEGMENT = st.text(alphabet="abcXYZ019._-", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)


@given(st.lists(_SEGMENT, min_size=1, max_size=5))
def test_a_literal_path_matches_itself_and_doublestar_matches_it_anywhere(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    assert compile_glob(path).fullmatch(path)
    assert compile_glob("/**/" + parts[-1]).fullmatch(path)
    assert compile_glob("/**").fullmatch(path)
    if len(parts) > 1:
        assert not compile_glob("/*").fullmatch(path)


@given(st.lists(st.lists(_SEGMENT, min_size=1, max_size=3), min_size=1, max_size=3))
def test_braces_expand_to_every_combination(groups: list[list[str]]) -> None:
    pattern = "/".join("{" + ",".join(g) + "}" for g in groups)
    expected = 1
    for g in groups:
        expected *= len(g)
    assert len(braces(pattern)) == expected


@given(st.text(max_size=30))
def test_any_pattern_compiles(pattern: str) -> None:
    compile_glob(pattern)
