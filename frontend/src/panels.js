// Dashboard panels: each panel type draws the data of its targets (already interpolated by the
// server's view) into its body. Everything from the dashboard (titles, legends, values, text)
// goes into the page as text nodes; text panels go through the safe Markdown subset.
//
// Types: timeseries (uPlot; old graph panels arrive described as timeseries), stat (value,
// threshold colour, sparkline), gauge, bargauge, table, heatmap (Prometheus buckets), text.
// Anything else shows a message. Table and stat panels apply the dashboard's transformations
// (transforms.js); time series draw the dashboard's annotations; links (the panel's, and data
// links on table cells and stat values) are made only from http(s) or relative URLs.
import { promApi } from './api.js';
import { ExemplarLayer, queryExemplars } from './exemplars.js';
import { Chart, PALETTE } from './chart.js';
import { legendName } from './labels.js';
import { anchor, dataLinkUrl, safeHref } from './links.js';
import { htmlText, renderMarkdown } from './markdown.js';
import { reduceValues } from './reducers.js';
import { cssColor, thresholdColor, thresholdValues } from './thresholds.js';
import { applyTransformations, concatFrames, framesFromSeries } from './transforms.js';
import { formatUnit, knownUnit } from './units.js';
import { mapValue } from './mappings.js';

const HEADER_PX = 30;

function parseSample(v) {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  return Number.isNaN(n) ? null : n;
}

function node(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** What a panel's field config says about its values (Grafana's fieldConfig.defaults). */
function fieldDefaults(panel) {
  const d = panel.fieldConfig?.defaults ?? {};
  const unit = typeof d.unit === 'string' ? d.unit : '';
  return {
    unit,
    decimals: Number.isInteger(d.decimals) ? d.decimals : undefined,
    min: typeof d.min === 'number' ? d.min : undefined,
    max: typeof d.max === 'number' ? d.max : undefined,
    thresholds: d.thresholds,
    color: d.color ?? {},
    custom: d.custom ?? {},
    displayName: typeof d.displayName === 'string' ? d.displayName : '',
    links: Array.isArray(d.links) ? d.links : [],
    mappings: Array.isArray(d.mappings) ? d.mappings : [],
  };
}

/** Grafana's `stringToJsRegex`: `/pattern/flags` or a bare pattern. */
function jsRegex(text) {
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(text);
  return m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(text);
}

/** Override properties that apply to a series (byName, byRegexp, byFrameRefID matchers). */
function overridesFor(panel, series) {
  const out = {};
  const list = Array.isArray(panel.fieldConfig?.overrides) ? panel.fieldConfig.overrides : [];
  for (const o of list) {
    const m = o?.matcher ?? {};
    let hit = false;
    if (m.id === 'byName') hit = m.options === series.name;
    else if (m.id === 'byFrameRefID') hit = m.options === series.refId;
    else if (m.id === 'byRegexp') {
      try {
        hit = jsRegex(String(m.options)).test(series.name);
      } catch {
        hit = false;
      }
    }
    if (!hit || !Array.isArray(o.properties)) continue;
    for (const p of o.properties) if (p && typeof p.id === 'string') out[p.id] = p.value;
  }
  return out;
}

function seriesColor(defaults, overrides, index) {
  const fixed = overrides.color ?? defaults.color;
  if (fixed?.mode === 'fixed' && fixed.fixedColor) return cssColor(fixed.fixedColor);
  const hex = PALETTE[index % PALETTE.length];
  return hex;
}

/** The range query's step grid: Grafana aligns start and end to the step. */
function grid(range, step) {
  const stepMs = Math.max(step * 1000, 1);
  return {
    start: Math.floor(range.from / stepMs) * stepMs,
    end: Math.ceil(range.to / stepMs) * stepMs,
    step: stepMs / 1000,
  };
}

