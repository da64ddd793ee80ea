// A trace's waterfall: the server renders every span as a row (indented by depth, its bar on
// the trace's time axis) followed by its hidden details. This script folds and unfolds
// subtrees (a row's ▾ button, or Collapse all / Expand all) and opens a span's details when its
// name is clicked (Enter or Space on the focused button, as any button). A URL ending in
// `#span-<id>` opens that span's details and scrolls to it.
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

function openDetails(row, open) {
  row.querySelector('.wf-span').setAttribute('aria-expanded', String(open));
  row.classList.toggle('wf-selected', open);
}

if (root) {
  const rows = [...root.querySelectorAll('.wf-row')];
  root.addEventListener('click', (event) => {
    const toggle = event.target.closest('.wf-toggle');
    const span = event.target.closest('.wf-span');
    if (toggle) {
      setToggle(toggle, toggle.getAttribute('aria-expanded') !== 'true');
    } else if (span) {
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
