// The dashboard editor: a dialog with the dashboard's title, its variables' queries, each
// panel's title, unit and queries (expression and legend), or the whole JSON. Saving goes
// through POST /api/dashboards/db with the version that was read and without overwrite, as
// Grafana's own save does, so an edit made meanwhile by someone else is refused (412) rather
// than lost.

function node(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function field(labelText, input) {
  const label = node('label', 'edit-field');
  label.append(node('span', 'edit-label', labelText), input);
  return label;
}

function textInput(value, className = '') {
  const input = node('input', className);
  input.value = value ?? '';
  return input;
}

/** Every panel that holds queries or a title, rows' collapsed panels included, in order. */
function editablePanels(dashboard) {
  const out = [];
  for (const p of Array.isArray(dashboard.panels) ? dashboard.panels : []) {
    if (!p || typeof p !== 'object') continue;
    if (p.type !== 'row') out.push(p);
    if (Array.isArray(p.panels)) for (const inner of p.panels) if (inner && typeof inner === 'object') out.push(inner);
  }
  return out;
}

export class DashboardEditor {
  /**
   * @param {HTMLDialogElement} dialog
   * @param {{uid: string, onSaved: () => void}} options
   */
  constructor(dialog, { uid, onSaved }) {
    this.dialog = dialog;
    this.uid = uid;
    this.onSaved = onSaved;
    this.form = dialog.querySelector('form');
    this.body = dialog.querySelector('.edit-body');
    this.status = dialog.querySelector('.edit-status');
    this.jsonArea = dialog.querySelector('.edit-json');
    this.jsonToggle = dialog.querySelector('input.edit-as-json');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.save();
    });
    dialog.querySelector('.edit-cancel').addEventListener('click', () => dialog.close());
    this.jsonToggle.addEventListener('change', () => this.switchMode());
  }

  async open() {
    this.status.textContent = '';
    const response = await fetch(`/api/dashboards/uid/${encodeURIComponent(this.uid)}`);
    const body = await response.json();
    if (!response.ok) {
      this.status.textContent = body.message ?? response.statusText;
      this.dialog.showModal();
      return;
    }
    this.dashboard = body.dashboard;
    this.jsonToggle.checked = false;
    this.render();
    this.switchMode();
    this.dialog.showModal();
  }

  switchMode() {
    const asJson = this.jsonToggle.checked;
    if (asJson) {
      this.apply();
      this.jsonArea.value = JSON.stringify(this.dashboard, null, 2);
    } else if (this.jsonArea.value && !this.jsonArea.hidden) {
      try {
        this.dashboard = JSON.parse(this.jsonArea.value);
        this.render();
      } catch (err) {
        this.status.textContent = `Not JSON: ${err.message}`;
        this.jsonToggle.checked = true;
        return;
      }
    }
    this.jsonArea.hidden = !this.jsonToggle.checked;
    this.body.hidden = this.jsonToggle.checked;
  }

  /** The form: title, variables' queries, panels' titles, units and queries. */
  render() {
    const d = this.dashboard;
    this.inputs = { panels: [], variables: [] };
    this.body.replaceChildren();
    this.inputs.title = textInput(d.title, 'edit-title');
    this.body.append(field('Title', this.inputs.title));
    const vars = Array.isArray(d.templating?.list) ? d.templating.list : [];
    if (vars.length) {
      const set = node('fieldset', 'edit-group');
      set.append(node('legend', '', 'Variables'));
      for (const v of vars) {
        if (!v || typeof v !== 'object') continue;
        const query = typeof v.query === 'object' && v.query !== null ? v.query.query : v.query;
        const input = textInput(typeof query === 'string' ? query : '', 'edit-var-query');
        input.dataset.name = v.name;
        this.inputs.variables.push({ v, input });
        set.append(field(`$${v.name} (${v.type ?? 'query'})`, input));
      }
      this.body.append(set);
    }
    editablePanels(d).forEach((p, i) => {
      const set = node('fieldset', 'edit-group edit-panel');
      set.append(node('legend', '', `Panel ${i + 1}: ${p.type ?? ''}`));
      const title = textInput(p.title, 'edit-panel-title');
      const unit = textInput(p.fieldConfig?.defaults?.unit, 'edit-panel-unit');
      unit.placeholder = 'short, s, bytes, percent, reqps...';
      set.append(field('Title', title), field('Unit', unit));
      const targets = [];
      for (const t of Array.isArray(p.targets) ? p.targets : []) {
        if (!t || typeof t !== 'object') continue;
        const expr = node('textarea', 'edit-expr');
        expr.rows = 2;
        expr.value = t.expr ?? '';
        const legend = textInput(t.legendFormat, 'edit-legend');
        legend.placeholder = '{{label}}';
        set.append(field(`Query ${t.refId ?? ''}`, expr), field('Legend', legend));
        targets.push({ t, expr, legend });
      }
      this.inputs.panels.push({ p, title, unit, targets });
      this.body.append(set);
    });
  }

  /** The form's values into the dashboard object. */
  apply() {
    if (!this.inputs || this.body.hidden) return;
    this.dashboard.title = this.inputs.title.value;
    for (const { v, input } of this.inputs.variables) {
      if (typeof v.query === 'object' && v.query !== null) v.query.query = input.value;
      else v.query = input.value;
    }
    for (const { p, title, unit, targets } of this.inputs.panels) {
      p.title = title.value;
      if (unit.value || p.fieldConfig?.defaults?.unit !== undefined) {
        p.fieldConfig = p.fieldConfig && typeof p.fieldConfig === 'object' ? p.fieldConfig : {};
        p.fieldConfig.defaults = p.fieldConfig.defaults && typeof p.fieldConfig.defaults === 'object' ? p.fieldConfig.defaults : {};
        p.fieldConfig.defaults.unit = unit.value;
      }
      for (const { t, expr, legend } of targets) {
        t.expr = expr.value;
        t.legendFormat = legend.value;
      }
    }
  }

  async save() {
    let dashboard;
    if (this.jsonToggle.checked) {
      try {
        dashboard = JSON.parse(this.jsonArea.value);
      } catch (err) {
        this.status.textContent = `Not JSON: ${err.message}`;
        return;
      }
    } else {
      this.apply();
      dashboard = this.dashboard;
    }
    dashboard.uid = this.uid;
    const response = await fetch('/api/dashboards/db', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ dashboard, overwrite: false, message: 'Edited in the Spyglass UI' }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      this.status.textContent = `Not saved: ${body.message ?? response.statusText}`;
      return;
    }
    this.dialog.close();
    this.onSaved(body);
  }
}