/** Every visible target's series: [{refId, metric, name, times (s), values}]. */
async function fetchSeries(panel, ctx, { instant = false } = {}) {
  const out = [];
  const errors = [];
  await Promise.all(
    panel.targets.map(async (t) => {
      try {
        if (instant || t.instant) {
          const body = await promApi(
            '/api/v1/query',
            { query: t.expr, time: String(ctx.range.to / 1000) },
            ctx.signal,
          );
          for (const s of vectorOf(body.data)) {
            out.push({ target: t, refId: t.refId, metric: s.metric, times: [s.value[0]], values: [parseSample(s.value[1])] });
          }
        } else {
          const g = grid(ctx.range, t.step);
          const body = await promApi(
            '/api/v1/query_range',
            { query: t.expr, start: String(g.start / 1000), end: String(g.end / 1000), step: String(g.step) },
            ctx.signal,
          );
          for (const s of body.data.result ?? []) {
            out.push({
              target: t,
              refId: t.refId,
              metric: s.metric,
              times: s.values.map(([x]) => x),
              values: s.values.map(([, v]) => parseSample(v)),
            });
          }
        }
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        errors.push(`${t.refId}: ${err.message}`);
      }
    }),
  );
  const order = new Map(panel.targets.map((t, i) => [t.refId, i]));
  out.sort((a, b) => order.get(a.refId) - order.get(b.refId));
  for (const s of out) s.name = legendName(s.target.legendFormat, s.metric);
  return { series: out, errors };
}

function vectorOf(data) {
  if (data.resultType === 'vector') return data.result;
  if (data.resultType === 'scalar') return [{ metric: {}, value: data.result }];
  return [];
}

