// What the trace search lists of each trace, from Jaeger's JSON (`/api/traces`): the root span's
// service and operation, span count, the services touched with their span counts, how many
// spans are in error, start and duration. Pure functions, so Node can check them.

const hasTag = (span, key, value) => (span.tags ?? []).some((t) => t.key === key && String(t.value) === value);

/** Whether a span is in error, as Jaeger's UI reads it: an `error` tag set to true. */
export function isErrorSpan(span) {
  return hasTag(span, 'error', 'true');
}

/**
 * One trace of Jaeger's JSON summarised: {traceID, service, operation, spans, errors,
 * services: [[name, count]] (most spans first), startUs, durationUs}.
 */
export function summarise(trace) {
  const spans = trace.spans ?? [];
  const ids = new Set(spans.map((s) => s.spanID));
  const parentOf = (s) => (s.references ?? []).find((r) => r.refType === 'CHILD_OF' && r.traceID === s.traceID);
  // The root: the earliest span whose parent is not in the trace, as the trace page picks it.
  const roots = spans.filter((s) => {
    const parent = parentOf(s)?.spanID;
    return !ids.has(parent) || parent === s.spanID;
  });
  const byStart = (a, b) => a.startTime - b.startTime;
  const root = [...(roots.length ? roots : spans)].sort(byStart)[0];
  const serviceOf = (s) => trace.processes?.[s.processID]?.serviceName ?? '';
  const counts = new Map();
  for (const s of spans) counts.set(serviceOf(s), (counts.get(serviceOf(s)) ?? 0) + 1);
  const start = Math.min(...spans.map((s) => s.startTime));
  const end = Math.max(...spans.map((s) => s.startTime + s.duration));
  return {
    traceID: trace.traceID,
    service: root ? serviceOf(root) : '',
    operation: root?.operationName ?? '',
    spans: spans.length,
    errors: spans.filter(isErrorSpan).length,
    services: [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    startUs: spans.length ? start : 0,
    durationUs: spans.length ? end - start : 0,
  };
}

const ORDERS = {
  recent: (a, b) => b.startUs - a.startUs,
  longest: (a, b) => b.durationUs - a.durationUs,
  shortest: (a, b) => a.durationUs - b.durationUs,
  'most-spans': (a, b) => b.spans - a.spans,
  'fewest-spans': (a, b) => a.spans - b.spans,
};

/** Summaries in the order the search's `sort` names (most recent first by default). */
export function sortSummaries(summaries, sort) {
  const order = ORDERS[sort] ?? ORDERS.recent;
  return [...summaries].sort((a, b) => order(a, b) || (a.traceID < b.traceID ? -1 : 1));
}

/** A duration in microseconds as Jaeger's UI writes it: `850μs`, `12.35ms`, `1.5s`, `2m 3s`. */
export function formatMicros(us) {
  const trim = (v) => String(Number(v.toFixed(2)));
  if (us < 1000) return `${trim(us)}μs`;
  if (us < 1e6) return `${trim(us / 1000)}ms`;
  if (us < 6e7) return `${trim(us / 1e6)}s`;
  return `${Math.floor(us / 6e7)}m ${trim((us % 6e7) / 1e6)}s`;
}

/**
 * The `/api/traces` parameters for the page's state: Jaeger's names, times in microseconds;
 * empty fields left out. `startMs`/`endMs` are the time range already read.
 */
export function searchParams(state, startMs, endMs) {
  const out = { service: state.service };
  for (const key of ['operation', 'tags', 'minDuration', 'maxDuration', 'limit']) {
    const value = String(state[key] ?? '').trim();
    if (value) out[key] = value;
  }
  out.start = String(Math.floor(startMs) * 1000);
  out.end = String(Math.floor(endMs) * 1000);
  return out;
}
