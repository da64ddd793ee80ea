"""The ``spyglass:`` section of alertmanager.yml: maintenance windows load with their matchers
and times, and every mistake is a ConfigError naming file, line and field, with a hint where
one helps; ``review`` says the section is Spyglass's own and which windows are over."""

from __future__ import annotations

import pytest

from spyglass.alerting import (
    AlertmanagerConfig,
    Matcher,
    explain,
    load_alertmanager_config,
    parse_rfc3339,
    review,
)
from spyglass.core.errors import ConfigError

BASE = """\
route:
  receiver: ops
receivers:
  - name: ops
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}]
"""


def load(spyglass_section: str) -> AlertmanagerConfig:
    return load_alertmanager_config(BASE + spyglass_section, file="alertmanager.yml")


def test_one_off_and_recurring_windows_load() -> None:
    config = load_alertmanager_config(
        BASE
        + """\
spyglass:
  maintenance_windows:
    - name: db-upgrade
      matchers: ['service="db"', 'env=~"prod|staging"']
      comment: PostgreSQL 17
      start: 2026-12-08T22:00:00Z
      end: 2026-12-09T02:00:00+01:00
    - name: nightly-backup
      matchers: ['job="backup"']
      time_interval: nights
      until: 2027-03-31T00:00:00Z
""",
        file="alertmanager.yml",
    )
    db, backup = config.spyglass.maintenance_windows
    assert db.name == "db-upgrade"
    assert db.matchers == (
        Matcher.of("env", "=~", "prod|staging"),
        Matcher.of("service", "=", "db"),
    )
    assert db.comment == "PostgreSQL 17"
    assert db.start_ms == parse_rfc3339("2026-12-08T22:00:00Z")
    assert db.end_ms == parse_rfc3339("2026-12-09T01:00:00Z")
    assert not db.recurring
    assert backup.recurring
    assert backup.time_interval == "nights"
    assert backup.until_ms == parse_rfc3339("2027-03-31T00:00:00Z")
    assert backup.line == 18


def test_a_file_without_the_section_has_no_windows() -> None:
    assert load_alertmanager_config(BASE).spyglass.maintenance_windows == ()


WINDOW = "spyglass:\n  maintenance_windows:\n    - name: w\n"


