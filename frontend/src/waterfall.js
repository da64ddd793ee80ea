// A trace's waterfall: the server renders every span as a row (indented by depth, its bar on
// the trace's time axis), without its details, so a trace of thousands of spans stays a light
// page. This script folds and unfolds subtrees (a row's ▾ button, or Collapse all / Expand
// all) and opens a span's details when its name is clicked (Enter on the focused link): the
// first time, it fetches them from `/traces/<trace>/spans/<span>`, an HTML fragment the server
// renders from the same template as the page. Without this script the name is a plain link to
// the page with that span's details open (`?span=<id>`). A URL ending in `#span-<id>` opens
// that span's details and scrolls to it.
import './traces.css';

const root = document.getElementById('waterfall');

/** Hide every row below a collapsed one, and their details; show the rest. */
function layout(rows) {
  let hideBelow = Infinity; // depth of the collapsed ancestor the walk is inside, if any
  for (const row of rows) {
    const depth = Number(row.dataset.depth);
    if (depth <= hideBelow) hideBelow = Infinity;
    const hidden = depth > hideBelow;
    row.hidden = hidden;
    const detail = document.getElementById(`detail-${row.dataset.span}`);
    if (detail && hidden) detail.hidden = true;
    if (detail && !hidden) detail.hidden = row.querySelector('.wf-span').getAttribute('aria-expanded') !== 'true';
    const toggle = row.querySelector('.wf-toggle');
    if (!hidden && toggle?.getAttribute('aria-expanded') === 'false') hideBelow = depth;
  }
}

function setToggle(toggle, open) {
  toggle.setAttribute('aria-expanded', String(open));
  toggle.textContent = open ? '▾' : '▸';
}

/** The fragment's text, or an Error saying why there is none. */
async function fetchDetail(spanId) {
  const url = `/traces/${encodeURIComponent(root.dataset.trace)}/spans/${encodeURIComponent(spanId)}`;
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'text/html' } });
  } catch (err) {
    throw new Error(`cannot reach Spyglass: ${err.message}`);
  }
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.text();
}

/** The row's details section, made and filled on first use. */
function detailOf(row) {
  const id = `detail-${row.dataset.span}`;
  const existing = document.getElementById(id);
  if (existing) return existing;
  const section = document.createElement('section');
  section.className = 'wf-detail';
  section.id = id;
  section.setAttribute('aria-label', `Span ${row.querySelector('.wf-op').textContent}`);
  section.setAttribute('aria-busy', 'true');
  const note = document.createElement('p');
  note.className = 'muted wf-detail-loading';
  note.textContent = 'Loading the span’s details…';
  section.append(note);
  row.after(section);
  fetchDetail(row.dataset.span).then(
    (html) => {
      // The server's own template rendered it, every value escaped (Jinja's autoescape).
      section.innerHTML = html;
    },
    (err) => {
      const failed = document.createElement('p');
      failed.className = 'error wf-detail-failed';
      failed.textContent = `Could not load the span’s details: ${err.message}`;
      section.replaceChildren(failed);
    },
  ).finally(() => section.removeAttribute('aria-busy'));
  return section;
}

function openDetails(row, open) {
  row.querySelector('.wf-span').setAttribute('aria-expanded', String(open));
  row.classList.toggle('wf-selected', open);
  if (open) detailOf(row);
}

if (root) {
  const rows = [...root.querySelectorAll('.wf-row')];
  root.addEventListener('click', (event) => {
    const toggle = event.target.closest('.wf-toggle');
    const span = event.target.closest('.wf-span');
    if (toggle) {
      setToggle(toggle, toggle.getAttribute('aria-expanded') !== 'true');
    } else if (span) {
      // A modified click (new tab, new window) follows the link as it would without script.
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      openDetails(span.closest('.wf-row'), span.getAttribute('aria-expanded') !== 'true');
    } else {
      return;
    }
    layout(rows);
  });
  document.getElementById('wf-collapse-all')?.addEventListener('click', () => {
    for (const t of root.querySelectorAll('.wf-toggle')) setToggle(t, false);
    layout(rows);
  });
  document.getElementById('wf-expand-all')?.addEventListener('click', () => {
    for (const t of root.querySelectorAll('.wf-toggle')) setToggle(t, true);
    layout(rows);
  });
  const showLinked = () => {
    const target = window.location.hash.startsWith('#span-') ? document.getElementById(window.location.hash.slice(1)) : null;
    if (!target?.classList.contains('wf-row')) return;
    // Unfold its ancestors: walk up, each shallower row before it is one.
    let depth = Number(target.dataset.depth);
    for (let i = rows.indexOf(target) - 1; i >= 0 && depth > 0; i--) {
      const d = Number(rows[i].dataset.depth);
      if (d < depth) {
        const t = rows[i].querySelector('.wf-toggle');
        if (t) setToggle(t, true);
        depth = d;
      }
    }
    openDetails(target, true);
    layout(rows);
    target.querySelector('.wf-span').focus();
    target.scrollIntoView({ block: 'center' });
  };
  window.addEventListener('hashchange', showLinked);
  showLinked();
}
