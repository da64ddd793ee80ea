// The PromQL editor: CodeMirror 6 with Prometheus' own PromQL extension (highlighting, linting,
// and completion of functions, keywords, metric names, label names and values, which it asks the
// Prometheus API on this same server for).
//
// Enter runs the query (as in Prometheus' UI), and so does Ctrl/Cmd+Enter (as in most editors);
// Shift+Enter starts a new line, Escape leaves the editor so Tab moves on through the page. When
// the completion list is open, Enter picks.
import { autocompletion, closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { EditorState, Prec } from '@codemirror/state';
import { drawSelection, EditorView, highlightSpecialChars, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';

// Colours close to Prometheus' own dark editor theme.
const promqlHighlight = HighlightStyle.define([
  { tag: tags.number, color: '#22c55e' },
  { tag: tags.string, color: '#f59e0b' },
  { tag: tags.keyword, color: '#f472b6', fontWeight: 'bold' },
  { tag: tags.function(tags.variableName), color: '#60a5fa' },
  { tag: tags.labelName, color: '#fb923c' },
  { tag: tags.operator, color: '#c084fc' },
  { tag: tags.modifier, color: '#c084fc', fontWeight: 'bold' },
  { tag: tags.paren, color: '#cbd5e1' },
  { tag: tags.squareBracket, color: '#cbd5e1' },
  { tag: tags.brace, color: '#cbd5e1' },
  { tag: tags.invalid, color: '#ef4444' },
  { tag: tags.comment, color: '#94a3b8', fontStyle: 'italic' },
]);

const theme = EditorView.theme(
  {
    '&': { backgroundColor: 'var(--input-bg)', color: 'var(--text)', fontSize: '14px' },
    '&.cm-focused': { outline: '2px solid var(--focus)' },
    '.cm-content': { fontFamily: 'var(--mono)', padding: '6px 0', caretColor: 'var(--text)' },
    '.cm-line': { padding: '0 8px' },
    '.cm-placeholder': { color: 'var(--muted)' },
    '.cm-tooltip': {
      backgroundColor: 'var(--panel)',
      border: '1px solid var(--border)',
      color: 'var(--text)',
    },
    '.cm-tooltip-autocomplete > ul > li[aria-selected]': {
      backgroundColor: 'var(--accent-bg)',
      color: 'var(--text)',
    },
    '.cm-completionDetail': { color: 'var(--muted)', fontStyle: 'normal', marginLeft: '1em' },
    '.cm-completionInfo': { maxWidth: '400px' },
    '.cm-diagnostic-error': { borderLeftColor: 'var(--error)' },
  },
  { dark: true },
);

/**
 * An editor in `parent` holding `doc`; `onRun()` on Enter, `onChange(text)` on every edit.
 * `nonce` is the page's CSP nonce, which CodeMirror puts on the style elements it adds.
 */
export function createEditor(parent, { doc, onRun, onChange, nonce, label }) {
  const promql = new PromQLExtension().setComplete({
    remote: { url: '', httpMethod: 'GET', cache: { maxAge: 5 * 60 * 1000 } },
  });
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
        autocompletion({ activateOnTyping: true }),
        syntaxHighlighting(promqlHighlight),
        placeholder('Enter a PromQL query (Enter runs it, Shift+Enter adds a line)'),
        Prec.high(
          keymap.of([
            { key: 'Enter', run },
            { key: 'Mod-Enter', run },
            { key: 'Shift-Enter', run: insertNewlineAndIndent },
            {
              key: 'Escape',
              run: (view) => {
                view.contentDOM.blur();
                return true;
              },
            },
          ]),
        ),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...lintKeymap]),
        promql.asExtension(),
        theme,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label ?? 'PromQL query' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
}
