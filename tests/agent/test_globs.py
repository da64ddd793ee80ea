"""``__path__`` globs: ``*`` within a segment, ``**`` across directories, ``{a,b}``
alternatives; ``__path_exclude__`` matches whole paths."""

from __future__ import annotations

from pathlib import Path

from spyglass.agent import compile_glob, expand


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
