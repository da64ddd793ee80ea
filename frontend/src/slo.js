// One SLO's page: the error budget's burn-down over the period, drawn with uPlot from the
// points the server put in `#burndown`'s data-points (`[[unix seconds, budget left], ...]`,
// what /api/spyglass/v1/slos/<id> answers as `burndown`). The zero line is where the budget is
// spent, drawn as a dashed red line. An SLO kept in Spyglass has Edit (the editor's page) and
// Delete, which asks first, then DELETEs its spec from /api/spyglass/v1/slo-specs and goes back
// to the list.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './sloedit.css';

const box = document.getElementById('burndown');
const status = document.getElementById('burndown-status');

function draw() {
  let points;
  try {
    points = JSON.parse(box.dataset.points || '[]');
  } catch {
    points = [];
  }
  const known = points.filter(([, v]) => v !== null);
  if (!known.length) {
    status.textContent = 'No events in this period yet: nothing to draw.';
    return;
  }
  const xs = points.map(([t]) => t);
  const left = points.map(([, v]) => (v === null ? null : v * 100));
  const width = () => Math.max(box.clientWidth, 200);
  const plot = new uPlot(
    {
      width: width(),
      height: 260,
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [Math.min(lo, 0), Math.max(hi, 100)] } },
      axes: [
        { stroke: '#8e8e99', grid: { stroke: '#2c3235' } },
        { stroke: '#8e8e99', grid: { stroke: '#2c3235' }, size: 64, values: (u, vals) => vals.map((v) => `${v}%`) },
      ],
      series: [
        {},
        {
          label: 'Budget left',
          stroke: '#73bf69',
          width: 2,
          fill: 'rgba(115, 191, 105, 0.15)',
          value: (u, v) => (v === null ? '-' : `${v.toFixed(2)}%`),
          spanGaps: false,
          // Dots too: a period with few points (data newer than most of it) draws no line.
          points: { show: true, size: 5 },
        },
        { label: 'All spent', stroke: '#f2495c', width: 1, dash: [4, 4], points: { show: false } },
      ],
    },
    [xs, left, xs.map(() => 0)],
    box,
  );
  const last = known[known.length - 1][1];
  status.textContent = `Budget left now: ${(last * 100).toFixed(2)}% (${points.length} points over the period)`;
  new ResizeObserver(() => plot.setSize({ width: width(), height: 260 })).observe(box);
}

if (box) draw();

const actions = document.getElementById('slo-actions');
if (actions) {
  const confirmBox = document.getElementById('slo-confirm');
  const ask = document.getElementById('slo-delete');
  const message = document.getElementById('slo-action-message');
  ask.addEventListener('click', () => {
    confirmBox.hidden = false;
    document.getElementById('slo-delete-no').focus();
  });
  document.getElementById('slo-delete-no').addEventListener('click', () => {
    confirmBox.hidden = true;
    ask.focus();
  });
  document.getElementById('slo-delete-yes').addEventListener('click', async () => {
    message.textContent = 'Deleting…';
    message.classList.remove('error-text');
    try {
      const response = await fetch(`/api/spyglass/v1/slo-specs/${encodeURIComponent(actions.dataset.spec)}`, { method: 'DELETE' });
      if (!response.ok) {
        const reply = await response.json().catch(() => null);
        throw new Error(reply?.error || `${response.status} ${response.statusText}`);
      }
      window.location.assign('/slos');
    } catch (err) {
      message.textContent = `Not deleted: ${err.message}`;
      message.classList.add('error-text');
    }
  });
}
