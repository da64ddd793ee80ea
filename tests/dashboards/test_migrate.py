"""Pre-Grafana-5 dashboards (``rows`` of panels sized by ``span``) laid out on the 24-column
grid as Grafana's ``DashboardMigrator`` lays them out, the stored dashboard left untouched."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.dashboards.fakes import FakeSource

from spyglass.dashboards import dashboard_view, migrate_layout, validate_dashboard
from spyglass.dashboards._migrate import grid_height


def old(*rows: dict[str, Any], version: int = 14) -> dict[str, Any]:
    return {"title": "Old", "schemaVersion": version, "rows": list(rows)}


def test_row_height_in_pixels_becomes_grid_cells_never_under_three() -> None:
    # 38 px per cell (30 px high, 8 px gap), rounded up; 90 px at least.
    assert grid_height(250) == 7
    assert grid_height("250px") == 7
    assert grid_height(None) == 7
    assert grid_height(20) == 3
    assert grid_height(380) == 10


def test_spans_become_widths_and_untitled_rows_just_follow_each_other() -> None:
    d = old(
        {"height": "250px", "panels": [{"id": 1, "span": 6}, {"id": 2, "span": 6}]},
        {"height": 150, "panels": [{"id": 3, "span": 12}]},
    )
    got = migrate_layout(d)
    assert "rows" not in got
    assert got["schemaVersion"] == 16
    assert [(p["id"], p["gridPos"]) for p in got["panels"]] == [
        (1, {"x": 0, "y": 0, "w": 12, "h": 7}),
        (2, {"x": 12, "y": 0, "w": 12, "h": 7}),
        (3, {"x": 0, "y": 7, "w": 24, "h": 4}),
    ]
    assert all("span" not in p for p in got["panels"])


def test_panels_wrap_inside_their_row_and_a_missing_span_is_a_third() -> None:
    d = old({"height": 200, "panels": [{"id": 1, "span": 8}, {"id": 2}, {"id": 3}]})
    got = migrate_layout(d)
    assert [p["gridPos"] for p in got["panels"]] == [
        {"x": 0, "y": 0, "w": 16, "h": 6},
        {"x": 16, "y": 0, "w": 8, "h": 6},
        {"x": 0, "y": 6, "w": 8, "h": 6},
    ]


def test_shown_titles_make_row_panels_and_collapsed_rows_hold_their_panels() -> None:
    d = old(
        {"title": "CPU", "showTitle": True, "height": 250, "panels": [{"id": 1, "span": 12}]},
        {"title": "Disk", "collapse": True, "panels": [{"id": 2, "span": 4}]},
        {"title": "Net", "repeat": "instance", "panels": [{"id": 3, "span": 4}]},
    )
    got = migrate_layout(d)
    rows = [p for p in got["panels"] if p.get("type") == "row"]
    assert [(r["title"], r["collapsed"], r["gridPos"]["y"]) for r in rows] == [
        ("CPU", False, 0),
        ("Disk", True, 8),
        ("Net", False, 9),
    ]
    # Row panels get ids after the largest panel id, as Grafana numbers them.
    assert [r["id"] for r in rows] == [4, 5, 6]
    assert rows[1]["panels"] == [{"id": 2, "gridPos": {"x": 0, "y": 9, "w": 8, "h": 7}}]
    assert rows[2]["repeat"] == "instance"
    top = [p["id"] for p in got["panels"] if p.get("type") != "row"]
    assert top == [1, 3]


def test_new_dashboards_and_the_stored_original_are_left_alone() -> None:
    new = {"title": "New", "schemaVersion": 39, "panels": [{"id": 1}]}
    assert migrate_layout(new) is new
    d = old({"panels": [{"id": 1, "span": 6}]})
    before = copy.deepcopy(d)
    migrate_layout(d)
    assert d == before


PANEL = st.fixed_dictionaries(
    {"id": st.integers(1, 50)},
    optional={
        "span": st.one_of(st.integers(-3, 30), st.floats(allow_nan=True), st.text(max_size=3)),
        "height": st.one_of(st.integers(-10, 900), st.just("300px"), st.none()),
    },
)
ROW = st.fixed_dictionaries(
    {"panels": st.lists(PANEL, max_size=6)},
    optional={
        "height": st.one_of(st.integers(-10, 900), st.text(max_size=6), st.none()),
        "collapse": st.booleans(),
        "showTitle": st.booleans(),
        "title": st.text(max_size=5),
        "repeat": st.one_of(st.none(), st.just("x")),
        "repeatIteration": st.one_of(st.none(), st.integers(0, 2)),
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ROW, max_size=5))
def test_every_old_layout_migrates_to_a_valid_grid_without_losing_or_overlapping_panels(
    rows: list[dict[str, Any]],
) -> None:
    d = old(*copy.deepcopy(rows))
    got = validate_dashboard(migrate_layout(d))
    kept = sum(len(r["panels"]) for r in rows if not r.get("repeatIteration"))
    flat = [p for top in got.get("panels", []) for p in [top, *top.get("panels", [])]]
    assert sum(1 for p in flat if p.get("type") != "row") == (kept if rows else 0)
    for p in flat:
        g = p["gridPos"]
        assert 0 <= g["x"] < g["x"] + g["w"] <= 24
        assert g["h"] >= 1
    # Grafana's migration may stack a panel taller than its row over the next band, as
    # Grafana's does; the grid floats them off each other, so what the page draws never overlaps.
    drawn = dashboard_view(got, start_ms=0, end_ms=3_600_000, url_values={}, source=FakeSource([]))
    for section in drawn["sections"]:
        boxes = [tuple(p["gridPos"][k] for k in "xywh") for p in section["panels"]]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                overlap = (
                    a[0] < b[0] + b[2]
                    and b[0] < a[0] + a[2]
                    and a[1] < b[1] + b[3]
                    and b[1] < a[1] + a[3]
                )
                assert not overlap, (a, b)
