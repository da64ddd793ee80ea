"""``spyglass check alertmanager`` and ``spyglass check config``: amtool's and promtool's
output and exit codes, then advice that says what to write instead."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.support.required import need_amtool, need_promtool
from typer.testing import CliRunner

from spyglass.cli._app import app

GUIDE = Path(__file__).resolve().parents[1] / "alerting" / "testdata" / "alertmanager.yml"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_valid_alertmanager_yml_prints_what_amtool_prints() -> None:
    code, out, _ = run("alertmanager", str(GUIDE))
    assert code == 0, out
    assert out.splitlines()[:8] == [
        f"Checking '{GUIDE}'  SUCCESS",
        "Found:",
        " - global config",
        " - route",
        " - 2 inhibit rules",
        " - 9 receivers",
        " - 1 templates",
        "  SUCCESS: 1 template files found (their template syntax is not checked yet)",
    ]
    assert "WARNING" not in out


def test_an_invalid_file_fails_with_its_line_field_and_a_hint(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yml", "route:\n  receiver: a\nreceivers:\n  - name: a\n")
    bad = write(
        tmp_path,
        "alertmanager.yml",
        "global: {smtp_smarthost: 'mail:25', smtp_from: am@example.com}\n"
        "route:\n  receiver: ops\nreceivers:\n  - name: ops\n    email_configs:\n"
        "      - to: ops@example.com\n        subject: '{{ .CommonLabels.alertname }}'\n",
    )
    code, out, err = run("alertmanager", str(good), str(bad))
    assert code == 1
    assert f"Checking '{good}'  SUCCESS" in out
    assert (
        f"Checking '{bad}'  FAILED: {bad}:8: receivers[0].email_configs[0].subject: "
        "field subject not found in type config.plain"
    ) in out
    assert "  hint: email_configs has no `subject`" in out
    assert err.strip() == "failed to validate 1 file(s)"


def test_placeholders_expand_from_the_environment_or_fail_naming_the_variable(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "am.yml",
        "route:\n  receiver: slack\nreceivers:\n  - name: slack\n    slack_configs:\n"
        "      - api_url: ${SLACK_WEBHOOK_URL}\n        channel: '#ops'\n",
    )
    url = "https://hooks.slack.com/services/T0/B0/X"
    code, out, _ = run("alertmanager", str(path), env={"SLACK_WEBHOOK_URL": url})
    assert code == 0, out
    assert "NOTE: " in out
    assert "SLACK_WEBHOOK_URL" in out
    code, out, _ = run("alertmanager", str(path), env={"SLACK_WEBHOOK_URL": None})  # type: ignore[dict-item]
    assert code == 1
    assert "environment variable SLACK_WEBHOOK_URL is not set" in out
    code, out, _ = run("alertmanager", "--no-expand-env", str(path), env={"SLACK_WEBHOOK_URL": url})
    assert code == 1
    assert 'unsupported scheme "" for URL' in out
    assert "does not expand environment variables" in out


def test_warnings_follow_a_successful_check(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "am.yml",
        "route:\n  receiver: a\n  group_wait: 30m\nreceivers:\n  - name: a\n",
    )
    code, out, _ = run("alertmanager", str(path))
    assert code == 0
    assert f"  WARNING: {path}:1: route.group_wait: group_wait is 30m" in out
    assert "  hint: Did you mean 30s?" in out


def test_matcher_parser_flags_like_amtools(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "am.yml",
        "route:\n  receiver: a\n  routes:\n    - matchers: ['\"dotted.name\"=x']\n"
        "receivers:\n  - name: a\n",
    )
    assert run("alertmanager", str(path))[0] == 0
    code, out, _ = run("alertmanager", "--enable-feature=classic-mode", str(path))
    assert code == 1
    assert "bad matcher format" in out
    assert run("alertmanager", "--enable-feature=turbo", str(path))[0] == 2


BAD_FOR_BOTH = [
    "route:\n  receiver: missing\nreceivers:\n  - name: a\n",
    "route:\n  receiver: a\n  continue: true\nreceivers:\n  - name: a\n",
    "route:\n  receiver: a\n  group_by: [x, x]\nreceivers:\n  - name: a\n",
    "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n      - {}\n",
    "route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n"
    "      - to: x@example.com\n",
    "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n      - channel: x\n",
    "route:\n  receiver: a\n  routes:\n    - match_re: {a: '('}\nreceivers:\n  - name: a\n",
    "groups:\n  - name: r\nroute:\n  receiver: a\nreceivers:\n  - name: a\n",
    "BAD\n",
]


@pytest.mark.parametrize("text", [GUIDE.read_text(), *BAD_FOR_BOTH])
def test_same_verdict_as_amtool_check_config(tmp_path: Path, text: str) -> None:
    amtool = need_amtool()
    path = write(tmp_path, "alertmanager.yml", text)
    if "templates/" in text:
        (tmp_path / "templates").mkdir()
        (tmp_path / "templates" / "t.tmpl").write_text('{{ define "t" }}x{{ end }}\n')
    theirs = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    code, out, _ = run("alertmanager", "--no-expand-env", str(path))
    assert code == theirs.returncode, (out, theirs.stdout, theirs.stderr)
    # The "Found:" block is the same line for line.
    found = [line for line in theirs.stdout.splitlines() if line.startswith(" - ")]
    assert found == [line for line in out.splitlines() if line.startswith(" - ")]


PROMETHEUS_YML = """
global:
  scrape_interval: 15s
