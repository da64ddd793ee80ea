"""The error-issue finder: issues first seen in the window, and issues that regressed in it."""

from __future__ import annotations

from spyglass.core.error_issues import Issue, IssuePage, IssueQuery
from spyglass.why import error_issues


class Issues:
    """Just ``search``, over a fixed list, sorted as the store sorts."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues

    def search(self, query: IssueQuery) -> IssuePage:
        key = {"first_seen": lambda i: i.first_seen_ms, "last_seen": lambda i: i.last_seen_ms}[
            query.sort
        ]
        found = sorted(self.issues, key=key, reverse=True)[: query.limit]
        return IssuePage(tuple(found), len(self.issues))


def issue(n: int, first: int, last: int, *, regressed: bool = False) -> Issue:
    return Issue(
        project_id=1,
        fingerprint=f"{n:032x}",
        title=f"Boom {n}",
        culprit="app.py in f",
        first_seen_ms=first,
        last_seen_ms=last,
        count=3,
        id=n,
        regressed=regressed,
    )


def test_new_and_regressed_issues_of_the_window() -> None:
    store = Issues([
        issue(1, 1_000, 9_000),  # old, still happening: not new
        issue(2, 5_500, 5_900),  # first seen in the window
        issue(3, 1_000, 5_800, regressed=True),  # came back in the window
        issue(4, 1_000, 2_000, regressed=True),  # regressed long ago
        issue(5, 9_500, 9_600),  # after the window
    ])  # fmt: skip
    found = error_issues(store)(5_000, 6_000, 0, 5_000)  # type: ignore[arg-type]
    assert [f.title for f in found] == [
        "new error issue #2: Boom 2 in app.py in f",
        "regressed error issue #3: Boom 3 in app.py in f",
    ]
    assert all(f.kind == "error_issue" for f in found)
