// The time range picker: Grafana's quick ranges, and from/to fields that take `now-1h`, `now/d`,
// epoch milliseconds or a date (in the browser's time zone, or UTC when `utc()` says so). It is a <details> element, so it opens with Enter or Space and the
// fields are plain form inputs (the page works as a GET form without scripts too).
import { describeRange, formatTime, parseTime, QUICK_RANGES } from './timerange.js';

export class TimePicker {
  /**
   * @param {HTMLDetailsElement} root the picker (summary, `from`/`to` inputs, quick range list)
   * @param {{onChange: (from: string, to: string) => void, utc?: () => boolean}} options
   */
  constructor(root, { onChange, utc }) {
    this.root = root;
    this.onChange = onChange;
    this.utc = utc ?? (() => false);
    this.summary = root.querySelector('summary .range-text');
    this.fromInput = root.querySelector('input[name=from]');
    this.toInput = root.querySelector('input[name=to]');
    this.error = root.querySelector('.picker-error');
    const list = root.querySelector('.quick-ranges');
    list.replaceChildren();
    for (const [from, label, to = 'now'] of QUICK_RANGES) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = label;
      button.dataset.from = from;
      button.dataset.to = to;
      button.addEventListener('click', () => this.choose(from, to));
      li.appendChild(button);
      list.appendChild(li);
    }
    root.querySelector('.picker-apply').addEventListener('click', () => this.apply());
    for (const input of [this.fromInput, this.toInput]) {
      input.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') {
          ev.preventDefault();
          this.apply();
        }
      });
    }
    root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && root.open) {
        root.open = false;
        root.querySelector('summary').focus();
      }
    });
  }

  /** Show `from`/`to` (as the URL holds them) in the fields and the button. */
  set(from, to) {
    const utc = this.utc();
    const show = (t) => (/^\d+$/.test(t) ? formatTime(Number(t), { utc }) : t);
    this.fromInput.value = show(from);
    this.toInput.value = show(to);
    this.summary.textContent = describeRange(from, to, { utc });
    this.error.textContent = '';
  }

  /** The fields' values in URL form (dates become epoch milliseconds), or null if invalid. */
  read() {
    const now = Date.now();
    const utc = this.utc();
    const out = [];
    for (const [input, end] of [[this.fromInput, false], [this.toInput, true]]) {
      const text = input.value.trim();
      const ms = parseTime(text, now, { end, utc });
      if (ms === null) {
        this.error.textContent = `Invalid time: "${text}"`;
        return null;
      }
      out.push(text.startsWith('now') ? text.replace(/\s+/g, '') : String(ms));
    }
    if (parseTime(out[0], now, { utc }) >= parseTime(out[1], now, { end: true, utc })) {
      this.error.textContent = '"From" must be before "To"';
      return null;
    }
    return out;
  }

  apply() {
    const range = this.read();
    if (range) this.choose(range[0], range[1]);
  }

  choose(from, to) {
    this.set(from, to);
    this.root.open = false;
    this.onChange(from, to);
  }
}
