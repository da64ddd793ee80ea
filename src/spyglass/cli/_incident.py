"""``spyglass incident``: open, list, show, update and resolve incidents on a running Spyglass.

The commands talk HTTP to ``--url`` (``/api/spyglass/v1/incidents``, docs/api.md) and print
what the server answers; a refusal prints the server's message and exits 1.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import httpx

incident_app = typer.Typer(
    help="Incidents: open, update, resolve, postmortem.", no_args_is_help=True
)

DEFAULT_URL = "http://127.0.0.1:9090"
PREFIX = "/api/spyglass/v1/incidents"
_URL = typer.Option("--url", help="Spyglass's base URL.")
_BY = typer.Option("--by", help="Who does it (default: your user name).")
_COLOURS = {"SEV1": "bold red", "SEV2": "red", "SEV3": "yellow", "SEV4": "cyan"}


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _call(method: str, url: str, path: str, **kwargs: Any) -> httpx.Response:
    import httpx

    try:
        response = httpx.request(method, url.rstrip("/") + PREFIX + path, timeout=60, **kwargs)
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach {url}: {exc}", err=True)
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        try:
            message = response.json().get("error", response.text)
        except ValueError:
            message = response.text
        typer.echo(f"error: {response.status_code}: {message}", err=True)
        raise typer.Exit(1)
    return response


def _time(ms: int | None) -> str:
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _show(incident: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console()
    colour = _COLOURS.get(incident["severity"], "")
    console.print(
        f"[{colour}]{incident['severity']}[/] [bold]{incident['id']}[/] {incident['title']}",
        highlight=False,
    )
    console.print(
        f"status {incident['status']}, commander {incident['commander'] or '-'}, "
        f"opened {_time(incident['opened_ms'])} UTC",
        highlight=False,
    )
    for entry in incident.get("timeline", []):
        by = f" [dim]({entry['by']})[/]" if entry.get("by") else ""
        console.print(f"  {_time(entry['time_ms'])}  {entry['text']}{by}", highlight=False)


@incident_app.command("open")
def open_(
    title: str = typer.Argument(..., help="What is wrong, in a line."),
    *,
    sev: str = typer.Option("SEV3", "--sev", help="SEV1 (full outage) to SEV4 (cosmetic)."),
    commander: str = typer.Option("", "--commander", help="Who leads the response."),
    summary: str = typer.Option("", "--summary", help="What is known so far."),
    by: Annotated[str, _BY] = "",
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Open an incident and print its id."""
    body = {"title": title, "severity": sev, "commander": commander, "summary": summary,
            "by": by or _user()}  # fmt: skip
    incident = _call("POST", url, "", json=body).json()["data"]
    typer.echo(incident["id"])


@incident_app.command("list")
def list_(
    status: str = typer.Option("open", "--status", help="open, resolved or all."),
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """List incidents, newest first."""
    found = _call("GET", url, "", params={"status": status}).json()["data"]
    from rich.console import Console
    from rich.table import Table

    table = Table("ID", "SEV", "STATUS", "TITLE", "COMMANDER", "OPENED (UTC)")
    for i in found:
        colour = _COLOURS.get(i["severity"], "")
        table.add_row(i["id"], f"[{colour}]{i['severity']}[/]", i["status"], i["title"],
                      i["commander"] or "-", _time(i["opened_ms"]))  # fmt: skip
    Console().print(table)


@incident_app.command("show")
def show(
    ident: str = typer.Argument(..., help="INC-42"), url: Annotated[str, _URL] = DEFAULT_URL
) -> None:
    """Show an incident and its timeline."""
    _show(_call("GET", url, f"/{ident}").json()["data"])


@incident_app.command("note")
def note(
    ident: str = typer.Argument(..., help="INC-42"),
    text: str = typer.Argument(..., help="The note."),
    by: Annotated[str, _BY] = "",
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Add a note to the timeline."""
    _call("POST", url, f"/{ident}/notes", json={"text": text, "by": by or _user()})


@incident_app.command("status")
def status(
    ident: str = typer.Argument(..., help="INC-42"),
    new: str = typer.Argument(..., help="investigating, identified, monitoring or resolved."),
    text: str = typer.Option("", "--message", "-m", help="What changed."),
    by: Annotated[str, _BY] = "",
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Change the status (the update goes out through the router)."""
    _call("POST", url, f"/{ident}/status", json={"status": new, "text": text, "by": by or _user()})


@incident_app.command("resolve")
def resolve(
    ident: str = typer.Argument(..., help="INC-42"),
    text: str = typer.Option("", "--message", "-m", help="How it ended."),
    by: Annotated[str, _BY] = "",
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Resolve the incident."""
    body = {"status": "resolved", "text": text, "by": by or _user()}
    _call("POST", url, f"/{ident}/status", json=body)


@incident_app.command("postmortem")
def postmortem(
    ident: str = typer.Argument(..., help="INC-42"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Print the postmortem (the edited one, or the draft) as Markdown."""
    text = _call("GET", url, f"/{ident}/postmortem").text
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
