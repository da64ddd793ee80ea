// The list of log lines: one row per line with its time, level colour, stream labels and text;
// a row opens (a <details>, so Enter and Space open it too) to the line's fields: its stream
// labels, its structured metadata and extracted labels, and the JSON or logfmt fields of its
// text, each with "filter for value" and "filter out value" buttons, and a link to its trace.
// Everything from the data goes in as text, never as HTML. A row's fields are built when it is
// first opened, so five thousand rows cost one element tree each.
import { levelOf, parseLine, traceIdOf } from './logfields.js';
import { formatTime } from './timerange.js';

export const LEVEL_COLOURS = {
  critical: '#705da0',
  error: '#e24d42',
  warning: '#eab839',
  info: '#7eb26d',
  debug: '#1f78c1',
  trace: '#6ed0e0',
  unknown: '#8e8e99',
};

const pad3 = (n) => String(n).padStart(3, '0');

/** An entry's time as `YYYY-MM-DD HH:mm:ss.SSS`, from its nanosecond timestamp (a string). */
export function formatLogTime(ns, { utc = false } = {}) {
  const ms = nsToMs(ns);
  return `${formatTime(ms, { utc })}.${pad3(((ms % 1000) + 1000) % 1000)}`;
}

/** Epoch milliseconds of a nanosecond timestamp written as a decimal string (cut, not rounded). */
export function nsToMs(ns) {
  return ns.length > 6 ? Number(ns.slice(0, -6)) : 0;
}

