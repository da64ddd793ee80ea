"""The installed ``spyglass`` command reports the package version."""

import subprocess
import sys
from importlib.metadata import version


def test_version_flag_prints_package_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "spyglass", "--version"], capture_output=True, text=True, check=True
    )
    installed = version("spyglass")
    assert out.stdout.strip() == f"spyglass {installed}"
    assert installed != "0.0.0"
