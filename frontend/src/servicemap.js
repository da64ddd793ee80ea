// The service map: services as boxes, calls as arrows, laid out callers left and callees right
// (graphlayout.js) and drawn in SVG. The URL holds the range (`from`/`to`) and the open service
// (`service`); the arrows and their call counts come from Jaeger's /api/dependencies, the
// figures from span metrics over the Prometheus API (servicegraph.js says which queries).
// A box opens, on click or Enter, a panel with its figures and links to the trace search, to
// Explore and to its error issues; an arrow is a link to the trace search for the traces crossing that call
// (servicegraph.js's callSearch). Every name is put in as text, never as markup.
import './explore.css';
import './servicemap.css';
import { fetchJson, promApi, QueryError } from './api.js';
import { edgePath, layout, NODE_HEIGHT, NODE_WIDTH } from './graphlayout.js';
import { buildGraph, callSearch, formatRate, formatSeconds, formatShare, mapQueries, promString, SERVED } from './servicegraph.js';
import { formatTime, parseTime } from './timerange.js';
import { TimePicker } from './timepicker.js';

const SVG = 'http://www.w3.org/2000/svg';
// An error share from which a box or an arrow is drawn as failing (below it: as warning).
const FAILING = 0.05;
const DENSE = 12;

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function text(tag, content, className) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

/**
 * `name` in at most `max` characters for a box, cut in the middle: names often differ only at
 * their end (`checkout-worker-1`, `-2`). The whole name is the box's title and in its panel.
 */
