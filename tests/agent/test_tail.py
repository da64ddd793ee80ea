"""Following a file: whole lines only, from a saved offset, through rename+create rotation (the
old file is finished first), copytruncate (back to 0) and removal (read to the end)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.agent import FileTail


def texts(lines: list) -> list[str]:
    return [ln.text for ln in lines]


def test_whole_lines_only_and_offsets(tmp_path: Path) -> None:
    f = tmp_path / "app.log"
    f.write_bytes(b"one\r\ntwo\nthr")
    t = FileTail(str(f))
    got = t.poll()
    assert texts(got) == ["one", "two"]
    assert [ln.offset for ln in got] == [0, 5]
    assert t.offset == 9
    with f.open("ab") as w:
        w.write(b"ee\n")
    assert texts(t.poll()) == ["three"]
    assert t.offset == 15
    t.close()


def test_starts_at_the_saved_offset_or_at_zero_when_the_file_is_shorter(tmp_path: Path) -> None:
    f = tmp_path / "app.log"
    f.write_text("a\nb\nc\n")
    t = FileTail(str(f), 4)
    assert texts(t.poll()) == ["c"]
    t.close()
    t = FileTail(str(f), 100)
    assert texts(t.poll()) == ["a", "b", "c"]
    t.close()


def test_rename_and_create_rotation_finishes_the_old_file_first(tmp_path: Path) -> None:
    f = tmp_path / "app.log"
    f.write_text("1\n2\n")
    t = FileTail(str(f))
    assert texts(t.poll()) == ["1", "2"]
    old_id = t.id
    with f.open("a") as w:
        w.write("3\n4-no-newline")
    f.rename(tmp_path / "app.log.1")
    f.write_text("5\n")
    got = t.poll()
    assert texts(got) == ["3", "4-no-newline", "5"]
    assert [ln.source for ln in got] == [old_id, old_id, t.id]
    assert t.id != old_id
    assert t.rotations == 1
    assert t.offset == 2
    t.close()


def test_copytruncate_starts_again_from_zero(tmp_path: Path) -> None:
    f = tmp_path / "app.log"
    f.write_text("first line\nsecond line\n")
    t = FileTail(str(f))
    assert len(t.poll()) == 2
    before = t.id
    with f.open("r+") as w:
        w.truncate(0)
    with f.open("a") as w:
        w.write("new\n")
    assert texts(t.poll()) == ["new"]
    assert t.truncations == 1
    assert t.id != before
    t.close()


def test_a_removed_file_is_read_to_its_end_then_ended(tmp_path: Path) -> None:
    f = tmp_path / "app.log"
    f.write_text("a\n")
    t = FileTail(str(f))
    t.poll()
    with f.open("a") as w:
        w.write("b\nc")
    os.unlink(f)
    assert texts(t.poll()) == ["b", "c"]
    assert t.ended
    assert t.poll() == []
    t.close()


@settings(max_examples=50)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_any_appends_come_out_as_the_same_lines(chunks: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "x.log"
        f.write_bytes(b"")
        t = FileTail(str(f))
        got: list[str] = []
        data = b""
        for chunk in chunks:
            with f.open("ab") as w:
                w.write(chunk)
            data += chunk
            got += texts(t.poll(limit=7))
        got += texts(t.poll(limit=1 << 20))
        while True:
            more = t.poll(limit=1 << 20)
            if not more:
                break
            got += texts(more)
        t.close()
        whole = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
        expected = [
            (ln[:-1] if ln.endswith(b"\r") else ln).decode("utf-8", "replace")
            for ln in whole.split(b"\n")[:-1]
        ]
        assert got == expected
        assert t.offset == len(whole)
