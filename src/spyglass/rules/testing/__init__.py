"""promtool's rule unit tests (``promtool test rules``): ``spyglass test rules``.

``run_unit_tests`` reads promtool's test YAML unchanged and reports per file and per test group,
with promtool's messages for wrong alerts and samples. Spyglass extends the format for LogQL
rules: ``logs_rule_files``, ``input_logs`` (``parse_log_line`` reads its items) and
``logql_expr_test``.
"""

from spyglass.rules.testing._input_logs import parse_log_line, parse_stream_labels
from spyglass.rules.testing._runner import (
    NATIVE_HISTOGRAMS,
    FileReport,
    GroupReport,
    run_unit_test_file,
    run_unit_tests,
)
from spyglass.rules.testing._testfile import (
    AlertTest,
    ExpectedAlert,
    ExpectedSample,
    InputLogs,
    InputSeries,
    PromqlTest,
    UnitTestFile,
    UnitTestGroup,
    load_unit_test_file,
)

__all__ = [
    "NATIVE_HISTOGRAMS",
    "AlertTest",
    "ExpectedAlert",
    "ExpectedSample",
    "FileReport",
    "GroupReport",
    "InputLogs",
    "InputSeries",
    "PromqlTest",
    "UnitTestFile",
    "UnitTestGroup",
    "load_unit_test_file",
    "parse_log_line",
    "parse_stream_labels",
    "run_unit_test_file",
    "run_unit_tests",
]
