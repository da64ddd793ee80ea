// A small, safe subset of Markdown for text panels, built as DOM nodes (never as HTML), so
// nothing a dashboard holds can run: raw HTML shows as the text it is, and links go only to
// http(s), mailto or paths on this server.
//
// Blocks: ATX headings (#..######), paragraphs, `-`/`*`/`+` and `1.` lists, `>` quotes,
// fenced code (```), horizontal rules (---), GFM tables (a `|` row, then `|---|`). Inline: `code`, **bold**, *italic* / _italic_,
// [text](url).

const SAFE_URL = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;

function el(tag, ...children) {
  const node = document.createElement(tag);
  node.append(...children);
  return node;
}

/** Inline markup of `text` as an array of nodes. */
export function inline(text) {
  const out = [];
  // Underscores emphasise only at word edges (snake_case and __names__ stay as written).
  const pattern =
    /`([^`]+)`|\*\*(.+?)\*\*|(?<!\w)__(.+?)__(?!\w)|\*(.+?)\*|(?<!\w)_(.+?)_(?!\w)|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
  let last = 0;
  let m;
  while ((m = pattern.exec(text)) !== null) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    if (m[1] !== undefined) out.push(el('code', m[1]));
    else if (m[2] !== undefined || m[3] !== undefined) out.push(el('strong', ...inline(m[2] ?? m[3])));
    else if (m[4] !== undefined || m[5] !== undefined) out.push(el('em', ...inline(m[4] ?? m[5])));
    else if (m[6] !== undefined) {
      const href = m[7];
      if (SAFE_URL.test(href)) {
        const a = el('a', ...inline(m[6]));
        a.href = href;
        a.rel = 'noopener noreferrer';
        if (/^https?:/i.test(href)) a.target = '_blank';
        out.push(a);
      } else {
        out.push(document.createTextNode(m[6]));
      }
    }
    last = pattern.lastIndex;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** A table row's cells: split on `|` that is not escaped as `\|`, the outer pipes dropped. */
function cells(line) {
  const out = [''];
  const text = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let k = 0; k < text.length; k += 1) {
    if (text[k] === '\\' && text[k + 1] === '|') {
      out[out.length - 1] += '|';
      k += 1;
    } else if (text[k] === '|') out.push('');
    else out[out.length - 1] += text[k];
  }
  return out.map((c) => c.trim());
}

function isTableStart(lines, i) {
  return (
    /^\s*\|/.test(lines[i]) && i + 1 < lines.length &&
    /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(lines[i + 1])
  );
}

/** `source` rendered into a fragment (see the module comment). */
export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) {
      i += 1;
      continue;
    }
    const fence = /^\s*```/.exec(line);
    if (fence) {
      const code = [];
      i += 1;
      while (i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i++]);
      i += 1;
      frag.append(el('pre', el('code', code.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      frag.append(el(`h${heading[1].length}`, ...inline(heading[2])));
      i += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      frag.append(el('hr'));
      i += 1;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ''));
      frag.append(el('blockquote', renderMarkdown(quoted.join('\n'))));
      continue;
    }
    if (isTableStart(lines, i)) {
      const head = cells(line);
      const table = el('table', el('thead', el('tr', ...head.map((c) => el('th', ...inline(c))))));
      const body = el('tbody');
      i += 2;
      while (i < lines.length && /^\s*\|/.test(lines[i])) {
        const row = cells(lines[i++]);
        body.append(el('tr', ...head.map((_, k) => el('td', ...inline(row[k] ?? '')))));
      }
      table.append(body);
      frag.append(table);
      continue;
    }
    const bullet = /^\s*([-*+]|\d+[.)])\s+/;
    if (bullet.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? 'ol' : 'ul');
      while (i < lines.length && bullet.test(lines[i])) {
        list.append(el('li', ...inline(lines[i].replace(bullet, ''))));
        i += 1;
      }
      frag.append(list);
      continue;
    }
    const para = [];
    while (
      i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,6})\s/.test(lines[i]) &&
      !/^\s*```/.test(lines[i]) && !bullet.test(lines[i]) && !/^\s*>/.test(lines[i]) &&
      !isTableStart(lines, i)
    ) {
      para.push(lines[i++].trim());
    }
    frag.append(el('p', ...inline(para.join(' '))));
  }
  return frag;
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * The text of an HTML text panel without its markup. Done on the string, never by a DOM parser:
 * a parsed document can start loads (an <img>) and fire their handlers.
 */
export function htmlText(source) {
  return String(source ?? '')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|tr)>/gi, '\n')
    .replace(/<[^>]*>?/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
      if (name[0] === '#') {
        const code = name[1].toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .trim();
}
