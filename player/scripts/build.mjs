// Bundles src/ into dist/ for the Go package player (go:embed all:dist).
//
// JavaScript and CSS go to dist/assets/ with a content hash in the file name
// (served as immutable); the HTML pages in src/ are copied to dist/ with the
// {{name.ext}} placeholders replaced by the hashed asset paths. Nothing in the
// output refers to another origin: the pages must work offline.
import { build } from 'esbuild';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

const entryPoints = {
  course: path.join(src, 'course.js'),
  watch: path.join(src, 'watch.js'),
  style: path.join(src, 'style.css'),
};
const pages = ['index.html', 'watch.html', '404.html'];

// cleanDist empties dist/ but keeps .gitkeep, which lets go:embed compile in a
// fresh clone.
async function cleanDist() {
  await mkdir(dist, { recursive: true });
  for (const name of await readdir(dist)) {
    if (name !== '.gitkeep') await rm(path.join(dist, name), { recursive: true, force: true });
  }
  await writeFile(path.join(dist, '.gitkeep'), '');
}

// bundle runs esbuild and maps each entry name ("watch.js", "style.css") to
// its public, hashed URL path.
async function bundle() {
  const result = await build({
    entryPoints,
    outdir: dist,
    entryNames: 'assets/[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2019', 'chrome80', 'firefox78', 'safari15'],
    sourcemap: false,
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const assets = {};
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const ext = path.extname(out);
    const name = Object.keys(entryPoints).find((k) => path.resolve(root, meta.entryPoint) === entryPoints[k]);
    assets[name + ext] = '/' + path.relative(dist, path.resolve(root, out)).split(path.sep).join('/');
  }
  return assets;
}

// renderPage substitutes {{asset}} placeholders and refuses unknown ones.
function renderPage(name, html, assets) {
  return html.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, key) => {
    if (!(key in assets)) throw new Error(`${name}: unknown placeholder {{${key}}}`);
    return assets[key];
  });
}

async function main() {
  await cleanDist();
  const assets = await bundle();
  for (const page of pages) {
    const html = await readFile(path.join(src, page), 'utf8');
    const out = renderPage(page, html, assets);
    if (/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(out)) {
      throw new Error(`${page}: refers to another origin; everything must be served locally`);
    }
    await writeFile(path.join(dist, page), out);
  }
  console.log(`player: built ${pages.length} pages, assets ${Object.values(assets).join(' ')}`);
}

main().catch((err) => {
  console.error(`player build failed: ${err.message}`);
  process.exit(1);
});
