// The trace search: the server renders the URL's search into a plain GET form; this script
// fills the service and operation choices from Jaeger's query API (`/api/services`,
// `/api/services/<s>/operations`), runs the search against `/api/traces` (no search of its
// own), and draws each trace found as a point on a duration-over-time scatter and as a row of
// the list, linked to its waterfall. Submitting the form (or picking a time range) loads the
// page at the new URL, so every search is a link. Times show in the browser's zone, or in UTC
// when Explore's "Use local time" is unticked (localtime.js), as on the Explore and logs pages.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './explore.css';
import './traces.css';
import { readUtc } from './localtime.js';
import { parseTime, formatTime } from './timerange.js';
import { TimePicker } from './timepicker.js';
import { formatMicros, searchParams, sortSummaries, summarise } from './tracesummary.js';

const form = document.getElementById('trace-search');
const serviceEl = document.getElementById('service');
const operationEl = document.getElementById('operation');
const statusEl = document.getElementById('status');
const errorsEl = document.getElementById('errors');
const resultsEl = document.getElementById('results');
const noDataEl = document.getElementById('no-data');
const scatterEl = document.getElementById('scatter');
const plotEl = document.getElementById('scatter-plot');
const picker = new TimePicker(form.querySelector('.timepicker'), { onChange: () => go(), utc: readUtc });
const initialFrom = form.elements.from.value || 'now-1h';
const initialTo = form.elements.to.value || 'now';
picker.set(initialFrom, initialTo);

/** GET a Jaeger query API path; its `data`, or an Error with Jaeger's message. */
async function jaeger(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : '';
  let response;
  try {
    response = await fetch(path + query, { headers: { Accept: 'application/json' } });
  } catch (err) {
    throw new Error(`cannot reach Spyglass: ${err.message}`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok || !body) {
    throw new Error(body?.errors?.[0]?.msg ?? `${response.status} ${response.statusText}`);
  }
  return body.data ?? [];
}

function option(value, text, selected) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  o.selected = selected;
  return o;
}

async function fillServices() {
  const chosen = serviceEl.value;
  const names = await jaeger('/api/services');
  const all = [...new Set([...names, ...(chosen ? [chosen] : [])])].sort();
  serviceEl.replaceChildren(option('', 'Choose a service', !chosen), ...all.map((n) => option(n, n, n === chosen)));
}

async function fillOperations() {
  const chosen = operationEl.value;
  const service = serviceEl.value;
  const names = service ? await jaeger(`/api/services/${encodeURIComponent(service)}/operations`) : [];
  const all = [...new Set([...names, ...(chosen ? [chosen] : [])])].sort();
  operationEl.replaceChildren(option('', 'All operations', !chosen), ...all.map((n) => option(n, n, n === chosen)));
}

/** The form's state as the URL's query (default values left out), and go there. */
function go() {
  const range = picker.read();
  if (!range) return;
  const params = new URLSearchParams();
  for (const name of ['service', 'operation', 'tags', 'minDuration', 'maxDuration']) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  if (form.elements.limit.value && form.elements.limit.value !== '20') params.set('limit', form.elements.limit.value);
  if (form.elements.sort.value !== 'recent') params.set('sort', form.elements.sort.value);
  params.set('from', range[0]);
  params.set('to', range[1]);
  window.location.assign(`/traces?${params}`);
}

