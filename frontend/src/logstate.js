// The logs page's state in the URL, so a reload or a shared link shows the same lines:
//   /logs?query=<LogQL>&from=now-1h&to=now&limit=1000&direction=backward
// `from`/`to` as Grafana writes them (a zoom writes epoch milliseconds), `limit` the most lines
// asked for (Loki's `limit`, at most its 5,000), `direction` `backward` (newest first) or
// `forward` (oldest first), as Loki's API takes them.

export const LOG_DEFAULTS = { query: '', from: 'now-1h', to: 'now', limit: 1000, direction: 'backward' };
export const MAX_LIMIT = 5000;

/** The state in a query string (`location.search`); bad values fall back to the defaults. */
export function readLogState(search) {
  const p = new URLSearchParams(search);
  const limit = Number(p.get('limit'));
  return {
    query: p.get('query') ?? LOG_DEFAULTS.query,
    from: p.get('from') || LOG_DEFAULTS.from,
    to: p.get('to') || LOG_DEFAULTS.to,
    limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, MAX_LIMIT) : LOG_DEFAULTS.limit,
    direction: (p.get('direction') ?? '').toLowerCase() === 'forward' ? 'forward' : 'backward',
  };
}

/** The query string for `state` (with its leading `?`). */
export function writeLogState(state) {
  const p = new URLSearchParams();
  p.set('query', state.query);
  p.set('from', state.from);
  p.set('to', state.to);
  p.set('limit', String(state.limit));
  p.set('direction', state.direction);
  return `?${p.toString()}`;
}
