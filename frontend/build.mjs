// Bundle the web UI's scripts and styles into hashed files inside the Python package.
//
//   node build.mjs [OUT_DIR]     (default: ../src/spyglass/server/ui/static)
//
// One entry per page (its scripts import the widgets they use) plus `ui.css`, the layout every
// page shares. Names carry a hash of their content, so the server can let browsers cache them
// for a year. `manifest.json` tells the server which files each entry needs. The output folder
// is the build's alone: what the build does not write is removed. The sizes printed (raw and
// gzipped, per page) are what a browser downloads.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '../src/spyglass/server/ui/static'));

// Each page's script; a page without one uses only ui.css.
const PAGES = {
  alerts: 'src/alerts.js',
  dashboard: 'src/dashboard.js',
  dashboards: 'src/dashboards.js',
  errors: 'src/errors.js',
  explore: 'src/explore.js',
  incidents: 'src/incidents.js',
  logs: 'src/logs.js',
  rules: 'src/rules.js',
  // The service map (/traces/map).
  servicemap: 'src/servicemap.js',
  silences: 'src/silences.js',
  slo: 'src/slo.js',
  traces: 'src/traces.js',
  waterfall: 'src/waterfall.js',
  sloedit: 'src/sloedit.js',
};

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { ...PAGES, ui: 'src/ui.css' },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  legalComments: 'eof',
  metafile: true,
  write: false,
  outdir: 'out',
  logLevel: 'warning',
});

const files = new Map(
  result.outputFiles.map((f) => [relative(join(here, 'out'), f.path), f.contents]),
);

// entry -> {js, css: [...], imports: [...]}, following each script's static imports.
const outputs = result.metafile.outputs;
const name = (p) => relative('out', p);
function closure(path, seen = new Set()) {
  for (const imp of outputs[path].imports) {
    if (imp.kind === 'import-statement' && !seen.has(imp.path)) {
      seen.add(imp.path);
      closure(imp.path, seen);
    }
  }
  return seen;
}
const entries = {};
for (const [path, meta] of Object.entries(outputs)) {
  if (!meta.entryPoint || path.endsWith('.map')) continue;
  const entry = basename(meta.entryPoint).replace(/\.(js|css)$/, '');
  const item = (entries[entry] ??= { js: null, css: [], imports: [] });
  if (path.endsWith('.css')) {
    item.css.push(name(path));
    continue;
  }
  item.js = name(path);
  item.imports = [...closure(path)].map(name).sort();
  if (meta.cssBundle) item.css.push(name(meta.cssBundle));
}
const manifest = Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));

mkdirSync(outDir, { recursive: true });
for (const old of readdirSync(outDir)) rmSync(join(outDir, old), { recursive: true });
for (const [file, contents] of files) writeFileSync(join(outDir, file), contents);
writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`built into ${outDir}:`);
for (const [entry, item] of Object.entries(manifest)) {
  const js = [item.js, ...item.imports].filter(Boolean);
  const size = (list) => list.reduce((n, f) => n + files.get(f).length, 0);
  const gz = (list) => list.reduce((n, f) => n + gzipSync(files.get(f), { level: 9 }).length, 0);
  const parts = [];
  if (js.length) parts.push(`JS ${kb(size(js))} (${kb(gz(js))} gzipped)`);
  if (item.css.length) parts.push(`CSS ${kb(size(item.css))} (${kb(gz(item.css))} gzipped)`);
  console.log(`  ${entry.padEnd(8)} ${parts.join(', ')}`);
}
