"""Where each SLO stands: SLI, error budget left, burn rates, burn-down, and what spent it.

Computed from the raw series the SLI reads (not from the recorded rules), so the numbers are
right from the first minute after start-up and for data that was there before the SLO was
written. For a rolling period the SLI is the error ratio over the trailing period; for a
calendar one (``week``: from Monday 00:00 UTC, ``month``: from the 1st) over the time since the
period began, and the budget is the whole period's.

* ``budget_remaining``: 1 - SLI / error budget (below 0 once the budget is spent);
* ``budget_remaining_s``: the same as time: how long the service could be fully down for the
  rest of the period and still meet the objective (budget * period * remaining share);
* ``burn_rates``: the SLI of each alert window over the budget (1 spends exactly the budget);
* ``burndown``: budget remaining at points across the period;
* ``episodes``: the stretches where the 5m burn rate stayed above 1, with the share of the
  period's budget each spent: the events that spent it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from spyglass.core.times import format_duration
from spyglass.promql import Engine
from spyglass.slo._generate import SLI_WINDOWS
from spyglass.slo._spec import SLO

BURNDOWN_POINTS = 60
EPISODE_STEP_MS = 300_000


@dataclass(frozen=True, slots=True)
class Episode:
    """A stretch of time the SLO burned budget faster than it earns it."""

    start_ms: int
    end_ms: int
    peak_burn_rate: float
    budget_spent: float  # share of the period's budget


@dataclass(frozen=True, slots=True)
class SLOStatus:
    """One SLO at one time."""

    slo: SLO
    time_ms: int
    period_start_ms: int
    sli: float | None  # error ratio over the period so far (None: no events)
    budget_remaining: float | None
    budget_remaining_s: float | None
    burn_rates: dict[str, float | None] = field(default_factory=dict)
    burndown: list[tuple[int, float | None]] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)


def period_start(slo: SLO, now_ms: int) -> int:
    """Where the current period began: now - period, or the calendar week's/month's start."""
    if not slo.calendar:
        return now_ms - slo.period_ms
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = slo.calendar == "week"
    start = day - dt.timedelta(days=day.weekday()) if week else day.replace(day=1)
    return int(start.timestamp() * 1000)


def _scalar(engine: Engine, query: str, t_ms: int) -> float | None:
    result = engine.instant_query(query, t_ms)
    values = [v for _, v in result.vector if not math.isnan(v)]
    if result.scalar is not None and not math.isnan(result.scalar):
        values.append(result.scalar)
    return values[0] if len(values) == 1 else None


def _window(ms: int) -> str:
    return format_duration(max(ms, 60_000) // 1000 * 1000)


def status(slo: SLO, engine: Engine, now_ms: int, *, detail: bool = False) -> SLOStatus:
    """Compute ``slo``'s status at ``now_ms``; ``detail`` adds the burn-down and episodes."""
    start = period_start(slo, now_ms)
    budget = slo.error_budget
    sli = _scalar(engine, slo.sli_at(_window(now_ms - start)), now_ms)
    remaining = None if sli is None else 1 - sli / budget
    remaining_s = None if remaining is None else remaining * budget * slo.period_ms / 1000
    burn = {}
    for w in SLI_WINDOWS:
        value = _scalar(engine, slo.sli_at(w), now_ms)
        burn[w] = None if value is None else value / budget
    burndown: list[tuple[int, float | None]] = []
    episodes: list[Episode] = []
    if detail:
        burndown = _burndown(slo, engine, start, now_ms)
        episodes = _episodes(slo, engine, start, now_ms)
    return SLOStatus(slo, now_ms, start, sli, remaining, remaining_s, burn, burndown, episodes)


def _burndown(slo: SLO, engine: Engine, start: int, now_ms: int) -> list[tuple[int, float | None]]:
    step = max((now_ms - start) // BURNDOWN_POINTS, 60_000)
    out: list[tuple[int, float | None]] = []
    t = start + step
    while t <= now_ms:
        # Calendar: what was spent since the period began; rolling: over the trailing period.
        window = _window(t - start) if slo.calendar else _window(slo.period_ms)
        sli = _scalar(engine, slo.sli_at(window), t)
        out.append((t, None if sli is None else 1 - sli / slo.error_budget))
        t += step
    return out


def _episodes(slo: SLO, engine: Engine, start: int, now_ms: int) -> list[Episode]:
    step = EPISODE_STEP_MS
    first = start + step
    if first > now_ms:
        return []
    result = engine.range_query(slo.sli_at("5m"), first, now_ms, step)
    if len(result.matrix) != 1:
        return []
    _, times, values = result.matrix[0]
    budget = slo.error_budget
    # The share of the period's budget one step at ratio r spends: r * step / (budget * period).
    per_step = step / (budget * slo.period_ms)
    episodes: list[Episode] = []
    run: list[tuple[int, float]] = []
    for t, v in zip(times.tolist(), values.tolist(), strict=True):
        if not math.isnan(v) and v / budget > 1:
            run.append((t, v))
            continue
        if run:
            episodes.append(_episode(run, budget, per_step, step))
            run = []
    if run:
        episodes.append(_episode(run, budget, per_step, step))
    return episodes


def _episode(run: list[tuple[int, float]], budget: float, per_step: float, step: int) -> Episode:
    return Episode(
        start_ms=run[0][0] - step,
        end_ms=run[-1][0],
        peak_burn_rate=max(v for _, v in run) / budget,
        budget_spent=sum(v for _, v in run) * per_step,
    )


def budget_spent(slo: SLO, engine: Engine, start_ms: int, end_ms: int) -> float | None:
    """The share of ``slo``'s period budget that the window ``[start, end]`` spent (None: no
    events in it): its error ratio times its length, over budget times period."""
    if end_ms <= start_ms:
        return None
    ratio = _scalar(engine, slo.sli_at(_window(end_ms - start_ms)), end_ms)
    if ratio is None:
        return None
    return ratio * (end_ms - start_ms) / (slo.error_budget * slo.period_ms)


__all__ = ["Episode", "SLOStatus", "budget_spent", "period_start", "status"]
