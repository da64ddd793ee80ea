"""The LogQL package's public surface."""

import spyglass.logs as logs
import spyglass.logs.testing as testing


def test_public_names() -> None:
    assert sorted(logs.__all__) == [
        "AnalysisOptions",
        "CappedGroup",
        "ERROR_LEVELS",
        "Engine",
        "EngineOptions",
        "Expr",
        "Impact",
        "ImpactReport",
        "LineFields",
        "LogAnalysis",
        "LogQLParseError",
        "LogQuery",
        "MinedPattern",
        "MinerOptions",
        "PatternImpact",
        "PatternMiner",
        "PatternReport",
        "QueryResult",
        "Sample",
        "ServiceImpact",
        "Stats",
        "Stream",
        "line_fields",
        "loki_pattern",
        "mask",
        "normalize_level",
        "parse_duration",
        "parse_query",
    ]
    assert sorted(testing.__all__) == [
        "CaseResult",
        "Report",
        "ScriptError",
        "almost_equal",
        "parse_script",
        "run_files",
        "run_script",
    ]
