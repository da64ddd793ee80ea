// "Why?" panels (the Alerts and Incident pages): a <div class="why"> carries a PromQL
// expression and a window (data-query, data-time in Unix seconds, data-window as `900s`); the
// first time its button opens it, it asks /api/spyglass/v1/why and draws what carries the change (label
// values ranked by their share, with a bar) and what else changed in the window: deploys, new or
// regressed error issues, log patterns, slower trace operations, each linking to its page.
// Everything from the answer goes in as text nodes, never as HTML.
import './why.css';

const API = '/api/spyglass/v1/why';
const SVG = 'http://www.w3.org/2000/svg';
const MIN_SHARE = 0.01;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function number(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (Math.abs(v) < 1e-9) return '0'; // float noise of a difference that is none
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(3) : String(+v.toFixed(3));
}

function shareBar(share) {
  const width = Math.round(Math.min(Math.max(share, 0), 1) * 10000) / 100;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'bar why-bar');
  svg.setAttribute('viewBox', '0 0 100 8');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  for (const [cls, w] of [['bar-bg', 100], ['bar-fill', width]]) {
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('class', cls);
    rect.setAttribute('x', '0');
    rect.setAttribute('y', '0');
    rect.setAttribute('width', String(w));
    rect.setAttribute('height', '8');
    svg.append(rect);
  }
  return svg;
}

function labelSpans(labels) {
  const cell = el('td', { class: 'labels' });
  for (const [k, v] of Object.entries(labels)) cell.append(el('span', { class: 'label' }, `${k}="${v}"`), ' ');
  return cell;
}

function contributorsTable(contributors) {
  const body = el('tbody');
  for (const c of contributors) {
    const pct = `${Math.round(c.share * 100)}%`;
    const row = el('tr', { class: 'why-contributor' });
    row.append(
      labelSpans(c.labels),
      el('td', { class: 'why-share', 'data-label': 'Share' }, shareBar(c.share), el('span', { class: 'why-share-value' }, pct)),
      el('td', { class: 'num', 'data-label': 'Before' }, number(c.baseline)),
      el('td', { class: 'num', 'data-label': 'Window' }, number(c.window)),
      el('td', { class: 'num', 'data-label': 'Change' }, `${c.delta >= 0 ? '+' : ''}${number(c.delta)}`),
    );
    body.append(row);
  }
  const head = el('thead', {}, el('tr', {}, ...['Labels', 'Share of the change', 'Before', 'Window', 'Change'].map((t) => el('th', {}, t))));
  return el('div', { class: 'table-scroll' }, el('table', { class: 'data-table stack-table why-table' }, head, body));
}

function logsLink(detail, data) {
  const service = detail.service ? `{service_name=${JSON.stringify(detail.service)}}` : '{service_name=~".+"}';
  // The longest literal run of the template finds its lines: placeholders are <...>.
  const literal = (detail.template || '').split(/<[^>]*>/).map((s) => s.trim()).sort((a, b) => b.length - a.length)[0];
  const query = literal ? `${service} |= ${JSON.stringify(literal)}` : service;
  const p = new URLSearchParams({
    query,
    from: String(Math.round(data.window[0] * 1000)),
    to: String(Math.round(data.window[1] * 1000)),
  });
  return `/logs?${p}`;
}

function tracesLink(detail) {
  return `/traces?${new URLSearchParams({ service: detail.service, operation: detail.operation })}`;
}

function findingItem(f, data) {
  const d = f.detail || {};
  switch (f.kind) {
    case 'error_issue':
      return el('li', {}, el('a', { href: `/errors/${encodeURIComponent(d.id)}` }, f.title));
    case 'log_pattern':
      return el('li', {}, el('a', { href: logsLink(d, data) }, f.title),
        el('span', { class: 'muted' }, ` ${d.count} lines (before: ${d.baselineCount})`));
    case 'trace_operation': {
      const growth = d.growth ? ` (${d.growth.toFixed(1)}×)` : '';
      return el('li', { class: 'why-operation' },
        el('a', { href: tracesLink(d) }, `${d.service} ${d.operation}`),
        el('span', {}, `: p95 ${number(d.baselineP95Ms)} ms → ${number(d.p95Ms)} ms${growth}`));
    }
    default:
      return el('li', {}, f.title);
  }
}

