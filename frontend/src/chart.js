// The graph: uPlot (what Grafana draws time series with) plus a legend and a tooltip of our own.
//
// Legend clicks follow Grafana: a click shows only that series (a second click on it shows all
// again), Ctrl/Cmd+click hides or shows just that one. Dragging across the plot zooms: the
// chart hands the selected time range to `onZoom`, which makes it the new range.
import uPlot from 'uplot';
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
   *   `thresholds` are drawn as dashed lines (and bands with `area`), as dashboards ask;
   *   `utc` says whether times show in UTC (else the browser's zone), `onVisibility` hears the
   *   hidden series' keys after each legend click.
   */
  constructor(
    plotEl,
    legendEl,
    { onZoom, height, format, thresholds, fillOpacity, lineWidth, range, utc, onVisibility } = {},
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
  render(xs, series, { stacked, hidden }) {
    this.destroy();
    this.xs = xs;
    this.series = series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
    this.stacked = stacked;
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
          stroke: AXIS,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID },
          // Wide enough for the longest tick label (units make them long: "1.50 MiB").
          size: (u, values) => Math.max(60, Math.max(0, ...(values ?? []).map((v) => String(v).length)) * 7 + 18),
          values: (u, vals) => vals.map((v) => this.format(v)),
        },
      ],
      series: [
        {},
        ...this.series.map((s) => ({
          label: s.name,
          stroke: s.color,
          width: this.lineWidth,
          fill: this.fill(s.color, stacked),
          points: { show: false },
          spanGaps: false,
          show: !this.hidden.has(s.key),
        })),
      ],
      hooks: {
        setSelect: [(u) => this.zoomTo(u)],
        setCursor: [(u) => this.showTooltip(u)],
        drawAxes: [(u) => this.drawThresholds(u)],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.plotEl);
    this.plot.over.appendChild(this.tooltip);
    this.plot.over.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    this.renderLegend();
  }

  /** The y scale: stacked areas start at zero, as Grafana draws them; a dashboard's min/max win. */
  rangeY(stacked, min, max) {
    const [lo, hi] = uPlot.rangeNum(stacked ? Math.min(0, min) : min, max, 0.1, true);
    const { min: fixedMin, max: fixedMax } = this.yRange;
    return [Number.isFinite(fixedMin) ? fixedMin : lo, Number.isFinite(fixedMax) ? fixedMax : hi];
  }

  fill(color, stacked) {
    if (this.fillOpacity === undefined) return stacked ? `${color}55` : undefined;
    const opacity = this.fillOpacity;
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
    // Draw order is reversed when stacking so each filled band sits on the ones below it.
    for (const s of this.series) {
      if (this.hidden.has(s.key)) {
        out.push(s.values);
        continue;
      }
      const stackedValues = s.values.map((v, i) => {
        if (v === null) return null;
        sums[i] += v;
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
      .map((s, i) => ({ s, v: s.values[idx], y: u.data[i + 1][idx] }))
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
      value.textContent = this.format(r.v);
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

  renderLegend() {
    this.legendEl.replaceChildren();
    this.series.forEach((s) => {
      const item = document.createElement('button');
      item.type = 'button';
      item.className = 'legend-item';
      item.dataset.key = s.key;
      item.title = 'Click: show only this series (again: all). Ctrl/Cmd+click: hide or show it.';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = s.color;
      const name = document.createElement('span');
      name.className = 'legend-name';
      name.textContent = s.name;
      item.append(swatch, name);
      item.addEventListener('click', (ev) => {
        if (ev.ctrlKey || ev.metaKey) this.toggle(s.key);
        else this.isolate(s.key);
      });
      this.legendEl.appendChild(item);
    });
    this.syncLegend();
  }

  syncLegend() {
    for (const item of this.legendEl.children) {
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
      this.render(this.xs, this.series, { stacked: true });
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

  destroy() {
    if (this.plot) {
      this.plot.destroy();
      this.plot = null;
    }
    this.legendEl.replaceChildren();
  }
}