/** One x axis for every series (the union of their times) and each series' values on it. */
function align(series) {
  const times = [...new Set(series.flatMap((s) => s.times))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const aligned = series.map((s) => {
    const values = new Array(times.length).fill(null);
    s.times.forEach((t, i) => {
      const v = s.values[i];
      values[index.get(t)] = v === null || !Number.isFinite(v) ? null : v;
    });
    return values;
  });
  return { times, aligned };
}

function reduce(panel, values) {
  const calc = panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  return reduceValues(calc, values);
}

// -- time series ---------------------------------------------------------------------------

/**
 * The exemplars of the targets that ask for them (Grafana's `exemplar: true`; range queries
 * only, as Grafana): [{refId, points}]; a failed request adds to `errors` and draws none.
 */
async function fetchExemplars(panel, ctx, errors) {
  const wanted = panel.targets.filter((t) => t.exemplar === true && !t.instant);
  return Promise.all(
    wanted.map(async (t) => {
      try {
        return { refId: t.refId, points: await queryExemplars(t.expr, ctx.range.from / 1000, ctx.range.to / 1000, ctx.signal) };
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        errors.push(`${t.refId}: exemplars: ${err.message}`);
        return { refId: t.refId, points: [] };
      }
    }),
  );
}

async function drawTimeSeries(panel, body, ctx) {
  const defaults = fieldDefaults(panel);
  const exemplarErrors = [];
  const [{ series, errors }, events, exemplars] = await Promise.all([
    fetchSeries(panel, ctx),
    ctx.annotations ?? [],
    fetchExemplars(panel, ctx, exemplarErrors),
  ]);
  errors.push(...exemplarErrors);
  const custom = defaults.custom;
  // Grafana's `transform: negative-Y` override draws a series below the axis (network in/out).
  const perSeries = series.map((s) => overridesFor(panel, s));
  const { times, aligned } = align(series);
  // Drawn below the axis; legends and the tooltip keep the values themselves, as Grafana's do.
  const plotted = aligned.map((vs, i) => (perSeries[i]['custom.transform'] === 'negative-Y' ? vs.map((v) => (v === null ? null : -v)) : vs));
  const plot = node('div', 'panel-plot');
  const legend = node('div', 'legend panel-legend');
  body.replaceChildren(plot, legend);
  const legendOpts = panel.options?.legend ?? {};
  const showLegend = legendOpts.showLegend !== false && legendOpts.displayMode !== 'hidden';
  legend.hidden = !showLegend;
  body.classList.toggle('legend-right', showLegend && legendOpts.placement === 'right');
  legend.classList.toggle('legend-as-table', legendOpts.displayMode === 'table');
  if (series.length === 0) {
    plot.append(node('p', 'no-data', 'No data'));
    return { errors, drawn: false };
  }
  const stacking = custom.stacking?.mode;
  const thresholdStyle = custom.thresholdsStyle?.mode ?? 'off';
  const min = defaults.min ?? 0;
  const max = defaults.max ?? Math.max(...aligned.flat().filter((v) => v !== null), 1);
  const thresholds = thresholdStyle === 'off'
    ? []
    : thresholdValues(defaults.thresholds, min, max).map((t) => ({
        ...t,
        area: thresholdStyle.includes('area'),
        line: thresholdStyle !== 'area',
      }));
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const chartSeries = series.map((s, i) => {
    const o = perSeries[i];
    const unit = typeof o.unit === 'string' ? o.unit : null;
    return {
      key: `${s.refId}/${i}/${s.name}`,
      name: typeof o.displayName === 'string' && o.displayName ? o.displayName : s.name,
      color: seriesColor(defaults, o, i),
      values: plotted[i],
      raw: aligned[i],
      drawStyle: o['custom.drawStyle'] ?? custom.drawStyle,
      fillOpacity: num(o['custom.fillOpacity']),
      lineWidth: num(o['custom.lineWidth']),
      hideFromLegend: o['custom.hideFrom']?.legend === true || custom.hideFrom?.legend === true,
      format: unit === null ? undefined : (v) => formatUnit(v, unit, defaults.decimals),
    };
  });
  // An exemplar takes the colour of its target's series whose labels its series has, else of
  // the target's first series.
  const layer = new ExemplarLayer();
  layer.set(
    exemplars.flatMap(({ refId, points }) => {
      const own = chartSeries.map((c, i) => ({ c, s: series[i] })).filter(({ s }) => s.refId === refId);
      return points.map((p) => {
        const match = own.find(({ s }) => Object.entries(s.metric).every(([k, v]) => p.seriesLabels[k] === v)) ?? own[0];
        return { ...p, color: match?.c.color };
      });
    }),
  );
  const chart = new Chart(plot, legend, {
    overlay: layer,
    onZoom: ctx.onZoom,
    height: () => plot.clientHeight || 150,
    format: (v) => formatUnit(v, defaults.unit, defaults.decimals),
    thresholds,
    fillOpacity: num(custom.fillOpacity),
    lineWidth: num(custom.lineWidth),
    range: { min: defaults.min, max: defaults.max },
    legend: legendOpts,
    axis: { hidden: custom.axisPlacement === 'hidden', softMin: num(custom.axisSoftMin), softMax: num(custom.axisSoftMax) },
    annotations: events,
  });
  chart.render(times, chartSeries, { stacked: stacking === 'normal', percent: stacking === 'percent' });
  ctx.track(chart);
  const notes = [...errors];
  if (!knownUnit(defaults.unit)) notes.push(`Unit ${defaults.unit} is not supported; values are shown as numbers`);
  return { errors: notes, drawn: true };
}

// -- stat, gauge, bar gauge --------------------------------------------------------------

function reducedValues(panel, series) {
  const defaults = fieldDefaults(panel);
  return series.map((s, i) => {
    const o = overridesFor(panel, s);
    const value = reduce(panel, s.values);
    const min = defaults.min ?? 0;
    const max = defaults.max ?? 100;
    // Value mappings (1 -> "UP") replace the text and the threshold colour where they say so.
    const mapped = mapValue(value, Array.isArray(o.mappings) ? o.mappings : defaults.mappings);
    return {
      name: typeof o.displayName === 'string' ? o.displayName : defaults.displayName || s.name,
      value,
      text: mapped?.text ?? formatUnit(value, o.unit ?? defaults.unit, o.decimals ?? defaults.decimals),
      color: mapped?.color
        ? cssColor(mapped.color)
        : thresholdColor(value, o.thresholds ?? defaults.thresholds, min, max, seriesColor(defaults, o, i)),
      values: s.values,
      times: s.times,
      labels: s.metric ?? {},
    };
  });
}

function sparkline(canvas, times, values, color) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  canvas.width = Math.max(Math.round(w * dpr), 1);
  canvas.height = Math.max(Math.round(h * dpr), 1);
  const c = canvas.getContext('2d');
  c.scale(dpr, dpr);
  const pts = times.map((t, i) => [t, values[i]]).filter(([, v]) => v !== null && Number.isFinite(v));
  if (pts.length < 2) return;
  const [t0, t1] = [pts[0][0], pts.at(-1)[0]];
  const vs = pts.map(([, v]) => v);
  const [lo, hi] = [Math.min(...vs), Math.max(...vs)];
  const x = (t) => ((t - t0) / (t1 - t0 || 1)) * w;
  const y = (v) => h - ((v - lo) / (hi - lo || 1)) * (h - 2) - 1;
  c.beginPath();
  pts.forEach(([t, v], i) => (i ? c.lineTo(x(t), y(v)) : c.moveTo(x(t), y(v))));
  c.strokeStyle = color;
  c.lineWidth = 1.5;
  c.stroke();
  c.lineTo(x(t1), h);
  c.lineTo(x(t0), h);
  c.closePath();
  c.globalAlpha = 0.2;
  c.fillStyle = color;
  c.fill();
}