rule_files:
  - rules/*.yml
scrape_configs:
  - job_name: api
    static_configs:
      - targets: ['api:8080']
"""


def test_check_config_prints_what_promtool_prints_and_hands_rule_files_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "prometheus.yml", PROMETHEUS_YML)
    (tmp_path / "rules").mkdir()
    write(tmp_path, "rules/a.yml", "groups: []\n")
    write(tmp_path, "rules/b.yml", "groups: []\n")
    code, out, _ = run("config", str(path))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[:3] == [
        f"Checking {path}",
        "  SUCCESS: 2 rule files found",
        f" SUCCESS: {path} is valid prometheus config file syntax",
    ]
    assert f"Checking {tmp_path / 'rules/a.yml'}" in lines
    assert f"Checking {tmp_path / 'rules/b.yml'}" in lines
    assert lines.count("  SUCCESS: 0 rules found") == 2  # each rule file checked, as promtool
    write(tmp_path, "rules/b.yml", "groups:\n  - name: g\n    rules:\n      - alert: NoExpr\n")
    code, out, err = run("config", str(path))
    assert code == 1
    assert "  SUCCESS: 0 rules found" in out  # a.yml
    assert "FAILED:" in err
    assert "b.yml" in err
    assert "field 'expr' must be set in rule" in err


def test_check_config_failures_and_advice(tmp_path: Path) -> None:
    rules = write(tmp_path, "prometheus.yml", "groups:\n  - name: r\n    rules: []\n")
    code, out, err = run("config", str(rules))
    assert code == 1
    assert f"Checking {rules}" in out
    assert "FAILED: " in err
    assert "field groups not found in type config.plain" in err
    assert "list it under rule_files:" in err
    am = write(tmp_path, "p2.yml", "route:\n  receiver: a\n")
    assert "belongs to alertmanager.yml" in run("config", str(am))[2]
    env = write(
        tmp_path,
        "p3.yml",
        "scrape_configs:\n  - job_name: api\n    static_configs:\n"
        "      - targets: ['${API_HOST}:8080']\n",
    )
    code, out, _ = run("config", str(env))
    assert code == 0
    assert "${API_HOST} stays as text" in out
    assert "scrape_configs[0].static_configs[0].targets[0]" in out


def test_check_config_agrees_with_promtool(tmp_path: Path) -> None:
    promtool = need_promtool()
    for name, text, code in (
        ("good.yml", PROMETHEUS_YML, 0),
        ("bad.yml", "global:\n  scrape_intervalx: 1m\n", 1),
    ):
        path = write(tmp_path, name, text)
        theirs = subprocess.run(
            [promtool, "check", "config", "--syntax-only", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert theirs.returncode == code, theirs.stdout + theirs.stderr
        assert run("config", str(path))[0] == code


def test_check_alertmanager_reads_maintenance_windows_and_names_a_wrong_one(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    base = (
        "route: {receiver: ops}\nreceivers: [{name: ops}]\ntime_intervals:\n"
        "  - {name: nights, time_intervals: [{times: [{start_time: '22:00', end_time: '24:00'}]}]}"
        "\n"
        "spyglass:\n  maintenance_windows:\n    - name: w\n      matchers: ['a=\"b\"']\n"
    )
    good.write_text(base + "      time_interval: nights\n")
    bad = tmp_path / "bad.yml"
    bad.write_text(base + "      time_interval: weekend\n")
    code, out, _ = run("alertmanager", str(good), str(bad))
    assert code == 1
    assert f"Checking '{good}'  SUCCESS" in out
    assert " - 1 maintenance windows" in out
    assert "NOTE:" in out
    assert (
        f"Checking '{bad}'  FAILED: {bad}:9: spyglass.maintenance_windows[0].time_interval: "
        'undefined time interval "weekend" used in maintenance window'
    ) in out
