// Explore: PromQL queries run as a graph (query_range) or a table (query) against this server's
// Prometheus API. The server renders the page as a plain GET form holding the URL's state; this
// script turns the query boxes into editors, runs the queries and keeps the URL in step, so a
// reload or a shared link shows the same thing: the legend's hidden series, the table's
// evaluation time and the auto-refresh interval included. Whether times show in UTC or the
// browser's zone is the viewer's own choice, kept in localStorage rather than the URL. With
// "Show exemplars" the graph also asks /api/v1/query_exemplars for each query and draws them
// (exemplars.js).
import 'uplot/dist/uPlot.min.css';
import './explore.css';
import { promApi } from './api.js';
import { Chart, PALETTE } from './chart.js';
import { createEditor } from './editor.js';
import { ExemplarLayer, queryExemplars } from './exemplars.js';
import { legendName, seriesName } from './labels.js';
import { LOCAL_TIME_KEY, readUtc } from './localtime.js';
import { hiddenOf, readState, visibilityOf, writeState } from './state.js';
import { renderTable } from './table.js';
import { autoStep, formatDuration, formatTime, parseDuration, parseTime } from './timerange.js';
import { TimePicker } from './timepicker.js';

// Prometheus' "Use local time" choice; unset means local time, as Grafana's default "Browser".

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const letter = (i) => LETTERS[i % LETTERS.length] + (i >= LETTERS.length ? String(i) : '');

