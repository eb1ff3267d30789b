import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODULES_BIN, REPO, runCli } from '../helpers/cli.js';

/**
 * Start-up of a digest is mostly module loading (issue 13): the digest of a RocksDB checkpoint
 * must load only what it uses. The CLI runs from its compiled modules (the binary runs the same
 * code bundled, where esbuild keeps each dynamic import a lazy initialiser) with a loader hook that
 * lists every module loaded, static and dynamic imports alike (test/helpers/log-modules.mjs).
 * A static import of a heavy dependency anywhere on the digest path fails here.
 */

const dir = mkdtempSync(join(tmpdir(), 'startup-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function modulesLoaded(args: string[]): Promise<string[]> {
  const file = join(dir, `${Math.random().toString(16).slice(2)}.txt`);
  const r = await runCli(args, { bin: MODULES_BIN, env: { LOG_MODULES_FILE: file, NODE_OPTIONS: `--import=${join(REPO, 'test', 'helpers', 'log-modules.mjs')}` } });
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(file, 'utf8').trim().split('\n');
}

/** npm packages among module URLs: `@scope/name` or `name`. */
function packages(urls: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m !== null) out.add(m[1]!);
  }
  return out;
}

/** Our modules among them, relative to dist/. */
function ours(urls: readonly string[]): string[] {
  return urls.filter((u) => u.includes('/dist/') && !u.includes('/node_modules/')).map((u) => u.slice(u.lastIndexOf('/dist/') + 6));
}

const DIGEST = ['digest', join(REPO, 'examples', 'checkpoint_epoch_42'), '--tables', 'per_object_blob_info,per_object_pooled_blob_info,storage_pool_info'];

describe('what a digest loads', () => {
  it('a RocksDB digest loads no S3 client, BCS, msgpack or yargs; only the packages it uses', async () => {
    const urls = await modulesLoaded(DIGEST);
    // The hook sees dynamic imports: the RocksDB reader is one.
    expect(ours(urls)).toContain('sources/rocksdb/index.js');
    const loaded = packages(urls);
    for (const heavy of ['@aws-sdk/client-s3', '@mysten/bcs', '@msgpack/msgpack', 'yargs', 'cliui']) expect(loaded, heavy).not.toContain(heavy);
    // fzstd: the block reader imports it statically for zstd blocks (src/sources/rocksdb/table/compression.ts).
    expect([...loaded].filter((p) => !['yargs-parser', 'xxhash-wasm', 'fzstd'].includes(p))).toEqual([]);
  });

  it('a digest loads no other command, nor the repository, restore, signing or Walrus code', async () => {
    const mine = ours(await modulesLoaded(DIGEST));
    expect(mine).toContain('cli/commands/digest.js');
    const unused = mine.filter((m) =>
      /^(cli\/commands\/(?!digest\.js|index\.js)|repository\/|restore\/|report\/identity\/|presets\/walrus\/|interop\/|sources\/(snapshot|dump)\/|cli\/suggest\.js|cli\/render\/walrus\.js)/.test(m),
    );
    expect(unused).toEqual([]);
  });

  it('help still goes through yargs (the hook sees packages loaded on demand)', async () => {
    const loaded = packages(await modulesLoaded(['digest', '--help']));
    expect(loaded).toContain('yargs');
  });
});
