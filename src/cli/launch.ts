import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { lendImport } from '../format/dynamic-import.js';
import type { main as Main } from './main.js';

/**
 * How `bin/snapshot-verify` starts the CLI. Start-up is most of a small digest (issue 13): Node 20
 * resolves, reads and compiles some fifty ES modules one by one, from source, on every run. So
 * `npm run build` also bundles the CLI into one script (`dist/snapshot-verify.cjs`,
 * scripts/bundle.mjs) and saves V8's code cache for it (`.codecache`, made by running the bundle
 * on the bundled example); starting is then one read and one deserialisation. The modules are
 * loaded as they are (slower, same behaviour) when the bundle is missing or older than the
 * compiled modules, as after a `tsc` without the bundle step: a stale bundle never runs.
 */
export interface LoadedCli {
  readonly main: typeof Main;
  readonly via: 'bundle' | 'modules';
  /** The bundle's compiled script (to make its code cache, scripts/bundle.mjs); absent for modules. */
  readonly script?: Script;
  /** False when V8 refused the code cache (another Node version or V8 flags): compiled from source. */
  readonly codeCacheUsed?: boolean;
}

/** `dist/` of this package: this module is `dist/cli/launch.js` (bundled too, as `dist/launch.cjs`). */
const DIST = join(dirname(new URL(import.meta.url).pathname), '..');
/** The compiled modules' entry, by URL: found from either copy of this module. */
const MAIN_MODULE = new URL('./main.js', import.meta.url).href;
export const BUNDLE_FILE = join(DIST, 'snapshot-verify.cjs');
export const CODE_CACHE_FILE = `${BUNDLE_FILE}.codecache`;
/** This module bundled as CommonJS (scripts/bundle.mjs), what bin/snapshot-verify runs when it is not older than this one. */
export const LAUNCHER_FILE = join(DIST, 'launch.cjs');

export async function loadCli(options: { useCodeCache?: boolean } = {}): Promise<LoadedCli> {
  const bundleTime = mtimeMs(BUNDLE_FILE);
  if (bundleTime === undefined || bundleTime < (mtimeMs(join(DIST, 'cli', 'main.js')) ?? Infinity)) {
    return { main: ((await import(MAIN_MODULE)) as typeof import('./main.js')).main, via: 'modules' };
  }
  // A cache older than the bundle belongs to another build (V8 checks only the source length).
  // The bundle is pure ASCII (scripts/bundle.mjs): Latin-1 reads it as UTF-8 would, much faster.
  const cacheTime = options.useCodeCache === false ? undefined : mtimeMs(CODE_CACHE_FILE);
  const cachedData = cacheTime !== undefined && cacheTime >= bundleTime ? readFileSync(CODE_CACHE_FILE) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(BUNDLE_FILE, 'latin1')}\n})`, {
    filename: BUNDLE_FILE,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  // What the bundle does not contain it imports through us (src/format/dynamic-import.ts).
  lendImport((specifier) => import(specifier));
  const exports: { main?: typeof Main } = {};
  const module = { exports };
  (script.runInThisContext() as (...a: unknown[]) => void).call(exports, exports, createRequire(BUNDLE_FILE), module, BUNDLE_FILE, DIST);
  const main = (module.exports as { main?: typeof Main }).main;
  if (typeof main !== 'function') throw new Error(`${BUNDLE_FILE} does not export main: rebuild with npm run build`);
  return { main, via: 'bundle', script, codeCacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