/** Series again from transformed frames: each number field, with the frame's time field. */
function seriesFromFrames(frames) {
  const out = [];
  for (const fr of frames) {
    const time = fr.fields.find((f) => f.type === 'time');
    for (const f of fr.fields) {
      if (f.type !== 'number') continue;
      out.push({ refId: fr.refId, name: f.name, metric: f.labels ?? {}, values: f.values, times: time ? time.values.map((t) => t / 1000) : f.values.map((_, i) => i) });
    }
  }
  return out;
}

/** The panel's series, through its transformations when it has some; messages say what was skipped. */
async function transformedSeries(panel, ctx) {
  const { series, errors } = await fetchSeries(panel, ctx);
  if (!panel.transformations?.length) return { series, errors };
  const { frames, messages } = applyTransformations(framesFromSeries(series), panel.transformations);
  return { series: seriesFromFrames(frames), errors: [...errors, ...messages] };
}

/** The first data link of the panel's fields, filled in for `item`, as a safe href or null. */
function dataLinkHref(panel, item) {
  const link = fieldDefaults(panel).links.find((l) => l && typeof l.url === 'string');
  if (!link) return null;
  return { href: safeHref(dataLinkUrl(link.url, item)), link };
}

async function drawStat(panel, body, ctx) {
  const { series, errors } = await transformedSeries(panel, ctx);
  const items = reducedValues(panel, series);
  body.replaceChildren();
  if (items.length === 0) {
    body.append(node('p', 'no-data stat-value', 'No data'));
    return { errors, drawn: false };
  }
  const colorMode = panel.options?.colorMode ?? 'value';
  const graphMode = panel.options?.graphMode ?? 'area';
  const wrap = node('div', 'stat-grid');
  // Several values side by side when the panel is wider than tall, else one above the other,
  // as Grafana's "auto" orientation lays them out; the text scales with its cell.
  const orientation = panel.options?.orientation;
  const horizontal = orientation === 'horizontal' || (orientation !== 'vertical' && body.clientWidth >= body.clientHeight);
  wrap.classList.add(horizontal ? 'stat-horizontal' : 'stat-vertical');
  for (const item of items.slice(0, 50)) {
    const cell = node('div', 'stat');
    const value = node('div', 'stat-value');
    const linked = dataLinkHref(panel, { labels: item.labels, name: item.name, raw: item.value, text: item.text });
    if (linked?.href) value.append(anchor(linked.href, item.text, { blank: linked.link.targetBlank === true, title: linked.link.title ?? '' }));
    else value.textContent = item.text;
    if (colorMode === 'background') {
      cell.style.background = item.color;
      value.style.color = '#fff';
    } else if (colorMode !== 'none') {
      value.style.color = item.color;
    }
    if (items.length > 1 || panel.options?.textMode === 'value_and_name') cell.append(node('div', 'stat-name', item.name));
    cell.append(value);
    if (graphMode !== 'none' && item.values.length > 1) {
      const canvas = node('canvas', 'sparkline');
      cell.append(canvas);
      requestAnimationFrame(() => sparkline(canvas, item.times, item.values, colorMode === 'background' ? '#fff' : item.color));
    }
    wrap.append(cell);
  }
  body.append(wrap);
  return { errors, drawn: true };
}

