"""The SLO domain's public names."""

import spyglass.slo as slo


def test_public_names() -> None:
    assert sorted(slo.__all__) == [
        "AlertSpec",
        "Episode",
        "OPENSLO_VERSION",
        "PAGE",
        "SLI_WINDOWS",
        "SLO",
        "SLOService",
        "SLOStatus",
        "SLOTH_VERSION",
        "TICKET",
        "budget_spent",
        "generate_rule_file",
        "load_slo_file",
        "parse_slo_file",
        "period_start",
        "period_text",
        "rule_groups",
        "status",
    ]
    for name in slo.__all__:
        assert getattr(slo, name) is not None
