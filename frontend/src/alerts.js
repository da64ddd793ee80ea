// The Alerts page: rendered by the server; this highlights the expressions and applies the
// state filter as soon as a box is ticked.
import { submitOnToggle } from './filters.js';
import { highlightAll } from './highlight.js';

highlightAll();
submitOnToggle(document.querySelector('form.filters'));
