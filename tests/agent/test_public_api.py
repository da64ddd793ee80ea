"""The agent package's public surface."""

import spyglass.agent as agent


def test_public_names() -> None:
    assert sorted(agent.__all__) == sorted(
        [
            "STAGES",
            "Agent",
            "AgentConfig",
            "ClientConfig",
            "Drops",
            "Entry",
            "FileTail",
            "Line",
            "Outcome",
            "PathError",
            "Pipeline",
            "Positions",
            "PositionsConfig",
            "PushClient",
            "Result",
            "ScrapeConfig",
            "ServerConfig",
            "Target",
            "TargetGroup",
            "agent_app",
            "bind",
            "build_pipeline",
            "compile_glob",
            "encode_push",
            "expand",
            "format_positions",
            "load_agent_config",
            "load_agent_config_file",
            "parse_logfmt",
            "parse_path",
            "parse_positions",
            "run_agent",
            "targets",
            "time_parser",
            "value_text",
        ]
    )
    assert agent.STAGES == (
        "drop",
        "json",
        "labelallow",
        "labeldrop",
        "labels",
        "logfmt",
        "match",
        "multiline",
        "output",
        "regex",
        "static_labels",
        "structured_metadata",
        "template",
        "timestamp",
    )
