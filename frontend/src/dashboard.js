// A dashboard (/d/<uid>): asks the server for the dashboard ready to draw (variables resolved,
// repeats expanded, queries interpolated) for the URL's time range and `var-` values, then
// lays out its rows and panels on Grafana's 24-column grid and draws each panel. Changing a
// variable, the time range or the refresh interval writes the URL (Grafana's parameters) and
// draws again; the browser's Back button returns to the state before.
//
// The header also draws the dashboard's links (a link, or the dashboards carrying some tags,
// keeping the time range and variables when asked) and a toggle per annotation query; the
// annotations' events are queried once per load and handed to every time series panel.
import 'uplot/dist/uPlot.min.css';
import './explore.css';
import './dashboard.css';
import { promApi } from './api.js';
import { annotationEvents } from './annotations.js';
import { DashboardEditor } from './dashedit.js';
import { anchor, safeHref } from './links.js';
import { cssColor } from './thresholds.js';
import { drawPanel, panelFrame } from './panels.js';
import { parseDuration } from './timerange.js';
import { TimePicker } from './timepicker.js';

const ALL = '$__all';

function node(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

class Dashboard {
  constructor(form) {
    this.form = form;
    this.uid = form.dataset.uid;
    this.grid = document.getElementById('grid');
    this.varsEl = document.getElementById('variables');
    this.errors = document.getElementById('dash-errors');
    this.linksEl = document.getElementById('dash-links');
    this.annotationsEl = document.getElementById('annotations');
    // Which annotations are switched on, by name (the toggles' state, kept across reloads of
    // the view as Grafana keeps it while the dashboard is open).
    this.annotationOn = new Map();
    this.refreshSelect = form.querySelector('select[name=refresh]');
    this.charts = [];
    this.controller = null;
    this.timer = null;
    this.view = null;
    this.picker = new TimePicker(form.querySelector('.timepicker'), {
      onChange: (from, to) => this.update({ from, to }),
    });
    form.addEventListener('submit', (ev) => ev.preventDefault());
    this.refreshSelect.addEventListener('change', () => this.update({ refresh: this.refreshSelect.value }));
    form.querySelector('.refresh-now').addEventListener('click', () => this.load());
    form.querySelector('.export-json').addEventListener('click', () => this.exportJson());
    this.editor = new DashboardEditor(document.getElementById('edit-dialog'), {
      uid: this.uid,
      onSaved: () => this.load(),
    });
    form.querySelector('.edit-dashboard').addEventListener('click', () => this.editor.open());
    window.addEventListener('popstate', () => this.load());
    this.load();
  }

  params() {
    return new URLSearchParams(window.location.search);
  }

  /** Change URL parameters (`var-x` takes an array) and draw again. */
  update(changes) {
    const params = this.params();
    for (const [key, value] of Object.entries(changes)) {
      params.delete(key);
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) if (v !== '' && v !== null && v !== undefined) params.append(key, v);
    }
    const query = params.toString();
    window.history.pushState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}`);
    this.load();
  }

  async load() {
    if (this.controller) this.controller.abort();
    this.controller = new AbortController();
    const { signal } = this.controller;
    const params = this.params();
    const viewParams = new URLSearchParams();
    for (const [k, v] of params) if (k === 'from' || k === 'to' || k.startsWith('var-')) viewParams.append(k, v);
    let view;
    try {
      const response = await fetch(`/api/dashboards/uid/${encodeURIComponent(this.uid)}/view?${viewParams}`, {
        signal,
        headers: { Accept: 'application/json' },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? `${response.status} ${response.statusText}`);
      view = body;
    } catch (err) {
      if (err.name === 'AbortError') return;
      this.showError(err.message);
      return;
    }
    this.showError('');
    this.view = view;
    document.getElementById('dash-title').textContent = view.title;
    document.title = `${view.title} · Spyglass`;
    this.picker.set(view.time.from, view.time.to);
    this.refreshSelect.value = params.get('refresh') ?? this.refreshSelect.value;
    this.renderVariables(view.variables);
    this.renderLinks(view.links ?? [], signal);
    this.renderAnnotationToggles(view.annotations ?? []);
    this.renderGrid(view, signal);
    this.schedule();
  }

  showError(message) {
    this.errors.textContent = message;
    this.errors.hidden = !message;
  }

  schedule() {
    clearTimeout(this.timer);
    const seconds = parseDuration(this.refreshSelect.value);
    if (seconds) this.timer = setTimeout(() => this.load(), Math.max(seconds, 1) * 1000);
  }

  renderVariables(variables) {
    this.varsEl.replaceChildren();
    for (const v of variables) {
      if (v.hide === 2) continue;
      const wrap = node('div', 'variable');
      const id = `var-${v.name}`;
      if (v.hide !== 1) {
        const label = node('label', 'variable-label', v.label);
        label.htmlFor = id;
        wrap.append(label);
      }
      if (v.type === 'textbox') {
        const input = node('input', 'variable-input');
        input.id = id;
        input.value = v.current[0] ?? '';
        input.addEventListener('change', () => this.update({ [id]: input.value }));
        wrap.append(input);
      } else {
        const select = node('select', 'variable-select');
        select.id = id;
        select.multiple = v.multi;
        if (v.multi) select.size = Math.min(Math.max(v.options.length, 2), 6);
        for (const o of v.options) {
          const option = node('option', '', o.text);
          option.value = o.value;
          option.selected = v.current.includes(o.value);
          select.append(option);
        }
        select.addEventListener('change', () => {
          let chosen = [...select.selectedOptions].map((o) => o.value);
          // Picking All alongside values means All, as in Grafana; picking a value after All
          // drops All.
          if (chosen.length > 1 && chosen.includes(ALL)) {
            chosen = v.current.includes(ALL) ? chosen.filter((c) => c !== ALL) : [ALL];
          }
          this.update({ [id]: chosen });
        });
        wrap.append(select);
      }
      if (v.error) wrap.append(node('span', 'variable-error', v.error));
      this.varsEl.append(wrap);
    }
  }

  /** A link's href: safe, with the time range and variables added when the link asks. */
  linkHref(link, url) {
    const href = safeHref(url);
    if (!href) return null;
    const extra = new URLSearchParams();
    if (link.keepTime) {
      extra.set('from', this.view.time.from);
      extra.set('to', this.view.time.to);
    }
    // Every variable's current value, as Grafana's includeVars adds them.
    if (link.includeVars) for (const v of this.view.variables ?? []) for (const c of v.current) extra.append(`var-${v.name}`, c);
    const query = extra.toString();
    if (!query) return href;
    const [base, hash = ''] = href.split('#', 2);
    return `${base}${base.includes('?') ? '&' : '?'}${query}${hash ? `#${hash}` : ''}`;
  }

  renderLinks(links, signal) {
    this.linksEl.replaceChildren();
    this.linksEl.hidden = links.length === 0;
    for (const link of links) {
      if (link.type === 'dashboards') {
        const holder = node('span', 'dash-link-group');
        this.linksEl.append(holder);
        this.renderTaggedDashboards(link, holder, signal);
        continue;
      }
      const href = this.linkHref(link, link.url);
      const text = link.title || link.url || 'Link';
      if (!href) {
        this.linksEl.append(node('span', 'dash-link dash-link-unsafe', text));
        continue;
      }
      const a = anchor(href, text, { blank: link.targetBlank, title: link.tooltip });
      a.className = 'dash-link';
      this.linksEl.append(a);
    }
  }

  async renderTaggedDashboards(link, holder, signal) {
    const query = new URLSearchParams({ type: 'dash-db' });
    for (const t of link.tags ?? []) query.append('tag', t);
    let hits = [];
    try {
      const response = await fetch(`/api/search?${query}`, { signal, headers: { Accept: 'application/json' } });
      if (response.ok) hits = await response.json();
    } catch (err) {
      if (err.name === 'AbortError') return;
    }
    const others = hits.filter((h) => h.uid !== this.uid);
    const add = (into) => {
      for (const h of others) {
        const href = this.linkHref(link, h.url);
        if (!href) continue;
        const a = anchor(href, h.title, { blank: link.targetBlank });
        a.className = 'dash-link';
        into.append(a);
      }
    };
    if (link.asDropdown) {
      const details = node('details', 'dash-link-dropdown');
      details.append(node('summary', 'dash-link', link.title || 'Dashboards'));
      const list = node('div', 'dash-link-menu');
      add(list);
      details.append(list);
      holder.append(details);
    } else add(holder);
  }

  renderAnnotationToggles(annotations) {
    this.annotationsEl.replaceChildren();
    const shown = annotations.filter((a) => !a.hide);
    this.annotationsEl.hidden = shown.length === 0;
    for (const a of shown) {
      if (!this.annotationOn.has(a.name)) this.annotationOn.set(a.name, a.enable);
      const label = node('label', 'annotation-toggle');
      const box = node('input');
      box.type = 'checkbox';
      box.checked = this.annotationOn.get(a.name);
      box.addEventListener('change', () => {
        this.annotationOn.set(a.name, box.checked);
        this.load();
      });
      const swatch = node('span', 'swatch');
      swatch.style.background = cssColor(a.iconColor);
      label.append(box, swatch, node('span', '', a.name));
      if (a.error) {
        label.append(node('span', 'variable-error', a.error));
        box.disabled = true;
      }
      this.annotationsEl.append(label);
    }
  }

  /** Every switched-on annotation's events, each query over the range at its step. */
  async annotationEvents(annotations, range, signal) {
    const on = annotations.filter((a) => !a.error && a.expr && (this.annotationOn.get(a.name) ?? a.enable));
    const lists = await Promise.all(
      on.map(async (a) => {
        const stepMs = a.step * 1000;
        const start = Math.floor(range.from / stepMs) * stepMs;
        const end = Math.ceil(range.to / stepMs) * stepMs;
        try {
          const body = await promApi(
            '/api/v1/query_range',
            { query: a.expr, start: String(start / 1000), end: String(end / 1000), step: String(a.step) },
            signal,
          );
          return annotationEvents(body.data.result, a, a.step);
        } catch (err) {
          if (err.name === 'AbortError') throw err;
          this.showError(`Annotation ${a.name}: ${err.message}`);
          return [];
        }
      }),
    );
    return lists.flat();
  }

  renderGrid(view, signal) {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
    this.grid.replaceChildren();
    const range = { from: view.range.from, to: view.range.to };
    const annotations = this.annotationEvents(view.annotations ?? [], range, signal).catch(() => []);
    const ctx = {
      range,
      signal,
      annotations,
      onZoom: (from, to) => this.update({ from: String(from), to: String(to) }),
      track: (chart) => this.charts.push(chart),
    };
    if (view.sections.length === 0) this.grid.append(node('p', 'no-data', 'This dashboard has no panels.'));
    for (const section of view.sections) {
      const panels = node('div', 'dash-section-grid');
      const draw = () => {
        for (const panel of [...section.panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x)) {
          const frame = panelFrame(panel);
          panels.append(frame);
          drawPanel(panel, frame, ctx);
        }
      };
      if (!section.row) {
        this.grid.append(panels);
        draw();
        continue;
      }
      const details = node('details', 'dash-row');
      const summary = node('summary', 'dash-row-title', section.row.title || 'Row');
      details.append(summary, panels);
      details.open = !section.row.collapsed;
      this.grid.append(details);
      if (details.open) draw();
      else {
        // A collapsed row queries nothing until it is opened, as in Grafana.
        details.addEventListener('toggle', () => {
          if (details.open && panels.childElementCount === 0) draw();
        }, { once: false });
      }
    }
  }

  async exportJson() {
    const response = await fetch(`/api/dashboards/uid/${encodeURIComponent(this.uid)}`);
    if (!response.ok) {
      this.showError(`Export failed: ${response.status} ${response.statusText}`);
      return;
    }
    const body = await response.json();
    const blob = new Blob([`${JSON.stringify(body.dashboard, null, 2)}\n`], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${body.meta?.slug || this.uid}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}

const form = document.getElementById('dashboard');
if (form) new Dashboard(form);
