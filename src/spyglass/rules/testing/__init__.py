"""promtool's rule unit tests (``promtool test rules``): ``spyglass test rules``.

``run_unit_tests`` reads promtool's test YAML unchanged and reports per file and per test group,
with promtool's messages for wrong alerts and samples.
"""

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
    "InputSeries",
    "PromqlTest",
    "UnitTestFile",
    "UnitTestGroup",
    "load_unit_test_file",
    "run_unit_test_file",
    "run_unit_tests",
]
