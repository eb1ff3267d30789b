#!/usr/bin/env node
/**
 * Manual check with a newer RocksDB than Debian's: opens restored databases with rocksdb-native
 * (RocksDB 10.5.1, the package test/fixtures/rocksdb/fv6 uses), read-write with every column
 * family, iterates each, compares with `expected.json` ({ family: [[keyHex, valueHex], ...] }),
 * writes one key per family, closes and reopens. Not part of `npm test`: the package is not a
 * dependency (prebuilt native code). Run from a scratch directory, as fv6/make.mjs:
 *
 *   mkdir -p /tmp/rdb && cd /tmp/rdb && npm init -y && npm install rocksdb-native@3.18.1
 *   node /path/to/test/restore/rocksdb10-check.mjs DB_DIR EXPECTED_JSON
 *
 * Prints one line per family and "OK rocksdb-native <version>"; exits 1 on any difference.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const RocksDB = require('rocksdb-native');
const version = require('rocksdb-native/package').version;
const [dir, expectedPath] = process.argv.slice(2);
const expected = JSON.parse(readFileSync(expectedPath, 'utf8'));
const names = ['default', ...Object.keys(expected).filter((n) => n !== 'default')];
const hex = (b) => Buffer.from(b).toString('hex');
const keepAlive = setInterval(() => {}, 1000); // the binding's reads do not keep the loop alive

function open() {
  const cfs = names.map((n) => new RocksDB.ColumnFamily(n));
  return new RocksDB(dir, { columnFamily: cfs[0], columnFamilies: cfs.slice(1) });
}

async function dump(db) {
  const out = {};
  for (const n of names) {
    const s = n === 'default' ? db : db.columnFamily(n);
    out[n] = [];
    for await (const { key, value } of s.iterator({})) out[n].push([hex(key), hex(value)]);
  }
  return out;
}

let failed = false;
try {
  const db = open();
  await db.ready();
  const got = await dump(db);
  for (const n of names) {
    const want = expected[n] ?? [];
    const same = JSON.stringify(got[n]) === JSON.stringify(want);
    failed ||= !same;
    console.log(`${same ? 'same' : 'DIFFERENT'} ${n}: ${got[n].length} entries (expected ${want.length})`);
  }
  for (const n of names) {
    const w = (n === 'default' ? db : db.columnFamily(n)).write({ autoDestroy: true });
    w.tryPut(Buffer.from('\xff\xffprobe'), Buffer.from('1'));
    await w.flush();
  }
  await db.close();
  const again = open();
  await again.ready();
  const after = await dump(again);
  for (const n of names) if (after[n].length !== (expected[n] ?? []).length + 1) failed = true;
  await again.close();
  console.log(failed ? 'FAILED' : `OK rocksdb-native ${version}`);
} finally {
  clearInterval(keepAlive);
}
process.exitCode = failed ? 1 : 0;
