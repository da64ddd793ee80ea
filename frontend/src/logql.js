// LogQL as text: a small lexer (what the editor highlights with, as a CodeMirror stream mode),
// where the completion is in a query (a label name, a label's value, a pipeline stage), and the
// edits the logs page makes to a query ("filter for value" adds a matcher to the stream selector
// or a label filter to the pipeline; the histogram wraps the query in a count). No DOM and no
// CodeMirror here, so Node runs it in the tests.

// Loki's grammar words. A word after `|` is a pipeline stage; `by`, `without` and the rest only
// mean something between parts of a metric query.
export const RANGE_FUNCTIONS = [
  'count_over_time', 'rate', 'rate_counter', 'bytes_over_time', 'bytes_rate', 'avg_over_time',
  'sum_over_time', 'min_over_time', 'max_over_time', 'stdvar_over_time', 'stddev_over_time',
  'quantile_over_time', 'first_over_time', 'last_over_time', 'absent_over_time',
];
export const VECTOR_FUNCTIONS = [
  'sum', 'avg', 'count', 'max', 'min', 'stddev', 'stdvar', 'topk', 'bottomk', 'sort', 'sort_desc',
  'approx_topk', 'vector', 'label_replace',
];
export const STAGES = [
  'json', 'logfmt', 'regexp', 'pattern', 'unpack', 'line_format', 'label_format', 'drop', 'keep',
  'decolorize', 'unwrap',
];
const MODIFIERS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or',
  'unless',
]);
const FUNCTIONS = new Set([...RANGE_FUNCTIONS, ...VECTOR_FUNCTIONS, 'duration', 'duration_seconds', 'bytes', 'ip']);
const STAGE_WORDS = new Set(STAGES);

const OPERATORS = ['|=', '!=', '|~', '!~', '|>', '!>', '=~', '==', '>=', '<=', '=', '|', '>', '<', '+', '-', '*', '/', '%', '^', ','];
const BRACKETS = { '{': 'brace', '}': 'brace', '(': 'paren', ')': 'paren', '[': 'squareBracket', ']': 'squareBracket' };
const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+(?![a-zA-Z0-9_µ])/;
const BYTES = /^[0-9]+(?:\.[0-9]+)?(?:[KMGTPE]i?B|kB|B)(?![a-zA-Z0-9_])/;
const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)/;
const IDENT = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLAG = /^--[a-zA-Z][a-zA-Z0-9-]*/;
const SPACE = /^\s+/;

/** The lexer's state between tokens: brace depth (inside a stream selector) and the last token. */
export function startState() {
  return { depth: 0, prev: '' };
}

/** The end of the string literal opening at `pos` (after its closing quote, or the text's end). */
function stringEnd(text, pos) {
  const quote = text[pos];
  let i = pos + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && quote !== '`') i += 2;
    else if (c === quote) return i + 1;
    else i += 1;
  }
  return text.length;
}

/**
 * The token starting at `pos` of `text`: `{end, style}`, `style` a CodeMirror highlight name
 * (`string`, `labelName`, `variableName.function`, ...) or null for space and stray characters.
 * Always advances by at least one character. Updates `state`.
 */