function parseSample(v) {
  if (v === '+Inf' || v === '-Inf' || v === 'NaN') return null; // not drawable
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

class Explore {
  constructor(form) {
    this.form = form;
    this.nonce = document.querySelector('meta[name=csp-nonce]')?.content ?? '';
    this.queryList = form.querySelector('.query-list');
    this.stepInput = form.querySelector('input[name=step]');
    this.errors = document.getElementById('errors');
    this.status = document.getElementById('status');
    this.graphEl = document.getElementById('graph');
    this.tableEl = document.getElementById('table');
    this.noData = document.getElementById('no-data');
    this.timeInput = form.querySelector('input[name=time]');
    this.timeOption = form.querySelector('.eval-time');
    this.refreshSelect = form.querySelector('select[name=refresh]');
    this.localTime = document.getElementById('local-time');
    this.localTime.checked = readLocalTime();
    this.editors = [];
    this.inflight = null;
    this.timer = null;
    this.lastRun = 0;
    const utc = () => !this.localTime.checked;
    this.utc = utc;
    this.exemplarOption = form.querySelector('.show-exemplars');
    this.exemplarInput = form.querySelector('input[name=exemplars]');
    this.exemplars = new ExemplarLayer({
      utc,
      onHover: () => {
        this.chart.tooltip.hidden = true;
      },
    });
    this.chart = new Chart(document.getElementById('plot'), document.getElementById('legend'), {
      onZoom: (from, to) => this.setRange(String(from), String(to)),
      onVisibility: (hidden) => this.keepVisibility(hidden),
      utc,
      overlay: this.exemplars,
    });
    this.picker = new TimePicker(form.querySelector('.timepicker'), {
      onChange: (from, to) => this.setRange(from, to),
      utc,
    });
    this.localTime.addEventListener('change', () => {
      writeLocalTime(this.localTime.checked);
      // The fields show the URL's times again in the other zone; run() reads them back.
      this.picker.set(this.state.from, this.state.to);
      this.showTime();
      this.run({ push: false });
    });
    this.refreshSelect.addEventListener('change', () => {
      this.state.refresh = this.refreshSelect.value;
      this.patchUrl();
      this.schedule();
    });
    // A hidden tab asks nothing; back in view, it catches up at once if a refresh is due.
    document.addEventListener('visibilitychange', () => this.schedule());
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run();
    });
    form.querySelector('.add-query').addEventListener('click', () => {
      this.collect();
      this.state.queries.push({ expr: '', legend: '' });
      this.renderQueries();
      this.editors.at(-1).focus();
    });
    form.querySelector('.zoom-out').addEventListener('click', () => this.zoomOut());
    for (const input of form.querySelectorAll('input[name=mode], input[name=stacked], input[name=exemplars]')) {
      input.addEventListener('change', () => this.run());
    }
    // Prometheus' table buttons: the evaluation time moves by half the graph's range.
    this.timeOption.querySelector('.time-back').addEventListener('click', () => this.shiftTime(-1));
    this.timeOption.querySelector('.time-forward').addEventListener('click', () => this.shiftTime(1));
    for (const input of [this.stepInput, this.timeInput]) {
      input.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') {
          ev.preventDefault();
          this.run();
        }
      });
    }
    window.addEventListener('popstate', () => this.load());
    this.load();
  }

  /** Take the state from the URL into the form, and run it. */
  load() {
    this.state = readState(window.location.search);
    this.picker.set(this.state.from, this.state.to);
    this.stepInput.value = this.state.step;
    this.showTime();
    this.showRefresh();
    this.form.querySelector(`input[name=mode][value=${this.state.mode}]`).checked = true;
    this.form.querySelector('input[name=stacked]').checked = this.state.stacked;
    this.exemplarInput.checked = this.state.exemplars;
    this.renderQueries();
    this.run({ push: false });
  }

  renderQueries() {
    for (const editor of this.editors) editor.destroy();
    this.editors = [];
    this.queryList.replaceChildren();
    this.state.queries.forEach((q, i) => {
      const row = document.createElement('div');
      row.className = 'query-row';
      const badge = document.createElement('span');
      badge.className = 'query-letter';
      badge.textContent = letter(i);
      const holder = document.createElement('div');
      holder.className = 'query-editor';
      const legend = document.createElement('input');
      legend.className = 'query-legend';
      legend.name = `legend${i}`;
      legend.value = q.legend;
      legend.placeholder = 'Legend: {{label}}';
      legend.setAttribute('aria-label', `Legend format of query ${letter(i)}`);
      legend.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') {
          ev.preventDefault();
          this.run();
        }
      });
      row.append(badge, holder, legend);
      if (this.state.queries.length > 1) {
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'query-remove';
        remove.textContent = '×';
        remove.setAttribute('aria-label', `Remove query ${letter(i)}`);
        remove.addEventListener('click', () => {
          this.collect();
          this.state.queries.splice(i, 1);
          this.renderQueries();
          this.run();
        });
        row.appendChild(remove);
      }
      this.queryList.appendChild(row);
      this.editors.push(
        createEditor(holder, {
          doc: q.expr,
          nonce: this.nonce,
          label: `PromQL query ${letter(i)}`,
          onRun: () => this.run(),
          onChange: (text) => {
            this.state.queries[i].expr = text;
          },
        }),
      );
    });
  }

  /** Read the form's controls into the state. */
  collect() {
    this.state.queries.forEach((q, i) => {
      q.expr = this.editors[i]?.state.doc.toString() ?? q.expr;
      q.legend = this.queryList.querySelector(`input[name=legend${i}]`)?.value ?? q.legend;
    });
    this.state.step = this.stepInput.value.trim();
    this.state.time = this.readTime();
    this.state.mode = this.form.querySelector('input[name=mode]:checked')?.value ?? 'graph';
    this.state.stacked = this.form.querySelector('input[name=stacked]').checked;
    this.state.exemplars = this.exemplarInput.checked;
  }

  /** The evaluation time field in URL form: empty, `now…` as typed, else epoch milliseconds. */
  readTime() {
    const text = this.timeInput.value.trim();
    if (text === '' || text.startsWith('now')) return text.replace(/\s+/g, '');
    const ms = parseTime(text, Date.now(), { utc: this.utc() });
    return ms === null ? text : String(ms);
  }

  /** Move the evaluation time (from the range's end when unset) by half the range, back or on. */
  shiftTime(direction) {
    this.collect();
    const now = Date.now();
    const utc = this.utc();
    const from = parseTime(this.state.from, now, { utc });
    const to = parseTime(this.state.to, now, { end: true, utc });
    const base = this.state.time ? parseTime(this.state.time, now, { utc }) : to;
    if (from === null || to === null || base === null) return;
    this.state.time = String(Math.round(base + (direction * (to - from)) / 2));
    this.showTime();
    this.run();
  }

  showTime() {
    const t = this.state.time;
    this.timeInput.value = /^\d+$/.test(t) ? formatTime(Number(t), { utc: this.utc() }) : t;
  }

  /** The URL's refresh interval in the picker, added to its choices when it is not one. */
  showRefresh() {
    const value = this.state.refresh;
    if (value && ![...this.refreshSelect.options].some((o) => o.value === value)) {
      this.refreshSelect.add(new Option(value, value));
    }
    this.refreshSelect.value = value;
  }

  /**
   * Put the refresh interval and the hidden series into the URL, no history entry. Only those:
   * the editors may hold text not yet run, which the URL must not claim was.
   */
  patchUrl() {
    const shown = readState(window.location.search);
    shown.refresh = this.state.refresh;
    shown.visibility = this.state.visibility;
    const search = writeState(shown);
    if (search !== window.location.search) {
      window.history.replaceState(null, '', window.location.pathname + search);
    }
  }

  /** The legend changed what is hidden: keep it in the URL (no new history entry). */
  keepVisibility(hidden) {
    this.state.visibility = visibilityOf(this.chart.series.map((s) => s.key), hidden);
    this.patchUrl();
  }

  /**
   * Run again after the refresh interval (Grafana's `refresh=`), counted from the last run;
   * never while the tab is hidden.
   */
  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    const seconds = this.state.refresh ? parseDuration(this.state.refresh) : null;
    if (!seconds || document.hidden) return;
    const due = this.lastRun + Math.max(seconds, 1) * 1000 - Date.now();
    this.timer = setTimeout(() => this.run({ push: false }), Math.max(due, 0));
  }

  setRange(from, to) {
    this.state.from = from;
    this.state.to = to;
    this.picker.set(from, to);
    this.run();
  }

  /** Twice the range around the same middle, as Grafana's zoom out (Ctrl+Z) does. */
  zoomOut() {
    const now = Date.now();
    const utc = this.utc();
    const from = parseTime(this.state.from, now, { utc });
    const to = parseTime(this.state.to, now, { end: true, utc });
    if (from === null || to === null) return;
    const half = (to - from) / 2;
    const newTo = Math.min(to + half, now);
    this.setRange(String(Math.round(from - half)), newTo === now ? 'now' : String(Math.round(newTo)));
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

  /** Run every non-empty query in the current mode; `push` adds the state to the history. */
  async run({ push = true } = {}) {
    this.collect();
    this.showTime(); // a typed time as the date it stands for
    const search = writeState(this.state);
    if (push && search !== window.location.search) {
      window.history.pushState(null, '', window.location.pathname + search);
    }
    if (this.inflight) this.inflight.abort();
    const controller = new AbortController();
    this.inflight = controller;
    clearTimeout(this.timer);
    this.lastRun = Date.now();
    try {
      await this.query(controller);
    } finally {
      if (this.inflight === controller) this.schedule();
    }
  }

  async query(controller) {
    const now = Date.now();
    const utc = this.utc();
    const from = parseTime(this.state.from, now, { utc });
    const to = parseTime(this.state.to, now, { end: true, utc });
    // The table's evaluation time: as set, else the range's end (Prometheus: now).
    const at = this.state.time ? parseTime(this.state.time, now, { utc }) : to;
    const problems = [];
    if (from === null) problems.push(`Invalid "from" time: "${this.state.from}"`);
    if (to === null) problems.push(`Invalid "to" time: "${this.state.to}"`);
    if (at === null && this.state.mode === 'table') problems.push(`Invalid evaluation time: "${this.state.time}"`);
    if (problems.length === 0 && from >= to) problems.push('"From" must be before "To"');
    const auto = from !== null && to !== null && to > from ? autoStep(to - from) : 15;
    this.stepInput.placeholder = `auto (${formatDuration(auto)})`;
    const step = this.state.step ? parseDuration(this.state.step) : auto;
    if (step === null) problems.push(`Invalid step: "${this.state.step}"`);
    const queries = this.state.queries
      .map((q, i) => ({ ...q, letter: letter(i) }))
      .filter((q) => q.expr.trim() !== '');
    const graph = this.state.mode === 'graph';
    this.graphEl.hidden = !graph;
    this.tableEl.hidden = graph;
    this.timeOption.hidden = graph;
    this.exemplarOption.hidden = !graph;
    if (problems.length) {
      this.showErrors(problems.map((text) => ({ text })));
      return;
    }
    if (queries.length === 0) {
      this.showErrors([]);
      this.chart.destroy();
      this.tableEl.replaceChildren();
      this.noData.hidden = true;
      this.status.textContent = 'Enter a PromQL expression and press Enter or Run query.';
      return;
    }
    this.status.textContent = 'Running…';
    this.form.setAttribute('aria-busy', 'true');
    const started = performance.now();
    const requests = queries.map((q) =>
      graph
        ? promApi(
            '/api/v1/query_range',
            { query: q.expr, start: from / 1000, end: to / 1000, step },
            controller.signal,
          )
        : promApi('/api/v1/query', { query: q.expr, time: at / 1000 }, controller.signal),
    );
    // Prometheus' graph asks for the exemplars of the same queries over the same range.
    const withExemplars = graph && this.state.exemplars;
    const exemplarRequests = withExemplars
      ? queries.map((q) => queryExemplars(q.expr, from / 1000, to / 1000, controller.signal))
      : [];
    const settled = await Promise.allSettled(requests);
    const exemplars = await Promise.allSettled(exemplarRequests);
    // User Timing marks (bench/explore_graph.py reads them): replies parsed, then drawn.
    performance.mark('explore:replied');
    if (controller.signal.aborted) return;
    this.form.removeAttribute('aria-busy');
    const elapsed = Math.round(performance.now() - started);
    const messages = [];
    const done = [];
    settled.forEach((outcome, i) => {
      const q = queries[i];
      const prefix = queries.length > 1 ? `${q.letter}: ` : '';
      if (outcome.status === 'rejected') {
        messages.push({ text: `${prefix}${outcome.reason.message}` });
        return;
      }
      for (const w of outcome.value.warnings ?? []) {
        messages.push({ text: `${prefix}${w}`, kind: 'warning' });
      }
      done.push({ ...q, data: outcome.value.data });
      const found = exemplars[i];
      if (found?.status === 'rejected') messages.push({ text: `${prefix}exemplars: ${found.reason.message}`, kind: 'warning' });
      else if (found) done.at(-1).exemplars = found.value;
    });
    this.showErrors(messages);
    let count = 0;
    if (graph) {
      const keys = this.draw(done, from / 1000, to / 1000, step);
      performance.measure('explore:draw', 'explore:replied');
      count = keys.length;
      // Series no longer drawn leave the URL's hide/show, unless a query failed (its series
      // may come back on the next run).
      if (done.length === queries.length) {
        this.state.visibility = visibilityOf(keys, this.chart.hidden);
        this.patchUrl();
      }
    } else {
      renderTable(this.tableEl, done, {
        formatTime: (ms) => `${formatTime(ms, { utc })}${utc ? ' UTC' : ''}`,
      });
      count = done.reduce((n, b) => n + (Array.isArray(b.data.result[0]) ? 1 : b.data.result.length), 0);
    }
    this.noData.hidden = !(graph && done.length > 0 && count === 0);
    // Only errors to show: no empty panel under them.
    this.graphEl.hidden = !graph || done.length === 0;
    this.tableEl.hidden = graph || done.length === 0;
    const evaluated = `${formatTime(at, { utc })}${utc ? ' UTC' : ''}`;
    const resolution = graph ? ` · Resolution: ${formatDuration(step)}` : ` · Evaluation time: ${evaluated}`;
    let shown = '';
    if (withExemplars) {
      const drawn = this.exemplars.points.length;
      const total = this.exemplars.total;
      shown = ` · Exemplars: ${drawn}${total > drawn ? ` (of ${total})` : ''}`;
    }
    this.status.textContent = `Load time: ${elapsed} ms${resolution} · Result series: ${count}${shown}`;
  }

  /** Put the range queries' series on one time grid and draw them; returns their keys. */
  draw(blocks, start, end, step) {
    const n = Math.floor((end - start) / step) + 1;
    const xs = Array.from({ length: n }, (_, i) => start + i * step);
    const series = [];
    for (const block of blocks) {
      if (block.data.resultType !== 'matrix') continue;
      block.data.result.forEach((s) => {
        const values = new Array(n).fill(null);
        for (const [t, v] of s.values) {
          const i = Math.round((t - start) / step);
          if (i >= 0 && i < n) values[i] = parseSample(v);
        }
        // Query letter and labels name a series for the URL's hide/show; a result never holds
        // one label set twice.
        series.push({ key: `${block.letter}:${seriesName(s.metric)}`, name: legendName(block.legend, s.metric), values, metric: s.metric });
      });
    }
    performance.measure('explore:grid', 'explore:replied');
    const keys = series.map((s) => s.key);
    const hidden = hiddenOf(keys, this.state.visibility);
    // An exemplar takes the colour of its query's series whose labels its series has (a
    // histogram_quantile by le keeps le), else that of the query's first series.
    const points = [];
    for (const block of blocks) {
      const own = series.map((s, i) => ({ s, i })).filter(({ s }) => s.key.startsWith(`${block.letter}:`));
      for (const p of block.exemplars ?? []) {
        const match = own.find(({ s }) => Object.entries(s.metric).every(([k, v]) => p.seriesLabels[k] === v)) ?? own[0];
        points.push({ ...p, color: PALETTE[(match?.i ?? 0) % PALETTE.length] });
      }
    }
    this.exemplars.set(points);
    if (series.length === 0) this.chart.destroy();
    else this.chart.render(xs, series, { stacked: this.state.stacked, hidden });
    return keys;
  }
}

function readLocalTime() {
  return !readUtc();
}

function writeLocalTime(local) {
  try {
    window.localStorage.setItem(LOCAL_TIME_KEY, String(local));
  } catch {
    // storage blocked: the choice lasts for this page only
  }
}

const form = document.getElementById('explore');
if (form) new Explore(form);