function drawArc(canvas, fraction, color) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  canvas.width = Math.max(Math.round(w * dpr), 1);
  canvas.height = Math.max(Math.round(h * dpr), 1);
  const c = canvas.getContext('2d');
  c.scale(dpr, dpr);
  const r = Math.max(Math.min(w / 2, h * 0.62) - 8, 10);
  const cx = w / 2;
  const cy = Math.min(h - 4, r + 8);
  const start = Math.PI * 0.8;
  const sweep = Math.PI * 1.4;
  c.lineWidth = Math.max(r * 0.2, 6);
  c.lineCap = 'butt';
  c.strokeStyle = 'rgba(204, 204, 220, 0.12)';
  c.beginPath();
  c.arc(cx, cy, r, start, start + sweep);
  c.stroke();
  c.strokeStyle = color;
  c.beginPath();
  c.arc(cx, cy, r, start, start + sweep * Math.min(Math.max(fraction, 0), 1));
  c.stroke();
}

async function drawGauge(panel, body, ctx) {
  const defaults = fieldDefaults(panel);
  const { series, errors } = await transformedSeries(panel, ctx);
  const items = reducedValues(panel, series);
  body.replaceChildren();
  if (items.length === 0) {
    body.append(node('p', 'no-data stat-value', 'No data'));
    return { errors, drawn: false };
  }
  const min = defaults.min ?? 0;
  const max = defaults.max ?? 100;
  const wrap = node('div', 'gauge-grid');
  for (const item of items.slice(0, 20)) {
    const cell = node('div', 'gauge');
    const canvas = node('canvas', 'gauge-canvas');
    const value = node('div', 'gauge-value', item.text);
    value.style.color = item.color;
    cell.append(canvas, value);
    if (items.length > 1) cell.append(node('div', 'stat-name', item.name));
    wrap.append(cell);
    requestAnimationFrame(() => drawArc(canvas, (item.value - min) / (max - min || 1), item.color));
  }
  body.append(wrap);
  return { errors, drawn: true };
}

async function drawBarGauge(panel, body, ctx) {
  const defaults = fieldDefaults(panel);
  const { series, errors } = await transformedSeries(panel, ctx);
  const items = reducedValues(panel, series);
  body.replaceChildren();
  if (items.length === 0) {
    body.append(node('p', 'no-data stat-value', 'No data'));
    return { errors, drawn: false };
  }
  const min = defaults.min ?? 0;
  const max = defaults.max ?? Math.max(...items.map((i) => i.value ?? 0), 1);
  const list = node('div', 'bargauge');
  for (const item of items.slice(0, 100)) {
    const row = node('div', 'bargauge-row');
    const bar = node('div', 'bargauge-bar');
    const fill = node('div', 'bargauge-fill');
    const fraction = Math.min(Math.max(((item.value ?? min) - min) / (max - min || 1), 0), 1);
    fill.style.width = `${(fraction * 100).toFixed(2)}%`;
    fill.style.background = item.color;
    bar.append(fill);
    const value = node('span', 'bargauge-value', item.text);
    value.style.color = item.color;
    row.append(node('span', 'bargauge-name', item.name), bar, value);
    list.append(row);
  }
  body.append(list);
  return { errors, drawn: true };
}

// -- table ---------------------------------------------------------------------------------

function cellText(panel, f, v) {
  if (f.type === 'time') return v === null || v === undefined ? '' : new Date(v).toLocaleString();
  const defaults = fieldDefaults(panel);
  const o = overridesFor(panel, { name: f.name, refId: '' });
  const mapped = mapValue(v, Array.isArray(o.mappings) ? o.mappings : defaults.mappings);
  if (mapped?.text !== undefined) return mapped.text;
  if (v === null || v === undefined) return '';
  if (f.type === 'number' && typeof v === 'number') {
    return formatUnit(v, typeof o.unit === 'string' ? o.unit : defaults.unit, Number.isInteger(o.decimals) ? o.decimals : defaults.decimals);
  }
  return String(v);
}

