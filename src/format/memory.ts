import type { Entry } from './entry.js';
import { loadHasher } from './digest.js';
import { SnapshotEncoder, type EncoderOptions, type SnapshotSummary } from './encoder.js';
import type { SnapshotAnchor } from './header.js';

/** A snapshot encoded in memory: its chunks, their concatenation and the summary. */
export interface EncodedSnapshot {
  readonly bytes: Uint8Array;
  readonly chunks: readonly Uint8Array[];
  readonly summary: SnapshotSummary;
}

/** Encodes small content in memory (tests, golden files, embedding); `tables[i]` fills `anchor.tables[i]`. */
export async function encodeSnapshot(
  anchor: SnapshotAnchor,
  tables: readonly (readonly Entry[])[],
  options: EncoderOptions = {},
): Promise<EncodedSnapshot> {
  await loadHasher();
  const chunks: Uint8Array[] = [];
  let pieces: Uint8Array[] = [];
  const encoder = new SnapshotEncoder(
    anchor,
    {
      data: (bytes) => pieces.push(bytes),
      chunkEnd: () => {
        chunks.push(Buffer.concat(pieces));
        pieces = [];
      },
    },
    options,
  );
  for (const entries of tables) {
    for (const e of entries) encoder.add(e.key, e.value);
    encoder.endTable();
  }
  const summary = encoder.finish();
  return { bytes: new Uint8Array(Buffer.concat(chunks)), chunks: chunks.map((c) => new Uint8Array(c)), summary };
}
