// Calls to the Prometheus HTTP API. A failed query rejects with Prometheus' own words: the
// `error` field of its `{"status": "error", "errorType", "error"}` reply.

export class QueryError extends Error {
  constructor(message, type) {
    super(message);
    this.name = 'QueryError';
    this.type = type;
  }
}

/** POST `params` (form-encoded, as Prometheus' UI sends them) to `path`; the reply's JSON. */
export async function promApi(path, params, signal) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      body: new URLSearchParams(params),
      signal,
      headers: { Accept: 'application/json' },
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new QueryError(`cannot reach Spyglass: ${err.message}`, 'network');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new QueryError(`${response.status} ${response.statusText}`, 'http');
  }
  if (body.status !== 'success') {
    throw new QueryError(body.error ?? `${response.status} ${response.statusText}`, body.errorType);
  }
  return body;
}
