// Annotations from Prometheus queries, as Grafana's Prometheus data source makes them: each
// point where a series is non-zero is an event at that time; consecutive points (no more than a
// step apart) merge into one region. Title and text come from `titleFormat`/`textFormat`
// (legend formats over the series' labels), tags from the labels named in `tagKeys`. With
// `useValueForTime` the value (milliseconds) is the event's time. Pure functions, no DOM.
import { legendName } from './labels.js';

const MAX_EVENTS = 500;

/**
 * Events from one annotation's range query result ([{metric, values: [[t, "v"]]}]):
 * [{time, timeEnd (ms), title, text, tags, color, source}], at most MAX_EVENTS.
 */
export function annotationEvents(result, ann, stepS) {
  const stepMs = Math.max(Number(stepS) || 60, 1) * 1000;
  const events = [];
  for (const s of Array.isArray(result) ? result : []) {
    const metric = s.metric ?? {};
    const title = ann.titleFormat ? legendName(ann.titleFormat, metric) : '';
    const text = ann.textFormat ? legendName(ann.textFormat, metric) : '';
    const tags = (ann.tagKeys ?? []).map((k) => metric[k]).filter((v) => typeof v === 'string' && v !== '');
    let open = null;
    for (const [t, raw] of s.values ?? []) {
      const value = Number(raw);
      if (!Number.isFinite(value) || value === 0) {
        open = null;
        continue;
      }
      const at = ann.useValueForTime ? Math.floor(value) : Math.round(Number(t) * 1000);
      if (!ann.useValueForTime && open && at - open.timeEnd <= stepMs) {
        open.timeEnd = at;
        continue;
      }
      open = { time: at, timeEnd: at, title, text, tags, color: ann.iconColor, source: ann.name };
      events.push(open);
      if (events.length >= MAX_EVENTS) return events;
    }
  }
  return events.sort((a, b) => a.time - b.time);
}

/** What a person reads when hovering an event: title, text and tags, one per line. */
export function eventText(event) {
  return [event.source, event.title, event.text, event.tags.length ? `Tags: ${event.tags.join(', ')}` : '']
    .filter(Boolean)
    .join('\n');
}