@pytest.mark.parametrize(
    ("section", "line", "field", "message"),
    [
        (
            "spyglass:\n  on_call_rotation: []\n",
            10,
            "spyglass.on_call_rotation",
            "field on_call_rotation not found",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      start: 2026-01-01T00:00:00Z\n"
            "      end: 2026-01-01T01:00:00Z\n      colour: red\n",
            15,
            "spyglass.maintenance_windows[0].colour",
            "field colour not found in type spyglass.MaintenanceWindow",
        ),
        (
            "spyglass:\n  maintenance_windows:\n    - matchers: ['a=\"b\"']\n",
            11,
            "spyglass.maintenance_windows[0]",
            "missing name in maintenance window",
        ),
        (
            WINDOW + "      start: 2026-01-01T00:00:00Z\n      end: 2026-01-01T01:00:00Z\n",
            11,
            "spyglass.maintenance_windows[0].matchers",
            "needs at least one matcher",
        ),
        (
            WINDOW + "      matchers: ['a=~\".*\"']\n      time_interval: nights\n",
            12,
            "spyglass.maintenance_windows[0].matchers",
            "at least one matcher must not match the empty string",
        ),
        (
            WINDOW + "      matchers: ['a=~\"(\"']\n      time_interval: nights\n",
            12,
            "spyglass.maintenance_windows[0].matchers[0]",
            "error parsing regexp",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      start: 2026-01-01T00:00:00Z\n",
            11,
            "spyglass.maintenance_windows[0].end",
            "missing end",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      start: 2026-01-01T02:00:00Z\n"
            "      end: 2026-01-01T01:00:00Z\n",
            14,
            "spyglass.maintenance_windows[0].end",
            "end must be after start",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      start: tomorrow\n"
            "      end: 2026-01-01T01:00:00Z\n",
            13,
            "spyglass.maintenance_windows[0].start",
            'parsing time "tomorrow"',
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      start: 2026-01-01T00:00:00\n"
            "      end: 2026-01-01T01:00:00Z\n",
            13,
            "spyglass.maintenance_windows[0].start",
            "want RFC 3339",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      time_interval: weekends\n",
            13,
            "spyglass.maintenance_windows[0].time_interval",
            'undefined time interval "weekends" used in maintenance window',
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      time_interval: nights\n"
            "      start: 2026-01-01T00:00:00Z\n",
            14,
            "spyglass.maintenance_windows[0].start",
            "start cannot be used with time_interval",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      start: 2026-01-01T00:00:00Z\n"
            "      end: 2026-01-01T01:00:00Z\n      until: 2026-02-01T00:00:00Z\n",
            15,
            "spyglass.maintenance_windows[0].until",
            "until needs a time_interval",
        ),
        (
            WINDOW + "      matchers: ['a=\"b\"']\n      time_interval: nights\n"
            "    - name: w\n      matchers: ['c=\"d\"']\n      time_interval: nights\n",
            14,
            "spyglass.maintenance_windows[1].name",
            'maintenance window "w" is not unique',
        ),
    ],
)
def test_mistakes_name_file_line_and_field(
    section: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load(section)
    assert (err.value.file, err.value.line, err.value.field) == ("alertmanager.yml", line, field)
    assert message in err.value.message


def test_explain_lists_what_the_section_and_a_window_take() -> None:
    with pytest.raises(ConfigError) as err:
        load("spyglass:\n  on_call_rotation: []\n")
    assert "maintenance_windows" in explain(err.value)
    with pytest.raises(ConfigError) as err:
        load(WINDOW + "      matcher: ['a=\"b\"']\n")
    assert "time_interval" in explain(err.value)


def test_review_notes_the_extension_and_warns_about_windows_that_are_over() -> None:
    config = load(
        WINDOW + "      matchers: ['a=\"b\"']\n      start: 2026-01-01T00:00:00Z\n"
        "      end: 2026-01-01T01:00:00Z\n"
    )
    findings = review(config, now_ms=parse_rfc3339("2026-06-01T00:00:00Z"))
    assert [(f.severity, f.field) for f in findings] == [
        ("note", "spyglass"),
        ("warning", "spyglass.maintenance_windows[0]"),
    ]
    assert 'maintenance window "w" is over' in findings[1].message
    assert [f.severity for f in review(config, now_ms=0)] == ["note"]


def test_flapping_correlations_escalations_and_quiet_hours_load() -> None:
    config = load(
        """spyglass:
  flapping: {max_changes: 3, window: 30m}
  correlations:
    - name: service-degraded
      alerts: [ServiceDown, HighErrorRate]
      by: [service]
      matchers: ['env="prod"']
  escalations:
    - matchers: ['severity="critical"']
      after: 15m
      receiver: ops
  quiet_hours:
    - time_intervals: [nights]
      matchers: ['severity!="critical"']
"""
    )
    ext = config.spyglass
    assert ext.flapping is not None
    assert (ext.flapping.max_changes, ext.flapping.window_ms) == (3, 1_800_000)
    (corr,) = ext.correlations
    assert (corr.name, corr.alertnames, corr.by) == (
        "service-degraded",
        ("ServiceDown", "HighErrorRate"),
        ("service",),
    )
    assert corr.covers({"alertname": "ServiceDown", "service": "a", "env": "prod"})
    (esc,) = ext.escalations
    assert (esc.receiver, esc.after_ms) == ("ops", 900_000)
    (quiet,) = ext.quiet_hours
    assert quiet.time_intervals == ("nights",)
    assert not quiet.holds({"severity": "critical"})


def test_flapping_defaults_to_four_changes_in_an_hour() -> None:
    ext = load("spyglass:\n  flapping: {}\n").spyglass
    assert ext.flapping is not None
    assert (ext.flapping.max_changes, ext.flapping.window_ms) == (4, 3_600_000)


@pytest.mark.parametrize(
    ("section", "field", "message"),
    [
        (
            "spyglass:\n  escalations:\n    - {after: 5m, receiver: nobody}\n",
            "spyglass.escalations[0].receiver",
            'undefined receiver "nobody" used in escalation',
        ),
        (
            "spyglass:\n  escalations:\n    - {receiver: ops}\n",
            "spyglass.escalations[0].after",
            "positive duration",
        ),
        (
            "spyglass:\n  quiet_hours:\n    - {time_intervals: [weekends]}\n",
            "spyglass.quiet_hours[0].time_intervals",
            'undefined time interval "weekends" used in quiet hours',
        ),
        (
            "spyglass:\n  correlations:\n    - {name: x, alerts: [A]}\n",
            "spyglass.correlations[0].alerts",
            "at least two alerts",
        ),
        (
            "spyglass:\n  correlations:\n    - {name: x, alerts: [A, B]}\n"
            "    - {name: x, alerts: [C, D]}\n",
            "spyglass.correlations[1].name",
            'correlation "x" is not unique',
        ),
        (
            "spyglass:\n  flapping: {max_changes: 0}\n",
            "spyglass.flapping.max_changes",
            "at least 1",
        ),
    ],
)
def test_extension_mistakes_name_the_field(section: str, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(section)
    assert err.value.field == field
    assert err.value.file == "alertmanager.yml"
    assert err.value.line > 0
    assert message in err.value.message
