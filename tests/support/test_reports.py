"""A failure whose text holds a lone surrogate is reported as a failure by ``pytest -n 2``, with
the character escaped, instead of crashing the worker that ran it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.reports import utf8_safe
from tests.support.venvs import REPO, clean_env


def test_strings_that_cannot_encode_are_escaped_and_the_rest_kept() -> None:
    report = {
        "nodeid": "tests/x.py::test_é",
        "longrepr": {"message": "assert '\ud800' == 'x'", "lines": ["a\udcff", 3, None]},
        "sections": [("Captured stdout call", "\ud83d")],
        "duration": 0.5,
    }
    assert utf8_safe(report) == {
        "nodeid": "tests/x.py::test_é",
        "longrepr": {"message": "assert '\\ud800' == 'x'", "lines": ["a\\udcff", 3, None]},
        "sections": [("Captured stdout call", "\\ud83d")],
        "duration": 0.5,
    }
    safe = utf8_safe(report)
    assert str(safe).encode("utf-8")


def test_an_xdist_worker_reports_a_failure_that_prints_a_lone_surrogate(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    (tmp_path / "test_surrogate.py").write_text(
        "def test_fails():\n"
        "    print('\\ud800')\n"
        "    assert '\\ud800' == 'x'\n"
        "\n"
        "def test_passes():\n"
        "    pass\n"
    )
    env = {**clean_env(), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "tests.support.reports",
         "-p", "no:randomly", "-p", "no:cacheprovider", "-q", "test_surrogate.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, errors="replace", timeout=120,
        check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "INTERNALERROR" not in out
    assert "1 failed, 1 passed" in out
    assert "\\ud800" in out
