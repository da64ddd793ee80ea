"""spyglass-sdk ships apart from the server: its wheel holds ``spyglass.sdk`` alone and brings
only its own few dependencies, the server's wheel holds the rest of the ``spyglass`` namespace,
the two share one version, and an environment with nothing but the SDK instruments an app."""

from __future__ import annotations

import re
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.servers import free_port, spyglass_cmd, started
from tests.support.venvs import REPO, Venv, clean_env, pinned

# What the server installs and the SDK must not: storage, Arrow, gRPC, numpy.
SERVER_ONLY = ("chdb", "clickhouse_connect", "pyarrow", "grpc", "numpy")
SDK_DEPENDENCIES = {
    "prometheus-client", "structlog", "psutil", "opentelemetry-api", "opentelemetry-sdk",
    "requests",
}  # fmt: skip


def _project(path: Path) -> Any:
    return tomllib.loads(path.read_text())["project"]


def _name(requirement: str) -> str:
    """A requirement's project name, normalised as PEP 503 says."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group()).lower()


def test_the_sdk_has_the_servers_version_and_the_servers_extra_pins_it() -> None:
    server, sdk = _project(REPO / "pyproject.toml"), _project(REPO / "sdk" / "pyproject.toml")
    assert sdk["name"] == "spyglass-sdk"
    assert sdk["version"] == server["version"]
    assert server["optional-dependencies"]["sdk"] == [f"spyglass-sdk=={server['version']}"]
    assert {_name(r) for r in sdk["dependencies"]} == SDK_DEPENDENCIES


def _contents(wheel: Path) -> tuple[set[str], list[str]]:
    """The files a wheel installs (its .dist-info aside) and its Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = Parser().parsestr(archive.read(metadata).decode()).get_all("Requires-Dist")
    return {n for n in names if ".dist-info/" not in n}, requires or []


def test_the_sdk_wheel_holds_spyglass_sdk_alone(wheels: dict[str, Path]) -> None:
    files, requires = _contents(wheels["spyglass-sdk"])
    sources = REPO / "sdk" / "src" / "spyglass" / "sdk"
    assert files == {f"spyglass/sdk/{p.name}" for p in sources.glob("*.py")} | {
        "spyglass/sdk/py.typed"
    }
    assert {_name(r) for r in requires} == SDK_DEPENDENCIES


