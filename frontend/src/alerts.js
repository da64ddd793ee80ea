// The Alerts page: rendered by the server; this highlights the expressions, applies the state
// filter as soon as a box is ticked, and loads each alert's "Why?" panel when it is opened.
import { submitOnToggle } from './filters.js';
import { highlightAll } from './highlight.js';
import { initWhyPanels } from './why.js';

highlightAll();
submitOnToggle(document.querySelector('form.filters'));
initWhyPanels();
