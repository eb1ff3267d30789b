/**
 * `import(specifier)` for what is loaded only on use and is not inside the CLI's bundle: the S3
 * client, merge-operator plugins, rarely used built-ins. When the CLI runs bundled from V8's code
 * cache (src/cli/launch.ts), an `import()` inside the bundle fails on Node 20 ("A dynamic import
 * callback was not specified": the callback does not survive the cached code), so the launcher
 * lends its own `import` here. Bare specifiers resolve from dist/cli/ then: the same node_modules.
 */
const LAUNCHER_IMPORT = Symbol.for('snapshot-verify.launcher-import');

type Importer = (specifier: string) => Promise<unknown>;

export function dynamicImport<T>(specifier: string): Promise<T> {
  const lent = (globalThis as { [LAUNCHER_IMPORT]?: Importer })[LAUNCHER_IMPORT];
  return (lent !== undefined ? lent(specifier) : import(specifier)) as Promise<T>;
}

/** Called by the launcher before it runs the bundle. */
export function lendImport(importer: Importer): void {
  (globalThis as { [LAUNCHER_IMPORT]?: Importer })[LAUNCHER_IMPORT] = importer;
}
