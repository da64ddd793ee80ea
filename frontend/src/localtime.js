// Explore's "Use local time" choice (Prometheus' own checkbox), kept in localStorage rather
// than the URL because it is the viewer's, not the query's: unset means local time, as
// Grafana's default "Browser". The one place that reads it: Explore writes it, and the pages
// without the checkbox (logs, trace search, errors through pagetimes.js) follow it.

export const LOCAL_TIME_KEY = 'spyglass.explore.localTime';

/** Whether times show in UTC: the viewer unticked "Use local time" in Explore. */
export function readUtc() {
  try {
    return window.localStorage.getItem(LOCAL_TIME_KEY) === 'false';
  } catch {
    return false; // storage blocked: the default, local time
  }
}