export function lex(text, pos, state) {
  const rest = text.slice(pos);
  const c = text[pos];
  const done = (length, style, significant = rest.slice(0, length)) => {
    if (significant !== null) state.prev = significant;
    return { end: pos + Math.max(length, 1), style };
  };
  let m;
  if ((m = SPACE.exec(rest))) return done(m[0].length, null, null);
  if (c === '#') {
    const nl = rest.indexOf('\n');
    return done(nl === -1 ? rest.length : nl, 'comment', null);
  }
  if (c === '"' || c === '`') return done(stringEnd(text, pos) - pos, 'string', '"');
  if (c in BRACKETS) {
    if (c === '{') state.depth += 1;
    if (c === '}') state.depth = Math.max(state.depth - 1, 0);
    return done(1, BRACKETS[c]);
  }
  if ((m = FLAG.exec(rest))) return done(m[0].length, 'atom');
  for (const op of OPERATORS) {
    if (rest.startsWith(op)) return done(op.length, 'operator');
  }
  if ((m = DURATION.exec(rest)) || (m = BYTES.exec(rest))) return done(m[0].length, 'unit');
  if ((m = NUMBER.exec(rest))) return done(m[0].length, 'number');
  if ((m = IDENT.exec(rest))) {
    const word = m[0];
    let style = 'labelName';
    if (state.depth === 0) {
      if (state.prev === '|' && STAGE_WORDS.has(word)) style = 'keyword';
      else if (MODIFIERS.has(word)) style = 'modifier';
      else if (FUNCTIONS.has(word) && /^\s*(?:\(|by\b|without\b)/.test(rest.slice(word.length))) style = 'variableName.function';
    }
    return done(word.length, style);
  }
  return done(1, null);
}

/** Every token of `text` in order, space and stray characters included (their style null). */
export function tokens(text) {
  return scan(text).tokens;
}

function scan(text) {
  const state = startState();
  const out = [];
  let pos = 0;
  while (pos < text.length) {
    const { end, style } = lex(text, pos, state);
    out.push({ style, start: pos, end, text: text.slice(pos, end) });
    pos = end;
  }
  return { tokens: out, state };
}

/** A CodeMirror legacy (stream) mode for LogQL, over `lex`. */
export const logqlMode = {
  name: 'logql',
  startState,
  copyState: (s) => ({ ...s }),
  token(stream, state) {
    const { end, style } = lex(stream.string, stream.pos, state);
    stream.pos = Math.min(end, stream.string.length);
    return style;
  },
  languageData: { commentTokens: { line: '#' } },
};

/** Whether `query` is a log query (a stream selector and its pipeline), not a metric query. */
export function isLogQuery(query) {
  const first = tokens(query).find((t) => t.style !== null && t.style !== 'comment');
  return first !== undefined && first.text === '{';
}

/**
 * The stream selector of a log query: `{start, end}` with `end` just after its `}`, or null
 * when the query does not start with a complete one.
 */
export function selectorSpan(query) {
  let start = -1;
  for (const t of tokens(query)) {
    if (t.style === null || t.style === 'comment') continue;
    if (start === -1) {
      if (t.text !== '{') return null;
      start = t.start;
    } else if (t.text === '}') {
      return { start, end: t.end };
    }
  }
  return null;
}

/** `value` as a LogQL string literal: double quotes, backslash escapes (Go's syntax). */
export function quoteString(value) {
  let out = '"';
  for (const ch of String(value)) {
    const code = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0xd800 && code <= 0xdfff) out += '\\ufffd'; // a lone surrogate: not text
    else out += ch;
  }
  return `${out}"`;
}

/**
 * `query` with the matcher `name op "value"` in its stream selector (at its end), as Grafana's
 * "filter for value" does for a stream label; unchanged when the selector already has it.
 */
export function addStreamMatcher(query, name, op, value) {
  const span = selectorSpan(query);
  const matcher = `${name}${op}${quoteString(value)}`;
  if (span === null) return query;
  const inner = query.slice(span.start + 1, span.end - 1);
  // The matchers there, each as its tokens written without spaces.
  const existing = [''];
  for (const t of tokens(inner)) {
    if (t.style === null || t.style === 'comment') continue;
    if (t.text === ',') existing.push('');
    else existing[existing.length - 1] += t.text;
  }
  if (existing.includes(matcher)) return query;
  const body = inner.trim() ? `${inner.trimEnd()}, ${matcher}` : matcher;
  return `${query.slice(0, span.start)}{${body}}${query.slice(span.end)}`;
}

