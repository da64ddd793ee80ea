// Grafana's reducers ("calcs"): what stat panels show, legend tables list and the reduce
// transformation computes. Nulls and NaNs are skipped where Grafana skips them.

const finite = (vs) => vs.filter((v) => v !== null && v !== undefined && Number.isFinite(v));

export const REDUCERS = {
  lastNotNull: (vs) => vs.filter((v) => v !== null && v !== undefined && !Number.isNaN(v)).at(-1) ?? null,
  last: (vs) => vs.at(-1) ?? null,
  firstNotNull: (vs) => vs.find((v) => v !== null && v !== undefined && !Number.isNaN(v)) ?? null,
  first: (vs) => vs[0] ?? null,
  mean: (vs) => {
    const xs = finite(vs);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  },
  sum: (vs) => finite(vs).reduce((a, b) => a + b, 0),
  max: (vs) => {
    const xs = finite(vs);
    return xs.length ? Math.max(...xs) : null;
  },
  min: (vs) => {
    const xs = finite(vs);
    return xs.length ? Math.min(...xs) : null;
  },
  count: (vs) => vs.length,
  delta: (vs) => {
    const xs = finite(vs);
    return xs.length ? xs.at(-1) - xs[0] : null;
  },
  range: (vs) => {
    const xs = finite(vs);
    return xs.length ? Math.max(...xs) - Math.min(...xs) : null;
  },
  diff: (vs) => {
    const xs = finite(vs);
    return xs.length ? xs.at(-1) - xs[0] : null;
  },
};
// Names old dashboards and older Grafana versions use for the same reducers.
REDUCERS.avg = REDUCERS.mean;
REDUCERS.current = REDUCERS.lastNotNull;
REDUCERS.total = REDUCERS.sum;

// What Grafana's legends and tables call them (a legend's `sortBy` names one of these).
export const REDUCER_NAMES = {
  lastNotNull: 'Last *',
  last: 'Last',
  firstNotNull: 'First *',
  first: 'First',
  mean: 'Mean',
  sum: 'Total',
  max: 'Max',
  min: 'Min',
  count: 'Count',
  delta: 'Delta',
  range: 'Range',
  diff: 'Difference',
};

/** The reducer id for an id or a display name (`"Mean"`, `"Last *"`), or null. */
export function reducerId(name) {
  if (typeof name !== 'string') return null;
  if (Object.hasOwn(REDUCERS, name)) return name === 'avg' ? 'mean' : name === 'current' ? 'lastNotNull' : name === 'total' ? 'sum' : name;
  for (const [id, label] of Object.entries(REDUCER_NAMES)) if (label.toLowerCase() === name.toLowerCase()) return id;
  return null;
}

/** `values` reduced by the reducer `id` (unknown ids: last non-null, Grafana's default). */
export function reduceValues(id, values) {
  const f = Object.hasOwn(REDUCERS, id) ? REDUCERS[id] : REDUCERS.lastNotNull;
  return f(values);
}
