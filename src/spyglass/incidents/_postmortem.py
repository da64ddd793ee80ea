"""The postmortem draft of an incident, in Markdown, and the links of its window.

The draft follows the usual template: summary, impact (durations, alerts, the SLO error budget
the window spent), timeline, root cause and actions, filled from what the incident holds. A
postmortem edited through the API is kept as written and returned instead of the draft.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from spyglass.incidents._config import IncidentsConfig

# (SLO id, share of its period's budget spent in the window, period) for SLOs with events.
BudgetSpent = Callable[[int, int], list[tuple[str, float, str]]]


def _time(ms: int | None) -> str:
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(ms: int) -> str:
    """``1h 5m``, ``3m 20s``, ``2d 4h``."""
    s = max(ms, 0) // 1000
    days, s = divmod(s, 86_400)
    hours, s = divmod(s, 3600)
    minutes, seconds = divmod(s, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
    shown = [f"{v}{u}" for v, u in parts if v][:2]
    return " ".join(shown) or "0s"


def window(incident: dict[str, Any], now_ms: int) -> tuple[int, int]:
    """From the first alert (or the opening) to the resolution (or now)."""
    starts = [a["starts_ms"] for a in incident["alerts"].values() if a.get("starts_ms")]
    start = min([incident["opened_ms"], *starts])
    return start, incident["resolved_ms"] or now_ms


def links(incident: dict[str, Any], now_ms: int, base: str = "") -> dict[str, Any]:
    """Where to look: the alerts' graphs, and logs, traces and errors of the window."""
    start, end = window(incident, now_ms)
    # A little before and after, as anyone looking at an incident widens the window.
    frm, to = start - 15 * 60_000, end + 5 * 60_000
    labels = incident["labels"]
    service = labels.get("service") or labels.get("sloth_service") or labels.get("job", "")
    out: dict[str, Any] = {
        "graphs": sorted(
            {a["generator_url"] for a in incident["alerts"].values() if a.get("generator_url")}
        ),
    }
    selector = f'{{service_name="{service}"}}' if service else '{service_name=~".+"}'
    out["logs"] = f"{base}/logs?" + urlencode({"query": selector, "from": frm, "to": to})
    trace_params = {
        "start": frm * 1000,
        "end": to * 1000,
        **({"service": service} if service else {}),
    }
    out["traces"] = f"{base}/traces?" + urlencode(trace_params)
    error_params = {
        "start": frm // 1000,
        "end": to // 1000,
        **({"query": service} if service else {}),
    }
    out["errors"] = f"{base}/errors?" + urlencode(error_params)
    return out


def postmortem(
    incident: dict[str, Any],
    config: IncidentsConfig,
    now_ms: int,
    budget_spent: BudgetSpent | None = None,
) -> str:
    """The edited postmortem, or the draft made from the incident."""
    if incident.get("postmortem"):
        return str(incident["postmortem"])
    start, end = window(incident, now_ms)
    sev = config.severity(incident["severity"])
    timeline = incident.get("timeline", [])
    lines = [
        f"# Postmortem: {incident['title']} ({incident['id']})",
        "",
        f"- **Severity:** {sev.level} ({sev.name}: {sev.description})",
        f"- **Status:** {incident['status']}",
        f"- **Commander:** {incident['commander'] or '-'}",
        f"- **Opened:** {_time(incident['opened_ms'])}",
        f"- **Resolved:** {_time(incident['resolved_ms'])}",
        "",
        "## Summary",
        "",
        incident["summary"] or "_To be written._",
        "",
        "## Impact",
        "",
        f"- Duration: {duration_text(end - start)} ({_time(start)} to {_time(end)})",
    ]
    for status in ("identified", "monitoring", "resolved"):
        at = next(
            (
                e["time_ms"]
                for e in timeline
                if e["kind"] == "status" and f"→ {status}" in e["text"]
            ),
            None,
        )
        if at is not None:
            lines.append(f"- Time to {status}: {duration_text(at - start)}")
    alerts = incident["alerts"]
    if alerts:
        names = sorted({a["labels"].get("alertname", "") for a in alerts.values()})
        lines.append(f"- Alerts: {len(alerts)} ({', '.join(names)})")
    spent = budget_spent(start, end) if budget_spent is not None else []
    for slo_id, share, period in spent:
        lines.append(f"- SLO {slo_id}: {share * 100:.2f} % of its {period} error budget spent")
    if budget_spent is not None and not spent:
        lines.append("- SLOs: no SLO had events in this window")
    lines += ["", "## Timeline", "", "| time | event | by |", "|---|---|---|"]
    for e in timeline:
        text = str(e["text"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {_time(e['time_ms'])} | {text} | {e.get('by') or ''} |")
    lines += [
        "",
        "## Root cause",
        "",
        incident["root_cause"] or "_To be written._",
        "",
        "## Actions",
        "",
    ]
    actions = incident.get("actions") or []
    lines += [f"- [ ] {a}" for a in actions] or ["_None yet._"]
    return "\n".join(lines) + "\n"


__all__ = ["BudgetSpent", "duration_text", "links", "postmortem", "window"]
