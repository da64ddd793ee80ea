"""The probes domain's public names."""

import spyglass.probes as probes


def test_public_names() -> None:
    assert sorted(probes.__all__) == [
        "DEFAULT_MODULE",
        "DNSProbe",
        "HTTPProbe",
        "Module",
        "ProbeResult",
        "ProbeScheduler",
        "ProbesConfig",
        "ScheduledProbe",
        "TCPProbe",
        "TargetStatus",
        "builtin_config",
        "load_probes_config",
        "load_probes_config_file",
        "probe",
        "timeout_for",
    ]
    for name in probes.__all__:
        assert getattr(probes, name) is not None
