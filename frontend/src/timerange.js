// Time ranges as Grafana writes them: `now`, `now-1h` (units s m h d w M y), rounded to the
// start of a unit with `/unit` (`now/d`, `now-1d/d`, `now/w`; as a range's end, to the unit's
// end), epoch milliseconds or a date (`2026-12-07 10:00:00`, in the browser's time zone or UTC,
// or ISO 8601 with a zone). Pure functions: the picker, the URL state and the queries share them.

// A month is 30 days and a year 365 as offsets, as the dashboards' server-side parser counts
// them (src/spyglass/dashboards/_timerange.py), so `now-1M` means the same on both pages.
const UNIT_MS = {
  s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, M: 30 * 86400e3, y: 365 * 86400e3,
};
const RELATIVE = /^now(?:\s*([+-])\s*(\d+)\s*([smhdwMy]))?(?:\s*\/\s*([smhdwMy]))?$/;

/**
 * The start of the calendar `unit` holding `ms` (or, with `up`, its last millisecond), in UTC
 * or the browser's zone. Weeks start on Monday (ISO 8601), as on the dashboards' server side.
 */
export function roundTime(ms, unit, { up = false, utc = false } = {}) {
  const d = new Date(ms);
  const get = (field) => (utc ? d[`getUTC${field}`]() : d[`get${field}`]());
  const parts = [get('FullYear'), get('Month'), get('Date'), get('Hours'), get('Minutes'), get('Seconds')];
  // The unit keeps the parts down to its own and resets those below (days count from 1).
  const keep = { y: 0, M: 1, w: 2, d: 2, h: 3, m: 4, s: 5 }[unit];
  const floor = [0, 0, 1, 0, 0, 0];
  for (let i = keep + 1; i < parts.length; i++) parts[i] = floor[i];
  if (unit === 'w') parts[2] -= (get('Day') + 6) % 7; // back to Monday
  const build = (p) => (utc ? Date.UTC(...p) : new Date(...p).getTime());
  const start = build(parts);
  if (!up) return start;
  const next = [...parts];
  next[keep] += unit === 'w' ? 7 : 1;
  return build(next) - 1;
}

/**
 * Milliseconds since the epoch for `text` at `nowMs`, or null when it is not a time. `end`
 * rounds `/unit` up to the unit's end (a range's `to`); `utc` reads dates and rounds in UTC
 * rather than the browser's time zone.
 */
export function parseTime(text, nowMs, { end = false, utc = false } = {}) {
  const t = String(text ?? '').trim();
  const rel = RELATIVE.exec(t);
  if (rel) {
    let ms = nowMs;
    if (rel[1]) {
      const delta = Number(rel[2]) * UNIT_MS[rel[3]];
      ms = rel[1] === '-' ? ms - delta : ms + delta;
    }
    if (rel[4]) ms = roundTime(ms, rel[4], { up: end, utc });
    return Number.isFinite(ms) ? ms : null;
  }
  if (/^\d+$/.test(t)) return Number(t);
  const local = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(t);
  if (local) {
    const parts = local.slice(1).map((p) => Number(p ?? 0));
    parts[1] -= 1;
    const ms = utc ? Date.UTC(...parts) : new Date(...parts).getTime();
    return Number.isNaN(ms) ? null : ms;
  }
  const iso = Date.parse(t);
  return Number.isNaN(iso) ? null : iso;
}

/** Whether `text` is relative to now (it moves when the query runs again). */
export function isRelative(text) {
  return String(text ?? '').trim().startsWith('now');
}

const pad = (n) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:mm:ss` in the browser's time zone or UTC (what the picker shows and takes). */
export function formatTime(ms, { utc = false } = {}) {
  const d = new Date(ms);
  const get = (field) => (utc ? d[`getUTC${field}`]() : d[`get${field}`]());
  return (
    `${get('FullYear')}-${pad(get('Month') + 1)}-${pad(get('Date'))} ` +
    `${pad(get('Hours'))}:${pad(get('Minutes'))}:${pad(get('Seconds'))}`
  );
}

/** Seconds for a Prometheus duration (`15s`, `1m30s`, `2h`) or a plain number; null if neither. */
export function parseDuration(text) {
  const t = String(text ?? '').trim();
  if (t === '') return null;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) > 0 ? Number(t) : null;
  const units = { ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let match;
  let end = 0;
  while ((match = re.exec(t)) !== null) {
    total += Number(match[1]) * units[match[2]];
    end = re.lastIndex;
  }
  return end === t.length && total > 0 ? total : null;
}

/** A duration in seconds the way Prometheus writes it (`1h30m`, `15s`, `250ms`). */
export function formatDuration(seconds) {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  let rest = Math.round(seconds);
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || '0s';
}

/**
 * The step Prometheus' own UI picks for a range: about 250 points across the graph, never
 * under a second.
 */
export function autoStep(rangeMs) {
  return Math.max(Math.floor(rangeMs / 1000 / 250), 1);
}

/** Grafana's quick ranges, as [from, label, to] (`to` is `now` when left out). */
export const QUICK_RANGES = [
  ['now/d', 'Today', 'now/d'],
  ['now/d', 'Today so far'],
  ['now-1d/d', 'Yesterday', 'now-1d/d'],
  ['now/w', 'This week', 'now/w'],
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-30m', 'Last 30 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-3h', 'Last 3 hours'],
  ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
];

const UNIT_NAMES = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', M: 'month', y: 'year' };

/** What the picker's button says for a range; `utc` writes absolute times in UTC. */
export function describeRange(from, to, { utc = false } = {}) {
  const quick = QUICK_RANGES.find(([f, , t = 'now']) => f === from && t === to);
  if (quick) return quick[1];
  if (to === 'now') {
    const rel = /^now-(\d+)([smhdwMy])$/.exec(from);
    if (rel) {
      const n = Number(rel[1]);
      const unit = UNIT_NAMES[rel[2]];
      return `Last ${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  const show = (t) => (/^\d+$/.test(t) ? formatTime(Number(t), { utc }) : t);
  return `${show(from)} to ${show(to)}${utc && [from, to].some((t) => /^\d+$/.test(t)) ? ' UTC' : ''}`;
}