function showError(message) {
  errorsEl.textContent = message;
  errorsEl.className = 'error';
  errorsEl.hidden = false;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function row(s, longest) {
  const li = el('li', `trace-result${s.errors ? ' has-errors' : ''}`);
  li.dataset.trace = s.traceID;
  const head = el('div', 'trace-result-head');
  const link = el('a', 'trace-title');
  link.href = `/traces/${encodeURIComponent(s.traceID)}`;
  link.append(el('span', 'trace-service', s.service), ': ', el('span', 'trace-operation', s.operation));
  head.append(link, el('span', 'trace-id mono', s.traceID.slice(0, 7)), el('span', 'trace-duration', formatMicros(s.durationUs)));
  const bar = el('div', 'trace-result-bar');
  const fill = el('span');
  fill.style.width = `${Math.max((s.durationUs / longest) * 100, 0.5)}%`;
  bar.append(fill);
  const facts = el('div', 'trace-result-facts');
  facts.append(el('span', 'trace-spans', `${s.spans} span${s.spans === 1 ? '' : 's'}`));
  if (s.errors) facts.append(el('span', 'trace-errors', `${s.errors} error${s.errors === 1 ? '' : 's'}`));
  const services = el('ul', 'trace-result-services');
  services.setAttribute('aria-label', 'Services');
  for (const [name, count] of s.services) services.append(el('li', 'service-chip', `${name} (${count})`));
  const utc = readUtc();
  const started = el('time', 'trace-start', `${formatTime(s.startUs / 1000, { utc })}${utc ? ' UTC' : ''}`);
  started.dateTime = new Date(s.startUs / 1000).toISOString();
  facts.append(services, started);
  li.append(head, bar, facts);
  return li;
}

let plot = null;

function scatter(summaries, startMs, endMs) {
  plot?.destroy();
  // On the searched range, not the traces' own span, so where they fall in it shows.
  const points = [...summaries].sort((a, b) => a.startUs - b.startUs);
  const xs = points.map((s) => s.startUs / 1e6);
  const ok = points.map((s) => (s.errors ? null : s.durationUs / 1000));
  const bad = points.map((s) => (s.errors ? s.durationUs / 1000 : null));
  const dots = (color) => ({ stroke: color, fill: color, paths: () => null, points: { show: true, size: 9, fill: color } });
  const opts = {
    width: Math.max(plotEl.clientWidth, 200),
    height: 200,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 11 } },
    ...(readUtc() ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') } : {}),
    scales: { x: { time: true, range: () => [startMs / 1000, endMs / 1000] }, y: { range: (u, min, max) => [0, Math.max(max, 1) * 1.1] } },
    axes: [
      { stroke: '#9fa7b3', grid: { stroke: 'rgba(204,204,220,0.08)' } },
      { stroke: '#9fa7b3', grid: { stroke: 'rgba(204,204,220,0.08)' }, size: 70, values: (u, vals) => vals.map((v) => formatMicros(v * 1000)) },
    ],
    series: [{}, { label: 'traces', ...dots('#6ed0e0') }, { label: 'with errors', ...dots('#f2495c') }],
  };
  plot = new uPlot(opts, [xs, ok, bad], plotEl);
  plot.over.addEventListener('click', () => {
    const i = plot.cursor.idx;
    if (i !== null && i !== undefined && points[i]) window.location.assign(`/traces/${encodeURIComponent(points[i].traceID)}`);
  });
  plot.over.title = 'Click a point to open its trace';
}

async function search() {
  const state = Object.fromEntries(['service', 'operation', 'tags', 'minDuration', 'maxDuration', 'limit'].map((k) => [k, form.elements[k].value]));
  if (!state.service) return;
  const now = Date.now();
  const utc = readUtc();
  const start = parseTime(initialFrom, now, { utc });
  const end = parseTime(initialTo, now, { end: true, utc });
  if (start === null || end === null) {
    showError(`Invalid time range: ${initialFrom} to ${initialTo}`);
    return;
  }
  statusEl.textContent = 'Searching…';
  let traces;
  try {
    traces = await jaeger('/api/traces', searchParams(state, start, end));
  } catch (err) {
    statusEl.textContent = '';
    showError(err.message);
    return;
  }
  const summaries = sortSummaries(traces.map(summarise), form.elements.sort.value);
  const n = summaries.length;
  statusEl.textContent = `${n} trace${n === 1 ? '' : 's'}${n >= Number(state.limit) ? ` (the limit: raise it to see more)` : ''}`;
  noDataEl.hidden = n > 0;
  resultsEl.hidden = n === 0;
  scatterEl.hidden = n === 0;
  const longest = Math.max(1, ...summaries.map((s) => s.durationUs));
  resultsEl.replaceChildren(...summaries.map((s) => row(s, longest)));
  if (n) scatter(summaries, start, end);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  go();
});
serviceEl.addEventListener('change', () => {
  operationEl.value = '';
  fillOperations().catch((err) => showError(err.message));
});
window.addEventListener('resize', () => plot?.setSize({ width: Math.max(plotEl.clientWidth, 200), height: 200 }));
fillServices()
  .then(fillOperations)
  .catch((err) => showError(err.message));
search();
