"""``spyglass errors``: triage error issues of a running Spyglass from the terminal.

- ``spyglass errors`` (or ``errors list``): the issue list, newest activity first, with level,
  state, events, users and when each was last seen;
- ``spyglass errors show <id>``: one issue, its counts per release, environment and service,
  and its latest event with the stack trace (in-app frames highlighted) and breadcrumbs;
- ``spyglass errors resolve <id>`` (``--next-release``), ``ignore <id>``, ``unresolve <id>``.

The commands talk HTTP to ``--url`` (the errors API, docs/api.md); errors are the server's own
messages, and the exit code is 1 when a request fails.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

errors_app = typer.Typer(
    help="List, show, resolve and ignore error issues (Sentry events) on a Spyglass server.",
    invoke_without_command=True,
)

DEFAULT_URL = "http://127.0.0.1:9090"
_URL = typer.Option("--url", help="Spyglass's base URL.")
LEVEL_STYLES = {
    "fatal": "bold white on red",
    "error": "bold red",
    "warning": "yellow",
    "info": "blue",
    "debug": "dim",
}
STATUS_STYLES = {"unresolved": "bold", "resolved": "green", "ignored": "dim"}


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _fail(message: str) -> typer.Exit:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False).print(Text(f"error: {message}", style="red"))
    return typer.Exit(1)


def _request(method: str, url: str, path: str, **kwargs: Any) -> Any:
    import httpx

    try:
        response = httpx.request(method, url.rstrip("/") + path, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        message = body.get("error") if isinstance(body, dict) else None
        raise _fail(f"{response.status_code}: {message or response.text.strip()}")
    return body


def _ago(iso: str | None, now: dt.datetime) -> str:
    """``5m ago``, ``3h ago``, ``2d ago`` for an RFC 3339 time."""
    if not iso:
        return "-"
    then = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s ago"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return iso


def _level(level: str) -> Text:
    from rich.text import Text

    return Text(level, style=LEVEL_STYLES.get(level, ""))


def _status(issue: dict[str, Any]) -> Text:
    from rich.text import Text

    status = str(issue.get("status", ""))
    text = Text(status, style=STATUS_STYLES.get(status, ""))
    if issue.get("isRegressed"):
        text.append(" (regressed)", style="bold magenta")
    return text


def _list(
    url: str,
    *,
    status: str,
    project: str,
    query: str,
    release: str,
    service: str,
    sort: str,
    limit: int,
) -> None:
    from rich.table import Table
    from rich.text import Text

    params = {
        k: v
        for k, v in {
            "status": status,
            "project": project,
            "query": query,
            "release": release,
            "service": service,
            "sort": sort,
            "limit": str(limit),
        }.items()
        if v
    }
    page = _request("GET", url, "/api/errors/issues", params=params)
    console = _console()
    issues = page["issues"]
    if not issues:
        console.print("no issues")
        return
    now = dt.datetime.now(dt.UTC)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, justify in (
        ("ID", "right"),
        ("LEVEL", "left"),
        ("STATUS", "left"),
        ("EVENTS", "right"),
        ("USERS", "right"),
        ("LAST SEEN", "right"),
        ("ISSUE", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "ISSUE")  # type: ignore[arg-type]
    for issue in issues:
        what = Text(issue["title"], style="bold")
        if issue.get("culprit"):
            what.append("\n" + issue["culprit"], style="dim")
        table.add_row(
            issue["id"],
            _level(issue["level"]),
            _status(issue),
            str(issue["count"]),
            str(issue["userCount"]),
            _ago(issue["lastSeen"], now),
            what,
        )
    console.print(table)
    if page["total"] > len(issues):
        console.print(Text(f"{len(issues)} of {page['total']} issues shown", style="dim"))


_STATUS_OPT = typer.Option("--status", help="unresolved, resolved or ignored (default: all).")
_PROJECT_OPT = typer.Option("--project", help="Only this project id.")
_QUERY_OPT = typer.Option("--query", "-q", help="Text in the title or culprit.")
_RELEASE_OPT = typer.Option("--release", help="Only issues seen in this release.")
_SERVICE_OPT = typer.Option("--service", help="Only issues with events from this service.")
_SORT_OPT = typer.Option("--sort", help="last_seen, first_seen, count or users.")
_LIMIT_OPT = typer.Option("--limit", help="Issues to show at most.")


@errors_app.callback()
def errors(
    ctx: typer.Context,
    *,
    status: Annotated[str, _STATUS_OPT] = "",
    project: Annotated[str, _PROJECT_OPT] = "",
    query: Annotated[str, _QUERY_OPT] = "",
    release: Annotated[str, _RELEASE_OPT] = "",
    service: Annotated[str, _SERVICE_OPT] = "",
    sort: Annotated[str, _SORT_OPT] = "last_seen",
    limit: Annotated[int, _LIMIT_OPT] = 50,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Without a command: list the issues (as ``errors list``)."""
    if ctx.invoked_subcommand is None:
        _list(
            url,
            status=status,
            project=project,
            query=query,
            release=release,
            service=service,
            sort=sort,
            limit=limit,
        )


