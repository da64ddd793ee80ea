// PromQL shown as text (the Rules and Alerts pages' expressions), highlighted the way
// Prometheus' editor highlights it: its own lezer grammar tags the tokens. The server renders
// the plain text; this only wraps its pieces in <span class="pq-..."> elements, putting the
// text in as text nodes, never as HTML.
import { highlightCode, tagHighlighter, tags } from '@lezer/highlight';
import { parser } from '@prometheus-io/lezer-promql';

const CLASSES = tagHighlighter([
  { tag: tags.function(tags.variableName), class: 'pq-function' },
  { tag: tags.variableName, class: 'pq-metric' },
  { tag: tags.labelName, class: 'pq-label' },
  { tag: tags.string, class: 'pq-string' },
  { tag: tags.number, class: 'pq-number' },
  { tag: tags.keyword, class: 'pq-keyword' },
  { tag: tags.operator, class: 'pq-operator' },
  { tag: tags.comment, class: 'pq-comment' },
  { tag: tags.invalid, class: 'pq-invalid' },
]);

/** Highlight the PromQL text of `el` in place (its text stays exactly the same). */
export function highlightPromQL(el) {
  const code = el.textContent;
  const out = document.createDocumentFragment();
  highlightCode(
    code,
    parser.parse(code),
    CLASSES,
    (text, classes) => {
      if (!classes) {
        out.append(text);
        return;
      }
      const span = document.createElement('span');
      span.className = classes;
      span.textContent = text;
      out.append(span);
    },
    () => out.append('\n'),
  );
  el.replaceChildren(out);
  el.classList.add('highlighted');
}

/** Highlight every `code.promql` under `root`. */
export function highlightAll(root = document) {
  for (const el of root.querySelectorAll('code.promql')) highlightPromQL(el);
}
