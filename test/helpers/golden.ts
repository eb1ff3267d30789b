import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotAnchor } from '../../src/format/header.js';
import type { Entry } from '../../src/sources/source.js';

export const GOLDEN_ROOT = join(import.meta.dirname, '..', '..', 'golden');

export interface GoldenCase {
  name: string;
  description: string;
  file: string;
  size: number;
  anchor: { epoch: string; cursorIndex: string; eventIdHex: string; maxChunkBytes: string; tables: { id: number; name: string }[] };
  digest: string;
  entries: string;
  chunks: { index: number; size: number; digest: string }[];
  tables: { id: number; name: string; entryCount: string; digest: string; entries: [string, string][] }[];
}

export interface InvalidVector {
  name: string;
  description: string;
  file: string;
  size: number;
  code: string;
  offset: number;
}

export interface GoldenManifest {
  formatVersion: number;
  cases: GoldenCase[];
  invalid: InvalidVector[];
}

/**
 * The manifest of a golden version: manifest.json, then the manifest-N.json files appended
 * later, in order of N (spec section 11). Cases and invalid vectors are concatenated.
 */
export function loadManifest(version: string): GoldenManifest {
  const dir = join(GOLDEN_ROOT, version);
  const appended = readdirSync(dir)
    .filter((f) => /^manifest-\d+\.json$/.test(f))
    .sort((a, b) => parseInt(a.slice(9), 10) - parseInt(b.slice(9), 10));
  const parts = ['manifest.json', ...appended].map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Partial<GoldenManifest>);
  const versions = new Set(parts.map((p) => p.formatVersion));
  return {
    formatVersion: versions.size === 1 ? parts[0]!.formatVersion! : Number.NaN,
    cases: parts.flatMap((p) => p.cases ?? []),
    invalid: parts.flatMap((p) => p.invalid ?? []),
  };
}

export function goldenBytes(version: string, c: GoldenCase): Uint8Array {
  return new Uint8Array(readFileSync(join(GOLDEN_ROOT, version, c.file)));
}

export function goldenPath(version: string, c: GoldenCase): string {
  return join(GOLDEN_ROOT, version, c.file);
}

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** The logical content of a case, rebuilt from the manifest alone. */
export function caseContent(c: GoldenCase): { anchor: SnapshotAnchor; tables: Entry[][] } {
  const eventId = c.anchor.eventIdHex === '' ? undefined : unhex(c.anchor.eventIdHex);
  return {
    anchor: {
      epoch: BigInt(c.anchor.epoch),
      cursor: eventId === undefined ? { index: BigInt(c.anchor.cursorIndex) } : { index: BigInt(c.anchor.cursorIndex), eventId },
      maxChunkBytes: BigInt(c.anchor.maxChunkBytes),
      tables: c.anchor.tables,
    },
    tables: c.tables.map((t) => t.entries.map(([k, v]) => ({ key: unhex(k), value: unhex(v) }))),
  };
}
