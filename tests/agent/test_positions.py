"""The positions file is Promtail's format, round-trips any path and offset, is replaced
atomically, and refuses (or, with ``ignore_invalid_yaml``, ignores) a file that is not one."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.agent import Positions, format_positions, parse_positions
from spyglass.core.errors import ConfigError


def test_promtails_own_file_reads(tmp_path: Path) -> None:
    f = tmp_path / "positions.yaml"
    f.write_text('positions:\n  /var/log/app.log: "10442"\n  /var/log/syslog: "7"\n')
    p = Positions(f)
    p.load()
    assert p.get("/var/log/app.log") == 10442
    assert p.get("/var/log/other") is None


def test_save_writes_only_changes_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "positions.yaml"
    p = Positions(f)
    p.load()
    p.set("/a.log", 12)
    assert p.save()
    assert not p.save()
    assert f.read_text() == "positions:\n  /a.log: '12'\n"
    assert [x.name for x in f.parent.iterdir()] == ["positions.yaml"]
    p.remove("/a.log")
    assert p.save()
    again = Positions(f)
    again.load()
    assert again.offsets == {}


def test_a_missing_file_is_empty(tmp_path: Path) -> None:
    p = Positions(tmp_path / "none.yaml")
    p.load()
    assert p.offsets == {}


@pytest.mark.parametrize(
    "text", ["positions: [1, 2]", "positions:\n  /a: x\n", "{{{", "positions:\n  /a: '-4'\n"]
)
def test_a_broken_file_is_an_error_unless_ignored(tmp_path: Path, text: str) -> None:
    f = tmp_path / "positions.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match="positions"):
        Positions(f).load()
    p = Positions(f, ignore_invalid_yaml=True)
    p.load()
    assert p.offsets == {}


_PATHS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@given(st.dictionaries(_PATHS, st.integers(0, 2**63 - 1), max_size=8))
def test_any_positions_round_trip(offsets: dict[str, int]) -> None:
    assert parse_positions(format_positions(offsets)) == offsets


@given(st.text(max_size=100))
def test_any_text_is_positions_or_a_config_error(text: str) -> None:
    try:
        got = parse_positions(text)
    except ConfigError:
        return
    assert all(isinstance(v, int) and v >= 0 for v in got.values())
