// The Silences page, over Alertmanager's API v2 on this server: lists the silences by state
// (active, pending, expired), creates one from the form (POST /api/v2/silences) and expires one
// (DELETE /api/v2/silence/{id}). Errors are shown in the API's own words. Everything from the
// API goes into the page as text.
import { formatMatcher, MatcherSyntaxError, parseMatchers } from './matchers.js';
import { formatDuration, formatTime, parseDuration, parseTime } from './timerange.js';

const STATES = [
  ['active', 'Active'],
  ['pending', 'Pending'],
  ['expired', 'Expired'],
];

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  return el;
}

/** What a failed API call says: Alertmanager answers errors as a JSON string, or as
 * go-swagger's `{"code", "message"}` when the request does not fit its schema. */
async function apiError(response) {
  const text = await response.text();
  let said = text;
  try {
    const body = JSON.parse(text);
    if (typeof body === 'string') said = body;
    else if (body && typeof body.message === 'string') said = body.message;
    else if (body && typeof body.error === 'string') said = body.error;
  } catch {
    // not JSON: the text as it came
  }
  return said.trim() || `${response.status} ${response.statusText}`;
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new Error(`cannot reach Spyglass: ${err.message}`);
  }
  if (!response.ok) throw new Error(await apiError(response));
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

function relative(ms, now) {
  const d = (ms - now) / 1000;
  return d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

class Silences {
  constructor(root) {
    this.api = root.dataset.api;
    this.list = root.querySelector('#silence-list');
    this.listError = root.querySelector('#silences-error');
    this.status = root.querySelector('#silences-status');
    this.form = root.querySelector('#silence-form');
    this.formError = root.querySelector('#form-error');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.create();
    });
    this.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-expire]');
      if (button) this.expire(button.dataset.expire, button);
    });
  }

  show(el, message) {
    el.textContent = message;
    el.hidden = !message;
  }

  async load() {
    let silences;
    try {
      silences = await call('GET', `${this.api}/silences`);
    } catch (err) {
      this.show(this.listError, `Cannot list silences: ${err.message}`);
      return;
    }
    this.show(this.listError, '');
    this.render(silences);
  }

  render(silences) {
    const now = Date.now();
    const byState = Object.fromEntries(STATES.map(([s]) => [s, []]));
    for (const s of silences) (byState[s.status?.state] ?? byState.expired).push(s);
    const time = (s, key) => Date.parse(s[key]);
    byState.active.sort((a, b) => time(a, 'endsAt') - time(b, 'endsAt'));
    byState.pending.sort((a, b) => time(a, 'startsAt') - time(b, 'startsAt'));
    byState.expired.sort((a, b) => time(b, 'endsAt') - time(a, 'endsAt'));
    const sections = STATES.map(([state, title]) => {
      const items = byState[state];
      return h(
        'section',
        { class: `silence-state silence-state-${state}`, 'aria-label': title },
        h('h2', {}, `${title} `, h('span', { class: 'pool-count' }, `(${items.length})`)),
        items.length
          ? h('ul', { class: 'silence-list' }, items.map((s) => this.item(s, state, now)))
          : h('p', { class: 'muted' }, `No ${title.toLowerCase()} silences.`),
      );
    });
    this.list.replaceChildren(...sections);
  }

  item(s, state, now) {
    const when = (iso) => {
      const ms = Date.parse(iso);
      return `${formatTime(ms)} (${relative(ms, now)})`;
    };
    const fact = (term, value, attrs = {}) =>
      h('div', {}, h('dt', {}, term), h('dd', attrs, value));
    const labels = (s.matchers ?? []).map((m) => [
      h('span', { class: 'label' }, formatMatcher(m)),
      ' ',
    ]);
    const expire =
      state === 'expired'
        ? null
        : h('button', { type: 'button', class: 'expire', 'data-expire': s.id }, 'Expire');
    return h(
      'li',
      { class: 'silence', 'data-id': s.id },
      h('div', { class: 'silence-head' }, h('div', { class: 'labels' }, labels), expire),
      h(
        'dl',
        { class: 'silence-facts' },
        fact('Starts', when(s.startsAt), { title: s.startsAt }),
        fact(state === 'expired' ? 'Ended' : 'Ends', when(s.endsAt), { title: s.endsAt }),
        fact('Created by', s.createdBy ?? '', { class: 'silence-creator' }),
        fact('ID', s.id, { class: 'silence-id' }),
      ),
      s.comment ? h('p', { class: 'silence-comment' }, s.comment) : null,
    );
  }

  /** The silence the form describes; throws an Error saying what is wrong with it. */
  silence() {
    const f = this.form.elements;
    const now = Date.now();
    const unreadable = (field, input, example) =>
      new Error(`${field}: cannot read ${JSON.stringify(input.value)} ${example}.`);
    const matchers = parseMatchers(f.matchers.value);
    if (matchers.length === 0) {
      throw new Error('Add at least one matcher, e.g. alertname="HighLatency".');
    }
    const startsAt = f.starts.value.trim() ? parseTime(f.starts.value, now) : now;
    if (startsAt === null) throw unreadable('Starts', f.starts, 'as a time');
    let endsAt;
    if (f.ends.value.trim()) {
      endsAt = parseTime(f.ends.value, now);
      if (endsAt === null) throw unreadable('Ends', f.ends, 'as a time');
    } else {
      const seconds = parseDuration(f.duration.value);
      if (seconds === null) throw unreadable('Duration', f.duration, '(e.g. 2h, 1d, 30m)');
      endsAt = startsAt + seconds * 1000;
    }
    return {
      matchers,
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      createdBy: f.createdBy.value.trim(),
      comment: f.comment.value.trim(),
    };
  }

  async create() {
    let body;
    try {
      body = this.silence();
    } catch (err) {
      const prefix = err instanceof MatcherSyntaxError ? 'Matchers: ' : '';
      this.show(this.formError, prefix + err.message);
      return;
    }
    const button = this.form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const reply = await call('POST', `${this.api}/silences`, body);
      this.show(this.formError, '');
      this.show(this.status, `Created silence ${reply?.silenceID ?? ''}.`);
      this.form.elements.matchers.value = '';
      this.form.elements.comment.value = '';
      await this.load();
    } catch (err) {
      this.show(this.formError, err.message);
    } finally {
      button.disabled = false;
    }
  }

  async expire(id, button) {
    button.disabled = true;
    try {
      await call('DELETE', `${this.api}/silence/${encodeURIComponent(id)}`);
      this.show(this.status, `Expired silence ${id}.`);
      await this.load();
    } catch (err) {
      this.show(this.listError, `Cannot expire silence ${id}: ${err.message}`);
      button.disabled = false;
    }
  }
}

const root = document.getElementById('silences');
if (root) {
  const page = new Silences(root);
  page.load();
}
