"""chDB backend: one data directory per process, and no second process on the same directory."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest

from spyglass.core.errors import Unavailable
from spyglass.storage.backends import ChdbBackend, DataDirLocked, open_backend

PROBE = """
import sys
from spyglass.storage.backends import ChdbBackend, DataDirLocked, open_backend
try:
    ChdbBackend(sys.argv[1])
except DataDirLocked as exc:
    print("locked:", exc)
else:
    print("opened")
"""


def _probe(path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return out.stdout.strip()


def test_data_dir_is_exclusive_across_processes_and_paths(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first = ChdbBackend(a)
    try:
        # chDB itself would let a second process open and write the same directory.
        assert _probe(a).startswith("locked:")
        with pytest.raises(DataDirLocked, match="already has"):
            ChdbBackend(b)
        first.command("CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x")
        first.insert("t", pa.table({"x": pa.array([3, 1, 2], pa.uint64())}))
        got = first.query_arrow("SELECT x FROM t ORDER BY x").column("x").to_pylist()
        assert got == [1, 2, 3]
    finally:
        first.close()
    assert _probe(a) == "opened"
    second = ChdbBackend(b)
    second.close()
    second.close()  # closing twice is harmless


def test_open_backend_picks_chdb_under_the_data_dir_or_a_server(tmp_path: Path) -> None:
    backend = open_backend("", tmp_path)
    try:
        assert isinstance(backend, ChdbBackend)
        assert backend.path == (tmp_path / "clickhouse").resolve()
    finally:
        backend.close()
    with pytest.raises(Unavailable, match="cannot connect"):
        open_backend("http://127.0.0.1:1/spyglass", tmp_path)


def test_errors_are_unavailable_and_closed_backend_refuses(tmp_path: Path) -> None:
    backend = ChdbBackend(tmp_path)
    try:
        with pytest.raises(Unavailable, match=r"UNKNOWN_TABLE|does not exist"):
            backend.query_arrow("SELECT * FROM no_such_table")
        for text in ["it's", "a\\b", "tab\there", "line\nbreak", "\\N", "trailing\\", "ü\r\0"]:
            params = {"s": text, "n": 7}
            row = backend.query_arrow("SELECT {s:String} AS s, {n:Int64} AS n", params).to_pylist()
            assert row == [{"s": text, "n": 7}]
    finally:
        backend.close()
    with pytest.raises(Unavailable, match="closed"):
        backend.command("SELECT 1")


def test_queries_run_in_parallel_on_the_read_pool(tmp_path: Path) -> None:
    """Queries from many threads all complete (each borrows one of the read sessions)."""
    backend = ChdbBackend(tmp_path, readers=2)
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(
                    lambda i: backend.query_arrow("SELECT {i:Int64} * 2 AS x", {"i": i}),
                    range(40),
                )
            )
        assert [r.column("x")[0].as_py() for r in results] == [i * 2 for i in range(40)]
    finally:
        backend.close()


def test_chdb_runs_with_the_small_install_memory_settings(tmp_path: Path) -> None:
    """The cache and memory ceilings reach the embedded server (ClickHouse's own defaults size
    caches in GiB for a dedicated machine)."""
    backend = ChdbBackend(tmp_path / "ch")
    try:
        rows = backend.query_arrow(
            "SELECT name, value FROM system.server_settings WHERE changed"
        ).to_pylist()
    finally:
        backend.close()
    changed = {r["name"]: int(r["value"]) for r in rows if r["value"].isdigit()}
    assert changed["mark_cache_size"] == 64 * 1024**2
    assert changed["primary_index_cache_size"] == 64 * 1024**2
    assert changed["max_server_memory_usage"] == 2 * 1024**3
    assert changed["background_pool_size"] == 2
