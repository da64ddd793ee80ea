// Grafana's value mappings: a panel's `fieldConfig.defaults.mappings` (or an override's) turn a
// value into display text and a colour, as stat, gauge, bar gauge and table panels show them
// (1 -> "UP" in green, 0 -> "DOWN" in red). The first mapping that matches wins, in the order
// the dashboard lists them. Both shapes Grafana has saved are read: the current one
// ({type: "value" | "range" | "regex" | "special", options}) and the one before Grafana 8
// ({type: 1, value, text} for a value, {type: 2, from, to, text} for a range).

/** Whether a special mapping's `match` holds for `value`. */
function specialMatch(match, value) {
  const isNull = value === null || value === undefined;
  const isNaN = typeof value === 'number' && Number.isNaN(value);
  switch (match) {
    case 'null':
      return isNull;
    case 'nan':
      return isNaN;
    case 'null+nan':
      return isNull || isNaN;
    case 'true':
      return value === true || value === 'true';
    case 'false':
      return value === false || value === 'false';
    case 'empty':
      return value === '';
    default:
      return false;
  }
}

function num(v) {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** The key Grafana matches a value mapping against: a number written as JavaScript writes it. */
function valueKey(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  return null;
}

function result(r) {
  if (!r || typeof r !== 'object') return null;
  const out = {};
  if (typeof r.text === 'string' && r.text !== '') out.text = r.text;
  if (typeof r.color === 'string' && r.color !== '') out.color = r.color;
  return out;
}

/** One mapping's result for `value`, or null when it does not match. */
function applyOne(m, value) {
  if (!m || typeof m !== 'object') return null;
  const o = m.options ?? {};
  if (m.type === 'value') {
    const key = valueKey(value);
    return key !== null && Object.hasOwn(o, key) ? result(o[key]) : null;
  }
  if (m.type === 'range') {
    const v = num(value);
    const from = num(o.from);
    const to = num(o.to);
    if (v === null || (from === null && to === null)) return null;
    return (from === null || v >= from) && (to === null || v <= to) ? result(o.result) : null;
  }
  if (m.type === 'regex') {
    if (typeof o.pattern !== 'string' || value === null || value === undefined) return null;
    let re;
    try {
      const parts = /^\/(.*)\/([gimsuy]*)$/s.exec(o.pattern);
      re = parts ? new RegExp(parts[1], parts[2].replace('g', '')) : new RegExp(o.pattern);
    } catch {
      return null;
    }
    const text = String(value);
    if (!re.test(text)) return null;
    const r = result(o.result) ?? {};
    // Grafana lets the result text use the pattern's groups ($1).
    if (r.text !== undefined) r.text = text.replace(re, r.text);
    return r;
  }
  if (m.type === 'special') {
    return specialMatch(o.match, value) ? result(o.result) : null;
  }
  // Before Grafana 8: {type: 1, value, text} and {type: 2, from, to, text}.
  if (m.type === 1 && m.value !== undefined) {
    const key = valueKey(value);
    if (m.value === 'null') return value === null || value === undefined ? result(m) : null;
    return key !== null && String(m.value) === key ? result(m) : null;
  }
  if (m.type === 2) {
    const v = num(value);
    const from = num(m.from);
    const to = num(m.to);
    if (v === null || (from === null && to === null)) return null;
    return (from === null || v >= from) && (to === null || v <= to) ? result(m) : null;
  }
  return null;
}

/**
 * What `mappings` make of `value`: {text?, color?} from the first mapping that matches, or null.
 * A result without text keeps the value's own formatting; one without colour keeps the
 * threshold colour.
 */
export function mapValue(value, mappings) {
  if (!Array.isArray(mappings)) return null;
  for (const m of mappings) {
    const r = applyOne(m, value);
    if (r) return r;
  }
  return null;
}
