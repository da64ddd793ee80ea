// The errors pages: their times follow Explore's "Use local time" (pagetimes.js); on an issue's
// page the Resolve / Resolve in next release / Ignore / Unresolve buttons send the state to the
// errors API (`PUT /api/errors/issues/<id>`) and reload the page, which the server renders
// with the new state.
import { callApi, say } from './jsonapi.js';
import { localiseTimes } from './pagetimes.js';

localiseTimes();

const actions = document.getElementById('issue-actions');
const message = document.getElementById('issue-message');

actions?.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-status]');
  if (!button) return;
  for (const b of actions.querySelectorAll('button')) b.disabled = true;
  say(message, 'Saving…');
  try {
    await callApi('PUT', `/api/errors/issues/${actions.dataset.issue}`, { status: button.dataset.status });
    window.location.reload();
  } catch (err) {
    say(message, err.message, true);
    for (const b of actions.querySelectorAll('button')) b.disabled = false;
  }
});
