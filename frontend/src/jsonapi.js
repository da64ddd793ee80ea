// Calls to Spyglass's own JSON APIs (errors, incidents) from the pages that change state.
// A refused call rejects with the API's own message: `{"error": ...}` (the errors API) or
// `{"status": "error", "error": ...}` (the /api/spyglass routes).

/** `method` `path` with `body` as JSON (or as text for a string); the reply's JSON or text. */
export async function callApi(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    const text = typeof body === 'string';
    init.body = text ? body : JSON.stringify(body);
    init.headers['Content-Type'] = text ? 'text/markdown' : 'application/json';
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new Error(`cannot reach Spyglass: ${err.message}`);
  }
  const type = response.headers.get('Content-Type') ?? '';
  const reply = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const message = reply && typeof reply === 'object' ? reply.error : reply;
    throw new Error(message || `${response.status} ${response.statusText}`);
  }
  return reply;
}

/** Show `message` in `el` (a role=status element), as an error when `error`. */
export function say(el, message, error = false) {
  if (!el) return;
  el.textContent = message;
  el.classList.toggle('error-text', error);
}
