"""The LogQL package's public surface."""

import spyglass.logs as logs
import spyglass.logs.testing as testing


def test_public_names() -> None:
    assert sorted(logs.__all__) == [
        "Engine",
        "EngineOptions",
        "Expr",
        "LogQLParseError",
        "LogQuery",
        "QueryResult",
        "Stats",
        "Stream",
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
