// Silence matchers as people type them, and as Alertmanager's API v2 takes them.
//
// One or more matchers a line, separated by commas, optionally in braces as a selector:
//   name="value"   name!="value"   name=~"regex"   name!~"regex"   {a="b", c=~"d.*"}
// Values in double quotes with Alertmanager's escapes (\" \\ \n; any other backslash stays as
// it is), or bare up to the next comma; names as Prometheus writes them, or in double quotes
// (UTF-8 names, as Alertmanager 0.27 takes them).

export class MatcherSyntaxError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MatcherSyntaxError';
  }
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATOR = /=~|!~|!=|=/y;
const ESCAPES = { '"': '"', '\\': '\\', n: '\n' };

class Scanner {
  constructor(text, line) {
    this.text = text;
    this.line = line;
    this.at = 0;
  }

  fail(what) {
    const rest = this.text.slice(this.at);
    const where = rest ? `at ${JSON.stringify(rest.slice(0, 20))}` : 'at the end of the line';
    throw new MatcherSyntaxError(`line ${this.line}: expected ${what} ${where}`);
  }

  spaces() {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at += 1;
  }

  done() {
    this.spaces();
    return this.at >= this.text.length;
  }

  sticky(re) {
    re.lastIndex = this.at;
    const m = re.exec(this.text);
    if (!m) return null;
    this.at = re.lastIndex;
    return m[0];
  }

  quoted() {
    let out = '';
    this.at += 1; // the opening quote
    while (this.at < this.text.length) {
      const c = this.text[this.at];
      this.at += 1;
      if (c === '"') return out;
      if (c === '\\' && Object.hasOwn(ESCAPES, this.text[this.at] ?? '')) {
        out += ESCAPES[this.text[this.at]];
        this.at += 1;
      } else {
        out += c;
      }
    }
    this.at = this.text.length;
    return this.fail('a closing "');
  }

  name() {
    this.spaces();
    if (this.text[this.at] === '"') return this.quoted();
    return this.sticky(NAME) ?? this.fail('a label name');
  }

  value() {
    this.spaces();
    if (this.text[this.at] === '"') return this.quoted();
    const end = this.text.indexOf(',', this.at);
    const stop = end < 0 ? this.text.length : end;
    const bare = this.text.slice(this.at, stop).trim();
    this.at = stop;
    return bare;
  }
}

/** Parse one line of `text` (number `line` for messages) onto `out`. */
function parseLine(text, line, out) {
  let body = text.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  const s = new Scanner(body, line);
  while (!s.done()) {
    const name = s.name();
    s.spaces();
    const op = s.sticky(OPERATOR) ?? s.fail('one of = != =~ !~');
    const value = s.value();
    out.push({ name, value, isRegex: op.endsWith('~'), isEqual: !op.startsWith('!') });
    if (s.done()) break;
    if (s.text[s.at] !== ',') s.fail('a comma or the end of the line');
    s.at += 1;
  }
}

/**
 * Alertmanager API v2 matchers (`{name, value, isRegex, isEqual}`) from `text`, one or more
 * a line; blank lines are skipped. Throws `MatcherSyntaxError` naming the line.
 */
export function parseMatchers(text) {
  const out = [];
  String(text ?? '')
    .split('\n')
    .forEach((line, i) => parseLine(line, i + 1, out));
  return out;
}

/** `"text"` with \\, " and newlines escaped, as Alertmanager writes matcher values. */
export function quote(text) {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A matcher as Alertmanager prints it: `name="value"`, `name=~"regex"`, ... */
export function formatMatcher(m) {
  const equal = m.isEqual !== false; // the API's default
  const op = m.isRegex ? (equal ? '=~' : '!~') : equal ? '=' : '!=';
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(m.name) ? m.name : quote(m.name);
  return `${name}${op}${quote(m.value)}`;
}