const SECTIONS = [
  ['deploy', 'Deploys'],
  ['error_issue', 'New or regressed error issues'],
  ['log_pattern', 'Log patterns that appeared or grew'],
  ['trace_operation', 'Slower trace operations'],
];

/** Draw the why API's answer into `body`. */
export function renderWhy(body, data) {
  body.replaceChildren();
  const change = data.totalWindow - data.totalBaseline;
  body.append(el('p', { class: 'why-summary' },
    el('span', { class: 'mono' }, data.explained),
    `: ${number(data.totalBaseline)} → ${number(data.totalWindow)} (${change >= 0 ? '+' : ''}${number(change)}) over ${data.series} series`));
  // Label values that carry (almost) none of the change say nothing: leave them out.
  const shown = data.contributors.filter((c) => Math.abs(c.share) >= MIN_SHARE);
  if (shown.length) {
    body.append(el('h3', { class: 'why-heading' }, 'What carries the change'), contributorsTable(shown));
  } else {
    body.append(el('p', { class: 'muted why-no-contributors' },
      data.series ? 'No label value stands out: the change is spread evenly, or there is none.' : 'The expression has no series in the window or the baseline.'));
  }
  const known = new Set(SECTIONS.map(([k]) => k));
  for (const [kind, title] of [...SECTIONS, ['other', 'Other findings']]) {
    const found = data.findings.filter((f) => (kind === 'other' ? !known.has(f.kind) : f.kind === kind));
    if (!found.length) continue;
    body.append(el('h3', { class: 'why-heading' }, title),
      el('ul', { class: `why-findings why-${kind}` }, ...found.map((f) => findingItem(f, data))));
  }
  if (!data.findings.length) {
    body.append(el('p', { class: 'muted why-no-findings' }, 'No deploy, error issue, log pattern or trace operation changed in the window.'));
  }
}

async function load(panel) {
  const body = panel.querySelector('.why-body');
  body.replaceChildren(el('p', { class: 'status why-loading', role: 'status' }, 'Asking what changed…'));
  const p = new URLSearchParams({ query: panel.dataset.query, time: panel.dataset.time, window: panel.dataset.window });
  try {
    const response = await fetch(`${API}?${p}`, { headers: { Accept: 'application/json' } });
    const reply = await response.json().catch(() => null);
    if (!response.ok || !reply || reply.status !== 'success') {
      throw new Error((reply && reply.error) || `${response.status} ${response.statusText}`);
    }
    renderWhy(body, reply.data);
    panel.dataset.state = 'done';
  } catch (err) {
    panel.dataset.state = 'error';
    const retry = el('button', { type: 'button', class: 'why-retry' }, 'Try again');
    retry.addEventListener('click', () => load(panel));
    body.replaceChildren(el('p', { class: 'error why-error', role: 'alert' }, `Could not explain: ${err.message} `), retry);
  }
}

/** Make every "Why?" panel under `root` open and close with its button, loading when first
 * opened. */
export function initWhyPanels(root = document) {
  for (const panel of root.querySelectorAll('div.why')) {
    const button = panel.querySelector('.why-toggle');
    const body = panel.querySelector('.why-body');
    button.addEventListener('click', () => {
      const open = button.getAttribute('aria-expanded') !== 'true';
      button.setAttribute('aria-expanded', String(open));
      body.hidden = !open;
      if (open && !panel.dataset.state) {
        panel.dataset.state = 'loading';
        load(panel);
      }
    });
  }
}
