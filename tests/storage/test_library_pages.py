"""chDB's library: the pages only its start-up touched are handed back once the backend is open,
and only from mappings where that loses nothing; smaps listings parse back to what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from spyglass.storage.backends._pages import Mapping, parse_smaps

# Opens the backend in a fresh process (the first open is the one that finds start-up's
# pages), then prints how much was handed back, what of the library's droppable mappings is
# resident right after, and what a query answers after that; then the same once more after
# start-up's work (``release_startup_memory``).
PROBE = """
import sys
from pathlib import Path
import chdb._chdb
from spyglass.storage.backends import ChdbBackend, release_startup_memory
from spyglass.storage.backends._pages import parse_smaps

def resident():
    lib = str(Path(chdb._chdb.__file__).resolve())
    regions = parse_smaps(Path("/proc/self/smaps").read_text())
    return sum(r.rss for r in regions if r.path == lib and r.droppable)

def ask():
    return backend.query_arrow("SELECT sum(number) AS s FROM numbers(1000)").column("s")[0].as_py()

before = resident()
backend = ChdbBackend(sys.argv[1])
after = resident()
answer = ask()
# Start-up's sort of work: DDL.
backend.command("CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x")
again = release_startup_memory(backend)
after_again = resident()
answer_again = ask()
backend.close()
print(before, backend.released_library_bytes, after, answer, again, after_again, answer_again)
"""


def test_the_pages_start_up_touched_are_handed_back_and_chdb_still_answers(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "ch")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    before, released, after, answer, again, after_again, answer_again = (
        int(x) for x in out.stdout.split()
    )
    mib = 1024**2
    # Loading the library maps much of it (on this machine some 175 MiB: its static
    # initialisers with the kernel's fault-around); after opening, only what runs since.
    assert released >= before / 2
    assert after < 16 * mib
    assert before > 4 * max(after, mib)
    assert answer == sum(range(1000))
    # Once start-up is over (here: a query and a table created), what it faulted back is
    # handed back again, and chDB still answers.
    assert again > 0
    assert after_again < 16 * mib
    assert answer_again == answer


regions = st.builds(
    Mapping,
    start=st.integers(0, 2**46).map(lambda a: a * 4096),
    end=st.integers(1, 2**20).map(lambda n: n * 4096),  # a length, made an end below
    perms=st.sampled_from(["r--p", "r-xp", "rw-p", "---p", "rw-s"]),
    path=st.sampled_from(["", "[heap]", "/usr/lib/libc.so.6", "/a b/lib chdb.so"]),
    rss=st.integers(0, 2**20).map(lambda k: k * 1024),
    anonymous=st.integers(0, 2**20).map(lambda k: k * 1024),
).map(lambda m: Mapping(m.start, m.start + m.end, m.perms, m.path, m.rss, m.anonymous))


def _render(m: Mapping) -> str:
    name = f"{'':19}{m.path}" if m.path else ""
    return (
        f"{m.start:x}-{m.end:x} {m.perms} 00000000 fe:00 123 {name}\n"
        f"Size:           {(m.end - m.start) // 1024} kB\n"
        f"Rss:            {m.rss // 1024} kB\n"
        f"Pss:            {m.rss // 1024} kB\n"
        f"Anonymous:      {m.anonymous // 1024} kB\n"
        "VmFlags: rd mr mw me\n"
    )


@given(st.lists(regions, max_size=6))
def test_an_smaps_listing_parses_back_to_its_regions(listing: list[Mapping]) -> None:
    assert parse_smaps("".join(_render(m) for m in listing)) == listing


def test_only_read_only_mappings_without_private_copies_are_dropped() -> None:
    """A writable mapping, or a read-only one whose pages were written before it was made
    read-only (relocations), holds data the file does not: dropping it would lose that."""
    code = Mapping(0, 4096, "r-xp", "/lib.so", 4096, 0)
    relocated = Mapping(0, 4096, "r--p", "/lib.so", 4096, 4096)
    data = Mapping(0, 4096, "rw-p", "/lib.so", 4096, 0)
    cold = Mapping(0, 4096, "r--p", "/lib.so", 0, 0)
    assert [m.droppable for m in (code, relocated, data, cold)] == [True, False, False, False]