export function shorten(name, max = 25) {
  if (name.length <= max) return name;
  const head = Math.ceil((max - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (max - 1 - head))}`;
}

function health(share) {
  if (share === null || share === undefined) return 'unknown';
  if (share >= FAILING) return 'failing';
  return share > 0 ? 'degraded' : 'ok';
}

/** Jaeger's /api/dependencies for the range; rejects with Jaeger's error message. */
async function dependencies(endMs, lookbackMs, signal) {
  const params = new URLSearchParams({ endTs: String(Math.round(endMs)), lookback: String(Math.round(lookbackMs)) });
  const { response, body } = await fetchJson(`/api/dependencies?${params}`, { signal });
  if (!response.ok || body.errors?.length) {
    throw new QueryError(body.errors?.[0]?.msg ?? `${response.status} ${response.statusText}`, 'http');
  }
  return body.data ?? [];
}

/** The services that sent spans (Jaeger's /api/services), or null when it does not answer. */
async function tracedServices(signal) {
  try {
    const { response, body } = await fetchJson('/api/services', { signal });
    return response.ok && Array.isArray(body.data) ? new Set(body.data) : null;
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    return null;
  }
}

class ServiceMap {
  constructor(form) {
    this.form = form;
    this.spanMetrics = form.dataset.spanMetrics === '1';
    this.serviceInput = form.querySelector('input[name=service]');
    this.mapEl = document.getElementById('map');
    this.panel = document.getElementById('service-panel');
    this.errors = document.getElementById('errors');
    this.status = document.getElementById('status');
    this.noData = document.getElementById('no-data');
    this.callsPanel = document.querySelector('.calls-panel');
    this.callsBody = document.querySelector('#calls tbody');
    this.inflight = null;
    this.picker = new TimePicker(form.querySelector('.timepicker'), {
      onChange: (from, to) => {
        this.state.from = from;
        this.state.to = to;
        this.go();
      },
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run();
    });
    window.addEventListener('popstate', () => this.load());
    this.load();
  }

  load() {
    const p = new URLSearchParams(window.location.search);
    this.state = { from: p.get('from') || 'now-1h', to: p.get('to') || 'now', service: p.get('service') ?? '' };
    this.picker.set(this.state.from, this.state.to);
    this.run();
  }

  search() {
    const p = new URLSearchParams({ from: this.state.from, to: this.state.to });
    if (this.state.service) p.set('service', this.state.service);
    return `?${p}`;
  }

  /** The state into the URL (a history entry) and run. */
  go() {
    const search = this.search();
    if (search !== window.location.search) window.history.pushState(null, '', window.location.pathname + search);
    this.run();
  }

  showErrors(messages) {
    this.errors.replaceChildren(...messages.map((m) => text('div', m, 'error')));
    this.errors.hidden = messages.length === 0;
  }

  async run() {
    const now = Date.now();
    const from = parseTime(this.state.from, now);
    const to = parseTime(this.state.to, now, { end: true });
    if (from === null || to === null || from >= to) {
      this.showErrors([from === null || to === null ? 'Invalid time range' : '"From" must be before "To"']);
      return;
    }
    this.range = { from, to };
    this.serviceInput.value = this.state.service;
    if (this.inflight) this.inflight.abort();
    const controller = new AbortController();
    this.inflight = controller;
    this.status.textContent = 'Loading…';
    this.form.setAttribute('aria-busy', 'true');
    const seconds = (to - from) / 1000;
    const queries = this.spanMetrics ? mapQueries(seconds) : {};
    const names = Object.keys(queries);
    const traced = tracedServices(controller.signal).catch(() => null);
    const settled = await Promise.allSettled([
      dependencies(to, to - from, controller.signal),
      ...names.map((n) => promApi('/api/v1/query', { query: queries[n], time: to / 1000 }, controller.signal)),
    ]);
    this.traced = await traced;
    if (controller.signal.aborted) return;
    this.form.removeAttribute('aria-busy');
    const problems = settled.filter((s) => s.status === 'rejected').map((s) => s.reason.message);
    this.showErrors([...new Set(problems)]);
    if (settled[0].status === 'rejected') {
      this.status.textContent = '';
      return;
    }
    let metrics = null;
    if (this.spanMetrics) {
      metrics = {};
      names.forEach((n, i) => {
        const s = settled[i + 1];
        metrics[n] = s.status === 'fulfilled' ? s.value.data.result : [];
      });
    }
    this.graph = buildGraph(settled[0].value, metrics, seconds);
    this.draw();
    this.renderCalls();
    this.openPanel(this.state.service, { push: false });
    const { services, calls } = this.graph;
    const total = calls.reduce((n, c) => n + c.count, 0);
    this.status.textContent = `${services.length} services · ${calls.length} calls between them (${total} in all) · ${formatTime(from)} to ${formatTime(to)}`;
  }

  draw() {
    const { services, calls } = this.graph;
    this.mapEl.replaceChildren();
    this.noData.hidden = services.length > 0;
    if (services.length === 0) return;
    const placed = layout(services.map((s) => s.name), calls);
    const at = new Map(placed.nodes.map((n) => [n.id, n]));
    // Past a dozen arrows their labels cover each other: they show on hover and focus only
    // (the Calls table lists them all).
    const root = svg('svg', {
      class: calls.length > DENSE ? 'map dense' : 'map',
      width: placed.width,
      height: placed.height,
      viewBox: `0 0 ${placed.width} ${placed.height}`,
      role: 'group',
      'aria-label': 'Services and the calls between them',
    });
    const defs = svg('defs');
    for (const state of ['ok', 'degraded', 'failing', 'unknown']) {
      const marker = svg('marker', {
        id: `arrow-${state}`,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
        class: `arrow arrow-${state}`,
      });
      marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z' }));
      defs.append(marker);
    }
    root.append(defs);
    const edges = svg('g', { class: 'edges' });
    for (const c of calls) {
      const state = health(c.errorShare);
      const { d, labelX, labelY } = edgePath(at.get(c.source), at.get(c.target));
      // A link (Tab reaches it, Enter follows it) to the traces that cross this call.
      const link = svg('a', { href: this.callHref(c), class: 'edge-link' });
      const g = svg('g', { class: `edge edge-${state}` });
      g.dataset.source = c.source;
      g.dataset.target = c.target;
      g.dataset.calls = String(c.count);
      const title = svg('title');
      title.textContent = `${c.source} → ${c.target}: ${c.count} calls, ${formatRate(c.rate)}, errors ${formatShare(c.errorShare)}`;
      link.setAttribute('aria-label', `${title.textContent}. Search these traces`);
      // A wide invisible stroke under the line, so the pointer finds a thin arrow.
      g.append(title, svg('path', { d, class: 'edge-hit' }), svg('path', { d, class: 'edge-line', 'marker-end': `url(#arrow-${state})` }));
      const label = svg('text', { x: labelX, y: labelY - 4, class: 'edge-label', 'text-anchor': 'middle' });
      label.textContent = `${c.count} · ${formatRate(c.rate)}`;
      g.append(label);
      if (c.errorShare) {
        const err = svg('text', { x: labelX, y: labelY + 10, class: 'edge-label edge-errors', 'text-anchor': 'middle' });
        err.textContent = `${formatShare(c.errorShare)} errors`;
        g.append(err);
      }
      link.append(g);
      edges.append(link);
    }
    const nodes = svg('g', { class: 'nodes' });
    for (const s of services) {
      const n = at.get(s.name);
      const g = svg('g', {
        class: `node node-${health(s.errorShare)}`,
        transform: `translate(${n.x},${n.y})`,
        tabindex: 0,
        role: 'button',
        'aria-label': `${s.name}: ${formatRate(s.rate)}, errors ${formatShare(s.errorShare)}, p95 ${formatSeconds(s.p95)}`,
      });
      g.dataset.service = s.name;
      const title = svg('title');
      title.textContent = s.name;
      const name = svg('text', { x: 10, y: 22, class: 'node-name' });
      name.textContent = shorten(s.name);
      const figures = svg('text', { x: 10, y: 44, class: 'node-figures' });
      figures.textContent = `${formatRate(s.rate)} · ${formatShare(s.errorShare)} · p95 ${formatSeconds(s.p95)}`;
      g.append(title, svg('rect', { width: NODE_WIDTH, height: NODE_HEIGHT, rx: 3, class: 'node-box' }), name, figures);
      const open = () => this.openPanel(s.name, { push: true });
      g.addEventListener('click', open);
      g.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          open();
        }
      });
      nodes.append(g);
    }
    root.append(edges, nodes);
    this.mapEl.append(root);
  }

  /** The trace search for the traces crossing call `c`, over the map's range. */
  callHref(c) {
    return callSearch(c, this.state.from, this.state.to, this.traced);
  }

  renderCalls() {
    const { calls } = this.graph;
    this.callsPanel.hidden = calls.length === 0;
    this.callsBody.replaceChildren(
      ...calls.map((c) => {
        const tr = document.createElement('tr');
        tr.className = 'call';
        tr.append(
          text('td', c.source, 'caller'),
          text('td', c.target, 'callee'),
          text('td', String(c.count), 'num calls'),
          text('td', formatRate(c.rate), 'num'),
          text('td', formatShare(c.errorShare), 'num'),
        );
        const traces = text('a', 'Traces', 'call-traces');
        traces.href = this.callHref(c);
        traces.setAttribute('aria-label', `Traces from ${c.source} to ${c.target}`);
        const cell = document.createElement('td');
        cell.append(traces);
        tr.append(cell);
        return tr;
      }),
    );
  }

  /** The panel of `name` (none: closed); `push` records it in the URL's history. */
  openPanel(name, { push }) {
    const service = this.graph?.services.find((s) => s.name === name);
    for (const el of this.mapEl.querySelectorAll('.node')) {
      el.classList.toggle('selected', el.dataset.service === name);
      el.setAttribute('aria-pressed', String(el.dataset.service === name));
    }
    if (!service) {
      this.panel.hidden = true;
      return;
    }
    // The panel narrows the map: keep the chosen box in view.
    if (push) this.mapEl.querySelector('.node.selected')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (push && this.state.service !== name) {
      this.state.service = name;
      this.serviceInput.value = name;
      window.history.pushState(null, '', window.location.pathname + this.search());
    }
    const { from, to } = this.state;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'panel-close';
    close.textContent = '×';
    close.setAttribute('aria-label', 'Close');
    close.addEventListener('click', () => {
      const node = this.mapEl.querySelector('.node.selected');
      this.state.service = '';
      this.serviceInput.value = '';
      window.history.pushState(null, '', window.location.pathname + this.search());
      this.openPanel('', { push: false });
      node?.focus();
    });
    const figures = document.createElement('dl');
    figures.className = 'service-figures';
    const fromCalls = service.source === 'calls';
    for (const [term, value] of [
      [fromCalls ? 'Calls in' : 'Requests', formatRate(service.rate)],
      ['Errors', formatShare(service.errorShare)],
      ['p95', formatSeconds(service.p95)],
    ]) {
      figures.append(text('dt', term), text('dd', value));
    }
    const calls = this.graph.calls;
    const callers = calls.filter((c) => c.target === name).map((c) => `${c.source} (${c.count})`);
    const callees = calls.filter((c) => c.source === name).map((c) => `${c.target} (${c.count})`);
    const links = document.createElement('ul');
    links.className = 'service-links';
    const link = (href, label) => {
      const li = document.createElement('li');
      const a = text('a', label);
      a.href = href;
      li.append(a);
      links.append(li);
      return a;
    };
    link(`/traces?${new URLSearchParams({ service: name, from, to })}`, 'Search traces').className = 'traces-link';
    const selector = `{service=${promString(name)}, ${SERVED}}`;
    const explore = new URLSearchParams({
      from,
      to,
      q0: `sum by (span_name) (rate(traces_spanmetrics_calls_total${selector}[5m]))`,
      legend0: '{{span_name}}',
      q1: `histogram_quantile(0.95, sum by (span_name, le) (rate(traces_spanmetrics_duration_seconds_bucket${selector}[5m])))`,
      legend1: 'p95 {{span_name}}',
      exemplars: '1',
    });
    link(`/explore?${explore}`, 'Explore span metrics').className = 'explore-link';
    // The error issues whose Sentry events name this service (a tag or the OTel resource).
    link(`/errors?${new URLSearchParams({ service: name })}`, 'Errors').className = 'errors-link';
    const heading = text('h2', name, 'service-name');
    this.panel.replaceChildren(close, heading, figures);
    if (fromCalls) this.panel.append(text('p', 'No span metrics for this service: the rate of the calls the map shows into it.', 'muted'));
    if (callers.length) this.panel.append(text('p', `Called by ${callers.join(', ')}`, 'service-callers'));
    if (callees.length) this.panel.append(text('p', `Calls ${callees.join(', ')}`, 'service-callees'));
    this.panel.append(links);
    this.panel.hidden = false;
  }
}

const form = document.getElementById('servicemap');
if (form) new ServiceMap(form);
