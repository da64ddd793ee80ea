// What a log line says beyond its text: the fields of a JSON or logfmt line (named as Loki's
// `| json` and `| logfmt` name them, so a field's "filter for value" finds the same lines), its
// level (from a label, a field, or a level word in the text, as Grafana detects it) and the trace
// it belongs to. No DOM here, so Node runs it in the tests.

const BAD_KEY_CHAR = /[^a-zA-Z0-9_]/g;

/** A field name as a label name, as Loki sanitizes it: `[^a-zA-Z0-9_]` to `_`, no leading digit. */
export function sanitizeKey(key) {
  const k = key.trim();
  if (!k) return k;
  return (/^[0-9]/.test(k) ? `_${k}` : k).replace(BAD_KEY_CHAR, '_');
}

/**
 * The fields `| json` extracts from `line` as [name, value] pairs, or null when the line is not
 * a JSON object: every string, number and boolean, nested objects' keys joined with `_`
 * (arrays and nulls are left out, as Loki leaves them).
 */
export function jsonFields(line) {
  if (!line.trimStart().startsWith('{')) return null;
  let doc;
  try {
    doc = JSON.parse(line);
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const out = [];
  const walk = (prefix, obj) => {
    for (const [key, value] of Object.entries(obj)) {
      const name = sanitizeKey(key);
      if (!name) continue;
      const full = prefix ? `${prefix}_${name}` : name;
      if (typeof value === 'string') out.push([full, value]);
      else if (typeof value === 'number') out.push([full, String(value)]);
      else if (typeof value === 'boolean') out.push([full, value ? 'true' : 'false']);
      else if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(full, value);
    }
  };
  walk('', doc);
  return out;
}

/**
 * The fields `| logfmt` extracts from `line` as [name, value] pairs (empty values left out, as
 * Loki leaves them without `--keep-empty`); a malformed rest of the line is ignored, as Loki's
 * non-strict logfmt parser ignores it.
 */
export function logfmtFields(line) {
  const out = [];
  const n = line.length;
  let i = 0;
  const add = (key, value) => {
    const name = sanitizeKey(key);
    if (value && name) out.push([name, value]);
  };
  while (i < n) {
    while (i < n && line[i] <= ' ') i += 1;
    if (i >= n) break;
    const start = i;
    while (i < n && line[i] > ' ' && line[i] !== '=' && line[i] !== '"') i += 1;
    const key = line.slice(start, i);
    if (i < n && line[i] === '"') return out;
    if (!key) {
      if (i < n && line[i] === '=') return out;
      continue;
    }
    if (i >= n || line[i] !== '=') continue; // a bare key: no value
    i += 1;
    if (i < n && line[i] === '"') {
      let j = i + 1;
      let value = '';
      let closed = false;
      while (j < n) {
        const c = line[j];
        if (c === '\\' && j + 1 < n) {
          const next = line[j + 1];
          value += { n: '\n', t: '\t', r: '\r' }[next] ?? next;
          j += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          j += 1;
          break;
        }
        value += c;
        j += 1;
      }
      if (!closed) return out;
      add(key, value);
      i = j;
    } else {
      const begin = i;
      while (i < n && line[i] > ' ') {
        if (line[i] === '=' || line[i] === '"') return out;
        i += 1;
      }
      add(key, line.slice(begin, i));
    }
  }
  return out;
}

/**
 * The fields of `line` and the parser that finds them: `{parser: 'json', fields}` for a JSON
 * object, `{parser: 'logfmt', fields}` when logfmt finds at least one `key=value`, else
 * `{parser: null, fields: []}`.
 */
export function parseLine(line) {
  const json = jsonFields(line);
  if (json !== null) return { parser: 'json', fields: json };
  const logfmt = logfmtFields(line);
  if (logfmt.length > 0) return { parser: 'logfmt', fields: logfmt };
  return { parser: null, fields: [] };
}

// Grafana's log levels and the words that mean each.
const LEVEL_WORDS = {
  critical: ['critical', 'crit', 'fatal', 'emerg', 'emergency', 'alert', 'panic'],
  error: ['error', 'err', 'eror'],
  warning: ['warning', 'warn'],
  info: ['info', 'information', 'informational', 'notice'],
  debug: ['debug', 'dbug'],
  trace: ['trace'],
};
const LEVEL_OF_WORD = new Map(
  Object.entries(LEVEL_WORDS).flatMap(([level, words]) => words.map((w) => [w, level])),
);
export const LEVELS = [...Object.keys(LEVEL_WORDS), 'unknown'];
const LEVEL_KEYS = ['level', 'detected_level', 'lvl', 'severity', 'severity_text', 'loglevel', 'log_level'];
// A level word on its own near the start of a plain line ("2026-12-07 ERROR db down").
const LEVEL_IN_TEXT = /(?:^|[\s[(|:])(CRITICAL|CRIT|FATAL|PANIC|ERROR|ERR|WARNING|WARN|INFO|NOTICE|DEBUG|TRACE)(?=$|[\s\]):|])/i;

/** The level a word means (`WARN` → `warning`), or null. */
export function levelOfWord(word) {
  return LEVEL_OF_WORD.get(String(word).trim().toLowerCase()) ?? null;
}

/**
 * A line's level (one of `LEVELS`): from its labels (`level`, `detected_level`, `severity`...),
 * else its parsed fields, else a level word in the first 200 characters of its text.
 */
export function levelOf(labels, fields, line) {
  for (const source of [labels, fields]) {
    for (const key of LEVEL_KEYS) {
      if (source[key] !== undefined) {
        const level = levelOfWord(source[key]);
        if (level) return level;
      }
    }
  }
  const m = LEVEL_IN_TEXT.exec(line.slice(0, 200));
  return (m && levelOfWord(m[1])) ?? 'unknown';
}

const TRACE_KEYS = ['trace_id', 'traceID', 'traceId', 'traceid'];

/** The trace id a line carries in a label, structured metadata or a field (hex), or null. */
export function traceIdOf(labels, fields) {
  for (const source of [labels, fields]) {
    for (const key of TRACE_KEYS) {
      const value = source[key];
      if (typeof value === 'string' && /^[0-9a-fA-F]{1,32}$/.test(value)) return value.toLowerCase();
    }
  }
  return null;
}
