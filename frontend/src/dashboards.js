// The dashboard list (/dashboards): import Grafana JSON pasted or from a file through
// POST /api/dashboards/db (Grafana's own save call), or, for a dashboard exported for sharing
// (with `__inputs`, as grafana.com downloads are), through POST /api/dashboards/import with
// every input answered without asking: a data source input takes Spyglass's one Prometheus,
// a constant its exported value. Delete through DELETE
// /api/dashboards/uid/<uid>, and export a dashboard's JSON as a download.
import './dashboard.css';

const status = document.getElementById('import-status');
const form = document.getElementById('import-form');
const text = document.getElementById('import-json');
const file = document.getElementById('import-file');

function say(message, ok = false) {
  status.textContent = message;
  status.className = ok ? 'import-ok' : 'import-error';
}

file?.addEventListener('change', async () => {
  const chosen = file.files?.[0];
  if (!chosen) return;
  text.value = await chosen.text();
});

form?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  let dashboard;
  try {
    dashboard = JSON.parse(text.value);
  } catch (err) {
    say(`Not JSON: ${err.message}`);
    return;
  }
  // Grafana's export wraps nothing, its API answers wrap in {dashboard, meta}: take either.
  if (dashboard && typeof dashboard === 'object' && dashboard.dashboard && dashboard.meta) {
    dashboard = dashboard.dashboard;
  }
  if (dashboard && typeof dashboard === 'object' && !Array.isArray(dashboard)) delete dashboard.id;
  const overwrite = document.getElementById('import-overwrite').checked;
  const inputs = Array.isArray(dashboard?.__inputs) ? dashboard.__inputs : null;
  const request = inputs
    ? {
        path: '/api/dashboards/import',
        body: {
          dashboard,
          overwrite,
          inputs: inputs
            .filter((i) => i && typeof i.name === 'string')
            .map((i) => ({
              name: i.name,
              type: i.type,
              pluginId: i.pluginId,
              value: i.type === 'datasource' ? 'prometheus' : String(i.value ?? ''),
            })),
        },
      }
    : { path: '/api/dashboards/db', body: { dashboard, overwrite, message: 'Imported in the Spyglass UI' } };
  const response = await fetch(request.path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(request.body),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { message: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) {
    say(`Import failed: ${body.message ?? response.statusText}`);
    return;
  }
  say('Imported', true);
  window.location.assign(body.url ?? body.importedUrl);
});

for (const button of document.querySelectorAll('.dash-list button.delete')) {
  button.addEventListener('click', async () => {
    const { uid, title } = button.dataset;
    if (!window.confirm(`Delete the dashboard "${title}"?`)) return;
    const response = await fetch(`/api/dashboards/uid/${encodeURIComponent(uid)}`, { method: 'DELETE' });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      say(`Delete failed: ${body.message ?? response.statusText}`);
      return;
    }
    button.closest('tr').remove();
    say(body.message ?? 'Deleted', true);
  });
}

for (const link of document.querySelectorAll('.dash-list a.export')) {
  link.addEventListener('click', async (ev) => {
    ev.preventDefault();
    const response = await fetch(link.href);
    const body = await response.json();
    const blob = new Blob([`${JSON.stringify(body.dashboard, null, 2)}\n`], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${body.meta?.slug || link.dataset.uid}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
}
