// The logs page: a LogQL query against this server's Loki API, as Grafana's Explore shows Loki.
// A log query shows a histogram of its matching lines over time (bars stacked by level) and the
// lines themselves; a metric query draws a graph. Live tail streams new lines in over Loki's
// tail websocket. The server renders the page as a plain GET form holding the URL's state; this
// script turns the query box into an editor, runs the query and keeps the URL in step. Whether
// times show in UTC or the browser's zone is Explore's "Use local time" choice, read from the
// same localStorage key.
import 'uplot/dist/uPlot.min.css';
import './explore.css';
import './logs.css';
import { lokiApi } from './api.js';
import { Chart } from './chart.js';
import { seriesName } from './labels.js';
import { createLogQLEditor } from './logeditor.js';
import { readUtc } from './localtime.js';
import { LEVELS, levelOfWord } from './logfields.js';
import { entriesOf, LEVEL_COLOURS, LogLines } from './loglines.js';
import { addLabelFilter, addStreamMatcher, histogramQuery, histogramStep, isLogQuery, selectorSpan } from './logql.js';
import { MAX_LIMIT, readLogState, writeLogState } from './logstate.js';
import { autoStep, formatDuration, parseTime } from './timerange.js';
import { TimePicker } from './timepicker.js';


const ns = (ms) => `${Math.round(ms)}000000`;