/** Order of nanosecond timestamps written as decimal strings (no precision lost). */
export function compareNs(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Loki's streams as entries [{ts, line, labels}], newest first (`backward`) or oldest first. */
export function entriesOf(streams, direction = 'backward') {
  const out = [];
  for (const s of streams) {
    for (const [ts, line] of s.values) out.push({ ts, line, labels: s.stream });
  }
  const sign = direction === 'forward' ? 1 : -1;
  return out.sort((a, b) => sign * compareNs(a.ts, b.ts));
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const labelText = (names, labels) => names.map((k) => `${k}=${labels[k]}`).join(' ');

export class LogLines {
  /**
   * @param {HTMLElement} root the list's element
   * @param {{onFilter: (f: {kind: string, name: string, value: string, op: string,
   *   parser: string|null}) => void, utc: () => boolean}} options
   *   `onFilter` hears a "filter for/out value" click: `kind` is `stream` (a stream label),
   *   `label` (structured metadata or an extracted label) or `field` (parsed from the text by
   *   `parser`), `op` is `=` or `!=`.
   */
  constructor(root, { onFilter, utc }) {
    this.root = root;
    this.onFilter = onFilter;
    this.utc = utc ?? (() => false);
    this.streamNames = null;
    this.count = 0;
    // The lines of one stream share its labels object: their text is worked out once.
    this.labelTexts = new WeakMap();
  }

  /** Replace the list with `entries`; `streamNames` (a Set, or null: unknown) are stream labels. */
  render(entries, { streamNames = null } = {}) {
    this.setStreamNames(streamNames);
    const frag = document.createDocumentFragment();
    for (const entry of entries) frag.append(this.row(entry));
    this.root.replaceChildren(frag);
    this.count = entries.length;
  }

  /** Which labels are stream labels from now on (a Set, or null: unknown, all of them). */
  setStreamNames(names) {
    this.streamNames = names;
    this.labelTexts = new WeakMap();
  }

  /** Put `entries` (newest first) above the rows there, keeping at most `max` rows. */
  prepend(entries, max) {
    const frag = document.createDocumentFragment();
    for (const entry of entries) frag.append(this.row(entry));
    this.root.prepend(frag);
    this.count += entries.length;
    while (this.count > max && this.root.lastElementChild) {
      this.root.lastElementChild.remove();
      this.count -= 1;
    }
  }

  clear() {
    this.root.replaceChildren();
    this.count = 0;
  }

  /** The names of `labels` that are stream labels (all of them while that is unknown). */
  streamLabelNames(labels) {
    const names = Object.keys(labels).sort();
    return this.streamNames ? names.filter((k) => this.streamNames.has(k)) : names;
  }

  row(entry) {
    // The line's text is parsed only when its labels do not say its level, or it may carry a
    // trace id the labels do not: most rows of a labelled stream skip JSON.parse entirely.
    let parsed = null;
    const fieldsOf = () => {
      parsed ??= parseLine(entry.line);
      // No prototype: a field may be called `constructor`. As in Loki, the first of a name wins.
      const fields = Object.create(null);
      for (const [k, v] of parsed.fields) if (!(k in fields)) fields[k] = v;
      return fields;
    };
    let level = levelOf(entry.labels, {}, '');
    let trace = traceIdOf(entry.labels, {});
    if (level === 'unknown' || (trace === null && /trace/i.test(entry.line))) {
      const fields = fieldsOf();
      if (level === 'unknown') level = levelOf(entry.labels, fields, entry.line);
      trace ??= traceIdOf(entry.labels, fields);
    }
    const row = el('details', `log-row level-${level}`);
    row.dataset.level = level;
    const summary = el('summary');
    const time = el('time', 'log-time', formatLogTime(entry.ts, { utc: this.utc() }));
    let labels = this.labelTexts.get(entry.labels);
    if (labels === undefined) {
      labels = labelText(this.streamLabelNames(entry.labels), entry.labels);
      this.labelTexts.set(entry.labels, labels);
    }
    summary.append(time, el('span', 'log-labels', labels), el('span', 'log-line', entry.line));
    summary.title = `level: ${level}`;
    if (trace) summary.append(traceLink(trace, 'log-trace'));
    row.append(summary);
    row.addEventListener('toggle', () => {
      if (row.open && row.childElementCount === 1) {
        parsed ??= parseLine(entry.line);
        row.append(this.details(entry, parsed, trace));
      }
    });
    return row;
  }

  /** The fields of an opened row, grouped by where they come from. */
  details(entry, parsed, trace) {
    const box = el('div', 'log-details');
    if (trace) {
      const p = el('p', 'log-trace-row', 'Trace: ');
      p.append(traceLink(trace, 'log-trace-link', trace));
      box.append(p);
    }
    const table = el('table', 'log-fields');
    const body = table.createTBody();
    const stream = this.streamLabelNames(entry.labels);
    const streamSet = new Set(stream);
    const other = Object.keys(entry.labels).sort().filter((k) => !streamSet.has(k));
    // A field the query already extracted shows once, as its label.
    const seen = new Set(Object.keys(entry.labels));
    const fields = [];
    for (const [k, v] of parsed.fields) {
      if (seen.has(k) || seen.has(`${k}_extracted`)) continue;
      seen.add(k);
      fields.push([k, v]);
    }
    const group = (title, rows, kind) => {
      if (rows.length === 0) return;
      const head = body.insertRow();
      head.className = 'log-fields-group';
      const th = el('th', '', title);
      th.colSpan = 3;
      th.scope = 'colgroup';
      head.append(th);
      for (const [name, value] of rows) body.append(this.fieldRow(kind, name, value, parsed.parser));
    };
    group(this.streamNames ? 'Stream labels' : 'Labels', stream.map((k) => [k, entry.labels[k]]), this.streamNames ? 'stream' : 'label');
    group('Structured metadata and extracted labels', other.map((k) => [k, entry.labels[k]]), 'label');
    group(`Fields parsed from the line (${parsed.parser})`, fields, 'field');
    box.append(table);
    return box;
  }

  fieldRow(kind, name, value, parser) {
    const tr = el('tr', `log-field log-field-${kind}`);
    const th = el('th', 'log-field-name', name);
    th.scope = 'row';
    const td = el('td', 'log-field-value', value);
    const actions = el('td', 'log-field-actions');
    for (const [op, className, text, verb] of [
      ['=', 'filter-for', '+', 'Filter for value'],
      ['!=', 'filter-out', '−', 'Filter out value'],
    ]) {
      const b = el('button', className, text);
      b.type = 'button';
      b.title = verb;
      b.setAttribute('aria-label', `${verb} ${name}=${value}`);
      b.addEventListener('click', () => this.onFilter({ kind, name, value, op, parser: kind === 'field' ? parser : null }));
      actions.append(b);
    }
    tr.append(th, td, actions);
    return tr;
  }
}

function traceLink(id, className, text = 'Trace') {
  const a = el('a', className, text);
  a.href = `/traces/${encodeURIComponent(id)}`;
  a.title = `Open trace ${id}`;
  return a;
}
