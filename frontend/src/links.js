// Links from dashboards: only http(s) and relative URLs become an href (the server checks too;
// the page checks again, since data links are filled in here from query results). Data links
// take Grafana's `${__field.labels.<name>}`, `${__field.name}`, `${__value.raw}`/`.text` and
// `${__data.fields.<name>}` (a text column of the same table row).

// Browsers drop these before reading a scheme ("java\tscript:" is javascript:).
const IGNORED = /[\u0000-\u0020\u007f]/g;
const EDGES = /^[\u0000-\u0020\u007f]+|[\u0000-\u0020\u007f]+$/g;

/** `url` when it is http(s) or relative, else null. */
export function safeHref(url) {
  if (typeof url !== 'string') return null;
  const squeezed = url.replace(IGNORED, '');
  if (squeezed === '' || squeezed.startsWith('\\') || squeezed.startsWith('/\\')) return null;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(squeezed);
  if (scheme && !['http', 'https'].includes(scheme[1].toLowerCase())) return null;
  return url.replace(EDGES, '');
}

/** A data link's URL with the field's and value's macros put in (each URL-encoded). */
export function dataLinkUrl(url, { labels = {}, name = '', raw = '', text = '' }) {
  return String(url ?? '').replace(/\$\{__(field|value|data)\.([a-zA-Z_][a-zA-Z0-9_.]*)\}/g, (whole, kind, path) => {
    let v;
    if (kind === 'value') v = path === 'raw' ? raw : path === 'text' ? text : undefined;
    else if (kind === 'data') v = path.startsWith('fields.') ? labels[path.slice(7)] : undefined;
    else if (path === 'name' || path === 'displayName') v = name;
    else if (path.startsWith('labels.')) v = labels[path.slice(7)];
    return v === undefined || v === null ? whole : encodeURIComponent(String(v));
  });
}

/** An <a> for `href` (already safe) with `text`; a new tab gets no opener. */
export function anchor(href, text, { blank = false, title = '' } = {}) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  if (title) a.title = title;
  if (blank) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  return a;
}