@errors_app.command("list")
def list_issues(
    *,
    status: Annotated[str, _STATUS_OPT] = "",
    project: Annotated[str, _PROJECT_OPT] = "",
    query: Annotated[str, _QUERY_OPT] = "",
    release: Annotated[str, _RELEASE_OPT] = "",
    service: Annotated[str, _SERVICE_OPT] = "",
    sort: Annotated[str, _SORT_OPT] = "last_seen",
    limit: Annotated[int, _LIMIT_OPT] = 50,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """List issues with their events, users and when they were last seen."""
    _list(
        url,
        status=status,
        project=project,
        query=query,
        release=release,
        service=service,
        sort=sort,
        limit=limit,
    )


@errors_app.command("show")
def show(
    issue_id: Annotated[str, typer.Argument(help="The issue's id (the list's ID column).")],
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """One issue and the stack trace of its latest event."""
    from rich.text import Text

    issue = _request("GET", url, f"/api/errors/issues/{issue_id}")
    events = _request("GET", url, f"/api/errors/issues/{issue_id}/events", params={"limit": 1})
    console = _console()
    now = dt.datetime.now(dt.UTC)
    head = Text(f"#{issue['id']} ", style="dim")
    head.append(issue["title"], style="bold")
    console.print(head)
    if issue.get("culprit"):
        console.print(Text(issue["culprit"], style="dim"))
    line = Text()
    line.append_text(_level(issue["level"]))
    line.append("  ")
    line.append_text(_status(issue))
    line.append(f"  {issue['count']} events, {issue['userCount']} users")
    line.append(
        f"  first seen {_ago(issue['firstSeen'], now)}, last {_ago(issue['lastSeen'], now)}"
    )
    console.print(line)
    for what in ("releases", "environments", "services"):
        counts = ", ".join(f"{c['name'] or '(none)'} {c['count']}" for c in issue.get(what, []))
        if counts:
            console.print(Text(f"{what}: {counts}", style="dim"))
    if events["events"]:
        _print_event(console, events["events"][0])


def _print_event(console: Console, event: dict[str, Any]) -> None:
    from rich.text import Text

    console.print()
    head = Text("latest event ", style="bold")
    head.append(event["eventID"], style="cyan")
    head.append(f"  {event['dateCreated']}", style="dim")
    if event.get("release"):
        head.append(f"  release {event['release']}", style="dim")
    console.print(head)
    for exc in event["exceptions"]:
        console.print()
        _print_frames(console, exc["frames"])
        text = Text(exc["type"] or "Error", style="bold red")
        if exc["value"]:
            text.append(f": {exc['value']}")
        console.print(text)
    if not event["exceptions"]:
        if event["message"]:
            console.print(Text(event["message"], style="bold"))
        _print_frames(console, event["stacktrace"])
    crumbs = event.get("breadcrumbs") or []
    if crumbs:
        console.print()
        console.print(Text("breadcrumbs", style="bold"))
        for crumb in crumbs[-10:]:
            kind = crumb.get("category") or crumb.get("type") or ""
            message = crumb.get("message") or ""
            line = Text(f"  {kind:<16} ", style="dim")
            line.append(str(message))
            console.print(line)


def _print_frames(console: Console, frames: list[dict[str, Any]]) -> None:
    from rich.text import Text

    if frames:
        console.print(Text("Traceback (most recent call last):", style="dim"))
    for frame in frames:
        in_app = frame.get("inApp") is not False
        where = Text("  File ", style="" if in_app else "dim")
        where.append(
            f'"{frame["filename"] or frame["absPath"] or frame["module"]}"',
            style="bold" if in_app else "dim",
        )
        if frame["lineNo"] is not None:
            where.append(f", line {frame['lineNo']}", style="" if in_app else "dim")
        if frame["function"]:
            where.append(f", in {frame['function']}", style="" if in_app else "dim")
        console.print(where)
        if frame["contextLine"]:
            console.print(
                Text(f"    {frame['contextLine'].strip()}", style="" if in_app else "dim")
            )


def _act(url: str, issue_id: str, body: dict[str, Any], done: str) -> None:
    from rich.text import Text

    issue = _request("PUT", url, f"/api/errors/issues/{issue_id}", json=body)
    text = Text(f"#{issue['id']} {done}: ", style="green")
    text.append(issue["title"])
    _console().print(text)


@errors_app.command("resolve")
def resolve(
    issue_id: Annotated[str, typer.Argument(help="The issue's id.")],
    next_release: Annotated[
        bool,
        typer.Option(
            "--next-release",
            help="Fixed in the next release: events of the current release do not reopen it.",
        ),
    ] = False,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Mark an issue resolved; a later event reopens it as a regression."""
    status = "resolvedInNextRelease" if next_release else "resolved"
    _act(
        url,
        issue_id,
        {"status": status},
        "resolved in next release" if next_release else "resolved",
    )


@errors_app.command("ignore")
def ignore(
    issue_id: Annotated[str, typer.Argument(help="The issue's id.")],
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Ignore an issue: its events are still counted, but it raises no alerts."""
    _act(url, issue_id, {"status": "ignored"}, "ignored")


@errors_app.command("unresolve")
def unresolve(
    issue_id: Annotated[str, typer.Argument(help="The issue's id.")],
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Put an issue back to unresolved."""
    _act(url, issue_id, {"status": "unresolved"}, "unresolved")


__all__ = ["errors_app"]
