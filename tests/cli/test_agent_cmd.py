"""``spyglass agent`` takes Promtail's ``--config.file`` (and ``--config-file``); a bad config
fails with file, line and field before anything starts; ``--check-syntax`` only checks."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from spyglass.cli._app import app

GOOD = """
clients: [{url: 'http://127.0.0.1:3100/loki/api/v1/push'}]
scrape_configs:
  - job_name: app
    static_configs: [{targets: [localhost], labels: {__path__: /var/log/*.log}}]
"""


def test_check_syntax_with_either_flag_spelling(tmp_path: Path) -> None:
    f = tmp_path / "promtail.yaml"
    f.write_text(GOOD)
    for flag in ("--config.file", "--config-file"):
        result = CliRunner().invoke(app, ["agent", flag, str(f), "--check-syntax"])
        assert result.exit_code == 0, result.output
        assert f"Valid config file: {f}" in result.output


def test_a_bad_config_names_file_line_and_field(tmp_path: Path) -> None:
    f = tmp_path / "promtail.yaml"
    f.write_text(GOOD + "    pipeline_stages:\n      - docker: {}\n")
    result = CliRunner().invoke(app, ["agent", "--config.file", str(f)])
    assert result.exit_code == 1
    assert f"{f}:7: scrape_configs[0].pipeline_stages[0].docker: " in result.output
    assert 'unknown pipeline stage "docker"' in result.output


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["agent", "--config.file", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "cannot read config file" in result.output


def test_a_taken_port_or_a_broken_positions_file_fails_before_shipping(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        f = tmp_path / "promtail.yaml"
        f.write_text(
            f"server: {{http_listen_address: 127.0.0.1, http_listen_port: {port}}}\n"
            f"positions: {{filename: {tmp_path}/positions.yaml}}\n" + GOOD
        )
        result = CliRunner().invoke(app, ["agent", "--config.file", str(f)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.output
    (tmp_path / "positions.yaml").write_text("positions: [not, a, map]\n")
    f.write_text(
        f"server: {{disable: true}}\npositions: {{filename: {tmp_path}/positions.yaml}}\n" + GOOD
    )
    result = CliRunner().invoke(app, ["agent", "--config.file", str(f)])
    assert result.exit_code == 1
    assert "invalid positions file" in result.output
