"""The why domain's public names."""

import spyglass.why as why


def test_public_names() -> None:
    assert sorted(why.__all__) == [
        "Contributor",
        "DEFAULT_BASELINE_MS",
        "DEFAULT_WINDOW_MS",
        "Explanation",
        "Finder",
        "Finding",
        "MIN_GROWTH",
        "error_issues",
        "explain",
        "log_patterns",
        "series_expression",
        "trace_operations",
    ]
    for name in why.__all__:
        assert getattr(why, name) is not None