def test_the_server_wheel_leaves_the_sdk_and_the_namespace_alone(
    wheels: dict[str, Path],
) -> None:
    files, requires = _contents(wheels["spyglass"])
    assert not [f for f in files if f.startswith("spyglass/sdk/")]
    # spyglass is a namespace package: neither distribution owns an __init__ there.
    assert "spyglass/__init__.py" not in files
    assert "spyglass/__main__.py" in files  # python -m spyglass
    packages = {p.parent.relative_to(REPO / "src") for p in (REPO / "src").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= files
    top = {p for p in packages if len(p.parts) == 2}
    assert {f"{p}/py.typed" for p in top} <= files  # PEP 561, per package of the namespace
    version = _project(REPO / "pyproject.toml")["version"]
    assert f'spyglass-sdk=={version}; extra == "sdk"' in requires
    assert not any(_name(r) == "spyglass-sdk" and "extra" not in r for r in requires)


# Run in an environment holding only the SDK's wheel (and Starlette and httpx to have an app
# and drive it): what is importable there, and what an instrumented app serves.
_INSTRUMENT_AN_APP = r"""
import asyncio, importlib.util, json, sys
from importlib.metadata import distributions

import httpx
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

import spyglass.sdk
from spyglass.sdk import instrument

class Keep(SpanExporter):
    def __init__(self):
        self.spans = []
    def export(self, spans):
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

async def item(request):
    return JSONResponse({"item": int(request.path_params["item_id"])})

keep = Keep()
app = Starlette(routes=[Route("/items/{item_id}", item)])
telemetry = instrument(app, service="shop", span_exporter=keep, sample_ratio=1.0,
                       log_stream=sys.stderr)

async def main():
    out = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        out["item"] = (await client.get("/items/7")).json()
        metrics = await client.get("/metrics")
        out["metrics"] = [metrics.status_code, metrics.text.splitlines()]
        for path in ("/health", "/health/live", "/health/ready"):
            response = await client.get(path)
            out[path] = [response.status_code, response.json()]
    return out

out = asyncio.run(main())
telemetry.force_flush()
out["spans"] = [span.name for span in keep.spans]
telemetry.shutdown()
out["importable"] = {name: importlib.util.find_spec(name) is not None for name in sys.argv[1:]}
out["sdk_file"] = spyglass.sdk.__file__
out["distributions"] = sorted(d.metadata["Name"] for d in distributions())
print(json.dumps(out))
"""


def test_an_environment_with_only_the_sdk_instruments_an_app(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    venv = Venv(tmp_path / "venv")
    venv.install(str(wheels["spyglass-sdk"]), *pinned("starlette", "httpx"))
    modules = [*SERVER_ONLY, "spyglass.server", "spyglass.cli"]
    seen = venv.run_json(_INSTRUMENT_AN_APP, *modules)

    assert seen["importable"] == dict.fromkeys(modules, False)
    assert "spyglass-sdk" in seen["distributions"]
    assert "spyglass" not in seen["distributions"]
    assert Path(seen["sdk_file"]).is_relative_to(tmp_path / "venv")

    assert seen["item"] == {"item": 7}
    status, lines = seen["metrics"]
    assert status == 200
    assert (
        'http_requests_total{method="GET",route="/items/{item_id}",status_code="200"} 1.0' in lines
    )
    code, health = seen["/health"]
    assert (code, health["status"], health["service"]) == (200, "healthy", "shop")
    assert seen["/health/live"] == [200, {"status": "alive", "service": "shop"}]
    assert seen["/health/ready"] == [200, {"status": "healthy", "service": "shop"}]
    assert seen["spans"] == ["GET /items/{item_id}"]


@pytest.mark.slow
def test_the_server_and_sdk_wheels_install_side_by_side(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    """A regular (not editable) install of both wheels: the server's ``sdk`` extra takes the
    SDK's wheel given beside it, the two halves of the ``spyglass`` namespace import from
    site-packages, and the server runs and reports its version."""
    venv = Venv(tmp_path / "venv")
    venv.install(f"{wheels['spyglass']}[sdk]", str(wheels["spyglass-sdk"]))
    version = _project(REPO / "pyproject.toml")["version"]
    assert venv.run("-m", "spyglass", "--version").strip() == f"spyglass {version}"
    assert venv.run(str(venv.path / "bin" / "spyglass"), "version").strip() == (
        f"spyglass {version}"
    )
    seen = venv.run_json(
        "import json, spyglass, spyglass.sdk, spyglass.server.app\n"
        "from spyglass.ingest.scrape._http import USER_AGENT\n"
        "print(json.dumps({'namespace': list(spyglass.__path__),"
        " 'files': [spyglass.sdk.__file__, spyglass.server.app.__file__],"
        " 'user_agent': USER_AGENT}))"
    )
    site = tmp_path / "venv" / "lib"
    assert len(seen["namespace"]) == 1
    assert all(Path(f).is_relative_to(site) for f in [*seen["namespace"], *seen["files"]])
    assert seen["user_agent"] == f"Spyglass/{version}"

    port = free_port()
    cmd = [str(venv.python), *spyglass_cmd(tmp_path / "data", port)[1:]]
    url = f"http://127.0.0.1:{port}"
    with started(cmd, url, "/-/ready", tmp_path / "serve.log", cwd=tmp_path, env=clean_env()):
        info = httpx.get(url + "/api/v1/status/buildinfo", timeout=10).json()
    assert info["data"]["spyglassVersion"] == version
