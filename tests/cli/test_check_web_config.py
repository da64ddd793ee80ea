"""``spyglass check web-config``: promtool's output and exit codes, and the same verdict as
``promtool check web-config`` (Prometheus 2.42) on good and bad files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import bcrypt
import pytest
import trustme
from tests.support.required import need_promtool
from typer.testing import CliRunner

from spyglass.cli._app import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", "web-config", *args])
    return result.exit_code, result.stderr


def _cases(tmp_path: Path) -> dict[str, str]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "s.crt"))
    cert.private_key_pem.write_to_path(str(tmp_path / "s.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    tls = "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n"
    return {
        "empty": "",
        "tls": tls,
        "tls_client": tls + "  client_auth_type: RequireAndVerifyClientCert\n"
        "  client_ca_file: ca.pem\n",
        "users": f"basic_auth_users:\n  alice: '{hashed}'\n",
        "headers": "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n",
        "bad_hash": "basic_auth_users:\n  alice: plain\n",
        "no_key": "tls_server_config:\n  cert_file: s.crt\n",
        "missing_cert": "tls_server_config:\n  cert_file: gone.crt\n  key_file: s.key\n",
        "wrong_key": "tls_server_config:\n  cert_file: s.crt\n  key_file: ca.pem\n",
        "ca_without_policy": tls + "  client_ca_file: ca.pem\n",
        "bad_auth_type": tls + "  client_auth_type: Sometimes\n",
        "bad_version": tls + "  min_version: SSL3\n",
        "unknown_field": "tls_server_config:\n  certfile: s.crt\n",
        "bad_header": "http_server_config:\n  headers:\n    X-Frame-Options: always\n",
    }


def test_output_and_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text("")
    bad = tmp_path / "bad.yml"
    bad.write_text("basic_auth_users:\n  alice: plain\n")
    assert run(str(good)) == (0, f"{good} SUCCESS\n")
    code, err = run(str(good), str(bad))
    assert code == 1
    assert err.splitlines() == [
        f"{good} SUCCESS",
        f"{bad} FAILED: {bad}:2: basic_auth_users.alice: crypto/bcrypt: hashedSecret too "
        "short to be a bcrypted password",
    ]


def test_verdicts_agree_with_promtool(tmp_path: Path) -> None:
    promtool = need_promtool()
    differ = []
    for name, text in _cases(tmp_path).items():
        path = tmp_path / f"{name}.yml"
        path.write_text(text)
        theirs = subprocess.run(
            [promtool, "check", "web-config", str(path)],
            check=False,
            capture_output=True,
            text=True,
        )
        ours, err = run(str(path))
        verdict = "SUCCESS" if theirs.returncode == 0 else "FAILED"
        if ours != theirs.returncode or verdict not in err:
            differ.append((name, theirs.returncode, theirs.stderr, ours, err))
    assert differ == []


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("no_key", "2: tls_server_config"),
        ("bad_hash", "2: basic_auth_users.alice"),
        ("bad_header", "3: http_server_config.headers.X-Frame-Options"),
    ],
)
def test_failures_name_file_line_and_field(tmp_path: Path, name: str, where: str) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_text(_cases(tmp_path)[name])
    code, err = run(str(path))
    assert code == 1
    assert err.startswith(f"{path} FAILED: {path}:{where}: ")
