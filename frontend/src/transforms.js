// Grafana's data frames and the common transformations, applied in the page to the results of
// a panel's queries (the server never sees the data): merge, seriesToColumns/joinByField,
// organize, filterFieldsByName, reduce, labelsToFields, sortBy, limit and calculateField.
// An unknown or failing transformation is skipped with a message, so the panel still draws.
//
// A frame is {name, refId, fields: [{name, type: 'time'|'number'|'string', values, labels}]};
// all fields of a frame hold the same number of values (its rows). Pure functions, no DOM.
import { REDUCER_NAMES, reduceValues, reducerId } from './reducers.js';

const MAX_ROWS = 100000;

function field(name, type, values, labels = {}) {
  return { name, type, values, labels };
}

function rowCount(frame) {
  return frame.fields.reduce((n, f) => Math.max(n, f.values.length), 0);
}

/**
 * Frames from query results ([{refId, metric, name, times (s), values}]).
 * `table`: Grafana's "table" format, one frame per query with a Time column, one column per
 * label and `Value` (`Value #<refId>` when there are several queries), a row per sample;
 * otherwise one frame per series (Time and a value field named like the series, its labels on it).
 */
export function framesFromSeries(series, { table = false } = {}) {
  if (!table) {
    return series.map((s) => ({
      name: s.name,
      refId: s.refId,
      fields: [field('Time', 'time', s.times.map((t) => t * 1000)), field(s.name, 'number', [...s.values], { ...s.metric })],
    }));
  }
  const refs = [...new Set(series.map((s) => s.refId))];
  return refs.map((ref) => {
    const mine = series.filter((s) => s.refId === ref);
    const labels = [...new Set(mine.flatMap((s) => Object.keys(s.metric)))].sort();
    const time = [];
    const value = [];
    const columns = labels.map(() => []);
    for (const s of mine) {
      s.times.forEach((t, i) => {
        time.push(t * 1000);
        value.push(s.values[i]);
        labels.forEach((l, j) => columns[j].push(s.metric[l] ?? ''));
      });
    }
    return {
      name: ref,
      refId: ref,
      fields: [
        field('Time', 'time', time),
        ...labels.map((l, j) => field(l, 'string', columns[j])),
        field(refs.length > 1 ? `Value #${ref}` : 'Value', 'number', value),
      ],
    };
  });
}

function rowsOf(frame) {
  const n = rowCount(frame);
  const rows = [];
  for (let i = 0; i < n; i++) rows.push(frame.fields.map((f) => f.values[i] ?? null));
  return rows;
}

function fromRows(name, refId, fields, rows) {
  return {
    name,
    refId,
    fields: fields.map((f, j) => ({ ...f, values: rows.map((r) => r[j] ?? null) })),
  };
}

function isKeyType(f) {
  return f.type === 'string' || f.type === 'time';
}

// -- the transformations ------------------------------------------------------------------

/** Every frame in one table; rows whose shared key fields (time and text) agree become one. */
function merge(frames) {
  if (frames.length <= 1) return frames;
  const fields = [];
  const index = new Map();
  for (const fr of frames) {
    for (const f of fr.fields) {
      if (!index.has(f.name)) {
        index.set(f.name, fields.length);
        fields.push({ name: f.name, type: f.type, labels: {} });
      }
    }
  }
  const keyNames = fields
    .filter((f) => isKeyType(f) && frames.every((fr) => fr.fields.some((g) => g.name === f.name)))
    .map((f) => f.name);
  const rows = [];
  const byKey = new Map();
  for (const fr of frames) {
    for (const r of rowsOf(fr)) {
      const row = new Array(fields.length).fill(null);
      fr.fields.forEach((f, j) => {
        row[index.get(f.name)] = r[j];
      });
      const key = JSON.stringify(keyNames.map((k) => row[index.get(k)]));
      const into = byKey.get(key);
      const clash = into && row.some((v, j) => v !== null && into[j] !== null && into[j] !== v);
      if (into && !clash) {
        row.forEach((v, j) => {
          if (v !== null) into[j] = v;
        });
      } else {
        rows.push(row);
        if (!into) byKey.set(key, row);
      }
    }
  }
  return [fromRows('Merged', frames[0].refId, fields, rows.slice(0, MAX_ROWS))];
}

