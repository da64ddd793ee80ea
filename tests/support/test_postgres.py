"""The PostgreSQL helper skips a test when PostgreSQL is missing, but fails it under CI."""

from __future__ import annotations

import glob
import shutil

import pytest
from tests.support.postgres import postgres_bindir


def test_missing_postgresql_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="postgres is not installed"):
        postgres_bindir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        postgres_bindir()
