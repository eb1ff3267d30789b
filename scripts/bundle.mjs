// Bundles the compiled CLI (dist/cli/main.js and everything it imports, except the S3 client) into
// one script, dist/snapshot-verify.cjs, and saves V8's code cache for it: why, and how the bin
// loads them, in src/cli/launch.ts. Run by `npm run build` (and `npm install`) after tsc.
//
// The cache is made here, never at run time (the tool writes nothing it was not asked to): the
// bundle runs the Quick start's digest, an --out and a verify in this process, so the cache holds
// the functions a run actually compiles, then V8 serialises them.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const { BUNDLE_FILE, CODE_CACHE_FILE, LAUNCHER_FILE, loadCli } = await import(join(DIST, 'cli', 'launch.js'));

// Each bundled module keeps its own import.meta.url (its file under dist/ or node_modules/), so
// what it finds next to itself (package.json, the fetch worker, yargs's locales) is found as before.
const ownModuleUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.m?js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const url = `__moduleUrl(${JSON.stringify(relative(DIST, args.path))})`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'js' };
    });
  },
};

// Both scripts are CommonJS under dist/, beside each other: __moduleUrl resolves from there.
const cjs = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: 'const __moduleUrl = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;' },
  plugins: [ownModuleUrl],
  logLevel: 'warning',
};

rmSync(CODE_CACHE_FILE, { force: true });
await build({
  ...cjs,
  entryPoints: [join(DIST, 'cli', 'main.js')],
  outfile: BUNDLE_FILE,
  // The S3 client (~10 MB of modules) is imported only for s3:// URLs; it stays outside.
  external: ['@aws-sdk/*', '@smithy/*'],
});

// Node decodes UTF-8 several times slower than Latin-1 (13 ms against 1 ms for this bundle), so the
// bundle is made pure ASCII and launch.ts reads it as Latin-1. Its non-ASCII characters are in
// comments and a regular expression, where a \uXXXX escape means the same (it would not in the raw
// text of a tagged template: none has any).
writeFileSync(BUNDLE_FILE, readFileSync(BUNDLE_FILE, 'utf8').replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

// The launcher itself as a CommonJS script, for bin/snapshot-verify: Node starts an ES module
// entry ~14 ms later than a CommonJS one (its module loader), and the bundle needs no ES modules.
await build({ ...cjs, entryPoints: [join(DIST, 'cli', 'launch.js')], outfile: LAUNCHER_FILE });

// An import() left inside the bundle would fail when it runs from the code cache (Node 20): what
// the bundle does not contain goes through src/format/dynamic-import.ts, whose fallback is the one.
const left = readFileSync(BUNDLE_FILE, 'utf8').match(/(?<![\w$.])import\(/g) ?? [];
if (left.length !== 1) throw new Error(`bundle.mjs: ${left.length} import() calls in the bundle (expected 1, dynamicImport's): load externals with dynamicImport()`);

const cli = await loadCli({ useCodeCache: false });
if (cli.via !== 'bundle') throw new Error(`bundle.mjs: ${BUNDLE_FILE} was not taken (${cli.via})`);
const work = mkdtempSync(join(tmpdir(), 'snapshot-verify-bundle-'));
try {
  const errors = [];
  const io = { stdout: () => undefined, stderr: (t) => errors.push(t), stderrIsTTY: false, stdin: (async function* () {})() };
  const example = join(ROOT, 'examples', 'checkpoint_epoch_42');
  const snapshot = join(work, 'example.snap');
  for (const argv of [
    ['digest', example, '--tables', 'per_object_blob_info,per_object_pooled_blob_info,storage_pool_info', '--out', snapshot],
    ['verify', snapshot],
    ['digest', example, '--preset', 'walrus', '--json'],
  ]) {
    const code = await cli.main(argv, io);
    if (code !== 0) throw new Error(`bundle.mjs: snapshot-verify ${argv.join(' ')} exited ${code}: ${errors.join('')}`);
  }
  const tmp = `${CODE_CACHE_FILE}.tmp`;
  writeFileSync(tmp, cli.script.createCachedData());
  renameSync(tmp, CODE_CACHE_FILE);
} finally {
  rmSync(work, { recursive: true, force: true });
}
