// Time ranges as Grafana writes them: `now`, `now-1h` (units s m h d w y), epoch milliseconds or a
// date (`2026-12-07 10:00:00`, taken in the browser's time zone, or ISO 8601 with a zone).
// Pure functions: the picker, the URL state and the queries share them.

const UNIT_MS = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 };

/** Milliseconds since the epoch for `text` at `nowMs`, or null when it is not a time. */
export function parseTime(text, nowMs) {
  const t = String(text ?? '').trim();
  if (t === 'now') return nowMs;
  const rel = /^now\s*([+-])\s*(\d+)\s*([smhdwy])$/.exec(t);
  if (rel) {
    const delta = Number(rel[2]) * UNIT_MS[rel[3]];
    return rel[1] === '-' ? nowMs - delta : nowMs + delta;
  }
  if (/^\d+$/.test(t)) return Number(t);
  const local = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(t);
  if (local) {
    const [, y, mo, d, h = '0', mi = '0', s = '0'] = local;
    const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    return Number.isNaN(date.getTime()) ? null : date.getTime();
  }
  const iso = Date.parse(t);
  return Number.isNaN(iso) ? null : iso;
}

/** Whether `text` is relative to now (it moves when the query runs again). */
export function isRelative(text) {
  return String(text ?? '').trim().startsWith('now');
}

const pad = (n) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:mm:ss` in the browser's time zone (what the picker shows and takes). */
export function formatTime(ms) {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
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

/** Grafana's quick ranges, as [from, label]; `to` is `now` for all of them. */
export const QUICK_RANGES = [
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

const UNIT_NAMES = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', y: 'year' };

/** What the picker's button says for a range. */
export function describeRange(from, to) {
  if (to === 'now') {
    const quick = QUICK_RANGES.find(([f]) => f === from);
    if (quick) return quick[1];
    const rel = /^now-(\d+)([smhdwy])$/.exec(from);
    if (rel) {
      const n = Number(rel[1]);
      const unit = UNIT_NAMES[rel[2]];
      return `Last ${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  const show = (t) => (/^\d+$/.test(t) ? formatTime(Number(t)) : t);
  return `${show(from)} to ${show(to)}`;
}
