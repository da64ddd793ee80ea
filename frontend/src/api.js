// Calls to the Prometheus and Loki HTTP APIs. A failed query rejects with the API's own words:
// Prometheus' `error` field of its `{"status": "error", "errorType", "error"}` reply, Loki's
// plain-text body.

export class QueryError extends Error {
  constructor(message, type) {
    super(message);
    this.name = 'QueryError';
    this.type = type;
  }
}

async function reach(url, init) {
  try {
    return await fetch(url, { ...init, headers: { Accept: 'application/json' } });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new QueryError(`cannot reach Spyglass: ${err.message}`, 'network');
  }
}

/**
 * Fetch `url` and read its JSON reply, whatever its status: `{ response, body }`. An unreachable
 * server or a reply that is not JSON rejects with a `QueryError`; the API's own error shape is
 * the caller's to read.
 */
export async function fetchJson(url, init = {}) {
  const response = await reach(url, init);
  try {
    return { response, body: await response.json() };
  } catch {
    throw new QueryError(`${response.status} ${response.statusText}`, 'http');
  }
}

/** POST `params` (form-encoded, as Prometheus' UI sends them) to `path`; the reply's JSON. */
export async function promApi(path, params, signal) {
  const { response, body } = await fetchJson(path, {
    method: 'POST',
    body: new URLSearchParams(params),
    signal,
  });
  if (body.status !== 'success') {
    throw new QueryError(body.error ?? `${response.status} ${response.statusText}`, body.errorType);
  }
  return body;
}

/**
 * GET `path` of Loki's API with `params`; the reply's JSON. Loki answers errors as plain text
 * with the HTTP status: a failed call rejects with that text, as Loki worded it.
 */
export async function lokiApi(path, params, signal) {
  const response = await reach(`${path}?${new URLSearchParams(params)}`, { signal });
  if (!response.ok) {
    const text = (await response.text()).trim();
    throw new QueryError(text || `${response.status} ${response.statusText}`, 'http');
  }
  return response.json();
}