/** Whether the pipeline of `query` already has a `json`, `logfmt`, `unpack`, ... parser. */
export function hasParser(query, parsers = ['json', 'logfmt', 'unpack', 'regexp', 'pattern']) {
  const ts = tokens(query).filter((t) => t.style !== null && t.style !== 'comment');
  return ts.some((t, i) => i > 0 && ts[i - 1].text === '|' && parsers.includes(t.text));
}

/**
 * `query` with the label filter `| name op "value"` at its end, after `| parser` when the
 * label comes from parsing the line (`json`, `logfmt`) and the query has no parser yet.
 */
export function addLabelFilter(query, name, op, value, parser = null) {
  let out = query.trimEnd();
  if (parser && !hasParser(out)) out += ` | ${parser}`;
  return `${out} | ${name}${op}${quoteString(value)}`;
}

/** A LogQL duration for `seconds` (`1h30m`, `15s`). */
export function logqlDuration(seconds) {
  let rest = Math.max(Math.round(seconds), 1);
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

// Steps the histogram's bars may take: about 100 bars or fewer across the range.
const BAR_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** The histogram's bar width in seconds for a range of `rangeMs`: at most ~100 bars. */
export function histogramStep(rangeMs) {
  const wanted = rangeMs / 1000 / 100;
  return BAR_STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86400) * 86400;
}

/**
 * The metric query behind the histogram: matching lines per `level` in each bar's time, and per
 * `severity_text` (where OpenTelemetry's logs keep their level).
 */
export function histogramQuery(query, stepSeconds) {
  // A comment would swallow the closing brackets: a query's comments end where its line does.
  const body = tokens(query)
    .filter((t) => t.style !== 'comment')
    .map((t) => t.text)
    .join('')
    .trim();
  return `sum by (level, severity_text) (count_over_time(${body} [${logqlDuration(stepSeconds)}]))`;
}

/**
 * What the editor may complete at `pos`: `{kind: 'labelName', from}` inside a selector where a
 * label name goes, `{kind: 'labelValue', label, from, quoted}` after `name=` (or `!=`, `=~`,
 * `!~`) inside one, `{kind: 'stage', from}` after a `|`, `{kind: 'function', from}` elsewhere
 * at a word, or null. `from` is where the completed text starts.
 */
export function completionContext(query, pos) {
  const { tokens: ts, state } = scan(query.slice(0, pos));
  const last = ts.at(-1);
  const significant = ts.filter((t) => t.style !== null && t.style !== 'comment');
  // In an unterminated string: a label value, when the string follows a matcher operator.
  if (last && last.style === 'string' && !closedString(last.text)) {
    const [label, op] = significant.slice(-3, -1);
    if (state.depth > 0 && op && ['=', '!=', '=~', '!~'].includes(op.text) && label?.style === 'labelName') {
      return { kind: 'labelValue', label: label.text, from: last.start + 1, quoted: true };
    }
    return null;
  }
  if (last?.style === 'comment') return null;
  const word = last && /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(last.text) ? last : null;
  const from = word ? word.start : pos;
  const prior = word ? significant.slice(0, -1) : significant;
  const prev = prior.at(-1);
  if (state.depth > 0) {
    if (!prev || prev.text === '{' || prev.text === ',') return { kind: 'labelName', from };
    const label = prior.at(-2);
    if (['=', '!=', '=~', '!~'].includes(prev.text) && label?.style === 'labelName') {
      return { kind: 'labelValue', label: label.text, from, quoted: false };
    }
    return null;
  }
  if (prev?.text === '|') return { kind: 'stage', from };
  if (word) return { kind: 'function', from };
  return null;
}

function closedString(text) {
  if (text.length < 2) return false;
  const quote = text[0];
  if (text.at(-1) !== quote) return false;
  if (quote === '`') return true;
  // The closing quote is not itself escaped: an even run of backslashes before it.
  let n = 0;
  for (let i = text.length - 2; i > 0 && text[i] === '\\'; i -= 1) n += 1;
  return n % 2 === 0;
}
