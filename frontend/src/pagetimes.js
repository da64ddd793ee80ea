// Times the server wrote into a page (RFC 3339 in UTC) shown as Explore shows times: in the
// browser's time zone, or in UTC when Explore's "Use local time" is off (this browser's
// choice, kept in localStorage under Explore's key). A `<time datetime=...>` whose text is the
// time itself (`data-show="time"`) gets the time as text; one whose text is something else
// (`3m ago`) gets it as its title. Text only, never markup.
import { readUtc } from './localtime.js';
import { formatTime } from './timerange.js';

/**
 * Milliseconds of a time as the server or an SDK wrote it: RFC 3339 (a time without a zone is
 * UTC, as Sentry reads it) or Unix seconds; null when it is neither.
 */
export function parseStamp(text) {
  const s = String(text ?? '').trim();
  if (!s) return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : ms;
}

/** `ms` as the page shows it: `YYYY-MM-DD HH:mm:ss`, with ` UTC` after it in UTC. */
export function showTime(ms, utc) {
  return utc ? `${formatTime(ms, { utc: true })} UTC` : formatTime(ms);
}

/** Rewrite every `time[datetime]` under `root` for the chosen zone. */
export function localiseTimes(root = document, utc = readUtc()) {
  for (const el of root.querySelectorAll('time[datetime]')) {
    const ms = parseStamp(el.getAttribute('datetime'));
    if (ms === null) continue;
    const shown = showTime(ms, utc);
    if (el.dataset.show === 'time') el.textContent = shown;
    else el.title = shown;
  }
}
