// The LogQL editor: CodeMirror 6 with the stream mode of logql.js for highlighting, and
// completion of label names and values (asked from Loki's API on this same server for the
// page's time range), pipeline stages after `|` and functions elsewhere.
//
// Shift+Enter or Ctrl/Cmd+Enter runs the query (as in Grafana's Explore), Enter adds a line,
// Escape leaves the editor so Tab moves on through the page. When the completion list is open,
// Enter picks.
import { autocompletion, closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { EditorState, Prec } from '@codemirror/state';
import { drawSelection, EditorView, highlightSpecialChars, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { completionContext, logqlMode, quoteString, RANGE_FUNCTIONS, STAGES, VECTOR_FUNCTIONS } from './logql.js';

const logqlHighlight = HighlightStyle.define([
  { tag: tags.number, color: '#22c55e' },
  { tag: tags.unit, color: '#22c55e' },
  { tag: tags.string, color: '#f59e0b' },
  { tag: tags.keyword, color: '#f472b6', fontWeight: 'bold' },
  { tag: tags.function(tags.variableName), color: '#60a5fa' },
  { tag: tags.labelName, color: '#fb923c' },
  { tag: tags.operator, color: '#c084fc' },
  { tag: tags.modifier, color: '#c084fc', fontWeight: 'bold' },
  { tag: tags.atom, color: '#c084fc' },
  { tag: tags.paren, color: '#cbd5e1' },
  { tag: tags.squareBracket, color: '#cbd5e1' },
  { tag: tags.brace, color: '#cbd5e1' },
  { tag: tags.comment, color: '#94a3b8', fontStyle: 'italic' },
]);

const theme = EditorView.theme(
  {
    '&': { backgroundColor: 'var(--input-bg)', color: 'var(--text)', fontSize: '14px' },
    '&.cm-focused': { outline: '2px solid var(--focus)' },
    '.cm-content': { fontFamily: 'var(--mono)', padding: '6px 0', caretColor: 'var(--text)' },
    '.cm-line': { padding: '0 8px' },
    '.cm-placeholder': { color: 'var(--muted)' },
    '.cm-tooltip': { backgroundColor: 'var(--panel)', border: '1px solid var(--border)', color: 'var(--text)' },
    '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent-bg)', color: 'var(--text)' },
    '.cm-completionDetail': { color: 'var(--muted)', fontStyle: 'normal', marginLeft: '1em' },
  },
  { dark: true },
);

const STAGE_OPTIONS = STAGES.map((label) => ({ label, type: 'keyword' }));
const FUNCTION_OPTIONS = [
  ...RANGE_FUNCTIONS.map((label) => ({ label, type: 'function', detail: 'range' })),
  ...VECTOR_FUNCTIONS.map((label) => ({ label, type: 'function', detail: 'aggregation' })),
];

/** Loki's `data` list from `path`, or [] when it cannot be had (completion is a nicety). */
async function lokiList(path, params) {
  try {
    const response = await fetch(`${path}?${new URLSearchParams(params)}`, { headers: { Accept: 'application/json' } });
    if (!response.ok) return [];
    const body = await response.json();
    return Array.isArray(body.data) ? body.data : [];
  } catch {
    return [];
  }
}

/** A completion source over `range()` ({start, end} in nanoseconds, as strings) for metadata. */
function completeFrom(range) {
  return async (ctx) => {
    const text = ctx.state.doc.toString();
    const at = completionContext(text, ctx.pos);
    if (at === null) return null;
    if (at.kind === 'stage') return { from: at.from, options: STAGE_OPTIONS, validFor: /^\w*$/ };
    if (at.kind === 'function') return { from: at.from, options: FUNCTION_OPTIONS, validFor: /^\w*$/ };
    if (at.kind === 'labelName') {
      const names = await lokiList('/loki/api/v1/labels', range());
      return { from: at.from, options: names.map((label) => ({ label, type: 'property' })), validFor: /^\w*$/ };
    }
    const values = await lokiList(`/loki/api/v1/label/${encodeURIComponent(at.label)}/values`, range());
    if (at.quoted) {
      // Inside the quotes: the value as it is written there (escaped), up to the closing quote.
      return {
        from: at.from,
        options: values.map((v) => ({ label: v, apply: quoteString(v).slice(1, -1), type: 'text' })),
        validFor: /^[^"\\]*$/,
      };
    }
    return { from: at.from, options: values.map((v) => ({ label: v, apply: quoteString(v), type: 'text' })) };
  };
}

/**
 * An editor in `parent` holding `doc`; `onRun()` on Shift/Ctrl/Cmd+Enter, `onChange(text)` on
 * every edit. `nonce` is the page's CSP nonce (CodeMirror's style elements carry it), `range()`
 * the time range label completion asks about.
 */
export function createLogQLEditor(parent, { doc, onRun, onChange, nonce, range, label }) {
  const run = () => {
    onRun();
    return true;
  };
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        EditorView.cspNonce.of(nonce ?? ''),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        bracketMatching(),
        closeBrackets(),
        StreamLanguage.define(logqlMode),
        autocompletion({ override: [completeFrom(range)], activateOnTyping: true }),
        syntaxHighlighting(logqlHighlight),
        placeholder('Enter a LogQL query, e.g. {service_name="api"} |= "error" (Shift+Enter runs it)'),
        Prec.high(
          keymap.of([
            { key: 'Shift-Enter', run },
            { key: 'Mod-Enter', run },
            {
              key: 'Escape',
              run: (view) => {
                view.contentDOM.blur();
                return true;
              },
            },
          ]),
        ),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap]),
        theme,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label ?? 'LogQL query' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
}
