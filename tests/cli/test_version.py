"""The installed ``spyglass`` command reports the package version."""

import subprocess
import sys

import spyglass


def test_version_flag_prints_package_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "spyglass", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"spyglass {spyglass.__version__}"
    assert spyglass.__version__ != "0.0.0"
