import { describe, expect, it, vi } from 'vitest';

// 2^32 chunks cannot be written in a test: the limit is lowered to chunk index 2 (three chunks),
// the same code path the real u32 limit takes.
vi.mock('../../src/format/constants.js', async (importOriginal) => ({ ...(await importOriginal<object>()), MAX_CHUNK_INDEX: 2 }));

const { SnapshotError } = await import('../../src/format/errors.js');
const { SnapshotWriter } = await import('../../src/format/writer.js');
const { nullSink } = await import('../../src/format/sinks.js');

/** Writes `entries` 100-byte values into 1 KiB chunks; resolves to the chunk count or the error. */
async function write(entries: number): Promise<number | InstanceType<typeof SnapshotError>> {
  const w = await SnapshotWriter.create(nullSink(), { epoch: 1n, cursor: { index: 0n }, maxChunkBytes: 1024n, tables: [{ id: 1, name: 't' }] });
  try {
    for (let i = 0; i < entries; i++) {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, i);
      await w.add(key, new Uint8Array(100));
    }
    w.endTable();
    return (await w.finish()).chunks.length;
  } catch (e) {
    await w.abort?.().catch(() => undefined);
    if (e instanceof SnapshotError) return e;
    throw e;
  }
}

describe('spec section 6: at most 2^32 chunks (MAX_CHUNK_INDEX)', () => {
  it('the last index a u32 holds is written; the chunk after it is LIMIT_EXCEEDED, never an index that wraps to 0', async () => {
    expect(await write(24)).toBe(3); // indexes 0, 1 and 2: the last one allowed
    const r = await write(25); // needs index 3
    expect(r).toBeInstanceOf(SnapshotError);
    expect((r as InstanceType<typeof SnapshotError>).code).toBe('LIMIT_EXCEEDED');
  });
});
