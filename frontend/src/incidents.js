// The Incidents pages: every change goes to /api/spyglass/v1/incidents, then the page reloads
// so the server shows the stored incident and its timeline. The postmortem is fetched as
// Markdown and rendered by markdown.js (DOM nodes, never HTML); Edit swaps in a text area, Save
// PUTs it back, "Back to the draft" PUTs an empty body. "You" (who made a change) is kept in
// this browser so a responder types it once. The "Why?" panels load when opened (why.js).
import { callApi, say } from './jsonapi.js';
import { renderMarkdown } from './markdown.js';
import { initWhyPanels } from './why.js';

initWhyPanels();

const API = '/api/spyglass/v1/incidents';
const WHO = 'spyglass.incidents.by';

function remembered() {
  try {
    return localStorage.getItem(WHO) ?? '';
  } catch {
    return '';
  }
}

function who() {
  const input = document.querySelector('input.who');
  const name = (input?.value ?? '').trim();
  try {
    if (name) localStorage.setItem(WHO, name);
  } catch {
    // Private windows may refuse storage; the name still goes with this change.
  }
  return name;
}

async function act(message, call) {
  say(message, 'Saving…');
  try {
    const reply = await call();
    return reply;
  } catch (err) {
    say(message, err.message, true);
    return null;
  }
}

// -- the list: open an incident ---------------------------------------------------------------
const openForm = document.getElementById('incident-form');
openForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(openForm));
  const reply = await act(document.getElementById('incident-form-message'), () =>
    callApi('POST', API, data),
  );
  if (reply) window.location.assign(`/incidents/${encodeURIComponent(reply.data.id)}`);
});
if (openForm && !openForm.elements.by.value) openForm.elements.by.value = remembered();

// -- one incident ---------------------------------------------------------------------------
const root = document.getElementById('incident');
if (root) {
  const id = root.dataset.incident;
  const base = `${API}/${encodeURIComponent(id)}`;
  const message = document.getElementById('incident-message');
  const whoInput = root.querySelector('input.who');
  if (whoInput && !whoInput.value) whoInput.value = remembered();
  const done = (reply) => {
    if (reply) window.location.reload();
  };

  const edit = document.getElementById('incident-edit');
  edit.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { severity: edit.elements.severity.value, commander: edit.elements.commander.value, by: who() };
    done(await act(message, () => callApi('PATCH', base, body)));
  });

  document.getElementById('status-buttons').addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-status]');
    if (!button) return;
    const body = { status: button.dataset.status, by: who() };
    done(await act(message, () => callApi('POST', `${base}/status`, body)));
  });

  const note = document.getElementById('note-form');
  note.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { text: note.elements.text.value, by: who() };
    done(await act(message, () => callApi('POST', `${base}/notes`, body)));
  });

  const article = document.getElementById('postmortem');
  const form = document.getElementById('postmortem-form');
  let markdown = '';
  const show = async () => {
    try {
      markdown = await callApi('GET', `${base}/postmortem`);
      article.replaceChildren(renderMarkdown(markdown));
    } catch (err) {
      say(message, `postmortem: ${err.message}`, true);
    }
  };
  const save = async (text) => {
    const reply = await act(message, () => callApi('PUT', `${base}/postmortem?by=${encodeURIComponent(who())}`, text));
    if (reply) {
      form.hidden = true;
      article.hidden = false;
      say(message, 'Postmortem saved.');
      await show();
    }
  };
  document.getElementById('postmortem-edit').addEventListener('click', () => {
    form.elements.text.value = markdown;
    form.hidden = false;
    article.hidden = true;
    form.elements.text.focus();
  });
  document.getElementById('postmortem-cancel').addEventListener('click', () => {
    form.hidden = true;
    article.hidden = false;
  });
  document.getElementById('postmortem-draft').addEventListener('click', () => save(''));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(form.elements.text.value);
  });
  show();
}
