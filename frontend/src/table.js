// The table: an instant query's result, one row per series, values exactly as Prometheus
// returned them (the text, not a rounded float). A range vector's samples read `value @time`
// as Prometheus writes them, the time in epoch seconds, followed by the date when the caller
// gives a `formatTime` (Explore's local or UTC time).
import { seriesName } from './labels.js';

function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function rowsOf(data, formatTime) {
  const at = (t) => (formatTime ? `@${t} (${formatTime(t * 1000)})` : `@${t}`);
  switch (data.resultType) {
    case 'vector':
      return data.result.map((s) => [seriesName(s.metric), s.value[1]]);
    case 'matrix':
      return data.result.map((s) => [
        seriesName(s.metric),
        s.values.map(([t, v]) => `${v} ${at(t)}`).join('\n'),
      ]);
    case 'scalar':
      return [['scalar', data.result[1]]];
    case 'string':
      return [['string', data.result[1]]];
    default:
      return [];
  }
}

/**
 * Show each `{letter, expr, data}` block as a table in `el` (a heading each when several);
 * `formatTime(ms)`, when given, also writes range vectors' sample times as dates.
 */
export function renderTable(el, blocks, { formatTime } = {}) {
  el.replaceChildren();
  for (const block of blocks) {
    const section = document.createElement('section');
    section.className = 'result-block';
    if (blocks.length > 1) {
      const heading = cell('h3', '', 'result-heading');
      heading.append(cell('span', block.letter, 'query-letter'), cell('code', block.expr));
      section.appendChild(heading);
    }
    const rows = rowsOf(block.data, formatTime);
    if (rows.length === 0) {
      section.appendChild(cell('p', 'No data', 'no-data'));
      el.appendChild(section);
      continue;
    }
    const table = document.createElement('table');
    table.className = 'result-table';
    const head = table.createTHead().insertRow();
    head.append(cell('th', 'Series'), cell('th', 'Value', 'value'));
    const body = table.createTBody();
    for (const [name, value] of rows) {
      const tr = body.insertRow();
      tr.append(cell('td', name, 'series'), cell('td', value, 'value'));
    }
    section.appendChild(table);
    el.appendChild(section);
  }
}