function parseSample(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

class LogsPage {
  constructor(form) {
    this.form = form;
    this.nonce = document.querySelector('meta[name=csp-nonce]')?.content ?? '';
    this.errors = document.getElementById('errors');
    this.status = document.getElementById('status');
    this.histogramEl = document.getElementById('histogram');
    this.graphEl = document.getElementById('graph');
    this.linesEl = document.getElementById('lines');
    this.noData = document.getElementById('no-data');
    this.limitInput = form.querySelector('input[name=limit]');
    this.directionSelect = form.querySelector('select[name=direction]');
    this.liveButton = document.getElementById('live');
    this.pauseButton = document.getElementById('pause');
    this.liveStatus = document.getElementById('live-status');
    this.utc = readUtc;
    this.inflight = null;
    this.socket = null;
    this.paused = false;
    this.pending = [];
    this.dropped = 0;
    this.histogram = new Chart(document.getElementById('histogram-plot'), document.getElementById('histogram-legend'), {
      onZoom: (from, to) => this.setRange(String(from), String(to)),
      height: () => 140,
      // Counts of lines: no tick at half a line.
      format: (v) => (Number.isInteger(v) ? String(v) : ''),
      utc: this.utc,
    });
    this.graph = new Chart(document.getElementById('graph-plot'), document.getElementById('graph-legend'), {
      onZoom: (from, to) => this.setRange(String(from), String(to)),
      utc: this.utc,
    });
    this.lines = new LogLines(this.linesEl, { onFilter: (f) => this.filter(f), utc: this.utc });
    this.picker = new TimePicker(form.querySelector('.timepicker'), {
      onChange: (from, to) => this.setRange(from, to),
      utc: this.utc,
    });
    const holder = form.querySelector('.query-editor');
    holder.replaceChildren();
    this.editor = createLogQLEditor(holder, {
      doc: '',
      nonce: this.nonce,
      label: 'LogQL query',
      onRun: () => this.run(),
      // Live tail takes log queries only (Loki's tail refuses metric queries).
      onChange: (text) => {
        if (!this.socket) this.liveButton.disabled = !isLogQuery(text);
      },
      range: () => this.metadataRange(),
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run();
    });
    this.limitInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.run();
      }
    });
    this.directionSelect.addEventListener('change', () => this.run());
    this.liveButton.addEventListener('click', () => (this.socket ? this.stopLive() : this.startLive()));
    this.pauseButton.addEventListener('click', () => this.togglePause());
    window.addEventListener('popstate', () => this.load());
    this.load();
  }

  /** Take the state from the URL into the form, and run it. */
  load() {
    this.state = readLogState(window.location.search);
    this.picker.set(this.state.from, this.state.to);
    this.limitInput.value = String(this.state.limit);
    this.directionSelect.value = this.state.direction;
    this.setQuery(this.state.query);
    this.run({ push: false });
  }

  setQuery(text) {
    const view = this.editor;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  }

  collect() {
    this.state.query = this.editor.state.doc.toString();
    const limit = Number(this.limitInput.value);
    this.state.limit = Number.isInteger(limit) && limit > 0 ? Math.min(limit, MAX_LIMIT) : 1000;
    this.limitInput.value = String(this.state.limit);
    this.state.direction = this.directionSelect.value === 'forward' ? 'forward' : 'backward';
  }

  /** The range as epoch milliseconds, or the problems with it. */
  range() {
    const now = Date.now();
    const utc = this.utc();
    const from = parseTime(this.state.from, now, { utc });
    const to = parseTime(this.state.to, now, { end: true, utc });
    const problems = [];
    if (from === null) problems.push(`Invalid "from" time: "${this.state.from}"`);
    if (to === null) problems.push(`Invalid "to" time: "${this.state.to}"`);
    if (problems.length === 0 && from >= to) problems.push('"From" must be before "To"');
    return { from, to, problems };
  }

  /** What label completion asks Loki about: the page's range, in nanoseconds. */
  metadataRange() {
    const { from, to, problems } = this.range();
    return problems.length ? {} : { start: ns(from), end: ns(to) };
  }

  setRange(from, to) {
    this.state.from = from;
    this.state.to = to;
    this.picker.set(from, to);
    this.run();
  }

  /** "Filter for value" / "filter out value": edit the query, and run it. */
  filter({ kind, name, value, op, parser }) {
    const query = this.editor.state.doc.toString();
    const next =
      kind === 'stream'
        ? addStreamMatcher(query, name, op, value)
        : addLabelFilter(query, name, op, value, kind === 'field' ? parser : null);
    this.setQuery(next);
    this.run();
  }

  showErrors(messages) {
    this.errors.replaceChildren();
    for (const { text, kind } of messages) {
      const div = document.createElement('div');
      div.className = kind === 'warning' ? 'warning' : 'error';
      div.textContent = text;
      this.errors.appendChild(div);
    }
    this.errors.hidden = messages.length === 0;
  }

  /** Run the query; `push` adds the state to the browser's history. */
  async run({ push = true } = {}) {
    this.stopLive();
    this.collect();
    const search = writeLogState(this.state);
    if (push && search !== window.location.search) {
      window.history.pushState(null, '', window.location.pathname + search);
    }
    if (this.inflight) this.inflight.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const { from, to, problems } = this.range();
    const query = this.state.query.trim();
    const logQuery = isLogQuery(query);
    this.liveButton.disabled = !logQuery;
    if (problems.length) {
      this.showErrors(problems.map((text) => ({ text })));
      return;
    }
    if (query === '') {
      this.showErrors([]);
      this.show({ histogram: false, graph: false, lines: false });
      this.status.textContent = 'Enter a LogQL query and press Shift+Enter or Run query.';
      return;
    }
    this.status.textContent = 'Running…';
    this.form.setAttribute('aria-busy', 'true');
    const started = performance.now();
    try {
      if (logQuery) await this.runLogs(query, from, to, controller, started);
      else await this.runMetric(query, from, to, controller, started);
    } catch (err) {
      if (err.name === 'AbortError') return;
      throw err;
    } finally {
      if (this.inflight === controller) this.form.removeAttribute('aria-busy');
    }
  }

  show({ histogram, graph, lines }) {
    this.histogramEl.hidden = !histogram;
    this.graphEl.hidden = !graph;
    this.linesEl.hidden = !lines;
    if (!histogram) this.histogram.destroy();
    if (!graph) this.graph.destroy();
    if (!lines) this.lines.clear();
    this.noData.hidden = true;
  }

  async runLogs(query, from, to, controller, started) {
    const step = histogramStep(to - from);
    const barsFrom = Math.floor(from / 1000 / step) * step;
    const span = selectorSpan(query);
    const common = { start: ns(from), end: ns(to) };
    const [lines, bars, series] = await Promise.allSettled([
      lokiApi('/loki/api/v1/query_range', { ...common, query, limit: this.state.limit, direction: this.state.direction }, controller.signal),
      // The bars start on a multiple of their width, so the same minute is the same bar each run.
      lokiApi('/loki/api/v1/query_range', { start: ns(barsFrom * 1000), end: ns(to), query: histogramQuery(query, step), step }, controller.signal),
      span ? lokiApi('/loki/api/v1/series', { ...common, 'match[]': query.slice(span.start, span.end) }, controller.signal) : Promise.reject(new Error('no selector')),
    ]);
    performance.mark('logs:replied');
    if (controller.signal.aborted) return;
    const elapsed = Math.round(performance.now() - started);
    if (lines.status === 'rejected') {
      this.showErrors([{ text: lines.reason.message }]);
      this.show({ histogram: false, graph: false, lines: false });
      this.status.textContent = `Load time: ${elapsed} ms`;
      return;
    }
    const messages = [];
    if (bars.status === 'rejected') messages.push({ text: `Histogram: ${bars.reason.message}`, kind: 'warning' });
    this.showErrors(messages);
    this.show({ histogram: bars.status === 'fulfilled', graph: false, lines: true });
    const entries = entriesOf(lines.value.data.result, this.state.direction);
    // The stream labels are what /series knows of the selector's streams; the rest of a line's
    // labels are its structured metadata and what the pipeline extracted.
    const named = series.status === 'fulfilled' ? series.value.data.flatMap((s) => Object.keys(s)) : [];
    const streamNames = named.length ? new Set(named) : null;
    this.lines.render(entries, { streamNames });
    this.linesEl.dataset.rendered = String(entries.length);
    performance.measure('logs:render', 'logs:replied');
    if (bars.status === 'fulfilled') this.drawHistogram(bars.value.data.result, barsFrom, to / 1000, step);
    this.noData.hidden = entries.length > 0;
    this.linesEl.hidden = entries.length === 0;
    const limited = entries.length >= this.state.limit ? ` (the limit of ${this.state.limit})` : '';
    this.status.textContent = `Load time: ${elapsed} ms · Lines: ${entries.length}${limited} · Histogram: one bar per ${formatDuration(step)}`;
  }

  /**
   * Bars of matching lines per level, stacked, in Grafana's level colours. A series' level is
   * its `level` (else `severity_text`) as Grafana reads it (`WARN` and `warning` are one
   * level); series of one level are summed.
   */
  drawHistogram(result, start, end, step) {
    const n = Math.max(Math.floor((end - start) / step) + 1, 1);
    const xs = Array.from({ length: n }, (_, i) => start + i * step);
    const rank = (level) => {
      const i = LEVELS.indexOf(level);
      return i === -1 ? LEVELS.length : i;
    };
    const byLevel = new Map();
    for (const s of result) {
      const raw = s.metric.level ?? s.metric.severity_text ?? '';
      const level = levelOfWord(raw) ?? raw;
      let values = byLevel.get(level);
      if (!values) {
        values = new Array(n).fill(null);
        byLevel.set(level, values);
      }
      for (const [t, v] of s.values) {
        const i = Math.round((t - start) / step);
        const count = parseSample(v);
        if (i >= 0 && i < n && count !== null) values[i] = (values[i] ?? 0) + count;
      }
    }
    const series = [...byLevel]
      .map(([level, values]) => ({ key: level, level, values }))
      .sort((a, b) => rank(a.level) - rank(b.level) || a.level.localeCompare(b.level));
    if (series.length === 0) {
      this.histogram.destroy();
      this.histogramEl.hidden = true; // no empty frame above "No logs found"
      return;
    }
    this.histogram.render(
      xs,
      series.map((s) => ({
        key: s.key,
        name: s.level || 'logs',
        values: s.values,
        drawStyle: 'bars',
        color: LEVEL_COLOURS[s.level] ?? (s.level ? undefined : LEVEL_COLOURS.unknown),
      })),
      { stacked: true },
    );
  }

  async runMetric(query, from, to, controller, started) {
    const step = autoStep(to - from);
    let body;
    try {
      body = await lokiApi('/loki/api/v1/query_range', { query, start: ns(from), end: ns(to), step, limit: this.state.limit }, controller.signal);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      this.showErrors([{ text: err.message }]);
      this.show({ histogram: false, graph: false, lines: false });
      this.status.textContent = `Load time: ${Math.round(performance.now() - started)} ms`;
      return;
    }
    performance.mark('logs:replied');
    if (controller.signal.aborted) return;
    this.showErrors([]);
    this.show({ histogram: false, graph: true, lines: false });
    const result = body.data.resultType === 'matrix' ? body.data.result : [];
    const start = from / 1000;
    const n = Math.floor((to / 1000 - start) / step) + 1;
    const xs = Array.from({ length: n }, (_, i) => start + i * step);
    const series = result.map((s) => {
      const values = new Array(n).fill(null);
      for (const [t, v] of s.values) {
        const i = Math.round((t - start) / step);
        if (i >= 0 && i < n) values[i] = parseSample(v);
      }
      const name = seriesName(s.metric);
      return { key: name, name, values };
    });
    if (series.length) this.graph.render(xs, series, { stacked: false });
    else this.graph.destroy();
    this.noData.hidden = series.length > 0;
    this.graphEl.hidden = series.length === 0;
    const elapsed = Math.round(performance.now() - started);
    this.status.textContent = `Load time: ${elapsed} ms · Resolution: ${formatDuration(step)} · Result series: ${series.length}`;
  }

  // -- live tail ---------------------------------------------------------------------------------

  /** Open Loki's tail websocket for the query: lines from now on go on top of the list. */
  startLive() {
    this.collect();
    const query = this.state.query.trim();
    if (!isLogQuery(query)) return;
    if (this.inflight) this.inflight.abort();
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const params = new URLSearchParams({ query, limit: String(this.state.limit), start: ns(Date.now()) });
    const socket = new WebSocket(`${scheme}://${window.location.host}/loki/api/v1/tail?${params}`);
    this.socket = socket;
    this.paused = false;
    this.pending = [];
    this.dropped = 0;
    // New lines may come from streams /series did not know: show all their labels.
    this.lines.setStreamNames(null);
    this.showErrors([]);
    this.histogramEl.hidden = true;
    this.linesEl.hidden = false;
    this.noData.hidden = true;
    this.liveButton.setAttribute('aria-pressed', 'true');
    this.liveButton.textContent = 'Stop live';
    this.pauseButton.hidden = false;
    this.pauseButton.textContent = 'Pause';
    this.pauseButton.setAttribute('aria-pressed', 'false');
    this.liveStatus.textContent = 'Live: waiting for new lines…';
    socket.addEventListener('message', (ev) => {
      if (this.socket !== socket) return;
      let message;
      try {
        message = JSON.parse(ev.data);
      } catch {
        return;
      }
      const entries = entriesOf(message.streams ?? [], 'backward');
      if (this.paused) {
        this.pending = [...entries, ...this.pending];
        // The buffer keeps the newest lines: what a resume shows is at most a list's worth.
        if (this.pending.length > this.state.limit) {
          this.dropped += this.pending.length - this.state.limit;
          this.pending.length = this.state.limit;
        }
        this.showLiveStatus();
        return;
      }
      this.lines.prepend(entries, this.state.limit);
      this.linesEl.dataset.rendered = String(this.lines.count);
      this.showLiveStatus();
    });
    socket.addEventListener('close', (ev) => {
      if (this.socket !== socket) return;
      // Closed by the server: a bad query (its reason in Loki's words) or the server going away.
      this.stopLive();
      if (ev.reason) this.showErrors([{ text: ev.reason }]);
      this.liveStatus.textContent = 'Live tail ended.';
    });
  }

  showLiveStatus() {
    const waiting = this.paused ? ` · paused, ${this.pending.length} new lines waiting` : '';
    const dropped = this.dropped ? ` (${this.dropped} older ones dropped)` : '';
    this.liveStatus.textContent = `Live: ${this.lines.count} lines shown${waiting}${dropped}`;
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseButton.textContent = this.paused ? 'Resume' : 'Pause';
    this.pauseButton.setAttribute('aria-pressed', String(this.paused));
    if (!this.paused && this.pending.length) {
      this.lines.prepend(this.pending, this.state.limit);
      this.linesEl.dataset.rendered = String(this.lines.count);
      this.pending = [];
      this.dropped = 0;
    }
    this.showLiveStatus();
  }

  stopLive() {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.close();
    this.liveButton.setAttribute('aria-pressed', 'false');
    this.liveButton.textContent = 'Live';
    this.pauseButton.hidden = true;
    this.liveStatus.textContent = '';
  }
}

const form = document.getElementById('logs');
if (form) new LogsPage(form);
