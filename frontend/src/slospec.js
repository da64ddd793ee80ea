// The SLO editor's form as a Sloth `prometheus/v1` spec, and back from the server's errors:
// what sloedit.js needs that touches no page, so Node tests it against Spyglass's own parser
// (tests/server/ui/test_slospec_js.py).

/** `[name, value]` pairs of `name=value` lines; throws on a line without `=`. */
export function parseLabels(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`"${line}" is not name=value`);
    out.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
  }
  return out;
}

// A YAML double-quoted scalar: JSON's escapes are YAML's, but YAML also refuses C1 controls,
// U+2028/9 and U+FFFE/F raw in a stream, which JSON leaves as they are.
const q = (s) =>
  JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A Sloth prometheus/v1 spec of the form's values (see the module comment). */
export function formToYaml(v) {
  const objective = v.objective.trim();
  const lines = ['version: "prometheus/v1"', `service: ${q(v.service.trim())}`, 'slos:', `  - name: ${q(v.name.trim())}`];
  // A plain decimal as written (YAML reads it as a number); anything else quoted, so the server
  // says what is wrong with it.
  lines.push(`    objective: ${/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(objective) ? objective : q(objective)}`);
  if (v.description.trim()) lines.push(`    description: ${q(v.description.trim())}`);
  if (v.period.trim() && v.period.trim() !== '30d') lines.push(`    period: ${q(v.period.trim())}`);
  lines.push('    sli:');
  if (v.sli === 'raw') {
    lines.push('      raw:', `        error_ratio_query: ${q(v.errorRatioQuery.trim())}`);
  } else {
    lines.push('      events:', `        error_query: ${q(v.errorQuery.trim())}`, `        total_query: ${q(v.totalQuery.trim())}`);
  }
  lines.push('    alerting:');
  if (v.alertName.trim()) lines.push(`      name: ${q(v.alertName.trim())}`);
  for (const [key, enabled, labels] of [['page_alert', v.pageEnabled, v.pageLabels], ['ticket_alert', v.ticketEnabled, v.ticketLabels]]) {
    lines.push(`      ${key}:`);
    if (!enabled) {
      lines.push('        disable: true');
      continue;
    }
    const pairs = labels;
    if (!pairs.length) {
      lines.push('        labels: {}');
      continue;
    }
    lines.push('        labels:');
    for (const [n, val] of pairs) lines.push(`          ${q(n)}: ${q(val)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The form field an API error's `field` (e.g. `slos[0].sli.events.error_query`) is about. */
export function formField(field) {
  if (!field) return '';
  const parts = field.split('.');
  const last = parts[parts.length - 1];
  if (last === 'labels' && field.includes('page_alert')) return 'pageLabels';
  if (last === 'labels' && field.includes('ticket_alert')) return 'ticketLabels';
  const byKey = {
    service: 'service',
    objective: 'objective',
    description: 'description',
    period: 'period',
    error_query: 'errorQuery',
    total_query: 'totalQuery',
    events: 'errorQuery',
    error_ratio_query: 'errorRatioQuery',
    raw: 'errorRatioQuery',
  };
  if (byKey[last]) return byKey[last];
  if (last === 'name') return field.includes('alerting') ? 'alertName' : 'name';
  return '';
}
