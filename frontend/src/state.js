// Explore's whole state in the URL, so a reload or a shared link shows the same thing:
//   /explore?from=now-1h&to=now&step=&mode=graph&stacked=0&q0=<expr>&legend0=<format>&q1=...
// `from`/`to` as Grafana writes them, `step` empty for auto, one `qN`/`legendN` pair per query.

export const DEFAULTS = { from: 'now-1h', to: 'now', step: '', mode: 'graph', stacked: false };

/** The state in a query string (`location.search`). */
export function readState(search) {
  const p = new URLSearchParams(search);
  const indices = [];
  for (const key of p.keys()) {
    const m = /^q(\d+)$/.exec(key);
    if (m) indices.push(Number(m[1]));
  }
  indices.sort((a, b) => a - b);
  const queries = indices.map((i) => ({
    expr: p.get(`q${i}`) ?? '',
    legend: p.get(`legend${i}`) ?? '',
  }));
  if (queries.length === 0) queries.push({ expr: '', legend: '' });
  return {
    queries,
    from: p.get('from') || DEFAULTS.from,
    to: p.get('to') || DEFAULTS.to,
    step: p.get('step') ?? DEFAULTS.step,
    mode: p.get('mode') === 'table' ? 'table' : 'graph',
    stacked: p.get('stacked') === '1',
  };
}

/** The query string for `state` (with its leading `?`). */
export function writeState(state) {
  const p = new URLSearchParams();
  p.set('from', state.from);
  p.set('to', state.to);
  if (state.step) p.set('step', state.step);
  p.set('mode', state.mode);
  if (state.stacked) p.set('stacked', '1');
  state.queries.forEach((q, i) => {
    p.set(`q${i}`, q.expr);
    if (q.legend) p.set(`legend${i}`, q.legend);
  });
  return `?${p.toString()}`;
}
