"""The SDK on the oldest and the newest OpenTelemetry its requirements allow: the tracing tests
run in a throwaway environment holding the SDK's wheel and that release, and pass there (the
fast path's set-up checks find nothing, so the fast path is what runs on both)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from tests.support.venvs import REPO, Venv, build_wheels, pinned

# The tracing tests: the fast path's checks (one asserts the fast path is taken), the server
# span against the SDK's, the OTLP encoder against OpenTelemetry's, the exporter.
TESTS = (
    "tests/sdk/test_otel_probe.py",
    "tests/sdk/test_tracing.py",
    "tests/sdk/test_otlp_wire.py",
    "tests/sdk/test_otlp_export.py",
)
# What those tests need besides the SDK, at the versions this suite runs with.
TOOLS = ("pytest", "pytest-timeout", "hypothesis", "starlette", "httpx", "httpx2", "uvicorn")
# OpenTelemetry's OTLP encoder, which the wire tests compare the SDK's with: its newest allowed
# release on both ends. 1.27's leaves out scope attributes and schema URLs, empty arrays and
# mapping values, which later releases write as the OTLP specification says (and the SDK does).
COMPARED = ("opentelemetry-proto", "opentelemetry-exporter-otlp-proto-common")


def allowed_range() -> tuple[tuple[int, int], tuple[int, int]]:
    """The (major, minor) bounds of the SDK's opentelemetry-sdk requirement: the oldest
    allowed and the first one excluded."""
    project = tomllib.loads((REPO / "sdk" / "pyproject.toml").read_text())["project"]
    (requirement,) = [r for r in project["dependencies"] if r.startswith("opentelemetry-sdk")]
    found = re.fullmatch(r"opentelemetry-sdk>=(\d+)\.(\d+),<(\d+)\.(\d+)", requirement)
    assert found, f"{requirement}: expected a range >=X.Y,<X.Z"
    low_major, low_minor, high_major, high_minor = map(int, found.groups())
    return (low_major, low_minor), (high_major, high_minor)


def test_the_allowed_range_is_the_same_for_the_api_and_the_sdk() -> None:
    project = tomllib.loads((REPO / "sdk" / "pyproject.toml").read_text())["project"]
    ranges = {
        name: requirement[len(name) :]
        for requirement in project["dependencies"]
        for name in ("opentelemetry-api", "opentelemetry-sdk")
        if requirement.startswith(name)
    }
    assert ranges["opentelemetry-api"] == ranges["opentelemetry-sdk"]
    (low, high) = allowed_range()
    assert low < high


@pytest.mark.slow
@pytest.mark.parametrize("end", ["oldest", "newest"])
def test_the_tracing_tests_pass_on_the_oldest_and_newest_allowed_release(
    end: str, tmp_path: Path
) -> None:
    (low_major, low_minor), (high_major, high_minor) = allowed_range()
    wheel = build_wheels(tmp_path / "wheels", "sdk")["spyglass-sdk"]
    venv = Venv(tmp_path / "venv")
    # The newest allowed is what pip chooses within the requirement.
    pins = [f"{name}<{high_major}.{high_minor}" for name in COMPARED]
    if end == "oldest":
        release = f"{low_major}.{low_minor}.0"
        pins += [f"{name}=={release}" for name in ("opentelemetry-api", "opentelemetry-sdk")]
    venv.install(str(wheel), *pins, *pinned(*TOOLS))
    installed = venv.run_json(
        "import json, spyglass.sdk\n"
        "from importlib.metadata import version\n"
        "names = ('opentelemetry-api', 'opentelemetry-sdk', *" + repr(COMPARED) + ")\n"
        "print(json.dumps({'versions': [version(n) for n in names],"
        " 'sdk': spyglass.sdk.__file__}))"
    )
    versions = installed["versions"]
    assert versions[0] == versions[1], versions  # the SDK requires its own release of the API
    major, minor = map(int, versions[0].split(".")[:2])
    if end == "oldest":
        assert versions[0] == f"{low_major}.{low_minor}.0"
    else:
        # The bound is the next minor after the newest one tested.
        assert (major, minor + 1) == (high_major, high_minor), versions[0]
    assert installed["sdk"].startswith(str(venv.path)), installed["sdk"]
    out = venv.run(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *TESTS, cwd=REPO
    )
    summary = out.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), out[-3000:]
    assert "failed" not in summary, out[-3000:]
    assert "skipped" not in summary, out[-3000:]
    print(json.dumps({"opentelemetry": versions[0], "result": summary}))
