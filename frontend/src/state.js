// Explore's whole state in the URL, so a reload or a shared link shows the same thing:
//   /explore?from=now-1h&to=now&step=&mode=graph&stacked=0&time=&refresh=5s&exemplars=1
//            &q0=<expr>&legend0=<format>&q1=...&hide=A:<series>&hide=...
// `from`/`to` as Grafana writes them, `step` empty for auto, `time` the table's evaluation time
// (empty: the range's end), `refresh` Grafana's auto-refresh interval (absent: off), one
// `qN`/`legendN` pair per query, `exemplars=1` when the graph shows exemplars (Prometheus'
// "Show exemplars"). Series hidden in the legend are `hide` values, or `show` values
// when fewer are shown than hidden (an isolated series is one `show`, not 199 `hide`s); each
// names a series as its query's letter and its labels: `A:up{job="api"}`.

export const DEFAULTS = {
  from: 'now-1h',
  to: 'now',
  step: '',
  mode: 'graph',
  stacked: false,
  time: '',
  refresh: '',
  exemplars: false,
};

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
  const show = p.getAll('show');
  return {
    queries,
    from: p.get('from') || DEFAULTS.from,
    to: p.get('to') || DEFAULTS.to,
    step: p.get('step') ?? DEFAULTS.step,
    mode: p.get('mode') === 'table' ? 'table' : 'graph',
    stacked: p.get('stacked') === '1',
    time: p.get('time') ?? DEFAULTS.time,
    refresh: p.get('refresh') ?? DEFAULTS.refresh,
    exemplars: p.get('exemplars') === '1',
    // `show` wins: it is what a legend click that isolates a series writes.
    visibility: show.length ? { show } : { hide: p.getAll('hide') },
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
  if (state.time) p.set('time', state.time);
  if (state.refresh) p.set('refresh', state.refresh);
  if (state.exemplars) p.set('exemplars', '1');
  state.queries.forEach((q, i) => {
    p.set(`q${i}`, q.expr);
    if (q.legend) p.set(`legend${i}`, q.legend);
  });
  const { show, hide } = state.visibility ?? {};
  for (const key of show ?? []) p.append('show', key);
  if (!show) for (const key of hide ?? []) p.append('hide', key);
  return `?${p.toString()}`;
}

/**
 * The URL form of the legend's hidden series: `{hide}`, or `{show}` when that is shorter.
 * `keys` are every drawn series' keys, `hidden` the set of hidden ones.
 */
export function visibilityOf(keys, hidden) {
  const hide = keys.filter((k) => hidden.has(k));
  const shown = keys.length - hide.length;
  if (shown > 0 && hide.length > 1 && hide.length > shown) {
    return { show: keys.filter((k) => !hidden.has(k)) };
  }
  return { hide };
}

/** The hidden keys among `keys` that `visibility` (from the URL) asks for. */
export function hiddenOf(keys, visibility) {
  if (visibility?.show) {
    const show = new Set(visibility.show);
    // None of them drawn any more (the query changed): show everything rather than nothing.
    if (!keys.some((k) => show.has(k))) return new Set();
    return new Set(keys.filter((k) => !show.has(k)));
  }
  const hide = new Set(visibility?.hide ?? []);
  return new Set(keys.filter((k) => hide.has(k)));
}
