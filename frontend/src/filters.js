// The Rules and Alerts pages' filter forms are plain GET forms (the URL keeps the filter);
// with this, ticking a box applies it at once instead of waiting for the Filter button.

/** Submit `form` whenever one of its checkboxes changes. */
export function submitOnToggle(form) {
  if (!form) return;
  for (const box of form.querySelectorAll('input[type=checkbox]')) {
    box.addEventListener('change', () => form.requestSubmit());
  }
}
