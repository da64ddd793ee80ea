// The graph: uPlot (what Grafana draws time series with) plus a legend and a tooltip of our own.
//
// Legend clicks follow Grafana: a click shows only that series (a second click on it shows all
// again), Ctrl/Cmd+click hides or shows just that one. Dragging across the plot zooms: the
// chart hands the selected time range to `onZoom`, which makes it the new range.
import uPlot from 'uplot';
import { eventText } from './annotations.js';
import { REDUCER_NAMES, reduceValues, reducerId } from './reducers.js';
import { cssColor } from './thresholds.js';
import { formatTime } from './timerange.js';

// Grafana's classic series palette, so colours look familiar.
export const PALETTE = [
  '#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0',
  '#508642', '#cca300', '#447ebc', '#c15c17', '#890f02', '#0a437c', '#6d1f62', '#584477',
  '#b7dbab', '#f4d598', '#70dbed', '#f9ba8f', '#f29191', '#82b5d8', '#e5a8e2', '#aea2e0',
  '#629e51', '#e5ac0e', '#64b0c8', '#e0752d', '#bf1b00', '#0a50a1', '#962d82', '#614d93',
];

const AXIS = '#9fa7b3';
const MANY_SERIES = 24;
const GRID = 'rgba(204, 204, 220, 0.08)';

/** A value as a person reads it: up to 6 significant digits, no float noise. */
export function formatValue(v) {
  if (v === null || v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e15 || Math.abs(v) < 1e-4)) return v.toExponential(3);
  return String(Number(v.toPrecision(6)));
}

export class Chart {
  /**
   * @param {HTMLElement} plotEl where the canvas goes
   * @param {HTMLElement} legendEl where the legend's buttons go
   * @param {{onZoom: (fromMs: number, toMs: number) => void, height?: () => number,
   *   format?: (v: number) => string, thresholds?: {value: number, color: string, area?: boolean}[],
   *   fillOpacity?: number, lineWidth?: number, range?: {min?: number, max?: number},
   *   utc?: () => boolean, onVisibility?: (hidden: Set<string>) => void}} options
   *   `height` sizes the plot (default 320 px), `format` writes axis and tooltip values,
   *   `thresholds` are drawn as dashed lines (and bands with `area`), as dashboards ask.
   *   Dashboards also pass `legend` ({displayMode: list|table, calcs, sortBy, sortDesc}: a table
   *   of each series' calcs, sortable), `axis` ({hidden, softMin, softMax}) and `annotations`
   *   ([{time, timeEnd (ms), color, title, text, tags, source}]: markers and regions).
   *   `utc` says whether times show in UTC (else the browser's zone), `onVisibility` hears the
   *   hidden series' keys after each legend click. `overlay` ({draw(u), extent(), clear()},
   *   e.g. exemplars.js' ExemplarLayer) draws over the plot after each redraw, and the y axis
   *   takes in its extent.
   */
  constructor(
    plotEl,
    legendEl,
    {
      onZoom, height, format, thresholds, fillOpacity, lineWidth, range, legend, axis, annotations,
      utc, onVisibility, overlay,
    } = {},
  ) {
    this.plotEl = plotEl;
    this.legendEl = legendEl;
    this.onZoom = onZoom;
    this.utc = utc ?? (() => false);
    this.onVisibility = onVisibility ?? (() => {});
    this.height = height ?? (() => 320);
    this.format = format ?? formatValue;
    this.thresholds = thresholds ?? [];
    this.fillOpacity = fillOpacity;
    this.lineWidth = lineWidth ?? 1.25;
    this.yRange = range ?? {};
    this.legend = legend ?? {};
    this.axis = axis ?? {};
    this.annotations = annotations ?? [];
    this.overlay = overlay ?? null;
    this.percent = false;
    this.plot = null;
    this.series = [];
    this.hidden = new Set();
    this.stacked = false;
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'chart-tooltip';
    this.tooltip.hidden = true;
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resize.observe(plotEl);
  }

  size() {
    return { width: Math.max(this.plotEl.clientWidth, 100), height: Math.max(this.height(), 60) };
  }

