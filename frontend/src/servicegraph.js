// The service map's figures: the PromQL it asks, and how Jaeger's dependency list and those
// answers become one graph of services and calls. Pure (no DOM, no fetch), so Node tests it.

// The spans a service answers requests with; its client and internal spans are work it does
// for them, which would count one request several times.
export const SERVED = 'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"';

/** `text` as a PromQL double-quoted string. */
export function promString(text) {
  const body = String(text).replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]);
  return `"${body}"`;
}

/**
 * The instant queries (evaluated at the range's end) over a `seconds`-long window:
 * per service its request and error rates and p95, per call its failed and total counts.
 */
export function mapQueries(seconds) {
  const w = `[${Math.max(Math.round(seconds), 1)}s]`;
  const calls = `traces_spanmetrics_calls_total{${SERVED}}`;
  const total = `sum by (client, server) (increase(traces_service_graph_request_total${w}))`;
  return {
    requests: `sum by (service) (rate(${calls}${w}))`,
    errors: `sum by (service) (rate(traces_spanmetrics_calls_total{${SERVED}, status_code="STATUS_CODE_ERROR"}${w}))`,
    p95: `histogram_quantile(0.95, sum by (service, le) (rate(traces_spanmetrics_duration_seconds_bucket{${SERVED}}${w})))`,
    // Calls without a failure have no failed series at all: they count as 0, not as unknown.
    edgeErrors: `(sum by (client, server) (increase(traces_service_graph_request_failed_total${w})) or ${total} * 0) / ${total}`,
  };
}

/** An instant vector's samples as a Map from `key(labels)` to a number (NaN dropped). */
export function vectorMap(result, key) {
  const out = new Map();
  for (const s of result ?? []) {
    const v = Number(s.value?.[1]);
    if (Number.isFinite(v)) out.set(key(s.metric ?? {}), v);
  }
  return out;
}

const edgeKey = (source, target) => `${source}\u0000${target}`;

/**
 * One graph from `dependencies` (Jaeger's [{parent, child, callCount}]) over `seconds`, and the
 * span-metric answers `metrics` ({requests, errors, p95, edgeErrors}: vectors' `result` lists,
 * or null when span metrics are off). Returns {services: [{name, rate, errorShare, p95, source}],
 * calls: [{source, target, count, rate, errorShare}]}; a figure not known is null. `source` is
 * `spans` when the service's own figures came from span metrics, `calls` when only the rate of
 * the calls into it is known.
 */
export function buildGraph(dependencies, metrics, seconds) {
  const span = Math.max(seconds, 1);
  const counts = new Map();
  for (const d of dependencies ?? []) {
    if (typeof d?.parent !== 'string' || typeof d?.child !== 'string') continue;
    const key = edgeKey(d.parent, d.child);
    counts.set(key, (counts.get(key) ?? 0) + (Number(d.callCount) || 0));
  }
  const byService = (m) => m.service ?? '';
  const requests = vectorMap(metrics?.requests, byService);
  const errors = vectorMap(metrics?.errors, byService);
  const p95 = vectorMap(metrics?.p95, byService);
  const edgeErrors = vectorMap(metrics?.edgeErrors, (m) => edgeKey(m.client ?? '', m.server ?? ''));
  const calls = [...counts]
    .map(([key, count]) => {
      const [source, target] = key.split('\u0000');
      return { source, target, count, rate: count / span, errorShare: edgeErrors.get(key) ?? null };
    })
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const names = new Set([...calls.flatMap((c) => [c.source, c.target]), ...requests.keys()]);
  names.delete('');
  const incoming = new Map();
  for (const c of calls) incoming.set(c.target, (incoming.get(c.target) ?? 0) + c.count);
  const services = [...names].sort().map((name) => {
    if (requests.has(name)) {
      const rate = requests.get(name);
      const err = errors.get(name) ?? 0;
      return { name, rate, errorShare: rate > 0 ? err / rate : null, p95: p95.get(name) ?? null, source: 'spans' };
    }
    const into = incoming.get(name);
    return { name, rate: into === undefined ? null : into / span, errorShare: null, p95: null, source: 'calls' };
  });
  return { services, calls };
}

/** A rate per second as a person reads it: "12.3/s", "0.05/s", "3.2/min" when slow. */
export function formatRate(perSecond) {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '–';
  if (perSecond === 0) return '0/s';
  if (perSecond < 0.1) return `${Number((perSecond * 60).toPrecision(2))}/min`;
  return `${Number(perSecond.toPrecision(3))}/s`;
}

/** A share (0..1) as a percentage: "0%", "2.5%", "100%". */
export function formatShare(share) {
  if (share === null || share === undefined || !Number.isFinite(share)) return '–';
  return `${Number((share * 100).toPrecision(3))}%`;
}

/** Seconds as "850 ms", "1.25 s". */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(3))} ms`;
  return `${Number(seconds.toPrecision(3))} s`;
}

/**
 * `value` as a value of the trace search's tags box (logfmt, as `traces._params.parse_logfmt`
 * reads it): bare when it holds only characters no reader takes for a separator, else
 * double-quoted with `\` before `"` and `\`.
 */
export function logfmtValue(value) {
  const text = String(value);
  if (/^[\w.:/@+-]+$/.test(text)) return text;
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The trace search (`/traces?...`) for the traces that cross `call` ({source, target}) in the
 * range `from`..`to` (as the map's URL writes them). Jaeger's search matches single spans by
 * service, operation and tags, and no span names its parent's service, so:
 * - a callee known only from its callers' client spans (`peer.service`, e.g. a database) is
 *   found exactly: the caller's spans with that tag;
 * - a callee that sends spans itself is searched by its service: the traces it served in the
 *   range, whoever called it (exact when the map shows one caller).
 * `traced` holds the services that sent spans (Jaeger's `/api/services`; a Set or a list), or is
 * null when unknown (the callee is then taken to send spans).
 */
export function callSearch(call, from, to, traced) {
  const p = new URLSearchParams();
  if (traced && !new Set(traced).has(call.target)) {
    p.set('service', call.source);
    p.set('tags', `peer.service=${logfmtValue(call.target)}`);
  } else {
    p.set('service', call.target);
  }
  p.set('from', from);
  p.set('to', to);
  return `/traces?${p}`;
}
