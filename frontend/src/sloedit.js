// The SLO editor (/slos/new, /slos/<id>/edit): a form for one SLO and the spec's YAML, kept in
// step. The YAML is what is saved. Form → YAML writes a Sloth `prometheus/v1` spec here (every
// string JSON-quoted, which YAML reads as a double-quoted scalar); YAML → form asks
// POST /api/spyglass/v1/slo-preview, the server's own parser, for the SLO's fields, so OpenSLO
// specs fill the form too and nothing is parsed twice. "Preview rules" shows the rule file that
// preview answers (what `spyglass slo generate` prints); Save PUTs the YAML to
// /api/spyglass/v1/slo-specs/<name>, the spec name being the SLO's id for a new one. A refused
// spec's error names a field: it shows next to that field in the form, with its line in the YAML.
import './sloedit.css';
import { formField, formToYaml, parseLabels } from './slospec.js';

const PREVIEW = '/api/spyglass/v1/slo-preview';
const SPECS = '/api/spyglass/v1/slo-specs';

const root = document.getElementById('slo-editor');

if (root) {
  const form = document.getElementById('slo-form');
  const yaml = document.getElementById('slo-yaml');
  const yamlPane = document.getElementById('slo-yaml-pane');
  const yamlError = document.getElementById('slo-yaml-error');
  const general = document.getElementById('slo-general-error');
  const message = document.getElementById('slo-message');
  const rules = document.getElementById('slo-rules');
  const rulesText = document.getElementById('slo-rules-text');
  const tabs = { form: document.getElementById('tab-form'), yaml: document.getElementById('tab-yaml') };
  let mode = 'form';
  const specName = root.dataset.spec;

  const say = (text, error = false) => {
    message.textContent = text;
    message.classList.toggle('error-text', error);
  };

  function clearErrors() {
    for (const e of root.querySelectorAll('.field-error')) e.textContent = '';
    for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
    general.hidden = true;
    general.textContent = '';
  }

  function showGeneral(text) {
    general.textContent = text;
    general.hidden = false;
  }

  /** Show a refusal: next to its field in the form, with its line under the YAML. */
  function showError(reply, fallback, status = 'Not saved: the spec has an error.') {
    clearErrors();
    const text = reply?.error || fallback;
    const where = reply?.line ? `line ${reply.line}: ` : '';
    yamlError.textContent = reply?.field ? `${where}${reply.field}: ${reply.message}` : text;
    const name = formField(reply?.field);
    const target = name && form.querySelector(`.field-error[data-for="${name}"]`);
    if (mode === 'form' && target) {
      target.textContent = reply.message;
      form.elements[name].setAttribute('aria-invalid', 'true');
      form.elements[name].focus();
    } else if (mode === 'form') {
      showGeneral(text);
    }
    say(status, true);
  }

  function values() {
    const f = form.elements;
    const labels = (name) => {
      try {
        return parseLabels(f[name].value);
      } catch (err) {
        const e = new Error(err.message);
        e.reply = { field: name === 'pageLabels' ? 'alerting.page_alert.labels' : 'alerting.ticket_alert.labels', message: err.message, error: err.message };
        throw e;
      }
    };
    return {
      service: f.service.value,
      name: f.name.value,
      objective: f.objective.value,
      period: f.period.value,
      description: f.description.value,
      sli: f.sli.value,
      errorQuery: f.errorQuery.value,
      totalQuery: f.totalQuery.value,
      errorRatioQuery: f.errorRatioQuery.value,
      alertName: f.alertName.value,
      pageEnabled: f.pageEnabled.checked,
      ticketEnabled: f.ticketEnabled.checked,
      pageLabels: labels('pageLabels'),
      ticketLabels: labels('ticketLabels'),
    };
  }

  function fill(slo) {
    const f = form.elements;
    f.service.value = slo.service;
    f.name.value = slo.name;
    f.objective.value = String(slo.objective);
    f.period.value = slo.period;
    f.description.value = slo.description;
    f.sli.value = slo.errorQuery ? 'events' : 'raw';
    f.errorQuery.value = slo.errorQuery;
    f.totalQuery.value = slo.totalQuery;
    f.errorRatioQuery.value = slo.errorRatioQuery;
    f.alertName.value = slo.alertName;
    f.pageEnabled.checked = !slo.pageDisabled;
    f.ticketEnabled.checked = !slo.ticketDisabled;
    const lines = (labels) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join('\n');
    f.pageLabels.value = lines(slo.pageLabels);
    f.ticketLabels.value = lines(slo.ticketLabels);
    showSli();
  }

  function showSli() {
    const raw = form.elements.sli.value === 'raw';
    for (const e of form.querySelectorAll('.sli-events')) e.hidden = raw;
    for (const e of form.querySelectorAll('.sli-raw')) e.hidden = !raw;
  }

  /** The spec as it stands: the form's YAML in form mode, the text area's in YAML mode. */
  function currentText() {
    if (mode === 'form') yaml.value = formToYaml(values());
    return yaml.value;
  }

  async function preview(text, name = specName) {
    const url = name ? `${PREVIEW}?${new URLSearchParams({ name })}` : PREVIEW;
    let response;
    try {
      response = await fetch(url, { method: 'POST', body: text, headers: { 'Content-Type': 'application/yaml', Accept: 'application/json' } });
    } catch (err) {
      throw Object.assign(new Error(`cannot reach Spyglass: ${err.message}`), { reply: null });
    }
    const reply = await response.json().catch(() => null);
    if (!response.ok || reply?.status !== 'success') {
      throw Object.assign(new Error(reply?.error || `${response.status} ${response.statusText}`), { reply });
    }
    return reply.data;
  }

  function select(next) {
    mode = next;
    form.hidden = next !== 'form';
    yamlPane.hidden = next !== 'yaml';
    tabs.form.setAttribute('aria-selected', String(next === 'form'));
    tabs.yaml.setAttribute('aria-selected', String(next === 'yaml'));
  }

  async function toYaml() {
    if (mode === 'yaml') return;
    try {
      yaml.value = formToYaml(values());
    } catch (err) {
      showError(err.reply, err.message);
      return;
    }
    clearErrors();
    select('yaml');
    yaml.focus();
  }

  async function toForm() {
    if (mode === 'form') return;
    say('Reading the spec…');
    try {
      const data = await preview(yaml.value);
      if (data.slos.length !== 1) {
        say(`The form edits one SLO; this spec holds ${data.slos.length}: edit it as YAML.`, true);
        return;
      }
      clearErrors();
      fill(data.slos[0]);
      // Saved from the form, the spec is what the form writes: when that generates other rules
      // (labels, annotations, an OpenSLO spec's own alert name the form cannot hold), going to
      // the form would lose them, so the spec stays in YAML.
      const again = await preview(formToYaml(values()));
      if (again.rules !== data.rules) {
        say('The form cannot hold all of this spec (labels, annotations or its format): edit it as YAML.', true);
        return;
      }
      say('');
      select('form');
    } catch (err) {
      // Stay on the YAML: the error is about its text.
      clearErrors();
      const r = err.reply;
      yamlError.textContent = r?.field ? `line ${r.line}: ${r.field}: ${r.message}` : err.message;
      say('The YAML has an error: fix it to go back to the form.', true);
    }
  }

  tabs.form.addEventListener('click', toForm);
  tabs.yaml.addEventListener('click', toYaml);
  for (const [from, to] of [[tabs.form, tabs.yaml], [tabs.yaml, tabs.form]]) {
    from.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
        to.focus();
        to.click();
      }
    });
  }
  form.addEventListener('change', (event) => {
    if (event.target.name === 'sli') showSli();
  });
  form.addEventListener('submit', (event) => event.preventDefault());

  // The spec as the active tab holds it, or null once its error is shown.
  const specText = () => {
    try {
      return currentText();
    } catch (err) {
      showError(err.reply, err.message);
      return null;
    }
  };

  document.getElementById('slo-preview').addEventListener('click', async () => {
    const text = specText();
    if (text === null) return;
    say('Generating…');
    try {
      const data = await preview(text);
      clearErrors();
      rulesText.textContent = data.rules;
      rules.hidden = false;
      say(`Rules for ${data.slos.map((s) => s.id).join(', ')}: not saved yet.`);
    } catch (err) {
      rules.hidden = true;
      showError(err.reply, err.message, 'The spec has an error: no rules to show.');
    }
  });

  document.getElementById('slo-save').addEventListener('click', async () => {
    const text = specText();
    if (text === null) return;
    say('Saving…');
    try {
      // A new spec is named after its (first) SLO; the preview checks it first.
      const data = await preview(text);
      const name = specName || data.name;
      if (!specName) {
        const existing = await fetch(`${SPECS}/${encodeURIComponent(name)}`);
        if (existing.ok) {
          showError(null, `A spec named ${name} is kept already: edit that SLO instead.`);
          return;
        }
      }
      const response = await fetch(`${SPECS}/${encodeURIComponent(name)}`, { method: 'PUT', body: text, headers: { 'Content-Type': 'application/yaml' } });
      const reply = await response.json().catch(() => null);
      if (!response.ok) throw Object.assign(new Error(reply?.error || response.statusText), { reply });
      const first = reply.data.slos[0];
      window.location.assign(`/slos/${encodeURIComponent(first)}`);
    } catch (err) {
      showError(err.reply, err.message);
    }
  });

  // Start in the form: a new SLO from its defaults, an edited one from its stored YAML (read by
  // the server's parser). A spec the form cannot hold opens as YAML.
  if (yaml.value.trim()) {
    select('yaml');
    toForm();
  } else {
    showSli();
  }
}
