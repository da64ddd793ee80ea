// Series names and legend formats.

/** `name{a="x", b="y"}` as Prometheus writes a series. */
export function seriesName(metric) {
  const name = metric.__name__ ?? '';
  const labels = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  if (labels.length === 0) return name || '{}';
  return `${name}{${labels.join(', ')}}`;
}

/**
 * Grafana's legend format: `{{label}}` (spaces allowed inside the braces) becomes that label's
 * value, or nothing when the series has no such label; an empty format names the series.
 */
export function legendName(format, metric) {
  if (!format) return seriesName(metric);
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, key) => metric[key] ?? '');
}