  /**
   * Draw `series` ([{key, name, values}]) over `xs` (seconds); `values` hold numbers or null.
   * `hidden` (keys) replaces the series hidden so far, e.g. those a URL names.
   */
  render(xs, series, { stacked, percent = false, hidden }) {
    // The legend stays until the new one replaces it, so the plot's width does not jump.
    this.destroyPlot();
    this.xs = xs;
    this.series = series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
    this.stacked = stacked || percent;
    this.percent = percent;
    stacked = this.stacked;
    const keys = new Set(this.series.map((s) => s.key));
    this.hidden = new Set([...(hidden ?? this.hidden)].filter((k) => keys.has(k)));
    const utc = this.utc();
    const many = this.series.length > MANY_SERIES;
    const opts = {
      ...this.size(),
      // uPlot writes axis times in the browser's zone unless given dates in another.
      ...(utc ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') } : {}),
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // Past a few dozen series, dimming the others (a redraw of every series) and a dot per
        // series on each mouse move cost more than they tell: 200 series took ~200 ms a move.
        focus: { prox: many ? -1 : 30 },
        points: many ? { show: false } : { size: 6 },
      },
      focus: { alpha: 0.4 },
      scales: {
        x: { time: true },
        // Stacked areas start at zero, as Grafana draws them.
        y: { range: (u, min, max) => this.rangeY(stacked, min, max) },
      },
      // Each stacked area is filled down to the series below it, not to the axis.
      bands: stacked ? this.bands() : [],
      axes: [
        { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID } },
        {
          show: this.axis.hidden !== true,
          stroke: AXIS,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID },
          // Wide enough for the longest tick label (units make them long: "1.50 MiB").
          size: (u, values) => Math.max(60, Math.max(0, ...(values ?? []).map((v) => String(v).length)) * 7 + 18),
          values: (u, vals) => vals.map((v) => (this.percent ? `${Number((v * 100).toFixed(1))}%` : this.format(v))),
        },
      ],
      series: [{}, ...this.series.map((s) => this.seriesOptions(s, stacked))],
      hooks: {
        setSelect: [(u) => this.zoomTo(u)],
        setCursor: [(u) => this.showTooltip(u)],
        drawAxes: [(u) => this.drawThresholds(u)],
        draw: [(u) => {
          this.drawAnnotations(u);
          this.overlay?.draw(u);
        }],
        // The y scale in the page, so a test (or a person in the inspector) can read it.
        setScale: [(u, key) => {
          if (key === 'y') Object.assign(this.plotEl.dataset, { yMin: String(u.scales.y.min), yMax: String(u.scales.y.max) });
        }],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.plotEl);
    this.plot.over.appendChild(this.tooltip);
    this.plot.over.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    this.renderLegend();
  }

  /** uPlot's options for one series: line (default), bars or points, as the dashboard asks. */
  seriesOptions(s, stacked) {
    const width = Number.isFinite(s.lineWidth) ? s.lineWidth : this.lineWidth;
    const fillOpacity = Number.isFinite(s.fillOpacity) ? s.fillOpacity : this.fillOpacity;
    const opts = {
      label: s.name,
      stroke: s.color,
      width,
      fill: this.fill(s.color, stacked, fillOpacity),
      points: { show: false },
      spanGaps: false,
      show: !this.hidden.has(s.key),
    };
    if (s.drawStyle === 'bars') {
      opts.paths = uPlot.paths.bars({ size: [0.6, 100] });
      opts.fill = this.fill(s.color, true, Number.isFinite(fillOpacity) && fillOpacity > 0 ? fillOpacity : 80);
    } else if (s.drawStyle === 'points') {
      opts.paths = () => null;
      opts.points = { show: true, size: 5, stroke: s.color, fill: s.color };
    }
    return opts;
  }

  /**
   * The y scale: stacked areas start at zero, as Grafana draws them; 100 % stacks go from 0 to
   * 1; soft limits widen the range, a dashboard's min/max fix it.
   */
  rangeY(stacked, min, max) {
    if (this.percent) return [0, 1];
    let lo0 = stacked ? Math.min(0, min) : min;
    let hi0 = max;
    const extra = this.overlay?.extent();
    if (extra) {
      lo0 = Math.min(lo0 ?? extra[0], extra[0]);
      hi0 = Math.max(hi0 ?? extra[1], extra[1]);
    }
    if (Number.isFinite(this.axis.softMin)) lo0 = Math.min(lo0 ?? this.axis.softMin, this.axis.softMin);
    if (Number.isFinite(this.axis.softMax)) hi0 = Math.max(hi0 ?? this.axis.softMax, this.axis.softMax);
    const [lo, hi] = uPlot.rangeNum(lo0, hi0, 0.1, true);
    const { min: fixedMin, max: fixedMax } = this.yRange;
    return [Number.isFinite(fixedMin) ? fixedMin : lo, Number.isFinite(fixedMax) ? fixedMax : hi];
  }

  fill(color, stacked, fillOpacity = this.fillOpacity) {
    if (fillOpacity === undefined) return stacked ? `${color}55` : undefined;
    const opacity = fillOpacity;
    if (!opacity || !color.startsWith('#') || color.length !== 7) return undefined;
    const alpha = Math.round(Math.min(Math.max(opacity, 0), 100) * 2.55);
    return `${color}${alpha.toString(16).padStart(2, '0')}`;
  }

  /** Threshold lines (dashed) and, when asked, bands, under the series. */
  drawThresholds(u) {
    if (this.thresholds.length === 0) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const sorted = [...this.thresholds].sort((a, b) => a.value - b.value);
    sorted.forEach((t, i) => {
      const y = u.valToPos(t.value, 'y', true);
      if (t.area) {
        const next = sorted[i + 1];
        const yEnd = next ? u.valToPos(next.value, 'y', true) : top;
        ctx.globalAlpha = 0.15;
        ctx.fillStyle = t.color;
        ctx.fillRect(left, Math.min(y, yEnd), width, Math.abs(y - yEnd));
        ctx.globalAlpha = 1;
      }
      if (t.line !== false) {
        ctx.strokeStyle = t.color;
        ctx.lineWidth = 1;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(left + width, y);
        ctx.stroke();
      }
    });
    ctx.restore();
  }

  /** Annotations: a dashed line at each event, a shaded band over each region, and under the
   * plot a marker a person can hover for the event's text (`title`). */
  drawAnnotations(u) {
    this.markers?.remove();
    if (this.annotations.length === 0) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const [x0, x1] = [u.scales.x.min, u.scales.x.max];
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const layer = document.createElement('div');
    layer.className = 'annotation-layer';
    for (const e of this.annotations) {
      const [t0, t1] = [e.time / 1000, e.timeEnd / 1000];
      if (t1 < x0 || t0 > x1) continue;
      const color = e.color ? cssColor(e.color) : 'rgba(0, 211, 255, 1)';
      const a = u.valToPos(Math.max(t0, x0), 'x', true);
      const b = u.valToPos(Math.min(t1, x1), 'x', true);
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      if (b - a >= 1) {
        ctx.globalAlpha = 0.12;
        ctx.fillRect(a, top, b - a, height);
      }
      ctx.globalAlpha = 0.9;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      for (const x of b - a >= 1 ? [a, b] : [a]) {
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      const marker = document.createElement('div');
      marker.className = 'annotation-marker';
      const cssLeft = u.valToPos(Math.max(t0, x0), 'x');
      const cssRight = u.valToPos(Math.min(t1, x1), 'x');
      marker.style.left = `${cssLeft - 4}px`;
      marker.style.width = `${Math.max(cssRight - cssLeft, 0) + 8}px`;
      marker.style.borderColor = color;
      marker.title = eventText(e);
      marker.setAttribute('aria-label', marker.title);
      layer.append(marker);
    }
    ctx.restore();
    u.over.append(layer);
    this.markers = layer;
  }

  /** Bands between each shown series and the shown one below it (uPlot indices). */
  bands() {
    const shown = this.series.map((s, i) => i + 1).filter((i) => !this.hidden.has(this.series[i - 1].key));
    return shown.slice(1).map((upper, j) => ({ series: [upper, shown[j]] }));
  }

  /** uPlot's data: xs, then each series' values, summed bottom up when stacked. */
  data() {
    if (!this.stacked) return [this.xs, ...this.series.map((s) => s.values)];
    const sums = new Array(this.xs.length).fill(0);
    const out = [this.xs];
    // 100 % stacking: each value as its share of the shown series' total at that time.
    const totals = new Array(this.xs.length).fill(0);
    if (this.percent) {
      for (const s of this.series) {
        if (this.hidden.has(s.key)) continue;
        s.values.forEach((v, i) => {
          if (v !== null) totals[i] += v;
        });
      }
    }
    // Draw order is reversed when stacking so each filled band sits on the ones below it.
    for (const s of this.series) {
      if (this.hidden.has(s.key)) {
        out.push(s.values);
        continue;
      }
      const stackedValues = s.values.map((v, i) => {
        if (v === null) return null;
        sums[i] += this.percent ? (totals[i] ? v / totals[i] : 0) : v;
        return sums[i];
      });
      out.push(stackedValues);
    }
    return out;
  }

  zoomTo(u) {
    const { left, width } = u.select;
    if (width < 2) return;
    const from = u.posToVal(left, 'x');
    const to = u.posToVal(left + width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.onZoom(Math.round(from * 1000), Math.round(to * 1000));
  }

  showTooltip(u) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const atY = u.posToVal(u.cursor.top, 'y');
    const rows = this.series
      .map((s, i) => ({ s, v: (s.raw ?? s.values)[idx], y: u.data[i + 1][idx] }))
      .filter((r) => r.v !== null && r.v !== undefined && !this.hidden.has(r.s.key))
      .sort((a, b) => Math.abs(a.y - atY) - Math.abs(b.y - atY))
      .slice(0, 6)
      .sort((a, b) => b.y - a.y);
    this.tooltip.replaceChildren();
    const time = document.createElement('div');
    time.className = 'chart-tooltip-time';
    const utc = this.utc();
    time.textContent = `${formatTime(this.xs[idx] * 1000, { utc })}${utc ? ' UTC' : ''}`;
    this.tooltip.appendChild(time);
    for (const r of rows) {
      const row = document.createElement('div');
      row.className = 'chart-tooltip-row';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = r.s.color;
      const name = document.createElement('span');
      name.className = 'chart-tooltip-name';
      name.textContent = r.s.name;
      const value = document.createElement('span');
      value.className = 'chart-tooltip-value';
      value.textContent = (r.s.format ?? this.format)(r.v);
      row.append(swatch, name, value);
      this.tooltip.appendChild(row);
    }
    this.tooltip.hidden = rows.length === 0;
    // From uPlot's own box, not clientWidth: reading layout here forced a reflow on every move.
    const overWidth = u.bbox.width / uPlot.pxRatio;
    const left = u.cursor.left + 16;
    this.tooltip.style.left = `${left + 260 > overWidth ? Math.max(u.cursor.left - 276, 0) : left}px`;
    this.tooltip.style.top = `${Math.max(u.cursor.top - 20, 0)}px`;
  }

  /** The legend's series with their calcs, sorted as the dashboard asks (`sortBy`, `sortDesc`). */
  legendRows() {
    const calcs = (Array.isArray(this.legend.calcs) ? this.legend.calcs : []).map((c) => reducerId(c)).filter(Boolean);
    let rows = this.series
      .filter((s) => !s.hideFromLegend)
      .map((s) => ({ s, values: calcs.map((c) => reduceValues(c, s.raw ?? s.values)) }));
    const sortCalc = reducerId(this.legend.sortBy);
    const at = calcs.indexOf(sortCalc);
    if (sortCalc) {
      const key = (r) => (at >= 0 ? r.values[at] : reduceValues(sortCalc, r.s.raw ?? r.s.values)) ?? -Infinity;
      rows = rows.sort((a, b) => (key(a) - key(b)) * (this.legend.sortDesc ? -1 : 1));
    }
    return { calcs, rows };
  }

  /** A click shows only that series (again: all); Ctrl/Cmd+click hides or shows it. */
  pickable(el, key) {
    el.dataset.key = key;
    el.title = 'Click: show only this series (again: all). Ctrl/Cmd+click: hide or show it.';
    const pick = (ev) => {
      if (ev.ctrlKey || ev.metaKey) this.toggle(key);
      else this.isolate(key);
    };
    el.addEventListener('click', pick);
    if (el.tagName !== 'BUTTON') {
      el.tabIndex = 0;
      el.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          pick(ev);
        }
      });
    }
  }

  renderLegend() {
    this.legendEl.replaceChildren();
    if (this.legend.displayMode === 'table') {
      this.renderLegendTable();
      return;
    }
    const { calcs, rows } = this.legendRows();
    for (const { s, values } of rows) {
      const item = document.createElement('button');
      item.type = 'button';
      item.className = 'legend-item';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = s.color;
      const name = document.createElement('span');
      name.className = 'legend-name';
      name.textContent = s.name;
      item.append(swatch, name);
      // Grafana's list legend writes each calc after the name ("Mean: 1.2").
      const format = s.format ?? this.format;
      values.forEach((v, i) => {
        const calc = document.createElement('span');
        calc.className = 'legend-calc-value';
        calc.textContent = `${REDUCER_NAMES[calcs[i]] ?? calcs[i]}: ${v === null ? '' : format(v)}`;
        item.append(calc);
      });
      this.pickable(item, s.key);
      this.legendEl.appendChild(item);
    }
    this.syncLegend();
  }

  /** Grafana's legend table: a row per series with the dashboard's calcs, sorted by one. */
  renderLegendTable() {
    const { calcs, rows } = this.legendRows();
    const table = document.createElement('table');
    table.className = 'legend-table';
    const head = table.createTHead().insertRow();
    const cell = (tag, text, className) => {
      const el = document.createElement(tag);
      el.textContent = text;
      if (className) el.className = className;
      return el;
    };
    head.append(cell('th', 'Name'), ...calcs.map((c) => cell('th', REDUCER_NAMES[c] ?? c, 'legend-calc')));
    const body = table.createTBody();
    for (const { s, values } of rows) {
      const tr = body.insertRow();
      tr.className = 'legend-item';
      const name = cell('td', '', 'legend-name-cell');
      const swatch = cell('span', '', 'swatch');
      swatch.style.background = s.color;
      name.append(swatch, cell('span', s.name, 'legend-name'));
      const format = s.format ?? this.format;
      tr.append(name, ...values.map((v) => cell('td', v === null ? '' : format(v), 'legend-value')));
      this.pickable(tr, s.key);
      name.title = s.name;
      body.append(tr);
    }
    this.legendEl.append(table);
    this.syncLegend();
  }

  syncLegend() {
    for (const item of this.legendEl.querySelectorAll('.legend-item')) {
      const shown = !this.hidden.has(item.dataset.key);
      item.classList.toggle('legend-hidden', !shown);
      item.setAttribute('aria-pressed', String(shown));
    }
  }

  /** Show only `key`; when it is already the only one shown, show every series again. */
  isolate(key) {
    const others = this.series.filter((s) => s.key !== key);
    const alone = !this.hidden.has(key) && others.every((s) => this.hidden.has(s.key));
    this.hidden = alone ? new Set() : new Set(others.map((s) => s.key));
    this.applyVisibility();
    this.onVisibility(this.hidden);
  }

  /** Hide `key` if shown, show it if hidden. */
  toggle(key) {
    if (this.hidden.has(key)) this.hidden.delete(key);
    else this.hidden.add(key);
    this.applyVisibility();
    this.onVisibility(this.hidden);
  }

  applyVisibility() {
    const u = this.plot;
    if (!u) return;
    if (this.stacked) {
      // The stack and its bands change with what is shown: draw it again.
      this.render(this.xs, this.series, { stacked: true, percent: this.percent });
      return;
    }
    u.batch(() => {
      this.series.forEach((s, i) => {
        const show = !this.hidden.has(s.key);
        if (u.series[i + 1].show !== show) u.setSeries(i + 1, { show });
      });
    });
    this.syncLegend();
  }

  destroyPlot() {
    this.markers?.remove();
    this.markers = null;
    this.overlay?.clear();
    if (this.plot) {
      this.plot.destroy();
      this.plot = null;
    }
  }

  destroy() {
    this.destroyPlot();
    this.legendEl.replaceChildren();
  }
}