async function drawTable(panel, body, ctx) {
  const defaults = fieldDefaults(panel);
  const transformations = panel.transformations ?? [];
  // Without transformations a table shows each series' latest value; transformations such as
  // reduce need the range, so then only the panel's instant or table-format queries are instant.
  const { series, errors } = await fetchSeries(panel, ctx, { instant: transformations.length === 0 });
  body.replaceChildren();
  if (series.length === 0) {
    body.append(node('p', 'no-data', 'No data'));
    return { errors, drawn: false };
  }
  const tableLike = series.filter((s) => s.target.instant || s.target.format === 'table' || transformations.length === 0);
  const rangeLike = series.filter((s) => !tableLike.includes(s));
  const frames = [...framesFromSeries(tableLike, { table: true }), ...framesFromSeries(rangeLike)];
  const { frames: out, messages } = applyTransformations(frames, transformations);
  const frame = concatFrames(out.length ? out : [{ name: '', refId: 'A', fields: [] }]);
  const fields = frame.fields.map((f) => {
    const o = overridesFor(panel, { name: f.name, refId: frame.refId });
    return {
      f,
      title: typeof o.displayName === 'string' && o.displayName ? o.displayName : f.name,
      hidden: o['custom.hidden'] === true || o['custom.hideFrom']?.viz === true,
      links: Array.isArray(o.links) ? o.links : defaults.links,
    };
  }).filter((c) => !c.hidden);
  const n = frame.fields.reduce((m, f) => Math.max(m, f.values.length), 0);
  const table = node('table', 'data-table panel-table');
  const head = table.createTHead().insertRow();
  for (const c of fields) head.append(node('th', c.f.type === 'number' ? 'value' : '', c.title));
  const tbody = table.createTBody();
  for (let i = 0; i < Math.min(n, 5000); i++) {
    const tr = tbody.insertRow();
    const labels = {};
    for (const c of fields) {
      if (c.f.type !== 'string') continue;
      labels[c.f.name] = c.f.values[i];
      if (c.f.origin) labels[c.f.origin] = c.f.values[i];
    }
    for (const c of fields) {
      const v = c.f.values[i];
      const text = cellText(panel, c.f, v);
      const td = node('td', c.f.type === 'number' ? 'value' : c.f.type === 'time' ? 'time' : 'label-value');
      const link = c.f.type === 'number' ? c.links.find((l) => l && typeof l.url === 'string') : null;
      const href = link ? safeHref(dataLinkUrl(link.url, { labels: { ...labels, ...(c.f.labels ?? {}) }, name: c.f.name, raw: v ?? '', text })) : null;
      if (href) td.append(anchor(href, text, { blank: link.targetBlank === true, title: link.title ?? '' }));
      else td.textContent = text;
      tr.append(td);
    }
  }
  const scroll = node('div', 'table-scroll panel-scroll');
  scroll.append(table);
  body.append(scroll);
  return { errors: [...errors, ...messages], drawn: n > 0 };
}

// -- heatmap -------------------------------------------------------------------------------

function bucketBound(le) {
  if (le === '+Inf') return Infinity;
  const n = Number(le);
  return Number.isNaN(n) ? null : n;
}

/** Grafana's heatmap from Prometheus buckets: per-bucket counts from cumulative ones. */
export function bucketsToCells(series) {
  const withLe = series.filter((s) => bucketBound(s.metric.le) !== null);
  withLe.sort((a, b) => bucketBound(a.metric.le) - bucketBound(b.metric.le));
  const { times, aligned } = align(withLe);
  const counts = aligned.map((vals, i) =>
    vals.map((v, j) => {
      if (v === null) return null;
      const below = i > 0 ? aligned[i - 1][j] : 0;
      return Math.max(v - (below ?? 0), 0);
    }),
  );
  return { times, buckets: withLe.map((s) => s.metric.le), counts };
}

