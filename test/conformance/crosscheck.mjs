#!/usr/bin/env node
// Cross-check: the independent Python reference decoder (reference_decoder.py, via mutations.py)
// against the TypeScript decoder, input by input, on (code, offset).
//
//   node test/conformance/crosscheck.mjs [--full] [--golden DIR] [--json OUT.jsonl] [--max-print N]
//
// Runs `/usr/bin/python3 test/conformance/mutations.py golden/v1` (with --full if given), rebuilds
// each mutated input from the golden file and the mutation description (or from `hex`), decodes it
// with decodeError() from dist/index.js (the only thing used from the implementation), and reports
// every input where the two decoders disagree on the error code or the error offset.
// Last line: "N agreed, M disagreed". Exit status 1 on any disagreement (or if the reference
// sweep itself failed), else 0.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeError, loadHasher } from '../../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

const argv = process.argv.slice(2);
const full = argv.includes('--full');
function opt(name, dflt) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}
const goldenDir = opt('--golden', 'golden/v1');
const jsonOut = opt('--json', null);
const maxPrint = Number(opt('--max-print', '60'));

const t0 = Date.now();
const pyArgs = [path.join('test', 'conformance', 'mutations.py'), goldenDir];
if (full) pyArgs.push('--full');
const py = spawnSync('/usr/bin/python3', pyArgs, {
  cwd: repo,
  encoding: 'utf8',
  maxBuffer: 1 << 30,
});
if (py.error) {
  console.error(`cannot run mutations.py: ${py.error.message}`);
  console.log('0 agreed, 0 disagreed');
  process.exit(1);
}
const pyStderr = py.stderr.trim();
const lines = py.stdout.split('\n').filter((l) => l.length > 0);
const tPy = Date.now();

// manifest.json, then manifest-N.json appended later (spec section 11): only the cases matter here.
const manifestFiles = ['manifest.json', ...readdirSync(path.join(repo, goldenDir)).filter((f) => /^manifest-\d+\.json$/.test(f)).sort((a, b) => parseInt(a.slice(9), 10) - parseInt(b.slice(9), 10))];
const manifest = { cases: manifestFiles.flatMap((f) => JSON.parse(readFileSync(path.join(repo, goldenDir, f), 'utf8')).cases ?? []) };
const caseFiles = new Map();
for (const c of manifest.cases) caseFiles.set(c.name, readFileSync(path.join(repo, goldenDir, c.file)));

function rebuild(rec) {
  if (typeof rec.hex === 'string') return Buffer.from(rec.hex, 'hex');
  const data = caseFiles.get(rec.case);
  if (!data) throw new Error(`no golden file for case ${rec.case} and no hex`);
  switch (rec.kind) {
    case 'xor01':
    case 'xorff': {
      const b = Buffer.from(data);
      b[rec.offset] ^= rec.kind === 'xor01' ? 0x01 : 0xff;
      return b;
    }
    case 'truncate':
      return Buffer.from(data.subarray(0, rec.offset));
    case 'extend':
      return Buffer.concat([data, Buffer.from(rec.appendHex, 'hex')]);
    default:
      throw new Error(`cannot rebuild kind ${rec.kind} without hex`);
  }
}

await loadHasher();

let agreed = 0;
const disagreements = [];
const byKind = new Map(); // kind -> {agreed, disagreed}
for (const line of lines) {
  const rec = JSON.parse(line);
  const k = byKind.get(rec.kind) ?? { agreed: 0, disagreed: 0 };
  byKind.set(rec.kind, k);
  let ts;
  let bytes;
  try {
    bytes = rebuild(rec);
    if (bytes.length !== rec.length) throw new Error(`rebuilt ${bytes.length} bytes, expected ${rec.length}`);
    const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    const e = decodeError(u8);
    ts = e === undefined ? { code: 'OK', offset: null } : { code: e.code, offset: e.offset ?? null };
  } catch (err) {
    ts = { code: `THREW(${err && err.message ? err.message : String(err)})`, offset: null };
  }
  const pyRes = { code: rec.code, offset: rec.errorOffset ?? null };
  const tsOffset = ts.offset === null ? null : Number(ts.offset);
  if (pyRes.code === ts.code && pyRes.offset === tsOffset) {
    agreed++;
    k.agreed++;
  } else {
    k.disagreed++;
    disagreements.push({
      case: rec.case,
      kind: rec.kind,
      offset: rec.offset,
      detail: rec.detail ?? null,
      length: rec.length,
      python: pyRes,
      typescript: { code: ts.code, offset: tsOffset },
      ...(rec.kind === 'crafted' || rec.kind.startsWith('chunk-') ? { hex: bytes ? (bytes.length <= 400 ? bytes.toString('hex') : `${bytes.length} bytes`) : null } : {}),
    });
  }
}
const tTs = Date.now();

// ---- report
console.log(`crosscheck: ${lines.length} inputs from mutations.py ${full ? '(--full)' : '(sampled; --full for all)'}; ` +
  `python ${((tPy - t0) / 1000).toFixed(1)} s, typescript ${((tTs - tPy) / 1000).toFixed(1)} s`);
for (const [kind, k] of byKind) console.log(`  ${kind.padEnd(12)} agreed ${k.agreed}, disagreed ${k.disagreed}`);

if (disagreements.length > 0) {
  // group by (kind, python code, typescript code)
  const groups = new Map();
  for (const d of disagreements) {
    const key = `${d.kind}: python ${d.python.code} / typescript ${d.typescript.code}`;
    const g = groups.get(key) ?? [];
    g.push(d);
    groups.set(key, g);
  }
  console.log(`disagreements by kind and codes:`);
  for (const [key, g] of [...groups].sort((a, b) => b[1].length - a[1].length)) console.log(`  ${String(g.length).padStart(6)}  ${key}`);
  console.log(`disagreements (first ${Math.min(maxPrint, disagreements.length)} of ${disagreements.length}; --max-print N, --json FILE for all):`);
  for (const d of disagreements.slice(0, maxPrint)) {
    const what = d.kind === 'crafted' ? `crafted ${d.detail}` : `${d.case} ${d.kind}${d.offset !== null ? ` @${d.offset}` : ''}${d.detail ? ` (${d.detail})` : ''}`;
    console.log(`  ${what} [${d.length} bytes]: python ${d.python.code}@${d.python.offset}, typescript ${d.typescript.code}@${d.typescript.offset}` +
      (d.hex && d.kind === 'crafted' && d.hex.length <= 200 ? `\n      hex ${d.hex}` : ''));
  }
}
if (jsonOut) writeFileSync(jsonOut, disagreements.map((d) => JSON.stringify(d)).join('\n') + (disagreements.length ? '\n' : ''));

let failed = disagreements.length > 0;
if (py.status !== 0) {
  failed = true;
  console.log(`mutations.py exited with status ${py.status} (the reference sweep itself failed):`);
  console.log(pyStderr.split('\n').filter((l) => /ACCEPTED|MISMATCH|Error|Traceback/.test(l)).slice(0, 20).join('\n'));
}
console.log(`${agreed} agreed, ${disagreements.length} disagreed`);
process.exit(failed ? 1 : 0);