/** Outer join of every frame on one field (Time by default): its fields side by side. */
function joinByField(frames, options) {
  const by = options?.byField || 'Time';
  const inner = options?.mode === 'inner';
  const withKey = frames.filter((fr) => fr.fields.some((f) => f.name === by));
  if (withKey.length === 0) return frames;
  const keyField = withKey[0].fields.find((f) => f.name === by);
  const fields = [{ name: by, type: keyField.type, labels: {} }];
  const parts = withKey.map((fr) => {
    const k = fr.fields.findIndex((f) => f.name === by);
    const others = fr.fields.filter((_, j) => j !== k);
    const start = fields.length;
    for (const f of others) fields.push({ name: f.name, type: f.type, labels: f.labels ?? {} });
    return { fr, k, others, start };
  });
  const rows = new Map();
  parts.forEach(({ fr, k, others, start }, p) => {
    const n = rowCount(fr);
    for (let i = 0; i < n; i++) {
      const key = fr.fields[k].values[i];
      let row = rows.get(key);
      if (!row) {
        row = { cells: new Array(fields.length).fill(null), seen: new Set() };
        row.cells[0] = key;
        rows.set(key, row);
      }
      row.seen.add(p);
      others.forEach((f, j) => {
        row.cells[start + j] = f.values[i] ?? null;
      });
    }
  });
  let out = [...rows.values()];
  if (inner) out = out.filter((r) => r.seen.size === parts.length);
  out.sort((a, b) => (a.cells[0] < b.cells[0] ? -1 : a.cells[0] > b.cells[0] ? 1 : 0));
  return [fromRows('Joined', frames[0].refId, fields, out.map((r) => r.cells))];
}

