// Exemplars on a graph, as Prometheus' "Show exemplars" draws them: each exemplar of the query's
// series (/api/v1/query_exemplars over the graph's range) is a small diamond at its time and
// value. Hovering or focusing one shows its series' labels, its own labels and value; one that
// carries a trace id (`trace_id`, `traceID` or `traceId`, the names SDKs write) is a link to
// that trace's page. Diamonds are elements over the plot, not pixels in its canvas, so they
// take the keyboard's focus and a click like any link.
import { formatTime } from './timerange.js';

// The label names a trace id goes by: OpenTelemetry's and Prometheus' `trace_id`, Grafana's and
// Jaeger's `traceID`, and the `traceId` some clients write.
export const TRACE_ID_LABELS = ['trace_id', 'traceID', 'traceId'];
// More markers than this cost the page more than they tell; the status line says how many
// were left out.
export const MAX_SHOWN = 2000;

/** The trace id among an exemplar's `labels`, or null. */
export function traceIdOf(labels) {
  for (const name of TRACE_ID_LABELS) {
    const v = labels?.[name];
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

/** The trace page of `traceId`. */
export function traceHref(traceId) {
  return `/traces/${encodeURIComponent(traceId)}`;
}

/**
 * The exemplars Prometheus' API answers for `query` in [`start`, `end`] (seconds), flattened to
 * [{time (s), value, labels, seriesLabels}]. A query without a selector gets Prometheus' empty
 * 204, which is no exemplars, not an error; an error rejects with the API's message.
 */
export async function queryExemplars(query, start, end, signal) {
  const response = await fetch('/api/v1/query_exemplars', {
    method: 'POST',
    body: new URLSearchParams({ query, start: String(start), end: String(end) }),
    signal,
    headers: { Accept: 'application/json' },
  });
  if (response.status === 204) return [];
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`${response.status} ${response.statusText}`);
  }
  if (body.status !== 'success') throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return flatten(body.data);
}

/** `/api/v1/query_exemplars`' `data` as one list of points. */
export function flatten(data) {
  const out = [];
  for (const group of data ?? []) {
    for (const e of group.exemplars ?? []) {
      const value = Number(e.value);
      const time = Number(e.timestamp);
      if (!Number.isFinite(value) || !Number.isFinite(time)) continue;
      out.push({ time, value, labels: e.labels ?? {}, seriesLabels: group.seriesLabels ?? {} });
    }
  }
  return out;
}

const labelText = (labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');

/**
 * The exemplar markers of one chart (chart.js): give it to the chart as its `overlay`, then
 * `set` the points before each `render`.
 */
export class ExemplarLayer {
  /** @param {{utc?: () => boolean, onHover?: () => void}} options */
  constructor({ utc, onHover } = {}) {
    this.utc = utc ?? (() => false);
    this.onHover = onHover ?? (() => {});
    this.points = [];
    this.layer = null;
  }

  /** The points to draw ([{time, value, labels, seriesLabels, color}]), at most MAX_SHOWN. */
  set(points) {
    this.total = points.length;
    this.points = points.slice(0, MAX_SHOWN);
  }

  /** The values' [min, max], so the y axis takes them in (null: none). */
  extent() {
    if (this.points.length === 0) return null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of this.points) {
      lo = Math.min(lo, p.value);
      hi = Math.max(hi, p.value);
    }
    return [lo, hi];
  }

  clear() {
    this.layer?.remove();
    this.layer = null;
  }

  /** uPlot's draw hook: a marker per point inside the plot's area. */
  draw(u) {
    this.clear();
    if (this.points.length === 0) return;
    const layer = document.createElement('div');
    layer.className = 'exemplar-layer';
    const tip = document.createElement('div');
    tip.className = 'exemplar-tooltip';
    tip.setAttribute('role', 'tooltip');
    tip.hidden = true;
    const { min: x0, max: x1 } = u.scales.x;
    const { min: y0, max: y1 } = u.scales.y;
    for (const p of this.points) {
      if (p.time < x0 || p.time > x1 || p.value < y0 || p.value > y1) continue;
      const traceId = traceIdOf(p.labels);
      const marker = document.createElement(traceId ? 'a' : 'span');
      marker.className = 'exemplar';
      if (traceId) marker.href = traceHref(traceId);
      else marker.tabIndex = 0;
      marker.style.left = `${u.valToPos(p.time, 'x')}px`;
      marker.style.top = `${u.valToPos(p.value, 'y')}px`;
      if (p.color) marker.style.setProperty('--exemplar-color', p.color);
      marker.dataset.traceId = traceId ?? '';
      marker.setAttribute('aria-label', `Exemplar ${labelText(p.labels)}, value ${p.value}`);
      const show = () => this.showTip(tip, marker, p, traceId);
      const hide = () => {
        tip.hidden = true;
      };
      marker.addEventListener('mouseenter', show);
      marker.addEventListener('focus', show);
      marker.addEventListener('mouseleave', hide);
      marker.addEventListener('blur', hide);
      // Over a marker the chart neither moves its cursor nor starts a drag-to-zoom.
      for (const type of ['mousemove', 'mousedown']) marker.addEventListener(type, (ev) => ev.stopPropagation());
      layer.append(marker);
    }
    layer.append(tip);
    u.over.append(layer);
    this.layer = layer;
  }

  showTip(tip, marker, p, traceId) {
    this.onHover();
    const utc = this.utc();
    const row = (name, value, className) => {
      const div = document.createElement('div');
      div.className = className ?? 'exemplar-row';
      const k = document.createElement('span');
      k.className = 'exemplar-key';
      k.textContent = name;
      const v = document.createElement('span');
      v.className = 'exemplar-value';
      v.textContent = value;
      div.append(k, v);
      return div;
    };
    const heading = (text) => {
      const h = document.createElement('div');
      h.className = 'exemplar-heading';
      h.textContent = text;
      return h;
    };
    tip.replaceChildren(
      heading('Exemplar'),
      row('Time', `${formatTime(p.time * 1000, { utc })}${utc ? ' UTC' : ''}`),
      row('Value', String(p.value)),
      heading('Series labels'),
      ...Object.entries(p.seriesLabels).map(([k, v]) => row(k, v)),
      heading('Exemplar labels'),
      ...Object.entries(p.labels).map(([k, v]) => row(k, v)),
    );
    if (traceId) tip.append(heading('Click to open the trace'));
    const x = parseFloat(marker.style.left);
    const y = parseFloat(marker.style.top);
    const width = marker.parentElement?.parentElement?.clientWidth ?? 600;
    tip.style.left = `${x + 280 > width ? Math.max(x - 290, 0) : x + 12}px`;
    tip.style.top = `${Math.max(y - 12, 0)}px`;
    tip.hidden = false;
  }
}