async function drawHeatmap(panel, body, ctx) {
  const { series, errors } = await fetchSeries(panel, ctx);
  const { times, buckets, counts } = bucketsToCells(series);
  body.replaceChildren();
  if (times.length === 0 || buckets.length === 0) {
    body.append(node('p', 'no-data', series.length ? 'No histogram buckets (series with an "le" label)' : 'No data'));
    return { errors, drawn: false };
  }
  const canvas = node('canvas', 'heatmap-canvas');
  const axis = node('div', 'heatmap-axis');
  axis.append(node('span', '', buckets.at(-1)), node('span', '', buckets[0]));
  body.append(axis, canvas);
  requestAnimationFrame(() => {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    canvas.width = Math.max(Math.round(w * dpr), 1);
    canvas.height = Math.max(Math.round(h * dpr), 1);
    const c = canvas.getContext('2d');
    c.scale(dpr, dpr);
    const max = Math.max(...counts.flat().filter((v) => v !== null), 0);
    const cw = w / times.length;
    const ch = h / buckets.length;
    counts.forEach((row, i) => {
      row.forEach((v, j) => {
        if (v === null || v <= 0 || max <= 0) return;
        // Grafana's default scheme ("Oranges", by opacity): more in the bucket, brighter.
        c.globalAlpha = 0.15 + 0.85 * Math.sqrt(v / max);
        c.fillStyle = '#FF9830';
        c.fillRect(j * cw, h - (i + 1) * ch, Math.ceil(cw), Math.ceil(ch) - 1);
      });
    });
    c.globalAlpha = 1;
  });
  return { errors, drawn: true };
}

// -- text ----------------------------------------------------------------------------------

function drawText(panel, body) {
  const text = panel.text ?? { content: '', mode: 'markdown' };
  const box = node('div', 'text-panel');
  if (text.mode === 'html') box.append(node('p', '', htmlText(text.content)));
  else if (text.mode === 'code') box.append(node('pre', '', text.content));
  else box.append(renderMarkdown(text.content));
  body.replaceChildren(box);
  return { errors: [], drawn: true };
}

const DRAW = {
  timeseries: drawTimeSeries,
  graph: drawTimeSeries,
  stat: drawStat,
  gauge: drawGauge,
  bargauge: drawBarGauge,
  table: drawTable,
  heatmap: drawHeatmap,
  text: drawText,
};

/** A panel's frame: title, description and where its body and messages go. */
export function panelFrame(panel) {
  const el = node('section', 'dash-panel');
  el.dataset.type = panel.type;
  el.dataset.key = panel.key;
  const { x, y, w, h } = panel.gridPos;
  el.style.setProperty('--x', String(x + 1));
  el.style.setProperty('--y', String(y + 1));
  el.style.setProperty('--w', String(w));
  el.style.setProperty('--h', String(h));
  const header = node('header', 'panel-header');
  const title = node('h3', 'panel-title', panel.title);
  if (panel.description) title.title = panel.description;
  header.append(title);
  const links = (panel.links ?? []).map((l) => ({ l, href: safeHref(l.url) })).filter((x) => x.href);
  if (links.length) {
    const nav = node('span', 'panel-links');
    for (const { l, href } of links.slice(0, 10)) nav.append(anchor(href, l.title || href, { blank: l.targetBlank === true }));
    header.append(nav);
  }
  const bodyEl = node('div', 'panel-body');
  bodyEl.style.setProperty('--body-h', `${h * 30 + (h - 1) * 8 - HEADER_PX}px`);
  const messages = node('div', 'panel-messages');
  messages.setAttribute('role', 'status');
  el.append(header, bodyEl, messages);
  el.setAttribute('aria-label', panel.title || panel.type);
  return el;
}

/** Draw `panel` into its frame; its errors and notes appear inside it. */
export async function drawPanel(panel, frame, ctx) {
  const body = frame.querySelector('.panel-body');
  const messages = frame.querySelector('.panel-messages');
  messages.replaceChildren();
  const notes = [...(panel.messages ?? [])];
  const draw = DRAW[panel.type];
  let drawn = false;
  if (draw && !(panel.type !== 'text' && panel.targets.length === 0 && notes.length)) {
    try {
      const result = await draw(panel, body, ctx);
      notes.push(...result.errors);
      drawn = result.drawn;
    } catch (err) {
      if (err.name === 'AbortError') return;
      notes.push(`Could not draw this panel: ${err.message}`);
    }
  }
  frame.dataset.drawn = drawn ? 'true' : 'false';
  for (const n of notes) messages.append(node('p', 'panel-message', n));
}