/** Hide, order and rename fields by name. */
function organize(frames, options) {
  const exclude = options?.excludeByName ?? {};
  const order = options?.indexByName ?? {};
  const rename = options?.renameByName ?? {};
  return frames.map((fr) => {
    const kept = fr.fields.filter((f) => exclude[f.name] !== true);
    const positioned = kept
      .map((f, i) => ({ f, i, at: Number.isFinite(order[f.name]) ? order[f.name] : Infinity }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .map(({ f }) => f);
    return {
      ...fr,
      // A renamed field remembers its name, which data links (`${__data.fields.<name>}`) use.
      fields: positioned.map((f) => (typeof rename[f.name] === 'string' && rename[f.name] ? { ...f, name: rename[f.name], origin: f.origin ?? f.name } : f)),
    };
  });
}

function nameMatcher(spec) {
  if (!spec || typeof spec !== 'object') return null;
  const names = Array.isArray(spec.names) ? spec.names : [];
  let pattern = null;
  if (typeof spec.pattern === 'string' && spec.pattern) pattern = new RegExp(spec.pattern);
  return (name) => names.includes(name) || (pattern !== null && pattern.test(name));
}

/** Keep the fields named (or matching a pattern) in `include`, drop those in `exclude`. */
function filterFieldsByName(frames, options) {
  const include = nameMatcher(options?.include);
  const exclude = nameMatcher(options?.exclude);
  return frames.map((fr) => ({
    ...fr,
    fields: fr.fields.filter((f) => (!include || include(f.name)) && !(exclude && exclude(f.name))),
  }));
}

/** Each number field reduced: a row per field (`seriesToRows`), or each frame to one row. */
function reduce(frames, options) {
  const reducers = (Array.isArray(options?.reducers) && options.reducers.length ? options.reducers : ['max'])
    .map((r) => reducerId(r) ?? r);
  if (options?.mode === 'reduceFields') {
    return frames.map((fr) => ({
      ...fr,
      fields: fr.fields
        .filter((f) => f.type !== 'time')
        .map((f) =>
          f.type === 'number'
            ? { ...f, values: [reduceValues(reducers[0], f.values)] }
            : { ...f, values: f.values.length ? [f.values.at(-1)] : [] },
        ),
    }));
  }
  const numeric = frames.flatMap((fr) => fr.fields.filter((f) => f.type === 'number'));
  const withLabels = options?.labelsToFields === true;
  const labelNames = withLabels ? [...new Set(numeric.flatMap((f) => Object.keys(f.labels ?? {})))].sort() : [];
  const fields = [
    field('Field', 'string', numeric.map((f) => f.name)),
    ...labelNames.map((l) => field(l, 'string', numeric.map((f) => f.labels?.[l] ?? ''))),
    ...reducers.map((r) => field(REDUCER_NAMES[r] ?? r, 'number', numeric.map((f) => reduceValues(r, f.values)))),
  ];
  return [{ name: 'Reduced', refId: frames[0]?.refId ?? 'A', fields }];
}

/** Labels of each series' value field become text columns, one row per sample. */
function labelsToFields(frames, options) {
  const keep = Array.isArray(options?.keepLabels) && options.keepLabels.length ? new Set(options.keepLabels) : null;
  const valueLabel = typeof options?.valueLabel === 'string' ? options.valueLabel : '';
  return frames.map((fr) => {
    const out = [];
    for (const f of fr.fields) {
      if (f.type !== 'number' || !f.labels || Object.keys(f.labels).length === 0) {
        out.push(f);
        continue;
      }
      const n = f.values.length;
      const names = Object.keys(f.labels).filter((l) => l !== '__name__' && (!keep || keep.has(l)) && l !== valueLabel).sort();
      for (const l of names) if (!out.some((g) => g.name === l)) out.push(field(l, 'string', new Array(n).fill(f.labels[l])));
      const name = valueLabel && f.labels[valueLabel] !== undefined ? f.labels[valueLabel] : 'Value';
      out.push({ ...f, name, labels: {} });
    }
    return { ...fr, fields: out };
  });
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Rows ordered by one field (`sort: [{field, desc}]`). */
function sortBy(frames, options) {
  const spec = Array.isArray(options?.sort) ? options.sort[0] : null;
  if (!spec?.field) return frames;
  return frames.map((fr) => {
    const k = fr.fields.findIndex((f) => f.name === spec.field);
    if (k < 0) return fr;
    const rows = rowsOf(fr).sort((a, b) => compare(a[k], b[k]) * (spec.desc ? -1 : 1));
    return fromRows(fr.name, fr.refId, fr.fields, rows);
  });
}

/** The first `limitField` rows (Grafana's default: 10). */
function limit(frames, options) {
  const n = Number.isFinite(options?.limitField) ? Math.max(options.limitField, 0) : 10;
  return frames.map((fr) => ({ ...fr, fields: fr.fields.map((f) => ({ ...f, values: f.values.slice(0, n) })) }));
}

const BINARY = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '^': (a, b) => a ** b,
};

/** A new field from two others (`binary`) or from a row's fields (`reduceRow`). */
function calculateField(frames, options) {
  const mode = options?.mode ?? 'reduceRow';
  return frames.map((fr) => {
    const n = rowCount(fr);
    let values;
    let name;
    if (mode === 'binary') {
      const { left, operator = '+', right } = options.binary ?? {};
      const op = BINARY[operator];
      if (!op) throw new Error(`operator ${String(operator)} is not supported`);
      const operand = (x) => {
        const f = fr.fields.find((g) => g.name === x);
        if (f) return (i) => f.values[i];
        const num = Number(x);
        if (x !== undefined && x !== '' && Number.isFinite(num)) return () => num;
        return () => null;
      };
      const [l, r] = [operand(left), operand(right)];
      values = Array.from({ length: n }, (_, i) => {
        const a = l(i);
        const b = r(i);
        return typeof a === 'number' && typeof b === 'number' ? op(a, b) : null;
      });
      name = `${left ?? ''} ${operator} ${right ?? ''}`;
    } else if (mode === 'reduceRow') {
      const reducer = reducerId(options?.reduce?.reducer) ?? 'sum';
      const include = Array.isArray(options?.reduce?.include) && options.reduce.include.length ? new Set(options.reduce.include) : null;
      const fields = fr.fields.filter((f) => f.type === 'number' && (!include || include.has(f.name)));
      values = Array.from({ length: n }, (_, i) => reduceValues(reducer, fields.map((f) => f.values[i] ?? null)));
      name = REDUCER_NAMES[reducer] ?? reducer;
    } else {
      throw new Error(`mode ${String(mode)} is not supported`);
    }
    const out = field(typeof options?.alias === 'string' && options.alias ? options.alias : name, 'number', values);
    const kept = options?.replaceFields === true ? fr.fields.filter((f) => f.type === 'time') : fr.fields;
    return { ...fr, fields: [...kept, out] };
  });
}

export const TRANSFORMATIONS = {
  merge,
  seriesToColumns: joinByField,
  joinByField,
  organize,
  filterFieldsByName,
  reduce,
  labelsToFields,
  sortBy,
  limit,
  calculateField,
};

/**
 * `frames` through each transformation in order: {frames, messages}. A disabled one is
 * skipped; an unknown or failing one is skipped with a message saying so.
 */
export function applyTransformations(frames, transformations) {
  let out = frames;
  const messages = [];
  for (const t of Array.isArray(transformations) ? transformations : []) {
    if (!t || typeof t !== 'object' || t.disabled === true) continue;
    const id = typeof t.id === 'string' ? t.id : '';
    const f = Object.hasOwn(TRANSFORMATIONS, id) ? TRANSFORMATIONS[id] : null;
    if (!f) {
      messages.push(`Transformation ${id || '(none)'} is not supported by Spyglass; it was skipped`);
      continue;
    }
    try {
      out = f(out, t.options ?? {});
    } catch (err) {
      messages.push(`Transformation ${id} failed: ${err.message}; it was skipped`);
    }
  }
  return { frames: out, messages };
}

/** One table from several frames: every field by name, each frame's rows after the last's. */
export function concatFrames(frames) {
  if (frames.length === 1) return frames[0];
  const fields = [];
  const index = new Map();
  for (const fr of frames) {
    for (const f of fr.fields) {
      if (!index.has(f.name)) {
        index.set(f.name, fields.length);
        fields.push({ name: f.name, type: f.type, labels: f.labels ?? {} });
      }
    }
  }
  const rows = [];
  for (const fr of frames) {
    for (const r of rowsOf(fr)) {
      const row = new Array(fields.length).fill(null);
      fr.fields.forEach((f, j) => {
        row[index.get(f.name)] = r[j];
      });
      rows.push(row);
    }
  }
  return fromRows('', frames[0]?.refId ?? 'A', fields, rows);
}
